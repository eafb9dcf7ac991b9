"""Deprecated module path: the evaluation protocol now lives in one module per concept.

``brim.evaluate.protocol`` was split into :mod:`brim.evaluate.crossval` (grouped
cross-validation, per-group aggregation, :func:`~brim.evaluate.take`),
:mod:`brim.evaluate.logistic` (the logistic-regression baseline) and
:mod:`brim.evaluate.confounds` (the confound audit and the label-permutation run). Import the
names from :mod:`brim.evaluate`; this path keeps working for one release with a
``DeprecationWarning``.
"""

from __future__ import annotations

from brim.deprecation import moved_names

_MOVED = {
    "CVResult": "brim.evaluate.crossval",
    "FoldResult": "brim.evaluate.crossval",
    "PooledResult": "brim.evaluate.crossval",
    "aggregate_by_group": "brim.evaluate.crossval",
    "cross_validate": "brim.evaluate.crossval",
    "take": "brim.evaluate.crossval",
    "LogisticModel": "brim.evaluate.logistic",
    "logistic_fit": "brim.evaluate.logistic",
    "logistic_fit_predict": "brim.evaluate.logistic",
    "ConfoundAudit": "brim.evaluate.confounds",
    "confound_audit": "brim.evaluate.confounds",
    "permute_labels_by_group": "brim.evaluate.confounds",
}

__all__: list[str] = []


__getattr__ = moved_names(
    "brim.evaluate.protocol",
    _MOVED,
    message="{old}.{name} is deprecated; use brim.evaluate.{name} (defined in {module})",
)


def __dir__() -> list[str]:
    return sorted(_MOVED)
