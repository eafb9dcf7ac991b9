"""Molar extinction coefficients of oxy- and deoxyhaemoglobin (Prahl's table).

The 650-950 nm subset of S. Prahl, "Tabulated molar extinction coefficient for hemoglobin in
water", Oregon Medical Laser Center (1999), ships with brim; ``mu_a [cm^-1] = ln(10) *
epsilon [cm^-1/M] * concentration [M]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.deprecation import positional_options
from brim.errors import FormatError
from brim.io import check_input_file, read_text

__all__ = ["read_extinction", "extinction_at", "write_extinction_subset", "DEFAULT_EXTINCTION"]

#: Prahl's haemoglobin table, 650-950 nm subset shipped with brim (see the file header).
DEFAULT_EXTINCTION = Path(__file__).with_name("prahl_extinction.csv")


@provenance.step
def read_extinction(path: str | os.PathLike | None = None) -> xr.Dataset:
    """Molar extinction coefficients of HbO2 and Hb (cm^-1/M) against wavelength (nm).

    Parameters
    ----------
    path : path-like, optional
        A CSV of ``wavelength, HbO2, Hb`` (Prahl's layout: optionally a units row ``nm,cm-1/M,
        cm-1/M``; ``#`` comments allowed). Rows that start with a number are data and need
        exactly three finite numbers; other rows are headers. Default: the bundled Prahl subset
        (650-950 nm), S. Prahl, "Tabulated molar extinction coefficient for hemoglobin in
        water", OMLC 1999.

    Returns
    -------
    xarray.Dataset
        ``eps_hbo2`` and ``eps_hb`` over ``wavelength``.

    Raises
    ------
    FormatError
        A data row is ragged or non-numeric (the message names the line), a wavelength appears
        twice, or the table has fewer than two rows.

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
    rows = []
    for n, ln in enumerate(read_text(p).splitlines(), 1):
        ln = ln.strip()
        if not ln or ln.startswith("#"):
            continue
        parts = [t.strip() for t in ln.replace("\t", ",").split(",")]
        try:
            float(parts[0])
        except ValueError:
            continue  # header / units rows: they do not start with a number
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
    arr = np.array(rows).reshape(-1, 3)
    if arr.shape[0] < 2:
        raise FormatError(f"{p.name}: expected rows 'wavelength_nm, eps_HbO2, eps_Hb' (cm-1/M)")
    wl, count = np.unique(arr[:, 0], return_counts=True)
    if (count > 1).any():
        raise FormatError(f"{p.name}: wavelengths {wl[count > 1].tolist()} nm appear twice")
    arr = arr[np.argsort(arr[:, 0])]
    return xr.Dataset(
        {
            "eps_hbo2": ("wavelength", arr[:, 1], {"units": "cm-1/M"}),
            "eps_hb": ("wavelength", arr[:, 2], {"units": "cm-1/M"}),
        },
        coords={"wavelength": ("wavelength", arr[:, 0], {"units": "nm"})},
        attrs={"source_file": p.name},
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
    wl = np.atleast_1d(np.asarray(wavelengths, dtype=np.float64))
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
    p = Path(path)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p
