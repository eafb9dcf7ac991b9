"""Readers: optical measurements (.mat / CSV / NetCDF), extinction tables and the real maps.

Optical measurement layout (schema ``optical_measurement``): ``amplitude`` and ``phase`` (rad) with
dims ``(wavelength, source, detector)``, wavelength in nm, source/detector positions in metres
as the coordinates ``source_x, source_y, detector_x, detector_y``, and the 0-d variable
``modulation_frequency`` (Hz, 0 for continuous wave). A reference measurement (homogeneous
phantom or the contralateral breast) is a second Dataset of the same layout.

Units are converted once, here: positions given in mm (the .mat layout, ``*_mm`` CSV columns,
brim files written before lengths became SI) become metres, and all positions are float64.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import ConfigError, FormatError, MissingFileError, SchemaError, check_positive
from brim.fusion._units import LENGTH_TO_M, check_plausible_m, length_factor
from brim.io import check_input_file, load_numpy, read_text

__all__ = [
    "measurement_from_arrays",
    "read_measurement",
    "positions_to_m",
    "read_extinction",
    "extinction_at",
    "write_extinction_subset",
    "write_measurement_csv",
    "read_dot_filtering",
    "read_dot_pat_map",
    "read_dot_pat_patient",
    "read_busi",
    "busi_pairs",
    "image_hash",
    "DEFAULT_EXTINCTION",
]

#: Prahl's haemoglobin table, 650-950 nm subset shipped with brim (see the file header).
DEFAULT_EXTINCTION = Path(__file__).with_name("prahl_extinction.csv")


def _need(path) -> Path:
    """``path`` as a Path if it is a regular file (folders, symlink loops, FIFOs refused)."""
    return check_input_file(path)


def _need_folder(path) -> Path:
    p = Path(path)
    if not p.is_dir():
        if p.exists():
            raise FormatError(f"{p} is not a folder")
        raise MissingFileError(f"no such folder: {p}")
    return p


def _read_text(p: Path) -> str:
    """The text of ``p`` (UTF-8, optional byte-order mark); a bad byte's line is named."""
    return read_text(p)


def measurement_from_arrays(
    amplitude,
    phase,
    wavelengths,
    source_xy,
    detector_xy,
    modulation_frequency: float,
    *,
    amplitude_units: str = "1",
    position_units: str = "m",
    attrs: dict | None = None,
) -> xr.Dataset:
    """Build a validated ``optical_measurement`` Dataset from plain arrays.

    Parameters
    ----------
    amplitude, phase : array_like, shape (wavelength, source, detector)
        Amplitude (arbitrary linear units) and phase in **radians**.
    wavelengths : array_like
        nm.
    source_xy, detector_xy : array_like, shape (S, 2), (M, 2)
        Positions on the probe surface, in ``position_units`` (converted to float64 metres).
    modulation_frequency : float
        Hz (0 for CW).
    amplitude_units : str
        Units of the amplitude (``1``, ``V``, ``W`` or ``counts``).
    position_units : {"m", "mm", "cm", "um"}
        Units of ``source_xy`` and ``detector_xy``.
    attrs : dict, optional
        Attributes of the Dataset.

    Returns
    -------
    xarray.Dataset
        Validated ``optical_measurement`` with positions in m.

    Raises
    ------
    FormatError
        Shapes that do not agree, or a negative amplitude.
    ConfigError
        Positions beyond 0.5 m (millimetres given as metres) or unknown ``position_units``.
    """
    from brim.schema import stamp, validate

    amp = np.asarray(amplitude, dtype=np.float64)
    ph = np.asarray(phase, dtype=np.float64)
    wl = np.atleast_1d(np.asarray(wavelengths, dtype=np.float64))
    if position_units not in LENGTH_TO_M:
        raise ConfigError(
            f"position_units must be one of {sorted(LENGTH_TO_M)}, got {position_units!r}"
        )
    f = LENGTH_TO_M[position_units]
    s = np.asarray(source_xy, dtype=np.float64).reshape(-1, 2) * f
    d = np.asarray(detector_xy, dtype=np.float64).reshape(-1, 2) * f
    shape = (wl.size, s.shape[0], d.shape[0])
    if amp.ndim == 2 and wl.size == 1:
        amp, ph = amp[None], ph[None]
    if amp.shape != shape or ph.shape != shape:
        raise FormatError(
            f"amplitude/phase have shapes {amp.shape}/{ph.shape}; expected (wavelength, source, "
            f"detector) = {shape} from {wl.size} wavelengths, {s.shape[0]} sources and "
            f"{d.shape[0]} detectors"
        )
    if np.any(amp < 0):
        raise FormatError("amplitude must be >= 0 (a modulus); check the column order")
    check_plausible_m(s, "source positions")
    check_plausible_m(d, "detector positions")
    ds = xr.Dataset(
        {
            "amplitude": (("wavelength", "source", "detector"), amp, {"units": amplitude_units}),
            "phase": (("wavelength", "source", "detector"), ph, {"units": "rad"}),
            "modulation_frequency": ((), float(modulation_frequency), {"units": "Hz"}),
        },
        coords={
            "wavelength": ("wavelength", wl, {"units": "nm"}),
            "source_x": ("source", s[:, 0], {"units": "m"}),
            "source_y": ("source", s[:, 1], {"units": "m"}),
            "detector_x": ("detector", d[:, 0], {"units": "m"}),
            "detector_y": ("detector", d[:, 1], {"units": "m"}),
        },
        attrs=dict(attrs or {}),
    )
    ds = stamp(ds, "optical_measurement")
    validate(ds)
    return ds


def _from_arrays(p: Path, amp, ph, wl, src, det, freq, units: str = "mm") -> xr.Dataset:
    """:func:`measurement_from_arrays` for file ``p``, naming the file in any error."""
    try:
        return measurement_from_arrays(
            amp, ph, wl, src, det, freq, position_units=units, attrs={"source_file": p.name}
        )
    except (FormatError, SchemaError, ConfigError) as exc:
        raise FormatError(f"{p.name}: {exc}") from exc


def _mat_float(p: Path, m: dict, name: str) -> np.ndarray:
    """MATLAB variable ``m[name]`` as a float array."""
    try:
        return np.asarray(m[name], dtype=float)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{p.name}: MATLAB variable {name!r} is not numeric ({exc})") from exc


def _mat_positions(p: Path, m: dict, name: str) -> np.ndarray:
    """The x, y columns of the position matrix ``m[name]`` (rows of x, y[, z] in mm)."""
    a = _mat_float(p, m, name)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] < 2:
        raise FormatError(
            f"{p.name}: MATLAB variable {name!r} has shape {a.shape}; expected one row of "
            f"x, y[, z] (mm) per optode"
        )
    if not np.isfinite(a[:, :2]).all():
        raise FormatError(f"{p.name}: MATLAB variable {name!r} contains NaN or infinite values")
    return a[:, :2]


def _mat_measured(p: Path, m: dict, name: str, shape: tuple[int, int, int]) -> np.ndarray:
    """``m[name]`` as a finite (wavelength, source, detector) array of exactly ``shape``.

    MATLAB drops trailing singleton dimensions, and one wavelength may be stored as a
    source x detector matrix; both are accepted. Any other shape is an error, never reshaped.
    """
    a = _mat_float(p, m, name)
    if a.shape + (1,) * (3 - a.ndim) != shape and not (shape[0] == 1 and a.shape == shape[1:]):
        raise FormatError(
            f"{p.name}: MATLAB variable {name!r} has shape {a.shape}; expected (wavelength, "
            f"source, detector) = {shape} from the lengths of 'wavelength', 'source_pos' and "
            f"'detector_pos' (transposed or wrong-size matrix?)"
        )
    bad = int(np.count_nonzero(~np.isfinite(a)))
    if bad:
        raise FormatError(f"{p.name}: MATLAB variable {name!r} has {bad} NaN or infinite values")
    return a.reshape(shape)


def _read_mat(p: Path, position_units: str | None = None) -> xr.Dataset:
    from scipy.io import loadmat

    from brim.limits import check_mat

    check_mat(p)  # declared sizes, before scipy allocates them
    try:
        m = loadmat(p, squeeze_me=False)
    except Exception as exc:  # scipy raises several types for foreign files
        raise FormatError(f"{p.name}: not a readable MATLAB file ({exc})") from exc
    need = ["amplitude", "phase", "wavelength", "source_pos", "detector_pos", "frequency"]
    miss = [k for k in need if k not in m]
    if miss:
        raise FormatError(
            f"{p.name}: missing MATLAB variables {miss}; expected {need} (amplitude/phase as "
            f"wavelength x source x detector, phase in rad, positions in mm, frequency in Hz)"
        )
    wl = _mat_float(p, m, "wavelength").ravel()
    if wl.size == 0 or not np.isfinite(wl).all():
        raise FormatError(f"{p.name}: MATLAB variable 'wavelength' must be finite values in nm")
    freq = _mat_float(p, m, "frequency").ravel()
    if freq.size != 1 or not np.isfinite(freq[0]) or freq[0] < 0:
        raise FormatError(
            f"{p.name}: MATLAB variable 'frequency' must be one finite value >= 0 (Hz, 0 for "
            f"CW), got {freq.tolist()}"
        )
    src = _mat_positions(p, m, "source_pos")
    det = _mat_positions(p, m, "detector_pos")
    shape = (wl.size, src.shape[0], det.shape[0])
    amp = _mat_measured(p, m, "amplitude", shape)
    ph = _mat_measured(p, m, "phase", shape)
    units = "mm" if position_units is None else position_units
    if "position_units" in m:  # optional: a char array naming the unit of the positions
        stored = "".join(np.asarray(m["position_units"]).astype(str).ravel()).strip()
        if stored not in LENGTH_TO_M:
            raise FormatError(
                f"{p.name}: MATLAB variable 'position_units' is {stored!r}; expected one of "
                f"{sorted(LENGTH_TO_M)}"
            )
        if position_units is not None and position_units != stored:
            raise ConfigError(
                f"{p.name}: position_units={position_units!r} contradicts the file's "
                f"'position_units' variable ({stored!r})"
            )
        units = stored
    return _from_arrays(p, amp, ph, wl, src, det, float(freq[0]), units)


_CSV_POSITIONS = ("source_x", "source_y", "detector_x", "detector_y")


def _csv_columns(units: str) -> tuple[str, ...]:
    """The measurement CSV columns with positions in ``units`` (``m`` or ``mm``)."""
    return ("wavelength_nm", *(f"{c}_{units}" for c in _CSV_POSITIONS), "amplitude", "phase_rad")


#: the columns brim writes (positions in metres); files with ``*_mm`` columns are read as well
_CSV_COLUMNS = _csv_columns("m")


def _unique_rows(a: np.ndarray) -> np.ndarray:
    """Unique rows in order of first appearance (the file's source/detector order)."""
    _, first = np.unique(a, axis=0, return_index=True)
    return a[np.sort(first)]


_FREQ_KEY = "modulation_frequency_hz"


def _frequency_comment(p: Path, lineno: int, line: str) -> float:
    """The value (Hz) of a ``# modulation_frequency_hz=...`` comment line."""
    key, sep, value = line.lstrip("#").partition("=")
    try:
        freq = float(value)
    except ValueError:
        freq = np.nan
    if key.strip() != _FREQ_KEY or not sep or not (np.isfinite(freq) and freq >= 0):
        raise FormatError(
            f"{p.name}, line {lineno}: malformed comment {line.strip()!r}; expected "
            f"'# {_FREQ_KEY}=<Hz>' with a finite value >= 0 (0 for CW)"
        )
    return freq


def _read_csv(p: Path, modulation_frequency: float | None) -> xr.Dataset:
    if modulation_frequency is not None and modulation_frequency != 0:
        check_positive("modulation_frequency", modulation_frequency)
    freq = modulation_frequency
    data = []
    for n, ln in enumerate(_read_text(p).splitlines(), 1):
        body = ln.strip()
        if body.startswith("#"):
            if body.lstrip("#").strip().startswith(_FREQ_KEY):
                freq = _frequency_comment(p, n, body)
        elif body:
            data.append((n, next(csv.reader([body]))))  # one line at a time: line numbers hold
    header = [c.strip() for c in data[0][1]] if data else []
    units = next((u for u in ("m", "mm") if all(c in header for c in _csv_columns(u))), None)
    if len(data) < 2 or units is None:
        raise FormatError(
            f"{p.name}: a measurement CSV needs the columns {list(_CSV_COLUMNS)} (positions in "
            f"m; or the same with '_mm' position columns), one row per wavelength/source/"
            f"detector, and a '# {_FREQ_KEY}=...' comment line"
        )
    if freq is None:
        raise FormatError(
            f"{p.name}: no modulation frequency; add '# {_FREQ_KEY}=140e6' (0 for CW)"
        )
    cols = [header.index(c) for c in _csv_columns(units)]
    arr = np.empty((len(data) - 1, len(cols)))
    seen: dict[tuple, int] = {}
    for i, (n, row) in enumerate(data[1:]):
        where = f"{p.name}, line {n}"
        if len(row) != len(header):
            raise FormatError(
                f"{where}: {len(row)} fields, expected {len(header)} (truncated or ragged row)"
            )
        try:
            arr[i] = [float(row[c]) for c in cols]
        except ValueError as exc:
            raise FormatError(f"{where}: non-numeric value ({exc})") from exc
        if not np.isfinite(arr[i]).all():
            raise FormatError(f"{where}: NaN or infinite value; every row needs finite numbers")
        key = tuple(arr[i, :5])
        if key in seen:
            w, sx, sy, dx, dy = key
            raise FormatError(
                f"{where}: duplicate of line {seen[key]} (wavelength {w:g} nm, source "
                f"({sx:g}, {sy:g}) {units}, detector ({dx:g}, {dy:g}) {units}); each "
                f"wavelength/source/detector needs exactly one row"
            )
        seen[key] = n
    wl = np.unique(arr[:, 0])
    src = _unique_rows(arr[:, 1:3])
    det = _unique_rows(arr[:, 3:5])
    amp = np.full((wl.size, src.shape[0], det.shape[0]), np.nan)
    ph = amp.copy()
    iw = np.searchsorted(wl, arr[:, 0])
    isrc = np.array([np.flatnonzero((src == r).all(1))[0] for r in arr[:, 1:3]])
    idet = np.array([np.flatnonzero((det == r).all(1))[0] for r in arr[:, 3:5]])
    amp[iw, isrc, idet] = arr[:, 5]
    ph[iw, isrc, idet] = arr[:, 6]
    if np.isnan(amp).any():
        raise FormatError(
            f"{p.name}: incomplete table — every wavelength x source x detector needs one row"
        )
    return _from_arrays(p, amp, ph, wl, src, det, freq, units)


def write_measurement_csv(ds: xr.Dataset, path) -> Path:
    """Write a measurement in the long CSV layout :func:`read_measurement` reads (positions in m).

    Parameters
    ----------
    ds : xarray.Dataset
        ``optical_measurement``.
    path : path-like
        The CSV file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    p = Path(path)
    ds = positions_to_m(ds)
    out = io.StringIO()
    out.write(f"# modulation_frequency_hz={float(ds['modulation_frequency'])!r}\n")
    out.write(",".join(_CSV_COLUMNS) + "\n")
    for w in range(ds.sizes["wavelength"]):
        for s in range(ds.sizes["source"]):
            for d in range(ds.sizes["detector"]):
                vals = (
                    float(ds.wavelength[w]),
                    float(ds.source_x[s]),
                    float(ds.source_y[s]),
                    float(ds.detector_x[d]),
                    float(ds.detector_y[d]),
                    float(ds.amplitude[w, s, d]),
                    float(ds.phase[w, s, d]),
                )
                out.write(",".join(repr(v) for v in vals) + "\n")
    p.write_text(out.getvalue(), encoding="utf-8")
    return p


@provenance.step
def read_measurement(
    path, *, modulation_frequency: float | None = None, position_units: str | None = None
) -> xr.Dataset:
    """Read an optical measurement from NetCDF (brim), MATLAB .mat or long-format CSV.

    .mat files need the variables ``amplitude``, ``phase`` (wavelength x source x detector, rad),
    ``wavelength`` (nm), ``source_pos``, ``detector_pos`` (rows of x, y[, z] in mm) and
    ``frequency`` (Hz), optionally ``position_units`` (``'mm'`` by default, or ``'m'``, ``'cm'``);
    the shapes must agree (never reshaped). CSV files have exactly one row per
    wavelength/source/detector with the columns
    ``wavelength_nm, source_x_m, source_y_m, detector_x_m, detector_y_m, amplitude, phase_rad``
    (or ``*_mm`` position columns) and a ``# modulation_frequency_hz=...`` comment (or pass
    ``modulation_frequency``). No format has a "missing value": NaN or infinite values are
    errors. Positions come back in metres whatever unit the file uses.

    Parameters
    ----------
    path : path-like
        A ``.nc``, ``.mat``, ``.csv`` or ``.txt`` file.
    modulation_frequency : float, optional
        Hz (0 for CW), for a CSV file without the comment line.
    position_units : {"mm", "m", "cm", "um"}, optional
        Unit of the positions of a .mat file without a ``position_units`` variable (default
        mm); an acquisition preset for files from other systems.

    Returns
    -------
    xarray.Dataset
        Validated ``optical_measurement``.

    Raises
    ------
    MissingFileError
        The file does not exist.
    FormatError
        The file is unreadable, truncated, has wrong shapes, ragged, duplicate or missing rows,
        or non-finite values; the message names the file (and the line of a CSV).
    ConfigError
        ``modulation_frequency`` is negative or not a number.

    Examples
    --------
    One source and two detectors at 780 nm in a CSV with millimetre columns; positions come
    back in metres:

    >>> import pathlib, tempfile
    >>> from brim.fusion import read_measurement
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "measurement.csv"
    >>> rows = ["# modulation_frequency_hz=140e6",
    ...         "wavelength_nm,source_x_mm,source_y_mm,detector_x_mm,detector_y_mm,"
    ...         "amplitude,phase_rad",
    ...         "780,0,0,20,0,1.0e-3,0.5",
    ...         "780,0,0,30,0,2.0e-4,0.8"]
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> meas = read_measurement(path)
    >>> meas.brim.kind, meas.amplitude.dims
    ('optical_measurement', ('wavelength', 'source', 'detector'))
    >>> meas.detector_x.values.tolist(), meas.detector_x.attrs["units"]
    ([0.02, 0.03], 'm')
    """
    import brim
    from brim.schema import stamp, validate

    p = _need(path)
    suf = p.suffix.lower()
    if position_units is not None and position_units not in LENGTH_TO_M:
        raise ConfigError(
            f"position_units must be one of {sorted(LENGTH_TO_M)}, got {position_units!r}"
        )
    from brim.fusion.background import check_distance_decay

    if suf == ".mat":
        return check_distance_decay(_read_mat(p, position_units))
    if suf in (".csv", ".txt"):
        return check_distance_decay(_read_csv(p, modulation_frequency))
    ds = brim.open(p, validate=False)  # validated below, once positions are in m
    if not isinstance(ds, xr.Dataset):
        raise FormatError(f"{p.name}: expected one Dataset, got a tree")
    try:
        ds = stamp(positions_to_m(ds), "optical_measurement")
        validate(ds)
    except SchemaError as exc:
        raise FormatError(f"{p.name}: not an optical measurement: {exc}") from exc
    return check_distance_decay(ds)


def positions_to_m(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with its source/detector positions in metres (a copy when they were not).

    Files written before brim stored lengths in SI units hold the positions in mm; this is the
    one place they are converted.

    Parameters
    ----------
    ds : xarray.Dataset
        A measurement with ``source_x, source_y, detector_x, detector_y`` coordinates whose
        ``units`` attribute is a length unit (m, mm, cm, um).

    Returns
    -------
    xarray.Dataset
        The same measurement, positions in m (float64).

    Raises
    ------
    SchemaError
        A position coordinate is missing or has no length units.
    """
    out = ds
    for c in _CSV_POSITIONS:
        if c not in ds.coords:
            raise SchemaError(f"missing coordinate {c!r} (source/detector positions)")
        units = ds[c].attrs.get("units")
        if units == "m":
            continue
        f = length_factor(units, f"coordinate {c!r}")
        vals = np.asarray(ds[c].values, dtype=np.float64) * f
        attrs = {**ds[c].attrs, "units": "m"}
        out = out.assign_coords({c: (ds[c].dims, vals, attrs)})
    return out


# ---------------------------------------------------------------------------- extinction tables


def read_extinction(path=None) -> xr.Dataset:
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
    """
    p = DEFAULT_EXTINCTION if path is None else _need(path)
    rows = []
    for n, ln in enumerate(_read_text(p).splitlines(), 1):
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


def extinction_at(wavelengths, extinction: xr.Dataset | None = None) -> np.ndarray:
    """Extinction (cm^-1/M) of (HbO2, Hb) at the given wavelengths, shape (n, 2).

    Linear interpolation inside the table; outside it raises :class:`FormatError`.
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


def write_extinction_subset(prahl_csv, path, *, lo: float = 650.0, hi: float = 950.0) -> Path:
    """Regenerate the bundled subset from Prahl's full table (``lo``-``hi`` nm)."""
    ext = read_extinction(prahl_csv).sel(wavelength=slice(lo, hi))
    lines = [
        "# Molar extinction coefficients of oxy- and deoxyhaemoglobin, "
        f"{lo:g}-{hi:g} nm (every 2 nm).",
        '# Subset of S. Prahl, "Tabulated molar extinction coefficient for hemoglobin in water",',
        "# Oregon Medical Laser Center (1999), compiled from W. B. Gratzer (MRC Labs) and "
        "N. Kollias",
        "# (Wellman Labs). Regenerate: brim.fusion.readers.write_extinction_subset(prahl_csv, "
        "path).",
        "# mu_a [cm^-1] = ln(10) * epsilon [cm^-1/M] * concentration [M]",
        "wavelength_nm,HbO2_cm-1/M,Hb_cm-1/M",
    ]
    for w, a, b in zip(ext.wavelength.values, ext.eps_hbo2.values, ext.eps_hb.values):
        lines.append(f"{w:g},{a:g},{b:g}")
    p = Path(path)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- real public maps


def read_dot_filtering(path) -> xr.Dataset:
    """Reconstructed absorption volumes with target masks (Zhu lab ``DOT_filtering`` .mat).

    The files hold ``volume7all`` (float, cases x 33 x 65 x 7) and ``maskall`` (uint8, same).
    The grid spacing is not stored in the files; the coordinates are therefore voxel indices
    (units ``px``). The depth axis (7 layers) becomes ``z``.

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` kind with ``mua`` (case, z, y, x) and ``target_mask``.
    """
    from scipy.io import loadmat

    from brim.schema import stamp

    p = _need(path)
    from brim.limits import check_mat

    check_mat(p)  # declared sizes, before scipy allocates them
    try:
        m = loadmat(p)
    except Exception as exc:
        raise FormatError(f"{p.name}: not a readable MATLAB file ({exc})") from exc
    if "volume7all" not in m or "maskall" not in m:
        raise FormatError(f"{p.name}: expected the variables 'volume7all' and 'maskall'")
    vol = np.asarray(m["volume7all"], dtype=np.float64)
    bad = int(np.count_nonzero(~np.isfinite(vol)))
    if bad:  # a reconstructed volume has a value in every voxel
        raise FormatError(f"{p.name}: 'volume7all' has {bad} NaN or infinite values")
    mask = np.asarray(m["maskall"]).astype(np.uint8)
    if vol.ndim == 3:
        vol, mask = vol[None], mask[None]
    if vol.ndim != 4 or vol.shape != mask.shape:
        raise FormatError(f"{p.name}: unexpected shapes {vol.shape} / {mask.shape}")
    vol = np.moveaxis(vol, -1, 1)  # (case, z, y, x)
    mask = np.moveaxis(mask, -1, 1)
    nc, nz, ny, nx = vol.shape
    ds = xr.Dataset(
        {
            "mua": (("scan", "z", "y", "x"), vol, {"units": "unknown", "long_name": "absorption"}),
            "target_mask": (("scan", "z", "y", "x"), mask),
        },
        coords={
            "z": ("z", np.arange(nz, dtype=float), {"units": "px"}),
            "y": ("y", np.arange(ny, dtype=float), {"units": "px"}),
            "x": ("x", np.arange(nx, dtype=float), {"units": "px"}),
        },
        attrs={
            "source_file": p.name,
            "origin": "OpticalUltrasoundImaging/DOT_filtering (MIT)",
            "note": "grid spacing not stored in the file; coordinates are voxel indices",
        },
    )
    return stamp(ds, "reconstruction")


def read_dot_pat_map(path) -> xr.DataArray:
    """One μa or μs′ map of the ``DOT-guided-PAT-reconstruction`` data (.npy, no pickles).

    File names are ``mua-<nm>.npy`` / ``mus-<nm>.npy`` (patient) or
    ``mua-<contrast>-<nm>-scan<k>.npy`` (phantoms). Values are kept as stored; the source
    repository works in cm^-1 (units recorded as ``cm-1``, an assumption stated in ``note``).
    """
    p = _need(path)
    arr = load_numpy(p)
    if isinstance(arr, dict):
        raise FormatError(f"{p.name}: an .npz archive, expected one .npy map")
    if arr.ndim != 2:
        raise FormatError(f"{p.name}: expected a 2-D map, got shape {arr.shape}")
    parts = p.stem.split("-")
    quantity = {"mua": "mua", "mus": "musp"}.get(parts[0])
    if quantity is None:
        raise FormatError(f"{p.name}: file name must start with 'mua-' or 'mus-'")
    nums = [t for t in parts[1:] if t.isdigit()]
    wl = float(nums[-1]) if nums else np.nan
    da = xr.DataArray(
        arr.astype(np.float64),
        dims=("y", "x"),
        coords={
            "y": ("y", np.arange(arr.shape[0], dtype=float), {"units": "px"}),
            "x": ("x", np.arange(arr.shape[1], dtype=float), {"units": "px"}),
        },
        name=quantity,
        attrs={
            "units": "cm-1",
            "wavelength_nm": wl,
            "source_file": p.name,
            "note": "units as used by the source repository (cm^-1); pixel size not stored",
        },
    )
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:  # a reconstructed map has a value in every pixel
        raise FormatError(f"{p.name}: the map has {bad} NaN or infinite values")
    from brim.schema import check_ranges

    check_ranges(da, "reconstruction")  # plausible mua / musp in cm-1
    return da


def read_dot_pat_patient(folder) -> xr.Dataset:
    """All ``mua-<nm>.npy`` / ``mus-<nm>.npy`` maps of one patient folder as a reconstruction.

    A patient folder holds one map per quantity and wavelength, all on the same grid, and the
    same wavelengths for both quantities. Phantom folders (``mua-<contrast>-<nm>-scan<k>.npy``,
    several maps per wavelength) are not patient folders: read their maps with
    :func:`read_dot_pat_map`.

    Parameters
    ----------
    folder : path-like
        The patient folder, e.g. ``fusion/dot_pat/p1``.

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` kind with ``mua`` and/or ``musp`` (wavelength, y, x), cm^-1.

    Raises
    ------
    MissingFileError
        The folder does not exist or holds no ``mu*.npy`` map.
    FormatError
        A map has no wavelength in its name, two maps share a quantity and wavelength, the maps
        differ in shape, or ``mua`` and ``mus`` maps exist at different wavelengths.
    """
    from brim.schema import stamp

    d = _need_folder(folder)
    files = sorted(d.glob("mu*.npy"))
    if not files:
        raise MissingFileError(f"{d}: no mua-*.npy / mus-*.npy maps")
    das = [read_dot_pat_map(f) for f in files]
    maps: dict[str, dict[float, xr.DataArray]] = {"mua": {}, "musp": {}}
    for da in das:
        name, wl = da.attrs["source_file"], da.attrs["wavelength_nm"]
        if np.isnan(wl):
            raise FormatError(f"{d.name}/{name}: no wavelength in the file name (mua-<nm>.npy)")
        if da.shape != das[0].shape:
            raise FormatError(
                f"{d.name}: {name} has shape {da.shape} but {das[0].attrs['source_file']} has "
                f"{das[0].shape}; all maps of a patient must share one grid"
            )
        same = maps[da.name].get(wl)
        if same is not None:
            raise FormatError(
                f"{d.name}: {same.attrs['source_file']} and {name} are both {da.name} at "
                f"{wl:g} nm; a patient folder holds one map per quantity and wavelength (for "
                f"phantom scans, read each map with read_dot_pat_map)"
            )
        maps[da.name][wl] = da
    if maps["mua"] and maps["musp"] and maps["mua"].keys() != maps["musp"].keys():
        raise FormatError(
            f"{d.name}: mua maps at {sorted(maps['mua'])} nm but mus maps at "
            f"{sorted(maps['musp'])} nm; each wavelength needs both maps"
        )
    out = {}
    for q, byw in maps.items():
        if byw:
            wl = sorted(byw)
            stacked = xr.concat([byw[w] for w in wl], dim="wavelength", combine_attrs="drop")
            stacked = stacked.assign_coords(wavelength=("wavelength", wl, {"units": "nm"}))
            stacked.attrs["units"] = "cm-1"
            out[q] = stacked
    ds = xr.Dataset(out, attrs={"source_folder": d.name})
    return stamp(ds, "reconstruction")


def _grey_image(path):
    """The image file ``path`` decoded as 8-bit grey (a PIL image), or FormatError."""
    from brim.io import read_image

    # the image reader shared with brim.thermo: refuses folders, FIFOs, damaged files and
    # headers declaring more pixels than Pillow's decompression-bomb limit
    with read_image(_need(path), what="image") as im:
        g = im.convert("L")
    # A B-mode image spans 2-8 cm of depth by 3-6 cm of width at >= 100 pixels a side (BUSI:
    # ~500 x 500); a 65535 x 1 "image" is a damaged header, not a scan to segment.
    w, h = g.size
    if min(w, h) < 16 or max(w, h) > 10 * min(w, h):
        raise FormatError(
            f"{Path(path).name}: a {w} x {h} pixel image is not an ultrasound image (each side "
            f">= 16 pixels and an aspect ratio <= 10 expected); the header may be damaged"
        )
    return g


def image_hash(path) -> str:
    """SHA-256 of the decoded pixel values (duplicates across folders share it)."""
    arr = np.asarray(_grey_image(path))
    h = hashlib.sha256(arr.tobytes())
    h.update(str(arr.shape).encode())
    return h.hexdigest()


def busi_pairs(root) -> list[tuple[Path, Path, str]]:
    """(image, mask, label) triples of a BUSI folder (``images/NAME.png`` ↔ ``masks/NAME.png``)."""
    r = _need_folder(root)
    out = []
    for img in sorted((r / "images").glob("*.png")):
        m = r / "masks" / img.name
        if not m.exists():
            raise MissingFileError(f"{img.name}: no mask {m}")
        label = img.name.split(" ")[0].split("(")[0].strip() or "unknown"
        out.append((img, m, label))
    if not out:
        raise MissingFileError(f"{r}: no images/*.png")
    return out


def read_busi(image, mask=None, *, size: int | None = None) -> xr.Dataset:
    """One BUSI B-mode image (grey, 0..1) with its lesion mask as a brim ``mask`` Dataset.

    Pixel spacing is unknown for BUSI, so coordinates are pixels.

    Parameters
    ----------
    image, mask : path-like
        The B-mode image and (optionally) its lesion mask, PNG or any format PIL reads.
    size : int, optional
        Resize both to ``size x size`` (bilinear for the image, nearest for the mask).

    Returns
    -------
    xarray.Dataset
        ``mask`` kind with ``image`` and ``mask`` (all zeros without a mask file).

    Raises
    ------
    FormatError
        An image file is not readable, or truncated or corrupt.
    ConfigError
        ``size`` is not a positive integer.
    """
    from PIL import Image

    from brim.schema import stamp

    if size is not None:
        size = check_positive("size", size, integer=True)
    g = _grey_image(image)
    if size:
        g = g.resize((size, size), Image.BILINEAR)
    img = np.asarray(g, dtype=np.float32) / 255.0
    data = {"image": (("y", "x"), img, {"units": "1"})}
    if mask is not None:
        g = _grey_image(mask)
        if size:
            g = g.resize((size, size), Image.NEAREST)
        data["mask"] = (
            ("y", "x"),
            (np.asarray(g) > 127).astype(np.uint8),
            {"labels": json.dumps({"1": "lesion"})},
        )
    else:
        data["mask"] = (("y", "x"), np.zeros(img.shape, np.uint8))
    ds = xr.Dataset(
        data,
        coords={
            "y": ("y", np.arange(img.shape[0], dtype=float), {"units": "px"}),
            "x": ("x", np.arange(img.shape[1], dtype=float), {"units": "px"}),
        },
        attrs={"source_file": Path(image).name},
    )
    return stamp(ds, "mask")
