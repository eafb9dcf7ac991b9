"""Reading and writing brim files: NetCDF4 on HDF5 through h5netcdf.

:func:`save` writes atomically (a temporary file in the destination folder, flushed, fsynced and
renamed over the target), so a crash or a kill never leaves a truncated file and never destroys
the previous version. :func:`open` recognises the file by its signature, loads a Dataset or a
DataTree, and checks it against its brim schema.
"""

from __future__ import annotations

import builtins
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from brim import schema
from brim.errors import ConfigError, FormatError, MissingFileError, SchemaError
from brim.provenance import to_jsonable, versions

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NETCDF3_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")


def check_input_file(path: str | os.PathLike, *, what: str = "input") -> Path:
    """Check that ``path`` names an existing, readable regular file before a reader opens it.

    Every reader and CLI input path calls this first, so a missing file, a folder, a symlink
    loop or a special file (a FIFO that blocks forever, ``/dev/zero`` that never ends, a socket)
    is refused with a one-line message instead of a traceback, a hang or a memory blow-up.

    Parameters
    ----------
    path : str or os.PathLike
        The file a reader is about to open.
    what : str
        What the file is for ("input", "extinction table", "model"...), used in the message.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path (symlinks are not resolved).

    Raises
    ------
    MissingFileError
        Nothing exists at ``path`` (or a dangling symlink).
    FormatError
        ``path`` is a folder, a symlink loop, a FIFO, a device, a socket, or cannot be examined.
    """
    import stat

    p = Path(path)
    name = display_path(p)
    try:
        st = os.stat(p)  # follows symlinks: a loop raises ELOOP, a dangling link ENOENT
    except FileNotFoundError:
        if os.path.islink(p):
            raise MissingFileError(
                f"{what} file {name} is a symbolic link to a file that does not exist"
            ) from None
        raise MissingFileError(f"{what} file not found: {name}") from None
    except OSError as exc:
        import errno

        if exc.errno == errno.ELOOP:
            raise FormatError(
                f"{what} file {name} is a symbolic link loop; point it at a real file"
            ) from None
        raise FormatError(f"{what} file {name} cannot be examined ({exc.strerror})") from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return p
    if stat.S_ISDIR(mode):
        kind = "a folder"
    elif stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:  # pragma: no cover - door, whiteout...
        kind = "not a regular file"
    raise FormatError(f"{what} file {name} is {kind}; give a regular file")


def display_path(path: str | os.PathLike) -> str:
    """``path`` as printable, encodable text, for messages and attributes.

    File names on POSIX are bytes; one that is not valid UTF-8 reaches Python with lone
    surrogates (PEP 383), which cannot be encoded into a NetCDF attribute or printed to a UTF-8
    terminal. Such bytes are written as backslash escapes (``\\xff``), so the text stays
    readable and unambiguous, and valid names are returned unchanged.

    Parameters
    ----------
    path : str or os.PathLike
        Any path, as Python received it.

    Returns
    -------
    str
        A string that encodes to UTF-8 without error.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def _clean_attrs(attrs: dict, where: str) -> dict:
    """Flatten attributes to what NetCDF stores: str, numbers, 1-D numeric arrays."""
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, (bool, np.bool_)):
            out[k] = int(v)
        elif isinstance(v, (dict, list, tuple)) and not (
            isinstance(v, (list, tuple))
            and v
            and all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in v)
        ):
            out[k] = json.dumps(to_jsonable(v), sort_keys=True)
        elif isinstance(v, (str, int, float, np.integer, np.floating, np.ndarray, list, tuple)):
            out[k] = v
        else:
            raise ConfigError(
                f"attribute {k!r} of {where} has type {type(v).__name__}, which NetCDF cannot "
                f"store; convert it to a string, a number or a JSON string"
            )
    return out


def _prepare(ds: xr.Dataset, where: str, validate: bool) -> xr.Dataset:
    if validate and ds.attrs.get(schema.ATTR):
        schema.validate(ds)
    ds = ds.copy(deep=False)
    ds.attrs = _clean_attrs(ds.attrs, where)
    ds.attrs.setdefault("brim_version", versions()["brim"])
    for name in list(ds.variables):
        var = ds.variables[name]
        attrs = _clean_attrs(var.attrs, f"variable {name!r} of {where}")
        if var.dtype.kind == "b":
            # NetCDF has no bool type: store as uint8 and restore on open.
            new = xr.Variable(var.dims, var.values.astype("u1"), {**attrs, "brim_dtype": "bool"})
            if name in ds.coords:
                ds = ds.assign_coords({name: new})
            else:
                ds[name] = new
        else:
            var.attrs = attrs
    return ds


def save(obj: xr.Dataset | xr.DataTree, path: str | os.PathLike, *, validate: bool = True) -> Path:
    """Save a Dataset or DataTree to a NetCDF4/HDF5 file, atomically.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataTree
        Data to write. Complex variables are stored natively. Datasets (or tree nodes) that
        carry ``attrs["brim_schema"]`` are validated first, so an invalid result is never
        written.
    path : path-like
        Destination; its folder must exist. An existing file is replaced only once the new one
        is completely written.
    validate : bool
        Check schema-tagged Datasets before writing.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    SchemaError
        The data break their schema (nothing is written).
    MissingFileError
        The destination folder does not exist.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MissingFileError(f"cannot save to {path}: folder {folder} does not exist")
    if isinstance(obj, xr.DataTree):
        nodes = {}
        for node in obj.subtree:
            ds = node.to_dataset(inherit=False)
            nodes[node.path] = _prepare(ds, f"node {node.path}", validate)
        prepared: Any = xr.DataTree.from_dict(nodes)
    elif isinstance(obj, xr.Dataset):
        prepared = _prepare(obj, "the Dataset", validate)
    elif isinstance(obj, xr.DataArray):
        raise ConfigError("brim.save takes a Dataset or DataTree; use da.to_dataset(name=...)")
    else:
        raise ConfigError(f"brim.save takes a Dataset or DataTree, not {type(obj).__name__}")

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        # mkstemp makes a private (0600) file: give the result the mode an ordinary write would,
        # or keep the mode of the file being replaced.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        prepared.to_netcdf(tmp, engine="h5netcdf")
        with builtins.open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dirfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    except OSError:  # pragma: no cover - not supported on every file system
        pass
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _signature(path: Path) -> str:
    with builtins.open(path, "rb") as f:
        head = f.read(2056)
    for offset in (0, 512, 1024, 2048):
        if head[offset : offset + 8] == _HDF5_MAGIC:
            return "hdf5"
    if head[:4] in _NETCDF3_MAGIC:
        return "netcdf3"
    return "unknown"


def _has_groups(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as f:
        return any(isinstance(v, h5py.Group) for v in f.values())


def _restore(ds: xr.Dataset) -> xr.Dataset:
    for name in list(ds.variables):
        var = ds.variables[name]
        if var.attrs.get("brim_dtype") == "bool":
            attrs = {k: v for k, v in var.attrs.items() if k != "brim_dtype"}
            new = xr.Variable(var.dims, var.values.astype(bool), attrs)
            if name in ds.coords:
                ds = ds.assign_coords({name: new})
            else:
                ds[name] = new
    return ds


_VENDOR_HINTS = {
    ".txt": "a DMR-IR temperature matrix? use brim.thermo.read_dmr",
    ".jpg": "a FLIR radiometric JPEG? use brim.thermo.read_flir",
    ".jpeg": "a FLIR radiometric JPEG? use brim.thermo.read_flir",
    ".png": "an image? use brim.thermo.read_grey (thermal) or brim.fusion.read_busi (ultrasound)",
    ".csv": "a MERIT scan? use brim.microwave.read_merit",
    ".mat": "a MATLAB file? use the modality's reader (brim.elasto.read_rf, "
    "brim.microwave.read_umbmid, brim.fusion.read_measurement)",
}


def open(  # noqa: A001 - deliberate: brim.open mirrors xarray.open_dataset
    path: str | os.PathLike,
    *,
    validate: bool = True,
    chunks: Any = None,
) -> xr.Dataset | xr.DataTree:
    """Open a brim file (NetCDF4/HDF5) as a Dataset, or a DataTree when it has groups.

    Parameters
    ----------
    path : path-like
        The file.
    validate : bool
        Check every schema-tagged Dataset against its brim schema.
    chunks : optional
        Dask chunks for lazy loading (needs the ``dask`` extra). By default the data are loaded
        into memory and the file is closed.

    Raises
    ------
    MissingFileError
        No such file.
    FormatError
        Not a NetCDF/HDF5 file, or truncated or corrupt.
    SchemaError
        The file's content breaks its schema.
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"no such file: {path}")
    if path.is_dir():
        raise FormatError(f"{path} is a folder; brim.open takes one file")
    if path.stat().st_size == 0:
        raise FormatError(f"{path} is empty (0 bytes); the file was not written completely")
    kind = _signature(path)
    if kind == "unknown":
        hint = _VENDOR_HINTS.get(path.suffix.lower(), "convert it with the modality's reader")
        raise FormatError(f"{path} is not a NetCDF4/HDF5 file (no HDF5 signature); {hint}")
    engine = "h5netcdf" if kind == "hdf5" else "scipy"
    try:
        grouped = kind == "hdf5" and _has_groups(path)
        if grouped:
            tree = xr.open_datatree(path, engine=engine, chunks=chunks)
            if chunks is None:
                tree = tree.load()
                tree.close()
            nodes = {n.path: _restore(n.to_dataset(inherit=False)) for n in tree.subtree}
            result: Any = xr.DataTree.from_dict(nodes)
        else:
            ds = xr.open_dataset(path, engine=engine, chunks=chunks)
            if chunks is None:
                ds = ds.load()
                ds.close()
            result = _restore(ds)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if isinstance(exc, SchemaError):
            raise
        raise FormatError(
            f"{path} could not be read as NetCDF4/HDF5 ({type(exc).__name__}: {exc}); the file "
            f"is truncated or corrupt — re-create it or restore it from its source"
        ) from exc
    if validate:
        datasets = (
            [n.to_dataset(inherit=False) for n in result.subtree]
            if isinstance(result, xr.DataTree)
            else [result]
        )
        for ds in datasets:
            if ds.attrs.get(schema.ATTR):
                schema.validate(ds, check_values=chunks is None)
    return result


def load_numpy(path: str | os.PathLike) -> np.ndarray | dict[str, np.ndarray]:
    """Load a user's ``.npy`` (an array) or ``.npz`` (a dict of arrays) without unpickling.

    Parameters
    ----------
    path : str or os.PathLike
        The file; it must exist.

    Returns
    -------
    numpy.ndarray or dict
        The array of an ``.npy``; the arrays of an ``.npz`` by name, all read into memory.

    Raises
    ------
    FormatError
        The file holds pickled Python objects (brim never unpickles a user file), or is
        truncated, corrupt or not a NumPy file at all.
    """
    import zipfile

    p = Path(path)
    try:
        with builtins.open(p, "rb") as fh:
            obj = np.load(fh, allow_pickle=False)
            if isinstance(obj, np.lib.npyio.NpzFile):
                with obj:
                    return {k: obj[k] for k in obj.files}
            return obj
    except ValueError as exc:
        if "pickled" in str(exc) or "allow_pickle" in str(exc):
            raise FormatError(
                f"{p.name}: holds pickled Python objects or is not a NumPy file; brim never "
                f"unpickles user files, save plain numeric arrays"
            ) from None
        raise FormatError(f"{p.name}: truncated or corrupt NumPy file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"{p.name}: truncated or corrupt NumPy file ({exc})") from None
