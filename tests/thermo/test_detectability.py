"""The detectability study (issue 24): large shallow tumours are found, tiny noisy ones are not."""

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.thermo.detectability import detectability_study


@pytest.fixture(scope="module")
def small_study():
    return detectability_study(
        diameters=[0.010, 0.03],
        depths=[0.012, 0.025],
        netds=[0.02, 2.0],
        n_subjects=4,
        n_healthy=8,
        false_positive_rate=0.25,
        features=["abs_delta_mean", "asym_abs_p95"],
    )


def test_a_large_tumour_is_detected_more_often_than_a_small_one(small_study):
    p = small_study["detection_probability"].sel(feature="abs_delta_mean", netd=0.02)
    big = float(p.sel(diameter=0.03, depth=0.025))
    small = float(p.sel(diameter=0.010, depth=0.025))
    # 4 subjects per cell: the large tumour stands out of the anatomical asymmetry in at least
    # half of them (the full study: 0.5 at 20 mm, 0.17 at 30 mm with 12 subjects), the small not
    assert big >= 0.5 and big > small
    lo = float(small_study["low"].sel(feature="abs_delta_mean", diameter=0.03, depth=0.025,
                                      netd=0.02))  # fmt: skip
    assert 0 < lo < big


def test_heavy_camera_noise_hides_a_tiny_tumour(small_study):
    p = small_study["detection_probability"].sel(feature="asym_abs_p95", diameter=0.010)
    # at 2 K NETD the pixel-wise asymmetry is noise: detection falls to about the FP rate
    assert float(p.sel(depth=0.025, netd=2.0)) <= 0.5


def test_tumours_that_would_reach_the_skin_are_not_simulated(small_study):
    p = small_study["detection_probability"]
    assert np.isnan(p.sel(diameter=0.03, depth=0.012)).all()  # radius 15 mm > 12 mm depth
    assert np.isfinite(p.sel(diameter=0.010, depth=0.012)).all()


def test_the_threshold_holds_the_false_positive_rate(small_study):
    fpr = small_study["false_positive_rate_observed"].values
    assert np.all(fpr <= 0.25 + 1e-12)
    assert small_study["netd"].attrs["units"] == "K"
    assert small_study.attrs["n_healthy"] == 8


def test_bad_designs_are_refused():
    with pytest.raises(ConfigError, match="n_healthy"):
        detectability_study(n_healthy=5, false_positive_rate=0.1)
    with pytest.raises(ConfigError, match="unknown features"):
        detectability_study(features=["no_such_feature"])
    with pytest.raises(ConfigError, match="positive"):
        detectability_study(netds=[0.0])
