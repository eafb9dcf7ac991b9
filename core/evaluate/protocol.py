"""Deprecated module path: the evaluation protocol now lives in one module per concept.

``brim.evaluate.protocol`` was split into :mod:`brim.evaluate.crossval` (grouped
cross-validation, per-group aggregation, :func:`~brim.evaluate.take`),
:mod:`brim.evaluate.logistic` (the logistic-regression baseline) and
:mod:`brim.evaluate.confounds` (the confound audit and the label-permutation run). Import the
names from :mod:`brim.evaluate`; this path keeps working for one release with a
``DeprecationWarning``.
"""

from __future__ import annotations

import importlib
import warnings

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


def __getattr__(name: str):
    if name in _MOVED:
        warnings.warn(
            f"brim.evaluate.protocol.{name} is deprecated; use brim.evaluate.{name} "
            f"(defined in {_MOVED[name]})",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'brim.evaluate.protocol' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_MOVED)
