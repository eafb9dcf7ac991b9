"""Old module paths of :mod:`brim.thermo` names that keep working for one release (issue 18).

:mod:`brim.thermo.bioheat` and :mod:`brim.thermo.phantom` were split into one module per
concept; each keeps a ``__getattr__`` from :func:`moved_names` that returns a moved name from its
new module with a :class:`DeprecationWarning` naming the new path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from brim import deprecation


def moved_names(old: str, moved: Mapping[str, str]) -> Callable[[str], object]:
    """The ``__getattr__`` of a module whose names ``moved`` to other brim.thermo modules.

    Parameters
    ----------
    old : str
        The module the names moved out of, e.g. ``"brim.thermo.bioheat"``.
    moved : mapping
        Moved name -> the ``brim.thermo`` submodule that defines it now (e.g. ``"pennes"``).

    Returns
    -------
    callable
        ``__getattr__(name)``: the object from its new module, with a DeprecationWarning; an
        AttributeError for a name that did not move (:func:`brim.deprecation.moved_names`).
    """
    return deprecation.moved_names(
        old,
        {name: f"brim.thermo.{module}" for name, module in moved.items()},
        message="{old}.{name} moved to {module}.{name}; import it from there (or from "
        "brim.thermo where it is public). The old path stops working in the next release",
    )
