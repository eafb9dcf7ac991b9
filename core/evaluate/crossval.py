"""Grouped cross-validation with a nested validation split: per-patient aggregation fixed in
advance, thresholds chosen before the test fold is seen, leakage checks that raise.

References
----------
Varma S, Simon R (2006). Bias in error estimation when using cross-validation for model
selection. BMC Bioinformatics 7:91 (nested CV).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim.deprecation import positional_options
from brim.errors import ConfigError
from brim.evaluate import metrics as M
from brim.evaluate.splits import (
    Fold,
    check_leakage,
    group_labels,
    grouped_kfold,
    grouped_split,
    input_hashes,
)

__all__ = [
    "CVResult",
    "FoldResult",
    "PooledResult",
    "aggregate_by_group",
    "cross_validate",
    "take",
]

FitPredict = Callable[..., Any]


def take(X: Any, idx: ArrayLike) -> Any:
    """Rows ``idx`` of X, whatever kind of collection X is.

    Parameters
    ----------
    X : ndarray, xarray.DataArray, torch Dataset, tuple of these, or sequence
        Samples along the first axis (dim); a tuple holds the inputs of a multi-input model.
        An object with a ``subset(idx)`` method (brim.learn datasets) is asked for its subset.
    idx : array of int
        Sample positions.

    Returns
    -------
    object
        The same kind of collection holding the selected samples: an array or DataArray
        (first dim), a ``torch.utils.data.Subset``, a tuple of such, or a list.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import take
    >>> take(np.arange(10) * 10, [2, 5])
    array([20, 50])
    >>> take((np.arange(4), ["a", "b", "c", "d"]), [0, 3])
    (array([0, 3]), ['a', 'd'])
    """
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(X, tuple):
        return tuple(take(x, idx) for x in X)
    if isinstance(X, xr.DataArray):
        return X.isel({X.dims[0]: idx})
    if isinstance(X, np.ndarray):
        return X[idx]
    if hasattr(X, "iloc"):  # pandas DataFrame / Series: rows by position, not by index label
        return X.iloc[idx]
    if hasattr(X, "subset"):
        return X.subset(idx)
    try:
        from torch.utils.data import Dataset, Subset

        if isinstance(X, Dataset):
            return Subset(X, idx.tolist())
    except ImportError:  # pragma: no cover
        pass
    return [X[int(i)] for i in idx]


def _n_samples(X) -> int:
    if isinstance(X, tuple):
        ns = {_n_samples(x) for x in X}
        if len(ns) != 1:
            raise ConfigError(f"the inputs of a multi-input X differ in length: {sorted(ns)}")
        return ns.pop()
    if isinstance(X, xr.DataArray):
        return int(X.sizes[X.dims[0]])
    return len(X)


def _aggregate(scores, groups, rule):
    """NumPy core of :func:`aggregate_by_group`: (unique groups, aggregated scores, counts)."""
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(groups)
    if s.shape != g.shape or s.ndim != 1:
        raise ConfigError(f"scores {s.shape} and groups {g.shape} must be 1-D of equal length")
    if not np.all(np.isfinite(s)):
        raise ConfigError("scores contain NaN or infinite values; fix the model output first")
    g = M._group_ids(g, g.size)
    uniq, inv = np.unique(g, return_inverse=True)
    inv = inv.ravel()
    cnt = np.bincount(inv, minlength=uniq.size)
    if rule == "mean":
        agg = np.bincount(inv, weights=s, minlength=uniq.size) / cnt
    elif rule == "max":
        agg = np.full(uniq.size, -np.inf)
        np.maximum.at(agg, inv, s)
    elif rule == "median":
        agg = np.array([np.median(s[inv == k]) for k in range(uniq.size)])
    else:
        raise ConfigError(f"aggregation rule must be 'mean', 'max' or 'median', not {rule!r}")
    return uniq, agg, cnt


@positional_options
def aggregate_by_group(
    scores: ArrayLike, groups: ArrayLike, *, rule: str = "mean", labels: ArrayLike | None = None
) -> xr.Dataset:
    """Per-group (patient) scores from per-sample scores with a rule fixed in advance.

    Parameters
    ----------
    scores : array of shape (n,)
        Per-sample scores.
    groups : array of shape (n,)
        Group (patient) id of each sample.
    rule : {"mean", "max", "median"}
        How a patient's image scores combine.
    labels : array of shape (n,), optional
        Per-sample labels; the group label is their maximum.

    Returns
    -------
    xarray.Dataset
        ``score`` (and ``label``, ``n_samples``) on dim ``group``.

    Examples
    --------
    >>> from brim.evaluate import aggregate_by_group
    >>> agg = aggregate_by_group([0.2, 0.4, 0.9], ["p1", "p1", "p2"], rule="max")
    >>> agg["score"].values.tolist(), agg["n_samples"].values.tolist()
    ([0.4, 0.9], [2, 1])
    """
    import xarray as xr

    uniq, agg, cnt = _aggregate(scores, groups, rule)
    g = np.asarray(groups)
    data = {
        "score": ("group", agg),
        "n_samples": ("group", cnt),
    }
    if labels is not None:
        _, gl, _ = group_labels(g, labels)
        data["label"] = ("group", gl)
    return xr.Dataset(data, coords={"group": uniq}, attrs={"aggregation": rule})


@dataclass
class FoldResult:
    """Numbers of one outer fold (patient level when aggregation is on).

    Attributes
    ----------
    fold : int
        Fold number.
    n_train, n_val, n_test : int
        Samples in the inner training, inner validation and test parts.
    n_test_groups : int
        Groups (patients) in the test part.
    threshold : float
        Decision threshold chosen on the validation part.
    auroc : float
        Test AUROC (NaN when the test fold holds one class).
    sensitivity, specificity, balanced_accuracy : float
        Of the test decisions at ``threshold``.
    seconds : float
        Wall time of the fold.
    """

    fold: int
    n_train: int
    n_val: int
    n_test: int
    n_test_groups: int
    threshold: float
    auroc: float
    sensitivity: float
    specificity: float
    balanced_accuracy: float
    seconds: float

    def to_dict(self) -> dict:
        """Every field as a plain dict.

        Returns
        -------
        dict
            The fields above, by name.

        Examples
        --------
        >>> from brim.evaluate import FoldResult
        >>> f = FoldResult(0, 10, 5, 5, 5, 0.4, 0.9, 1.0, 0.5, 0.75, 0.01)
        >>> d = f.to_dict()
        >>> d["fold"], d["n_test"], d["threshold"], sorted(d)[:3]
        (0, 5, 0.4, ['auroc', 'balanced_accuracy', 'fold'])
        """
        return dict(self.__dict__)


@dataclass
class PooledResult:
    """Metrics of the test scores pooled over all outer folds.

    Attributes
    ----------
    auroc : AUROCResult
        AUROC with its group-bootstrap CI.
    sensitivity, specificity, balanced_accuracy : float
        Of the per-fold decisions (each fold at its own validation threshold).
    confusion : ndarray of shape (2, 2)
        ``[[TN, FP], [FN, TP]]`` of those decisions.
    counts : dict
        Negative and positive evaluation units.
    predictive : PredictiveValues
        PPV/NPV at the stated (or evaluation-set) prevalence.
    sens_at_spec, spec_at_sens : OperatingPoint
        Operating points at the target specificity and sensitivity.
    brier : float or None
        Brier score (None when the scores are not probabilities).
    calibration : CalibrationCurve or None
        Reliability data (None when the scores are not probabilities).
    roc : ROCCurve
        The pooled ROC curve.
    roc_band : dict
        Its pointwise group-bootstrap band (:func:`roc_band`).
    """

    auroc: M.AUROCResult
    sensitivity: float
    specificity: float
    balanced_accuracy: float
    confusion: np.ndarray
    counts: dict
    predictive: M.PredictiveValues
    sens_at_spec: M.OperatingPoint
    spec_at_sens: M.OperatingPoint
    brier: float | None
    calibration: M.CalibrationCurve | None
    roc: M.ROCCurve
    roc_band: dict


@dataclass
class CVResult:
    """Result of :func:`cross_validate`.

    Attributes
    ----------
    name : str
    folds : list of FoldResult
    pooled : PooledResult
    scores : xarray.Dataset
        Evaluation-unit scores (``score``, ``label``, ``fold``, ``threshold``, ``decision``) on dim
        ``unit`` (groups when aggregated, samples otherwise).
    sample_scores : xarray.Dataset
        Per-sample test scores with ``group`` and ``fold``.
    protocol : dict
        Every setting of the protocol (recorded in reports).
    audit : ConfoundAudit or None
        Attached by :func:`confound_audit` callers (``result.audit = ...``) for the report.

    Examples
    --------
    20 patients, one feature vector each, features that carry the label; the pooled AUROC, the
    one-line summary and the JSON-ready record of the same result:

    >>> import numpy as np
    >>> from brim.evaluate import cross_validate, logistic_fit_predict
    >>> y = np.repeat([0, 1], 10)
    >>> X = np.random.default_rng(0).normal(size=(20, 2)) + 2 * y[:, None]
    >>> res = cross_validate(logistic_fit_predict, X, y, np.arange(20), n_splits=4, n_bootstrap=50)
    >>> bool(res.auroc > 0.9), res.auroc == res.pooled.auroc.auroc
    (True, True)
    >>> print(res.summary())  # doctest: +ELLIPSIS
    model: AUROC 0.9... (95% CI ..., 10 pos / 10 neg patients), sensitivity ..., ...
    >>> d = res.to_dict()
    >>> sorted(d)
    ['folds', 'name', 'pooled', 'protocol', 'units']
    >>> d["name"], len(d["folds"]), d["folds"][0]["n_test"]
    ('model', 4, 5)
    """

    name: str
    folds: list[FoldResult]
    pooled: PooledResult
    scores: Any
    sample_scores: Any
    protocol: dict
    audit: Any = None

    @property
    def auroc(self) -> float:
        """The pooled out-of-fold AUROC (``pooled.auroc.auroc``).

        Returns
        -------
        float
            In [0, 1]; see the class example.
        """
        return self.pooled.auroc.auroc

    def summary(self) -> str:
        """One line: AUROC with its CI and class counts, sensitivity and specificity.

        Returns
        -------
        str
            E.g. ``"model: AUROC 0.912 (95% CI 0.85-0.96, 20 pos / 20 neg patients), ..."``
            (the class example prints one).
        """
        a = self.pooled.auroc
        return (
            f"{self.name}: AUROC {a.auroc:.3f} (95% CI {a.low:.3f}-{a.high:.3f}, "
            f"{a.n_pos} pos / {a.n_neg} neg {self.protocol['unit']}s), sensitivity "
            f"{self.pooled.sensitivity:.3f}, specificity {self.pooled.specificity:.3f}"
        )

    def to_dict(self) -> dict:
        """Every number as plain JSON-serialisable Python objects.

        Returns
        -------
        dict
            ``name``, ``protocol``, ``folds``, ``pooled`` (every metric), ``units`` (per-unit
            scores, labels, folds, decisions) and ``confound_audit`` when attached; non-finite
            numbers become None (see the class example).
        """
        p = self.pooled
        out = {
            "name": self.name,
            "protocol": self.protocol,
            "folds": [f.to_dict() for f in self.folds],
            "pooled": {
                "auroc": p.auroc.to_dict(),
                "sensitivity": p.sensitivity,
                "specificity": p.specificity,
                "balanced_accuracy": p.balanced_accuracy,
                "confusion_matrix": {
                    "layout": "[[TN, FP], [FN, TP]]",
                    "values": p.confusion.tolist(),
                },
                "counts": p.counts,
                "predictive_values": p.predictive.to_dict(),
                "sensitivity_at_specificity": p.sens_at_spec.to_dict(),
                "specificity_at_sensitivity": p.spec_at_sens.to_dict(),
                "brier": p.brier,
                "calibration": None
                if p.calibration is None
                else {
                    "mean_predicted": p.calibration.mean_predicted.tolist(),
                    "observed": p.calibration.observed.tolist(),
                    "counts": p.calibration.counts.tolist(),
                },
                "roc": {"fpr": p.roc.fpr.tolist(), "tpr": p.roc.tpr.tolist()},
                "roc_band": {k: np.asarray(v).tolist() for k, v in p.roc_band.items()},
            },
            "units": {
                "unit": [str(u) for u in self.scores["unit"].values],
                "score": self.scores["score"].values.tolist(),
                "label": self.scores["label"].values.tolist(),
                "fold": self.scores["fold"].values.tolist(),
                "decision": self.scores["decision"].values.tolist(),
            },
        }
        if self.audit is not None:
            out["confound_audit"] = self.audit.to_dict()
        return _jsonable(out)


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return _jsonable(o.tolist())
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating | float):
        f = float(o)
        return f if np.isfinite(f) else None
    if isinstance(o, np.bool_):
        return bool(o)
    return o


def _hashable_inputs(X):
    """The per-sample arrays to hash for duplicate checks, or None when X is opaque."""
    if isinstance(X, tuple):
        return _hashable_inputs(X[0])
    if isinstance(X, np.ndarray):
        return X
    if isinstance(X, xr.DataArray):
        return np.asarray(X.values)
    if hasattr(X, "iloc"):  # pandas: numeric features only
        try:
            return X.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            return None
    if hasattr(X, "inputs_for_hashing"):
        return X.inputs_for_hashing()
    return None


def _call(fit_predict, X, y, groups, tr, va, te):
    out = fit_predict(take(X, tr), y[tr], take(X, va), y[va], take(X, te))
    if isinstance(out, Mapping):
        v, t = out["val"], out["test"]
    else:
        try:
            v, t = out
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                "fit_predict must return (val_scores, test_scores) or {'val':..., 'test':...}"
            ) from exc
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    if v.size != len(va) or t.size != len(te):
        raise ConfigError(
            f"fit_predict returned {v.size} validation and {t.size} test scores for "
            f"{len(va)} and {len(te)} samples; return one score per sample"
        )
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(t))):
        raise ConfigError(
            "fit_predict returned NaN or infinite scores; check the inputs (NaN features?) "
            "and the model's training"
        )
    return v, t


def _unit(scores, y, groups, aggregate):
    if aggregate in (None, "none"):
        return scores, y, np.asarray(groups)
    uniq, agg, _ = _aggregate(scores, groups, aggregate)
    _, gl, _ = group_labels(groups, y)
    return agg, gl, uniq


def cross_validate(
    fit_predict: FitPredict,
    X: Any,
    y: ArrayLike,
    groups: ArrayLike,
    *,
    n_splits: int = 5,
    inner_val_fraction: float = 0.25,
    aggregate: str | None = "mean",
    threshold_rule: str | float = "youden",
    prevalence: float | None = None,
    target_specificity: float = 0.9,
    target_sensitivity: float = 0.9,
    seed: int = 0,
    check_inputs: bool = True,
    near_duplicate_bits: int | None = 4,
    n_bootstrap: int = 1000,
    name: str = "model",
    progress: bool = False,
    folds: Sequence[Fold] | None = None,
) -> CVResult:
    """Grouped K-fold cross-validation with a nested grouped validation split.

    For each outer fold: the training groups are split again (grouped, stratified) into inner
    training and validation parts; ``fit_predict`` trains on the inner training part (using the
    validation part for early stopping / tuning) and returns scores for validation and test
    samples. Scores are aggregated per group with ``aggregate``; the decision threshold is chosen
    on the *validation* groups by ``threshold_rule`` and then applied unchanged to the test fold.

    Parameters
    ----------
    fit_predict : callable
        ``fit_predict(X_train, y_train, X_val, y_val, X_test) -> (val_scores, test_scores)``
        (or a mapping with keys ``val``/``test``). Must train from scratch on each call.
    X : array, xarray.DataArray, torch Dataset, or tuple of these
        Inputs, first axis = sample. Taken with :func:`take`.
    y : array of shape (n,)
        Binary labels.
    groups : array of shape (n,)
        Patient / phantom id of each sample.
    n_splits : int
        Outer folds.
    inner_val_fraction : float
        Fraction of training groups held out for validation.
    aggregate : {"mean", "max", "median"} or None
        Per-patient aggregation of image scores, fixed in advance; None evaluates per sample
        (the CI is still a group bootstrap).
    threshold_rule : str or float
        See :func:`brim.evaluate.choose_threshold`.
    prevalence : float, optional
        Prevalence at which PPV/NPV are stated; default the evaluation set's (printed as such).
    target_specificity, target_sensitivity : float
        Operating points for "sensitivity at fixed specificity" and the reverse.
    seed : int
        Seed of the splits and the bootstrap.
    check_inputs : bool
        Hash inputs (exact + perceptual) and raise on duplicates across folds; needs X to be an
        array-like of images/features.
    near_duplicate_bits : int or None
        See :func:`check_leakage`.
    n_bootstrap : int
        Group-bootstrap replicates for the AUROC CI and ROC band.
    folds : sequence of Fold, optional
        Predefined outer folds (still checked for leakage).

    Returns
    -------
    CVResult
        Per-fold results, the pooled out-of-fold metrics (``pooled.auroc`` with its group
        bootstrap CI, operating point, predictive values) and ``summary()``.

    Examples
    --------
    40 patients with two feature vectors each, features that carry the label. No fold splits a
    patient, and each fold's threshold is chosen inside its training data:

    >>> import numpy as np
    >>> from brim.evaluate import cross_validate, logistic_fit_predict
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(np.arange(40), 2)
    >>> y = np.repeat(rng.integers(0, 2, 40), 2)
    >>> X = rng.normal(size=(80, 5)) + y[:, None]
    >>> res = cross_validate(logistic_fit_predict, X, y, groups, n_splits=5, n_bootstrap=200)
    >>> len(res.folds), bool(res.pooled.auroc.auroc > 0.9)
    (5, True)
    >>> print(res.summary())  # doctest: +ELLIPSIS
    model: AUROC ... (95% CI ...), sensitivity ..., specificity ...
    """
    import xarray as xr

    y = M._binary(y, "labels")
    n = y.size
    groups = M._group_ids(groups, n)
    if _n_samples(X) != n:
        raise ConfigError(f"X has {_n_samples(X)} samples but y has {n}")
    if aggregate not in (None, "none", "mean", "max", "median"):
        raise ConfigError(f"aggregate must be 'mean', 'max', 'median' or None, not {aggregate!r}")
    if prevalence is not None and not 0 < prevalence < 1:
        raise ConfigError(f"prevalence must be a fraction in (0, 1), got {prevalence}")
    if n and y.min() == y.max():
        raise ConfigError(f"labels hold one class only ({n} samples labelled {int(y[0])})")
    # Every group holding a positive sample is a valid design per sample (a patient's healthy
    # breast as the control of her sick one), but not per patient: every patient is then a case.
    if n and aggregate not in (None, "none") and group_labels(groups, y)[1].min() == 1:
        raise ConfigError(
            "every group holds a positive sample, so every group is labelled 1 (a group's label "
            "is the maximum of its samples' labels) and aggregate="
            f"{aggregate!r} leaves no control group; give groups one label each, or score each "
            "sample with aggregate=None"
        )
    if folds is None:
        folds = grouped_kfold(groups, y, n_splits=n_splits, seed=seed)
    hashes, bits = None, None
    if check_inputs:
        arr = _hashable_inputs(X)
        if arr is not None:
            hashes = input_hashes(arr)
            # perceptual hashing only makes sense for images (sample, [channel,] y, x)
            bits = near_duplicate_bits if np.ndim(arr[0]) >= 2 else None

    iterator = folds
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(folds, desc=f"CV {name}", unit="fold")

    fold_results: list[FoldResult] = []
    unit_rows = []
    sample_rows = []
    for fold in iterator:
        t0 = time.perf_counter()
        tr_all, te = np.asarray(fold.train), np.asarray(fold.test)
        check_leakage(tr_all, te, groups, hashes=hashes, near_duplicate_bits=bits)
        itr, iva = grouped_split(
            groups[tr_all],
            y[tr_all],
            val_fraction=inner_val_fraction,
            seed=seed + 1000 + fold.index,
        )
        tr, va = tr_all[itr], tr_all[iva]
        check_leakage(tr, va, groups)
        v_scores, t_scores = _call(fit_predict, X, y, groups, tr, va, te)
        vs, vy, _ = _unit(v_scores, y[va], groups[va], aggregate)
        ts, ty, tg = _unit(t_scores, y[te], groups[te], aggregate)
        if 0 < vy.sum() < vy.size:
            thr = M.choose_threshold(vy, vs, rule=threshold_rule)
        elif isinstance(threshold_rule, int | float):
            thr = float(threshold_rule)
        else:
            raise ConfigError(
                f"fold {fold.index}: the validation split has a single class; use more groups "
                "or a larger inner_val_fraction"
            )
        dec = (ts >= thr).astype(np.int64)
        both = 0 < ty.sum() < ty.size
        cm = M.confusion_matrix(ty, dec)
        fold_results.append(
            FoldResult(
                fold=fold.index,
                n_train=int(tr.size),
                n_val=int(va.size),
                n_test=int(te.size),
                n_test_groups=int(np.unique(groups[te]).size),
                threshold=float(thr),
                auroc=M.auroc(ty, ts) if both else float("nan"),
                sensitivity=float(cm[1, 1] / max(cm[1].sum(), 1)),
                specificity=float(cm[0, 0] / max(cm[0].sum(), 1)),
                balanced_accuracy=M.balanced_accuracy(ty, dec),
                seconds=time.perf_counter() - t0,
            )
        )
        for u, s_, l_, d_ in zip(tg, ts, ty, dec):
            unit_rows.append((u, s_, l_, fold.index, thr, d_))
        for i, s_ in zip(te, t_scores):
            sample_rows.append((i, s_, fold.index))

    units = np.array([r[0] for r in unit_rows])
    us = np.array([r[1] for r in unit_rows], dtype=np.float64)
    uy = np.array([r[2] for r in unit_rows], dtype=np.int64)
    uf = np.array([r[3] for r in unit_rows], dtype=np.int64)
    ut = np.array([r[4] for r in unit_rows], dtype=np.float64)
    ud = np.array([r[5] for r in unit_rows], dtype=np.int64)
    unit_name = "sample" if aggregate in (None, "none") else "patient"
    # per-unit group ids for the bootstrap (a unit IS a group when aggregated)
    unit_groups = units
    if unit_name == "sample":
        units = np.array([r[0] for r in sample_rows], dtype=np.int64)
        unit_groups = groups[units]

    cm = M.confusion_matrix(uy, ud)
    sens = float(cm[1, 1] / max(cm[1].sum(), 1))
    spec = float(cm[0, 0] / max(cm[0].sum(), 1))
    prev = float(uy.mean()) if prevalence is None else float(prevalence)
    in_unit = bool(us.min() >= 0 and us.max() <= 1)
    pooled = PooledResult(
        auroc=M.auroc_ci(uy, us, groups=unit_groups, n_bootstrap=n_bootstrap, seed=seed),
        sensitivity=sens,
        specificity=spec,
        balanced_accuracy=M.balanced_accuracy(uy, ud),
        confusion=cm,
        counts=M.class_counts(uy),
        predictive=M.predictive_values(sens, spec, min(max(prev, 1e-9), 1 - 1e-9)),
        sens_at_spec=M.sensitivity_at_specificity(uy, us, specificity=target_specificity),
        spec_at_sens=M.specificity_at_sensitivity(uy, us, sensitivity=target_sensitivity),
        brier=M.brier_score(uy, us) if in_unit else None,
        calibration=M.calibration_curve(uy, us) if in_unit else None,
        roc=M.roc_curve(uy, us),
        roc_band=M.roc_band(
            uy, us, groups=unit_groups, n_bootstrap=min(n_bootstrap, 500), seed=seed
        ),
    )
    scores = xr.Dataset(
        {
            "score": ("unit", us),
            "label": ("unit", uy),
            "fold": ("unit", uf),
            "threshold": ("unit", ut),
            "decision": ("unit", ud),
        },
        coords={"unit": units},
        attrs={"unit_kind": unit_name, "aggregation": str(aggregate)},
    )
    sidx = np.array([r[0] for r in sample_rows], dtype=np.int64)
    sample_scores = xr.Dataset(
        {
            "score": ("index", np.array([r[1] for r in sample_rows], dtype=np.float64)),
            "fold": ("index", np.array([r[2] for r in sample_rows], dtype=np.int64)),
            "label": ("index", y[sidx]),
        },
        coords={"index": sidx, "group": ("index", groups[sidx])},
    ).sortby("index")
    protocol = {
        "n_splits": len(folds),
        "inner_val_fraction": inner_val_fraction,
        "aggregate": str(aggregate),
        "unit": unit_name,
        "threshold_rule": threshold_rule,
        "threshold_chosen_on": "inner validation groups of each training fold",
        "prevalence": prev,
        "prevalence_source": "stated" if prevalence is not None else "evaluation set",
        "target_specificity": target_specificity,
        "target_sensitivity": target_sensitivity,
        "seed": seed,
        "n_bootstrap": n_bootstrap,
        "leakage_checks": "groups" + (" + exact/perceptual hashes" if hashes is not None else ""),
        "n_samples": int(n),
        "n_groups": int(np.unique(groups).size),
    }
    return CVResult(name, fold_results, pooled, scores, sample_scores, protocol)
