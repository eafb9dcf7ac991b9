"""Camera model: NETD noise, emissivity/reflection radiometry, geometry and masks."""

from __future__ import annotations

import numpy as np
import pytest

import brim.thermo as T
from brim.errors import ConfigError
from brim.thermo import camera
from brim.thermo import phantom as P

C2 = 1.438776877e-2  # m K


@pytest.fixture(scope="module")
def volume():
    spec = P.PhantomSpec(voxel=4e-3, heterogeneity=0.0, breast_radius=(0.055, 0.055))
    return T.solve_phantom(P.build_phantom(spec=spec, seed=0), t_ambient=21.0)


def test_netd_noise_has_the_stated_std(volume):
    clean = camera.render_thermogram(volume, netd=0.0, pixel_pitch=1.5e-3)
    noisy = camera.render_thermogram(volume, netd=0.08, pixel_pitch=1.5e-3, seed=5)
    diff = (noisy.temperature - clean.temperature).values.ravel()
    assert diff.size > 30_000
    # std of a sample of n normals has relative standard error 1/sqrt(2n) ~ 0.4 %
    assert diff.std() == pytest.approx(0.08, rel=0.02)
    assert abs(diff.mean()) < 5 * 0.08 / np.sqrt(diff.size)
    again = camera.render_thermogram(volume, netd=0.08, pixel_pitch=1.5e-3, seed=5)
    np.testing.assert_array_equal(again.temperature.values, noisy.temperature.values)


@pytest.mark.parametrize("band", ["stefan-boltzmann", "planck"])
def test_emissivity_lowers_apparent_temperature_as_predicted(volume, band):
    eps, t_refl = 0.95, 18.0
    truth = camera.render_thermogram(volume, netd=0.0, emissivity=1.0, camera_emissivity=1.0,
                                     band=band)  # fmt: skip
    seen = camera.render_thermogram(volume, netd=0.0, emissivity=eps, camera_emissivity=1.0,
                                    t_reflected=t_refl, band=band)  # fmt: skip
    body = truth.body_mask.values == 1
    ts = truth.temperature.values[body] + 273.15
    tr = t_refl + 273.15
    if band == "stefan-boltzmann":
        expect = (eps * ts**4 + (1 - eps) * tr**4) ** 0.25
    else:  # monochromatic Planck at 10 um
        lam = 10e-6

        def planck(t):
            return 1.0 / (np.exp(C2 / (lam * t)) - 1.0)

        expect = C2 / (lam * np.log(1.0 + 1.0 / (eps * planck(ts) + (1 - eps) * planck(tr))))
    got = seen.temperature.values[body] + 273.15
    np.testing.assert_allclose(got, expect, rtol=0, atol=1e-9)
    drop = ts - got
    # linearised Stefan-Boltzmann prediction: (1 - eps)(T^4 - Tr^4) / (4 T^3), ~0.6-0.8 K here
    lin = (1 - eps) * (ts**4 - tr**4) / (4 * ts**3)
    assert np.all(drop > 0.3)
    if band == "stefan-boltzmann":
        np.testing.assert_allclose(drop, lin, rtol=0.03)
    # the background wall (a blackbody at ambient) is unaffected by the skin's emissivity
    assert np.allclose(seen.temperature.values[~body], 21.0, atol=1e-9)


def test_matching_camera_emissivity_recovers_true_temperature(volume):
    truth = camera.render_thermogram(volume, netd=0.0, emissivity=1.0, camera_emissivity=1.0)
    comp = camera.render_thermogram(volume, netd=0.0, emissivity=0.96, camera_emissivity=0.96)
    np.testing.assert_allclose(comp.temperature.values, truth.temperature.values, atol=1e-9)


def test_frontal_geometry_and_masks(volume):
    img = camera.render_thermogram(volume, netd=0.0, pixel_pitch=1e-3)
    # each breast: a hemisphere of radius R cut by the torso skin at z = t -> disk radius
    # sqrt(R^2 - t^2); voxelised at 4 mm, so allow a few percent
    r, t = 0.055, 0.015
    for code in (1, 2):
        area = (img.breast_mask.values == code).sum() * 1e-6
        assert area == pytest.approx(np.pi * (r**2 - t**2), rel=0.06)
    right = img.x.values[(img.breast_mask.values == 1).any(axis=0)].mean()
    left = img.x.values[(img.breast_mask.values == 2).any(axis=0)].mean()
    assert right == pytest.approx(-0.085, abs=0.004) and left == pytest.approx(0.085, abs=0.004)
    # body spans the torso width (32 cm) and background is outside
    cols = img.body_mask.values.any(axis=0)
    width = cols.sum() * 1e-3
    assert width == pytest.approx(0.32, abs=0.01)


def test_oblique_views_mirror_each_other(volume):
    # symmetric phantom: the view from +30 deg is the mirror image of the view from -30 deg
    a = camera.render_thermogram(volume, view="oblique", angle=30.0, netd=0.0, pixel_pitch=2e-3)
    b = camera.render_thermogram(volume, view="oblique", angle=-30.0, netd=0.0, pixel_pitch=2e-3)
    ta, tb = a.temperature.values, b.temperature.values[:, ::-1]
    body = (a.body_mask.values == 1) & (b.body_mask.values[:, ::-1] == 1)
    assert body.mean() > 0.5
    assert np.median(np.abs(ta[body] - tb[body])) < 0.05
    ma, mb = a.breast_mask.values, b.breast_mask.values[:, ::-1]
    agree = ((ma == 1) & (mb == 2)) | ((ma == 2) & (mb == 1)) | ((ma == 0) & (mb == 0))
    assert agree.mean() > 0.98
    # turning towards the patient's left foreshortens the right breast less than the left one
    assert (ma == 2).sum() != (ma == 1).sum()


def test_tumour_mask_is_the_projected_sphere():
    spec = P.PhantomSpec(voxel=4e-3, tumour=P.TumourSpec(side="right", diameter=0.02))
    vol = T.solve_phantom(P.build_phantom(spec=spec, seed=0), t_ambient=21.0)
    img = camera.render_thermogram(vol, netd=0.0, pixel_pitch=1e-3)
    area = img.tumour_mask.values.sum() * 1e-6
    assert area == pytest.approx(np.pi * 0.01**2, rel=0.03)
    assert np.all(img.breast_mask.values[img.tumour_mask.values == 1] == 1)


def test_bad_settings_raise(volume):
    with pytest.raises(ConfigError, match="view"):
        camera.render_thermogram(volume, view="side")
    with pytest.raises(ConfigError, match="emissivity"):
        camera.apparent_temperature(30.0, emissivity=1.2)
    with pytest.raises(ConfigError, match="band"):
        camera.blackbody(30.0, band="wien")
    with pytest.raises(ConfigError, match="angle"):
        camera.render_thermogram(volume, view="oblique", angle=85.0)


def test_apparent_temperature_round_trip():
    t = np.linspace(25.0, 37.0, 7)
    for band in ("planck", "stefan-boltzmann"):
        back = camera.inverse_blackbody(camera.blackbody(t, band=band), band=band)
        np.testing.assert_allclose(back, t, atol=1e-10)
        same = camera.apparent_temperature(t, emissivity=0.9, camera_emissivity=0.9, band=band)
        np.testing.assert_allclose(same, t, atol=1e-10)
