"""Evaluation inside strata of a nuisance variable: is the score about the disease or the period?

A classifier can reach a high AUROC on a cohort where the classes were acquired at different
times, in different rooms or with different file formats by learning *when and how* an image
was made. Comparing cases only with controls from the same stratum of such a nuisance removes
that route (the "within-stratum" or stratified AUROC: the probability that a case scores above
a control *of the same stratum*; Hanley & McNeil 1982 for the AUROC as a pair probability,
Janes & Pepe 2008 for covariate-adjusted ROC analysis). This module gives

- :func:`strata_from_values`: strata from a categorical nuisance or from quantile bins of a
  numeric one (patient-id order, room temperature);
- :func:`stratified_auroc`: the AUROC inside each stratum and the pooled within-stratum AUROC,
  each with a group (patient) bootstrap confidence interval;
- :func:`matched_indices`: a case-control sample matched on the stratum (and, within it, on the
  nearest nuisance value), for a period-matched evaluation or training set;
- :func:`balancing_weights`: inverse-probability weights that make the label independent of the
  stratum in a training set (Hernán & Robins 2020, ch. 12).

References
----------
Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
characteristic (ROC) curve. Radiology 143(1):29-36.

Janes H, Pepe MS (2008). Adjusting for covariates in studies of diagnostic, screening, or
prognostic markers: an old concept in a new setting. Am J Epidemiol 168(1):89-97.

Hernán MA, Robins JM (2020). Causal Inference: What If. Chapman & Hall/CRC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from brim.deprecation import positional_options
from brim.errors import ConfigError
from brim.evaluate.metrics import (
    AUROCResult,
    _auroc_result,
    _binary,
    _cluster_bootstrap,
    _group_ids,
    _is_missing,
    _scores,
    auroc,
    auroc_ci,
)


def strata_from_values(values: ArrayLike, *, n_strata: int = 3) -> np.ndarray:
    """Stratum labels of a nuisance variable.

    Parameters
    ----------
    values : array of shape (n,)
        The nuisance per sample. Text, boolean or integer values with at most ``n_strata``
        distinct levels are used as they are; other numeric values (patient-id order, room
        temperature) are cut at their quantiles into ``n_strata`` bins of near-equal size.
    n_strata : int
        Number of quantile bins for a numeric nuisance (at least 2).

    Returns
    -------
    numpy.ndarray of str, shape (n,)
        One label per sample: the level itself, or the bin as ``"[low, high)"`` (the last bin
        closed).

    Raises
    ------
    ConfigError
        ``n_strata`` below 2, a non-1-D input or NaN in a numeric nuisance.

    Examples
    --------
    >>> from brim.evaluate.strata import strata_from_values
    >>> strata_from_values([1, 2, 3, 4, 5, 6], n_strata=2).tolist()
    ['[1, 3.5)', '[1, 3.5)', '[1, 3.5)', '[3.5, 6]', '[3.5, 6]', '[3.5, 6]']
    >>> strata_from_values(["txt", "csv", "txt"]).tolist()
    ['txt', 'csv', 'txt']
    """
    if int(n_strata) < 2:
        raise ConfigError(f"n_strata must be at least 2, got {n_strata}")
    v = np.asarray(values)
    if v.ndim != 1:
        raise ConfigError(f"a nuisance must be 1-D (one value per sample), got shape {v.shape}")
    if (v.dtype.kind == "f" and not np.all(np.isfinite(v))) or (
        v.dtype.kind == "O" and any(_is_missing(e) for e in v)
    ):
        raise ConfigError("the nuisance contains NaN or infinite values")
    if v.dtype.kind not in "iuf" or np.unique(v).size <= n_strata:
        return v.astype(str)
    x = v.astype(np.float64)
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, int(n_strata) + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    labels = [
        f"[{edges[i]:.4g}, {edges[i + 1]:.4g}{']' if i == edges.size - 2 else ')'}"
        for i in range(edges.size - 1)
    ]
    return np.asarray(labels)[idx]


@dataclass(frozen=True)
class StratifiedAUROC:
    """AUROC inside each stratum of a nuisance and pooled over strata.

    Attributes
    ----------
    strata : dict of str -> AUROCResult or None
        The AUROC (with group-bootstrap CI) inside each stratum; ``None`` where a stratum holds
        only one class and has no case-control pair.
    within : AUROCResult
        The pooled within-stratum AUROC: the fraction of (case, control) pairs *of the same
        stratum* in which the case scores higher (ties count one half), with its CI.
    overall : AUROCResult
        The ordinary AUROC over all samples, for comparison.
    n_pairs : dict of str -> int
        Case-control pairs per stratum (the weight of each stratum in ``within``).

    Examples
    --------
    Two periods with the same scores: every AUROC is the same, and each period holds 3 x 3
    case-control pairs.

    >>> import numpy as np
    >>> from brim.evaluate.strata import stratified_auroc
    >>> period = np.repeat(["early", "late"], 6)
    >>> y = np.tile([0, 1], 6)
    >>> score = np.tile([0.1, 0.9, 0.2, 0.8, 0.6, 0.4], 2)
    >>> res = stratified_auroc(y, score, period, n_bootstrap=50)
    >>> print(res.summary())  # doctest: +ELLIPSIS
    AUROC by stratum (95 % CI):
      early                   0.889  [...]     3 pos    3 neg       9 pairs
      late                    0.889  [...]     3 pos    3 neg       9 pairs
      within strata (pooled)  0.889  [...]     6 pos    6 neg      18 pairs
      overall (ignores strata)  0.889  [...]     6 pos    6 neg
    >>> d = res.to_dict()
    >>> sorted(d), d["n_pairs"]
    (['n_pairs', 'overall', 'strata', 'within'], {'early': 9, 'late': 9})
    >>> round(d["within"]["auroc"], 3)
    0.889
    """

    strata: dict[str, AUROCResult | None]
    within: AUROCResult
    overall: AUROCResult
    n_pairs: dict[str, int]

    def to_dict(self) -> dict:
        """A JSON-ready dictionary of every number.

        Returns
        -------
        dict
            ``strata`` (per stratum its AUROC record, None where a stratum holds one class),
            ``within`` (pooled within-stratum), ``overall`` and ``n_pairs`` (see the class
            example).
        """
        return {
            "strata": {k: (None if v is None else asdict(v)) for k, v in self.strata.items()},
            "within": asdict(self.within),
            "overall": asdict(self.overall),
            "n_pairs": dict(self.n_pairs),
        }

    def summary(self) -> str:
        """A small text table: one line per stratum, then the pooled and overall rows.

        Returns
        -------
        str
            One line per row, AUROC with its CI (the class example prints one).
        """

        def row(name, r, pairs):
            if r is None:
                return f"  {name:<22} {'-':>6}  (one class only)"
            return (
                f"  {name:<22} {r.auroc:6.3f}  [{r.low:.3f}, {r.high:.3f}]  "
                f"{r.n_pos:>4} pos {r.n_neg:>4} neg  {pairs:>6} pairs"
            )

        lines = ["AUROC by stratum (95 % CI):"]
        lines += [row(k, v, self.n_pairs[k]) for k, v in self.strata.items()]
        lines.append(row("within strata (pooled)", self.within, sum(self.n_pairs.values())))
        lines.append(row("overall (ignores strata)", self.overall, 0).rsplit("  ", 1)[0])
        return "\n".join(lines)


def _within_pairs(y, s, strata_idx, n_strata):
    """Concordant pairs (ties one half) and pair counts of each stratum."""
    conc = np.zeros(n_strata)
    pairs = np.zeros(n_strata)
    for k in range(n_strata):
        m = strata_idx == k
        yk, sk = y[m], s[m]
        n1 = int(yk.sum())
        n0 = yk.size - n1
        if n1 == 0 or n0 == 0:
            continue
        pairs[k] = n1 * n0
        conc[k] = auroc(yk, sk) * pairs[k]  # the AUROC is the concordant fraction of pairs
    return conc, pairs


@positional_options
def stratified_auroc(
    y: ArrayLike,
    scores: ArrayLike,
    strata: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> StratifiedAUROC:
    """AUROC within each stratum of a nuisance, pooled within-stratum AUROC, and overall AUROC.

    The pooled within-stratum AUROC compares every case only with the controls of its own
    stratum, so a score that only tells the strata apart (e.g. the acquisition period in a
    cohort whose cases and controls were imaged at different times) gets 0.5 however high its
    overall AUROC. Confidence intervals come from a cluster bootstrap over ``groups``
    (patients), the same resampling as :func:`brim.evaluate.auroc_ci`.

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels (1 = disease).
    scores : array of shape (n,)
        Classifier scores (higher = more likely disease).
    strata : array of shape (n,)
        Stratum of each sample (see :func:`strata_from_values` to bin a numeric nuisance).
    groups : array of shape (n,), optional
        Patient id of each sample; default: every sample its own group.
    n_bootstrap : int
        Bootstrap replicates for every CI.
    level : float
        Confidence level in (0, 1).
    seed : int
        Seed of the bootstrap generator.

    Returns
    -------
    StratifiedAUROC
        Per-stratum, pooled within-stratum and overall AUROC with CIs.

    Raises
    ------
    ConfigError
        Mismatched lengths, a single class overall, or no stratum holding both classes.

    Examples
    --------
    A score that only knows the period: high overall, chance within periods.

    >>> import numpy as np
    >>> from brim.evaluate.strata import stratified_auroc
    >>> period = np.repeat(["early", "late"], 50)
    >>> y = np.r_[np.zeros(40), np.ones(10), np.zeros(10), np.ones(40)].astype(int)
    >>> score = (period == "late").astype(float)
    >>> res = stratified_auroc(y, score, period, n_bootstrap=200)
    >>> round(res.overall.auroc, 2), round(res.within.auroc, 2)
    (0.8, 0.5)
    """
    y = _binary(y)
    s = _scores(scores, y.size)
    st = _group_ids(strata, y.size, "strata", "stratum", sortable=False)
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    names, st_idx = np.unique(st.astype(str), return_inverse=True)
    st_idx = st_idx.ravel()
    conc, pairs = _within_pairs(y, s, st_idx, names.size)
    if pairs.sum() == 0:
        raise ConfigError(
            "no stratum holds both classes: a within-stratum AUROC is undefined "
            "(use coarser strata)"
        )
    g = None if groups is None else _group_ids(groups, y.size)
    per: dict[str, AUROCResult | None] = {}
    for k, name in enumerate(names):
        m = st_idx == k
        if pairs[k] == 0:
            per[str(name)] = None
            continue
        per[str(name)] = auroc_ci(
            y[m],
            s[m],
            groups=None if g is None else g[m],
            n_bootstrap=n_bootstrap,
            level=level,
            seed=seed,
        )

    def replicate(idx):
        c, p = _within_pairs(y[idx], s[idx], st_idx[idx], names.size)
        return c.sum() / p.sum() if p.sum() > 0 else None

    reps, n_groups = _cluster_bootstrap(replicate, g, y.size, n_bootstrap=n_bootstrap, seed=seed)
    within = _auroc_result(
        conc.sum() / pairs.sum(),
        reps,
        y,
        n_groups=n_groups,
        level=level,
        n_bootstrap=n_bootstrap,
    )
    overall = auroc_ci(y, s, groups=g, n_bootstrap=n_bootstrap, level=level, seed=seed)
    return StratifiedAUROC(
        strata=per,
        within=within,
        overall=overall,
        n_pairs={str(n): int(p) for n, p in zip(names, pairs, strict=True)},
    )


def matched_indices(
    y: ArrayLike,
    strata: ArrayLike,
    *,
    nuisance: ArrayLike | None = None,
    controls_per_case: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Indices of a case-control sample matched on a stratum (and on a nuisance within it).

    Each case (``y == 1``) is matched, without replacement, to ``controls_per_case`` controls
    of its own stratum; with ``nuisance`` the controls nearest in that value are taken first
    (nearest-neighbour matching within calipers given by the strata), otherwise at random. Cases
    for which a stratum has too few controls left keep the controls that remain; cases with none
    are dropped. Evaluating (or training) on the matched sample removes the nuisance's
    association with the label by design.

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels.
    strata : array of shape (n,)
        Stratum of each sample (e.g. the acquisition period).
    nuisance : array of shape (n,), optional
        A numeric nuisance to match on within each stratum (e.g. patient-id order).
    controls_per_case : int
        Controls wanted per case (at least 1).
    seed : int
        Seed for the order in which cases choose and for random matching.

    Returns
    -------
    numpy.ndarray of int
        Sorted indices of the matched cases and controls.

    Raises
    ------
    ConfigError
        Mismatched lengths, ``controls_per_case`` below 1, a non-numeric or non-finite
        ``nuisance``, or no case with a control in its stratum.

    Examples
    --------
    >>> from brim.evaluate.strata import matched_indices
    >>> y = [1, 0, 0, 1, 0, 0, 0]
    >>> period = ["a", "a", "a", "b", "b", "b", "c"]
    >>> matched_indices(y, period, nuisance=[10, 11, 30, 50, 90, 52, 1]).tolist()
    [0, 1, 3, 5]
    """
    y = _binary(y)
    st = _group_ids(strata, y.size, "strata", "stratum", sortable=False).astype(str)
    if int(controls_per_case) < 1:
        raise ConfigError(f"controls_per_case must be at least 1, got {controls_per_case}")
    if nuisance is not None:
        nu = np.asarray(nuisance)
        if nu.shape != (y.size,) or nu.dtype.kind not in "biuf":
            raise ConfigError(f"nuisance must be numeric with shape ({y.size},)")
        nu = nu.astype(np.float64)
        if not np.all(np.isfinite(nu)):
            raise ConfigError("nuisance contains NaN or infinite values")
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for name in np.unique(st):
        cases = np.flatnonzero((st == name) & (y == 1))
        controls = list(np.flatnonzero((st == name) & (y == 0)))
        if not controls:
            continue
        for c in rng.permutation(cases):
            if not controls:
                break
            if nuisance is None:
                order = rng.permutation(len(controls))
            else:
                order = np.argsort(np.abs(nu[controls] - nu[c]), kind="stable")
            chosen = [controls[i] for i in order[: int(controls_per_case)]]
            keep.append(int(c))
            keep.extend(int(i) for i in chosen)
            controls = [i for i in controls if i not in chosen]
    if not keep:
        raise ConfigError("no case has a control in its stratum: nothing to match")
    return np.sort(np.asarray(keep, dtype=np.intp))


def balancing_weights(y: ArrayLike, strata: ArrayLike) -> np.ndarray:
    """Inverse-probability weights that make the label independent of the stratum.

    ``w_i = P(y = y_i) / P(y = y_i | stratum_i)``: in the weighted sample every stratum has the
    overall class balance, so a model trained with these sample weights cannot profit from
    the stratum (the acquisition period) to predict the label. Strata that hold a single class
    carry no information about the disease within the period and get weight 0.

    Parameters
    ----------
    y : array of shape (n,)
        Binary labels.
    strata : array of shape (n,)
        Stratum of each sample.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Non-negative weights, scaled to sum to ``n`` over the samples kept.

    Raises
    ------
    ConfigError
        Mismatched lengths or no stratum with both classes.

    Examples
    --------
    >>> from brim.evaluate.strata import balancing_weights
    >>> balancing_weights([1, 0, 0, 0, 1, 1, 1, 0], list("aaaabbbb")).round(2).tolist()
    [2.0, 0.67, 0.67, 0.67, 0.67, 0.67, 0.67, 2.0]
    """
    y = _binary(y)
    st = _group_ids(strata, y.size, "strata", "stratum", sortable=False).astype(str)
    w = np.zeros(y.size)
    mixed = np.zeros(y.size, dtype=bool)
    for name in np.unique(st):
        m = st == name
        if 0 < y[m].sum() < m.sum():
            mixed |= m
    if not mixed.any():
        raise ConfigError("no stratum holds both classes: balancing weights are undefined")
    p1 = y[mixed].mean()
    for name in np.unique(st[mixed]):
        m = mixed & (st == name)
        q1 = y[m].mean()
        w[m & (y == 1)] = p1 / q1
        w[m & (y == 0)] = (1 - p1) / (1 - q1)
    return w * (mixed.sum() / w.sum())
