"""Features: analytic oracles on constructed thermograms, units, the ΔT rule, real data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from brim.errors import ConfigError, FormatError
from brim.thermo.features import (
    FEATURE_UNITS,
    asymmetry_map,
    delta_t_rule,
    extract_features,
    features_table,
)

H, W, MID = 100, 161, 80.0  # midline at column 80: column x mirrors to 160 - x


def _pair(t):
    yy, xx = np.mgrid[:H, :W]
    mask = np.zeros((H, W), np.uint8)
    right = (yy - 55) ** 2 + (xx - 40) ** 2 < 25**2
    mask[right] = 2
    mask[right[:, ::-1]] = 3
    ds = xr.Dataset(
        {"temperature": (("y", "x"), t, {"units": "degC"})},
        coords={"y": np.arange(H, dtype=float), "x": np.arange(W, dtype=float)},
    )
    seg = xr.Dataset(
        {"mask": (("y", "x"), mask), "midline_x": ((), MID)},
        coords={"y": ds["y"], "x": ds["x"]},
        attrs={"labels": json.dumps({"right_breast": 2, "left_breast": 3})},
    )
    return ds, seg, mask


def _symmetric_field(seed=0):
    rng = np.random.default_rng(seed)
    half = 32 + 0.3 * rng.standard_normal((H, W // 2 + 1))
    from scipy import ndimage

    half = ndimage.gaussian_filter(half, 2)
    return np.concatenate([half, half[:, :-1][:, ::-1]], axis=1)  # exact mirror about col 80


def test_symmetric_thermogram_has_zero_asymmetry():
    t = _symmetric_field()
    ds, seg, mask = _pair(t)
    d = asymmetry_map(ds, seg)["delta_t"].values
    assert np.isfinite(d).sum() == (mask == 2).sum()
    np.testing.assert_allclose(d[np.isfinite(d)], 0.0, atol=1e-12)
    f = extract_features(ds, seg)
    for k in ("delta_mean", "delta_max", "delta_p90", "delta_std", "asym_abs_mean"):
        assert f[k] == pytest.approx(0.0, abs=1e-9), k
    assert f["breast_area_ratio"] == pytest.approx(1.0)
    assert set(f) <= set(FEATURE_UNITS)


def test_warmer_left_breast_and_rule():
    t = _symmetric_field()
    ds0, seg, mask = _pair(t)
    t1 = t.copy()
    t1[mask == 3] += 1.0  # left breast 1 K warmer everywhere
    ds1, _, _ = _pair(t1)
    f = extract_features(ds1, seg)
    assert f["delta_mean"] == pytest.approx(1.0, abs=1e-9)
    assert f["delta_max"] == pytest.approx(1.0, abs=1e-9)
    assert f["asym_abs_mean"] == pytest.approx(1.0, abs=1e-9)
    assert f["asym_area_05K"] == pytest.approx(1.0)
    f0 = extract_features(ds0, seg)
    s = delta_t_rule([f0, f], threshold=0.5)
    assert s[0] < 0 < s[1] and s[1] == pytest.approx(0.5, abs=1e-9)
    m = asymmetry_map(ds1, seg)["delta_t"]
    assert m.attrs["units"] == "K"


def test_hot_spot_area_and_count():
    t = np.full((H, W), 31.0)
    ds, seg, mask = _pair(t)
    yy, xx = np.mgrid[:H, :W]
    spot = ((yy - 55) ** 2 + (xx - 120) ** 2) < 4**2
    t2 = t.copy()
    t2[spot] = 33.5
    ds2, _, _ = _pair(t2)
    f = extract_features(ds2, seg)
    assert f["hotspot_area_left"] == pytest.approx(spot.sum() / (mask == 3).sum())
    assert f["hotspot_area_right"] == 0.0
    assert f["hotspot_count"] == 1.0
    assert f["hotspot_excess_max"] == pytest.approx(2.5 - 2.5 * spot.sum() / (mask == 3).sum())


def test_texture_histogram_and_vessels():
    t = np.full((H, W), 31.0)
    ds, seg, mask = _pair(t)
    f = extract_features(ds, seg)
    # uniform field: GLCM of one level
    assert f["glcm_contrast"] == pytest.approx(0.0)
    assert f["glcm_energy"] == pytest.approx(1.0)
    assert f["glcm_homogeneity"] == pytest.approx(1.0)
    assert f["hist_std"] == pytest.approx(0.0) and f["hist_entropy"] == pytest.approx(0.0)
    # a warm vessel-like line in the left breast only
    t2 = t.copy()
    t2[40:70, 120] += 1.0
    ds2, _, _ = _pair(t2)
    f2 = extract_features(ds2, seg)
    assert f2["vessel_mean_left"] > 10 * max(f2["vessel_mean_right"], 1e-6)
    # Gaussian temperatures: histogram std = sigma
    rng = np.random.default_rng(4)
    ds3, _, _ = _pair(31 + 0.5 * rng.standard_normal((H, W)))
    f3 = extract_features(ds3, seg)
    assert f3["hist_std"] == pytest.approx(0.5, rel=0.05)
    assert abs(f3["hist_skewness"]) < 0.15
    assert f3["glcm_contrast"] > 1.0  # i.i.d. noise: neighbours differ by ~0.7 K = 3 bins


def test_errors_and_table():
    ds, seg, mask = _pair(np.full((H, W), 31.0))
    bad = seg.copy()
    bad["mask"] = (("y", "x"), np.where(mask == 3, 0, mask).astype(np.uint8))
    with pytest.raises(ConfigError, match="lacks a breast"):
        extract_features(ds, bad)
    with pytest.raises(ConfigError):
        delta_t_rule({"x": 1.0}, feature="nope")
    df = features_table([extract_features(ds, seg)], names=["a.txt"])
    assert df.attrs["units"]["delta_mean"] == "K" and df["file"][0] == "a.txt"


def test_missing_cells_inside_a_breast_are_refused_outside_are_not():
    t = _symmetric_field()
    ds, seg, mask = _pair(t.copy())
    holed = t.copy()
    holed[50:53, 38:42] = np.nan  # 12 cells inside the right breast
    with pytest.raises(FormatError, match="12 pixels inside the breasts hold no value"):
        extract_features(ds.assign(temperature=(("y", "x"), holed)), seg)
    corner = t.copy()
    corner[0, 0] = np.nan  # outside both breasts: every feature is still defined
    f = extract_features(ds.assign(temperature=(("y", "x"), corner)), seg)
    assert all(np.isfinite(v) for v in f.values())


def test_real_dmr_features(external_data):
    from brim.thermo.readers import read
    from brim.thermo.segmentation import segment_classical

    ds = read(external_data / "thermo" / "dmr_ir_dev" / "T0204.txt")
    f = extract_features(ds, segment_classical(ds))
    assert 25 < f["mean_left"] < 37 and 25 < f["mean_right"] < 37
    assert abs(f["delta_mean"]) < 3 and f["calibrated"] == 1.0
    assert all(np.isfinite(v) for v in f.values())
