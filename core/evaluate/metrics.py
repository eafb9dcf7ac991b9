"""Classification and segmentation metrics on NumPy arrays (no scikit-learn).

Every function takes binary labels ``y`` (0 = negative, 1 = positive) and real-valued scores
(higher = more likely positive). Scores need not be probabilities except where stated (Brier,
calibration).

References
----------
Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
characteristic (ROC) curve. Radiology 143:29-36 (AUROC = Mann-Whitney U / (n1 n0)).
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall (percentile CI).
Field CA, Welsh AH (2007). Bootstrapping clustered data. JRSS B 69:369-390 (cluster bootstrap).
Brier GW (1950). Verification of forecasts expressed in terms of probability. Mon. Weather Rev.
Dice LR (1945). Measures of the amount of ecologic association between species. Ecology 26:297.
Huttenlocher DP et al. (1993). Comparing images using the Hausdorff distance. IEEE TPAMI 15:850.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage, stats

from brim.deprecation import positional_options
from brim.errors import ConfigError, check_positive, warn

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "AUROCResult",
    "CalibrationCurve",
    "OperatingPoint",
    "PredictiveValues",
    "ROCCurve",
    "auroc",
    "auroc_ci",
    "balanced_accuracy",
    "brier_score",
    "calibration_curve",
    "choose_threshold",
    "class_counts",
    "confusion_matrix",
    "dice",
    "hd95",
    "iou",
    "mean_ci",
    "predictive_values",
    "roc_band",
    "roc_curve",
    "segmentation_metrics",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
]


def _binary(y, name="y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ConfigError(f"{name} must be 1-D (one label per sample), got shape {y.shape}")
    vals = np.unique(y)
    if not np.all(np.isin(vals, [0, 1])):
        raise ConfigError(f"{name} must hold binary labels 0/1 (or bool), got values {vals[:10]}")
    return y.astype(np.int64)


def _scores(s, n, name="scores") -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if s.shape != (n,):
        raise ConfigError(f"{name} must have shape ({n},) like the labels, got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ConfigError(f"{name} contain NaN or infinite values; fix the model output first")
    return s


def _both_classes(y):
    n1 = int(y.sum())
    n0 = int(y.size - n1)
    if n1 == 0 or n0 == 0:
        raise ConfigError(f"AUROC needs both classes; got {n1} positive and {n0} negative samples")
    return n1, n0


def auroc(y: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve via the Mann-Whitney U statistic (ties count 1/2).

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels 0/1.
    scores : array of shape (n,)
        Real-valued scores, higher = more likely positive.

    Returns
    -------
    float
        P(score of a random positive > score of a random negative) + 0.5 P(tie).

    Examples
    --------
    Of the four (positive, negative) pairs, three are ranked correctly:

    >>> from brim.evaluate import auroc
    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = _binary(y)
    s = _scores(scores, y.size)
    n1, n0 = _both_classes(y)
    return float(_mann_whitney(y, s, n1))


def _mann_whitney(y, s, n1):
    """AUROC of labels ``y`` (``n1`` positives, both classes present) and scores ``s``."""
    r = stats.rankdata(s)  # midranks handle ties
    return (r[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * (y.size - n1))


@dataclass(frozen=True)
class AUROCResult:
    """AUROC with a bootstrap percentile confidence interval.

    Attributes
    ----------
    auroc, low, high : float
        Point estimate and CI bounds.
    level : float
        Confidence level (e.g. 0.95).
    n_bootstrap : int
        Replicates requested; ``n_valid`` of them contained both classes and were used.
    n_pos, n_neg, n_groups : int
        Counts of the evaluated units.
    """

    auroc: float
    low: float
    high: float
    level: float
    n_bootstrap: int
    n_valid: int
    n_pos: int
    n_neg: int
    n_groups: int

    def to_dict(self) -> dict:
        """Every field as a plain dict.

        Returns
        -------
        dict
            ``auroc``, ``low``, ``high``, ``level``, ``n_bootstrap``, ``n_valid``, ``n_pos``,
            ``n_neg``, ``n_groups``.

        Examples
        --------
        >>> from brim.evaluate import auroc_ci
        >>> r = auroc_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bootstrap=50)
        >>> d = r.to_dict()
        >>> d["auroc"], d["n_pos"], d["n_neg"], d["level"]
        (0.75, 2, 2, 0.95)
        """
        return asdict(self)


def _is_missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN
    except TypeError:  # pandas.NA
        return True


def _group_ids(groups, n, name="groups", what="group id", *, sortable=True) -> np.ndarray:
    """``groups`` as an array of ``n`` ids, or ConfigError (wrong shape, an id missing as
    NaN/None, or with ``sortable`` ids of types that cannot be compared); ``what`` names one id
    in messages."""
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ConfigError(f"{name} must have shape ({n},), got {g.shape}")
    if g.dtype.kind == "f":
        missing = np.isnan(g)
    elif g.dtype.kind == "O":
        missing = np.array([_is_missing(v) for v in g], dtype=bool)
    else:
        return g
    if missing.any():
        raise ConfigError(
            f"{name}: {int(missing.sum())} sample(s) have no {what} (NaN/None), the first is "
            f"sample {int(np.argmax(missing))}; give every sample its {what}"
        )
    if sortable and g.dtype.kind == "O":
        try:
            np.unique(g)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in g})
            raise ConfigError(
                f"{name} mix ids of types {kinds} that cannot be compared; use one type "
                "(e.g. strings)"
            ) from None
    return g


def _group_index(groups, n):
    if groups is None:
        return np.arange(n), n
    g = _group_ids(groups, n)
    _, inv = np.unique(g, return_inverse=True)
    n_groups = int(inv.max()) + 1 if n else 0
    if n_groups == 1 and n > 1:
        warn(
            f"all {n} samples belong to one group: every bootstrap resample is the same data, "
            "so the interval has zero width; give each sample its patient id in groups"
        )
    return inv.ravel(), n_groups


def _bootstrap_members(inv, n_groups, rng):
    """Sample indices of one cluster-bootstrap replicate (groups drawn with replacement)."""
    order = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[order], np.arange(n_groups + 1))
    picks = rng.integers(0, n_groups, size=n_groups)
    return np.concatenate([order[starts[p] : starts[p + 1]] for p in picks])


def _cluster_bootstrap(statistic, groups, n, *, n_bootstrap, seed):
    """Replicates of ``statistic(idx)`` over ``n_bootstrap`` cluster-bootstrap samples of ``n``
    samples (whole groups drawn with replacement; a replicate whose statistic is None, e.g. one
    with a single class, is skipped), and the number of groups."""
    n_bootstrap = check_positive("n_bootstrap", n_bootstrap, integer=True)
    inv, n_groups = _group_index(groups, n)
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(n_bootstrap):
        r = statistic(_bootstrap_members(inv, n_groups, rng))
        if r is not None:
            reps.append(r)
    if len(reps) < 0.9 * n_bootstrap:
        warn(
            f"only {len(reps)} of {n_bootstrap} bootstrap resamples of the {n_groups} groups "
            "held both classes (too few positive or negative patients): the confidence "
            "interval is unreliable"
        )
    return reps, n_groups


def _auroc_result(point, reps, y, *, n_groups, level, n_bootstrap) -> AUROCResult:
    """``point`` with the percentile interval of its bootstrap replicates ``reps`` (NaN bounds
    when there are none) and the class counts of the labels ``y``."""
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(reps, [alpha, 1.0 - alpha]) if reps else (np.nan, np.nan)
    n1 = int(y.sum())
    return AUROCResult(
        auroc=float(point),
        low=float(low),
        high=float(high),
        level=float(level),
        n_bootstrap=int(n_bootstrap),
        n_valid=len(reps),
        n_pos=n1,
        n_neg=int(y.size - n1),
        n_groups=n_groups,
    )


@positional_options
def auroc_ci(
    y: ArrayLike,
    scores: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> AUROCResult:
    """AUROC with a group (cluster) bootstrap percentile confidence interval.

    Whole groups (patients) are resampled with replacement, so images of one patient stay
    together and the CI reflects the number of patients, not of images.

    Parameters
    ----------
    y, scores : array of shape (n,)
        Binary labels and scores.
    groups : array of shape (n,), optional
        Group (patient) id of each sample; default: every sample its own group.
    n_bootstrap : int
        Bootstrap replicates (replicates with a single class are skipped).
    level : float
        Confidence level in (0, 1).
    seed : int
        Seed of the bootstrap generator.

    Returns
    -------
    AUROCResult
        The AUROC of all samples, the CI bounds ``low``/``high`` and the counts behind them.

    References
    ----------
    Field CA, Welsh AH (2007). Bootstrapping clustered data. JRSS B 69:369-390.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import auroc_ci
    >>> y = np.tile([0, 1], 20)
    >>> s = y + np.random.default_rng(0).normal(size=40)
    >>> r = auroc_ci(y, s, groups=np.repeat(np.arange(20), 2), n_bootstrap=200)
    >>> bool(r.low < r.auroc < r.high), r.n_groups
    (True, 20)
    """
    y = _binary(y)
    s = _scores(scores, y.size)
    n1, _ = _both_classes(y)
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")

    def replicate(idx):
        yb = y[idx]
        k = yb.sum()
        return None if k == 0 or k == yb.size else _mann_whitney(yb, s[idx], k)

    reps, n_groups = _cluster_bootstrap(
        replicate, groups, y.size, n_bootstrap=n_bootstrap, seed=seed
    )
    return _auroc_result(
        _mann_whitney(y, s, n1), reps, y, n_groups=n_groups, level=level, n_bootstrap=n_bootstrap
    )


@positional_options
def mean_ci(
    values: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of per-case values with a percentile-bootstrap confidence interval.

    The point estimate is the plain mean over all cases. Each bootstrap replicate resamples
    cases with replacement, or, when ``groups`` is given, whole groups (patients) with
    replacement (cluster bootstrap), so that several images of one patient count as one unit
    and the interval reflects the number of patients, not of images.

    Parameters
    ----------
    values : array of shape (n,)
        Per-case values (e.g. Dice of each test image), finite.
    groups : array of shape (n,), optional
        Group (patient) id of each case; default: every case its own group.
    n_bootstrap : int
        Bootstrap replicates (>= 1).
    level : float
        Confidence level in (0, 1).
    seed : int
        Seed of the bootstrap generator (the result is reproducible).

    Returns
    -------
    mean, low, high : float
        Mean of ``values`` and the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the
        replicate means (same units as ``values``).

    References
    ----------
    Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall, ch. 13
    (percentile interval). Field CA, Welsh AH (2007). Bootstrapping clustered data. JRSS B
    69:369-390 (resampling whole clusters).

    Examples
    --------
    >>> from brim.evaluate import mean_ci
    >>> mean, low, high = mean_ci([0.8, 0.9, 0.7, 0.85], n_bootstrap=500)
    >>> round(mean, 4), bool(low < mean < high)
    (0.8125, True)
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ConfigError(f"values must be 1-D (one value per case), got shape {v.shape}")
    if v.size == 0:
        raise ConfigError("no values to summarise: values is empty")
    if not np.all(np.isfinite(v)):
        raise ConfigError("values contain NaN or infinite entries; drop or fix those cases first")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    if int(n_bootstrap) < 1:
        raise ConfigError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    inv, n_groups = _group_index(groups, v.size)
    # a replicate mean is (sum of the drawn groups' sums) / (their total size)
    sums = np.bincount(inv, weights=v, minlength=n_groups)
    sizes = np.bincount(inv, minlength=n_groups).astype(np.float64)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2**22 // n_groups)  # bounded memory for large n
    means = []
    for start in range(0, int(n_bootstrap), chunk):
        picks = rng.integers(0, n_groups, (min(chunk, int(n_bootstrap) - start), n_groups))
        means.append(sums[picks].sum(axis=1) / sizes[picks].sum(axis=1))
    low, high = np.quantile(np.concatenate(means), [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(v.mean()), float(low), float(high)


@dataclass(frozen=True)
class ROCCurve:
    """Empirical ROC curve: ``fpr[i]``, ``tpr[i]`` predicting positive for score >= thresholds[i].

    The first point is (0, 0) with threshold +inf.

    Attributes
    ----------
    fpr, tpr : ndarray of shape (k,)
        False- and true-positive rates, non-decreasing, from 0 to 1.
    thresholds : ndarray of shape (k,)
        The score thresholds, decreasing (the first is +inf).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def roc_curve(y: ArrayLike, scores: ArrayLike) -> ROCCurve:
    """Empirical ROC curve with one point per distinct score (ties move diagonally).

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels 0/1 (both classes present).
    scores : array of shape (n,)
        Scores, higher = more likely positive.

    Returns
    -------
    ROCCurve
        ``fpr``, ``tpr`` and ``thresholds``, starting at (0, 0).

    Examples
    --------
    >>> from brim.evaluate import roc_curve
    >>> c = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> c.fpr.tolist(), c.tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    y = _binary(y)
    s = _scores(scores, y.size)
    n1, n0 = _both_classes(y)
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    last = np.r_[np.nonzero(np.diff(s_sorted))[0], s_sorted.size - 1]
    tpr = np.r_[0.0, tp[last] / n1]
    fpr = np.r_[0.0, fp[last] / n0]
    thr = np.r_[np.inf, s_sorted[last]]
    return ROCCurve(fpr=fpr, tpr=tpr, thresholds=thr)


@positional_options
def roc_band(
    y: ArrayLike,
    scores: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    n_bootstrap: int = 500,
    level: float = 0.95,
    seed: int = 0,
    n_points: int = 101,
) -> dict[str, np.ndarray]:
    """Pointwise group-bootstrap band of the ROC curve (TPR on a fixed FPR grid).

    Parameters
    ----------
    y, scores : array of shape (n,)
        Binary labels and scores.
    groups : array of shape (n,), optional
        Group (patient) id of each sample, resampled as a whole; default: each sample alone.
    n_bootstrap : int
        Bootstrap replicates (replicates with a single class are skipped).
    level : float
        Confidence level in (0, 1) of the pointwise band.
    seed : int
        Seed of the bootstrap generator.
    n_points : int
        Points of the FPR grid on [0, 1].

    Returns
    -------
    dict of str to ndarray of shape (n_points,)
        ``fpr`` (the grid), ``tpr`` (the full-data curve on the grid), ``low``, ``high`` (the
        band; NaN when no replicate holds both classes).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import roc_band
    >>> y = np.tile([0, 1], 20)
    >>> band = roc_band(y, y + np.random.default_rng(0).normal(size=40), n_bootstrap=50)
    >>> band["fpr"].shape, bool(np.all(band["low"] <= band["high"]))
    ((101,), True)
    """
    y = _binary(y)
    s = _scores(scores, y.size)
    grid = np.linspace(0.0, 1.0, n_points)

    def on_grid(yy, ss):
        c = roc_curve(yy, ss)
        # right-continuous step interpolation: best TPR reachable at FPR <= grid
        idx = np.searchsorted(c.fpr, grid, side="right") - 1
        return c.tpr[idx]

    full = on_grid(y, s)

    def replicate(idx):
        yb = y[idx]
        return on_grid(yb, s[idx]) if 0 < yb.sum() < yb.size else None

    reps, _ = _cluster_bootstrap(replicate, groups, y.size, n_bootstrap=n_bootstrap, seed=seed)
    alpha = (1.0 - level) / 2.0
    if reps:
        low, high = np.quantile(np.array(reps), [alpha, 1 - alpha], axis=0)
    else:
        low = high = np.full_like(grid, np.nan)
    return {"fpr": grid, "tpr": full, "low": low, "high": high}


@dataclass(frozen=True)
class OperatingPoint:
    """A decision threshold and the sensitivity/specificity it gives (predict positive if
    score >= threshold).

    Attributes
    ----------
    threshold : float
        The score threshold.
    sensitivity, specificity : float
        True-positive and true-negative rates at that threshold, in [0, 1].
    """

    threshold: float
    sensitivity: float
    specificity: float

    def to_dict(self) -> dict:
        """Every field as a plain dict.

        Returns
        -------
        dict
            ``threshold``, ``sensitivity``, ``specificity``.

        Examples
        --------
        >>> from brim.evaluate import OperatingPoint
        >>> OperatingPoint(0.5, 0.9, 0.8).to_dict()
        {'threshold': 0.5, 'sensitivity': 0.9, 'specificity': 0.8}
        """
        return asdict(self)


def _operating_points(y, s):
    c = roc_curve(y, s)
    return c.thresholds, c.tpr, 1.0 - c.fpr


def _best_operating_point(y, scores, held: str, target: float) -> OperatingPoint:
    """The threshold whose ``held`` rate ("sensitivity" or "specificity") is >= ``target`` and
    whose other rate is highest."""
    if not 0 <= target <= 1:
        raise ConfigError(f"{held} must be in [0, 1], got {target}")
    thr, sens, spec = _operating_points(y, scores)
    kept, best = (sens, spec) if held == "sensitivity" else (spec, sens)
    ok = np.nonzero(kept >= target - 1e-12)[0]
    i = ok[np.argmax(best[ok])]
    return OperatingPoint(float(thr[i]), float(sens[i]), float(spec[i]))


@positional_options
def sensitivity_at_specificity(
    y: ArrayLike, scores: ArrayLike, *, specificity: float = 0.9
) -> OperatingPoint:
    """Highest sensitivity among thresholds whose specificity is >= ``specificity``.

    The screening question: how many positives are found when false alarms are capped at
    ``1 - specificity`` of the negatives.

    Parameters
    ----------
    y, scores : array of shape (n,)
        Binary labels and scores (both classes present).
    specificity : float
        Lowest acceptable true-negative rate, in [0, 1] (0.9: at most 10 % false positives).

    Returns
    -------
    OperatingPoint
        The threshold with the best sensitivity at that cap; its ``specificity`` can exceed the
        target, since the empirical ROC curve moves in steps.

    Examples
    --------
    No threshold below 0.8 keeps both negatives negative:

    >>> from brim.evaluate import sensitivity_at_specificity
    >>> sensitivity_at_specificity([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], specificity=1.0)
    OperatingPoint(threshold=0.8, sensitivity=0.5, specificity=1.0)
    """
    return _best_operating_point(y, scores, "specificity", specificity)


@positional_options
def specificity_at_sensitivity(
    y: ArrayLike, scores: ArrayLike, *, sensitivity: float = 0.9
) -> OperatingPoint:
    """Highest specificity among thresholds whose sensitivity is >= ``sensitivity``.

    The rule-out question: how many negatives are cleared when at most ``1 - sensitivity`` of
    the positives may be missed.

    Parameters
    ----------
    y, scores : array of shape (n,)
        Binary labels and scores (both classes present).
    sensitivity : float
        Lowest acceptable true-positive rate, in [0, 1] (1.0: no positive may be missed).

    Returns
    -------
    OperatingPoint
        The highest threshold that still finds that share of the positives, with the
        specificity it leaves.

    Examples
    --------
    Finding the positive scored 0.35 also flags the negative scored 0.4:

    >>> from brim.evaluate import specificity_at_sensitivity
    >>> specificity_at_sensitivity([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], sensitivity=1.0)
    OperatingPoint(threshold=0.35, sensitivity=1.0, specificity=0.5)
    """
    return _best_operating_point(y, scores, "sensitivity", sensitivity)


@positional_options
def choose_threshold(y: ArrayLike, scores: ArrayLike, *, rule: str | float = "youden") -> float:
    """A decision threshold from (validation) data by a rule fixed in advance.

    Parameters
    ----------
    y, scores : array of shape (n,)
        Binary labels and scores of the data the threshold is chosen on (validation data,
        never the test fold).
    rule : str or float
        ``"youden"`` (maximise sensitivity + specificity - 1), ``"spec@0.90"`` (best sensitivity
        with specificity >= 0.90), ``"sens@0.90"`` (best specificity with sensitivity >= 0.90), or a
        number used as the threshold itself (e.g. 0.5 for probabilities).

    Returns
    -------
    float
        The threshold (predict positive for score >= threshold): halfway between the chosen
        score and the next lower distinct score, so the decisions on ``scores`` are the ones
        the rule chose.

    Examples
    --------
    >>> from brim.evaluate import choose_threshold
    >>> round(choose_threshold([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], rule="youden"), 6)
    0.45
    """
    if isinstance(rule, int | float) and not isinstance(rule, bool):
        return float(rule)
    if not isinstance(rule, str):
        raise ConfigError(f"threshold rule must be a string or a number, got {rule!r}")
    if rule == "youden":
        thr, sens, spec = _operating_points(y, scores)
        j = sens + spec - 1.0
        i = int(np.argmax(j[1:])) + 1  # skip the +inf point (predict nothing positive)
        return _midpoint(thr, i)
    for prefix, fn, option in (
        ("spec@", sensitivity_at_specificity, "specificity"),
        ("sens@", specificity_at_sensitivity, "sensitivity"),
    ):
        if rule.startswith(prefix):
            try:
                target = float(rule[len(prefix) :])
            except ValueError:
                break
            t = fn(y, scores, **{option: target}).threshold
            thr = roc_curve(y, scores).thresholds
            return _midpoint(thr, int(np.nonzero(thr == t)[0][0]))
    raise ConfigError(
        f"unknown threshold rule {rule!r}; use 'youden', 'spec@0.90', 'sens@0.90' or a number"
    )


def _midpoint(thr, i):
    """Threshold halfway between distinct score ``thr[i]`` and the next lower one: the same
    decisions on the data it was chosen on, less sensitive to where new scores fall."""
    if np.isinf(thr[i]):  # only "all negative" meets the target
        return float(thr[1] + 1e-9 * max(1.0, abs(thr[1])))
    if i + 1 < thr.size:
        return float(0.5 * (thr[i] + thr[i + 1]))
    return float(thr[i])


def confusion_matrix(y: ArrayLike, predicted: ArrayLike) -> np.ndarray:
    """2x2 confusion matrix ``[[TN, FP], [FN, TP]]`` (rows: true class 0/1; columns: predicted).

    Parameters
    ----------
    y : array of shape (n,)
        True binary labels 0/1.
    predicted : array of shape (n,)
        Binary decisions 0/1.

    Returns
    -------
    ndarray of shape (2, 2)
        Integer counts ``[[TN, FP], [FN, TP]]``.

    Examples
    --------
    >>> from brim.evaluate import confusion_matrix
    >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1]).tolist()
    [[1, 1], [0, 2]]
    """
    y = _binary(y)
    p = _binary(predicted, "predicted")
    if p.size != y.size:
        raise ConfigError("y and predicted must have the same length")
    m = np.zeros((2, 2), dtype=np.int64)
    np.add.at(m, (y, p), 1)
    return m


def balanced_accuracy(y: ArrayLike, predicted: ArrayLike) -> float:
    """(sensitivity + specificity) / 2 of binary decisions.

    Parameters
    ----------
    y : array of shape (n,)
        True binary labels 0/1; a class absent from ``y`` contributes a rate of 0.
    predicted : array of shape (n,)
        Binary decisions 0/1, e.g. ``scores >= threshold``.

    Returns
    -------
    float
        In [0, 1]; 0.5 for decisions that ignore the input.

    Examples
    --------
    >>> from brim.evaluate import balanced_accuracy
    >>> balanced_accuracy([0, 0, 1, 1], [0, 1, 1, 1])
    0.75
    """
    m = confusion_matrix(y, predicted)
    sens = m[1, 1] / max(m[1].sum(), 1)
    spec = m[0, 0] / max(m[0].sum(), 1)
    return float((sens + spec) / 2.0)


@dataclass(frozen=True)
class PredictiveValues:
    """PPV and NPV implied by a sensitivity/specificity at a stated prevalence (Bayes' rule).

    Attributes
    ----------
    ppv, npv : float
        Positive and negative predictive values (NaN when undefined).
    prevalence : float
        The prevalence they are stated at.
    sensitivity, specificity : float
        The operating point they were computed from.
    """

    ppv: float
    npv: float
    prevalence: float
    sensitivity: float
    specificity: float

    def to_dict(self) -> dict:
        """Every field as a plain dict.

        Returns
        -------
        dict
            ``ppv``, ``npv``, ``prevalence``, ``sensitivity``, ``specificity``.

        Examples
        --------
        >>> from brim.evaluate import predictive_values
        >>> d = predictive_values(0.9, 0.9, 0.5).to_dict()
        >>> sorted(d)
        ['npv', 'ppv', 'prevalence', 'sensitivity', 'specificity']
        >>> round(d["ppv"], 3)
        0.9
        """
        return asdict(self)


def predictive_values(
    sensitivity: float, specificity: float, prevalence: float
) -> PredictiveValues:
    """PPV = se p / (se p + (1-sp)(1-p)); NPV = sp (1-p) / (sp (1-p) + (1-se) p).

    The prevalence must be stated: a study's case mix (often ~50 %) is not the screening
    population's (below 1 %), and PPV depends strongly on it.

    Parameters
    ----------
    sensitivity, specificity : float
        The operating point, in [0, 1].
    prevalence : float
        Prevalence of the condition in the population the numbers are for, in (0, 1).

    Returns
    -------
    PredictiveValues
        PPV and NPV with the numbers they were computed from.

    Examples
    --------
    A good test in a screening population: most positives are false.

    >>> from brim.evaluate import predictive_values
    >>> pv = predictive_values(0.9, 0.9, 0.01)
    >>> round(pv.ppv, 3), round(pv.npv, 4)
    (0.083, 0.9989)
    """
    if not 0 < prevalence < 1:
        raise ConfigError(f"prevalence must be in (0, 1), got {prevalence}")
    for name, v in (("sensitivity", sensitivity), ("specificity", specificity)):
        if not 0 <= v <= 1:
            raise ConfigError(f"{name} must be a fraction in [0, 1], got {v}")
    se, sp, p = float(sensitivity), float(specificity), float(prevalence)
    dp = se * p + (1 - sp) * (1 - p)
    dn = sp * (1 - p) + (1 - se) * p
    ppv = se * p / dp if dp > 0 else float("nan")
    npv = sp * (1 - p) / dn if dn > 0 else float("nan")
    return PredictiveValues(ppv, npv, p, se, sp)


def _probabilities(p, n):
    p = _scores(p, n, "probabilities")
    if n == 0:
        raise ConfigError("no samples: y and probabilities are empty")
    if p.min() < 0 or p.max() > 1:
        raise ConfigError(
            "Brier score and calibration need probabilities in [0, 1]; got scores in "
            f"[{p.min():.3g}, {p.max():.3g}] (apply a sigmoid, or skip calibration metrics)"
        )
    return p


def brier_score(y: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean squared difference between predicted probability and outcome (0 is perfect).

    Parameters
    ----------
    y : array of shape (n,)
        Observed outcomes 0/1, the events the probabilities forecast.
    probabilities : array of shape (n,)
        Predicted probabilities of class 1, in [0, 1].

    Returns
    -------
    float
        In [0, 1]; 0.25 for a constant prediction of 0.5.

    Examples
    --------
    >>> from brim.evaluate import brier_score
    >>> brier_score([0, 1], [0.5, 0.5])
    0.25
    """
    y = _binary(y)
    p = _probabilities(probabilities, y.size)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class CalibrationCurve:
    """Reliability diagram data: per bin the mean predicted probability, observed fraction of
    positives and sample count (empty bins are dropped).

    Attributes
    ----------
    mean_predicted : ndarray of shape (k,)
        Mean predicted probability of the samples in each non-empty bin.
    observed : ndarray of shape (k,)
        Fraction of positives among them.
    counts : ndarray of shape (k,)
        Number of samples in each bin.
    """

    mean_predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    edges: np.ndarray


def calibration_curve(
    y: ArrayLike, probabilities: ArrayLike, *, n_bins: int = 10
) -> CalibrationCurve:
    """Calibration curve with ``n_bins`` equal-width bins on [0, 1].

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels 0/1.
    probabilities : array of shape (n,)
        Predicted probabilities of class 1, in [0, 1]; a probability of exactly 1 falls in the
        last bin.
    n_bins : int
        Number of equal-width bins.

    Returns
    -------
    CalibrationCurve
        Per non-empty bin: mean predicted probability, observed positive fraction, count.

    Examples
    --------
    >>> from brim.evaluate import calibration_curve
    >>> c = calibration_curve([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> c.observed.tolist(), c.counts.tolist()
    ([0.0, 1.0], [2, 2])
    """
    y = _binary(y)
    p = _probabilities(probabilities, y.size)
    n_bins = check_positive("n_bins", n_bins, integer=True)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(b, minlength=n_bins)
    sum_p = np.bincount(b, weights=p, minlength=n_bins)
    sum_y = np.bincount(b, weights=y, minlength=n_bins)
    keep = counts > 0
    return CalibrationCurve(
        mean_predicted=sum_p[keep] / counts[keep],
        observed=sum_y[keep] / counts[keep],
        counts=counts[keep],
        edges=edges,
    )


def class_counts(y: ArrayLike) -> dict[str, int]:
    """Number of negative and positive samples: ``{"negative": n0, "positive": n1}``.

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels 0/1.

    Returns
    -------
    dict of str to int
        ``negative`` and ``positive`` counts.

    Examples
    --------
    >>> from brim.evaluate import class_counts
    >>> class_counts([0, 1, 1])
    {'negative': 1, 'positive': 2}
    """
    y = _binary(y)
    return {"negative": int((y == 0).sum()), "positive": int((y == 1).sum())}


# ----------------------------------------------------------------------------- segmentation


def _masks(pred, ref):
    a = np.asarray(pred).astype(bool)
    b = np.asarray(ref).astype(bool)
    if a.shape != b.shape:
        raise ConfigError(f"prediction {a.shape} and reference {b.shape} masks differ in shape")
    return a, b


def dice(pred: ArrayLike, ref: ArrayLike) -> float:
    """Dice coefficient ``2 |A and B| / (|A| + |B|)``; 1.0 when both masks are empty.

    Parameters
    ----------
    pred, ref : array
        Predicted and reference masks of the same shape (any dimension); nonzero is inside.

    Returns
    -------
    float
        In [0, 1]: 1 for identical masks, 0 for disjoint ones.

    Examples
    --------
    >>> from brim.evaluate import dice
    >>> dice([[1, 1, 0, 0]], [[0, 1, 1, 0]])
    0.5
    """
    a, b = _masks(pred, ref)
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else float(2.0 * np.logical_and(a, b).sum() / s)


def iou(pred: ArrayLike, ref: ArrayLike) -> float:
    """Intersection over union ``|A and B| / |A or B|``; 1.0 when both masks are empty.

    Parameters
    ----------
    pred, ref : array
        Binary masks of the same shape (any dimension).

    Returns
    -------
    float
        In [0, 1]; equal to Dice / (2 - Dice).

    Examples
    --------
    >>> from brim.evaluate import iou
    >>> round(iou([[1, 1, 0, 0]], [[0, 1, 1, 0]]), 4)
    0.3333
    """
    a, b = _masks(pred, ref)
    u = np.logical_or(a, b).sum()
    return 1.0 if u == 0 else float(np.logical_and(a, b).sum() / u)


def _surface(m):
    if not m.any():
        return m
    er = ndimage.binary_erosion(m, structure=ndimage.generate_binary_structure(m.ndim, 1))
    return m & ~er


def hd95(
    pred: ArrayLike, ref: ArrayLike, *, spacing: Sequence[float] | float | None = None
) -> float:
    """95th percentile symmetric Hausdorff distance between mask surfaces.

    Surface voxels are the mask voxels removed by one erosion (face connectivity). The directed
    distances from each surface voxel of A to the nearest surface voxel of B, and of B to A, are
    pooled and their 95th percentile (linear interpolation) is returned.

    Parameters
    ----------
    pred, ref : array
        Binary masks of the same shape (2-D or 3-D).
    spacing : float or sequence of float, optional
        Voxel size along each axis in physical units (e.g. m); default 1 (result in voxels).

    Returns
    -------
    float
        In the units of ``spacing``; 0.0 when both masks are empty, NaN when only one is.

    Examples
    --------
    Two squares one pixel apart, on a 0.5 mm grid:

    >>> import numpy as np
    >>> from brim.evaluate import hd95
    >>> a = np.zeros((10, 10), bool)
    >>> b = a.copy()
    >>> a[2:6, 2:6] = True
    >>> b[3:7, 2:6] = True
    >>> hd95(a, b), hd95(a, b, spacing=0.5e-3)
    (1.0, 0.0005)
    """
    a, b = _masks(pred, ref)
    if not a.any() and not b.any():
        return 0.0
    if not a.any() or not b.any():
        return float("nan")
    sa, sb = _surface(a), _surface(b)
    samp = None if spacing is None else np.broadcast_to(np.asarray(spacing, float), (a.ndim,))
    dist_to_b = ndimage.distance_transform_edt(~sb, sampling=samp)
    dist_to_a = ndimage.distance_transform_edt(~sa, sampling=samp)
    d = np.concatenate([dist_to_b[sa], dist_to_a[sb]])
    return float(np.percentile(d, 95))


def segmentation_metrics(
    pred: ArrayLike,
    ref: ArrayLike,
    *,
    spacing: Sequence[float] | float | None = None,
    case_ids: Sequence[Any] | None = None,
) -> xr.Dataset:
    """Dice, IoU and HD95 for each case of a stack of masks.

    Parameters
    ----------
    pred, ref : array of shape (case, ...)
        Binary masks, first axis = case.
    spacing : float or sequence, optional
        Voxel size (see :func:`hd95`).
    case_ids : sequence, optional
        Labels of the cases (coordinate ``case``).

    Returns
    -------
    xarray.Dataset
        Variables ``dice``, ``iou``, ``hd95`` on dim ``case``.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import segmentation_metrics
    >>> a = np.zeros((10, 10), bool)
    >>> b = a.copy()
    >>> a[2:6, 2:6] = True
    >>> b[3:7, 2:6] = True
    >>> segmentation_metrics(np.stack([a, a]), np.stack([b, a]))["dice"].values.tolist()
    [0.75, 1.0]
    """
    import xarray as xr

    a, b = _masks(pred, ref)
    n = a.shape[0]
    vals = np.array(
        [[dice(a[i], b[i]), iou(a[i], b[i]), hd95(a[i], b[i], spacing=spacing)] for i in range(n)]
    ).reshape(n, 3)
    coords = {"case": np.asarray(case_ids) if case_ids is not None else np.arange(n)}
    units = "1" if spacing is None else "spacing units"
    return xr.Dataset(
        {
            "dice": ("case", vals[:, 0], {"units": "1"}),
            "iou": ("case", vals[:, 1], {"units": "1"}),
            "hd95": ("case", vals[:, 2], {"units": "voxel" if spacing is None else units}),
        },
        coords=coords,
    )
