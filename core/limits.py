"""Declared-size checks: what a file asks brim to allocate is checked before anything is read.

A file header states the shape and type of each array; a reader that trusts it allocates that
much memory. A corrupt or malicious header can therefore turn a 6 KB file into an 8 GiB
allocation (minutes of swapping) or an 800 GiB one (``MemoryError``). The functions here read
only the headers (HDF5/NetCDF4 and MATLAB v7.3 through h5py, NetCDF3, ``.npy``/``.npz``, MATLAB
v5) and refuse, before any data are read:

* an array, or all arrays of a file together, larger than :func:`max_array_bytes`
  (:class:`brim.ResourceError`, naming the variable, its declared size, the limit and how to
  raise it);
* a declared size the file cannot hold: uncompressed data that would end past the end of the
  file, or compressed data that would expand more than DEFLATE can
  (:class:`brim.FormatError`);
* HDF5 datasets that read other files (external storage, virtual datasets): a brim file is
  self-contained, and such a dataset could read ``/dev/zero`` or a file the user never named.

The limit is ``$BRIM_MAX_ARRAY_BYTES`` (``"8GiB"``, ``"512MB"`` or a number of bytes), 4 GiB by
default. Why 4 GiB: the largest inputs brim reads are of the order of 10 MB to 1 GB (a DMR-IR
matrix is 2.4 MB in float64, a plane-wave channel-data shot a few MB, a 1,000-frame RF cine of
2048 x 256 float32 samples 2 GB), so 4 GiB leaves a margin of 2-4x for real data while staying
under the 8-16 GB of memory of the laptops brim targets, so a corrupt header fails in
milliseconds instead of swapping the machine. Raise it for larger data.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from brim.errors import FormatError, ResourceError, first_line

ENV_VAR = "BRIM_MAX_ARRAY_BYTES"
DEFAULT_MAX_BYTES = 4 * 2**30

#: Largest expansion of DEFLATE (zlib, the compressor of .npz, MATLAB v5 ``miCOMPRESSED`` and
#: HDF5's gzip filter): 1032:1 ("Maximum compression factor", zlib technical details,
#: https://zlib.net/zlib_tech.html). Declared data more than this many times larger than their
#: compressed bytes cannot be real. A small margin covers container overheads.
MAX_DEFLATE_RATIO = 1100

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(text: str | int | float) -> int:
    """A byte count from ``"4GiB"``, ``"512 MB"``, ``"1e9"`` or a number.

    Parameters
    ----------
    text : str or int or float
        Decimal (kB, MB, GB, TB = powers of 1000) and binary (KiB, MiB, GiB, TiB = powers of 1024)
        suffixes are accepted, case-insensitive.

    Returns
    -------
    int
        The size in bytes (> 0).

    Raises
    ------
    ConfigError
        Not a positive size.
    """
    from brim.errors import ConfigError

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _UNITS:
            raise ConfigError(
                f"{ENV_VAR}={text!r} is not a size; give bytes or a number with a unit "
                f"(e.g. 8GiB, 512MB)"
            )
        try:
            value = float(m.group(1))
        except ValueError:
            value = math.nan
        unit = m.group(2).lower()
    n = value * _UNITS[unit]
    if not (math.isfinite(n) and n >= 1):
        raise ConfigError(f"{ENV_VAR}={text!r} must be a positive size in bytes")
    return int(n)


def max_array_bytes() -> int:
    """The largest array (and file total) brim will read: ``$BRIM_MAX_ARRAY_BYTES`` or 4 GiB.

    Returns
    -------
    int
        The limit in bytes.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    return parse_size(env) if env else DEFAULT_MAX_BYTES


def format_bytes(n: float) -> str:
    """``n`` bytes as text with a binary unit (e.g. ``"8.0 GiB"``).

    Parameters
    ----------
    n : float
        A number of bytes.

    Returns
    -------
    str
        One decimal and the largest binary unit not above ``n``.

    Examples
    --------
    >>> from brim.limits import format_bytes
    >>> format_bytes(3 * 2**30), format_bytes(512)
    ('3.0 GiB', '512 B')
    """
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def _name(path) -> str:
    try:
        from brim.io import display_path

        return display_path(Path(path).name)
    except ImportError:  # pragma: no cover - display_path is in brim.io
        return Path(path).name


def check_declared(
    nbytes: int, *, what: str, source: str | os.PathLike, limit: int | None = None
) -> None:
    """Refuse an allocation of ``nbytes`` declared by a file before it is made.

    Parameters
    ----------
    nbytes : int
        Bytes the header declares (shape x item size).
    what : str
        What declares it, e.g. ``"variable 'temperature'"``.
    source : path-like
        The file, for the message.
    limit : int, optional
        Limit in bytes (default: :func:`max_array_bytes`).

    Raises
    ------
    ResourceError
        ``nbytes`` exceeds the limit.
    """
    limit = max_array_bytes() if limit is None else limit
    if nbytes > limit:
        raise ResourceError(
            f"{_name(source)}: {what} declares {format_bytes(nbytes)} ({nbytes} bytes), more "
            f"than the limit of {format_bytes(limit)}; a corrupt header, or data larger than "
            f"brim reads by default: raise the limit with {ENV_VAR}=<bytes> (e.g. 16GiB)"
        )


def _check_total(total: int, *, what: str, source, limit: int) -> None:
    """Refuse a file whose ``what`` (e.g. ``"arrays"``) declare more than ``limit`` together."""
    if total > limit:
        raise ResourceError(
            f"{_name(source)}: its {what} declare {format_bytes(total)} together, more than the "
            f"limit of {format_bytes(limit)}; raise it with {ENV_VAR}=<bytes>"
        )


def _nbytes(shape, itemsize: int) -> int:
    n = int(itemsize)
    for s in shape:
        n *= int(s)
    return n


def _check_stored(
    nbytes: int, stored: int, *, what: str, source, compressed: bool, file_size: int
) -> None:
    """``stored`` bytes on disk cannot hold ``nbytes`` of data: FormatError."""
    if compressed:
        if nbytes > MAX_DEFLATE_RATIO * max(stored, 1) and nbytes > 2**20:
            raise FormatError(
                f"{_name(source)}: {what} declares {format_bytes(nbytes)} but the file stores "
                f"{format_bytes(stored)} for it, more than compression can expand (at most "
                f"{MAX_DEFLATE_RATIO}:1); the header is corrupt or the data were never written"
            )
    elif stored > file_size:
        raise FormatError(
            f"{_name(source)}: {what} declares {format_bytes(nbytes)} of data that would end "
            f"past the end of the {format_bytes(file_size)} file; the file is truncated or its "
            f"header corrupt"
        )


# ----------------------------------------------------------------------------- HDF5 / NetCDF4
_GCOL = b"GCOL\x01\x00\x00\x00"  # global heap collection, version 1, 3 reserved bytes


def check_hdf5_heaps(path: str | os.PathLike) -> int:
    """Check that every HDF5 global heap collection of a file is well formed.

    NetCDF4 keeps variable-length data (string attributes, the ``DIMENSION_LIST`` references
    of every variable) in global heap collections ("GCOL" blocks; HDF5 File Format
    Specification, section III.E). Each holds objects, each with a 16-byte header (index,
    reference count, reserved, size) and its data padded to 8 bytes; index 0 is the free space
    that ends the collection. The HDF5 library walks these objects by their sizes: one flipped
    bit in a size makes the walk loop forever inside the C library (``brim info`` spun for more
    than 150 s), where no Python timeout can stop it. This check walks them the same way first
    and refuses a collection whose objects do not tile it exactly.

    Parameters
    ----------
    path : path-like
        An HDF5 file.

    Returns
    -------
    int
        The number of collections checked.

    Raises
    ------
    FormatError
        A collection is corrupt.
    """
    import mmap
    import struct

    p = Path(path)
    n = 0
    with open(p, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < 16:
            return 0
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            start = mm.find(_GCOL)
            while start >= 0:
                if start + 16 > size:
                    break
                (csize,) = struct.unpack_from("<Q", mm, start + 8)
                if csize < 4096 or start + csize > size:  # 4096: smallest collection HDF5 writes
                    if start + csize > size and csize >= 4096:
                        raise FormatError(
                            f"{_name(p)}: HDF5 global heap at byte {start} runs past the end of "
                            f"the file; the file is truncated or corrupt"
                        )
                    start = mm.find(_GCOL, start + 4)
                    continue
                end = start + csize
                pos = start + 16
                while pos + 16 <= end:
                    idx, _, _, osize = struct.unpack_from("<HHIQ", mm, pos)
                    need = osize if idx == 0 else 16 + ((osize + 7) // 8) * 8
                    if need <= 0 or pos + need > end:
                        raise FormatError(
                            f"{_name(p)}: HDF5 global heap at byte {start} is corrupt (object "
                            f"{idx} at byte {pos} declares {osize} bytes, which do not fit "
                            f"its collection); the file is damaged — restore it from its source"
                        )
                    if idx == 0:
                        break
                    pos += need
                n += 1
                start = mm.find(_GCOL, end)
    return n


def check_hdf5(path: str | os.PathLike, *, limit: int | None = None) -> int:
    """Check every dataset of an HDF5 file (NetCDF4, MATLAB v7.3, pybf) before reading data.

    Parameters
    ----------
    path : path-like
        The HDF5 file.
    limit : int, optional
        Limit in bytes for one dataset and for all together (default :func:`max_array_bytes`).

    Returns
    -------
    int
        The declared bytes of all datasets together.

    Raises
    ------
    ResourceError
        A dataset, or all together, exceed the limit.
    FormatError
        The file is not HDF5, is corrupt, declares data it cannot hold, or a dataset reads
        another file (external storage or a virtual dataset).
    """
    import h5py

    limit = max_array_bytes() if limit is None else limit
    p = Path(path)
    file_size = p.stat().st_size
    check_hdf5_heaps(p)
    datasets: list[tuple[str, h5py.Dataset]] = []
    try:
        with h5py.File(p, "r") as f:
            seen: set = set()

            def walk(group, prefix: str, depth: int) -> None:
                if depth > 64:
                    raise FormatError(f"{_name(p)}: HDF5 groups nested deeper than 64 levels")
                for key in group:
                    link = group.get(key, getlink=True)
                    if isinstance(link, (h5py.ExternalLink,)):
                        raise FormatError(
                            f"{_name(p)}: {prefix}{key} is a link to another file; brim reads "
                            f"self-contained files only"
                        )
                    if isinstance(link, h5py.SoftLink):
                        continue  # the target is visited under its own name
                    obj = group[key]
                    addr = obj.id.__hash__()
                    if addr in seen:
                        continue  # a hard link seen before (or a cycle)
                    seen.add(addr)
                    if isinstance(obj, h5py.Group):
                        walk(obj, f"{prefix}{key}/", depth + 1)
                    elif isinstance(obj, h5py.Dataset):
                        _check_hdf5_dataset(obj, f"{prefix}{key}", p, file_size, limit)
                        datasets.append((f"{prefix}{key}", obj))

            walk(f, "", 0)
            total = 0
            for _, ds in datasets:
                if ds.shape is not None:
                    total += _nbytes(ds.shape, ds.dtype.itemsize)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(
            f"{_name(p)}: corrupt HDF5 structure ({type(exc).__name__}: {exc}); re-create the "
            f"file or restore it from its source"
        ) from None
    _check_total(total, what=f"{len(datasets)} variables", source=p, limit=limit)
    return total


def _check_hdf5_dataset(ds, name: str, p: Path, file_size: int, limit: int) -> None:
    import h5py

    what = f"variable {name!r}"
    if ds.shape is None:  # an empty (null) dataspace
        return
    nbytes = _nbytes(ds.shape, ds.dtype.itemsize)
    dcpl = ds.id.get_create_plist()
    if dcpl.get_external_count() > 0:
        raise FormatError(
            f"{_name(p)}: {what} stores its data in external files; brim reads self-contained "
            f"files only"
        )
    if getattr(ds, "is_virtual", False):
        raise FormatError(
            f"{_name(p)}: {what} is a virtual dataset reading other files; brim reads "
            f"self-contained files only"
        )
    check_declared(nbytes, what=what, source=p, limit=limit)
    stored = ds.id.get_storage_size()
    if dcpl.get_layout() == h5py.h5d.CONTIGUOUS:
        offset = ds.id.get_offset()
        if offset is not None:
            _check_stored(
                nbytes, offset + nbytes, what=what, source=p, compressed=False, file_size=file_size
            )
    if stored > file_size:
        raise FormatError(
            f"{_name(p)}: {what} claims {format_bytes(stored)} of storage in a "
            f"{format_bytes(file_size)} file; the file is corrupt"
        )
    # Unwritten (never allocated) or compressed storage: even DEFLATE cannot explain more.
    _check_stored(nbytes, stored, what=what, source=p, compressed=True, file_size=file_size)


# ----------------------------------------------------------------------------- NetCDF3
def check_netcdf3(path: str | os.PathLike, *, limit: int | None = None) -> int:
    """Check the variables a NetCDF3 (classic / 64-bit offset) header declares.

    NetCDF3 is uncompressed: every fixed-size variable must end within the file.

    Parameters
    ----------
    path : path-like
        The file.
    limit : int, optional
        Bytes one variable may declare (default :func:`max_array_bytes`).

    Returns
    -------
    int
        The declared bytes of all variables together.

    Raises
    ------
    ResourceError
        A variable, or all together, exceed the limit, or the header declares more than memory
        holds.
    FormatError
        The file is not a readable NetCDF3 file (truncated or corrupt).
    """
    from scipy.io import netcdf_file

    limit = max_array_bytes() if limit is None else limit
    p = Path(path)
    total = 0
    try:
        # mmap=True maps the data instead of reading them: a header that declares more than
        # the file holds fails here instead of allocating.
        f = netcdf_file(p, "r", mmap=True, maskandscale=False)
    except MemoryError:
        raise ResourceError(
            f"{_name(p)}: its NetCDF3 header declares more data than memory holds; the header "
            f"is corrupt"
        ) from None
    except Exception as exc:  # noqa: BLE001 - scipy raises ValueError, TypeError, OSError...
        msg = first_line(exc)
        raise FormatError(
            f"{_name(p)}: not a readable NetCDF3 file ({msg}); the file is truncated or corrupt"
        ) from None
    try:
        for name, var in f.variables.items():
            nbytes = int(var.data.nbytes)
            check_declared(nbytes, what=f"variable {name!r}", source=p, limit=limit)
            total += nbytes
    finally:
        f.close()
    check_declared(total, what="all its variables together", source=p, limit=limit)
    return total


# ----------------------------------------------------------------------------- NumPy
def _npy_header(fh, where: str, p: Path):
    import numpy as np

    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except Exception as exc:  # noqa: BLE001 - ValueError, SyntaxError, tokenize.TokenError...
        msg = first_line(exc)
        raise FormatError(
            f"{_name(p)}: truncated or corrupt NumPy file: {where} has a damaged header ({msg})"
        ) from None
    return shape, dtype


def check_numpy(path: str | os.PathLike, *, limit: int | None = None) -> int:
    """Check the arrays an ``.npy`` or ``.npz`` file declares before :func:`numpy.load`.

    Parameters
    ----------
    path : path-like
        The file.
    limit : int, optional
        Limit in bytes (default :func:`max_array_bytes`).

    Returns
    -------
    int
        Declared bytes of all arrays together.

    Raises
    ------
    ResourceError
        An array, or all together, exceed the limit.
    FormatError
        A header is corrupt, or declares more data than the file (or zip member) holds.
    """
    import zipfile

    limit = max_array_bytes() if limit is None else limit
    p = Path(path)
    file_size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head.startswith(b"PK"):
            try:
                zf = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                return 0  # numpy.load reports the corrupt archive itself
            total = 0
            with zf:
                for info in zf.infolist():
                    if not info.filename.endswith(".npy"):
                        continue
                    member = f"array {info.filename[:-4]!r}"
                    check_declared(info.file_size, what=member, source=p, limit=limit)
                    if info.compress_type != zipfile.ZIP_STORED:
                        _check_stored(
                            info.file_size,
                            info.compress_size,
                            what=member,
                            source=p,
                            compressed=True,
                            file_size=file_size,
                        )
                    try:
                        with zf.open(info) as m:
                            shape, dtype = _npy_header(m, member, p)
                            hlen = m.tell()
                    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
                        continue  # numpy.load reports it
                    if dtype.hasobject:
                        continue  # refused by numpy.load(allow_pickle=False)
                    nbytes = _nbytes(shape, dtype.itemsize)
                    check_declared(nbytes, what=member, source=p, limit=limit)
                    if nbytes > info.file_size - hlen:
                        raise FormatError(
                            f"{_name(p)}: {member} declares {format_bytes(nbytes)} but its "
                            f"member holds {format_bytes(max(info.file_size - hlen, 0))}; the "
                            f"file is truncated or corrupt"
                        )
                    total += nbytes
            _check_total(total, what="arrays", source=p, limit=limit)
            return total
        if not head.startswith(b"\x93NUM"):
            return 0  # not a .npy: numpy.load says so
        shape, dtype = _npy_header(fh, "the array", p)
        if dtype.hasobject:
            return 0
        nbytes = _nbytes(shape, dtype.itemsize)
        check_declared(nbytes, what="the array", source=p, limit=limit)
        _check_stored(
            nbytes,
            fh.tell() + nbytes,
            what="the array",
            source=p,
            compressed=False,
            file_size=file_size,
        )
        return nbytes


# ----------------------------------------------------------------------------- MATLAB
_MAT_ITEMSIZE = {
    "double": 8,
    "single": 4,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "char": 4,  # read as numpy unicode (UCS-4)
    "logical": 1,
}


def check_mat(path: str | os.PathLike, *, limit: int | None = None) -> int:
    """Check the variables of a MATLAB file (v5 headers, or v7.3 = HDF5) before loading it.

    Version 5 files may compress each variable with DEFLATE, so a declared size is checked
    against the limit and against :data:`MAX_DEFLATE_RATIO` times the file size.

    Parameters
    ----------
    path : path-like
        The ``.mat`` file.
    limit : int, optional
        Bytes one variable may declare (default :func:`max_array_bytes`).

    Returns
    -------
    int
        Declared bytes of all numeric variables together (complex counted twice).

    Raises
    ------
    ResourceError
        A variable, or all together, exceed the limit, or a header declares more than memory
        holds.
    FormatError
        A variable declares more than :data:`MAX_DEFLATE_RATIO` times the file size, or a v7.3
        file fails :func:`check_hdf5`. A v5 file whose headers do not parse passes (0 bytes):
        the loader reports it.
    """
    limit = max_array_bytes() if limit is None else limit
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(520)
    if b"\x89HDF\r\n\x1a\n" in (head[512:520], head[:8]):
        return check_hdf5(p, limit=limit)
    from scipy.io import whosmat

    try:
        entries = whosmat(str(p))
    except MemoryError:
        raise ResourceError(
            f"{_name(p)}: a variable header declares more than memory holds"
        ) from None
    except Exception:  # noqa: BLE001 - the loader reports corrupt files itself
        return 0
    file_size = p.stat().st_size
    total = 0
    for name, shape, cls in entries:
        item = _MAT_ITEMSIZE.get(cls)
        if item is None:
            continue  # cell, struct, sparse, object: sizes not in the header
        nbytes = _nbytes(shape, item)
        what = f"variable {name!r}"
        check_declared(nbytes, what=what, source=p, limit=limit)
        _check_stored(nbytes, file_size, what=what, source=p, compressed=True, file_size=file_size)
        total += nbytes
    _check_total(total, what="variables", source=p, limit=limit)
    return total
