"""Lazy public names for the modality packages (keeps ``import brim.thermo`` and the CLI fast)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[list[str], Callable, Callable]:
    """``(__all__, __getattr__, __dir__)`` for a package whose names live in submodules.

    Parameters
    ----------
    package : str
        The package's import name, e.g. ``"brim.thermo"``.
    exports : mapping
        Public name -> submodule (relative to ``package``) that defines it.
    """
    names = sorted(exports)

    def __getattr__(name: str):
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__():
        return names

    return names, __getattr__, __dir__
