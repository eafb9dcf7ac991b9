"""Molar extinction coefficients of oxy- and deoxyhaemoglobin (Prahl's table).

The 650-950 nm subset of S. Prahl, "Tabulated molar extinction coefficient for hemoglobin in
water", Oregon Medical Laser Center (1999), ships with brim; ``mu_a [cm^-1] = ln(10) *
epsilon [cm^-1/M] * concentration [M]``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError, check_vector
from brim.io import check_input_file, read_table, write_text

__all__ = ["read_extinction", "extinction_at", "write_extinction_subset", "DEFAULT_EXTINCTION"]

#: Prahl's haemoglobin table, 650-950 nm subset shipped with brim (see the file header).
DEFAULT_EXTINCTION = Path(__file__).with_name("prahl_extinction.csv")


# Molar extinction units, normalised (blanks, ^, *, parentheses dropped; mol/L -> M): per
# length (mm-1, cm-1, m-1) and per concentration (M, mM, uM), in any of the usual spellings
# (cm-1/M, 1/cm/M, cm-1 M-1, M-1 cm-1, L/(mol cm)); factors to brim's cm-1/M.
_PER_LENGTH = {"mm": 10.0, "cm": 1.0, "m": 0.01}
_PER_CONC = {"M": 1.0, "mM": 1e3, "uM": 1e6}
_EPS_UNIT = re.compile(r"^(?:1/|/)?(mm|cm|m)(?:-1)?/?(mM|uM|M)(?:-1)?$")
_EPS_UNIT_REV = re.compile(r"^(mM|uM|M)-1/?(mm|cm|m)-1$")
_WAVELENGTH_UNITS = {"nm": 1.0, "um": 1e3}
# Haemoglobin tables span the UV to the NIR; 100 nm to 5 um brackets any of them, so a table
# in um (0.25-1.0) or Angstrom is caught before it is read as nm.
_WAVELENGTH_NM = (100.0, 5000.0)
# Prahl's table (1999): HbO2 and Hb absorb at least 206 cm-1/M (Hb at 1000 nm) anywhere in
# 250-1000 nm; ten times less is a table in another unit (cm-1/mM: ~1000x less).
_EPS_FLOOR = 20.0
_EPS_FLOOR_RANGE_NM = (250.0, 1000.0)


def _unit_scale(token: str) -> tuple[str, float] | None:
    """(``"eps"`` or ``"wavelength"``, factor to cm-1/M or nm) of a unit token, else None."""
    t = re.sub(r"[\s^*()·\[\]]", "", token).replace("−", "-").replace("µ", "u").replace("μ", "u")
    t = (
        t.replace("mol/L", "M")
        .replace("mol/l", "M")
        .replace("L/mol", "M-1")
        .replace("l/mol", "M-1")
    )
    if t in _WAVELENGTH_UNITS:
        return "wavelength", _WAVELENGTH_UNITS[t]
    if t.startswith("M-1/"):  # L/(mol cm) -> M-1/cm
        t = t[4:] + "-1M-1"
    m = _EPS_UNIT.match(t)
    if m:
        return "eps", _PER_LENGTH[m.group(1)] * _PER_CONC[m.group(2)]
    m = _EPS_UNIT_REV.match(t)
    if m:
        return "eps", _PER_LENGTH[m.group(2)] * _PER_CONC[m.group(1)]
    return None


def _header_cell(cell: str) -> tuple[str, str | None]:
    """(column name, unit text or None) of a header cell: ``HbO2 (cm-1/M)``, ``HbO2_cm-1/M``,
    ``cm-1/M`` (a units row) or ``Hb02`` (Prahl's spelling)."""
    m = re.match(r"^(.*?)\s*[\[(]([^\])]*)[\])]\s*$", cell)
    if m and ("-1" in m.group(2) or "/" in m.group(2) or m.group(2) in _WAVELENGTH_UNITS):
        return m.group(1), m.group(2)
    if _unit_scale(cell) is not None:
        return "", cell
    for sep in ("_", " "):  # HbO2_cm-1/M, HbO2 mm-1/M
        name, _, unit = cell.rpartition(sep)
        if name and _unit_scale(unit) is not None:
            return name.strip(), unit
    return cell, None


@provenance.step
def read_extinction(path: str | os.PathLike | None = None) -> xr.Dataset:
    """Molar extinction coefficients of HbO2 and Hb (cm^-1/M) against wavelength (nm).

    Parameters
    ----------
    path : path-like, optional
        A CSV of ``wavelength, HbO2, Hb`` (Prahl's layout: optionally a units row ``nm,cm-1/M,
        cm-1/M``; ``#`` comments allowed). Rows that start with a number are data and need
        exactly three finite numbers; other rows are headers. Cells are separated by commas,
        tabs, blanks, or semicolons (then a decimal comma is read too), the same in every row
        (:func:`brim.io.read_table` guesses which from the first); CRLF, a byte-order mark and
        UTF-16 are allowed. Header names put the HbO2 and Hb columns in order (``lambda,Hb,HbO2``
        is swapped back); units named in a header (``mm-1/M``, ``cm-1/mM``, ``1/cm/M``,
        ``L/(mol cm)``; wavelengths in ``nm`` or ``um``) are converted. Default: the bundled
        Prahl subset (650-950 nm), S. Prahl, "Tabulated molar extinction coefficient for
        hemoglobin in water", OMLC 1999.

    Returns
    -------
    xarray.Dataset
        ``eps_hbo2`` and ``eps_hb`` over ``wavelength``.

    Raises
    ------
    FormatError
        A data row is ragged or non-numeric (the message names the line), a wavelength appears
        twice, the table has fewer than two rows, a header names an unknown extinction unit,
        or the values are not in nm and cm-1/M (wavelengths outside 100-5000 nm, or an
        extinction below 20 cm-1/M between 250 and 1000 nm, where haemoglobin absorbs at
        least 206 cm-1/M).

    Examples
    --------
    >>> from brim.fusion import read_extinction
    >>> ext = read_extinction()  # the bundled Prahl subset
    >>> float(ext.wavelength.min()), float(ext.wavelength.max()), ext.eps_hb.attrs["units"]
    (650.0, 950.0, 'cm-1/M')
    """
    p = DEFAULT_EXTINCTION if path is None else check_input_file(path)
    if path is None:
        provenance.add_inputs(p)  # the bundled table, by its SHA-256
    rows: list[list[float]] = []
    names: list[str] = []
    scales = [1.0, 1.0, 1.0]
    # one separator for the table, from its first line (brim.io.read_table); after ';' or
    # between blank-separated numbers a comma is the decimal mark
    table = read_table(p, what="extinction table", strip_trailing=True)
    for n, parts, ln in table.rows:
        if table.decimal_comma:
            parts = [c.replace(",", ".") for c in parts]
        if not _is_number(parts[0]):  # header / units rows: they do not start with a number
            if not rows:
                _read_header(parts, names, scales, f"{p.name}, line {n}")
            continue
        try:
            row = [float(t) for t in parts]
        except ValueError as exc:
            raise FormatError(f"{p.name}, line {n}: non-numeric value ({exc})") from exc
        if len(row) != 3 or not np.isfinite(row).all():
            raise FormatError(
                f"{p.name}, line {n}: expected 3 finite numbers 'wavelength_nm, eps_HbO2, "
                f"eps_Hb', got {ln!r}"
            )
        rows.append(row)
    arr = np.array(rows).reshape(-1, 3) * np.array(scales)
    if arr.shape[0] < 2:
        raise FormatError(f"{p.name}: expected rows 'wavelength_nm, eps_HbO2, eps_Hb' (cm-1/M)")
    if _swapped(names):
        arr = arr[:, [0, 2, 1]]
    wl, count = np.unique(arr[:, 0], return_counts=True)
    if (count > 1).any():
        raise FormatError(f"{p.name}: wavelengths {wl[count > 1].tolist()} nm appear twice")
    _check_magnitudes(arr, p.name)
    arr = arr[np.argsort(arr[:, 0])]
    attrs = {"source_file": p.name}
    if scales != [1.0, 1.0, 1.0]:
        attrs["note"] = "converted to nm and cm-1/M from the units in the file's header"
    return xr.Dataset(
        {
            "eps_hbo2": ("wavelength", arr[:, 1], {"units": "cm-1/M"}),
            "eps_hb": ("wavelength", arr[:, 2], {"units": "cm-1/M"}),
        },
        coords={"wavelength": ("wavelength", arr[:, 0], {"units": "nm"})},
        attrs=attrs,
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_header(cells: list[str], names: list[str], scales: list[float], where: str) -> None:
    """Column names into ``names`` and unit factors into ``scales`` from one header row."""
    for i, cell in enumerate(cells[:3]):
        name, unit = _header_cell(cell)
        if name and i == len(names):
            names.append(name)
        if unit is None:
            continue
        kind = _unit_scale(unit)
        want = "wavelength" if i == 0 else "extinction"
        if kind is None or (kind[0] == "wavelength") != (i == 0):
            expected = "nm or um" if i == 0 else "a molar extinction: cm-1/M, mm-1/M, cm-1/mM"
            raise FormatError(f"{where}: unknown {want} unit {unit!r}; expected {expected}")
        scales[i] = kind[1]


def _is_oxy(name: str) -> bool | None:
    """True for an HbO2 column name (Prahl writes ``Hb02``), False for Hb, None if neither."""
    t = name.lower().replace(" ", "")
    if "deoxy" in t or t in ("hhb", "hbr", "rhb"):
        return False
    if re.search(r"o2|02|oxy", t):
        return True
    return False if "hb" in t else None


def _swapped(names: list[str]) -> bool:
    """Whether the header names the Hb column before the HbO2 one."""
    return len(names) == 3 and _is_oxy(names[1]) is False and _is_oxy(names[2]) is True


def _check_magnitudes(arr: np.ndarray, name: str) -> None:
    """Refuse a table whose numbers are not nm and cm-1/M (see the bounds above)."""
    lo, hi = _WAVELENGTH_NM
    if arr[:, 0].min() < lo or arr[:, 0].max() > hi:
        raise FormatError(
            f"{name}: wavelengths {arr[:, 0].min():g}-{arr[:, 0].max():g} are not in nm "
            f"({lo:g}-{hi:g} nm expected); name the unit in a header row ('um' or 'nm')"
        )
    a, b = _EPS_FLOOR_RANGE_NM
    band = arr[(arr[:, 0] >= a) & (arr[:, 0] <= b), 1:]
    if band.size and band.min() < _EPS_FLOOR:
        raise FormatError(
            f"{name}: extinction {band.min():g} at {a:g}-{b:g} nm, where haemoglobin absorbs at "
            f"least 206 cm-1/M (Prahl 1999): the table is in another unit; name it in a units "
            f"row such as 'nm,cm-1/mM,cm-1/mM'"
        )


@positional_options
def extinction_at(wavelengths: ArrayLike, *, extinction: xr.Dataset | None = None) -> np.ndarray:
    """Extinction (cm^-1/M) of (HbO2, Hb) at the given wavelengths, shape (n, 2).

    Linear interpolation inside the table; outside it raises :class:`FormatError`.

    Parameters
    ----------
    wavelengths : array_like
        Wavelengths, nm.
    extinction : xarray.Dataset, optional
        A table from :func:`read_extinction` (default: the bundled Prahl subset).

    Returns
    -------
    numpy.ndarray, (n, 2)
        Molar extinction of HbO2 and Hb, cm⁻¹/M.

    Raises
    ------
    FormatError
        A wavelength outside the table.

    Examples
    --------
    >>> from brim.fusion import extinction_at
    >>> extinction_at([800.0]).tolist()  # Prahl's values at the isosbestic region
    [[816.0, 761.72]]
    """
    ext = read_extinction() if extinction is None else extinction
    if not isinstance(ext, xr.Dataset) or not {"eps_hbo2", "eps_hb"} <= set(ext.variables):
        raise ConfigError(
            "extinction must be the table brim.fusion.read_extinction(path) returns (eps_hbo2 "
            f"and eps_hb over wavelength), got {type(extinction).__name__}"
        )
    wl = check_vector("wavelengths (nm)", np.atleast_1d(np.asarray(wavelengths, dtype=np.float64)))
    t = ext.wavelength.values
    if wl.min() < t.min() or wl.max() > t.max():
        raise FormatError(
            f"wavelengths {wl.tolist()} nm outside the extinction table ({t.min()}-{t.max()} nm);"
            f" pass a table that covers them"
        )
    return np.stack([np.interp(wl, t, ext.eps_hbo2.values), np.interp(wl, t, ext.eps_hb.values)], 1)


def write_extinction_subset(
    prahl_csv: str | os.PathLike, path: str | os.PathLike, *, lo: float = 650.0, hi: float = 950.0
) -> Path:
    """Regenerate the bundled subset from Prahl's full table (``lo``-``hi`` nm).

    Parameters
    ----------
    prahl_csv : path-like
        Prahl's full table (any layout :func:`read_extinction` reads).
    path : path-like
        The subset CSV to write (the bundled one is :data:`DEFAULT_EXTINCTION`).
    lo, hi : float
        Wavelength range kept, nm (inclusive).

    Returns
    -------
    pathlib.Path
        ``path``: the source and the conversion to mu_a in ``#`` lines, then one row per
        wavelength (UTF-8).

    Examples
    --------
    A 750-850 nm subset of the bundled table:

    >>> import pathlib, tempfile
    >>> from brim.fusion import read_extinction, write_extinction_subset
    >>> from brim.fusion.extinction import DEFAULT_EXTINCTION
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "extinction.csv"
    >>> ext = read_extinction(write_extinction_subset(DEFAULT_EXTINCTION, path, lo=750, hi=850))
    >>> float(ext.wavelength.min()), float(ext.wavelength.max()), ext.sizes["wavelength"]
    (750.0, 850.0, 51)
    """
    ext = read_extinction(prahl_csv).sel(wavelength=slice(lo, hi))
    lines = [
        "# Molar extinction coefficients of oxy- and deoxyhaemoglobin, "
        f"{lo:g}-{hi:g} nm (every 2 nm).",
        '# Subset of S. Prahl, "Tabulated molar extinction coefficient for hemoglobin in water",',
        "# Oregon Medical Laser Center (1999), compiled from W. B. Gratzer (MRC Labs) and "
        "N. Kollias",
        "# (Wellman Labs). Regenerate: brim.fusion.extinction.write_extinction_subset(prahl_csv, "
        "path).",
        "# mu_a [cm^-1] = ln(10) * epsilon [cm^-1/M] * concentration [M]",
        "wavelength_nm,HbO2_cm-1/M,Hb_cm-1/M",
    ]
    for w, a, b in zip(ext.wavelength.values, ext.eps_hbo2.values, ext.eps_hb.values):
        lines.append(f"{w:g},{a:g},{b:g}")
    return write_text(path, "\n".join(lines) + "\n")
