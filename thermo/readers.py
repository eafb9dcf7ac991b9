"""Readers of thermal images into brim ``thermogram`` / ``thermal_intensity`` Datasets.

Formats
-------
* DMR-IR temperature matrices (Silva et al., "A new database for breast research with infrared
  image", J. Med. Imaging Health Inform. 4(1), 92-100, 2014): 480 x 640 text matrices of degC,
  either space-separated with 2 decimals or ``;``-separated with 5 decimals (with or without a
  trailing ``;``), CRLF or CR-CR-LF line ends; re-saved copies too: comma-separated CSV, tabs,
  decimal commas, a UTF-8 byte-order mark or UTF-16. Kelvin, degF, a header line, a transposed
  or ragged matrix are refused by name. Both static (``T0012.txt``, ``PAC_12_...``) and
  dynamic frames (``PAC_64_DN3.txt``: frame 3 of the dynamic, cold-stress protocol). The
  database's segmented crops of a frame beside it (``PAC_64_DN3-esq.png``, ``-dir.png``) give
  it a breast ``mask``.
* FLIR radiometric JPEGs: :mod:`brim.thermo.flir`.
* 8-bit grey PNGs (exports, the Colombian cohort crops), optional alpha channel = mask: read as
  ``thermal_intensity`` (units "1"), never as degC.
* A folder or a list of frames: a (time, y, x) series.

:func:`read` dispatches on the file type; every reader records provenance.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from numpy.typing import DTypeLike

from brim import provenance
from brim.errors import FormatError, MissingFileError, warn

if TYPE_CHECKING:
    from brim.io import TextTable

__all__ = [
    "dmr_format",
    "parse_dmr_name",
    "patient_from_name",
    "read",
    "read_dmr",
    "read_frames",
    "read_grey",
]

DMR_SHAPE = (480, 640)

# the name prefixes of cameras' counters (IMG_0042, FLIR1234, DSC_0042, DJI_0042, PXL_...)
_CAMERA = r"(?:img|ir|flir|dsc[nf]?|dji|pxl|mvimg)"
# a date: a year 19xx/20xx, month 01-12 and day 01-31, with or without dashes
_DATE = r"(?:19|20)\d\d-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])"

_NAME_PATTERNS = (
    # PAC_64_DN0, PAC_12_DN3-esq, PAC_5_ST-dir, PAC_64 (the patient only); a user's rename
    # with blanks (PAC 64 DN3) was no name at all
    re.compile(
        r"^PAC[ _-]+(?P<patient>\d+)(?:(?:[ _-]+|$)(?P<protocol>DN|ST|EST|DIN|D|E)?(?P<frame>\d*)"
        r"(?:[ _-]+(?P<side>esq|dir|left|right|lat\w*))?)?",
        re.I,
    ),
    # T0012 (DMR-IR subset naming: patient id with a T prefix)
    re.compile(r"^T(?P<patient>\d+)$", re.I),
    # T0012_1: the patient's image 1 (which view or protocol, the name does not say)
    re.compile(r"^T(?P<patient>\d+)[ _-]+\d+$", re.I),
    # IR_20130410_1 (a camera's name: date and shot number, no patient; the shot is not a
    # dynamic frame number). A year 19xx/20xx, month 01-12 and day 01-31 make it a date.
    re.compile(rf"^{_CAMERA}_(?P<date>{_DATE})_(?P<shot>\d+)$", re.I),
    # IMG_0042, FLIR1234, DSC_0042, IR_0001: a camera's shot counter, no patient (taking it
    # for one grouped every 42nd shot of a camera as one patient)
    re.compile(rf"^{_CAMERA}[ _-]?(?P<shot>\d+)$", re.I),
    # 2024-05-01_scan3, 20240501_123456: a date, then a shot (a phone's time of day, a scan
    # counter); no patient
    re.compile(rf"^(?P<date>{_DATE})[ _-]+(?:[a-z]+[ _-]?)?(?P<shot>\d+)$", re.I),
    # img_12_1_ (IDs in some DMR exports: patient_frame)
    re.compile(r"^(?:img|ir)_(?P<patient>\d+)_(?P<frame>\d+)", re.I),
    # DMR web naming: <patient>_<view>_<protocol>_<yyyymmdd>, e.g. 12_frontal_static_20130410
    re.compile(
        # (no \w: it matches "_" and ate the rest, "lateral_left_static_20130410" was one view)
        r"^(?P<patient>\d+)[_-](?P<view>frontal|front|lateral(?:[_-](?:left|right))?"
        r"|left[a-z\d]*|right[a-z\d]*|[LR]\d+|F)"
        r"(?:[_-](?P<protocol>static|dynamic|est[a-z]*|din[a-z]*))?"
        r"(?:[_-](?P<date>\d{8}|\d{4}-\d{2}-\d{2}))?",
        re.I,
    ),
)

# a copy's mark at the end of a name: "T0001 (1)" (browsers), "PAC_64_DN3 - Copy" (Windows)
_COPY_MARK = re.compile(r"(?:\s*-?\s*(?:copy|copia|c\u00f3pia))?(?:\s*\(\d+\))?$", re.I)

_PROTOCOL = {"dn": "dynamic", "din": "dynamic", "d": "dynamic", "st": "static", "est": "static"}
_SIDE = {"esq": "left", "dir": "right", "left": "left", "right": "right"}


def _name_stem(name: str | os.PathLike) -> str:
    """The file name without its extension and a copy's mark."""
    stem = re.sub(r"\.(txt|csv|png|jpg|jpeg|nc)$", "", Path(name).name, flags=re.I)
    return _COPY_MARK.sub("", stem)  # "T0001 (1)": a browser's second download of T0001


def parse_dmr_name(name: str | os.PathLike) -> dict[str, str | int]:
    """Parse the DMR-IR file-naming convention into patient / view / protocol / date.

    Recognised: ``PAC_<id>_DN<k>`` (dynamic protocol, frame k), ``PAC_<id>_ST`` (static),
    ``PAC_<id>`` (blanks or ``-`` may replace ``_``), an optional ``-esq``/``-dir`` suffix
    (left/right, Portuguese), ``T<id>`` (DMR-IR subset files: static, frontal), ``T<id>_<n>``
    (patient only), ``<id>_<view>_<protocol>_<yyyymmdd>``; and cameras' names, which hold
    no patient: ``IR_<yyyymmdd>_<n>`` (date and shot), ``IMG_0042``, ``FLIR1234``,
    ``DSC_0042``, ``DJI_``, ``PXL_`` (shot: a camera's counter), ``2024-05-01_scan3`` (date and
    shot). A copy's mark (``" (1)"``, ``" - Copy"``) is ignored. Unknown parts are omitted:
    the last number of an unknown name is no patient (see :func:`patient_from_name`).

    Parameters
    ----------
    name : str or path-like
        A file name (or path: only its name is used).

    Returns
    -------
    dict
        Keys among ``patient`` (int), ``view``, ``protocol`` ("static"/"dynamic"), ``frame``
        (int), ``side``, ``date`` (ISO 8601), ``shot`` (int: a camera's counter, never a
        patient).

    Examples
    --------
    >>> parse_dmr_name("PAC_12_DN3-esq.txt")
    {'patient': 12, 'protocol': 'dynamic', 'frame': 3, 'side': 'left', 'view': 'frontal'}
    """
    stem = _name_stem(name)
    for pat in _NAME_PATTERNS:
        m = pat.match(stem)
        if not m:
            continue
        g = {k: v for k, v in m.groupdict().items() if v}
        out: dict[str, str | int] = {"patient": int(g["patient"])} if "patient" in g else {}
        proto = g.get("protocol", "")
        if proto:
            key = proto.lower()
            out["protocol"] = _PROTOCOL.get(key[:3], _PROTOCOL.get(key[:2], key))
            if key.startswith(("dyn", "din")):
                out["protocol"] = "dynamic"
            elif key.startswith(("stat", "est")):
                out["protocol"] = "static"
        if g.get("frame"):
            out["frame"] = int(g["frame"])
        if g.get("shot"):
            out["shot"] = int(g["shot"])
        if g.get("side"):
            out["side"] = _SIDE.get(g["side"].lower(), g["side"].lower())
        if g.get("view"):
            v = g["view"].lower()
            out["view"] = "frontal" if v in ("f", "front", "frontal") else v
        elif "protocol" in out or pat is _NAME_PATTERNS[1]:
            out["view"] = "frontal"
        if pat is _NAME_PATTERNS[1] and "protocol" not in out:
            out["protocol"] = "static"  # the DMR-IR subset files are static frontal images
        if g.get("date"):
            d = g["date"].replace("-", "")
            out["date"] = f"{d[:4]}-{d[4:6]}-{d[6:8]}"
        return out
    return {}


# names that are a patient's ID and nothing else: 0042, patient_42, paciente 42, subject-42,
# case42, SIM0042 (brim's simulated cohort, brim.thermo.simulate_cohort)
_ID_NAME = re.compile(
    r"^(?:(?:patient|paciente|subject|case|id|sim|iir)[ _-]?)?(?P<patient>\d+)$", re.I
)


def patient_from_name(name: str | os.PathLike, *, warn_unknown: bool = True) -> int | None:
    """The patient id a file name gives, or None: never a camera's counter or a stray number.

    The patient comes from a naming that states it: the DMR conventions of
    :func:`parse_dmr_name` (``T0012``, ``PAC_12_DN3``, ``12_frontal_static_20130410``), a name
    that is the ID alone (``0012``, ``patient_12``, ``paciente 12``, ``subject-12``,
    ``case12``, ``SIM0012``, and the Colombian cohort's per-breast crops ``IIR0012``, one
    left and one right per patient). Any other name gives None: ``IMG_0042``, ``FLIR1234``,
    ``2024-05-01_scan3`` hold a camera's counter, and taking their last number for the patient
    grouped unrelated shots as one patient (or one patient's shots as many) in patient-grouped
    cross-validation, and gave them another patient's label.

    Parameters
    ----------
    name : str or path-like
        A file name (or path: only its name is used).
    warn_unknown : bool
        Warn (:class:`brim.BrimWarning`) when the name gives no patient, saying how to give it.

    Returns
    -------
    int or None
        The patient id; None when the name does not state one.

    Examples
    --------
    >>> patient_from_name("T0012.txt"), patient_from_name("patient_12.txt")
    (12, 12)
    >>> patient_from_name("left/IIR0012.png")
    12
    >>> patient_from_name("IMG_0042.txt", warn_unknown=False) is None
    True
    """
    p = Path(name)
    info = parse_dmr_name(p.name)
    pid = info.get("patient")
    if isinstance(pid, int):
        return pid
    m = None if info else _ID_NAME.match(_name_stem(p))
    if m:
        return int(m["patient"])
    if warn_unknown:
        why = (
            f"its number {info['shot']} is a camera's shot counter, not a patient id"
            if "shot" in info
            else "it follows no naming that states a patient"
        )
        warn(
            f"{p.name}: no patient id taken from the name ({why}); name the "
            "file by its patient as the labels table's ID gives it (T0042.txt, "
            "PAC_42_ST.txt, patient_42.txt or 0042.txt)"
        )
    return None


def dmr_format(text: str) -> str:
    """Which DMR text format: ``"space"``, ``"semicolon"`` or ``"comma"``.

    Parameters
    ----------
    text : str
        The file's text.

    Returns
    -------
    str
        The separator :func:`brim.io.parse_table` finds in the first line of the first 4 096
        characters: ``"semicolon"`` for ``;``; ``"comma"`` for commas (``30.76,30.90`` — a
        spreadsheet's CSV export; a comma between blank-separated numbers, ``30,76 30,90``, is
        a decimal comma, and so is a lone comma without a point, ``30,76``); else ``"space"``
        (blanks or tabs).
    """
    return _FORMAT.get(_dmr_table(text[:4096]).separator, "space")


_FORMAT = {";": "semicolon", ",": "comma"}
_SEPARATOR = {"semicolon": ";", "comma": ",", "space": None}


def _dmr_table(text: str) -> TextTable:
    """The matrix ``text`` as a table (no comment lines; a closing separator dropped).

    Separators are guessed by :func:`brim.io.parse_table`, with two DMR-only rules: tabs are
    blanks (the ``space`` format, whatever the run of blanks and tabs), and a first line with
    one comma and no point (``30,76``) is one temperature with a decimal comma, not two cells
    (a temperature matrix, unlike a general table, has no two-column integer rows).
    """
    from brim.io import parse_table

    table = parse_table(text, comment=None, strip_trailing=True)
    first = table.lines[0][1] if table.lines else ""
    lone_comma = table.separator == "," and "." not in first and first.count(",") == 1
    if table.separator == "\t" or lone_comma:
        table = parse_table(text, separator=" ", comment=None, strip_trailing=True)
    return table


def _parse_matrix(text: str, path: Path) -> tuple[np.ndarray, str]:
    from brim.io import parse_table

    head = _dmr_table(text[:4096])  # a guess from the head (the full split is for errors only)
    fmt = _FORMAT.get(head.separator, "space")
    sep = _SEPARATOR[fmt]
    # fast path: numpy's C text parser; the slow path below only explains errors
    norm = text.replace(sep, " ") if sep else text
    if head.decimal_comma:
        norm = norm.replace(",", ".")  # decimal commas (a Portuguese-locale export)
    try:
        arr = np.loadtxt(io.StringIO(norm), dtype=np.float64, ndmin=2)
    except ValueError:
        arr = None
    if arr is not None and arr.size:
        return arr, fmt
    table = parse_table(text, separator=head.separator, comment=None, strip_trailing=True)
    values = []
    width = None
    for i, (_, parts, _) in enumerate(table.rows):
        row = []
        for j, v in enumerate(parts):
            try:  # a decimal comma (30,76) where commas do not separate the values
                row.append(float(v if sep == "," else v.replace(",", ".")))
            except ValueError:
                shown = "empty" if not v else repr(v[:24])
                wordy = i == 0 and re.search(r"[a-df-z]", v, re.I) is not None  # not 1e-3
                header = " (a header line? remove it)" if wordy else ""
                raise FormatError(
                    f"{path.name}: line {i + 1}, value {j + 1} is {shown}: non-numeric; a DMR "
                    f"temperature matrix holds numbers only{header}"
                ) from None
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise FormatError(
                f"{path.name}: line {i + 1} has {len(row)} values, line 1 has {width}: the "
                "matrix is ragged (truncated file?)"
            )
        values.append(row)
    if not values:
        raise FormatError(f"{path.name}: empty file, a DMR temperature matrix is expected")
    return np.asarray(values, dtype=np.float64), fmt


def _check_degc(arr: np.ndarray, name: str) -> None:
    """Refuse a matrix whose values cannot be a thermogram in degC (kelvin, degF, counts)."""
    finite = arr[np.isfinite(arr)]
    if not finite.size:
        raise FormatError(
            f"{name}: no finite temperature in the matrix (all NaN); the file is damaged"
        )
    lo, hi = float(finite.min()), float(finite.max())
    # Skin (30-37 degC) and the room (18-28 degC) fill a breast thermogram: its median lies
    # between 27 and 34 degC in the DMR-IR files. A median above 45 is not a body in degC; the
    # same scene in degF (median 80-95) passed a plain range test and gave features in degF.
    median = float(np.median(finite))
    if median == 0.0:
        # Half the cells at exactly 0.00 degC: no indoor scene has that; it is a fill value (a
        # segmented matrix, PAC_64_DN0-esq.txt, keeping one breast on zeros), and the zeros
        # would be read as 0 degC of skin and room.
        zero = 100 * float(np.mean(finite == 0.0))
        raise FormatError(
            f"{name}: {zero:.0f} % of the cells are exactly 0.00 degC, a fill value rather "
            "than a temperature (a segmented matrix with the outside set to 0?); give the "
            "full frame, or write the outside as NaN"
        )
    if lo >= -50 and hi <= 100 and median <= 45:
        return
    if 200 < lo and hi < 400:
        hint = "kelvin? subtract 273.15"
    elif 60 <= median <= 110 and hi < 200:
        hint = "degF? convert with (F - 32) / 1.8"
    else:
        hint = "is this a count or intensity matrix?"
    raise FormatError(
        f"{name}: values from {lo:.1f} to {hi:.1f} (median {median:.1f}) are not skin "
        f"temperatures in degC ({hint})"
    )


@provenance.step
def read_dmr(
    path: str | os.PathLike,
    *,
    shape: tuple[int, int] | None = DMR_SHAPE,
    dtype: DTypeLike = np.float32,
) -> xr.Dataset:
    """Read a DMR-IR temperature matrix (static or one dynamic frame).

    Parameters
    ----------
    path : path-like
        A ``.txt`` (or ``.csv``) matrix of temperatures in degC (space-, tab-, ``;``- or
        comma-separated; decimal point or comma).
    shape : (int, int) or None
        Expected (rows, columns); the DMR-IR camera (FLIR SC620) gives 480 x 640. ``None``
        accepts any shape.
    dtype : numpy dtype
        Stored precision (float32 keeps the 0.01 degC text resolution).

    Returns
    -------
    xarray.Dataset
        Kind ``thermogram``: ``temperature`` (y, x) in degC; attributes ``patient``, ``view``,
        ``protocol``, ``frame``, ``date`` when the name tells them, ``dmr_text_format``
        ("space" or "semicolon"). When the database's segmented crops of the same frame lie
        beside the matrix (``PAC_64_DN0-esq.png``, ``-dir.png``: one breast each on black),
        ``mask`` (y, x): the union of their breasts as :func:`read_grey` reads them (uint8,
        1 inside), its attribute ``mask_source`` naming the crops; a crop of another size
        than the matrix: a warning, and no mask.

    Raises
    ------
    FormatError
        Non-numeric, ragged or wrongly-shaped matrix, or values that are not temperatures in
        degC (kelvin, degF, counts: the message says which it looks like).

    Examples
    --------
    A small matrix in the space-separated DMR-IR export, named as DMR-IR names its files
    (patient 7, static protocol):

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from brim.thermo import read_dmr
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "PAC_7_ST.txt"
    >>> np.savetxt(path, np.full((4, 6), 34.25), fmt="%.2f")
    >>> ds = read_dmr(path, shape=None)
    >>> ds.brim.kind, ds.temperature.shape, float(ds.temperature.mean())
    ('thermogram', (4, 6), 34.25)
    >>> ds.attrs["patient"], ds.attrs["protocol"], ds.attrs["dmr_text_format"]
    (7, 'static', 'space')
    """
    from brim.io import read_text
    from brim.schema import stamp

    p = Path(path)
    # Latin-1 decodes every byte, so a damaged byte reaches the number parser, which names
    # its line; read_text refuses folders, symlink loops, FIFOs and devices first.
    text = read_text(p, what="DMR temperature matrix", encoding="latin-1")
    arr, fmt = _parse_matrix(text, p)
    if shape is not None and arr.shape != tuple(shape):
        swapped = (
            " (rows and columns swapped: a transposed matrix?)"
            if arr.shape == tuple(shape)[::-1]
            else ""
        )
        raise FormatError(
            f"{p.name}: matrix is {arr.shape[0]} x {arr.shape[1]}, a DMR-IR thermogram is "
            f"{shape[0]} x {shape[1]}{swapped}; to read other sizes pass shape=None (Python) or "
            f"convert it with `brim thermo convert {p.name} --any-shape -o {p.stem}.nc` and use "
            "the .nc"
        )
    _check_degc(arr, p.name)
    h, w = arr.shape
    ds = xr.Dataset(
        {"temperature": (("y", "x"), arr.astype(dtype), {"units": "degC"})},
        coords={
            "y": ("y", np.arange(h, dtype=float), {"units": "px"}),
            "x": ("x", np.arange(w, dtype=float), {"units": "px"}),
        },
    )
    meta = parse_dmr_name(p.name)
    ds.attrs.update({k: v for k, v in meta.items()})
    ds.attrs.update(
        source_format="dmr_text", dmr_text_format=fmt, source_file=p.name, camera="FLIR SC620"
    )
    _add_crop_mask(ds, p, meta)
    ds = stamp(ds, "thermogram")
    return ds


def _dmr_crops(path: Path, meta: dict[str, str | int]) -> list[Path]:
    """The DMR segmented crops (``-esq``/``-dir`` PNGs) of the frame of the matrix ``path``.

    Crops lie beside the matrix and their names give the same patient, protocol, frame, view
    and date as the matrix's, and a side (``PAC_64_DN0-esq.png`` for ``PAC_64_DN0.txt``).
    """
    if "patient" not in meta or "side" in meta:  # no DMR frame, or itself one breast's
        return []
    try:
        names = sorted(e.name for e in os.scandir(path.parent) if e.is_file())
    except OSError:
        return []
    crops = []
    for name in names:
        if name.startswith(".") or not name.lower().endswith(".png"):
            continue
        crop = parse_dmr_name(name)
        if crop.pop("side", None) in ("left", "right") and crop == meta:
            crops.append(path.parent / name)
    return crops


def _add_crop_mask(ds: xr.Dataset, path: Path, meta: dict[str, str | int]) -> None:
    """Add to the matrix ``ds`` the union of its DMR crops' breasts as ``mask`` (y, x)."""
    crops = _dmr_crops(path, meta)
    if not crops:
        return
    union = np.zeros(ds["temperature"].shape, dtype=bool)
    for crop in crops:
        try:
            grey = read_grey(crop)  # the crop's breast: its non-black region
        except FormatError as exc:
            warn(f"{path.name}: read without a breast mask: its crop {exc}")
            return
        if grey["mask"].shape != union.shape:
            warn(
                f"{path.name}: its crop {crop.name} is {' x '.join(map(str, grey['mask'].shape))}"
                f", the matrix {' x '.join(map(str, union.shape))}: not a crop of this frame; "
                "read without a breast mask"
            )
            return
        union |= grey["mask"].values > 0
    ds["mask"] = (
        ("y", "x"),
        union.astype(np.uint8),
        {
            "units": "1",
            "mask_source": ", ".join(c.name for c in crops),
            "note": "the breast region of the DMR segmented crops (-esq left, -dir right)",
        },
    )
    provenance.add_inputs(*crops)


@provenance.step
def read_grey(path: str | os.PathLike) -> xr.Dataset:
    """Read an 8-bit grey image (PNG/JPEG), with its alpha channel as a mask when present.

    The grey levels are display intensities, not temperatures: the result is kind
    ``thermal_intensity`` (``intensity`` in units "1", values 0-255 as stored — no rescaling),
    and ``mask`` (uint8, 1 inside) when the file has an alpha channel (alpha > 127) that is
    not opaque everywhere, or, for a DMR segmented crop (``PAC_64_DN0-esq.png``: the left
    breast on black; ``-dir``: the right), its non-black region. A palette image is expanded
    through its palette (an index is not a grey level); colour images, an all-transparent
    alpha channel, an all-black segmented crop and other bit depths are refused.

    Parameters
    ----------
    path : path-like
        The image file.

    Returns
    -------
    xarray.Dataset
        A brim ``thermal_intensity`` Dataset on (y, x).

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> grey_alpha = np.full((4, 6, 2), 255, np.uint8)
    >>> grey_alpha[..., 0] = 120  # grey level
    >>> grey_alpha[:, :2, 1] = 0  # the two left columns are transparent: outside the mask
    >>> Image.fromarray(grey_alpha).save("grey.png")
    >>> ds = read_grey("grey.png")
    >>> ds.brim.kind, ds.intensity.shape, float(ds.intensity.max()), int(ds["mask"].sum())
    ('thermal_intensity', (4, 6), 120.0, 16)
    """
    from brim.io import read_image
    from brim.schema import stamp

    p = Path(path)
    img = read_image(p, what="image")  # refuses folders, FIFOs, damaged files, huge headers
    if img.mode in ("P", "PA"):
        # a palette image stores indices into its colour table, not grey levels: expand it
        # (its transparency becomes the alpha channel), then judge the colours as for RGB
        transparent = img.mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if transparent else "RGB")
    elif img.mode in ("L", "RGB") and "transparency" in img.info:  # a tRNS chunk: a mask too
        img = img.convert("LA" if img.mode == "L" else "RGBA")
    mode = img.mode
    arr = np.asarray(img)
    alpha = None
    if mode in ("LA", "RGBA"):
        alpha = arr[..., -1]
        arr = arr[..., :-1]
        if alpha.min() > 127:  # opaque everywhere: an alpha channel, but no mask in it
            alpha = None
        elif alpha.max() <= 127:
            raise FormatError(
                f"{p.name}: the alpha channel is transparent everywhere: the mask it carries "
                "(the breast, in the Colombian cohort's crops) is empty"
            )
    if arr.ndim == 3:
        if arr.shape[-1] == 3 and not (
            np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2])
        ):
            raise FormatError(
                f"{p.name}: a colour (palette-rendered) image; only grey exports can be read, "
                "as colours do not map to temperature without the palette and range"
            )
        arr = arr[..., 0]
    if arr.dtype != np.uint8:
        raise FormatError(f"{p.name}: {arr.dtype} image; an 8-bit grey image is expected")
    meta = parse_dmr_name(p.name)
    # PAC_64_DN0-esq.png: a DMR breast crop ("-lat" names a lateral view, not a crop)
    segmented = alpha is None and meta.get("side") in ("left", "right")
    if segmented:
        # The DMR-IR segmented images (-esq left, -dir right breast) are the frame's grey
        # rendering with everything outside the breast set to black (0), and an opaque alpha
        # channel if any: the breast is the non-black pixels (PAC_64_DN0-esq.png: one region,
        # grey levels 1-213 inside). A breast pixel rendered 0 would be a hole: filled.
        from scipy.ndimage import binary_fill_holes

        alpha = np.where(binary_fill_holes(arr > 0), 255, 0).astype(np.uint8)
        if not alpha.any():
            raise FormatError(
                f"{p.name}: a DMR segmented crop (-esq/-dir: one breast on black) that is black "
                "everywhere: the breast it should carry is empty"
            )
    h, w = arr.shape
    ds = xr.Dataset(
        {"intensity": (("y", "x"), arr.astype(np.float32), {"units": "1"})},
        coords={
            "y": ("y", np.arange(h, dtype=float), {"units": "px"}),
            "x": ("x", np.arange(w, dtype=float), {"units": "px"}),
        },
    )
    if alpha is not None:
        ds["mask"] = (("y", "x"), (alpha > 127).astype(np.uint8), {"units": "1"})
    ds.attrs.update(
        source_format="grey_image",
        source_file=p.name,
        calibrated=0,
        note="uncalibrated grey levels, not degC",
    )
    ds.attrs.update(meta)
    if segmented:
        ds["mask"].attrs["note"] = "the non-black region of a DMR segmented crop"
    ds = stamp(ds, "thermal_intensity")
    return ds


DMR_DYNAMIC_INTERVAL = 15.0
"""Seconds between the frames of the DMR-IR dynamic protocol: 20 frames, one every 15 s while
the skin recovers from cooling (Silva et al., J. Med. Imaging Health Inform. 2014)."""


def _frame_key(p: Path):
    meta = parse_dmr_name(p.name)
    if "frame" in meta:
        return (0, int(meta["frame"]), p.name)
    nums = re.findall(r"\d+", p.stem)
    return (1, int(nums[-1]) if nums else 0, p.name)


_FRAME_SUFFIXES = (".txt", ".csv", ".jpg", ".jpeg", ".png", ".nc")


@provenance.step(inputs=("frames",))  # and each frame file: provenance.add_inputs
def read_frames(
    frames: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    interval: float | None = None,
    times: Sequence[float] | None = None,
    **kwargs,
) -> xr.Dataset:
    """Read a folder (or a list) of frames as a (time, y, x) thermogram series.

    Frames are ordered by the DMR frame number (``..._DN<k>``) or the last number in the name.
    Files whose names give different patients (``T0001.txt``, ``T0012.txt``), views, protocols
    (``PAC_64_ST.txt`` among ``PAC_64_DN<k>.txt``) or sides (``-esq``, ``-dir``), two files of
    one frame number, a file without a frame number among numbered frames, and the Colombian
    cohort's crops (``IIR<n>.png``) are refused: they are not frames of one series. Hidden files
    (``._PAC_64_DN0.txt``, ``.DS_Store``) in a folder are skipped.

    Parameters
    ----------
    frames : path-like or sequence of path-like
        A folder or the frame files. In a folder, one kind of frame is used: the ``.txt``
        matrices if any, else ``.csv`` matrices, else ``.jpg``, else ``.png``, else ``.nc`` (so
        a mask PNG lying beside DMR frames is not taken for a frame).
    interval : float, optional
        Seconds between frames. Frames numbered in their names (``PAC_64_DN7``) are timed
        ``number * interval``, so a missing frame leaves its gap; other files ``k * interval``
        for the k-th file read. Default: 15 s for DMR dynamic frames (the protocol records a
        frame every 15 s after cooling, Silva et al. 2014), else none: ``time`` then counts
        frames (its ``note`` says so).
    times : sequence of float, optional
        Explicit frame times in s (overrides ``interval``).
    **kwargs
        Passed to :func:`read` (e.g. FLIR overrides; ``shape=None``: DMR matrices of any size,
        which images, of any size anyway, ignore).

    Returns
    -------
    xarray.Dataset
        Kind ``thermogram`` with ``temperature`` (time, y, x) in degC (or ``thermal_intensity``
        when the frames are grey images), ``frame_file`` (time) names; ``mask`` (time, y, x)
        when every frame carries its own (DMR ``-esq``/``-dir`` crops, read as frames or lying
        beside the matrices: the breast of each frame, as :func:`read_grey` reads it; an
        alpha channel).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for k in range(3):
    ...     Image.fromarray(np.full((4, 6), 100 + 10 * k, np.uint8)).save(folder / f"frame_{k}.png")
    >>> series = read_frames(folder, interval=15.0)
    >>> series.intensity.dims, series.intensity.shape
    (('time', 'y', 'x'), (3, 4, 6))
    >>> series.time.values.tolist(), series.frame_file.values.tolist()
    ([0.0, 15.0, 30.0], ['frame_0.png', 'frame_1.png', 'frame_2.png'])
    """
    from brim.schema import stamp

    if isinstance(frames, (str, os.PathLike)):
        folder = Path(frames)
        if not folder.is_dir():
            raise MissingFileError(f"no such folder: {folder}")
        # hidden files are no frames: macOS leaves "._PAC_64_DN0.txt" (resource forks) and
        # ".DS_Store" in every folder it copies to a FAT/exFAT disk
        listed = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")]
        present = {f.suffix.lower() for f in listed}
        # one kind of frame per series: temperature matrices first (.csv: a spreadsheet's
        # re-save), then FLIR, grey, brim
        kind = next((s for s in _FRAME_SUFFIXES if s in present), None)
        files = sorted((f for f in listed if f.suffix.lower() == kind), key=_frame_key)
    else:
        files = sorted((Path(f) for f in frames), key=_frame_key)
    if not files:
        raise MissingFileError(f"no frame files ({', '.join(_FRAME_SUFFIXES)}) in {frames}")
    patients = sorted({m["patient"] for m in map(parse_dmr_name, files) if "patient" in m})
    where = frames if isinstance(frames, (str, os.PathLike)) else "the frames"
    if len(patients) > 1:  # a folder of static thermograms (T0001.txt, T0012.txt...)
        shown = ", ".join(map(str, patients[:6])) + (", ..." if len(patients) > 6 else "")
        raise FormatError(
            f"{where}: files of {len(patients)} patients ({shown}), but a series holds one "
            "patient's frames; to convert each file on its own, give the files (e.g. "
            "`brim thermo convert DIR/*.txt -o OUTDIR/`)"
        )
    _check_one_series(files, where)
    dss = []
    for f in files:
        # shape= (any size: --any-shape) concerns the DMR matrices; images have their own size
        matrix = f.suffix.lower() in (".txt", ".csv", ".dat")
        own = kwargs if matrix else {k: v for k, v in kwargs.items() if k != "shape"}
        try:
            dss.append(read(f, **own))
        except FormatError as exc:  # name the frame: "line 3 ..." alone does not say which
            if f.name in str(exc):
                raise
            raise FormatError(f"frame {f.name}: {exc}") from None
    var = "temperature" if "temperature" in dss[0] else "intensity"
    if any(var not in d for d in dss):
        raise FormatError("frames mix calibrated temperatures and uncalibrated intensities")
    shapes = [d[var].shape for d in dss]
    if len(set(shapes)) != 1:
        common = max(set(shapes), key=shapes.count)
        odd = [
            f"{f.name} ({' x '.join(map(str, s))})" for f, s in zip(files, shapes) if s != common
        ]
        more = f" and {len(odd) - 3} more" if len(odd) > 3 else ""
        raise FormatError(
            f"frames have {len(set(shapes))} different sizes: {', '.join(odd[:3])}{more} "
            f"differ from the {' x '.join(map(str, common))} of the others; cannot stack them "
            "(separate images, such as breast crops? give the files, e.g. "
            "`brim thermo convert DIR/*.png -o OUTDIR/`)"
        )
    if sum(bool(_SEPARATE_IMAGE.match(f.stem)) for f in files) > 1:  # same-size crops
        raise FormatError(
            f"{where}: {files[0].name}, {files[1].name}, ... are separate crops (one per patient "
            "and breast, as the Colombian cohort names them), not frames of one series; to "
            "convert each on its own, give the files (e.g. `brim thermo convert DIR/*.png -o "
            "OUTDIR/`)"
        )
    frame_no = [parse_dmr_name(f.name).get("frame") for f in files]
    data = np.stack([d[var].values for d in dss])
    dynamic = all(parse_dmr_name(f.name).get("protocol") == "dynamic" for f in files)
    if times is not None:
        t = np.asarray(times, dtype=float)
        if t.shape != (len(files),):
            raise FormatError(f"{len(t)} times given for {len(files)} frames")
    else:
        if interval is None and dynamic:
            interval = DMR_DYNAMIC_INTERVAL
        numbered = all(isinstance(k, int) for k in frame_no)
        t = np.asarray(frame_no, float) if numbered else np.arange(len(files), dtype=float)
        if interval is not None:
            t = t * float(interval)
    first = dss[0]
    ds = xr.Dataset(
        {
            var: (("time", "y", "x"), data, dict(first[var].attrs)),
            "frame_file": ("time", np.array([f.name for f in files])),
        },
        coords={
            "time": ("time", t, {"units": "s"}),
            "y": first["y"],
            "x": first["x"],
        },
    )
    _stack_masks(ds, files, dss, where)
    if times is None and interval is None:
        ds["time"].attrs["note"] = "frame index (no interval given): 1 unit per frame"
    elif times is None and interval == DMR_DYNAMIC_INTERVAL and dynamic:
        ds["time"].attrs["note"] = (
            "DMR dynamic protocol: a frame every 15 s (Silva et al. 2014); pass interval= "
            "(CLI: --interval) for another rate"
        )
    keep = {k: v for k, v in first.attrs.items() if k not in ("brim_provenance", "frame", "shot")}
    ds.attrs.update(keep)
    ds.attrs["n_frames"] = len(files)
    ds = stamp(ds, "thermogram" if var == "temperature" else "thermal_intensity")
    provenance.add_inputs(*files)
    return ds


def _stack_masks(
    ds: xr.Dataset, files: Sequence[Path], dss: Sequence[xr.Dataset], where: object
) -> None:
    """Add the frames' own masks to the series ``ds`` as ``mask`` (time, y, x).

    Each frame's mask is the one :func:`read_grey` reads (the breast of a DMR ``-esq``/``-dir``
    crop, an alpha channel); frames of which only some carry one: a warning, and no mask.
    """
    bare = [f.name for f, d in zip(files, dss, strict=True) if "mask" not in d]
    if len(bare) == len(files):
        return
    if bare:
        more = f" and {len(bare) - 3} more" if len(bare) > 3 else ""
        warn(
            f"{where}: {len(files) - len(bare)} of {len(files)} frames carry a mask, "
            f"{', '.join(bare[:3])}{more} none: the series is read without masks (one per "
            "frame or none); give the masked frames alone to keep them"
        )
        return
    masks = np.stack([d["mask"].values for d in dss])
    attrs = dict(dss[0]["mask"].attrs)
    if all("mask_source" in d["mask"].attrs for d in dss):  # each frame's crops
        attrs["mask_source"] = ", ".join(d["mask"].attrs["mask_source"] for d in dss)
    ds["mask"] = (("time", "y", "x"), masks, attrs)


# the Colombian cohort's crops (IIR0001.png): one image per patient and breast, never frames
_SEPARATE_IMAGE = re.compile(r"^IIR\d+$", re.I)


def _check_one_series(files: Sequence[Path], where: object) -> None:
    """Refuse frame files that are not one series: views, protocols, sides, duplicates."""
    metas = [parse_dmr_name(f.name) for f in files]
    for key in ("view", "protocol", "side", "date"):  # two dates: two sessions
        first: dict[object, str] = {}
        for f, m in zip(files, metas):
            if key in m:
                first.setdefault(m[key], f.name)
        if len(first) > 1:
            shown = ", ".join(f"{v} ({name})" for v, name in first.items())
            raise FormatError(
                f"{where}: the frames' names give {len(first)} {key}s: {shown}; a series holds "
                "one view, protocol, side and session of one patient (the dynamic protocol's "
                "frames are "
                "PAC_<id>_DN<k>): move the others out, or give the frame files"
            )
    if len(files) > 1 and not any(re.search(r"\d", f.stem) for f in files):
        warn(
            f"{where}: no number in the frames' names ({files[0].name}, {files[1].name}, ...): "
            "they are ordered by name, which may not be their order in time; name them "
            "<stem>_<k> or pass the files in order with times="
        )
    numbered = [m.get("frame") for m in metas]
    if any(isinstance(k, int) for k in numbered):
        bare = [f.name for f, k in zip(files, numbered) if not isinstance(k, int)]
        if bare:
            raise FormatError(
                f"{where}: {', '.join(bare[:3])} has no frame number (_DN<k>) while the other "
                "frames do: its place in time is unknown; move it out, or give the frame files"
            )
        seen: dict[int, str] = {}
        for f, k in zip(files, numbered):
            if isinstance(k, int) and k in seen:
                raise FormatError(
                    f"{where}: {seen[k]} and {f.name} are both frame {k} (a copy?); a series "
                    "holds each frame once: remove one"
                )
            if isinstance(k, int):
                seen[k] = f.name


def read(path: str | os.PathLike, **kwargs) -> xr.Dataset:
    """Read any supported thermal file (or folder of frames) into a brim Dataset.

    ``.txt``/``.csv``: DMR matrix; ``.jpg``: FLIR radiometric JPEG (``kwargs`` = FLIR
    overrides); ``.png`` and other images: grey intensity; ``.nc``: a brim file; a folder:
    :func:`read_frames`.

    Parameters
    ----------
    path : path-like
        The file or folder.
    **kwargs
        Options of the reader chosen (e.g. FLIR overrides such as ``emissivity=``, or
        ``shape=None`` for a DMR matrix of any size, see :func:`read_dmr`).

    Returns
    -------
    xarray.Dataset
        A brim ``thermogram`` (degC) or ``thermal_intensity`` Dataset.

    Examples
    --------
    >>> import brim.data
    >>> read(brim.data.sample_path("thermo_phantom_tumour")).brim.kind
    'thermogram'
    """
    from brim.io import check_input_file

    p = Path(path)
    if p.is_dir():
        return read_frames(p, **kwargs)
    check_input_file(p, what="thermal")  # missing, symlink loop, FIFO, device: refused
    suffix = p.suffix.lower()
    dmr_kw = {"shape": kwargs.pop("shape")} if "shape" in kwargs else {}
    if dmr_kw and suffix not in (".txt", ".csv", ".dat"):
        raise FormatError(f"{p.name}: shape= applies to DMR temperature matrices (.txt) only")
    flir_kw = {k: v for k, v in kwargs.items() if v is not None}

    def no_flir(what: str) -> None:
        if flir_kw:
            raise FormatError(
                f"{p.name}: FLIR parameters ({', '.join(flir_kw)}) do not apply to {what}"
            )

    if suffix in (".txt", ".csv", ".dat"):
        no_flir("a DMR temperature matrix (already in degC)")
        return read_dmr(p, **dmr_kw)
    if suffix in (".jpg", ".jpeg"):
        from brim.thermo.flir import read_flir

        return read_flir(p, **flir_kw)
    if suffix in (".png", ".tif", ".tiff", ".bmp"):
        no_flir("a grey image (no radiometric data)")
        return read_grey(p)
    if suffix in (".nc", ".h5", ".nc4"):
        from brim.io import open as brim_open

        no_flir("a brim file (already converted)")
        from brim.schema import require_kind

        return require_kind(brim_open(p), ("thermogram", "thermal_intensity"), p.name)
    head = p.read_bytes()[:8]
    if head[:2] == b"\xff\xd8":
        from brim.thermo.flir import read_flir

        return read_flir(p, **flir_kw)
    raise FormatError(
        f"{p.name}: unknown thermal format {suffix!r}; supported: DMR .txt, FLIR .jpg, grey "
        ".png, brim .nc, or a folder of frames"
    )


def metadata_json(ds: xr.Dataset) -> str:
    """The DMR naming metadata of a thermogram as a JSON string (for tables).

    Parameters
    ----------
    ds : xarray.Dataset
        A thermogram read by :func:`read_dmr` (attributes ``patient``, ``view``, ...).

    Returns
    -------
    str
        JSON object of the attributes present among ``patient``, ``view``, ``protocol``,
        ``frame``, ``side``, ``date``.
    """
    keys = ("patient", "view", "protocol", "frame", "side", "date")
    return json.dumps({k: ds.attrs[k] for k in keys if k in ds.attrs}, default=str)
