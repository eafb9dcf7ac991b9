"""Strain estimation and clinical numbers against closed-form oracles."""

import numpy as np
import pytest
import xarray as xr

from brim.elasto.strain import (
    StrainRoi,
    cnr_e,
    elasticity_score,
    least_squares_strain,
    snr_e,
    strain_ratio,
)
from brim.errors import ConfigError


def test_least_squares_exact_on_linear_and_matches_polyfit():
    z = np.arange(50) * 0.5
    u = -0.013 * z + 2.0
    eps = least_squares_strain(np.stack([u, 2 * u], axis=1), kernel=7, spacing=0.5)
    np.testing.assert_allclose(eps[3:-3, 0], -0.013, rtol=1e-12)
    np.testing.assert_allclose(eps[3:-3, 1], -0.026, rtol=1e-12)
    assert np.isnan(eps[:3]).all() and np.isnan(eps[-3:]).all()
    rng = np.random.default_rng(0)
    v = rng.standard_normal(40)
    e = least_squares_strain(v, kernel=9)
    for i in (4, 17, 35):
        assert e[i] == pytest.approx(np.polyfit(np.arange(9), v[i - 4 : i + 5], 1)[0])
    with pytest.raises(ConfigError):
        least_squares_strain(v, kernel=4)


def _image(values):
    nz, nx = values.shape
    return xr.Dataset(
        {"strain": (("depth", "line"), values)},
        coords={"depth": np.arange(nz) * 1e-4, "line": np.arange(nx) * 1e-4},
    )


def test_strain_ratio_snr_cnr():
    img = np.full((60, 60), -0.01)
    img[20:40, 20:40] = -0.0025
    s = _image(img)
    r = strain_ratio(s, StrainRoi((2.2e-3, 3.7e-3, 2.2e-3, 3.7e-3)), StrainRoi((0, 1e-3, 0, 1e-3)))
    assert r.ratio == pytest.approx(4.0)
    rng = np.random.default_rng(1)
    t = 1 + 0.1 * rng.standard_normal(100_000)
    b = 2 + 0.2 * rng.standard_normal(100_000)
    assert snr_e(t) == pytest.approx(10, rel=0.02)
    assert cnr_e(t, b) == pytest.approx(2 * 1 / (0.01 + 0.04), rel=0.02)
    assert cnr_e(t, b, db=True) == pytest.approx(10 * np.log10(40), abs=0.1)


def _lesion_image(pattern):
    """Synthetic strain images realising Itoh's five patterns (1 % background strain)."""
    n = 80
    zz, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(zz - 40, xx - 40)
    img = np.full((n, n), -0.01)
    les = r <= 15
    if pattern == 2:
        img[les & ((zz + xx) % 3 == 0)] = -0.001  # mosaic: a third of the lesion stiff
    elif pattern == 3:
        img[r <= 8] = -0.001  # stiff centre, strained periphery
    elif pattern == 4:
        img[les] = -0.001
    elif pattern == 5:
        img[r <= 22] = -0.001  # lesion and surroundings stiff
    return _image(img), StrainRoi((40e-4, 40e-4, 15e-4), "circle")


@pytest.mark.parametrize("pattern", [1, 2, 3, 4, 5])
def test_elasticity_score_patterns(pattern):
    img, roi = _lesion_image(pattern)
    assert elasticity_score(img, roi) == pattern


def test_roi_parse():
    assert StrainRoi.parse("rect:1,2,3,4").bounds == (1, 2, 3, 4)
    assert StrainRoi.parse("circle:1,2,3").shape == "circle"
    with pytest.raises(ConfigError):
        StrainRoi.parse("circle:1,2")
    with pytest.raises(ConfigError):
        strain_ratio(
            _image(np.ones((5, 5))), StrainRoi((1, 2, 1, 2)), StrainRoi((0, 1e-4, 0, 1e-4))
        )
