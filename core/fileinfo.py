"""``brim info``: what a file holds, read lazily, for brim files and vendor files alike.

:func:`open_any` opens a brim NetCDF file or any vendor file a modality reader opens (the
``brim_*`` xarray engines) and says which reader it used; :func:`variable_stats` computes a
variable's range and NaN count block by block, so a large variable is never read into memory
at once (and one over a size limit is skipped, saying so); :func:`describe` writes the report.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import xarray as xr

from brim.errors import BrimError, FormatError, MissingFileError

__all__ = [
    "DEFAULT_RANGE_LIMIT",
    "VariableStats",
    "describe",
    "open_any",
    "variable_stats",
]

#: Variables larger than this (bytes) get no range in ``brim info`` unless asked.
DEFAULT_RANGE_LIMIT = 1_000_000_000
#: At most this many bytes of a variable are read at once while computing its range.
BLOCK_BYTES = 32 << 20

_SUBJECT_KEYS = ("patient", "view", "protocol", "frame", "side", "date", "diagnosis", "label")
_FLIR_CALIBRATION = {
    "flir_emissivity": "emissivity",
    "flir_planck_r1": "Planck R1",
    "flir_planck_r2": "R2",
    "flir_planck_b": "B",
    "flir_planck_f": "F",
    "flir_planck_o": "O",
}
_FLIR_ENVIRONMENT = {
    "flir_reflected_temperature": "reflected T (degC)",
    "flir_atmospheric_temperature": "atmospheric T (degC)",
    "flir_object_distance": "distance (m)",
    "flir_relative_humidity": "humidity",
    "flir_atmospheric_transmission": "atm. transmission",
    "flir_ir_window_temperature": "IR window T (degC)",
    "flir_ir_window_transmission": "IR window transmission",
}


def _brim_engines() -> list[tuple[str, object]]:
    """``(name, backend)`` of the xarray engines brim's modalities register."""
    out = []
    for ep in sorted(entry_points(group="xarray.backends"), key=lambda e: e.name):
        if not ep.name.startswith("brim_"):
            continue
        try:
            out.append((ep.name, ep.load()()))
        except Exception:  # noqa: BLE001,S112 - a broken modality must not break `brim info`
            continue
    return out


def open_any(
    path: str | os.PathLike, *, lazy: bool = False
) -> tuple[xr.Dataset | xr.DataTree, str]:
    """Open a brim file, or a vendor file through the readers brim registers.

    Tries, in order: :func:`brim.open` (NetCDF4/HDF5, NetCDF3); the ``brim_*`` xarray engines
    that claim the file (``guess_can_open``); then every other ``brim_*`` engine with its
    default settings (formats too generic to claim, such as a MERIT ``.csv``).

    Parameters
    ----------
    path : path-like
        The file.
    lazy : bool
        For NetCDF/HDF5 files: leave the data on disk (read on access) instead of loading it;
        close the result when done.

    Returns
    -------
    (xarray.Dataset or xarray.DataTree, str)
        The data and the reader used (e.g. ``"brim.open (NetCDF4/HDF5)"`` or
        ``"xarray engine 'brim_flir' (FLIR radiometric JPEG (brim.thermo))"``).

    Raises
    ------
    MissingFileError
        No such file.
    FormatError
        No reader opens it (the message names those tried and why each refused).
    """
    from brim import io

    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"no such file: {p}")
    if p.is_dir():
        raise FormatError(f"{p} is a folder; give one file")
    signature = io._signature(p) if p.stat().st_size else "unknown"
    engines = _brim_engines()
    claimed = []
    for name, backend in engines:
        try:
            if backend.guess_can_open(str(p)):
                claimed.append((name, backend))
        except Exception:  # noqa: BLE001,S112 - a guess that fails is a "no"
            continue
    if signature != "unknown" and not claimed:
        label = "NetCDF4/HDF5" if signature == "hdf5" else "NetCDF3"
        if lazy:
            engine = "h5netcdf" if signature == "hdf5" else "scipy"
            if signature == "hdf5":
                from brim.limits import check_hdf5_heaps

                check_hdf5_heaps(p)  # a corrupt global heap hangs HDF5 inside C: refuse it first
            try:
                if signature == "hdf5" and io._has_groups(p):
                    return xr.open_datatree(p, engine=engine), f"xarray {engine} ({label}, lazily)"
                return xr.open_dataset(p, engine=engine), f"xarray {engine} ({label}, lazily)"
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                raise FormatError(
                    f"{p} could not be read as {label} ({type(exc).__name__}: {exc})"
                ) from exc
        return io.open(p, validate=False), f"brim.open ({label})"
    errors = []
    others = [e for e in engines if e not in claimed]
    for name, backend in [*claimed, *others]:
        try:
            ds = xr.open_dataset(p, engine=name)
        except Exception as exc:  # noqa: BLE001 - report why each reader refused
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            errors.append(f"{name}: {msg[:120]}")
            continue
        desc = getattr(backend, "description", "") or ""
        return ds, f"xarray engine {name!r}" + (f" ({desc})" if desc else "")
    tried = "; ".join(errors) or "no brim reader is installed"
    raise FormatError(f"{p}: no brim reader opens this file (tried brim.open; {tried})")


@dataclass
class VariableStats:
    """Range and NaN count of one variable.

    Attributes
    ----------
    minimum, maximum : float or None
        Smallest and largest finite value (of the magnitude for complex data); None when not
        computed or there is no finite value.
    nan : int or None
        Number of NaN values (complex: either part NaN).
    inf : int or None
        Number of infinite values.
    size : int
        Number of values.
    note : str
        Why no range was computed (too large, text...), else empty.
    """

    minimum: float | None
    maximum: float | None
    nan: int | None
    inf: int | None
    size: int
    note: str = ""


def _blocks(shape: tuple[int, ...], itemsize: int, block_bytes: int) -> Iterator[tuple]:
    """Index tuples covering an array of ``shape``, each block at most ``block_bytes`` (but
    always at least one element)."""
    if not shape:
        yield ()
        return
    if shape[0] == 0:
        return
    row = itemsize * math.prod(shape[1:])
    if row <= block_bytes:
        n = max(1, block_bytes // max(row, 1))
        for i in range(0, shape[0], n):
            yield (slice(i, min(i + n, shape[0])),)
        return
    for i in range(shape[0]):
        for rest in _blocks(shape[1:], itemsize, block_bytes):
            yield (slice(i, i + 1), *rest)


def variable_stats(
    var: xr.Variable | xr.DataArray,
    *,
    range_limit: int | None = DEFAULT_RANGE_LIMIT,
    block_bytes: int = BLOCK_BYTES,
) -> VariableStats:
    """Range and NaN count of a variable, read block by block.

    Parameters
    ----------
    var : xarray.Variable or xarray.DataArray
        A variable, typically still on disk (lazily opened); each block is read on its own.
    range_limit : int or None
        Skip variables larger than this many bytes (None: no limit).
    block_bytes : int
        Largest block read at once.

    Returns
    -------
    VariableStats
        The range, NaN and inf counts, or a note saying why they were not computed.

    Examples
    --------
    >>> import xarray as xr, numpy as np
    >>> variable_stats(xr.Variable("x", [1.0, np.nan, 3.0])).nan
    1
    """
    v = var.variable if isinstance(var, xr.DataArray) else var
    size = int(v.size)
    kind = v.dtype.kind
    if kind not in "biufc":
        return VariableStats(None, None, None, None, size, note=f"{v.dtype} values: no range")
    nbytes = size * v.dtype.itemsize
    if range_limit is not None and nbytes > range_limit:
        return VariableStats(
            None, None, None, None, size,
            note=f"range skipped: {_size(nbytes)} > limit {_size(range_limit)} (--range-limit)",
        )  # fmt: skip
    lo, hi, nan, inf = math.inf, -math.inf, 0, 0
    for idx in _blocks(tuple(v.shape), v.dtype.itemsize, block_bytes):
        block = np.asarray(v[idx].values) if idx else np.asarray(v.values)
        if kind == "c":
            isnan = np.isnan(block.real) | np.isnan(block.imag)
            vals = np.abs(block)
        elif kind == "f":
            isnan = np.isnan(block)
            vals = block
        else:
            isnan = None
            vals = block.astype(np.int64) if kind == "b" else block
        if isnan is not None:
            nan += int(isnan.sum())
            isinf = np.isinf(vals) & ~isnan
            inf += int(isinf.sum())
            vals = vals[~(isnan | isinf)]
        if vals.size:
            lo, hi = min(lo, float(vals.min())), max(hi, float(vals.max()))
    finite = math.isfinite(lo)
    return VariableStats(
        lo if finite else None,
        hi if finite else None,
        nan if kind in "fc" else None,
        inf if kind in "fc" else None,
        size,
        note="" if finite or size == 0 else "no finite value",
    )


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def _short(value, limit: int = 110) -> str:
    text = (
        value
        if isinstance(value, str)
        else repr(value.tolist() if hasattr(value, "tolist") else value)
    )
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _stats_text(da, range_limit) -> str:
    st = variable_stats(da, range_limit=range_limit)
    if st.note and st.minimum is None:
        return st.note
    cplx = da.dtype.kind == "c"
    text = f"{'|v| ' if cplx else ''}{_fmt(st.minimum)} .. {_fmt(st.maximum)}"
    if st.nan is not None:
        text += f", NaN {st.nan}/{st.size}"
    if st.inf:
        text += f", inf {st.inf}"
    return text


def _decoded_dtypes(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the variables that :func:`brim.save` stored as uint8 for NetCDF's lack of a
    bool type (``brim_dtype="bool"``) shown as bool, without reading them: a zero-memory
    broadcast of the right shape stands in, enough for a structural schema check."""
    out = ds
    for name, var in ds.variables.items():
        if var.attrs.get("brim_dtype") == "bool":
            attrs = {k: v for k, v in var.attrs.items() if k != "brim_dtype"}
            stand_in = xr.Variable(var.dims, np.broadcast_to(np.False_, var.shape), attrs)
            out = (
                out.assign_coords({name: stand_in})
                if name in ds.coords
                else out.assign({name: stand_in})
            )
    return out


def _describe_dataset(ds: xr.Dataset, lines: list[str], range_limit) -> None:
    from brim import provenance, schema

    tag = ds.attrs.get(schema.ATTR)
    status = "no brim schema"
    if tag:
        try:
            schema.validate(_decoded_dtypes(ds), check_values=False)
            status = "valid"
        except BrimError as exc:
            status = f"INVALID: {str(exc).splitlines()[0]}"
    lines.append(f"schema: {tag or '-'} ({status})")
    subject = [f"{k}={ds.attrs[k]}" for k in _SUBJECT_KEYS if k in ds.attrs]
    if subject:
        lines.append("subject: " + ", ".join(subject))

    def values(names: dict) -> list[str]:
        return [
            f"{label} {ds.attrs[k]:.6g}"
            if isinstance(ds.attrs[k], (int, float, np.number))
            else f"{label} {ds.attrs[k]}"
            for k, label in names.items()
            if k in ds.attrs
        ]

    flir = values(_FLIR_CALIBRATION)
    if flir:
        lines.append("FLIR calibration used: " + ", ".join(flir))
        env = values(_FLIR_ENVIRONMENT)
        if env:
            lines.append("  object and atmosphere: " + ", ".join(env))
        over = ds.attrs.get("flir_overridden")
        if over and over != "[]":
            lines.append(f"  overridden by the user (not the file's values): {over}")
    scalars = [n for n in ds.data_vars if ds[n].ndim == 0]
    if scalars:
        lines.append("acquisition / scalar values:")
        for n in scalars:
            v = ds[n]
            units = v.attrs.get("units", "")
            text = _short(v.values.item() if v.dtype.kind in "biufc" else v.values, 60)
            lines.append(f"  {n:<28} {text} {units}".rstrip())
    shown = {k: v for k, v in ds.attrs.items() if k not in (schema.ATTR, "brim_provenance")}
    if shown:
        lines.append("attributes:")
        for k, v in shown.items():
            lines.append(f"  {k:<28} {_short(v)}")
    lines.append("dims: " + (", ".join(f"{d}={n}" for d, n in ds.sizes.items()) or "none"))
    for title, group in (("coords", ds.coords), ("variables", ds.data_vars)):
        items = [(n, v) for n, v in group.items() if title == "coords" or v.ndim > 0]
        if items:
            lines.append(f"{title}:  name, dtype, dims, units, range")
        for name, v in items:
            units = v.attrs.get("units", "")
            dims = "(" + ", ".join(map(str, v.dims)) + ")"
            lines.append(
                f"  {name!s:<22} {v.dtype!s:<10} {dims:<26} {units:<8} "
                f"{_stats_text(v, range_limit)}"
            )
    for step in provenance.steps(ds):
        lines.append(
            f"provenance: {step.get('time', '')} {step.get('step')} "
            f"{_short(json.dumps(step.get('parameters', {}), sort_keys=True), 200)}"
        )


def describe(path: str | os.PathLike, *, range_limit: int | None = DEFAULT_RANGE_LIMIT) -> str:
    """The ``brim info`` report of a file.

    Parameters
    ----------
    path : path-like
        A brim file or a vendor file (see :func:`open_any`).
    range_limit : int or None
        Variables larger than this many bytes get no range (None: always compute it).

    Returns
    -------
    str
        Reader used, schema status, subject (patient/view/date), calibration (FLIR emissivity
        and Planck constants), scalar acquisition values, attributes, dims, and per variable its
        dtype, dims, units, range and NaN count, then the provenance steps.

    Raises
    ------
    MissingFileError, FormatError
        No such file, or no reader opens it.

    Examples
    --------
    >>> from brim.data import sample_path
    >>> print(describe(sample_path("thermo_phantom_tumour")))  # doctest: +SKIP
    """
    p = Path(path)
    obj, reader = open_any(p, lazy=True)
    try:
        lines = [f"file: {p} ({_size(p.stat().st_size)}), read with {reader}"]
        if isinstance(obj, xr.DataTree):
            for node in obj.subtree:
                lines.append(f"== node {node.path}")
                _describe_dataset(node.to_dataset(inherit=False), lines, range_limit)
        else:
            _describe_dataset(obj, lines, range_limit)
    finally:
        obj.close()
    return "\n".join(lines)
