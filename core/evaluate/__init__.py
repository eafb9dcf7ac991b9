"""brim.evaluate: the honest evaluation protocol shared by every modality.

Grouped (patient-level) cross-validation with a nested validation split, leakage checks that
raise, per-patient aggregation fixed in advance, thresholds chosen on validation data only,
metrics with group-bootstrap confidence intervals, a confound audit with nuisance-only baselines
and a label-permutation run, Grad-CAM explanations and an HTML report.

The metrics and the protocol need only NumPy/SciPy; Grad-CAM needs torch (extra ``dl``), the
report matplotlib (extra ``viz``).

Examples
--------
>>> from brim.evaluate import cross_validate, logistic_fit_predict, report
>>> res = cross_validate(logistic_fit_predict, X, y, groups, n_splits=5,
...                      aggregate="mean", threshold_rule="youden")  # doctest: +SKIP
>>> print(res.summary())  # doctest: +SKIP
>>> report(res, "report/")  # doctest: +SKIP

Public API
----------
Splits and leakage (:mod:`brim.evaluate.splits`)
    ``grouped_kfold(groups, labels, *, n_splits=5, seed=0) -> list[Fold]``,
    ``grouped_split(groups, labels, *, val_fraction=0.2, seed=0) -> (train_idx, val_idx)``,
    ``check_leakage(train_idx, test_idx, groups, *, inputs=None, near_duplicate_bits=4)``,
    ``perceptual_hash(image) -> int``.
Cross-validation (:mod:`brim.evaluate.crossval`)
    ``cross_validate(fit_predict, X, y, groups, *, n_splits, inner_val_fraction, aggregate,
    threshold_rule, prevalence, ...) -> CVResult``, ``aggregate_by_group(scores, groups, *, rule)``,
    ``take(X, idx)``.
Baseline (:mod:`brim.evaluate.logistic`)
    ``logistic_fit`` (-> ``LogisticModel``), ``logistic_fit_predict``.
Confound audit (:mod:`brim.evaluate.confounds`)
    ``confound_audit(nuisance, y, groups, *, model=None, X=None, flag_auroc=0.70, models=None,
    n_strata=3, ...)`` (with ``models``: every model and nuisance baseline scored inside the
    strata of each nuisance, ``ConfoundAudit.stratified_table()``), ``permute_labels_by_group``.
Metrics (:mod:`brim.evaluate.metrics`)
    ``auroc``, ``auroc_ci``, ``mean_ci``, ``roc_curve``, ``roc_band``,
    ``sensitivity_at_specificity``, ``specificity_at_sensitivity``, ``choose_threshold``,
    ``balanced_accuracy``,
    ``predictive_values``, ``brier_score``, ``calibration_curve``, ``confusion_matrix``,
    ``class_counts``, ``dice``, ``iou``, ``hd95``, ``segmentation_metrics``.
Evaluation inside strata of a nuisance
    ``stratified_auroc(y, scores, strata, *, groups=None) -> StratifiedAUROC`` (per-stratum and
    pooled within-stratum AUROC), ``strata_from_values``, ``matched_indices`` (period-matched
    case-control samples), ``balancing_weights`` (inverse-probability weights).
Explainability and report
    ``grad_cam(model, x, *, target_layer=None, target=0) -> xr.DataArray``,
    ``plot_grad_cam(cam, *, image=None, ax=None)``, ``report(result, path, *, audit=None)``.
"""

from brim.evaluate.confounds import ConfoundAudit, confound_audit, permute_labels_by_group
from brim.evaluate.crossval import (
    CVResult,
    FoldResult,
    PooledResult,
    aggregate_by_group,
    cross_validate,
    take,
)
from brim.evaluate.logistic import LogisticModel, logistic_fit, logistic_fit_predict
from brim.evaluate.metrics import (
    AUROCResult,
    CalibrationCurve,
    OperatingPoint,
    PredictiveValues,
    ROCCurve,
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
    roc_band,
    roc_curve,
    segmentation_metrics,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)
from brim.evaluate.splits import (
    Fold,
    check_leakage,
    grouped_kfold,
    grouped_split,
    input_hashes,
    perceptual_hash,
)
from brim.evaluate.strata import (
    StratifiedAUROC,
    balancing_weights,
    matched_indices,
    strata_from_values,
    stratified_auroc,
)

_LAZY = {
    "grad_cam": "brim.evaluate.explain",
    "plot_grad_cam": "brim.evaluate.explain",
    "report": "brim.evaluate.reporting",
}


def __getattr__(name):  # PEP 562: torch / matplotlib only when these are used
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'brim.evaluate' has no attribute {name!r}")


__all__ = [
    "AUROCResult",
    "CVResult",
    "CalibrationCurve",
    "ConfoundAudit",
    "Fold",
    "FoldResult",
    "OperatingPoint",
    "PooledResult",
    "PredictiveValues",
    "ROCCurve",
    "StratifiedAUROC",
    "aggregate_by_group",
    "auroc",
    "auroc_ci",
    "balanced_accuracy",
    "balancing_weights",
    "brier_score",
    "calibration_curve",
    "check_leakage",
    "choose_threshold",
    "class_counts",
    "confound_audit",
    "confusion_matrix",
    "cross_validate",
    "dice",
    "grad_cam",
    "grouped_kfold",
    "grouped_split",
    "hd95",
    "input_hashes",
    "iou",
    "LogisticModel",
    "logistic_fit",
    "logistic_fit_predict",
    "matched_indices",
    "mean_ci",
    "perceptual_hash",
    "permute_labels_by_group",
    "plot_grad_cam",
    "predictive_values",
    "report",
    "roc_band",
    "roc_curve",
    "segmentation_metrics",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
    "strata_from_values",
    "stratified_auroc",
    "take",
]
