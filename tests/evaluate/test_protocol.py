"""The grouped protocol: known signal, permutation, thresholds fixed on validation, confound
audit, aggregation, report."""

from __future__ import annotations

import json

import numpy as np
import pytest

import brim
from brim.evaluate import (
    aggregate_by_group,
    choose_threshold,
    confound_audit,
    cross_validate,
    logistic_fit,
    logistic_fit_predict,
    permute_labels_by_group,
    report,
)


def _patients(n=120, per=3, effect=1.2, seed=0):
    """Tabular cohort: feature 0 carries a known patient-level effect, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    yp = rng.permutation(np.arange(n) % 2)
    groups = np.repeat([f"p{i:03d}" for i in range(n)], per)
    y = np.repeat(yp, per)
    X = rng.normal(size=(y.size, 2))
    X[:, 0] += effect * y + np.repeat(rng.normal(scale=0.5, size=n), per)
    return X, y, groups


def test_known_signal_beats_chance_and_permutation_does_not():
    X, y, g = _patients()
    res = cross_validate(logistic_fit_predict, X, y, g, n_splits=5, n_bootstrap=300)
    # patient-mean of 3 images of an effect of 1.2 SD: theoretical AUROC ~0.9
    assert res.auroc > 0.8 and res.pooled.auroc.low > 0.7
    assert res.protocol["unit"] == "patient" and res.scores.sizes["unit"] == 120
    yperm = permute_labels_by_group(y, g, seed=1)
    # permutation keeps the group structure (constant label inside a patient)
    for grp in np.unique(g):
        assert np.unique(yperm[g == grp]).size == 1
    perm = cross_validate(logistic_fit_predict, X, yperm, g, n_splits=5, n_bootstrap=300)
    assert abs(perm.auroc - 0.5) < 0.15
    assert perm.pooled.auroc.low < 0.5 < perm.pooled.auroc.high


def test_threshold_is_fixed_on_validation_before_test_is_seen():
    X, y, g = _patients(n=60, seed=2)
    seen = []

    def spy(Xtr, ytr, Xva, yva, Xte):
        seen.append((Xtr[:, 1].copy(), Xva[:, 1].copy(), Xte[:, 1].copy(), yva.copy()))
        # test scores shifted by +100: a threshold peeking at test data would move
        return Xva[:, 0], Xte[:, 0] + 100.0

    res = cross_validate(spy, X, y, g, n_splits=4, aggregate=None, n_bootstrap=50)
    for fold, (tr, va, te, yva) in zip(res.folds, seen):
        assert not set(te) & set(tr) and not set(te) & set(va)
        va_rows = np.isin(X[:, 1], va)
        expected = choose_threshold(yva, X[va_rows, 0], rule="youden")
        assert fold.threshold == pytest.approx(expected)
        assert fold.sensitivity == 1.0  # every test score is far above the validation threshold


def test_aggregate_by_group_rules_by_hand():
    s = np.array([0.1, 0.5, 0.9, 0.2, 0.4])
    g = np.array(["a", "a", "a", "b", "b"])
    y = np.array([0, 0, 1, 0, 0])
    m = aggregate_by_group(s, g, rule="mean", labels=y)
    assert m["score"].values.tolist() == pytest.approx([0.5, 0.3])
    assert m["label"].values.tolist() == [1, 0]
    assert aggregate_by_group(s, g, rule="max")["score"].values.tolist() == [0.9, 0.4]
    with pytest.raises(brim.ConfigError):
        aggregate_by_group(s, g, rule="vote")


def test_confound_audit_flags_a_synthetic_confound():
    X, y, g = _patients(n=80, seed=3)
    rng = np.random.default_rng(4)
    n = y.size
    # positives were scanned later (acquisition day), a typical confound; plus a harmless one
    day = np.repeat(rng.normal(size=n // 3), 3) + 2.0 * y
    camera_noise = rng.normal(size=n)
    # file format: text, one-hot encoded; positives mostly exported as "jpg"
    fmt = np.where(np.repeat(rng.random(n // 3), 3) < 0.1 + 0.8 * y, "jpg", "csv")
    audit = confound_audit(
        {"acquisition_day": day, "random": camera_noise, "format": fmt},
        y,
        g,
        n_splits=4,
        n_bootstrap=200,
    )
    rows = {r["name"]: r for r in audit.rows}
    assert rows["acquisition_day"]["flagged"] and rows["acquisition_day"]["auroc"] > 0.8
    assert not rows["random"]["flagged"] and abs(rows["random"]["auroc"] - 0.5) < 0.2
    assert rows["format"]["flagged"]
    assert audit.flagged == ["acquisition_day", "format"]
    with pytest.raises(brim.ConfigError):
        confound_audit({"short": np.arange(5)}, y, g)
    assert audit.permutation is not None and audit.permutation["ok"]


def test_report_renders_and_json_matches(tmp_path):
    X, y, g = _patients(n=50, seed=5)
    res = cross_validate(
        logistic_fit_predict, X, y, g, n_splits=4, n_bootstrap=100, prevalence=0.05
    )
    audit = confound_audit({"order": np.arange(y.size)}, y, g, n_splits=4, n_bootstrap=50)
    page = report(res, tmp_path / "rep", audit=audit)
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    for f in (
        "index.html",
        "roc.png",
        "calibration.png",
        "confusion.png",
        "folds.png",
        "confounds.png",
        "results.json",
    ):
        assert f in files
        assert (tmp_path / "rep" / f).stat().st_size > 200
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert data["pooled"]["auroc"]["auroc"] == pytest.approx(res.auroc)
    assert [f["threshold"] for f in data["folds"]] == pytest.approx(
        [f.threshold for f in res.folds]
    )
    assert data["pooled"]["confusion_matrix"]["values"] == res.pooled.confusion.tolist()
    assert data["pooled"]["predictive_values"]["prevalence"] == 0.05
    assert data["confound_audit"]["rows"][0]["name"] == "order"
    html = page.read_text()
    assert f"{res.auroc:.3f}" in html and "Confound audit" in html


def test_logistic_fit_reaches_the_penalised_optimum():
    # oracle 1: the gradient of the penalised log-likelihood vanishes at the returned weights;
    # oracle 2: an independent optimiser (scipy L-BFGS on the same objective) agrees
    from scipy.optimize import minimize

    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 2)) * [1.0, 3.0] + [0.0, 5.0]
    y = (rng.random(400) < 1 / (1 + np.exp(-(x @ [1.5, -0.7] + 3.0)))).astype(int)
    for l2 in (0.0, 1.0):
        m = logistic_fit(x, y, l2=l2)
        z = np.c_[np.ones(400), (x - m.mean) / m.scale]
        w = np.r_[m.intercept, m.coef]
        p = m.predict_proba(x)
        grad = z.T @ (p - y) + l2 * np.r_[0.0, m.coef]
        np.testing.assert_allclose(grad, 0, atol=1e-6)

        def f(v, z=z, l2=l2):
            t = z @ v
            return np.sum(np.logaddexp(0, t) - y * t) + 0.5 * l2 * np.sum(v[1:] ** 2)

        ref = minimize(f, np.zeros(3), method="BFGS", options={"gtol": 1e-9}).x
        np.testing.assert_allclose(w, ref, atol=1e-4)
    with pytest.raises(brim.ConfigError, match="0/1"):
        logistic_fit(x, y * 2)
    with pytest.raises(brim.ConfigError, match="labels"):
        logistic_fit(x, y[:10])


@pytest.mark.parametrize(
    "name, module",
    [
        ("cross_validate", "brim.evaluate.crossval"),
        ("CVResult", "brim.evaluate.crossval"),
        ("take", "brim.evaluate.crossval"),
        ("logistic_fit", "brim.evaluate.logistic"),
        ("LogisticModel", "brim.evaluate.logistic"),
        ("confound_audit", "brim.evaluate.confounds"),
        ("permute_labels_by_group", "brim.evaluate.confounds"),
    ],
)
def test_old_protocol_module_path_still_works_with_a_deprecation_warning(name, module):
    import importlib

    import brim.evaluate
    import brim.evaluate.protocol as old

    with pytest.warns(DeprecationWarning, match=f"use brim.evaluate.{name}") as rec:
        obj = getattr(old, name)
    assert obj is getattr(brim.evaluate, name) is getattr(importlib.import_module(module), name)
    assert rec[0].filename == __file__  # the warning points at the caller
    with pytest.raises(AttributeError):
        old.no_such_name  # noqa: B018
