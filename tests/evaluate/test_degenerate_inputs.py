"""Plausible mistakes with brim.evaluate: each raises a ConfigError naming the problem, or warns.

Labels as words or with a missing entry, patient ids missing in a spreadsheet, a DataFrame of
features, a prevalence in percent, a bootstrap interval from too few patients: none may give a
traceback from deep inside NumPy or a silently meaningless number.
"""

from __future__ import annotations

import numpy as np
import pytest

from brim.errors import BrimWarning, ConfigError
from brim.evaluate import (
    aggregate_by_group,
    auroc_ci,
    brier_score,
    calibration_curve,
    check_leakage,
    confound_audit,
    cross_validate,
    grouped_kfold,
    logistic_fit,
    logistic_fit_predict,
    mean_ci,
    predictive_values,
    strata_from_values,
    stratified_auroc,
)

N_PATIENTS = 20


@pytest.fixture
def cohort():
    """20 patients with two images each; features that carry the patient's label."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(N_PATIENTS), 2)
    y = np.repeat(np.arange(N_PATIENTS) % 2, 2)
    X = rng.normal(size=(y.size, 3)) + y[:, None]
    scores = y + rng.normal(size=y.size)
    return X, y, groups, scores


# ---------------------------------------------------------------------------- labels


def test_word_labels_in_grouped_kfold_are_a_config_error(cohort):
    _, y, groups, _ = cohort
    words = np.where(y == 1, "malignant", "benign")
    with pytest.raises(ConfigError, match="labels must be integer class labels"):
        grouped_kfold(groups, words, n_splits=4)


def test_a_missing_label_is_not_cast_to_a_class(cohort):
    _, y, groups, _ = cohort
    labels = y.astype(float)
    labels[3] = np.nan  # an empty cell in the spreadsheet
    with pytest.raises(ConfigError, match="labels must be integer class labels"):
        grouped_kfold(groups, labels, n_splits=4)


def test_labels_of_one_class_are_named_as_such(cohort):
    X, _, groups, _ = cohort
    with pytest.raises(ConfigError, match="one class only"):
        cross_validate(logistic_fit_predict, X, np.zeros(len(groups), int), groups, n_splits=4)


def test_every_patient_positive_is_explained(cohort):
    X, _, groups, _ = cohort
    y = np.tile([0, 1], N_PATIENTS)  # one positive image per patient: every patient positive
    with pytest.raises(ConfigError, match="every group holds a positive sample"):
        cross_validate(logistic_fit_predict, X, y, groups, n_splits=4)


def test_every_patient_positive_is_valid_per_sample(cohort):
    # a patient's healthy breast as the control of her sick one: scored per breast, it runs
    _, _, groups, _ = cohort
    y = np.tile([0, 1], N_PATIENTS)
    X = np.random.default_rng(1).normal(size=(y.size, 3)) + 2 * y[:, None]
    res = cross_validate(
        logistic_fit_predict, X, y, groups, n_splits=4, aggregate=None, n_bootstrap=50
    )
    assert res.pooled.auroc.auroc > 0.8


# ---------------------------------------------------------------------------- groups


@pytest.mark.parametrize("missing", [np.nan, None])
def test_a_missing_patient_id_is_a_config_error(cohort, missing):
    X, y, groups, scores = cohort
    ids = groups.astype(object if missing is None else float)
    ids[5] = missing
    with pytest.raises(ConfigError, match="no group id"):
        cross_validate(logistic_fit_predict, X, y, ids, n_splits=4)
    with pytest.raises(ConfigError, match="no group id"):
        auroc_ci(y, scores, groups=ids, n_bootstrap=20)


def test_groups_of_the_wrong_length_in_stratified_auroc(cohort):
    _, y, groups, scores = cohort
    with pytest.raises(ConfigError, match="groups must have shape"):
        stratified_auroc(y, scores, np.arange(y.size) % 2, groups=groups[:-1], n_bootstrap=20)


def test_fewer_positive_patients_than_folds_warns(cohort):
    _, _, groups, _ = cohort
    y = (groups < 3).astype(int)  # 3 positive patients, 5 folds
    with pytest.warns(BrimWarning, match="only 3 group"):
        folds = grouped_kfold(groups, y, n_splits=5)
    assert sum(y[f.test].any() for f in folds) == 3


def test_n_splits_that_is_not_a_number(cohort):
    _, y, groups, _ = cohort
    with pytest.raises(ConfigError, match="n_splits"):
        grouped_kfold(groups, y, n_splits="five")


# ---------------------------------------------------------------------------- intervals


def test_auroc_ci_without_bootstrap_replicates_is_an_error(cohort):
    _, y, groups, scores = cohort
    with pytest.raises(ConfigError, match="n_bootstrap"):
        auroc_ci(y, scores, groups=groups, n_bootstrap=0)


def test_auroc_ci_from_one_positive_patient_warns(cohort):
    _, y, groups, scores = cohort
    # every positive image belongs to one patient: most resamples hold no positive at all
    ids = np.where(y == 1, -1, groups)
    with pytest.warns(BrimWarning, match="bootstrap resamples"):
        r = auroc_ci(y, scores, groups=ids, n_bootstrap=200)
    assert r.n_valid < 0.9 * r.n_bootstrap


def test_interval_from_a_single_patient_warns(cohort):
    _, y, _, scores = cohort
    one = np.zeros(y.size, int)
    with pytest.warns(BrimWarning, match="one group"):
        r = auroc_ci(y, scores, groups=one, n_bootstrap=20)
    assert r.low == r.high  # the zero-width interval the warning is about
    with pytest.warns(BrimWarning, match="one group"):
        mean_ci(scores, groups=one, n_bootstrap=20)


# ---------------------------------------------------------------------------- cross-validation


def test_dataframe_features_give_the_array_result(cohort):
    pd = pytest.importorskip("pandas")
    X, y, groups, _ = cohort
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(y.size) + 100)
    ref = cross_validate(logistic_fit_predict, X, y, groups, n_splits=4, n_bootstrap=50)
    res = cross_validate(logistic_fit_predict, df, y, groups, n_splits=4, n_bootstrap=50)
    # the same rows (by position, not by the DataFrame's index); a DataFrame's column-major
    # memory changes the last bits of the matrix products only
    np.testing.assert_allclose(res.scores["score"].values, ref.scores["score"].values, rtol=1e-12)
    np.testing.assert_array_equal(res.scores["unit"].values, ref.scores["unit"].values)


def test_prevalence_in_percent_is_an_error(cohort):
    X, y, groups, _ = cohort
    with pytest.raises(ConfigError, match="prevalence"):
        cross_validate(logistic_fit_predict, X, y, groups, n_splits=4, prevalence=2)


def test_nan_model_scores_name_fit_predict(cohort):
    X, y, groups, _ = cohort

    def broken(X_train, y_train, X_val, y_val, X_test):
        return np.full(len(y_val), np.nan), np.full(len(X_test), np.nan)

    with pytest.raises(ConfigError, match="fit_predict returned NaN"):
        cross_validate(broken, X, y, groups, n_splits=4)


def test_aggregating_nan_scores_is_an_error(cohort):
    _, _, groups, scores = cohort
    scores = scores.copy()
    scores[0] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        aggregate_by_group(scores, groups)


def test_nuisance_as_a_list_is_an_error(cohort):
    _, y, groups, scores = cohort
    with pytest.raises(ConfigError, match="nuisance must map a name"):
        confound_audit([scores], y, groups, n_splits=4, permutation=False)


# ---------------------------------------------------------------------------- logistic baseline


def test_logistic_fit_refuses_nan_features(cohort):
    X, y, _, _ = cohort
    X = X.copy()
    X[7, 1] = np.nan
    with pytest.raises(ConfigError, match="sample 7"):
        logistic_fit(X, y)


def test_logistic_fit_refuses_one_class(cohort):
    X, y, _, _ = cohort
    with pytest.raises(ConfigError, match="both classes"):
        logistic_fit(X, np.zeros_like(y))


def test_logistic_predict_on_one_unbatched_sample(cohort):
    X, y, _, _ = cohort
    model = logistic_fit(X, y)
    with pytest.raises(ConfigError, match="fit on 3"):
        model.predict_proba(X[0])  # 3 features read as 3 samples of one feature
    assert model.predict_proba(X[:1]).shape == (1,)


# ---------------------------------------------------------------------------- small metrics


def test_sensitivity_in_percent_is_an_error():
    with pytest.raises(ConfigError, match="sensitivity"):
        predictive_values(90, 0.9, 0.1)


def test_calibration_with_no_bins_and_brier_of_nothing():
    with pytest.raises(ConfigError, match="n_bins"):
        calibration_curve([0, 1], [0.2, 0.8], n_bins=0)
    with pytest.raises(ConfigError, match="empty"):
        brier_score([], [])


def test_check_leakage_refuses_masks_and_positions_past_the_end(cohort):
    _, _, groups, _ = cohort
    # masks used to be read as positions 0 and 1: a false "patient in both" leak
    with pytest.raises(ConfigError, match="boolean mask"):
        check_leakage(groups < 5, groups >= 5, groups)
    with pytest.raises(ConfigError, match="outside the 40 samples"):
        check_leakage([0, 1], [100], groups)


def test_a_missing_nuisance_value_is_not_a_stratum(cohort):
    _, y, _, scores = cohort
    period = np.where(np.arange(y.size) < 20, 2019.0, 2021.0)
    period[4] = np.nan  # an empty cell: used to become a stratum 'nan' of its own
    with pytest.raises(ConfigError, match="strata: 1 sample"):
        stratified_auroc(y, scores, period, n_bootstrap=20)
    with pytest.raises(ConfigError, match="NaN"):
        strata_from_values(period)


def test_report_into_a_file_or_with_a_wrong_audit(cohort, tmp_path):
    pytest.importorskip("matplotlib")
    from brim.evaluate import report

    X, y, groups, _ = cohort
    res = cross_validate(logistic_fit_predict, X, y, groups, n_splits=4, n_bootstrap=20)
    taken = tmp_path / "results.html"
    taken.write_text("an earlier report")
    with pytest.raises(ConfigError, match="is a file"):
        report(res, taken)
    assert taken.read_text() == "an earlier report"
    with pytest.raises(ConfigError, match="ConfoundAudit"):
        report(res, tmp_path / "out", audit={"order": 0.5})
