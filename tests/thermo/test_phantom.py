"""Breast phantom, Gautherie's law, synthetic thermograms, cohorts and sample files."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

import brim
import brim.thermo as T
from brim.errors import ConfigError
from brim.thermo import phantom as P
from brim.thermo.samples import make_samples, sample_spec


def test_gautherie_law_published_values():
    # Gautherie (1980): q * tau = 3.27e6 W day / m^3; tau = 50 days at D = 1 cm
    assert P.gautherie_heat(0.01) == pytest.approx(65_400.0, abs=1.0)
    # D = 2 cm: tau = 468.6 ln 2 + 50 = 374.8 days -> 8 725 W/m^3
    assert P.gautherie_heat(0.02) == pytest.approx(3.27e6 / (468.6 * np.log(2.0) + 50.0))
    assert 8_600 < P.gautherie_heat(0.02) < 8_800
    for d in (0.012, 0.03):
        assert P.gautherie_heat(d) * P.gautherie_doubling_time(d) == pytest.approx(3.27e6)
    with pytest.raises(ConfigError, match="Gautherie"):
        P.gautherie_heat(0.005)


def test_tumour_partial_volume_conserves_volume_and_heat():
    d = 0.013  # 4.3 voxels of 3 mm: a coarse sphere
    spec = P.PhantomSpec(tumour=P.TumourSpec(side="right", diameter=d, depth=0.02))
    ph = P.build_phantom(spec=spec, seed=0)
    vol = ph.tumour_fraction.sum() * spec.voxel**3
    assert vol == pytest.approx(np.pi / 6 * d**3, rel=0.02)
    assert ph.tumour_centre[2] < 0  # patient's right breast is at x < 0
    assert (ph.labels == P.TUMOUR).any()
    with pytest.raises(ConfigError, match="does not fit"):
        P.build_phantom(spec=replace(spec, tumour=replace(spec.tumour, depth=0.2)))


def test_radiation_option_adds_linearised_radiative_loss():
    ph = P.build_phantom(spec=P.PhantomSpec(voxel=5e-3, heterogeneity=0.0), seed=0)
    conv = T.solve_phantom(ph, t_ambient=21.0, h=4.0)
    rad = T.solve_phantom(ph, t_ambient=21.0, h=4.0, radiation=True)
    hr = float(rad["heat_transfer_coefficient"]) - 4.0
    assert 5.0 < hr < 7.0  # ~6 W/m^2/K of linearised grey-body exchange at room temperature
    same = T.solve_phantom(ph, t_ambient=21.0, h=4.0 + hr)
    np.testing.assert_allclose(rad.temperature.values, same.temperature.values, atol=1e-6)
    assert np.nanmean(rad.skin_temperature.values) < np.nanmean(conv.skin_temperature.values) - 1


def test_layers_and_boundaries():
    ph = P.build_phantom(spec=P.PhantomSpec(heterogeneity=0.0), seed=0)
    labels = ph.labels
    assert set(np.unique(labels)) == {P.AIR, P.CHEST, P.SKIN, P.FAT, P.GLAND}
    # the chest wall is the z = 0 layer and holds core temperature
    assert np.all(np.isnan(ph.fixed[1:]))
    assert np.nanmax(ph.fixed) == 37.0
    # every tissue voxel touching air (in z) is skin
    top = (labels[:-1] >= P.SKIN) & (labels[1:] == P.AIR)
    assert np.all(labels[:-1][top] == P.SKIN)
    assert ph.breast.max() == 2


@pytest.fixture(scope="module")
def pair():
    """The sample subject with and without its tumour, noiseless."""
    spec = sample_spec()
    sim = T.simulate_subject(seed=1, spec=spec, netd=0.0, t_ambient=21.0)
    sick, vol = sim.thermogram, sim.volume
    healthy = T.simulate_thermogram(
        seed=1, spec=replace(spec, tumour=None), netd=0.0, t_ambient=21.0
    )
    return sick, healthy, vol


def test_tumour_raises_skin_temperature_plausibly(pair):
    sick, healthy, _ = pair
    dt = (sick.temperature - healthy.temperature).values
    # A 2 cm tumour whose top is 0.5 cm under the skin: clinical and model studies report
    # skin hot spots of roughly 0.5-3 K over superficial breast tumours (Gautherie 1980;
    # Ng & Sudharsan 2001; Chanmugam et al. 2012, IMECE2012-88244). Measured: 1.87 K.
    assert 0.5 <= dt.max() <= 3.0
    iy, ix = np.unravel_index(np.argmax(dt), dt.shape)
    assert sick.tumour_mask.values[iy, ix] == 1  # the hot spot lies over the tumour
    assert sick.breast_mask.values[iy, ix] == 2  # in the patient's left breast
    assert np.abs(dt[sick.breast_mask.values == 1]).max() < 0.01  # other breast unchanged
    assert dt.min() > -1e-6  # a heat source never cools the skin


def test_deeper_tumour_gives_smaller_signal():
    spec = sample_spec()
    base = T.simulate_thermogram(seed=1, spec=replace(spec, tumour=None), netd=0, t_ambient=21)
    rises = []
    for depth in (0.015, 0.03):
        s = replace(spec, tumour=replace(spec.tumour, depth=depth))
        img = T.simulate_thermogram(seed=1, spec=s, netd=0, t_ambient=21)
        rises.append(float((img.temperature - base.temperature).max()))
    assert rises[0] > 3 * rises[1] > 0


def test_thermogram_is_a_valid_labelled_brim_dataset(pair):
    sick, healthy, vol = pair
    for ds in (sick, healthy):
        brim.schema.validate(ds, "thermogram")
        assert ds.attrs["brim_schema"].startswith("thermogram/")
        assert ds.temperature.dims == ("y", "x")
        assert ds.x.attrs["units"] == "m" and ds.y.attrs["units"] == "m"
        for m in ("breast_mask", "tumour_mask", "body_mask"):
            assert ds[m].dtype == np.uint8 and ds[m].dims == ("y", "x")
    assert sick.attrs["label"] == 1 and sick.attrs["diagnosis"] == "Sick"
    assert healthy.attrs["label"] == 0 and healthy.tumour_mask.values.sum() == 0
    assert sick.tumour_mask.values.sum() > 0
    # plausible temperatures: background at ambient, breast skin 29-35 degC
    t = sick.temperature.values
    assert abs(np.median(t[sick.body_mask.values == 0]) - 21.0) < 0.05
    breast = t[sick.breast_mask.values > 0]
    assert 29.0 < np.median(breast) < 35.0 and breast.max() < 37.0
    # the volume: skin below core, chest wall at 37
    assert np.nanmax(vol.temperature.values) <= 38.5
    assert vol.attrs["solver"].startswith(("cg", "direct", "mg"))


def test_same_seed_same_image_different_seed_differs():
    a = T.simulate_thermogram(seed=7, tumour=True, pixel_pitch=3e-3, voxel=4e-3)
    b = T.simulate_thermogram(seed=7, tumour=True, pixel_pitch=3e-3, voxel=4e-3)
    c = T.simulate_thermogram(seed=8, tumour=True, pixel_pitch=3e-3, voxel=4e-3)
    np.testing.assert_array_equal(a.temperature.values, b.temperature.values)
    assert a.attrs["tumour_diameter_m"] != c.attrs["tumour_diameter_m"]


def test_cohort_files_and_labels(tmp_path):
    kw = {"pixel_pitch": 4e-3, "voxel": 5e-3}
    cohort = T.simulate_cohort(4, seed=3, outdir=tmp_path, **kw)
    assert [d.attrs["patient"] for d in cohort] == ["1", "2", "3", "4"]
    assert sum(d.attrs["label"] for d in cohort) == 2
    rows = (tmp_path / "labels.csv").read_text().splitlines()
    assert rows[0] == "ID,Diagnosis"
    for row, ds in zip(rows[1:], cohort, strict=True):
        pid, diag = row.split(",")
        assert diag == ds.attrs["diagnosis"]
        back = brim.open(tmp_path / f"SIM{int(pid):04d}.nc")
        np.testing.assert_array_equal(back.temperature.values, ds.temperature.values)
        assert (back.tumour_mask.values.sum() > 0) == (diag == "Sick")
    # patient i does not depend on the cohort size
    small = T.simulate_cohort(2, seed=3, tumour_fraction=1.0, **kw)
    assert small[0].attrs["seed"] == cohort[0].attrs["seed"]
    assert [s["step"] for s in cohort[0].brim.provenance] == [
        "brim.thermo.simulate_thermogram",
        "brim.thermo.simulate_cohort",
    ]
    with pytest.raises(ConfigError):
        T.simulate_cohort(0, seed=1)


def test_samples_are_small_valid_and_bit_for_bit_reproducible(tmp_path):
    a = make_samples(tmp_path / "a")
    b = make_samples(tmp_path / "b")
    assert [p.name for p in a] == ["thermo_phantom_healthy.nc", "thermo_phantom_tumour.nc"]
    for pa, pb in zip(a, b, strict=True):
        assert hashlib.sha256(pa.read_bytes()).digest() == hashlib.sha256(pb.read_bytes()).digest()
    assert sum(p.stat().st_size for p in a) < 600_000
    healthy, sick = (brim.open(p) for p in a)
    brim.schema.validate(sick)
    assert sick.temperature.dtype == np.float32
    m = sick.tumour_mask.values == 1
    assert (sick.temperature.values[m] - healthy.temperature.values[m]).mean() > 0.5


def test_dynamic_cold_stress_sequence_rewarms_towards_steady_state():
    spec = P.PhantomSpec(voxel=5e-3, tumour=P.TumourSpec(side="right", diameter=0.02,
                                                         depth=0.015))  # fmt: skip
    kw = {"seed": 2, "spec": spec, "t_ambient": 21.0, "pixel_pitch": 4e-3, "netd": 0.0}
    dyn = T.simulate_dynamic(n_frames=4, frame_interval=60.0, dt=5.0, **kw)
    steady = T.simulate_thermogram(**kw)
    brim.schema.validate(dyn, "thermogram")
    assert dyn.temperature.dims == ("time", "y", "x")
    assert dyn.time.attrs["units"] == "s" and list(dyn.time.values) == [0, 60, 120, 180]
    m = dyn.breast_mask.values > 0
    means = [float(dyn.temperature.values[i][m].mean()) for i in range(4)]
    final = float(steady.temperature.values[m].mean())
    assert means[0] < means[1] < means[2] < means[3] < final  # re-warming, not yet steady
    assert final - means[0] > 0.3  # the cooling was felt
    np.testing.assert_array_equal(dyn.breast_mask.values, steady.breast_mask.values)
    with pytest.raises(ConfigError):
        T.simulate_dynamic(n_frames=0, **kw)


def test_one_return_type_and_provenance_of_every_simulation_step(pair):
    """simulate_thermogram returns a Dataset; simulate_subject the thermogram and its volume
    (the same thermogram values); return_volume still works for one release, with a warning;
    each public step records itself once."""
    import warnings

    sick, _, vol = pair
    kw = {"seed": 1, "spec": sample_spec(), "netd": 0.0, "t_ambient": 21.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        img = T.simulate_thermogram(**kw)
    assert isinstance(img, type(sick))
    np.testing.assert_array_equal(img.temperature.values, sick.temperature.values)
    assert [s["step"] for s in img.brim.provenance] == ["brim.thermo.simulate_thermogram"]
    assert [s["step"] for s in sick.brim.provenance] == ["brim.thermo.simulate_subject"]
    assert [s["step"] for s in vol.brim.provenance] == ["brim.thermo.simulate_subject"]
    with pytest.warns(DeprecationWarning, match="simulate_subject"):
        old = T.simulate_thermogram(**kw, return_volume=True)
    assert isinstance(old, T.simulate.Simulation)
    np.testing.assert_array_equal(old.thermogram.temperature.values, img.temperature.values)

    ph = P.build_phantom(spec=P.PhantomSpec(voxel=6e-3, heterogeneity=0.0), seed=0)
    v = T.solve_phantom(ph, t_ambient=21.0)
    r = T.render_thermogram(v, pixel_pitch=6e-3, netd=0.0)
    assert [s["step"] for s in r.brim.provenance] == [
        "brim.thermo.solve_phantom",
        "brim.thermo.render_thermogram",
    ]
    assert r.brim.provenance[-1]["parameters"]["pixel_pitch"] == 6e-3


def test_open_sample_bundled_or_regenerated(tmp_path, monkeypatch):
    """brim.thermo.open_sample: the bundled file where there is one, otherwise the same sample
    regenerated into cache_dir (a source tree without data_samples/); other names refused."""
    import brim.data

    bundled = T.open_sample("thermo_phantom_tumour.nc")
    assert bundled.identical(brim.data.sample("thermo_phantom_tumour"))
    with pytest.raises(ConfigError, match="not a thermo sample"):
        T.open_sample("microwave_radar_scan")

    def no_bundle(name):
        raise ConfigError(f"sample {name} is not bundled")

    monkeypatch.setattr(brim.data, "sample", no_bundle)
    fresh = T.open_sample("thermo_phantom_healthy", cache_dir=tmp_path)
    assert (tmp_path / "thermo_phantom_healthy.nc").is_file()
    assert fresh.attrs["diagnosis"] == "Healthy"
    old = brim.open(brim.data.sample_path("thermo_phantom_healthy"))
    np.testing.assert_allclose(fresh.temperature.values, old.temperature.values, atol=1e-4)
