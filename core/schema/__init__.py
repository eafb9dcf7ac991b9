"""Versioned schemas: one spec per kind of brim data.

A brim Dataset names its kind and schema version in ``attrs["brim_schema"]`` (e.g.
``"thermogram/1"``). :func:`validate` checks a Dataset against that spec and raises
:class:`brim.SchemaError` naming what is wrong and how to fix it.

Specs are grouped by domain: :mod:`brim.schema.common` (reconstruction maps, masks),
:mod:`brim.schema.thermo`, :mod:`brim.schema.microwave`, :mod:`brim.schema.ultrasound`,
:mod:`brim.schema.optical`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xarray as xr

from brim.errors import SchemaError
from brim.schema._spec import Range, Spec, VarSpec, check
from brim.schema.common import SPECS as _COMMON
from brim.schema.microwave import SPECS as _MICROWAVE
from brim.schema.optical import SPECS as _OPTICAL
from brim.schema.thermo import SPECS as _THERMO
from brim.schema.ultrasound import SPECS as _ULTRASOUND

ATTR = "brim_schema"

REGISTRY: dict[str, Spec] = {
    s.kind: s for group in (_COMMON, _THERMO, _MICROWAVE, _ULTRASOUND, _OPTICAL) for s in group
}


def kinds() -> list[str]:
    """Names of all registered kinds.

    Returns
    -------
    list of str
        Sorted, e.g. ``["channel_data", "field_set", "mask", ...]``.

    Examples
    --------
    >>> from brim import schema
    >>> "thermogram" in schema.kinds()
    True
    """
    return sorted(REGISTRY)


def get(kind: str) -> Spec:
    """The current spec of a kind.

    Parameters
    ----------
    kind : str
        A registered kind, e.g. ``"thermogram"``.

    Returns
    -------
    Spec
        Its variables, dims, units, ranges and version (``spec.tag``).

    Raises
    ------
    SchemaError
        Unknown kind (the message lists the known ones).

    Examples
    --------
    >>> from brim import schema
    >>> schema.get("thermogram").kind
    'thermogram'
    """
    try:
        return REGISTRY[kind]
    except KeyError:
        raise SchemaError(
            f"unknown brim kind {kind!r}; known kinds: {', '.join(kinds())}"
        ) from None


def register(spec: Spec) -> Spec:
    """Add or replace a spec (for extensions outside brim).

    Parameters
    ----------
    spec : Spec
        The spec; registered under ``spec.kind``.

    Returns
    -------
    Spec
        ``spec`` itself, so it can be used as a decorator-like one-liner.
    """
    REGISTRY[spec.kind] = spec
    return spec


def kind_of(ds: xr.Dataset) -> str | None:
    """The kind named by ``attrs["brim_schema"]``, or None for a plain Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Any Dataset.

    Returns
    -------
    str or None
        The kind without its version (``"thermogram"`` for ``"thermogram/1"``).

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import schema
    >>> schema.kind_of(xr.Dataset(attrs={"brim_schema": "thermogram/1"}))
    'thermogram'
    >>> schema.kind_of(xr.Dataset()) is None
    True
    """
    tag = ds.attrs.get(ATTR)
    if not tag:
        return None
    return str(tag).split("/", 1)[0]


def stamp(ds: xr.Dataset, kind: str) -> xr.Dataset:
    """Return ``ds`` with ``attrs["brim_schema"]`` set to the current version of ``kind``.

    Parameters
    ----------
    ds : xarray.Dataset
        The data (not changed: a shallow copy is returned).
    kind : str
        A registered kind.

    Returns
    -------
    xarray.Dataset
        A shallow copy carrying the tag; :func:`validate` then checks it.

    Examples
    --------
    >>> import xarray as xr
    >>> from brim import schema
    >>> schema.kind_of(schema.stamp(xr.Dataset(), "mask"))
    'mask'
    """
    spec = get(kind)
    ds = ds.copy(deep=False)
    ds.attrs[ATTR] = spec.tag
    return ds


def validate(ds: xr.Dataset, kind: str | None = None, *, check_values: bool = True) -> xr.Dataset:
    """Check a Dataset against its brim schema.

    Parameters
    ----------
    ds : xarray.Dataset
        The data. Its kind is read from ``attrs["brim_schema"]`` unless ``kind`` is given.
    kind : str, optional
        Check against this kind instead.
    check_values : bool
        Also scan values for NaN/inf (costs one pass over the data).

    Returns
    -------
    xarray.Dataset
        ``ds`` itself, so calls chain.

    Raises
    ------
    SchemaError
        What is wrong and how to fix it.

    Examples
    --------
    >>> import brim.data
    >>> from brim import schema
    >>> ds = brim.data.sample("thermo_phantom_tumour")
    >>> schema.validate(ds) is ds
    True
    >>> schema.validate(ds.drop_vars("temperature"))
    Traceback (most recent call last):
    ...
    brim.errors.SchemaError: ...
    """
    expect_dataset(ds, kind or "brim")  # a path or an array is named, with the call to make one
    tagged = ds.attrs.get(ATTR)
    if kind is None:
        if not tagged:
            raise SchemaError(
                "this Dataset names no brim kind (attribute 'brim_schema' is missing); pass "
                "kind=... or stamp it with brim.schema.stamp(ds, kind); "
                f"kinds: {', '.join(kinds())}"
            )
        kind = str(tagged).split("/", 1)[0]  # kind_of(ds), known to be a str here
    spec = get(kind)
    if tagged:
        tkind, _, tver = str(tagged).partition("/")
        if tkind == spec.kind:
            try:
                version = int(tver)
            except ValueError:
                raise SchemaError(
                    f"attribute brim_schema={tagged!r} is malformed; expected '{spec.tag}'"
                ) from None
            if version > spec.version:
                raise SchemaError(
                    f"this file uses schema {tagged!r}, newer than this brim knows "
                    f"({spec.tag}); upgrade brim"
                )
    check(ds, spec, check_values=check_values)
    return ds


def check_ranges(obj: xr.Dataset | xr.DataArray, kind: str) -> None:
    """Check the values of ``obj`` against the plausible physical ranges of ``kind``.

    :func:`validate` does this for a whole Dataset; readers that build a lone DataArray (or
    want the check before the Dataset is complete) call it directly.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A DataArray is checked against the range of its name (and units).
    kind : str
        The brim kind whose ranges apply.

    Raises
    ------
    SchemaError
        A value lies outside its range, or a float variable holds no finite value; the message
        names the variable, the value and where it is.
    """
    from brim.schema._spec import check_range

    spec = get(kind)
    if isinstance(obj, xr.DataArray):
        for rng in spec.ranges:
            if rng.name == obj.name:
                check_range(obj, rng, f"[{spec.tag}] variable", spec.kind)
        return
    for rng in spec.ranges:
        if rng.name in obj.variables:
            check_range(obj[rng.name], rng, f"[{spec.tag}] variable", spec.kind)


def require_kind(obj, kinds: str | tuple[str, ...], source: str = "this file") -> xr.Dataset:
    """``obj`` itself when it is a Dataset of one of ``kinds``, else :class:`FormatError`.

    A converter given an already-converted brim file checks its kind with this, so a scan or
    a reconstruction is never passed through as a thermogram.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataTree
        What :func:`brim.open` returned.
    kinds : str or tuple of str
        Accepted kinds.
    source : str
        The file's name, for the message.

    Returns
    -------
    xarray.Dataset
        ``obj`` itself.

    Raises
    ------
    FormatError
        A DataTree, a Dataset without a brim kind, or one of another kind.
    """
    from brim.errors import FormatError

    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    want = " or ".join(kinds)
    if not isinstance(obj, xr.Dataset):
        raise FormatError(f"{source} holds a multi-node brim tree, not a {want} Dataset")
    kind = kind_of(obj)
    if kind not in kinds:
        what = f"a brim {kind!r} file" if kind else "a NetCDF file without a brim kind"
        raise FormatError(f"{source} is {what}, not {want}; give a file of kind {want}")
    return obj


def expect_dataset(
    obj: Any,
    kinds: str | tuple[str, ...],
    *,
    reader: str | None = None,
    builder: str | None = None,
    arrays: bool = False,
) -> Any:
    """``obj`` itself when it is a Dataset, else a :class:`SchemaError` naming what it got.

    Public steps call this first, so a path, a NumPy array or a DataArray passed where a
    Dataset belongs gets one message that names it and the call that makes the Dataset. A
    Dataset passes unchanged: the step's own checks (variables, kind) still apply.

    Parameters
    ----------
    obj : object
        What the caller passed.
    kinds : str or tuple of str
        The expected kind(s), e.g. ``"thermogram"``; registered kinds also name their first
        variable in the message.
    reader : str, optional
        The function that reads a raw file of this kind, e.g. ``"brim.thermo.read"``; a path
        is told to use it (and :func:`brim.open` for a brim NetCDF file). Default: the
        ``reader`` of the first kind's spec.
    builder : str, optional
        The function that makes the Dataset from arrays or from an earlier step, e.g.
        ``"brim.fusion.measurement_from_arrays"`` (shown with ``(...)``), or a whole call
        ending in ``)``. Default: the ``builder`` of the first
        kind's spec.
    arrays : bool
        The step also takes a NumPy array or a DataArray (they pass unchanged).

    Returns
    -------
    object
        ``obj`` itself.

    Raises
    ------
    SchemaError
        ``obj`` is a path, an array, a DataArray or another object, not a Dataset.

    Examples
    --------
    >>> import numpy as np
    >>> from brim import schema
    >>> schema.expect_dataset("T0001.txt", "thermogram")
    Traceback (most recent call last):
    ...
    brim.errors.SchemaError: got the path 'T0001.txt', not a thermogram Dataset: read it first, ...
    >>> schema.expect_dataset(np.ones((480, 640)), "thermogram")
    Traceback (most recent call last):
    ...
    brim.errors.SchemaError: got a NumPy array of shape (480, 640), not a thermogram Dataset: ...
    """
    if isinstance(obj, xr.Dataset):
        return obj
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    want = f"{'an' if kinds[0][0] in 'aeiou' else 'a'} {' or '.join(kinds)} Dataset"
    spec = REGISTRY.get(kinds[0])
    if spec is not None:
        reader = reader or spec.reader or None
        builder = builder or spec.builder or None
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        opener = f"ds = brim.open({path!r})"
        if reader is None or reader == "brim.open":
            how = f"read it first, e.g. {opener}"
        else:
            how = f"read it first, e.g. ds = {reader}({path!r}) (a brim NetCDF file: {opener})"
        raise SchemaError(f"got the path {path!r}, not {want}: {how}")
    if arrays and isinstance(obj, (np.ndarray, xr.DataArray)):
        return obj
    if isinstance(obj, np.ndarray):
        got = f"a NumPy array of shape {obj.shape}"
        if builder is not None:
            how = f"build one with {builder}" + ("" if builder.endswith(")") else "(...)")
        elif spec is not None:
            how = _wrap_hint(spec, obj.ndim)
        else:
            how = "pass the Dataset the earlier step returned"
        raise SchemaError(f"got {got}, not {want}: {how}")
    if isinstance(obj, xr.DataArray):
        name = f" {obj.name!r}" if obj.name is not None else ""
        sel = f"ds[{obj.name!r}]" if obj.name is not None else "one of its variables"
        to_ds = "da.to_dataset()" if obj.name is not None else "da.to_dataset(name=...)"
        raise SchemaError(
            f"got the xarray DataArray{name} (dims {obj.dims}), not {want}: pass the Dataset it "
            f"came from (ds, not {sel}), or make one with {to_ds}"
        )
    if isinstance(obj, xr.DataTree):
        node = next(iter(obj.children), "NODE")
        raise SchemaError(
            f"got a DataTree (a multi-modal session), not {want}: pass one node's Dataset, "
            f"e.g. tree[{node!r}].to_dataset(); check a whole tree with tree.brim.validate()"
        )
    how = f"read it with {reader}" if reader else "pass the Dataset the earlier step returned"
    if builder is not None:
        how += f" or build it with {builder}"
    raise SchemaError(f"got {type(obj).__name__}, not {want}: {how}")


def expect_dims(da: xr.DataArray, dims: tuple[str, ...], *, arg: str) -> xr.DataArray:
    """``da`` ordered as ``dims``, or a :class:`SchemaError` naming ``arg`` and the problem.

    A step that computes on fixed axes (an image on (y, x), a strain map on (depth, line))
    reads a transposed variable the right way round; a variable on other dims, or an empty one,
    is refused by name (it used to fail deep inside NumPy or give a garbled map).

    Parameters
    ----------
    da : xarray.DataArray
        The variable the step reads.
    dims : tuple of str
        Its dims, in the order the step computes in.
    arg : str
        The argument that held it, for the message.

    Returns
    -------
    xarray.DataArray
        ``da`` transposed to ``dims``.

    Raises
    ------
    SchemaError
        Other dims than ``dims``, or a dim of size 0.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brim import schema
    >>> da = xr.DataArray(np.zeros((3, 2)), dims=("x", "y"), name="temperature")
    >>> schema.expect_dims(da, ("y", "x"), arg="ds").dims
    ('y', 'x')
    >>> schema.expect_dims(da.rename(x="col"), ("y", "x"), arg="ds")
    Traceback (most recent call last):
    ...
    brim.errors.SchemaError: ds: variable 'temperature' has dims ('col', 'y'); expected ...
    """
    if set(da.dims) != set(dims):
        raise SchemaError(
            f"{arg}: variable {da.name!r} has dims {da.dims}; expected {tuple(dims)} (rename the "
            "dimensions with ds.rename)"
        )
    if 0 in da.shape:
        raise SchemaError(f"{arg}: variable {da.name!r} is empty (sizes {dict(da.sizes)})")
    return da.transpose(*dims)


def _wrap_hint(spec: Spec, ndim: int) -> str:
    """How to wrap an array into a Dataset of ``spec``: its first variable on matching dims."""
    var = next((v for v in spec.variables if v.name and v.required), None)
    if var is None:
        return f"brim.schema.get({spec.kind!r}) lists what the Dataset holds"
    dims = next((d for d in var.dims if len(d) == ndim), var.dims[0] if var.dims else ())
    return (
        f"wrap it, e.g. xr.Dataset({{{var.name!r}: ({dims!r}, arr)}}) with the coordinates "
        f"brim.schema.get({spec.kind!r}) lists, then brim.schema.stamp(ds, {spec.kind!r})"
    )


__all__ = [
    "ATTR",
    "REGISTRY",
    "Range",
    "Spec",
    "VarSpec",
    "check_ranges",
    "expect_dataset",
    "expect_dims",
    "get",
    "kind_of",
    "kinds",
    "register",
    "require_kind",
    "stamp",
    "validate",
]
