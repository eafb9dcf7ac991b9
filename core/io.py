"""Reading and writing brim files: NetCDF4 on HDF5 through h5netcdf.

:func:`save` writes atomically (a temporary file in the destination folder, flushed, fsynced and
renamed over the target), so a crash or a kill never leaves a truncated file and never destroys
the previous version; the temporaries of killed saves are removed by the next save into the
folder. :func:`check_input_file` is the one check every reader makes before opening an input.
:func:`open` recognises the file by its signature, loads a Dataset or a
DataTree, and checks it against its brim schema. :func:`read_text` is the one place where the
bytes of a vendor text file become text, and :func:`read_table` the one reader of text tables
(separator, decimal comma, header lines guessed one way for every modality).
"""

from __future__ import annotations

import builtins
import codecs
import contextlib
import dataclasses
import functools
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from brim import schema
from brim.errors import ConfigError, FormatError, MissingFileError, ResourceError, SchemaError
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
    return safe_text(text)


def read_text(
    path: str | os.PathLike,
    *,
    what: str = "input",
    encoding: str = "utf-8-sig",
    limit: int | None = None,
) -> str:
    """The text of a vendor text file (CSV, DMR matrix, Touchstone...), checked and decoded.

    The one place where brim turns a text file's bytes into text: every text reader (and
    :func:`read_table`) calls it, so a byte-order mark, UTF-16 and a spreadsheet workbook saved
    under a ``.csv`` name are handled the same way everywhere.

    Parameters
    ----------
    path : str or os.PathLike
        The file; :func:`check_input_file` is applied first.
    what : str
        What the file is, for the messages ("MERIT scan", "extinction table"...).
    encoding : str
        Its encoding; the default is UTF-8 with an optional byte-order mark (plain ASCII,
        which the numeric formats are, decodes the same). A byte-order mark overrides it: a
        UTF-8 mark is dropped, and a UTF-16 mark (what Windows Notepad calls "Unicode")
        decodes the file as UTF-16 (when it is valid UTF-16).
    limit : int, optional
        Read only the first ``limit`` bytes (a preview); the last character may then be cut,
        which a multi-byte encoding reports as an invalid byte.

    Returns
    -------
    str
        The decoded text.

    Raises
    ------
    FormatError
        A spreadsheet workbook (an Excel ``.xlsx`` or ``.xls``, an OpenDocument ``.ods``) under
        any name: the message says to save the sheet as CSV. A byte that is not valid in
        ``encoding`` (a damaged file, or another format): the message names the file, line and
        column. Or the file cannot be read.
    MissingFileError
        No such file.
    """
    p = check_input_file(path, what=what)
    try:
        if limit is None:
            data = p.read_bytes()
        else:
            with builtins.open(p, "rb") as fh:
                data = fh.read(limit)
    except OSError as exc:
        raise FormatError(
            f"{what} file {display_path(p)} cannot be read ({exc.strerror})"
        ) from None
    workbook = _spreadsheet(data)
    if workbook:
        raise FormatError(
            f"{display_path(p.name)}: a spreadsheet workbook ({workbook}), not a text {what}; "
            "save the sheet as CSV and give that file"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        with contextlib.suppress(UnicodeDecodeError):  # else not UTF-16 text: judged below
            return data.decode("utf-16")  # the mark says how the text is stored
    elif data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FormatError(
            f"{display_path(p.name)}: line {line}, column {col}: byte "
            f"0x{data[exc.start]:02x} is not valid {encoding.removesuffix('-sig').upper()} "
            f"text; the {what} file is damaged or in another format"
        ) from None


_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _spreadsheet(data: bytes) -> str | None:
    """Which spreadsheet workbook ``data`` (a file's first bytes, or all) is, else None.

    An ``.xlsx`` is a zip holding ``xl/`` parts, an ``.ods`` a zip whose first member says
    ``application/vnd.oasis.opendocument.spreadsheet``, an ``.xls`` an OLE2 compound file with
    a ``Workbook`` (or ``Book``) stream; other zips (a PyTorch checkpoint) and OLE2 files (a
    Word document) are not called spreadsheets.
    """
    if data.startswith(_ZIP_MAGIC):
        if b"xl/" in data:
            return "an Excel .xlsx"
        if b"opendocument.spreadsheet" in data[:200]:
            return "an OpenDocument .ods"
    elif data.startswith(_OLE2_MAGIC) and (
        "Workbook".encode("utf-16-le") in data or "Book\0".encode("utf-16-le") in data
    ):
        return "an Excel .xls"
    return None


class TableRow(NamedTuple):
    """One data line of a :class:`TextTable`."""

    line: int
    """Its line number in the file (from 1; blank and comment lines count)."""
    cells: list[str]
    """Its cells, each stripped of surrounding blanks (quotes removed when quoting is on)."""
    text: str
    """The line, stripped of surrounding blanks."""


#: A line of numbers separated by blanks with decimal commas (``30,76 30,90``, a
#: Portuguese-locale DMR-IR export): a comma between digits, numbers separated by blanks, and
#: no comma next to a blank (``1.5, 2.5`` is comma-separated).
_DECIMAL_WITH_BLANKS = (
    re.compile(r"\d,\d"),
    re.compile(r"[\d.][ \t]+[-+]?[.\d]"),
)
_COMMA_AT_BLANK = re.compile(r",[ \t]|[ \t],")
_SPACED_NUMBERS = re.compile(r"[\d.] +[-+]?[.\d]")  # spaces between numbers, tabs elsewhere
_EXCEL_SEP = re.compile(r'"?sep=.?"?')
_SEPARATING_COMMA = re.compile(r"(?<!\d),|,(?!\d)")  # not a decimal mark between digits


def _sniff(line: str, *, blanks: bool, quoting: bool) -> str:
    """The separator of a table whose first data line is ``line`` (see :func:`parse_table`)."""
    bare = re.sub(r'"[^"]*"', "", line) if quoting else line  # a quoted note says nothing
    if ";" in bare and bare.count(";") >= len(_SEPARATING_COMMA.findall(bare)):
        return ";"  # ``1;24,5``, not ``ID,Notes,left; upper`` (more commas that separate)
    if (
        blanks
        and all(rx.search(bare) for rx in _DECIMAL_WITH_BLANKS)
        and not _COMMA_AT_BLANK.search(bare)
    ):
        return " "
    if bare.count("\t") > bare.count(","):
        return " " if blanks and _SPACED_NUMBERS.search(bare) else "\t"
    if "," in bare or not blanks:
        return ","
    return " "


@dataclasses.dataclass(frozen=True)
class TextTable:
    """A text table as :func:`parse_table` (or :func:`read_table`) found it.

    Attributes
    ----------
    text : str
        The whole decoded text.
    lines : list of (int, str)
        The data lines: (line number from 1, the line stripped of surrounding blanks); blank
        lines, comment lines and an Excel ``sep=`` line are left out.
    comments : list of (int, str)
        The comment lines, numbered and stripped the same way (empty without a comment mark).
    separator : str
        ``","``, ``";"``, ``"\\t"``, the character of an Excel ``sep=`` line, or ``" "`` for
        cells separated by runs of blanks (spaces or tabs).
    decimal_comma : bool
        The separator is not a comma and a data line holds one: commas are decimal marks
        (``30,76``). Readers convert the numbers they read; the cells are left as written.
    quoting : bool
        Cells may be quoted (``"seen, twice"``), the CSV way.
    strip_trailing : bool
        Empty cells at the end of a row (a separator closing it, ``1;2;``) are dropped.
    """

    text: str = dataclasses.field(repr=False)
    lines: list[tuple[int, str]] = dataclasses.field(repr=False)
    comments: list[tuple[int, str]] = dataclasses.field(repr=False)
    separator: str
    decimal_comma: bool
    quoting: bool = False
    strip_trailing: bool = False

    def cells(self, line: str) -> list[str]:
        """The cells of one line, split the table's way.

        Parameters
        ----------
        line : str
            A line of the table.

        Returns
        -------
        list of str
            The cells, stripped of surrounding blanks.
        """
        if self.separator == " ":
            out = line.split()
        elif self.quoting:
            import csv

            out = [c.strip() for c in next(csv.reader([line], delimiter=self.separator), [])]
        else:
            out = [c.strip() for c in line.split(self.separator)]
        if self.strip_trailing:
            while out and not out[-1]:
                out.pop()
        return out

    @functools.cached_property
    def rows(self) -> list[TableRow]:
        """The data rows, in file order; a row of empty cells only (a spreadsheet's
        ``,,,,`` line) is left out."""
        out = []
        for n, text in self.lines:
            cells = self.cells(text)
            if any(cells):
                out.append(TableRow(n, cells, text))
        return out

    @functools.cached_property
    def header_lines(self) -> int:
        """How many rows at the start have a first cell that is not a number: header lines
        (column names, a units row)."""
        k = 0
        for row in self.rows:
            cell = row.cells[0].replace(",", ".") if self.decimal_comma else row.cells[0]
            try:
                float(cell)
            except ValueError:
                k += 1
                continue
            break
        return k


def parse_table(
    text: str,
    *,
    separator: str | None = None,
    blanks: bool = True,
    quoting: bool = False,
    comment: str | None = "#",
    strip_trailing: bool = False,
) -> TextTable:
    """Split the text of a table into numbered lines and cells, guessing its conventions.

    The one table sniffer of brim, for the tables people save from spreadsheets, editors and
    instruments. Line ends may be LF, CRLF or CR (a form feed, or a damaged byte decoded as
    another Unicode line break, stays inside its line, where the reader names it); blank lines
    and lines that start with ``comment`` are not data. An Excel ``sep=;`` first line names the
    separator and is not data. Otherwise the first data line decides:

    1. a ``;`` there, at least as often as commas that are not between digits: ``;``
       separates, and commas are decimal marks (a spreadsheet in a decimal-comma locale);
    2. numbers separated by blanks with a comma between digits and none beside a blank
       (``30,76 30,90``): blanks separate and commas are decimal marks (when ``blanks``);
    3. more tabs than commas: tabs separate (runs of blanks, when ``blanks`` and spaces
       also separate two numbers: ``30.76  30.90\t31.00``);
    4. a comma (or ``blanks`` is False): commas separate;
    5. else runs of blanks (spaces or tabs) separate.

    Parameters
    ----------
    text : str
        The table's text (see :func:`read_text`).
    separator : str, optional
        The separator (``","``, ``";"``, ``"\\t"``, or ``" "`` for runs of blanks) when the
        format fixes it; default: guessed as above.
    blanks : bool
        Whether runs of blanks may separate cells; a CSV-only table (False) with no ``;``, tab
        or comma has one column.
    quoting : bool
        Cells may be quoted the CSV way (``"seen, twice"``); quoted text is not used to guess.
    comment : str or None
        The mark that starts a comment line; None: no comment lines.
    strip_trailing : bool
        Drop the empty cells at the end of each row (a separator closing it: ``1;2;``).

    Returns
    -------
    TextTable
        The lines, comment lines, separator and decimal mark; ``rows`` gives the cells.

    Examples
    --------
    >>> t = parse_table("# exported\\r\\nID;BMI\\r\\n1;24,5\\r\\n")
    >>> t.separator, t.decimal_comma, t.header_lines, t.comments
    (';', True, 1, [(1, '# exported')])
    >>> [(r.line, r.cells) for r in t.rows]
    [(2, ['ID', 'BMI']), (3, ['1', '24,5'])]
    >>> parse_table("30,76 30,90\\n31,02 30,88\\n").rows[1].cells
    ['31,02', '30,88']
    """
    lines: list[tuple[int, str]] = []
    comments: list[tuple[int, str]] = []
    for n, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        if comment and line.startswith(comment):
            comments.append((n, line))
        else:
            lines.append((n, line))
    if lines and _EXCEL_SEP.fullmatch(lines[0][1].lower()):
        separator = separator or lines[0][1].strip('"')[4:] or ","
        lines = lines[1:]
    if separator is None:
        separator = _sniff(lines[0][1], blanks=blanks, quoting=quoting) if lines else ","
    decimal_comma = separator != "," and any("," in t for _, t in lines)
    return TextTable(
        text=text,
        lines=lines,
        comments=comments,
        separator=separator,
        decimal_comma=decimal_comma,
        quoting=quoting,
        strip_trailing=strip_trailing,
    )


def read_table(
    path: str | os.PathLike,
    *,
    what: str = "table",
    encoding: str = "utf-8-sig",
    separator: str | None = None,
    blanks: bool = True,
    quoting: bool = False,
    comment: str | None = "#",
    strip_trailing: bool = False,
) -> TextTable:
    """Read a text table (CSV, TSV, blank-separated) as numbered rows of cells.

    :func:`read_text` decodes the file (a byte-order mark, UTF-16, a spreadsheet workbook
    refused with "save the sheet as CSV"), and :func:`parse_table` finds its lines, separator,
    decimal mark and header lines. The cells are strings: each reader converts its own values
    and words its own messages.

    Parameters
    ----------
    path : str or os.PathLike
        The table file (checked and decoded by :func:`read_text`).
    what : str
        The table's name in messages ("extinction table", "optical measurement"...).
    encoding : str
        How it is encoded when no byte-order mark says otherwise.
    separator, blanks, quoting, comment, strip_trailing
        As for :func:`parse_table`.

    Returns
    -------
    TextTable
        The table's lines, comment lines, separator and decimal mark; ``rows`` gives the cells
        and ``header_lines`` the header lines.

    Raises
    ------
    FormatError
        A spreadsheet workbook, bytes that are not text in ``encoding``, or an unreadable file.
    MissingFileError
        No such file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = path.write_text("ID;Diagnosis\\n1;Sick\\n", encoding="utf-16")
    >>> table = read_table(path, what="labels CSV")
    >>> table.separator, [r.cells for r in table.rows]
    (';', [['ID', 'Diagnosis'], ['1', 'Sick']])
    """
    return parse_table(
        read_text(path, what=what, encoding=encoding),
        separator=separator,
        blanks=blanks,
        quoting=quoting,
        comment=comment,
        strip_trailing=strip_trailing,
    )


def read_image(path: str | os.PathLike, *, what: str = "image"):
    """Open and decode an image file (PNG, JPEG, ...) with Pillow, refusing what is unsafe.

    The one image reader of brim (thermal grey exports, ultrasound B-mode images, masks): the
    declared size is checked before any pixel is decoded, so a small file whose header declares
    a huge image (a decompression bomb) is refused instead of exhausting memory, and Pillow's
    many exception types for unknown, truncated or damaged files become one FormatError.

    Parameters
    ----------
    path : str or os.PathLike
        The image file; :func:`check_input_file` is applied first.
    what : str
        What the image is, for the messages.

    Returns
    -------
    PIL.Image.Image
        The decoded image (pixels loaded, file closed).

    Raises
    ------
    FormatError
        Not an image Pillow reads, truncated or corrupt, or more pixels than
        ``PIL.Image.MAX_IMAGE_PIXELS`` (89.5 million by default; a DMR-IR thermogram has 0.3
        million, a BUSI ultrasound image about 0.3 million).
    MissingFileError
        No such file.
    """
    import warnings

    from PIL import Image

    p = check_input_file(path, what=what)
    name = display_path(p.name)
    limit = Image.MAX_IMAGE_PIXELS or 89_478_485
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(p)
            try:
                w, h = im.size
                if w * h > limit:
                    raise FormatError(
                        f"{name}: the {what} declares {w} x {h} pixels ({w * h / 1e6:.0f} "
                        f"million), more than the limit of {limit / 1e6:.0f} million; the file "
                        f"is damaged or not a {what}"
                    )
                im.load()
            except BaseException:
                im.close()
                raise
    except FormatError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FormatError(f"{name}: the {what} is too large to decode ({exc})") from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError...
        raise FormatError(
            f"{name}: not a readable {what}, or truncated/corrupt "
            f"({type(exc).__name__}: {_one_line(exc)})"
        ) from None
    return im


def read_mat(path: str | os.PathLike, *, squeeze: bool = False) -> dict[str, np.ndarray]:
    """The variables of a MATLAB ``.mat`` file (v4, v5/v7 or v7.3), the one MATLAB loader of brim.

    The declared sizes are checked first (:func:`brim.limits.check_mat`). Version 4 to 7 files
    are read with :func:`scipy.io.loadmat`; version 7.3 files are HDF5 and are read with h5py
    and laid out as SciPy gives the same data saved with ``-v7``: arrays transposed back from
    MATLAB's column-major storage (at least 2-D, MATLAB's shape), complex numbers from the
    ``real``/``imag`` compound, ``char`` arrays as one string per row, ``logical`` as uint8,
    ``cell`` arrays as object arrays, structs (scalar or arrays) as structured arrays with one
    object field per MATLAB field, sparse matrices dense (after a size check). MATLAB objects
    (``string``, ``table``, function handles) of a v7.3 file are not decoded and are left out.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.mat`` file; :func:`check_input_file` is applied first.
    squeeze : bool
        Drop dimensions of length 1 (``scipy.io.loadmat(..., squeeze_me=True)``); a scalar
        becomes a 0-d array.

    Returns
    -------
    dict of str to numpy.ndarray
        Variable name to value (no ``__header__``-style entries; a v7.3 file lists them by
        name).

    Raises
    ------
    FormatError
        Not a MATLAB file, or a truncated or corrupt one (the message names the file).
    ResourceError
        A variable declares more bytes than brim's limit.
    MissingFileError
        No such file.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.io
    >>> scipy.io.savemat("scan.mat", {"rf": np.arange(6.0).reshape(2, 3), "units": "mm"})
    >>> m = read_mat("scan.mat")
    >>> m["rf"].shape, m["rf"][1].tolist(), m["units"].tolist()
    ((2, 3), [3.0, 4.0, 5.0], ['mm'])
    >>> read_mat("scan.mat", squeeze=True)["units"].item()
    'mm'
    """
    from brim.limits import check_mat

    p = check_input_file(path, what="MATLAB")
    check_mat(p)  # declared sizes, before scipy or h5py allocate them
    if _signature(p) == "hdf5":  # MATLAB v7.3: HDF5 behind a 512-byte header
        out = _read_mat73(p)
        return {k: _mat_squeeze(v) for k, v in out.items()} if squeeze else out
    import scipy.io

    name = display_path(p.name)
    try:
        m = scipy.io.loadmat(p, squeeze_me=squeeze)
    except NotImplementedError:  # scipy's answer to a v7.3 header without HDF5 behind it
        raise FormatError(
            f"{name}: a MATLAB v7.3 header without HDF5 data; the file is truncated or corrupt"
        ) from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - scipy raises several types for foreign files
        raise FormatError(
            f"{name}: not a readable MATLAB file ({type(exc).__name__}: {_one_line(exc)})"
        ) from None
    return {k: _mat_dense(v, p, k) for k, v in m.items() if not k.startswith("__")}


def _mat_dense(value, p: Path, name: str) -> np.ndarray:
    """A loaded MATLAB value as an array: a sparse matrix densified after a size check."""
    if hasattr(value, "toarray"):
        from brim.limits import check_declared

        nbytes = int(np.prod(value.shape)) * value.dtype.itemsize
        check_declared(nbytes, what=f"sparse variable {name!r} made dense", source=p)
        return value.toarray()
    return np.asarray(value)


def _mat_squeeze(a: np.ndarray) -> np.ndarray:
    """SciPy's ``squeeze_me`` for a v7.3 value: length-1 dimensions dropped, inside cells and
    struct fields too, where a scalar becomes a Python scalar and an empty value ``array([])``."""
    for idx in np.ndindex(a.shape):
        if a.dtype.names:
            for field in a.dtype.names:
                a[field][idx] = _mat_squeeze_element(a[field][idx])
        elif a.dtype == object:
            a[idx] = _mat_squeeze_element(a[idx])
    return np.squeeze(a)


def _mat_squeeze_element(value):
    a = _mat_squeeze(np.asarray(value))
    if not a.size:
        return np.array([])
    return a.item() if a.ndim == 0 and (a.dtype.isbuiltin or a.dtype.kind == "U") else a


def _read_mat73(p: Path) -> dict[str, np.ndarray]:
    """The variables of a MATLAB v7.3 (HDF5) file, laid out as SciPy reads a v5 file."""
    import h5py

    try:
        with h5py.File(p, "r") as f:
            out = {}
            for k, obj in f.items():
                if k.startswith("#"):
                    continue  # '#refs#' (cell and struct members), '#subsystem#' (objects)
                value = _mat73_value(f, obj, p, k)
                if value is not None:
                    out[k] = value
            return out
    except (FormatError, ResourceError):
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError) as exc:
        # RecursionError (a RuntimeError): a cell or struct that holds itself
        raise FormatError(
            f"{display_path(p.name)}: MATLAB v7.3 (HDF5) file is truncated or corrupt "
            f"({type(exc).__name__}: {_one_line(exc)}); re-export it from its source"
        ) from None


_MAT73_NUMERIC = {
    "double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
    "uint64", "logical", "char",
}  # fmt: skip


def _mat73_value(f, obj, p: Path, name: str):
    """One v7.3 variable (dataset or group) as SciPy would give it, or None for an object."""
    import h5py

    cls = obj.attrs.get("MATLAB_class", b"")
    cls = cls.decode("ascii", "replace") if isinstance(cls, bytes) else str(cls)
    if isinstance(obj, h5py.Group):
        if "MATLAB_sparse" in obj.attrs:
            return _mat73_sparse(obj, p, name)
        if cls not in ("struct", ""):
            return None  # a MATLAB object (MCOS): not decoded
        return _mat73_struct(f, obj, p, name)
    if obj.attrs.get("MATLAB_empty", 0):  # the dataset holds the MATLAB dimensions, no values
        shape = tuple(int(n) for n in np.ravel(obj[()]))
        if 0 not in shape:
            raise FormatError(
                f"{display_path(p.name)}: variable {name!r} is marked empty but declares the "
                f"size {shape}; the file is corrupt"
            )
        kinds = {"": np.float64, "double": np.float64, "single": np.float32, "logical": np.uint8}
        dtype = kinds.get(cls, "<U1" if cls == "char" else cls if cls in _MAT73_NUMERIC else object)
        return np.zeros(shape, dtype=dtype)
    data = obj[()]
    if cls == "cell":
        refs = np.asarray(data).T
        cells = np.empty(refs.shape, dtype=object)
        for idx in np.ndindex(refs.shape):
            cells[idx] = _mat73_value(f, f[refs[idx]], p, name)
        return cells
    if cls and cls not in _MAT73_NUMERIC:
        return None  # a MATLAB object (string, function handle...): not decoded
    data = _mat73_complex(data).T  # MATLAB stores column-major: h5py sees the transpose
    if cls == "char":  # UTF-16 code units, one string per row (SciPy's chars_as_strings)
        rows = data.reshape(-1, data.shape[-1]) if data.ndim else data.reshape(1, 1)
        text = ["".join(map(chr, row)) for row in rows.astype(np.uint32)]
        return np.asarray(text).reshape(data.shape[:-1] or (1,))
    return data


def _mat73_complex(data) -> np.ndarray:
    """v7.3 stores a complex array as a compound of ``real`` and ``imag``: make it complex."""
    if data.dtype.names and {"real", "imag"} <= set(data.dtype.names):
        return data["real"] + 1j * data["imag"]
    return np.asarray(data)


def _mat73_struct(f, group, p: Path, name: str) -> np.ndarray:
    """A v7.3 struct: a scalar struct is a group of its fields; a struct array is a group of
    reference arrays, one per field, each the struct array's shape."""
    import h5py

    order = group.attrs.get("MATLAB_fields")
    fields = (
        [
            "".join(c.decode() if isinstance(c, bytes) else str(c) for c in np.ravel(n))
            for n in order
        ]
        if order is not None
        else list(group)
    )
    fields = [k for k in fields if k in group] or list(group)
    members = [group[k] for k in fields]
    is_array = bool(members) and all(
        isinstance(d, h5py.Dataset)
        and d.dtype == h5py.ref_dtype
        and d.attrs.get("MATLAB_class", b"") not in (b"cell", "cell")  # a scalar's cell field
        for d in members
    )
    shape = members[0].shape[::-1] if is_array else (1, 1)
    out = np.empty(shape, dtype=[(k, object) for k in fields])
    for k, d in zip(fields, members, strict=True):
        if is_array:
            refs = np.asarray(d[()]).T
            for idx in np.ndindex(shape):
                out[k][idx] = _mat73_value(f, f[refs[idx]], p, name)
        else:
            out[k][0, 0] = _mat73_value(f, d, p, name)
    return out


def _mat73_sparse(group, p: Path, name: str) -> np.ndarray:
    """A v7.3 sparse matrix (compressed columns: ``data``, ``ir``, ``jc``), made dense."""
    import scipy.sparse

    n_rows = int(np.ravel(group.attrs["MATLAB_sparse"])[0])
    jc = np.asarray(group["jc"][()], dtype=np.int64).ravel()
    ir = np.asarray(group["ir"][()], dtype=np.int64).ravel() if "ir" in group else jc[:0]
    if "data" in group:
        data = _mat73_complex(group["data"][()]).ravel()
    else:  # an all-zero matrix stores no values
        data = np.zeros(0)
    if group.attrs.get("MATLAB_class", b"") in (b"logical", "logical"):
        data = data.astype(bool)
    matrix = scipy.sparse.csc_matrix((data, ir, jc), shape=(n_rows, jc.size - 1))
    return _mat_dense(matrix, p, name)


def safe_text(text: str) -> str:
    """``text`` with characters that UTF-8 cannot encode written as backslash escapes.

    Lone surrogates come from undecodable bytes (a non-UTF-8 file name, a corrupt attribute
    that h5py decoded with ``surrogateescape``); HDF5 and a UTF-8 terminal refuse them. The
    original byte ``0xff`` becomes the four characters ``\\xff``; valid text is unchanged.

    Parameters
    ----------
    text : str
        Any string.

    Returns
    -------
    str
        A string that encodes to UTF-8 without error.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates outside U+DC80..U+DCFF (e.g. from JSON "\\ud800")
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_value(v):
    """Attribute or variable value with every string made encodable (see :func:`safe_text`)."""
    if isinstance(v, str):
        return safe_text(v)
    if not isinstance(v, (np.ndarray, list, tuple)) or not _needs_escape(v):
        return v
    if isinstance(v, np.ndarray) and v.dtype.kind in "UO":
        return np.array(
            [safe_text(e) if isinstance(e, str) else e for e in v.ravel().tolist()],
            dtype=v.dtype if v.dtype.kind == "O" else None,
        ).reshape(v.shape)
    if isinstance(v, (list, tuple)):
        return type(v)(safe_text(e) if isinstance(e, str) else e for e in v)
    return v


def _clean_attrs(attrs: dict, where: str) -> dict:
    """Flatten attributes to what NetCDF stores: str, numbers, 1-D numeric arrays.

    Strings are made encodable (a non-UTF-8 file name recorded as a source, an attribute
    read from a corrupt file): undecodable bytes are written as ``\\xNN`` escapes.
    """
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        k = safe_text(str(k))
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
            out[k] = _safe_value(v)
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
        elif var.dtype.kind in "UO" and _needs_escape(var.values):
            # text values (file names as labels...) that UTF-8 cannot encode
            new = xr.Variable(var.dims, _safe_value(np.asarray(var.values)), attrs)
            if name in ds.coords:
                ds = ds.assign_coords({name: new})
            else:
                ds[name] = new
        else:
            var.attrs = attrs
    return ds


def _needs_escape(values) -> bool:
    if isinstance(values, (list, tuple)):
        values = [e for e in values if isinstance(e, str)]
    arr = np.asarray(values)
    if arr.dtype.kind not in "UO":
        return False
    for e in arr.ravel().tolist():
        if isinstance(e, str) and safe_text(e) is not e:
            return True
    return False


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

    Notes
    -----
    The data are written to ``.<stem>.brim-tmp-<host>-<pid>-<random>.nc`` in the destination
    folder (the stem cut to 40 bytes, so any legal name works), fsynced, and renamed over
    ``path``. A save that is killed leaves that temporary behind; the next save into the folder
    removes it (see :func:`remove_stale_temporaries`). Text that UTF-8 cannot encode (a
    non-UTF-8 file name recorded as a source) is stored with ``\\xNN`` escapes.

    Raises
    ------
    SchemaError
        The data break their schema, or a variable holds Python objects of mixed types
        (nothing is written).
    MissingFileError
        The destination folder does not exist.
    ConfigError
        ``obj`` is not a Dataset or DataTree (or the arguments are swapped), ``path`` is a
        folder, the file name is longer than the file system allows (255 bytes), or ``path``
        has a picture suffix (``.png``, ``.jpg``, ``.pdf``...): NetCDF data in a file named like
        an image is refused; draw a picture with ``brim plot FILE.nc -o FILE.png``.

    See Also
    --------
    brim.open : read the file back.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import brim, brim.data
    >>> ds = brim.data.sample("thermo_phantom_tumour")
    >>> path = brim.save(ds, pathlib.Path(tempfile.mkdtemp()) / "thermogram.nc")
    >>> path.name
    'thermogram.nc'
    >>> brim.open(path).brim.kind
    'thermogram'

    An invalid Dataset is refused, and nothing is written:

    >>> bad = ds.assign(temperature=ds.temperature.assign_attrs(units="K"))
    >>> brim.save(bad, path.with_name("bad.nc"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    brim.errors.SchemaError: ...variable 'temperature' has units 'K'; expected one of ['degC']...
    >>> path.with_name("bad.nc").exists()
    False
    """
    if isinstance(obj, (str, os.PathLike)) and isinstance(path, (xr.Dataset, xr.DataTree)):
        raise ConfigError("brim.save takes (dataset, path): the arguments are swapped")
    path = Path(path)
    from brim.plotfile import IMAGE_SUFFIXES

    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise ConfigError(
            f"cannot save NetCDF data as {display_path(path)}: {path.suffix} is a picture "
            f"suffix; save to a .nc file and draw it with: brim plot FILE.nc -o {path.name}"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MissingFileError(f"cannot save to {path}: folder {folder} does not exist")
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not POSIX
        name_max = 255
    if len(os.fsencode(path.name)) > name_max:
        raise ConfigError(
            f"cannot save to {display_path(path)}: the file name is "
            f"{len(os.fsencode(path.name))} bytes, the file system allows {name_max}; "
            f"choose a shorter name"
        )
    if path.is_dir():
        raise ConfigError(
            f"cannot save to {display_path(path)}: it is a folder; give a file name, "
            f"e.g. {display_path(path / 'scan.nc')}"
        )
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

    def write(tmp: str) -> None:
        try:
            prepared.to_netcdf(tmp, engine="h5netcdf")
        except ValueError as exc:
            # an object variable of mixed Python types (xarray names it and the types)
            if "unable to infer dtype" not in str(exc):
                raise
            raise SchemaError(f"{exc}; convert it with .astype(str) or .astype(float)") from None

    write_atomically(path, write)
    return path


def write_atomically(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Have ``write`` fill a fresh temporary beside ``path``, fsync it and rename it over ``path``.

    The one atomic write of brim (:func:`save`, :func:`write_text`, model files): a write that
    fails or is interrupted removes its temporary and leaves ``path`` as it was; a temporary left
    by a killed process is removed by a later write into the folder
    (:func:`remove_stale_temporaries`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist.
    write : callable
        Called with the temporary's path (a str); writes the whole file at exactly that path
        (a writer that adds its own suffix, like ``numpy.save``, needs an open file).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.bin"
    >>> _ = write_atomically(path, lambda tmp: pathlib.Path(tmp).write_bytes(b"\\x00\\x01"))
    >>> path.read_bytes()
    b'\\x00\\x01'
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_temporaries(folder)
    tmp = _create_temporary(folder, path)
    try:
        # The temporary is private (0600) while written: give the result the mode an ordinary
        # write would, or keep the mode of the file being replaced.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        write(tmp)
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


def write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write a text file (a CSV table, a JSON summary, an HTML report) atomically.

    The text goes to a hidden temporary in the destination folder, is fsynced and renamed
    over ``path``, as :func:`save` does for NetCDF: a command that fails or is killed midway
    leaves the previous file (or none), never a truncated one that a later step would read.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist. An existing file is replaced.
    text : str
        The whole content, written as given (no newline translation: ``"\\r\\n"`` stays).
    encoding : str
        Its encoding.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    MissingFileError
        The destination folder does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = write_text(pathlib.Path(tempfile.mkdtemp()) / "summary.csv", "id,dice\\n1,0.8\\n")
    >>> path.read_text()
    'id,dice\\n1,0.8\\n'
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MissingFileError(f"cannot write {display_path(path)}: folder {folder} does not exist")
    data = text.encode(encoding)

    def write(tmp: str) -> None:
        with builtins.open(tmp, "wb") as f:
            f.write(data)

    return write_atomically(path, write)


#: Marker in the name of every temporary file :func:`save` writes. A temporary is named
#: ``.<stem>.brim-tmp-<host>-<pid>-<random>.nc``: hidden, recognisable, and it says which
#: machine (a hash of the host name and PID namespace) and which process was writing it.
TEMP_MARKER = ".brim-tmp-"
#: A temporary older than this (seconds since its last write) is removed whatever its owner:
#: it was left by a save that was killed on another machine, or its PID was reused.
STALE_TEMP_AGE_S = 24 * 3600.0
#: A folder is searched for stale temporaries at most once per this many seconds per process,
#: so a batch writing thousands of files into one folder does not list it on every save.
_RESCAN_S = 600.0
_STEM_MAX_BYTES = 40
_TEMP_RE = re.compile(
    r"\.(?P<stem>.*)" + re.escape(TEMP_MARKER) + r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]{1,10})"
    r"-(?P<rand>[0-9a-f]{8})\.nc",
    re.DOTALL,
)
_scanned: dict[str, float] = {}


def _host_tag() -> str:
    """8 hex digits naming this machine and PID namespace (PIDs are only meaningful there)."""
    import hashlib
    import socket

    try:
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        ns = 0
    return hashlib.sha256(f"{socket.gethostname()}|{ns}".encode()).hexdigest()[:8]


def _short_stem(name: str) -> str:
    """``name`` cut to at most ``_STEM_MAX_BYTES`` bytes, with a hash of the full name if cut.

    A file name is at most 255 bytes (NAME_MAX); the temporary adds about 40, so a long input
    stem would otherwise make every save fail.
    """
    raw = os.fsencode(name)
    if len(raw) <= _STEM_MAX_BYTES:
        return name
    import hashlib

    digest = hashlib.sha256(raw).hexdigest()[:8]
    keep = _STEM_MAX_BYTES - len(digest) - 1
    cut = ""
    for ch in name:  # cut on a character boundary, counting bytes as the file system does
        if len(os.fsencode(cut + ch)) > keep:
            break
        cut += ch
    return f"{cut}~{digest}"


def _create_temporary(folder: Path, path: Path) -> str:
    """Create (exclusively, mode 0600) and return the temporary file for a save to ``path``."""
    stem = _short_stem(path.stem)
    tag = f"{_host_tag()}-{os.getpid()}"
    for _ in range(100):
        tmp = os.path.join(folder, f".{stem}{TEMP_MARKER}{tag}-{secrets.token_hex(4)}.nc")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # pragma: no cover - 1 in 4e9
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file in {folder}")  # pragma: no cover


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # never written by brim: treat as alive, so only age can remove it
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's live process
        return True
    except (OverflowError, OSError):
        return False
    return True


def remove_stale_temporaries(folder: str | os.PathLike, *, force: bool = False) -> list[Path]:
    """Remove temporary files that killed saves left in ``folder``.

    :func:`save` writes into a temporary file and renames it; a save killed in between (SIGKILL,
    power loss) leaves the temporary behind. This removes only files that

    - match the temporary-name pattern of :func:`save` (``.<stem>.brim-tmp-<host>-<pid>-<hex>.nc``),
    - are regular files (not links) owned by the current user, and
    - were written by a process of this machine that is no longer alive, or were last written
      more than :data:`STALE_TEMP_AGE_S` ago (another machine sharing the folder, a reused PID).

    A save in progress in another process or thread is never touched. :func:`save` calls this
    for its destination folder (at most once per 10 minutes per folder and process).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder to clean (not recursive).
    force : bool
        Scan even if this process scanned ``folder`` recently.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    import logging
    import stat

    key = os.path.abspath(os.fspath(folder))
    now = time.time()
    if not force and now - _scanned.get(key, -_RESCAN_S) < _RESCAN_S:
        return []
    _scanned[key] = now
    removed: list[Path] = []
    here = _host_tag()
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        entries = list(os.scandir(os.fspath(folder)))
    except OSError:
        return removed
    for entry in entries:
        if TEMP_MARKER not in entry.name:
            continue
        m = _TEMP_RE.fullmatch(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        pid = int(m["pid"])
        dead = m["host"] == here and not _pid_alive(pid)
        if not (dead or now - st.st_mtime > STALE_TEMP_AGE_S):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
        logging.getLogger(__name__).info(
            "removed %s, left by a save that was killed (process %d)",
            display_path(entry.path),
            pid,
        )
    return removed


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


def _escape_read_attrs(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """Escape undecodable bytes in the attributes of a Dataset read from ``path``, with a warning.

    NetCDF-4 text attributes are UTF-8; h5py hands invalid bytes over as lone surrogates,
    which no later save, print or JSON export could encode. The bytes are kept, visibly, as
    ``\\xNN`` escapes: attributes are metadata, and those the schema relies on (``units``,
    ``brim_schema``...) are still checked exactly by validation, which refuses the file if one
    of them was damaged.
    """
    bad = []

    def fix(attrs: dict, where: str) -> dict:
        out = {}
        for k, v in attrs.items():
            k2, v2 = safe_text(str(k)), _safe_value(v)
            if k2 is not k or v2 is not v:
                bad.append(f"{where}{k2}")
            out[k2] = v2
        return out

    ds.attrs = fix(ds.attrs, "")
    for name in ds.variables:
        ds.variables[name].attrs = fix(ds.variables[name].attrs, f"{name}:")
    if bad:
        import warnings

        warnings.warn(
            f"{display_path(path)}: attribute(s) {', '.join(bad)} hold bytes that are not valid "
            f"UTF-8 (the file may be damaged); they are kept as \\xNN escapes",
            stacklevel=4,
        )
    return ds


def _restore(ds: xr.Dataset, path: Path | None = None) -> xr.Dataset:
    if path is not None:
        ds = _escape_read_attrs(ds, path)
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
    ".csv": "a MERIT scan? use brim.microwave.read_merit; an optical measurement? "
    "brim.fusion.read_measurement; a DMR-IR matrix saved as CSV? brim.thermo.read_dmr",
    ".mat": "a MATLAB file? use the modality's reader (brim.elasto.read_rf, "
    "brim.microwave.read_umbmid, brim.fusion.read_measurement)",
    ".npy": "a NumPy array? RF frames: brim.elasto.read_rf (with their sampling frequency, "
    "centre frequency and pitch); a DOT-guided-PAT map: brim.fusion.read_dot_pat_map",
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

    Returns
    -------
    xarray.Dataset or xarray.DataTree
        The data, loaded into memory (lazy Dask arrays with ``chunks``), with complex values,
        JSON attributes and provenance restored as :func:`brim.save` wrote them.

    Raises
    ------
    ConfigError
        ``path`` is not a path (an already open Dataset, say).
    MissingFileError
        No such file.
    FormatError
        Not a NetCDF/HDF5 file, or truncated or corrupt.
    SchemaError
        The file's content breaks its schema.

    See Also
    --------
    brim.save : the atomic writer.

    Examples
    --------
    >>> import brim, brim.data
    >>> ds = brim.open(brim.data.sample_path("thermo_phantom_tumour"))
    >>> ds.brim.kind, ds.temperature.dims, ds.temperature.attrs["units"]
    ('thermogram', ('y', 'x'), 'degC')
    >>> brim.open("no_such_file.nc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    brim.errors.MissingFileError: ...no_such_file.nc...
    """
    if not isinstance(path, (str, os.PathLike)):
        already = "; it is already open" if isinstance(path, (xr.Dataset, xr.DataTree)) else ""
        raise ConfigError(f"brim.open takes a file path, not {type(path).__name__}{already}")
    # missing, a folder, a symlink loop, a FIFO (which would block) or a device: refused
    path = check_input_file(path, what="brim")
    if path.stat().st_size == 0:
        raise FormatError(f"{path} is empty (0 bytes); the file was not written completely")
    kind = _signature(path)
    if kind == "unknown":
        hint = _VENDOR_HINTS.get(path.suffix.lower(), "convert it with the modality's reader")
        hint += " (`brim info FILE` tries every brim reader)"
        raise FormatError(f"{path} is not a NetCDF4/HDF5 file (no HDF5 signature); {hint}")
    engine = "h5netcdf" if kind == "hdf5" else "scipy"
    from brim import limits

    # Before HDF5 or xarray see the file: a corrupt global heap hangs the HDF5 library, and
    # declared sizes are checked before anything is allocated (brim.limits).
    if kind == "hdf5":
        limits.check_hdf5(path) if chunks is None else limits.check_hdf5_heaps(path)
    elif chunks is None:
        limits.check_netcdf3(path)
    try:
        grouped = kind == "hdf5" and _has_groups(path)
        if grouped:
            tree = xr.open_datatree(path, engine=engine, chunks=chunks)
            if chunks is None:
                tree = tree.load()
                tree.close()
            nodes = {n.path: _restore(n.to_dataset(inherit=False), path) for n in tree.subtree}
            result: Any = xr.DataTree.from_dict(nodes)
        else:
            ds = xr.open_dataset(path, engine=engine, chunks=chunks)
            if chunks is None:
                ds = ds.load()
                ds.close()
            result = _restore(ds, path)
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
    logging.getLogger(__name__).debug(
        "read %s (%s%s%s)",
        display_path(path),
        "DataTree" if isinstance(result, xr.DataTree) else result.attrs.get(schema.ATTR, "Dataset"),
        ", lazy" if chunks is not None else "",
        ", validated" if validate else "",
    )
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
    MissingFileError
        No such file.
    FormatError
        The file holds pickled Python objects (brim never unpickles a user file), is
        truncated, corrupt (a damaged header included) or not a NumPy file at all, or is not a
        regular file (a folder, a FIFO, a device).
    """
    import struct
    import tokenize
    import zipfile

    p = check_input_file(path)
    name = display_path(p.name)
    from brim.limits import check_numpy

    check_numpy(p)  # declared shapes against the size limit and the file, before allocating
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
                f"{name}: holds pickled Python objects or is not a NumPy file; brim never "
                f"unpickles user files, save plain numeric arrays"
            ) from None
        raise FormatError(f"{name}: truncated or corrupt NumPy file ({_one_line(exc)})") from None
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        # a damaged header: NumPy re-tokenizes old-style headers, and an unclosed quote or
        # bracket raises from the tokenizer, a stray character from the parser
        tokenize.TokenError,
        SyntaxError,
        struct.error,
        TypeError,
        KeyError,
        IndexError,
    ) as exc:
        raise FormatError(
            f"{name}: truncated or corrupt NumPy file ({type(exc).__name__}: {_one_line(exc)})"
        ) from None


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line, shortened to ``limit`` characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
