"""Schema machinery: what a spec is and how a Dataset is checked against it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from brim.backend import to_numpy
from brim.errors import SchemaError

_DTYPE_KINDS = {
    "float": "f",
    "complex": "c",
    "real": "fiu",
    "numeric": "fciu",
    "integer": "iu",
    "bool": "b",
    "label": "biu",
}


@dataclass(frozen=True)
class VarSpec:
    """What one data variable (or coordinate) of a kind must look like.

    Parameters
    ----------
    name : str or None
        Variable name; ``None`` means "at least one data variable" matching the rest of the spec.
    dims : tuple of tuple of str
        Allowed dimension layouts (any one of them). Empty tuple: any dims.
    dtype : str
        One of ``float``, ``complex``, ``real`` (float or integer), ``numeric``, ``integer``,
        ``bool``, ``label`` (bool or integer).
    units : tuple of str
        Allowed values of the ``units`` attribute; empty: not checked.
    allow_nan : bool
        Whether NaN is allowed (masked pixels); inf is never allowed.
    required : bool
        Whether the variable must be present.
    leading : tuple of str
        Optional extra dims that may precede any layout (e.g. ``scan``).
    """

    name: str | None
    dims: tuple[tuple[str, ...], ...] = ()
    dtype: str = "numeric"
    units: tuple[str, ...] = ()
    allow_nan: bool = False
    required: bool = True
    leading: tuple[str, ...] = ("scan",)
    doc: str = ""


@dataclass(frozen=True)
class Range:
    """The plausible physical range of one variable (or coordinate), checked on its values.

    Values outside it cannot come from a real measurement or a working reconstruction: a
    corrupt file (a flipped exponent bit turns 31.5 degC into 1e300) or a file of another kind.

    Parameters
    ----------
    name : str
        Variable or coordinate name; the range applies when a Dataset has it.
    lo, hi : float
        Inclusive bounds, in ``units`` (for complex values: ``hi`` bounds the magnitude and
        ``lo`` is ignored).
    units : tuple of str
        The units the bounds are in; a variable with other units is not checked (another
        spec entry may give its bounds). Empty: any units.
    why : str
        The physical reason or source of the bounds, shown in the message.
    """

    name: str
    lo: float
    hi: float
    units: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Spec:
    """A versioned schema for one kind of brim data.

    ``reader`` and ``builder`` name the public functions that make a Dataset of this kind from
    a raw file and from arrays (e.g. ``"brim.microwave.open_scan"``,
    ``"brim.microwave.make_scan"``); :func:`brim.schema.expect_dataset` suggests them to a
    caller who passed a path or an array.
    """

    kind: str
    version: int
    description: str
    variables: tuple[VarSpec, ...] = ()
    coords: tuple[VarSpec, ...] = ()
    attrs: tuple[str, ...] = ()
    examples: tuple[str, ...] = field(default_factory=tuple)
    ranges: tuple[Range, ...] = ()
    reader: str = ""
    builder: str = ""

    @property
    def tag(self) -> str:
        """The value of the ``brim_schema`` attribute, e.g. ``"thermogram/1"``."""
        return f"{self.kind}/{self.version}"


def _dims_ok(actual: tuple[str, ...], spec: VarSpec) -> bool:
    if not spec.dims:
        return True
    for layout in spec.dims:
        if actual == layout:
            return True
        n = len(actual) - len(layout)
        if n > 0 and actual[n:] == layout and all(d in spec.leading for d in actual[:n]):
            return True
    return False


def _fmt_layouts(spec: VarSpec) -> str:
    return " or ".join("(" + ", ".join(layout) + ")" for layout in spec.dims)


def check_variable(da: xr.DataArray, spec: VarSpec, what: str, *, check_values: bool = True):
    """Raise :class:`SchemaError` if one variable breaks its spec."""
    name = da.name
    if not _dims_ok(tuple(map(str, da.dims)), spec):
        raise SchemaError(
            f"{what} {name!r} has dims {tuple(da.dims)}; expected {_fmt_layouts(spec)}. "
            f"Rename or transpose the dimensions (ds.rename / ds.transpose)."
        )
    kinds = _DTYPE_KINDS[spec.dtype]
    if da.dtype.kind not in kinds:
        raise SchemaError(
            f"{what} {name!r} has dtype {da.dtype}; expected a {spec.dtype} dtype. "
            f"Convert it with .astype(...)."
        )
    if spec.units:
        units = da.attrs.get("units")
        if units is None:
            raise SchemaError(
                f"{what} {name!r} has no 'units' attribute; expected one of {list(spec.units)}. "
                f"Set ds[{name!r}].attrs['units']."
            )
        if units not in spec.units:
            raise SchemaError(
                f"{what} {name!r} has units {units!r}; expected one of {list(spec.units)}. "
                f"Convert the values, then set the 'units' attribute."
            )
    if check_values and da.dtype.kind in "fc" and da.size:
        values = to_numpy(da.data)  # GPU-resident data too (CuPy refuses np.asarray)
        if np.isinf(values).any():
            raise SchemaError(
                f"{what} {name!r} contains inf; brim never stores infinite values. "
                f"Replace them (e.g. with NaN where masking is allowed) before saving."
            )
        if not spec.allow_nan and np.isnan(values).any():
            raise SchemaError(
                f"{what} {name!r} contains NaN, which this kind does not allow. "
                f"Fill or drop the missing values first."
            )


def _where(da: xr.DataArray, index: tuple[int, ...]) -> str:
    """``index`` of ``da`` as ``(dim=i, ...)``, with the coordinate value where one exists."""
    if not index:
        return ""
    parts = []
    for dim, i in zip(da.dims, index, strict=True):
        text = f"{dim}={i}"
        if dim in da.coords and da.coords[dim].ndim == 1 and da.coords[dim].dtype.kind in "fiu":
            value = float(da.coords[dim].values[i])
            units = da.coords[dim].attrs.get("units", "")
            text += f" ({value:g} {units})".replace(" )", ")")
        parts.append(text)
    return " at " + ", ".join(parts)


def check_range(da: xr.DataArray, rng: Range, what: str, kind: str) -> None:
    """Raise :class:`SchemaError` if a value of ``da`` lies outside ``rng``.

    Also refuses a variable of floats with no finite value at all (an all-NaN thermogram).
    """
    if rng.units and da.attrs.get("units") not in rng.units:
        return
    if da.dtype.kind not in "fciub" or da.size == 0:
        return
    values = to_numpy(da.data)
    units = da.attrs.get("units", "")
    finite = np.isfinite(values)
    if da.dtype.kind in "fc" and not finite.any():
        raise SchemaError(
            f"{what} {da.name!r} has no finite value (all NaN): the file is corrupt or empty"
        )
    if da.dtype.kind == "c":
        bad = finite & (np.abs(values) > rng.hi)
        bounds = f"|value| <= {rng.hi:g} {units}".rstrip()
    else:
        with np.errstate(invalid="ignore"):
            bad = finite & ((values < rng.lo) | (values > rng.hi))
        bounds = f"[{rng.lo:g}, {rng.hi:g}] {units}".rstrip()
    if not bad.any():
        return
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), values.shape))
    value = values[index] if index else values[()]
    n_bad = int(bad.sum())
    more = f" (and {n_bad - 1} more)" if n_bad > 1 else ""
    why = f" ({rng.why})" if rng.why else ""
    raise SchemaError(
        f"{what} {da.name!r} = {value:.6g} {units}{_where(da, index)}{more} is outside the "
        f"plausible range {bounds}{why}; the file is corrupt, in other units, or not a {kind} "
        "file brim handles"
    )


def check(ds: xr.Dataset, spec: Spec, *, check_values: bool = True) -> None:
    """Check a Dataset (:func:`brim.schema.validate` has made sure it is one) against a spec,
    raising :class:`SchemaError` at the first problem."""
    where = f"[{spec.tag}]"
    for vs in spec.variables:
        if vs.name is None:
            candidates = [v for v in ds.data_vars.values() if _dims_ok(tuple(map(str, v.dims)), vs)]
            if not candidates:
                raise SchemaError(
                    f"{where} needs at least one data variable with dims {_fmt_layouts(vs)}; "
                    f"found {[(str(k), v.dims) for k, v in ds.data_vars.items()]}."
                )
            for v in candidates:
                check_variable(v, vs, f"{where} variable", check_values=check_values)
            continue
        if vs.name not in ds.data_vars:
            if vs.required:
                raise SchemaError(
                    f"{where} missing data variable {vs.name!r} ({vs.doc or 'required'}); "
                    f"found {sorted(map(str, ds.data_vars))}."
                )
            continue
        check_variable(ds[vs.name], vs, f"{where} variable", check_values=check_values)
    for cs in spec.coords:
        if cs.name not in ds.coords:
            if cs.required:
                raise SchemaError(
                    f"{where} missing coordinate {cs.name!r} ({cs.doc or 'required'}); "
                    f"add it with ds.assign_coords({cs.name}=...) and a 'units' attribute."
                )
            continue
        check_variable(ds.coords[cs.name], cs, f"{where} coordinate", check_values=check_values)
    for a in spec.attrs:
        if a not in ds.attrs:
            raise SchemaError(f"{where} missing attribute {a!r}; set ds.attrs[{a!r}].")
    if check_values:
        for rng in spec.ranges:
            if rng.name in ds.variables:
                kind = "coordinate" if rng.name in ds.coords else "variable"
                check_range(ds[rng.name], rng, f"{where} {kind}", spec.kind)
