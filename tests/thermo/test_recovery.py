"""Dynamic-thermography recovery features (issue 24): rates, on simulated cold-stress sequences."""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from brim.errors import ConfigError, SchemaError
from brim.thermo import simulate_dynamic
from brim.thermo.recovery import RECOVERY_FEATURE_UNITS, recovery_features, recovery_map
from brim.thermo.segmentation import segmentation_from_masks


@pytest.fixture(scope="module")
def sequences():
    from brim.thermo.phantom import PhantomSpec, TumourSpec

    base = PhantomSpec(heterogeneity=0.0, vessels=(0, 0))  # symmetric anatomy
    kw = dict(seed=1, t_ambient=21.0, netd=0.02, n_frames=8)
    healthy = simulate_dynamic(spec=base, **kw)
    sick = simulate_dynamic(
        spec=replace(base, tumour=TumourSpec(side="left", diameter=0.02, depth=0.015)), **kw
    )
    return healthy, sick


def test_the_rate_map_is_the_least_squares_slope():
    rng = np.random.default_rng(0)
    t = np.array([0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0])
    slope = rng.uniform(0.1, 0.9, (4, 5))  # K/min
    temp = 28.0 + slope[None] * t[:, None, None] / 60.0
    temp[5:] += 3.0  # frames after the 60 s window must not count
    ds = xr.Dataset({"temperature": (("time", "y", "x"), temp)}, coords={"time": t})
    rate = recovery_map(ds, early=60.0)
    np.testing.assert_allclose(rate.values, slope, rtol=1e-12)
    assert rate.attrs["units"] == "K/min" and rate.attrs["frames"] == 5


def test_a_tumour_makes_the_breasts_rewarm_differently(sequences):
    healthy, sick = sequences
    fh = recovery_features(healthy, segmentation_from_masks(healthy))
    fs = recovery_features(sick, segmentation_from_masks(sick))
    assert list(fh) == list(RECOVERY_FEATURE_UNITS)
    assert fh["recovery_rate_mean"] > 0.1  # the skin re-warms after cooling
    assert fs["recovery_rate_abs_delta"] > 5 * fh["recovery_rate_abs_delta"]
    assert fs["recovery_amplitude_abs_delta"] > 5 * fh["recovery_amplitude_abs_delta"]


def test_features_are_blind_to_a_constant_offset(sequences):
    seq = sequences[1]
    seg = segmentation_from_masks(seq)
    warm = seq.copy()
    warm["temperature"] = seq["temperature"] + 1.5
    a, b = recovery_features(seq, seg), recovery_features(warm, seg)
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-6, abs=1e-9), k


def test_a_single_image_is_not_a_sequence(sequences):
    one = sequences[0].isel(time=[0])
    with pytest.raises(ConfigError, match="sequence"):
        recovery_map(one)
    with pytest.raises(SchemaError):
        recovery_map(xr.Dataset({"intensity": (("time", "y", "x"), np.zeros((3, 2, 2)))}))
    backwards = sequences[0].assign_coords(time=sequences[0]["time"].values[::-1])
    with pytest.raises(ConfigError, match="increase"):
        recovery_map(backwards)


@pytest.mark.skipif(not os.environ.get("BRIM_EXTERNAL_DATA"), reason="needs BRIM_EXTERNAL_DATA")
def test_the_real_dynamic_frame_reads_as_a_one_frame_series_and_is_refused():
    from brim.thermo import read_frames

    folder = Path(os.environ["BRIM_EXTERNAL_DATA"]) / "thermo" / "dmr_dynamic"
    seq = read_frames(folder, interval=15.0)
    assert seq.sizes["time"] == 1  # the shared sample holds frame DN0 only
    with pytest.raises(ConfigError, match=">= 2 frames"):
        recovery_map(seq)
