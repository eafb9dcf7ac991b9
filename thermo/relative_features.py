"""Deprecated module path: the relative features moved to :mod:`brim.thermo.body_relative`.

A module never has the name of a public function of its package (docs/conventions.md):
importing this one used to rebind ``brim.thermo.relative_features`` from the function to the
module. Import ``relative_features`` from :mod:`brim.thermo` instead. An attribute of this
module still resolves, with a :class:`DeprecationWarning`; it is removed in the next release.
"""

from __future__ import annotations

from brim.deprecation import moved_names

__getattr__ = moved_names(
    "brim.thermo.relative_features",
    {
        "relative_features": "brim.thermo.body_relative",
        "RELATIVE_FEATURE_UNITS": "brim.thermo.body_relative",
    },
    message="{old} is deprecated and will be removed in the next release; import {name} from "
    "brim.thermo (or {module})",
)
