"""Lazy public names for the modality packages (keeps ``import brim.thermo`` and the CLI fast)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str], *, deprecated: Mapping[str, str] | None = None
) -> tuple[list[str], Callable, Callable]:
    """``(__all__, __getattr__, __dir__)`` for a package whose names live in submodules.

    Parameters
    ----------
    package : str
        The package's import name, e.g. ``"brim.thermo"``.
    exports : mapping
        Public name -> submodule (relative to ``package``) that defines it.
    deprecated : mapping, optional
        Old name -> submodule for names kept for one release: they resolve like ``exports``
        (the submodule's own ``__getattr__`` issues the deprecation warning) but are left out of
        ``__all__`` and ``dir()``.
    """
    everything = {**(deprecated or {}), **exports}
    names = sorted(exports)

    def __getattr__(name: str):
        try:
            module = everything[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__():
        return names

    return names, __getattr__, __dir__


def when_imported(name: str, callback: Callable[[], object]) -> None:
    """Call ``callback()`` once module ``name`` is imported (at once if it already is).

    Lets brim hook into a heavy library (register the ``ds.brim`` accessor on xarray, listen to
    numba's compilations) without importing it: ``import brim`` and ``brim --help`` stay fast.
    The callback runs right after the module's own code, inside the import that loads it; an
    exception from it becomes a warning, never a failed import of the library.

    Parameters
    ----------
    name : str
        Absolute module name, e.g. ``"xarray"``.
    callback : callable
        Called without arguments.
    """
    import sys

    if name in sys.modules:
        _run_hook(name, callback)
        return
    sys.meta_path.insert(0, _PostImportFinder(name, callback))


def _run_hook(name: str, callback: Callable[[], object]) -> None:
    try:
        callback()
    except Exception as exc:  # noqa: BLE001 - a hook must never break the library's import
        import warnings

        warnings.warn(f"brim: hook after importing {name} failed: {exc!r}", stacklevel=2)


class _PostImportFinder:
    """A one-shot ``sys.meta_path`` finder that runs a callback after ``name`` is executed."""

    def __init__(self, name: str, callback: Callable[[], object]):
        self.name, self.callback = name, callback

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        import importlib.util
        import sys

        if self in sys.meta_path:
            sys.meta_path.remove(self)  # one shot; also stops recursion in find_spec below
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module, name, callback = loader.exec_module, self.name, self.callback

        def exec_then_hook(module):
            exec_module(module)
            _run_hook(name, callback)

        loader.exec_module = exec_then_hook
        return spec
