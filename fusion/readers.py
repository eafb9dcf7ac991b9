"""Deprecated module: its names moved to one module per concept (removed in the next release).

- :mod:`brim.fusion.measurement`: ``read_measurement``, ``measurement_from_arrays``,
  ``write_measurement_csv``, ``positions_to_m``;
- :mod:`brim.fusion.extinction`: ``read_extinction``, ``extinction_at``,
  ``write_extinction_subset``, ``DEFAULT_EXTINCTION``;
- :mod:`brim.fusion.public_data`: ``read_dot_filtering``, ``read_dot_pat_map``,
  ``read_dot_pat_patient``, ``read_busi``, ``busi_pairs``, ``image_hash``.

Import them from :mod:`brim.fusion` (``from brim.fusion import read_measurement``). An attribute
of this module still resolves, with a :class:`DeprecationWarning` that names the new module.
"""

from __future__ import annotations

from brim.deprecation import moved_names
from brim.fusion import _EXPORTS

# the names brim.fusion exports from the three modules, plus DEFAULT_EXTINCTION (not exported)
_MOVED = {
    name: f"brim.fusion.{module}"
    for name, module in _EXPORTS.items()
    if module in ("measurement", "extinction", "public_data")
}
_MOVED["DEFAULT_EXTINCTION"] = "brim.fusion.extinction"

__getattr__ = moved_names(
    "brim.fusion.readers",
    _MOVED,
    message="{old} is deprecated and will be removed in the next release; import {name} from "
    "brim.fusion (defined in {module})",
)
