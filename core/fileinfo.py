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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from brim.errors import BrimError, FormatError, MissingFileError, first_line

__all__ = [
    "DEFAULT_RANGE_LIMIT",
    "VariableStats",
    "describe",
    "describe_raw",
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


def _claimed(p: Path, engines: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The engines among ``engines`` whose ``guess_can_open`` claims the file."""
    claimed = []
    for name, backend in engines:
        try:
            if backend.guess_can_open(str(p)):  # type: ignore[attr-defined]
                claimed.append((name, backend))
        except Exception:  # noqa: BLE001,S112 - a guess that fails is a "no"
            continue
    return claimed


def _is_matlab_hdf5(p: Path) -> bool:
    """A MATLAB v7.3 MAT-file: HDF5 behind a 512-byte header that starts with ``MATLAB``."""
    with open(p, "rb") as fh:
        head = fh.read(520)
    return head.startswith(b"MATLAB") and head[512:520] == b"\x89HDF\r\n\x1a\n"


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
    claimed = _claimed(p, engines)
    if signature != "unknown" and not claimed:
        label = "NetCDF4/HDF5" if signature == "hdf5" else "NetCDF3"
        if lazy:
            engine = "h5netcdf" if signature == "hdf5" else "scipy"
            if signature == "hdf5":
                from brim.limits import check_hdf5_heaps

                check_hdf5_heaps(p)  # a corrupt global heap hangs HDF5 inside C: refuse it first
            # h5netcdf names the dimensions a plain HDF5 file lacks (unasked, it warns that it does)
            kw: dict[str, Any] = {"phony_dims": "access"} if engine == "h5netcdf" else {}
            try:
                if signature == "hdf5" and io._has_groups(p):
                    tree = xr.open_datatree(p, engine=engine, **kw)
                    return tree, f"xarray {engine} ({label}, lazily)"
                return xr.open_dataset(p, engine=engine, **kw), f"xarray {engine} ({label}, lazily)"
            except Exception as exc:  # noqa: BLE001 - h5netcdf fails on valid HDF5 it cannot map
                err = FormatError(f"{p} could not be read as {label} ({type(exc).__name__}: {exc})")
                err.readers_tried = [  # type: ignore[attr-defined]
                    f"xarray {engine}: {type(exc).__name__}: {str(exc)[:100]}"
                ]
                raise err from exc
        return io.open(p, validate=False), f"brim.open ({label})"
    errors = []
    others = [e for e in engines if e not in claimed]
    for name, backend in [*claimed, *others]:
        try:
            ds = xr.open_dataset(p, engine=name)
        except Exception as exc:  # noqa: BLE001 - report why each reader refused
            msg = first_line(exc)
            errors.append(f"{name}: {msg[:120]}")
            continue
        desc = getattr(backend, "description", "") or ""
        return ds, f"xarray engine {name!r}" + (f" ({desc})" if desc else "")
    tried = "; ".join(errors) or "no brim reader is installed"
    err = FormatError(f"{p}: no brim reader opens this file (tried brim.open; {tried})")
    err.readers_tried = ["brim.open", *errors]  # type: ignore[attr-defined]
    raise err


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

    def read(idx: tuple) -> np.ndarray:
        return np.asarray(v[idx].values) if idx else np.asarray(v.values)

    return _array_stats(read, tuple(v.shape), v.dtype, range_limit, block_bytes)


def _array_stats(read, shape: tuple, dtype: np.dtype, range_limit, block_bytes) -> VariableStats:
    """:func:`variable_stats` of any array read block by block through ``read(index_tuple)``
    (an xarray Variable, an h5py Dataset, a NumPy array)."""
    size = int(math.prod(shape))
    kind = dtype.kind
    if kind not in "biufc":
        return VariableStats(None, None, None, None, size, note=f"{dtype} values: no range")
    nbytes = size * dtype.itemsize
    if range_limit is not None and nbytes > range_limit:
        return VariableStats(
            None, None, None, None, size,
            note=f"range skipped: {_size(nbytes)} > limit {_size(range_limit)} (--range-limit)",
        )  # fmt: skip
    lo, hi, nan, inf = math.inf, -math.inf, 0, 0
    for idx in _blocks(shape, dtype.itemsize, block_bytes):
        block = np.asarray(read(idx))
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


def _values_status(ds: xr.Dataset, stats: dict[Any, VariableStats]) -> str:
    """The schema status of a structurally valid Dataset once its values are judged against
    its kind's plausible ranges (a thermogram in K labelled degC is valid in structure only).

    The judgement uses the block-read ranges of ``stats`` (the ones ``brim info`` prints), so
    no variable is read again or whole; one whose range was not computed (over the range
    limit) is named as not checked.
    """
    from brim import schema

    kind = schema.kind_of(ds)
    if kind is None:  # pragma: no cover - a tagged Dataset that validated has a kind
        return "valid"
    unchecked = []
    for rng in schema.get(kind).ranges:
        st = stats.get(rng.name)
        units = ds[rng.name].attrs.get("units", "") if rng.name in ds.variables else None
        if st is None or (rng.units and units not in rng.units):
            continue  # absent, or in units the range does not speak of (as in validate)
        if st.minimum is None or st.maximum is None:
            if st.note == "no finite value" and ds[rng.name].dtype.kind in "fc":
                return f"valid structure, but {rng.name!r} has no finite value (all NaN)"
            if st.note:
                unchecked.append(rng.name)
            continue
        complex_ = ds[rng.name].dtype.kind == "c"
        low = not complex_ and st.minimum < rng.lo
        if low or st.maximum > rng.hi:
            u = f" {units}" if units else ""
            bounds = f"|value| <= {rng.hi:g}" if complex_ else f"[{rng.lo:g}, {rng.hi:g}]"
            why = f" ({rng.why})" if rng.why else ""
            return (
                f"valid structure, VALUES OUT OF RANGE: {rng.name!r} spans {st.minimum:.6g} .. "
                f"{st.maximum:.6g}{u}, outside the plausible range {bounds}{u}{why}"
            )
    if unchecked:
        return f"valid structure; values of {', '.join(map(repr, unchecked))} not checked"
    return "valid"


def _describe_dataset(ds: xr.Dataset, lines: list[str], range_limit) -> None:
    from brim import provenance, schema

    tag = ds.attrs.get(schema.ATTR)
    # each variable read once, block by block: its printed range and the schema's value check
    stats = {
        n: variable_stats(v, range_limit=range_limit)
        for n, v in ds.variables.items()
        if v.ndim > 0 or n in ds.coords
    }
    status = "no brim schema"
    if tag:
        try:
            schema.validate(_decoded_dtypes(ds), check_values=False)
        except BrimError as exc:
            status = f"INVALID: {str(exc).splitlines()[0]}"
        else:
            status = _values_status(ds, stats)
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
            st = stats[name]
            lines.append(
                f"  {name!s:<22} {v.dtype!s:<10} {dims:<26} {units:<8} "
                f"{_stat_text(st, v.dtype.kind == 'c')}"
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
        A file that no brim reader claims but that is a MATLAB ``.mat`` (v4-v7 through
        :mod:`scipy.io`, v7.3 as HDF5), another HDF5 file or a NumPy ``.npy`` gets a raw
        summary, saying so: its variables (datasets), shapes, dtypes, value ranges and NaN
        counts; a text table (``.csv``, ``.tsv``, ``.txt``, ``.dat``) its rows, columns and
        first rows. A file known to travel beside a dataset's scans (a MERIT metadata table,
        an MWSegEval node file, a DOT-guided-PAT map, an extinction table) also gets a hint
        naming what reads it. Otherwise:
        reader used, schema status (the structure, then the values against the kind's
        plausible ranges unless they exceed ``range_limit``), subject (patient/view/date),
        calibration (FLIR emissivity and Planck constants), scalar acquisition values,
        attributes, dims, and per variable its dtype, dims, units, range and NaN count, then
        the provenance steps.

    Raises
    ------
    MissingFileError, FormatError
        No such file, or no reader opens it and it is none of the files summarised raw (see
        :func:`describe_raw`).

    Examples
    --------
    >>> from brim.data import sample_path
    >>> print(describe(sample_path("thermo_phantom_tumour")))  # doctest: +SKIP
    """
    p = Path(path)
    if p.is_file() and _is_matlab_hdf5(p) and not _claimed(p, _brim_engines()):
        # h5netcdf would open it, but as phony dims without MATLAB's classes: summarise raw
        return (
            _describe_raw(p, ["brim.open: a MATLAB v7.3 file, not a brim Dataset"], range_limit)
            or ""
        )
    try:
        obj, reader = open_any(p, lazy=True)
    except FormatError as exc:
        raw = _describe_raw(p, getattr(exc, "readers_tried", []), range_limit)
        if raw is None:
            raise
        return raw
    try:
        lines = [f"file: {p} ({_size(p.stat().st_size)}), read with {reader}"]
        if "brim_thermal_image" in reader:
            lines.append(f"hint: {_GREY_IMAGE_HINT}")
        if isinstance(obj, xr.DataTree):
            for node in obj.subtree:
                lines.append(f"== node {node.path}")
                _describe_dataset(node.to_dataset(inherit=False), lines, range_limit)
        else:
            _describe_dataset(obj, lines, range_limit)
    except Exception as exc:  # noqa: BLE001 - opened lazily, but a value cannot be read
        if isinstance(exc, BrimError) or not reader.startswith("xarray h5netcdf"):
            raise
        # valid HDF5 that h5netcdf maps but cannot read (e.g. a null dataspace): raw summary
        why = f"{reader}: {type(exc).__name__}: {str(exc)[:100]}"
        raw = _describe_raw(p, [why], range_limit)
        if raw is None:
            raise
        return raw
    finally:
        obj.close()
    return "\n".join(lines)


# ------------------------------------------------------ files no brim reader claims, summarised raw


def describe_raw(
    path: str | os.PathLike, *, range_limit: int | None = DEFAULT_RANGE_LIMIT
) -> str | None:
    """A raw summary of a MATLAB, HDF5, ``.npy`` or text-table file no brim reader claims.

    Vendor files (a reconstruction saved from MATLAB, an instrument's HDF5 dump) often hold
    arrays that no brim schema describes. This lists what is inside without interpreting it:
    each variable's name, MATLAB class or dtype, shape, value range and NaN count (read one
    variable at a time; one larger than ``range_limit`` bytes gets no range).

    Parameters
    ----------
    path : path-like
        A MATLAB v4/v5/v7 ``.mat`` file (read with :func:`scipy.io.whosmat` and
        :func:`scipy.io.loadmat`), an HDF5 file, MATLAB v7.3 included (read with h5py), a
        NumPy ``.npy`` array (memory-mapped), or a text table (``.csv``, ``.tsv``, ``.txt``,
        ``.dat``: its first 64 kB).
    range_limit : int or None
        Variables larger than this many bytes get no range (None: always compute it).

    Returns
    -------
    str or None
        The summary, or None when the file is none of these.

    Examples
    --------
    >>> import numpy as np, scipy.io, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "vol.mat")
    >>> scipy.io.savemat(f, {"mua": np.array([[0.004, np.nan], [0.01, 0.02]])})
    >>> print(describe_raw(f).splitlines()[-1])  # doctest: +NORMALIZE_WHITESPACE
      mua  double  float64  (2, 2)  0.004 .. 0.02, NaN 1/4
    """
    return _describe_raw(Path(path), [], range_limit)


def _describe_raw(p: Path, tried: list[str], range_limit) -> str | None:
    import h5py

    if not p.is_file():  # a FIFO or device would block or never end: regular files only
        return None
    lines: list[str] | None = None
    if not h5py.is_hdf5(p):
        lines = _mat_lines(p, range_limit) or _npy_lines(p, range_limit)
    if lines is None and p.suffix.lower() in _TEXT_TABLES:
        lines = _text_lines(p)
    if lines is None and h5py.is_hdf5(p):
        lines = _hdf5_lines(p, range_limit)
    if lines is None:
        return None
    head = [f"file: {p} ({_size(p.stat().st_size)})", lines[0]]
    # the variables listed (a .mat's or an HDF5 file's): some files are known by what they hold
    names = {ln.split()[0] for ln in lines[2:] if ln.startswith("  ") and ln.strip()}
    hint = _hint(p, names)
    if hint:
        head.append(f"hint: {hint}")
    tail = ["readers tried:", *[f"  {t}" for t in tried]] if tried else []
    return "\n".join([*head, *lines[1:], *tail])


# Files that travel beside a dataset's scans, or that a modality reads with a function rather
# than through brim.open: what `brim info` tells a user who points it at one. Plain text, so the
# core imports no modality. (a test on the path and the names of the variables it holds;
# the hint)
_HINTS: list[tuple[Callable[[Path, set[str]], bool], str]] = [
    (
        lambda p, _: p.name in ("frequencies.csv", "channel_names.csv", "antenna_locations.csv"),
        "a MERIT scan folder's metadata table: give one of the folder's scan CSVs instead "
        "(brim info FOLDER/SCAN.csv, brim microwave convert FOLDER/SCAN.csv)",
    ),
    (
        lambda p, names: (
            (
                p.name.lower() in ("xnodes.txt", "ynodes.txt", "frequency.txt")
                and p.parent.name.lower() == "configuration"
            )
            or bool(names & {"input_forwardModel", "input_reconstructedModel"})
        ),
        "part of an MWSegEval folder: brim microwave simulate mwsegeval:FOLDER, or "
        "brim.microwave.tomography.load_mwsegeval(FOLDER) (FOLDER holds Configuration/ and data/)",
    ),
    (
        lambda p, names: "volume7all" in names,
        "a DOT_filtering absorption volume (US-guided DOT): brim fusion convert PATH -o map.nc "
        "(values taken as cm-1, written in mm-1), then brim plot map.nc",
    ),
    (
        lambda p, _: p.suffix.lower() == ".npy" and p.name.lower().startswith(("mua-", "mus-")),
        "a DOT-guided-PAT absorption/scattering map? brim fusion convert PATH (or its patient "
        "folder), or brim.fusion.read_dot_pat_map(PATH)",
    ),
    (
        lambda p, _: "extinction" in p.name.lower(),
        "a haemoglobin extinction table? brim.fusion.read_extinction(PATH); brim fusion convert "
        "takes it as its 'extinction' parameter",
    ),
]


# brim.open reads any 8-bit grey picture as a thermal crop: an ultrasound image is one too
_GREY_IMAGE_HINT = (
    "any 8-bit grey picture opens as an uncalibrated thermal crop; an ultrasound B-mode (a "
    "BUSI image) is segmented by brim fusion segment-us IMAGE, read by "
    "brim.fusion.read_busi(IMAGE, MASK)"
)


def _hint(p: Path, names: set[str]) -> str | None:
    """What a file that no reader opens probably is (from its path and the names of the
    variables it holds), and the call that reads it."""
    return next((text for test, text in _HINTS if test(p, names)), None)


def _npy_lines(p: Path, range_limit) -> list[str] | None:
    """Lines describing a NumPy ``.npy`` array (memory-mapped), or None when it is not one."""
    try:
        with open(p, "rb") as fh:
            if fh.read(6) != b"\x93NUMPY":
                return None
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except Exception:  # noqa: BLE001 - damaged header, object array: no raw summary
        return None
    st = _array_stats(lambda idx: arr[idx], arr.shape, arr.dtype, range_limit, BLOCK_BYTES)
    return [
        "no brim reader claims this file: raw contents of a NumPy .npy array, not a brim Dataset",
        "array:  dtype, shape, range",
        f"  {arr.dtype!s:<10} {tuple(arr.shape)!s:<22} {_stat_text(st, arr.dtype.kind == 'c')}",
    ]


_TEXT_TABLES = (".csv", ".tsv", ".txt", ".dat")
"""Suffixes of text tables summarised raw; another file that is text (a ``.nc`` that is not
NetCDF, say) is an error, as before."""

_TEXT_PEEK = 1 << 16
"""Bytes of a text file read to describe it (its first rows)."""


def _text_lines(p: Path) -> list[str] | None:
    """Lines describing a text table (its first rows), or None when the file is not text."""
    from brim.errors import FormatError
    from brim.io import parse_table, read_text

    text = None
    for encoding in ("utf-8-sig", "latin-1"):  # the preview may cut a UTF-8 character
        try:
            text = read_text(p, what="text", encoding=encoding, limit=_TEXT_PEEK)
            break
        except FormatError:  # a spreadsheet workbook, or not UTF-8: Latin-1 decodes any byte
            continue
    if not text or "\x00" in text:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text[:4096]):
        return None  # control characters: binary, not text
    cut = p.stat().st_size >= _TEXT_PEEK
    table = parse_table(text, comment=None)  # the separator every brim table reader would see
    rows = [line for _, line in table.lines]
    if cut:
        rows = rows[:-1]  # the last row read may be cut
    if not rows:
        return None
    sep = table.separator
    widths = sorted({len(table.cells(r)) for r in rows[:200]})
    cols = str(widths[0]) if len(widths) == 1 else f"{widths[0]}-{widths[-1]}"
    more = "+" if cut else ""
    return [
        "no brim reader claims this file: a text file, not a brim Dataset",
        f"rows: {len(rows)}{more} non-empty, {cols} column(s) "
        f"({'blank-separated' if sep == ' ' else 'separated by ' + repr(sep)}); first rows:",
        *[f"  {_short(r, 100)}" for r in rows[:3]],
    ]


def _stat_text(st: VariableStats, complex_: bool) -> str:
    if st.note and st.minimum is None:
        return st.note
    text = f"{'|v| ' if complex_ else ''}{_fmt(st.minimum)} .. {_fmt(st.maximum)}"
    if st.nan is not None:
        text += f", NaN {st.nan}/{st.size}"
    if st.inf:
        text += f", inf {st.inf}"
    return text


def _mat_lines(p: Path, range_limit) -> list[str] | None:
    """Lines describing a MATLAB v4-v7 file (scipy.io), or None when it is not one."""
    import scipy.io

    try:
        listing = scipy.io.whosmat(p)
    except NotImplementedError:  # v7.3: HDF5 behind a MATLAB header
        return None
    except Exception:  # noqa: BLE001 - not a MAT file: the caller says no reader opens it
        return None
    if not listing:
        return None
    with open(p, "rb") as fh:
        header = fh.read(116)
    version = (
        header.split(b",")[0].decode("ascii", "replace").strip() if header[:6] == b"MATLAB" else ""
    )
    lines = [
        "no brim reader claims this file: raw contents of a "
        f"{version or 'MATLAB v4 MAT-file'} (scipy.io), not a brim Dataset",
        "variables:  name, MATLAB class, dtype, shape, range",
    ]
    for name, shape, mclass in listing:
        loaded = None
        text, dtype = "", "-"
        if mclass in ("struct", "cell", "object", "function_handle", "opaque"):
            text = f"{mclass}: no range"
        else:
            try:
                loaded = scipy.io.loadmat(p, variable_names=[name])[name]
            except Exception as exc:  # noqa: BLE001 - one unreadable variable: say so, go on
                text = f"not readable ({type(exc).__name__}: {str(exc)[:60]})"
        if loaded is not None:
            arr = np.asarray(loaded)
            dtype = str(arr.dtype)
            st = _array_stats(
                lambda idx, a=arr: a[idx], arr.shape, arr.dtype, range_limit, BLOCK_BYTES
            )
            text = _stat_text(st, arr.dtype.kind == "c")
        shape_text = str(tuple(shape))
        lines.append(f"  {name:<22} {mclass:<8} {dtype:<10} {shape_text:<22} {text}")
    return lines


def _hdf5_lines(p: Path, range_limit) -> list[str] | None:
    """Lines describing every dataset of an HDF5 file (h5py), or None when it cannot be read."""
    import h5py

    from brim.limits import check_hdf5_heaps

    try:
        check_hdf5_heaps(p)  # a corrupt global heap hangs HDF5 inside C: refuse it first
        fh = h5py.File(p, "r")
    except Exception:  # noqa: BLE001 - unreadable HDF5: the caller says no reader opens it
        return None
    with fh:
        matlab = bool(fh.userblock_size) and _userblock(p, fh.userblock_size).startswith(b"MATLAB")
        kind = (
            "a MATLAB v7.3 MAT-file (HDF5; MATLAB stores arrays transposed)"
            if matlab
            else "an HDF5 file"
        )
        lines = [
            f"no brim reader claims this file: raw contents of {kind} (h5py), not a brim Dataset",
            "datasets:  path, MATLAB class, dtype, shape, range",
        ]
        items: list[tuple[str, h5py.Dataset]] = []
        try:
            fh.visititems(
                lambda n, o: items.append((n, o)) if isinstance(o, h5py.Dataset) else None
            )
        except Exception:  # noqa: BLE001 - damaged metadata (bad checksum): not summarisable
            return None
        for name, d in items:
            if name.startswith("#refs#/"):
                continue  # MATLAB's hidden storage of cell and struct members
            mclass = d.attrs.get("MATLAB_class", b"-")
            mclass = mclass.decode() if isinstance(mclass, bytes) else str(mclass)
            if d.shape is None:  # a null dataspace (h5py.Empty): no values at all
                lines.append(f"  /{name:<21} {mclass:<8} {d.dtype!s:<10} {'empty':<22} no values")
                continue
            try:
                st = _array_stats(
                    lambda idx, d=d: d[idx] if idx else d[()], d.shape, d.dtype,
                    range_limit, BLOCK_BYTES,
                )  # fmt: skip
                text = _stat_text(st, d.dtype.kind == "c")
            except Exception as exc:  # noqa: BLE001 - one unreadable dataset: say so, go on
                text = f"not readable ({type(exc).__name__}: {str(exc)[:60]})"
            shape_text = str(tuple(d.shape))
            lines.append(f"  /{name:<21} {mclass:<8} {d.dtype!s:<10} {shape_text:<22} {text}")
        if not items:
            lines.append("  (no datasets)")
    return lines


def _userblock(p: Path, n: int) -> bytes:
    with open(p, "rb") as fh:
        return fh.read(min(n, 128))
