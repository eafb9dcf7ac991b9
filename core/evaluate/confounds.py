"""The confound audit: nuisance-only baselines and a label-permutation run, scored with the
classifier's own grouped protocol.

References
----------
Ojala M, Garriga GC (2010). Permutation tests for studying classifier performance. JMLR 11:1833.
Zech JR et al. (2018). Variable generalization performance of a deep learning model to detect
pneumonia in chest radiographs: a cross-sectional study. PLoS Med 15:e1002683 (confounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from brim.errors import ConfigError
from brim.evaluate import metrics as M
from brim.evaluate.crossval import CVResult, FitPredict, _jsonable, cross_validate
from brim.evaluate.logistic import logistic_fit_predict
from brim.evaluate.splits import group_labels
from brim.evaluate.strata import StratifiedAUROC, strata_from_values, stratified_auroc

__all__ = ["ConfoundAudit", "confound_audit", "permute_labels_by_group"]


def permute_labels_by_group(y: ArrayLike, groups: ArrayLike, *, seed: int = 0) -> np.ndarray:
    """Labels shuffled at group level: the group labels are permuted among groups and given back to
    each group's samples (the grouping structure is kept, the signal destroyed).

    Parameters
    ----------
    y : array of shape (n,)
        Per-sample labels (a group's label is the maximum of its samples').
    groups : array of shape (n,)
        Group (patient) id of each sample.
    seed : int
        Seed of the permutation.

    Returns
    -------
    ndarray of shape (n,)
        The permuted labels, constant within each group.

    References
    ----------
    Ojala M, Garriga GC (2010). Permutation tests for studying classifier performance. JMLR
    11:1833-1863.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import permute_labels_by_group
    >>> groups = np.repeat(np.arange(6), 2)
    >>> yp = permute_labels_by_group(np.repeat([0, 1, 0, 1, 0, 1], 2), groups, seed=1)
    >>> int(yp.sum()), bool(np.all(yp[::2] == yp[1::2]))
    (6, True)
    """
    uniq, gl, inv = group_labels(groups, y)
    rng = np.random.default_rng(seed)
    return gl[rng.permutation(uniq.size)][inv]


@dataclass
class ConfoundAudit:
    """Nuisance-only baselines and a label-permutation run, scored with the classifier's protocol.

    Attributes
    ----------
    rows : list of dict
        One per nuisance: ``name``, ``auroc``, ``low``, ``high``, ``flagged`` (AUROC > threshold).
    permutation : dict or None
        ``auroc``, ``low``, ``high``, ``ok`` (near 0.5: within the tolerance or inside the CI).
    flag_auroc : float
    strata : dict of str -> dict of str -> StratifiedAUROC or None
        Per nuisance, per scored run (each model of ``models``, then each nuisance baseline
        ``nuisance: <name>``), the out-of-fold AUROC inside each stratum of that nuisance, the
        pooled within-stratum AUROC and the overall AUROC, with CIs; None where no stratum of
        the nuisance holds both classes. Empty unless :func:`confound_audit` was given
        ``models``.

    Examples
    --------
    An audit as :func:`confound_audit` returns it, built by hand: acquisition order predicts
    the label, a noise column does not.

    >>> from brim.evaluate import ConfoundAudit
    >>> audit = ConfoundAudit(
    ...     rows=[
    ...         {"name": "order", "auroc": 0.9, "low": 0.8, "high": 1.0, "flagged": True},
    ...         {"name": "noise", "auroc": 0.5, "low": 0.3, "high": 0.7, "flagged": False},
    ...     ],
    ...     permutation=None,
    ...     flag_auroc=0.7,
    ... )
    >>> audit.flagged
    ['order']
    >>> d = audit.to_dict()
    >>> sorted(d), d["flag_auroc"], d["rows"][0]["name"]
    (['flag_auroc', 'permutation', 'rows'], 0.7, 'order')
    """

    rows: list[dict]
    permutation: dict | None
    flag_auroc: float
    results: dict = field(default_factory=dict, repr=False)
    strata: dict = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        """Names of the nuisances whose baseline AUROC exceeds ``flag_auroc``.

        Returns
        -------
        list of str
            In the order of ``rows`` (see the class example).
        """
        return [r["name"] for r in self.rows if r["flagged"]]

    def to_dict(self) -> dict:
        """The audit as plain JSON-serialisable Python objects.

        Returns
        -------
        dict
            ``flag_auroc``, ``rows`` and ``permutation`` (the per-run CVResults are left out;
            see the class example).
        """
        out = {"flag_auroc": self.flag_auroc, "rows": self.rows, "permutation": self.permutation}
        if self.strata:
            out["strata"] = {
                nu: {k: (None if r is None else r.to_dict()) for k, r in runs.items()}
                for nu, runs in self.strata.items()
            }
        return _jsonable(out)

    def stratified_table(self) -> str:
        """Text table of every model and nuisance baseline, overall and inside each stratum.

        One block per nuisance: a row per scored run with its overall AUROC, its AUROC inside
        each stratum of the nuisance and the pooled within-stratum AUROC, each with its 95 %
        CI. A model whose within-stratum AUROC falls to the level of the nuisance baselines
        (about 0.5) learnt the nuisance, not the disease.

        Returns
        -------
        str
            The table ("" when the audit has no stratified scores).

        Examples
        --------
        >>> import numpy as np
        >>> from brim.evaluate import confound_audit, logistic_fit_predict
        >>> rng = np.random.default_rng(0)
        >>> y = np.repeat([0, 1], 30)
        >>> x = y + rng.normal(0, 0.7, 60)
        >>> audit = confound_audit(
        ...     {"order": np.arange(60)}, y, np.arange(60), n_splits=3, n_bootstrap=50,
        ...     permutation=False, models={"signal": (logistic_fit_predict, x[:, None])},
        ... )
        >>> print(audit.stratified_table().splitlines()[0])
        AUROC [95 % CI] within strata of order:
        """
        lines: list[str] = []
        for nu, runs in self.strata.items():
            valid = [r for r in runs.values() if r is not None]
            if not valid:
                lines += [f"AUROC within strata of {nu}: no stratum holds both classes", ""]
                continue
            names = list(valid[0].strata)
            width = max(len(k) for k in runs) + 2
            lines.append(f"AUROC [95 % CI] within strata of {nu}:")
            head = f"  {'':<{width}}{'overall':<20}" + "".join(f"{n:<20}" for n in names)
            lines.append(head + "within (pooled)")
            for name, r in runs.items():
                if r is None:
                    continue
                cells = [_cell(r.overall), *(_cell(r.strata[n]) for n in names), _cell(r.within)]
                lines.append(f"  {name:<{width}}" + "".join(f"{c:<20}" for c in cells).rstrip())
            lines.append("")
        return "\n".join(lines).rstrip("\n")


def _cell(r) -> str:
    """``0.71 [0.55, 0.86]``, or ``-`` for a stratum with one class."""
    return "-" if r is None else f"{r.auroc:.2f} [{r.low:.2f}, {r.high:.2f}]"


def _nuisance_features(name, values, n) -> np.ndarray:
    """A nuisance as an (n, k) float array; text / categorical values are one-hot encoded."""
    v = np.asarray(values)
    if v.shape[:1] != (n,):
        raise ConfigError(f"nuisance {name!r} has {v.shape[0] if v.ndim else 0} values for {n}")
    if v.dtype.kind in "biuf":
        f = v.astype(np.float64).reshape(n, -1)
        if not np.all(np.isfinite(f)):
            raise ConfigError(f"nuisance {name!r} contains NaN or infinite values")
        return f
    if v.ndim != 1:
        raise ConfigError(f"categorical nuisance {name!r} must be 1-D")
    cats = np.unique(v.astype(str))
    return (v.astype(str)[:, None] == cats[None]).astype(np.float64)


def confound_audit(
    nuisance: Mapping[str, Any],
    y: ArrayLike,
    groups: ArrayLike,
    *,
    model: FitPredict | None = None,
    X: Any = None,
    flag_auroc: float = 0.70,
    permutation: bool = True,
    permutation_tolerance: float = 0.15,
    models: Mapping[str, tuple[FitPredict, Any]] | None = None,
    n_strata: int = 3,
    seed: int = 0,
    **cv_kwargs,
) -> ConfoundAudit:
    """Score nuisance-only baselines with the same grouped protocol and flag the strong ones.

    Each nuisance (e.g. patient-id order, acquisition date, file format as 0/1, image median
    temperature) is fed alone to :func:`logistic_fit_predict` under :func:`cross_validate` with the
    same ``cv_kwargs`` (folds, aggregation, seed) as the classifier. A nuisance with AUROC above
    ``flag_auroc`` means the labels can be predicted without looking at the pathology: the
    classifier's score may owe to it.

    A label-permutation run (group-level shuffle) is also made: with ``model`` and ``X`` it uses
    the real classifier, otherwise the logistic baseline on all nuisances together. Its AUROC must
    land near 0.5; ``ok`` is False when it lies more than ``permutation_tolerance`` away *and*
    its confidence interval excludes 0.5, which points at leakage in the pipeline.

    With ``models``, each model is cross-validated with the same folds, and every run (models
    and nuisance baselines) is also scored *inside the strata of each nuisance*
    (:func:`brim.evaluate.strata.stratified_auroc` on the out-of-fold scores; a numeric
    nuisance is cut into ``n_strata`` quantile bins): per-stratum and pooled within-stratum
    AUROC with CIs, in :attr:`ConfoundAudit.strata` and :meth:`ConfoundAudit.stratified_table`.
    A classifier that owes its score to a nuisance drops to about 0.5 inside that nuisance's
    strata (Janes & Pepe 2008).

    Parameters
    ----------
    nuisance : mapping of name -> array of shape (n,) or (n, k)
        Per-sample nuisance values; text values (camera model, file format) are one-hot
        encoded.
    y, groups : array of shape (n,)
    model, X : optional
        The classifier's ``fit_predict`` and inputs for the permutation run.
    flag_auroc : float
        Flag threshold (0.70 by default).
    permutation : bool
        Run the label-permutation check.
    permutation_tolerance : float
        Allowed distance of the permutation AUROC from 0.5 (see above).
    models : mapping of name -> (fit_predict, X), optional
        Classifiers to score overall and inside the strata of every 1-D nuisance.
    n_strata : int
        Quantile bins of a numeric nuisance with more than ``n_strata`` distinct values (see
        :func:`brim.evaluate.strata.strata_from_values`).
    seed : int
        Seed of every cross-validation and of the label permutation.
    **cv_kwargs
        Passed to :func:`cross_validate` (``n_splits``, ``aggregate``, ``threshold_rule``...).

    Returns
    -------
    ConfoundAudit
        One row per nuisance (AUROC, CI, flagged), the permutation run, every run's
        :class:`CVResult` in ``results`` (models under their own names) and, with ``models``,
        the stratified scores in ``strata``.

    Examples
    --------
    Acquisition order that tracks the label is flagged; a random nuisance is not:

    >>> import numpy as np
    >>> from brim.evaluate import confound_audit
    >>> groups = np.arange(40)
    >>> y = np.repeat([0, 1], 20)
    >>> audit = confound_audit(
    ...     {"order": np.arange(40), "noise": np.random.default_rng(0).normal(size=40)},
    ...     y, groups, n_splits=4, n_bootstrap=100, permutation=False,
    ... )
    >>> audit.flagged
    ['order']
    """
    y = M._binary(y, "labels")
    if y.size == 0:
        raise ConfigError("labels are empty: no samples to audit")
    if not hasattr(nuisance, "items"):
        raise ConfigError(
            f"nuisance must map a name to each nuisance variable, e.g. {{'camera': values}}, "
            f"not {type(nuisance).__name__}"
        )
    raw = {name: np.asarray(v) for name, v in nuisance.items()}
    cv_kwargs = dict(cv_kwargs)
    cv_kwargs.setdefault("n_bootstrap", 500)
    cv_kwargs["seed"] = seed
    rows, results = [], {}
    nuisance = {name: _nuisance_features(name, v, y.size) for name, v in nuisance.items()}

    def baseline(x, labels, name):
        """The logistic baseline on features ``x`` under the classifier's protocol."""
        return cross_validate(
            logistic_fit_predict, x, labels, groups, name=name, check_inputs=False, **cv_kwargs
        )

    for name, f in nuisance.items():
        res = baseline(f, y, f"nuisance: {name}")
        a = res.pooled.auroc
        # a nuisance may be inversely related: flag on max(AUROC, 1 - AUROC) would hide nothing
        # as the logistic fit learns the sign on training folds; report as is.
        rows.append(
            {
                "name": str(name),
                "auroc": a.auroc,
                "low": a.low,
                "high": a.high,
                "flagged": bool(a.auroc > flag_auroc),
            }
        )
        results[name] = res
    perm_info = None
    y_perm = permute_labels_by_group(y, groups, seed=seed + 7)
    perm_res: CVResult | None
    if not permutation:
        perm_res = None
    elif model is not None and X is not None:
        perm_res = cross_validate(model, X, y_perm, groups, name="label permutation", **cv_kwargs)
    elif nuisance:
        allf = np.concatenate(list(nuisance.values()), axis=1)
        perm_res = baseline(allf, y_perm, "label permutation")
    else:
        perm_res = None
    if perm_res is not None:
        a = perm_res.pooled.auroc
        perm_info = {
            "model": "classifier" if model is not None else "logistic on all nuisances",
            "auroc": a.auroc,
            "low": a.low,
            "high": a.high,
            "ok": bool(abs(a.auroc - 0.5) <= permutation_tolerance or a.low <= 0.5 <= a.high),
            "tolerance": permutation_tolerance,
        }
        results["__permutation__"] = perm_res
    strata: dict[str, dict[str, StratifiedAUROC | None]] = {}
    if models:
        runs = {}
        for name, (fit_predict, X_m) in models.items():
            results[name] = cross_validate(fit_predict, X_m, y, groups, name=name, **cv_kwargs)
            runs[name] = results[name]
        runs.update({f"nuisance: {k}": results[k] for k in nuisance})
        strata = _stratified(raw, runs, y, np.asarray(groups), n_strata, cv_kwargs)
    return ConfoundAudit(rows, perm_info, flag_auroc, results, strata)


def _stratified(raw, runs, y, groups, n_strata, cv_kwargs) -> dict:
    """Per 1-D nuisance, the stratified AUROC of every run's out-of-fold scores."""
    out: dict[str, dict[str, StratifiedAUROC | None]] = {}
    scores = {}
    for name, res in runs.items():
        sc = res.sample_scores.sortby("index")
        scores[name] = (sc["index"].values, sc["score"].values)
    for nu, v in raw.items():
        if v.ndim != 1 or (v.dtype.kind in "f" and not np.all(np.isfinite(v))):
            continue
        st = strata_from_values(v, n_strata=n_strata)
        out[nu] = {}
        for name, (idx, s) in scores.items():
            try:
                out[nu][name] = stratified_auroc(
                    y[idx],
                    s,
                    st[idx],
                    groups=groups[idx],
                    n_bootstrap=cv_kwargs["n_bootstrap"],
                    seed=cv_kwargs["seed"],
                )
            except ConfigError:  # no stratum of this nuisance holds both classes
                out[nu][name] = None
    return out
