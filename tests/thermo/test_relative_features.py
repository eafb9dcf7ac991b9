"""Period-robust thermogram features (issue 24): invariant to a room/camera offset by design."""

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.thermo import simulate_thermogram
from brim.thermo.body_relative import RELATIVE_FEATURE_UNITS, relative_features
from brim.thermo.segmentation import segmentation_from_masks


@pytest.fixture(scope="module")
def pair():
    from dataclasses import replace

    from brim.thermo.phantom import PhantomSpec, TumourSpec

    # symmetric anatomy (no veins, homogeneous gland): the tumour is the only asymmetry
    base = PhantomSpec(heterogeneity=0.0, vessels=(0, 0))
    healthy = simulate_thermogram(seed=11, spec=base, t_ambient=21.0, netd=0.02)
    sick = simulate_thermogram(
        seed=11,
        spec=replace(base, tumour=TumourSpec(side="left", diameter=0.025, depth=0.02)),
        t_ambient=21.0,
        netd=0.02,
    )
    return healthy, sick


def test_every_feature_is_blind_to_a_constant_offset(pair):
    img = pair[1]
    seg = segmentation_from_masks(img)
    warm = img.copy()
    warm["temperature"] = img["temperature"] + 2.75  # another room, another camera offset
    a, b = relative_features(img, seg), relative_features(warm, seg)
    assert list(a) == list(RELATIVE_FEATURE_UNITS)
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-6, abs=1e-9), k
    assert all(np.isfinite(v) for v in a.values())


def test_a_tumour_raises_the_asymmetry(pair):
    healthy, sick = pair
    fh = relative_features(healthy, segmentation_from_masks(healthy))
    fs = relative_features(sick, segmentation_from_masks(sick))
    # a 25 mm tumour at 20 mm warms the left breast
    assert fs["abs_delta_mean"] > fh["abs_delta_mean"] + 0.05
    assert fs["asym_abs_mean"] > fh["asym_abs_mean"]
    assert fh["area_log_ratio_abs"] < 0.05  # equal breasts in the default spec


def test_no_absolute_temperature_or_file_property_is_a_feature():
    assert not {"mean_right", "mean_left", "calibrated"} & set(RELATIVE_FEATURE_UNITS)


def test_a_segmentation_without_both_breasts_is_refused(pair):
    img = pair[0]
    seg = segmentation_from_masks(img)
    seg["mask"] = seg["mask"].where(seg["mask"] != 3, 1)
    with pytest.raises(ConfigError, match="breast"):
        relative_features(img, seg)
