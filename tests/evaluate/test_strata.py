"""Evaluation by stratum of a nuisance (issue 24): within-stratum AUROC, matching, weights."""

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.evaluate.metrics import auroc
from brim.evaluate.strata import (
    balancing_weights,
    matched_indices,
    strata_from_values,
    stratified_auroc,
)


def _confounded_cohort(n=400, signal=0.0, seed=1):
    """Two periods; period 'late' is mostly cases. Score = period + signal * label + noise."""
    rng = np.random.default_rng(seed)
    period = np.where(np.arange(n) < n // 2, "early", "late")
    p_case = np.where(period == "late", 0.8, 0.2)
    y = (rng.random(n) < p_case).astype(int)
    score = 2.0 * (period == "late") + signal * y + rng.normal(0, 1, n)
    return y, score, period


def test_a_period_only_score_is_at_chance_within_strata():
    y, score, period = _confounded_cohort(signal=0.0)
    res = stratified_auroc(y, score, period, n_bootstrap=300)
    assert res.overall.auroc > 0.75  # the confound makes it look good
    assert abs(res.within.auroc - 0.5) < 0.08
    assert res.within.low < 0.5 < res.within.high
    for r in res.strata.values():
        assert r is not None and r.low < 0.5 < r.high


def test_a_real_signal_survives_stratification():
    y, score, period = _confounded_cohort(signal=1.5)
    res = stratified_auroc(y, score, period, n_bootstrap=300)
    assert res.within.auroc > 0.75 and res.within.low > 0.6
    # the pooled within-stratum AUROC is the pair-weighted mean of the per-stratum AUROCs
    w = np.array([res.n_pairs[k] for k in res.strata])
    a = np.array([res.strata[k].auroc for k in res.strata])
    assert res.within.auroc == pytest.approx((w * a).sum() / w.sum())
    # and a per-stratum AUROC equals the plain AUROC on that stratum's samples
    m = period == "early"
    assert res.strata["early"].auroc == pytest.approx(auroc(y[m], score[m]))
    assert "within strata" in res.summary() and "early" in res.summary()


def test_patient_bootstrap_widens_the_interval_for_repeated_images():
    y, score, period = _confounded_cohort(n=120, signal=1.0)
    rep = 5  # every patient imaged five times, nearly identical scores
    rng = np.random.default_rng(0)
    Y, S, P = (
        np.repeat(y, rep),
        np.repeat(score, rep) + rng.normal(0, 0.01, y.size * rep),
        np.repeat(period, rep),
    )
    g = np.repeat(np.arange(y.size), rep)
    by_image = stratified_auroc(Y, S, P, n_bootstrap=300)
    by_patient = stratified_auroc(Y, S, P, groups=g, n_bootstrap=300)
    width = lambda r: r.within.high - r.within.low  # noqa: E731
    assert width(by_patient) > 1.5 * width(by_image)


def test_numeric_nuisance_is_cut_into_quantile_strata():
    ids = np.arange(1, 301)
    st = strata_from_values(ids, n_strata=3)
    labels, counts = np.unique(st, return_counts=True)
    assert labels.size == 3 and np.all(counts == 100)
    assert st[0].startswith("[1,") and st[-1].endswith("300]")
    assert strata_from_values(np.array([0, 1, 0])).tolist() == ["0", "1", "0"]
    with pytest.raises(ConfigError, match="NaN"):
        strata_from_values([1.0, np.nan, 2.0, 3.0, 4.0])
    with pytest.raises(ConfigError, match="n_strata"):
        strata_from_values([1, 2], n_strata=1)


def test_matching_removes_the_association_with_the_period():
    y, score, period = _confounded_cohort(n=600, signal=0.0, seed=3)
    idx = matched_indices(y, period, controls_per_case=1, seed=0)
    ym, pm = y[idx], period[idx]
    for p in ("early", "late"):
        assert ym[pm == p].sum() == (pm == p).sum() - ym[pm == p].sum()  # 1:1 in every period
    assert abs(auroc(ym, score[idx]) - 0.5) < 0.08  # the period-only score is now at chance
    assert np.unique(idx).size == idx.size


def test_matching_on_a_nuisance_takes_the_nearest_control():
    y = [1, 0, 0, 0]
    idx = matched_indices(y, ["a"] * 4, nuisance=[5.0, 0.0, 4.0, 9.0])
    assert idx.tolist() == [0, 2]
    with pytest.raises(ConfigError, match="no case"):
        matched_indices([1, 0], ["a", "b"])


def test_balancing_weights_make_the_label_independent_of_the_stratum():
    y, _, period = _confounded_cohort(n=500, seed=5)
    w = balancing_weights(y, period)
    assert w.sum() == pytest.approx(y.size)
    rates = [np.average(y[period == p], weights=w[period == p]) for p in ("early", "late")]
    assert rates[0] == pytest.approx(rates[1])
    assert rates[0] == pytest.approx(y.mean())
    w2 = balancing_weights([1, 1, 0, 1, 0], ["a", "a", "a", "b", "c"])
    assert w2[3] == 0 and w2[4] == 0  # single-class strata carry no within-period information


def test_bad_input_is_refused():
    with pytest.raises(ConfigError, match="shape"):
        stratified_auroc([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], ["a", "b"])
    with pytest.raises(ConfigError, match="no stratum holds both classes"):
        stratified_auroc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], ["a", "a", "b", "b"])
    with pytest.raises(ConfigError, match="both classes"):
        balancing_weights([0, 0, 1, 1], ["a", "a", "b", "b"])
