"""Metric oracles: brute-force pair counting, hand-computed values, analytic shapes."""

from __future__ import annotations

import numpy as np
import pytest

import brim
from brim.evaluate import (
    auroc,
    auroc_ci,
    balanced_accuracy,
    brier_score,
    calibration_curve,
    choose_threshold,
    class_counts,
    confusion_matrix,
    dice,
    hd95,
    iou,
    mean_ci,
    predictive_values,
    roc_curve,
    segmentation_metrics,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)


def brute_auroc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (pos.size * neg.size)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_matches_brute_force_pairs_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60)
    y[:2] = [0, 1]
    s = np.round(rng.normal(size=60) + 0.7 * y, 1)  # rounding creates ties
    assert auroc(y, s) == pytest.approx(brute_auroc(y, s), abs=1e-12)


def test_auroc_extremes_and_errors():
    y = np.array([0, 0, 1, 1])
    assert auroc(y, [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert auroc(y, [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert auroc(y, [1, 1, 1, 1]) == 0.5
    with pytest.raises(brim.ConfigError):
        auroc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(brim.ConfigError):
        auroc(y, [0.1, np.nan, 0.3, 0.4])
    with pytest.raises(brim.ConfigError):
        auroc([0, 2, 1, 1], [0.1, 0.2, 0.3, 0.4])


def test_roc_curve_area_equals_auroc():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    s = np.round(rng.normal(size=80) + y, 1)
    c = roc_curve(y, s)
    assert c.fpr[0] == 0 and c.tpr[0] == 0 and c.fpr[-1] == 1 and c.tpr[-1] == 1
    assert np.trapezoid(c.tpr, c.fpr) == pytest.approx(auroc(y, s), abs=1e-12)


def test_group_bootstrap_ci_reflects_patients_not_images():
    rng = np.random.default_rng(0)
    n = 40
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(int)
    s = rng.normal(size=n) + 0.8 * y
    # every patient imaged 6 times with the same score: 240 images, 40 patients
    y6, s6, g6 = np.repeat(y, 6), np.repeat(s, 6), np.repeat(np.arange(n), 6)
    per_patient = auroc_ci(y, s, n_bootstrap=800, seed=1)
    grouped = auroc_ci(y6, s6, groups=g6, n_bootstrap=800, seed=1)
    naive = auroc_ci(y6, s6, groups=None, n_bootstrap=800, seed=1)
    assert grouped.auroc == pytest.approx(per_patient.auroc, abs=1e-12)
    w_p, w_g, w_n = (r.high - r.low for r in (per_patient, grouped, naive))
    assert grouped.low <= grouped.auroc <= grouped.high
    assert w_g == pytest.approx(w_p, rel=0.25)  # same information as one score per patient
    assert w_n < 0.7 * w_g  # ignoring the grouping is falsely confident
    assert grouped.n_groups == n


def test_mean_ci_matches_normal_theory_and_widens_for_copied_cases():
    rng = np.random.default_rng(0)
    mu, sigma, n = 3.0, 2.0, 10_000
    v = rng.normal(mu, sigma, n)
    mean, lo, hi = mean_ci(v)
    assert mean == pytest.approx(v.mean(), abs=1e-12)
    assert lo < mu < hi
    # percentile CI of a mean of n normal cases: +-1.96 sigma / sqrt(n)
    assert (hi - lo) == pytest.approx(2 * 1.96 * sigma / np.sqrt(n), rel=0.10)
    # 200 patients, each case copied 10 times: resampling cases pretends n = 2000 and is
    # ~sqrt(10) too narrow; resampling patients gives the width of 200 independent cases
    base = rng.normal(mu, sigma, 200)
    copies = np.repeat(base, 10)
    patient = np.repeat(np.arange(200), 10)
    _, lo_c, hi_c = mean_ci(copies)
    m_g, lo_g, hi_g = mean_ci(copies, groups=patient)
    assert m_g == pytest.approx(base.mean(), abs=1e-12)
    assert (hi_g - lo_g) > 2.5 * (hi_c - lo_c)
    assert (hi_g - lo_g) == pytest.approx(2 * 1.96 * base.std(ddof=1) / np.sqrt(200), rel=0.10)
    with pytest.raises(brim.ConfigError):
        mean_ci([])
    with pytest.raises(brim.ConfigError):
        mean_ci([0.5, np.nan])


def test_operating_points_match_brute_force_threshold_scan():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 50)
    s = rng.normal(size=50) + y
    best_sens, best_spec = -1.0, -1.0
    for t in np.r_[np.unique(s), np.inf]:
        p = s >= t
        se = p[y == 1].mean()
        sp = (~p[y == 0]).mean()
        if sp >= 0.8:
            best_sens = max(best_sens, se)
        if se >= 0.8:
            best_spec = max(best_spec, sp)
    assert sensitivity_at_specificity(y, s, specificity=0.8).sensitivity == pytest.approx(best_sens)
    assert specificity_at_sensitivity(y, s, sensitivity=0.8).specificity == pytest.approx(best_spec)


def test_choose_threshold_rules_keep_their_promise_on_the_data_they_see():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 100)
    s = rng.normal(size=100) + 1.2 * y
    best_j = max((s[y == 1] >= t).mean() + (s[y == 0] < t).mean() - 1 for t in np.unique(s))
    t = choose_threshold(y, s, rule="youden")
    assert (s[y == 1] >= t).mean() + (s[y == 0] < t).mean() - 1 == pytest.approx(best_j)
    t = choose_threshold(y, s, rule="spec@0.9")
    assert (s[y == 0] < t).mean() >= 0.9
    t = choose_threshold(y, s, rule="sens@0.95")
    assert (s[y == 1] >= t).mean() >= 0.95
    assert choose_threshold(y, s, rule=0.5) == 0.5
    with pytest.raises(brim.ConfigError):
        choose_threshold(y, s, rule="best")


def test_confusion_balanced_accuracy_counts_by_hand():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0, 1, 0, 0, 1, 0])
    assert confusion_matrix(y, p).tolist() == [[3, 1], [1, 1]]
    assert balanced_accuracy(y, p) == pytest.approx((0.5 + 0.75) / 2)
    assert class_counts(y) == {"negative": 4, "positive": 2}


def test_predictive_values_bayes_by_hand():
    pv = predictive_values(0.9, 0.8, 0.1)
    assert pv.ppv == pytest.approx(0.09 / (0.09 + 0.18))
    assert pv.npv == pytest.approx(0.72 / (0.72 + 0.01))
    with pytest.raises(brim.ConfigError):
        predictive_values(0.9, 0.8, 0.0)


def test_brier_and_calibration():
    assert brier_score([0, 1, 1], [0.0, 1.0, 0.5]) == pytest.approx(0.25 / 3)
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20000)
    y = (rng.uniform(size=p.size) < p).astype(int)  # calibrated by construction
    c = calibration_curve(y, p, n_bins=10)
    assert c.counts.sum() == p.size
    np.testing.assert_allclose(c.observed, c.mean_predicted, atol=0.03)
    with pytest.raises(brim.ConfigError):
        brier_score([0, 1], [-1.0, 2.0])


def test_dice_iou_on_overlapping_squares():
    a = np.zeros((40, 40), bool)
    b = np.zeros((40, 40), bool)
    a[5:15, 5:15] = True  # 100 px
    b[10:20, 5:15] = True  # 100 px, overlap 5x10 = 50
    assert dice(a, b) == pytest.approx(2 * 50 / 200)
    assert iou(a, b) == pytest.approx(50 / 150)
    empty = np.zeros_like(a)
    assert dice(empty, empty) == 1.0 and iou(empty, empty) == 1.0
    assert dice(a, empty) == 0.0
    assert hd95(empty, empty) == 0.0 and np.isnan(hd95(a, empty))


def test_hd95_analytic_cases():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[0, 0] = True
    b[3, 4] = True
    assert hd95(a, b) == pytest.approx(5.0)
    assert hd95(a, b, spacing=(2.0, 1.0)) == pytest.approx(np.hypot(6.0, 4.0))
    # two parallel segments 6 rows apart: every surface point is 6 from the other
    a = np.zeros((20, 20), bool)
    b = np.zeros((20, 20), bool)
    a[4, 3:15] = True
    b[10, 3:15] = True
    assert hd95(a, b) == pytest.approx(6.0)
    assert hd95(a, a) == 0.0


def _boundary_points(m):
    pts = []
    for i, j in zip(*np.nonzero(m)):
        nb = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
        if any(not (0 <= r < m.shape[0] and 0 <= c < m.shape[1]) or not m[r, c] for r, c in nb):
            pts.append((i, j))
    return np.array(pts, float)


@pytest.mark.parametrize("seed", [0, 1])
def test_hd95_matches_dense_pairwise_oracle(seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:30, :30]
    a = (yy - 14) ** 2 / 60 + (xx - 13) ** 2 / 30 < 1
    b = (yy - 12 - rng.integers(0, 4)) ** 2 / 40 + (xx - 16) ** 2 / 50 < 1
    sp = np.array([0.5, 0.8])
    pa, pb = _boundary_points(a) * sp, _boundary_points(b) * sp
    d = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1))
    oracle = np.percentile(np.r_[d.min(1), d.min(0)], 95)
    assert hd95(a, b, spacing=sp) == pytest.approx(oracle, rel=1e-9)


def test_segmentation_metrics_per_case():
    a = np.zeros((3, 16, 16), bool)
    a[:, 4:8, 4:8] = True
    b = a.copy()
    b[1] = False
    b[1, 4:8, 6:10] = True
    ds = segmentation_metrics(a, b, case_ids=["c0", "c1", "c2"])
    assert list(ds["case"].values) == ["c0", "c1", "c2"]
    assert ds["dice"].values.tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert ds["iou"].values[1] == pytest.approx(8 / 24)
    assert ds["hd95"].values[0] == 0.0 and ds["hd95"].values[1] > 0
