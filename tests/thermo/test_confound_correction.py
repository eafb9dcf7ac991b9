"""Training options that remove a planted confound (issue 24): matching and IPW."""

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.evaluate import confound_audit, cross_validate
from brim.evaluate.strata import stratified_auroc
from brim.thermo.classify import (
    Cohort,
    confound_report,
    corrected_fit_predict,
    period_strata,
    train_features,
)


def _planted(n=180, seed=0):
    """Three periods; sick patients mostly in the last. Feature 0 is the period plus noise (a
    room / camera property); feature 1 carries a weak disease signal."""
    rng = np.random.default_rng(seed)
    period = np.repeat([0, 1, 2], n // 3)
    y = (rng.random(n) < np.array([0.15, 0.5, 0.85])[period]).astype(int)
    X = np.stack([period + rng.normal(0, 0.4, n), 0.8 * y + rng.normal(0, 1.0, n)], axis=1)
    return X, y, period.astype(str), np.arange(n)


def _scores(fp, X, y, g):
    res = cross_validate(fp, X, y, g, n_splits=5, n_bootstrap=50, check_inputs=False)
    sc = res.sample_scores.sortby("index")
    return sc["index"].values, sc["score"].values


@pytest.mark.parametrize("correction", ["match", "ipw"])
def test_a_corrected_model_ranks_better_within_periods_and_leans_less_on_them(correction):
    X, y, st, g = _planted()
    plain_idx, plain = _scores(corrected_fit_predict(correction="none"), (X, st), y, g)
    corr_idx, corr = _scores(corrected_fit_predict(correction=correction), (X, st), y, g)
    w_plain = stratified_auroc(y[plain_idx], plain, st[plain_idx], n_bootstrap=50).within.auroc
    w_corr = stratified_auroc(y[corr_idx], corr, st[corr_idx], n_bootstrap=50).within.auroc
    assert w_corr > w_plain + 0.05
    assert w_corr > 0.65

    # nuisance dependence: how well the score tells the last period from the first
    def period_auc(idx, s):
        keep = st[idx] != "1"
        from brim.evaluate import auroc

        return auroc((st[idx][keep] == "2").astype(int), s[keep])

    assert period_auc(corr_idx, corr) < period_auc(plain_idx, plain) - 0.1


def test_train_features_weights_follow_the_correction():
    X, y, st, _ = _planted()
    plain = train_features(X, y, ["room", "asym"])
    ipw = train_features(X, y, ["room", "asym"], strata=st, confound_correction="ipw")
    match = train_features(X, y, ["room", "asym"], strata=st, confound_correction="match")
    assert plain.weights[1] > 0.6  # the plain model leans on the period feature
    for m in (ipw, match):
        assert abs(m.weights[1]) < 0.5 * abs(plain.weights[1])
        assert m.weights[2] > 0.3  # and keeps the disease feature
    with pytest.raises(ConfigError, match="needs strata"):
        train_features(X, y, ["room", "asym"], confound_correction="ipw")
    with pytest.raises(ConfigError, match="unknown confound correction"):
        corrected_fit_predict(correction="reweight")


def _cohort(X, y):
    n = len(y)
    meta = [
        {"file": f"T{i}.txt", "patient": i, "text_format": "space", "background_median": 21.0}
        for i in range(n)
    ]
    return Cohort(
        files=[m["file"] for m in meta],
        patients=np.arange(n),
        labels=y,
        maps=np.zeros((n, 2, 2), np.float32),
        features=X,
        feature_names=["mean_left", "rel_abs_delta_mean"],
        meta=meta,
    )


def test_confound_report_scores_models_and_baselines_inside_each_stratum():
    X, y, _, _ = _planted(n=120)
    X = np.c_[X[:, 0], X[:, 1] + 0.6 * y]  # a clearer disease signal
    audit = confound_report(_cohort(X, y), corrections=("ipw",), n_bootstrap=50)
    period = audit.strata["patient_id_order"]
    assert set(period) >= {
        "features (relative)",
        "features (static)",
        "features (relative, ipw)",
        "nuisance: patient_id_order",
    }
    assert period["nuisance: patient_id_order"].overall.auroc > 0.7
    assert abs(period["nuisance: patient_id_order"].within.auroc - 0.5) < 0.2
    assert period["features (relative)"].within.auroc > 0.7
    assert len(period["features (static)"].strata) == 3
    assert len(period_strata(_cohort(X, y))) == 120
    table = audit.stratified_table()
    assert "within strata of patient_id_order" in table and "features (relative, ipw)" in table
    # a nuisance with a single value (one room, one text format) is left out
    assert set(audit.strata) == {"patient_id_order"}


def test_confound_audit_without_models_has_no_strata():
    y = np.repeat([0, 1], 20)
    audit = confound_audit({"order": np.arange(40)}, y, np.arange(40), n_splits=4,
                           n_bootstrap=20, permutation=False)  # fmt: skip
    assert audit.strata == {} and audit.stratified_table() == ""
    assert "strata" not in audit.to_dict()


def test_train_saves_the_corrected_model(tmp_path):
    import json

    from brim.thermo.classify import load_model, train

    X, y, _, _ = _planted(n=60)
    cohort = _cohort(X, y)
    out = train(tmp_path, tmp_path / "none.csv", tmp_path / "m", cohort=cohort,
                confound_correction="ipw")  # fmt: skip
    cfg = json.loads((out / "model.json").read_text())
    assert cfg["confound_correction"] == "ipw" and cfg["names"] == ["rel_abs_delta_mean"]
    assert load_model(out).predict(X[:, 1:]).shape == (60,)
    with pytest.raises(ConfigError, match="unknown confound correction"):
        train(tmp_path, tmp_path / "none.csv", tmp_path / "m2", cohort=cohort,
              confound_correction="weights")  # fmt: skip
