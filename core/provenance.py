"""Provenance: every brim result says how it was made.

Each processing step appends one JSON record to the flat attribute ``brim_provenance`` (a JSON
list): the step's name, its parameters, brim's and the key dependencies' versions, the inputs'
SHA-256 checksums and a UTC time stamp. Setting ``SOURCE_DATE_EPOCH`` fixes the time stamp, which
makes sample files reproducible bit for bit (the convention of reproducible-builds.org).

Public processing steps record themselves through the :func:`step` decorator, so every record
follows one naming rule (see :func:`step_name`): ``brim.<package>.<function>``, e.g.
``brim.microwave.beamform``, ``brim.elasto.beamform``, ``brim.fusion.fit_background``. The
recorded parameters are the call's bound arguments with the defaults applied; Datasets, large
arrays and other bulky values are summarised (:func:`to_jsonable`), never dumped.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as _dt
import functools
import hashlib
import inspect
import json
import os
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import numpy as np

from brim.deprecation import positional_options

ATTR = "brim_provenance"
_DEPENDENCIES = ("numpy", "scipy", "xarray", "h5netcdf", "h5py", "numba", "scikit-image")


@functools.cache
def versions() -> dict[str, str]:
    """Versions of brim and of the dependencies that shape its numbers.

    Returns
    -------
    dict of str to str
        ``brim`` and each installed key dependency (numpy, scipy, xarray, ...).

    Examples
    --------
    >>> from brim import provenance
    >>> "numpy" in provenance.versions()
    True
    """
    from brim._version import __version__

    out = {"brim": __version__}
    for name in _DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            pass
    return out


def sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, streamed in 1 MiB chunks.

    Parameters
    ----------
    path : path-like
        The file.
    chunk : int
        Bytes read at once.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> import os, tempfile
    >>> from brim import provenance
    >>> f = os.path.join(tempfile.mkdtemp(), "empty")
    >>> open(f, "wb").close()
    >>> provenance.sha256(f)[:16]
    'e3b0c44298fc1c14'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def timestamp() -> str:
    """UTC time stamp in ISO 8601, or the fixed ``SOURCE_DATE_EPOCH`` when set.

    Returns
    -------
    str
        E.g. ``"2026-01-01T00:00:00+00:00"``.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        t = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC)
    else:
        t = _dt.datetime.now(tz=_dt.UTC)
    return t.isoformat(timespec="seconds")


def to_jsonable(value: Any) -> Any:
    """Convert parameters (paths, NumPy scalars and arrays, tuples, dataclasses) to JSON types.

    Bulky values are summarised, not dumped: an array of more than 64 elements becomes
    ``"<array shape=... dtype>"``, an xarray Dataset, DataArray or DataTree
    ``"<Dataset schema=... sizes=... from=FILE@SHA256[:12]>"`` (the input files of its own
    provenance, when it has them), a random generator ``"<Generator PCG64>"``, a function
    its qualified name; other objects whose ``repr`` holds a memory address are named by their
    type (a record must not change between two identical runs).

    Parameters
    ----------
    value : object
        A parameter value.

    Returns
    -------
    object
        JSON-serialisable (str, int, float, bool, None, list, dict).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.provenance import to_jsonable
    >>> to_jsonable({"n": np.int64(3), "w": np.zeros(100), "z": 1 + 2j})
    {'n': 3, 'w': '<array shape=(100,) float64>', 'z': [1.0, 2.0]}
    """

    if isinstance(value, (str, os.PathLike)):
        from brim.io import display_path  # a non-UTF-8 file name becomes \xNN escapes

        return display_path(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return to_jsonable(value.item())  # a complex scalar becomes [re, im]
    if isinstance(value, np.ndarray):
        if value.size > 64:
            return f"<array shape={value.shape} {value.dtype}>"
        return to_jsonable(value.tolist())
    summary = _summary(value)
    if summary is not None:
        return summary
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # field by field (dataclasses.asdict deep-copies, e.g. a network inside a model)
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, complex):
        return [value.real, value.imag]
    text = repr(value)
    return f"<{type(value).__name__}>" if " at 0x" in text else text


def _summary(value: Any) -> str | None:
    """A short description of a Dataset/DataArray/DataTree, generator or function (else None)."""
    kind = type(value).__name__
    module = type(value).__module__ or ""
    if module.startswith("xarray") and kind in ("Dataset", "DataArray", "DataTree"):
        schema = value.attrs.get("brim_schema")
        sizes = dict(value.sizes) if kind != "DataTree" else dict(value.to_dataset().sizes)
        name = f" name={value.name}" if kind == "DataArray" and value.name is not None else ""
        label = f" schema={schema}" if schema else ""
        files = [
            f"{f.get('path')}@{(f.get('sha256') or '')[:12]}"
            for s in steps(value)
            for f in s.get("inputs", [])
        ]
        made = f" from={','.join(files)}" if files else ""  # its files, when it records them
        return f"<{kind}{name}{label} sizes={sizes}{made}>"
    if isinstance(value, np.random.Generator):
        return f"<Generator {type(value.bit_generator).__name__}>"
    if isinstance(value, np.random.RandomState):
        return "<RandomState>"
    if (
        inspect.isfunction(value)
        or inspect.ismethod(value)  # e.g. BreastPhantom.permittivity: never its object's repr
        or inspect.isbuiltin(value)
        or inspect.isclass(value)
    ):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', kind)}"
    return None


def steps(obj) -> list[dict]:
    """The provenance records of a Dataset (or DataTree node), oldest first.

    Parameters
    ----------
    obj : xarray.Dataset, xarray.DataArray or xarray.DataTree
        Anything with ``attrs``.

    Returns
    -------
    list of dict
        One record per step (``step``, ``parameters``, ``versions``, ``time``, ``inputs``);
        an unparseable attribute gives one record ``{"step": "unparseable", "raw": ...}``.

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import provenance
    >>> ds = provenance.record(xr.Dataset(), "tests.step", params={"k": 1})
    >>> [s["step"] for s in provenance.steps(ds)]
    ['tests.step']
    """
    raw = obj.attrs.get(ATTR)
    if not raw:
        return []
    try:
        out = json.loads(raw)
    except json.JSONDecodeError:
        return [{"step": "unparseable", "raw": str(raw)}]
    return out if isinstance(out, list) else [out]


@positional_options
def record(
    ds: Any,
    step: str,
    *,
    params: Mapping[str, Any] | None = None,
    inputs: Iterable[str | os.PathLike] = (),
) -> Any:
    """Return a shallow copy of ``ds`` with one more provenance step.

    The documented way to record a step by hand where :func:`step` does not fit (a function
    that does not return a Dataset, a step recorded on behalf of another function).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataTree
        The result being described.
    step : str
        The function that made it, e.g. ``"brim.thermo.read_dmr"`` (:func:`step_name` gives
        the spelling of brim's rule).
    params : mapping, optional
        The call's parameters (converted to JSON).
    inputs : iterable of path-like
        Input files; each is recorded with its SHA-256.

    Returns
    -------
    xarray.Dataset or xarray.DataTree
        A shallow copy whose ``brim_provenance`` has the new record last.

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import provenance
    >>> ds = provenance.record(xr.Dataset(), "brim.tests.scale", params={"factor": 2})
    >>> provenance.steps(ds)[-1]["parameters"]
    {'factor': 2}
    """
    return _append(ds, steps(ds), step, to_jsonable(dict(params or {})), inputs)


def _entry(step: str, params: Any, inputs: Iterable) -> dict:
    """One provenance record: the step, its parameters, versions, time and input files."""
    from brim.io import display_path

    entry = {"step": step, "parameters": params, "versions": versions(), "time": timestamp()}
    files = []
    for p in inputs:
        p = Path(p)
        files.append({"path": display_path(p.name), "sha256": sha256(p) if p.is_file() else None})
    if files:
        entry["inputs"] = files
    return entry


def _append(ds, chain: list[dict], step: str, params: Any, inputs: Iterable) -> Any:
    """A shallow copy of ``ds`` whose provenance is ``chain`` plus one record."""
    return restore(ds, [*chain, _entry(step, params, inputs)])


def restore(ds: Any, records: Iterable[Mapping[str, Any]]) -> Any:
    """Return a shallow copy of ``ds`` whose provenance is exactly ``records``.

    For results that are not Datasets: a dataclass result with a ``provenance`` field gets its
    chain from :func:`step`, and the method that turns it into a Dataset (e.g.
    ``InversionResult.to_dataset``) hands that chain on with this function.

    Parameters
    ----------
    ds : xarray.Dataset, xarray.DataArray or xarray.DataTree
        The object to stamp.
    records : iterable of dict
        Provenance records, oldest first (as :func:`steps` returns them).

    Returns
    -------
    xarray.Dataset, xarray.DataArray or xarray.DataTree
        A shallow copy whose ``brim_provenance`` is ``records``.

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import provenance
    >>> a = provenance.record(xr.Dataset(), "brim.tests.make")
    >>> b = provenance.restore(xr.Dataset(), provenance.steps(a))
    >>> [s["step"] for s in provenance.steps(b)]
    ['brim.tests.make']
    """
    out = ds.copy(deep=False)
    out.attrs = dict(ds.attrs)
    out.attrs[ATTR] = json.dumps(list(records), sort_keys=True)
    return out


# ------------------------------------------------------------------------- the step decorator

_PACKAGES = ("thermo", "microwave", "elasto", "fusion", "learn", "evaluate", "schema")
_ACTIVE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("brim_step", default=None)


def step_name(func: Callable) -> str:
    """The provenance name of a public step: one spelling rule for every modality.

    ``brim.<package>.<function>`` for a function defined anywhere inside one of brim's public
    subpackages (``thermo``, ``microwave``, ``elasto``, ``fusion``, ``learn``, ``evaluate``,
    ``schema``), whatever submodule holds it (``brim.microwave.radar.beamform`` is recorded as
    ``brim.microwave.beamform``); ``brim.<function>`` for one defined in brim's core modules.
    Names are the function's own name, never a CLI spelling.

    Parameters
    ----------
    func : callable
        A function defined in a ``brim`` module.

    Returns
    -------
    str
        The step name, e.g. ``"brim.elasto.beamform"``.

    Examples
    --------
    >>> from brim import provenance
    >>> from brim.evaluate.crossval import cross_validate
    >>> provenance.step_name(cross_validate)
    'brim.evaluate.cross_validate'
    """
    parts = (func.__module__ or "").split(".")
    if parts[0] != "brim":
        return f"{func.__module__}.{func.__name__}"
    if len(parts) > 1 and parts[1] in _PACKAGES:
        return f"brim.{parts[1]}.{func.__name__}"
    return f"brim.{func.__name__}"


def note(**details: Any) -> None:
    """Add facts known only inside a running step (e.g. the backend used) to its record.

    Call it from the body of a function decorated with :func:`step`; outside one it does
    nothing.

    Parameters
    ----------
    **details
        Names and values added to the step's ``parameters`` (converted with
        :func:`to_jsonable`).

    Returns
    -------
    None

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import provenance
    >>> @provenance.step
    ... def smooth(ds):
    ...     provenance.note(backend="numpy")
    ...     return ds
    >>> provenance.steps(smooth(xr.Dataset()))[-1]["parameters"]["backend"]
    'numpy'
    """
    active = _ACTIVE.get()
    if active is not None:
        active.update(details)


def add_inputs(*paths: str | os.PathLike) -> None:
    """Record more input files (with their SHA-256) for the running step, e.g. side files.

    Call it from the body of a function decorated with :func:`step`; outside one it does
    nothing.

    Parameters
    ----------
    *paths : path-like
        Files the step read besides those passed in its ``inputs`` parameters.

    Returns
    -------
    None
    """
    active = _ACTIVE.get()
    if active is not None:
        active.setdefault(_INPUTS, []).extend(Path(p) for p in paths)


_INPUTS = "\0inputs"  # key of the extra input files inside the running step's notes


def step(func: Callable | None = None, *, inputs: Iterable[str] | None = None):
    """Decorator: record a public step's call in the provenance of the Dataset it returns.

    The record (see :func:`record`) is named by :func:`step_name` and holds the call's bound
    arguments (``inspect.signature(func).bind``, defaults applied; Datasets and large arrays
    summarised by :func:`to_jsonable`; input files by their name only, never a folder), any
    :func:`note` made during the call, and the SHA-256 of the input files named by the
    ``inputs`` parameters and by :func:`add_inputs`. It is appended to the chain of the
    returned Dataset if that already has one, otherwise to the chain of the first Dataset (or
    DataArray/DataTree) argument, so a pipeline of steps keeps every step in order. A step
    called from inside another step is not recorded again: the outer call is the one the user
    made. Results that are tuples have each Dataset element recorded; dataclass results have
    each Dataset field recorded, and an empty list field named ``provenance`` set to the chain
    (for results that build their Dataset later: hand it on with :func:`restore`); other
    results are returned unchanged.

    Parameters
    ----------
    func : callable, optional
        The step (the decorator may be used bare, ``@step``, or called, ``@step(inputs=...)``).
    inputs : iterable of str, optional
        Names of the parameters that hold input files (path-like or sequences of them).
        Default: those named ``path``, ``paths``, ``file`` or ``files``.

    Returns
    -------
    callable
        The wrapped function; its step name is in the attribute ``__brim_step__``.

    Raises
    ------
    TypeError
        ``func`` is already wrapped by :func:`brim.deprecation.positional_options`: that
        decorator goes *above* ``@step`` (outermost), so that it maps old positional calls
        before the step binds the keyword-only signature.

    Notes
    -----
    **Warnings.** The wrapper is one extra frame between a step and its caller. A warning
    about the caller's input raised in a step's body with :func:`warnings.warn` therefore
    needs ``stacklevel=3`` (not 2) to point at the user's line; this holds for nested steps
    too, since every call goes through the wrapper. Simpler and robust to any stack of
    decorators and helpers: :func:`brim.errors.warn`, which attributes the warning to the
    first frame outside brim (what Python 3.12's ``skip_file_prefixes`` does; brim supports
    3.11).

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import provenance
    >>> @provenance.step
    ... def scale(ds, *, factor=2.0):
    ...     return ds * factor
    >>> out = scale(xr.Dataset({"v": ("x", [1.0, 2.0])}))
    >>> provenance.steps(out)[-1]["parameters"]["factor"]
    2.0
    """
    if func is None:
        return functools.partial(step, inputs=inputs)
    if getattr(func, "__code__", None) is not None and func.__code__.co_qualname.startswith(
        "positional_options."
    ):
        raise TypeError(
            f"{func.__qualname__}: put @positional_options above @provenance.step, not below"
        )
    name = step_name(func)
    sig = inspect.signature(func)
    file_params = (
        tuple(inputs)
        if inputs is not None
        else tuple(p for p in sig.parameters if p in ("path", "paths", "file", "files"))
    )

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _ACTIVE.get() is not None:  # inside another step: that call is the one recorded
            return func(*args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        params: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            kind = sig.parameters[key].kind
            if kind is inspect.Parameter.VAR_POSITIONAL and not value:
                continue
            if kind is inspect.Parameter.VAR_KEYWORD:
                params.update({k: to_jsonable(v) for k, v in value.items()})
            elif key in file_params and _paths(value):
                names = [p.name for p in _paths(value)]
                params[key] = names[0] if isinstance(value, (str, os.PathLike)) else names
            else:
                params[key] = to_jsonable(value)
        parent = next((v for v in bound.arguments.values() if _is_xarray(v)), None)
        files = [f for p in file_params for f in _paths(bound.arguments.get(p))]
        notes: dict[str, Any] = {}
        token = _ACTIVE.set(notes)
        try:
            result = func(*args, **kwargs)
        finally:
            _ACTIVE.reset(token)
        files += notes.pop(_INPUTS, [])
        params.update(to_jsonable(notes))

        def attach(obj):
            if not _is_xarray(obj):
                return obj
            base = obj if (ATTR in obj.attrs or parent is None) else parent
            return _append(obj, steps(base), name, params, files)

        if isinstance(result, tuple) and not hasattr(result, "_fields"):
            return tuple(attach(r) for r in result)
        if dataclasses.is_dataclass(result) and not isinstance(result, type):
            return _attach_fields(result, attach, parent, _entry(name, params, files))
        return attach(result)

    cast(Any, wrapper).__brim_step__ = name  # read by step_name's users and the API tests
    return wrapper


def _attach_fields(result: Any, attach: Callable, parent: Any, entry: dict) -> Any:
    """A dataclass result with its Dataset fields recorded, and its ``provenance`` field set.

    A field named ``provenance`` (a list of records, for results that build their Dataset
    later, e.g. ``InversionResult.to_dataset``) receives the input's chain plus this step's
    record; every other field holding a Dataset is recorded as a returned Dataset would be.
    """
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        if not f.init:
            continue
        value = getattr(result, f.name)
        if f.name == "provenance" and isinstance(value, list) and not value:
            changes[f.name] = [*(steps(parent) if parent is not None else []), entry]
        elif _is_xarray(value):
            changes[f.name] = attach(value)
    return dataclasses.replace(result, **changes) if changes else result


def _is_xarray(value: Any) -> bool:
    kind = type(value).__name__
    return (type(value).__module__ or "").startswith("xarray") and kind in (
        "Dataset",
        "DataArray",
        "DataTree",
    )


def _paths(value: Any) -> list[Path]:
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    if isinstance(value, (list, tuple)):
        return [Path(v) for v in value if isinstance(v, (str, os.PathLike))]
    return []
