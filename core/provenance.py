"""Provenance: every brim result says how it was made.

Each processing step appends one JSON record to the flat attribute ``brim_provenance`` (a JSON
list): the step's name, its parameters, brim's and the key dependencies' versions, the inputs'
SHA-256 checksums and a UTC time stamp. Setting ``SOURCE_DATE_EPOCH`` fixes the time stamp, which
makes sample files reproducible bit for bit (the convention of reproducible-builds.org).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ATTR = "brim_provenance"
_DEPENDENCIES = ("numpy", "scipy", "xarray", "h5netcdf", "h5py", "numba", "scikit-image")


@functools.cache
def versions() -> dict[str, str]:
    """Versions of brim and of the dependencies that shape its numbers."""
    from brim._version import __version__

    out = {"brim": __version__}
    for name in _DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            pass
    return out


def sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, streamed in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def timestamp() -> str:
    """UTC time stamp in ISO 8601, or the fixed ``SOURCE_DATE_EPOCH`` when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        t = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC)
    else:
        t = _dt.datetime.now(tz=_dt.UTC)
    return t.isoformat(timespec="seconds")


def to_jsonable(value: Any) -> Any:
    """Convert parameters (paths, NumPy scalars and arrays, tuples, dataclasses) to JSON types."""
    import dataclasses

    if isinstance(value, (str, os.PathLike)):
        from brim.io import display_path  # a non-UTF-8 file name becomes \xNN escapes

        return display_path(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"<array shape={value.shape} {value.dtype}>"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, complex):
        return [value.real, value.imag]
    return repr(value)


def steps(obj) -> list[dict]:
    """The provenance records of a Dataset (or DataTree node), oldest first."""
    raw = obj.attrs.get(ATTR)
    if not raw:
        return []
    try:
        out = json.loads(raw)
    except json.JSONDecodeError:
        return [{"step": "unparseable", "raw": str(raw)}]
    return out if isinstance(out, list) else [out]


def record(
    ds,
    step: str,
    params: Mapping[str, Any] | None = None,
    inputs: Iterable[str | os.PathLike] = (),
):
    """Return a shallow copy of ``ds`` with one more provenance step.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataTree
        The result being described.
    step : str
        The function that made it, e.g. ``"brim.thermo.read_dmr"``.
    params : mapping, optional
        The call's parameters (converted to JSON).
    inputs : iterable of path-like
        Input files; each is recorded with its SHA-256.
    """
    entry = {
        "step": step,
        "parameters": to_jsonable(dict(params or {})),
        "versions": versions(),
        "time": timestamp(),
    }
    from brim.io import display_path

    files = []
    for p in inputs:
        p = Path(p)
        files.append({"path": display_path(p.name), "sha256": sha256(p) if p.is_file() else None})
    if files:
        entry["inputs"] = files
    out = ds.copy(deep=False)
    out.attrs = dict(ds.attrs)
    out.attrs[ATTR] = json.dumps([*steps(ds), entry], sort_keys=True)
    return out
