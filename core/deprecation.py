"""Deprecations that keep old calls working for one release.

brim's function contract (``docs/conventions.md``) makes options keyword-only. Code written
against an earlier release may still pass them positionally; :func:`positional_options`
accepts such calls for one release with a :class:`DeprecationWarning` that names the keywords
to use, instead of breaking them with a ``TypeError``. Names that moved to other modules keep
working at their old path for one release through :func:`moved_names`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def positional_options(fn: F) -> F:
    """Accept keyword-only options passed positionally, with a deprecation warning.

    Decorate a function whose options were made keyword-only (moved after ``*``). A call that
    still passes them by position works as before for one release and warns; the signature
    that :func:`inspect.signature` and the documentation show is the keyword-only one.

    Parameters
    ----------
    fn : callable
        The function, with its options already keyword-only.

    Returns
    -------
    callable
        A wrapper with ``fn``'s signature and docstring.

    Examples
    --------
    >>> import warnings
    >>> @positional_options
    ... def scale(x, *, factor=2.0):
    ...     return x * factor
    >>> scale(3, factor=3)
    9
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     scale(3, 3)
    9
    >>> "factor=" in str(caught[0].message)
    True
    """
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    if has_varargs:
        raise TypeError(f"{fn.__qualname__} takes *args: positional options cannot be mapped")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        extra = args[n_positional:]
        if extra:
            if len(extra) > len(keyword_only):
                # let Python raise its own, exact TypeError
                return fn(*args, **kwargs)
            names = keyword_only[: len(extra)]
            clash = [n for n in names if n in kwargs]
            if clash:
                raise TypeError(f"{fn.__qualname__}() got multiple values for {clash[0]!r}")
            warnings.warn(
                f"{fn.__module__}.{fn.__qualname__}: passing "
                f"{', '.join(names)} by position is deprecated and will stop working in the "
                f"next release; write {', '.join(f'{n}=...' for n in names)}",
                DeprecationWarning,
                stacklevel=2,
            )
            kwargs.update(zip(names, extra, strict=True))
            args = args[:n_positional]
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def moved_names(old: str, moved: Mapping[str, str], *, message: str) -> Callable[[str], object]:
    """The module ``__getattr__`` of a module whose names moved to other modules.

    A moved name read at its old path comes from its new module, with a
    :class:`DeprecationWarning` attributed to the code that read it; any other name raises the
    usual :class:`AttributeError`.

    Parameters
    ----------
    old : str
        The module the names moved out of, e.g. ``"brim.evaluate.protocol"``.
    moved : mapping of str to str
        Moved name -> the full name of the module that defines it now.
    message : str
        The warning, a :meth:`str.format` template of ``{old}``, ``{name}`` (the name read)
        and ``{module}`` (its new module).

    Returns
    -------
    callable
        ``__getattr__(name)``, to assign to the old module's ``__getattr__``.

    Examples
    --------
    >>> import warnings
    >>> getattr_ = moved_names(
    ...     "mypkg.old", {"sqrt": "math"}, message="{old}.{name} moved to {module}.{name}"
    ... )
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     getattr_("sqrt")(9.0)
    3.0
    >>> str(caught[0].message)
    'mypkg.old.sqrt moved to math.sqrt'
    """

    def __getattr__(name: str) -> object:
        module = moved.get(name)
        if module is None:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(
            message.format(old=old, name=name, module=module), DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(module), name)

    return __getattr__


def renamed_names(
    module: str, renamed: Mapping[str, tuple[object, str]]
) -> Callable[[str], object]:
    """The module ``__getattr__`` of a module some of whose names were renamed in place.

    An old name returns the object under its new name, with a :class:`DeprecationWarning`
    attributed to the first caller outside brim (also when a package's lazy ``__getattr__``
    forwards the read, see :func:`brim.errors.warn`); any other name raises the usual
    :class:`AttributeError`.

    Parameters
    ----------
    module : str
        The module's name (``__name__``), e.g. ``"brim.elasto.strain"``.
    renamed : mapping of str to (object, str)
        Old name -> (the object it now names, the warning's text).

    Returns
    -------
    callable
        ``__getattr__(name)``, to assign to the module's ``__getattr__``.

    Examples
    --------
    >>> import warnings
    >>> getattr_ = renamed_names("mypkg.geometry", {"Box": (tuple, "Box is renamed tuple")})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     getattr_("Box") is tuple
    True
    >>> str(caught[0].message)
    'Box is renamed tuple'
    """
    from brim.errors import warn

    def __getattr__(name: str) -> object:
        if name not in renamed:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value, message = renamed[name]
        warn(message, category=DeprecationWarning)
        return value

    return __getattr__
