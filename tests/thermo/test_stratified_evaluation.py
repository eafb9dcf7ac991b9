"""The period-stratified evaluation of `brim thermo train` (issue 24) on a confounded cohort."""

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.thermo.classify import Cohort, feature_columns, stratified_evaluation


def _confounded_cohort(n=120, seed=0):
    """Three acquisition periods by patient id; sick patients mostly in the last one. The static
    feature follows the period (room, camera); the relative one carries the disease."""
    rng = np.random.default_rng(seed)
    period = np.repeat([0, 1, 2], n // 3)
    y = (rng.random(n) < np.array([0.1, 0.5, 0.9])[period]).astype(int)
    static = period + rng.normal(0, 0.3, n)  # e.g. mean breast temperature
    relative = 1.2 * y + rng.normal(0, 1.0, n)  # e.g. |left - right| asymmetry
    meta = [
        {"file": f"T{i}.txt", "patient": int(i), "text_format": "space", "background_median": 21.0}
        for i in range(n)
    ]
    return Cohort(
        files=[m["file"] for m in meta],
        patients=np.arange(n) * 3 + 1,
        labels=y,
        maps=np.zeros((n, 2, 2), np.float32),
        features=np.stack([static, relative], axis=1),
        feature_names=["mean_left", "rel_abs_delta_mean"],
        meta=meta,
    )


def test_the_static_model_learns_the_period_the_relative_one_the_disease():
    ev = stratified_evaluation(_confounded_cohort(), n_bootstrap=200)
    static, relative = ev["features (static)"], ev["features (relative)"]
    assert static.overall.auroc > 0.7  # looks good ...
    assert static.within.auroc < 0.65  # ... but inside a period it is near chance
    assert relative.within.auroc > 0.7 and relative.within.low > 0.5
    assert ev["nuisance: patient_id_order"].overall.auroc > 0.7
    assert abs(ev["nuisance: patient_id_order"].within.auroc - 0.5) < 0.15


def test_feature_columns():
    names = ["mean_left", "rel_abs_delta_mean", "rel_asym_abs_mean"]
    assert feature_columns(names) == [1, 2]
    assert feature_columns(names, "static") == [0]
    with pytest.raises(ConfigError, match="unknown feature set"):
        feature_columns(names, "absolute")
    with pytest.raises(ConfigError, match="no relative features"):
        feature_columns(["mean_left"])
