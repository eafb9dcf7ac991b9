"""Old module paths of :mod:`brim.microwave` that keep working for one release.

brim.microwave was split into the subpackages :mod:`brim.microwave.radar` and
:mod:`brim.microwave.tomography` (issue 18). Each old module (``brim.microwave.forward``,
``brim.microwave.calibration``, ...) is now a thin module that warns once, when it is imported,
with a :class:`DeprecationWarning` naming the new path, and forwards every attribute to it.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping, Sequence


def moved(
    old: str,
    new: Sequence[str],
    *,
    renamed: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a deprecated module that forwards to its new modules.

    Parameters
    ----------
    old : str
        The deprecated module's name, e.g. ``"brim.microwave.forward"``.
    new : sequence of str
        The modules that now hold its names, searched in order.
    renamed : mapping, optional
        Old name -> new name for the names that were renamed as they moved (each access warns).

    Returns
    -------
    (callable, callable)
        The module's ``__getattr__`` and ``__dir__``.
    """
    renamed = dict(renamed or {})
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; "
        f"import from {' or '.join(new)} instead",
        DeprecationWarning,
        stacklevel=3,
    )

    def __getattr__(name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        target = renamed.get(name, name)
        for module_name in new:
            module = importlib.import_module(module_name)
            if hasattr(module, target):
                value = getattr(module, target)
                if target != name:
                    home = getattr(value, "__module__", None) or module_name
                    warnings.warn(
                        f"{old}.{name} is deprecated; use {home}.{target}",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                return value
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        names: set[str] = set(renamed)
        for module_name in new:
            module = importlib.import_module(module_name)
            names.update(getattr(module, "__all__", dir(module)))
        return sorted(names)

    return __getattr__, __dir__
