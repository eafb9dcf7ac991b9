"""Optical measurements: the ``optical_measurement`` Dataset and its .mat / CSV / NetCDF readers.

Layout (schema ``optical_measurement``): ``amplitude`` and ``phase`` (rad) with dims
``(wavelength, source, detector)``, wavelength in nm, source/detector positions in metres as the
coordinates ``source_x, source_y, detector_x, detector_y``, and the 0-d variable
``modulation_frequency`` (Hz, 0 for continuous wave). A reference measurement (homogeneous
phantom or the contralateral breast) is a second Dataset of the same layout.

Units are converted once, here: positions given in mm (the .mat layout, ``*_mm`` CSV columns,
brim files written before lengths became SI) become metres, and all positions are float64; CSV
columns (and NetCDF ``units`` attributes) in degrees, micrometres or MHz are converted as well.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, FormatError, SchemaError, check_positive, warn
from brim.fusion._units import check_plausible_m, length_factor
from brim.io import check_input_file, read_table, write_text
from brim.units import LENGTH_TO_M

__all__ = [
    "measurement_from_arrays",
    "read_measurement",
    "positions_to_m",
    "write_measurement_csv",
]


@provenance.step
def measurement_from_arrays(
    amplitude: ArrayLike,
    phase: ArrayLike,
    wavelengths: ArrayLike,
    source_xy: ArrayLike,
    detector_xy: ArrayLike,
    modulation_frequency: float,
    *,
    amplitude_units: str = "1",
    position_units: str = "m",
    amplitude_rel_se: ArrayLike | None = None,
    phase_se: ArrayLike | None = None,
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
    amplitude_rel_se, phase_se : array_like, shape (wavelength, source, detector), optional
        Standard errors of each amplitude (relative) and phase (rad), e.g. from repeated
        acquisitions; both or neither. :func:`brim.fusion.reconstruct` then weighs the data
        by them.
    attrs : dict, optional
        Attributes of the Dataset.

    Returns
    -------
    xarray.Dataset
        Validated ``optical_measurement`` with positions in m.

    Raises
    ------
    FormatError
        Shapes that do not agree, a negative amplitude or standard error, or only one of the
        two standard errors.
    ConfigError
        Positions beyond 0.5 m (millimetres given as metres) or unknown ``position_units``.

    Examples
    --------
    One wavelength, one source and two detectors given in millimetres:

    >>> import numpy as np
    >>> from brim.fusion import measurement_from_arrays
    >>> amp = np.array([[[1e-3, 2e-4]]])  # (wavelength, source, detector)
    >>> meas = measurement_from_arrays(amp, np.zeros_like(amp), [780], [[0, 0]],
    ...                                [[20, 0], [30, 0]], 140e6, position_units="mm")
    >>> meas.brim.kind, dict(meas.sizes)
    ('optical_measurement', {'wavelength': 1, 'source': 1, 'detector': 2})
    >>> meas.detector_x.values.tolist(), meas.detector_x.attrs["units"]
    ([0.02, 0.03], 'm')
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
        raise FormatError(
            "amplitude must be >= 0 (a linear modulus, not dB or a logarithm); check the "
            "column order"
        )
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
    if (amplitude_rel_se is None) != (phase_se is None):
        raise FormatError("give both standard errors (amplitude_rel_se and phase_se) or neither")
    if amplitude_rel_se is not None:
        for name, se, units in (
            ("amplitude_rel_se", amplitude_rel_se, "1"),
            ("phase_se", phase_se, "rad"),
        ):
            se = np.asarray(se, dtype=np.float64)
            if se.ndim == 2 and wl.size == 1:
                se = se[None]
            if se.shape != shape:
                raise FormatError(f"{name} has shape {se.shape}; expected {shape}")
            if np.any(se < 0):
                raise FormatError(f"{name} must be >= 0 (a standard error)")
            ds[name] = (("wavelength", "source", "detector"), se, {"units": units})
    ds = stamp(ds, "optical_measurement")
    validate(ds)
    return ds


#: frequency-domain DOT modulates at radio frequencies (tens of MHz to about 1 GHz): below
#: 1 kHz the phase shift over centimetres is ~1e-6 rad, unmeasurable, so such a value is MHz
_MIN_MODULATION_HZ = 1e3
#: the longest source-detector distance of a diffuse measurement is centimetres (diffusion
#: needs many transport mean free paths, ~1 mm each); below 1 mm metres were read as mm
_MIN_LONGEST_PAIR_M = 1e-3


def _check_phase_rad(p: Path, phase, what: str, fix: str) -> None:
    """Warn when a phase said to be in rad passes a turn (degrees under a rad label?).

    An unwrapped phase may pass 2 pi (the reconstruction wraps phase differences, and the
    schema allows 100 rad), so this warns instead of refusing; a phase without a unit is refused.
    """
    top = float(np.abs(np.asarray(phase, dtype=np.float64)).max(initial=0.0))
    if top > _MAX_PHASE_RAD:
        warn(
            f"{p.name}: {what} reaches {top:.4g}, beyond 2 pi: if these are degrees, {fix} "
            "(an unwrapped phase in rad reads as it is)"
        )


def _check_file_values(p: Path, wl, freq, src, det, units: str) -> None:
    """FormatError for file values in a wrong unit: wavelengths, frequency, positions."""
    from brim.schema.optical import OPTICAL_MEASUREMENT

    wl = np.asarray(wl, dtype=np.float64)
    # the schema's plausible wavelengths (near-infrared optics); said here with the unit fix
    lo, hi = next((r.lo, r.hi) for r in OPTICAL_MEASUREMENT.ranges if r.name == "wavelength")
    if wl.size and not ((wl >= lo) & (wl <= hi)).all():
        raise FormatError(
            f"{p.name}: wavelengths {wl.tolist()} are not optical wavelengths in nm ({lo:g} to "
            f"{hi:g}); give them in nm (780, not 0.78 um or 7.8e-7 m)"
        )
    if 0 < freq < _MIN_MODULATION_HZ:
        raise FormatError(
            f"{p.name}: modulation frequency {freq:g} Hz is no frequency-domain DOT frequency "
            f"(tens of MHz to 1 GHz); MHz given as Hz? Give it in Hz (140e6; a CSV may say "
            f"'# modulation_frequency_mhz=140'), or 0 for CW"
        )
    f = LENGTH_TO_M.get(units, 1.0)
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2) * f
    d = np.asarray(det, dtype=np.float64).reshape(-1, 2) * f
    longest = float(np.hypot(*(s[:, None, :] - d[None, :, :]).transpose(2, 0, 1)).max())
    if 0 < longest < _MIN_LONGEST_PAIR_M:
        raise FormatError(
            f"{p.name}: the longest source-detector distance is {longest:.3g} m with the "
            f"positions read as {units}: too short for diffuse light; if the file holds metres, "
            "give position_units='m' (--position-units m, or a 'position_units' variable)"
        )


def _from_arrays(p: Path, amp, ph, wl, src, det, freq, units="mm", se=(None, None)) -> xr.Dataset:
    """:func:`measurement_from_arrays` for file ``p``, naming the file in any error."""
    _check_file_values(p, wl, freq, src, det, units)
    try:
        return measurement_from_arrays(
            amp,
            ph,
            wl,
            src,
            det,
            freq,
            position_units=units,
            amplitude_rel_se=se[0],
            phase_se=se[1],
            attrs={"source_file": p.name},
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
    """The x, y columns of the position matrix ``m[name]`` (rows of x, y[, z] in mm).

    A matrix of 2 or 3 rows and more than 3 columns holds one optode per column (saved
    transposed) and is read as such; a 3 x 3 or 2 x 3 matrix is read as rows.
    """
    a = _mat_float(p, m, name)
    if a.ndim == 2 and a.shape[0] in (2, 3) and a.shape[1] > 3:
        a = a.T  # one column per optode: the transpose is the only reading (never 4+ coordinates)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] not in (2, 3):
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
    from brim.io import read_mat

    m = read_mat(p)
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
    _check_phase_rad(p, ph, "MATLAB variable 'phase'", "convert it to rad (phase * pi / 180)")
    return _from_arrays(p, amp, ph, wl, src, det, float(freq[0]), units)


_CSV_POSITIONS = ("source_x", "source_y", "detector_x", "detector_y")


def _csv_columns(units: str) -> tuple[str, ...]:
    """The measurement CSV columns with positions in ``units`` (``m`` or ``mm``)."""
    return ("wavelength_nm", *(f"{c}_{units}" for c in _CSV_POSITIONS), "amplitude", "phase_rad")


#: the columns brim writes (positions in metres); files with ``*_mm`` columns are read as well
_CSV_COLUMNS = _csv_columns("m")
#: the optional variables of each value's standard errors (both or neither) and their CSV columns
ERROR_VARIABLES = ("amplitude_rel_se", "phase_se")
_CSV_ERRORS = ("amplitude_rel_se", "phase_se_rad")

#: unit suffixes of the CSV columns and their factors to the Dataset's units (nm, m, rad)
_WAVELENGTH_TO_NM = {"nm": 1.0, "um": 1e3, "µm": 1e3, "m": 1e9}
_ANGLE_TO_RAD = {"rad": 1.0, "deg": np.pi / 180.0, "degrees": np.pi / 180.0}
#: amplitude columns in a logarithmic unit: refused (20 log10 or 10 log10? ln?), never guessed
_LOG_AMPLITUDE = ("amplitude_db", "amplitude_dbm", "log_amplitude", "amplitude_log", "ln_amplitude")
#: a wrapped phase in radians lies within one turn of zero; beyond it, degrees are likely
_MAX_PHASE_RAD = 2 * np.pi


def _unique_rows(a: np.ndarray) -> np.ndarray:
    """Unique rows in order of first appearance (the file's source/detector order)."""
    _, first = np.unique(a, axis=0, return_index=True)
    return a[np.sort(first)]


_FREQ_KEY = "modulation_frequency_hz"
#: the frequency comment's keys and their factors to Hz
_FREQ_KEYS = {_FREQ_KEY: 1.0, "modulation_frequency_khz": 1e3, "modulation_frequency_mhz": 1e6}


def _number(text: str, decimal_comma: bool) -> float:
    """``float(text)``, with ``,`` as the decimal mark when the file uses one."""
    text = text.strip()
    return float(text.replace(",", ".") if decimal_comma else text)


def _frequency_comment(p: Path, lineno: int, line: str, decimal_comma: bool = False) -> float:
    """The value (Hz) of a ``# modulation_frequency_hz=...`` (or ``_mhz``) comment line."""
    key, sep, value = line.lstrip("#").partition("=")
    key = key.strip().lower()
    try:
        freq = _number(value, decimal_comma) * _FREQ_KEYS[key]
    except (KeyError, ValueError):
        freq = np.nan
    if not sep or not (np.isfinite(freq) and freq >= 0):
        raise FormatError(
            f"{p.name}, line {lineno}: malformed comment {line.strip()!r}; expected "
            f"'# {_FREQ_KEY}=<Hz>' (or 'modulation_frequency_mhz=<MHz>') with a finite "
            f"value >= 0 (0 for CW)"
        )
    return freq


def _column_name(name: str) -> str:
    """A header cell as brim's column key: ``'Wavelength (nm)'`` -> ``'wavelength_nm'``."""
    name = name.strip().lower().replace("°", "_deg").replace("μ", "u").replace("µ", "u")
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _csv_layout(p: Path, header: list[str]) -> tuple[list[int], np.ndarray, bool]:
    """Where each quantity's column is in ``header``, the factors to nm / m / rad, and whether
    the standard-error columns are there.

    The order is that of :data:`_CSV_COLUMNS` (+ :data:`_CSV_ERRORS`); each quantity's unit is
    the suffix of its column name, any capitalisation, other columns ignored.
    """
    names = [_column_name(c) for c in header]

    def find(stem: str, table: dict) -> tuple[int, float] | None:
        hits = [
            (i, table[n[len(stem) + 1 :]])
            for i, n in enumerate(names)
            if n.startswith(stem + "_") and n[len(stem) + 1 :] in table
        ]
        if len(hits) > 1:
            raise FormatError(
                f"{p.name}: {len(hits)} columns give {stem!r} "
                f"({[header[i].strip() for i, _ in hits]}); keep one"
            )
        return hits[0] if hits else None

    def need(stem: str, table: dict) -> tuple[int, float]:
        if stem == "amplitude" and stem in names:
            return names.index(stem), 1.0
        hit = find(stem, table)
        if hit is not None:
            return hit
        if stem == "amplitude":
            hint = (
                "a logarithmic amplitude is ambiguous (20 log10, 10 log10 or ln): give the "
                "linear amplitude, e.g. 10**(dB / 20), in an 'amplitude' column"
                if any(n in names for n in _LOG_AMPLITUDE)
                else "add the linear amplitude"
            )
        elif stem in names:
            hint = f"a column {stem!r} without a unit: name it {stem}_<unit>, <unit> one of "
            hint += f"{sorted(table)}"
        else:
            hint = f"add it, named {stem}_<unit> with <unit> one of {sorted(table)}"
        raise FormatError(
            f"{p.name}: no {stem!r} column ({hint}); a measurement CSV needs the columns "
            f"{list(_CSV_COLUMNS)} (positions in m, mm, cm or um; phase in rad or deg), one "
            f"row per wavelength/source/detector, and a '# {_FREQ_KEY}=...' comment line"
        )

    found = [need("wavelength", _WAVELENGTH_TO_NM)]
    found += [need(c, LENGTH_TO_M) for c in _CSV_POSITIONS]
    found += [need("amplitude", {}), need("phase", _ANGLE_TO_RAD)]
    rel = names.index("amplitude_rel_se") if "amplitude_rel_se" in names else None
    pse = find("phase_se", _ANGLE_TO_RAD)
    if (rel is None) != (pse is None):
        raise FormatError(
            f"{p.name}: the standard-error columns {list(_CSV_ERRORS)} come both or not at all"
        )
    if rel is not None and pse is not None:
        found += [(rel, 1.0), pse]
    return [i for i, _ in found], np.array([f for _, f in found]), rel is not None


def _csv_rows(p: Path) -> tuple[list[tuple[int, list[str]]], float | None, bool]:
    """The data lines (line number, fields), the frequency comment (Hz) and the decimal mark.

    Comma-separated files use ``.`` decimals; a file separated by ``;`` or tabs (what a
    spreadsheet in a decimal-comma locale writes, perhaps after a ``sep=;`` line) may use ``,``.
    """
    table = read_table(p, what="optical measurement", blanks=False, quoting=True)
    decimal_comma = table.separator != ","
    freq = None
    for n, b in table.comments:
        if b.lstrip("#").strip().lower().startswith("modulation_frequency"):
            freq = _frequency_comment(p, n, b, decimal_comma)
    # one line at a time, so line numbers hold; rows of empty fields only (a spreadsheet's
    # trailing ',,,,') are not data
    return [(row.line, row.cells) for row in table.rows], freq, decimal_comma


def _read_csv(p: Path, modulation_frequency: float | None) -> xr.Dataset:
    if modulation_frequency is not None and modulation_frequency != 0:
        check_positive("modulation_frequency", modulation_frequency)
    data, freq, decimal_comma = _csv_rows(p)
    if modulation_frequency is not None:
        freq = modulation_frequency
    if len(data) < 2:
        raise FormatError(
            f"{p.name}: a measurement CSV needs the columns {list(_CSV_COLUMNS)} (positions in "
            f"m; or the same with '_mm' position columns), one row per wavelength/source/"
            f"detector, and a '# {_FREQ_KEY}=...' comment line"
        )
    header = data[0][1]
    cols, factors, has_errors = _csv_layout(p, header)
    if freq is None:
        raise FormatError(
            f"{p.name}: no modulation frequency; add '# {_FREQ_KEY}=140e6' (0 for CW)"
        )
    arr = np.empty((len(data) - 1, len(cols)))
    seen: dict[tuple, int] = {}
    for i, (n, row) in enumerate(data[1:]):
        where = f"{p.name}, line {n}"
        if len(row) != len(header):
            raise FormatError(
                f"{where}: {len(row)} fields, expected {len(header)} (truncated or ragged row)"
            )
        try:
            arr[i] = [_number(row[c], decimal_comma) for c in cols]
        except ValueError as exc:
            raise FormatError(f"{where}: non-numeric value ({exc})") from exc
        if not np.isfinite(arr[i]).all():
            raise FormatError(f"{where}: NaN or infinite value; every row needs finite numbers")
        key = tuple(arr[i, :5])
        if key in seen:
            w, sx, sy, dx, dy = key
            raise FormatError(
                f"{where}: duplicate of line {seen[key]} (wavelength {w:g}, source "
                f"({sx:g}, {sy:g}), detector ({dx:g}, {dy:g}) in the file's units); each "
                f"wavelength/source/detector needs exactly one row"
            )
        seen[key] = n
    if factors[6] == 1.0:
        _check_phase_rad(
            p,
            arr[:, 6],
            f"the phase column {header[cols[6]].strip()!r}",
            "name the column phase_deg",
        )
    arr = arr * factors  # wavelengths to nm, positions to m, phases to rad (one multiply each)
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
        w, s, d = np.argwhere(np.isnan(amp))[0]
        raise FormatError(
            f"{p.name}: incomplete table — {int(np.isnan(amp).sum())} of {amp.size} wavelength "
            f"x source x detector rows are missing, e.g. {wl[w]:g} nm, source "
            f"({src[s, 0]:g}, {src[s, 1]:g}) m, detector ({det[d, 0]:g}, {det[d, 1]:g}) m; "
            "every wavelength x source x detector needs one row (drop the incomplete "
            "wavelength or pair)"
        )
    se: tuple = (None, None)
    if has_errors:
        se = (amp.copy(), amp.copy())
        se[0][iw, isrc, idet] = arr[:, 7]
        se[1][iw, isrc, idet] = arr[:, 8]
    return _from_arrays(p, amp, ph, wl, src, det, freq, "m", se)


def write_measurement_csv(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a measurement in the long CSV layout :func:`read_measurement` reads (positions in m;
    the standard-error columns too when ``ds`` carries ``amplitude_rel_se`` and ``phase_se``).

    Parameters
    ----------
    ds : xarray.Dataset
        ``optical_measurement``.
    path : path-like
        The CSV file to write.

    Returns
    -------
    pathlib.Path
        ``path``: a ``# modulation_frequency_hz=`` line, the column names, then one row per
        wavelength x source x detector (UTF-8).

    Examples
    --------
    A round trip through the CSV layout:

    >>> from brim.fusion import measurement_from_arrays, read_measurement, write_measurement_csv
    >>> meas = measurement_from_arrays([[[1e-3, 2e-4]]], [[[0.5, 0.8]]], [780], [[0, 0]],
    ...                                [[0.02, 0], [0.03, 0]], 140e6)
    >>> path = write_measurement_csv(meas, "measurement.csv")
    >>> path.read_text().splitlines()[0]
    '# modulation_frequency_hz=140000000.0'
    >>> read_measurement(path).phase.values.ravel().tolist()
    [0.5, 0.8]
    """
    p = Path(path)
    ds = positions_to_m(ds)
    out = io.StringIO()
    out.write(f"# modulation_frequency_hz={float(ds['modulation_frequency'])!r}\n")
    has_errors = all(v in ds for v in ERROR_VARIABLES)
    out.write(",".join(_CSV_COLUMNS + (_CSV_ERRORS if has_errors else ())) + "\n")
    for w in range(ds.sizes["wavelength"]):
        for s in range(ds.sizes["source"]):
            for d in range(ds.sizes["detector"]):
                vals = [
                    float(ds.wavelength[w]),
                    float(ds.source_x[s]),
                    float(ds.source_y[s]),
                    float(ds.detector_x[d]),
                    float(ds.detector_y[d]),
                    float(ds.amplitude[w, s, d]),
                    float(ds.phase[w, s, d]),
                ]
                if has_errors:
                    vals += [float(ds[v][w, s, d]) for v in ERROR_VARIABLES]
                out.write(",".join(repr(v) for v in vals) + "\n")
    return write_text(p, out.getvalue())


@provenance.step
def read_measurement(
    path: str | os.PathLike,
    *,
    modulation_frequency: float | None = None,
    position_units: str | None = None,
) -> xr.Dataset:
    """Read an optical measurement from NetCDF (brim), MATLAB .mat (v5 or v7.3) or long CSV.

    .mat files need the variables ``amplitude``, ``phase`` (wavelength x source x detector, rad),
    ``wavelength`` (nm), ``source_pos``, ``detector_pos`` (rows of x, y[, z] in mm; a matrix of
    2 or 3 rows and more columns is read as one optode per column) and ``frequency`` (Hz),
    optionally ``position_units`` (``'mm'`` by default, or ``'m'``, ``'cm'``); the shapes must
    agree (never reshaped). CSV files have exactly one row per wavelength/source/detector with
    the columns
    ``wavelength_nm, source_x_m, source_y_m, detector_x_m, detector_y_m, amplitude, phase_rad``,
    optionally each value's standard errors ``amplitude_rel_se, phase_se_rad`` (both or
    neither; they weigh the reconstruction), and a ``# modulation_frequency_hz=...`` comment
    (``# modulation_frequency_mhz=...`` also reads; or pass ``modulation_frequency``). Each
    column's unit is its suffix, converted on reading: wavelength ``nm``, ``um`` or ``m``;
    positions ``m``, ``mm``, ``cm`` or ``um``; phases ``rad`` or ``deg``. Column order,
    capitalisation, ``Name (unit)`` spellings and other columns do not matter; a quantity
    without a unit (``phase``) or a logarithmic amplitude (``amplitude_dB``) is refused.
    Commas separate the fields, or semicolons/tabs (then ``,`` may be the decimal mark, as
    spreadsheets write in such locales; an Excel ``sep=;`` line is honoured); a UTF-8 or UTF-16
    byte-order mark and CRLF line ends are fine. NetCDF phases with ``units`` ``deg`` and
    wavelengths in ``um`` or ``m`` are converted too. No format has a "missing value": NaN or
    infinite values are errors (rows of empty fields, a spreadsheet's trailing ``,,,,``, are
    skipped). Positions come back in metres whatever unit the file uses.

    Values in a wrong unit are refused rather than guessed: wavelengths outside the schema's
    near-infrared range (0.78 is um), a modulation frequency between 0 and 1 kHz (MHz given as
    Hz), source-detector distances all under 1 mm (metres read as mm). A phase in rad beyond
    2 pi is read with a :class:`~brim.BrimWarning` (degrees? an unwrapped phase is legitimate).

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
        non-finite values, columns without units or values in a wrong unit; the message names
        the file (and the line of a CSV) and the fix.
    ConfigError
        ``modulation_frequency`` is negative or not a number.

    Warns
    -----
    BrimWarning
        A phase in rad beyond 2 pi (degrees under a rad label?), or an amplitude that does not
        decay with distance (:func:`brim.fusion.background.check_distance_decay`).

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

    p = check_input_file(path)
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
        ds = stamp(_angles_and_wavelengths(positions_to_m(ds)), "optical_measurement")
        validate(ds)
    except SchemaError as exc:
        raise FormatError(f"{p.name}: not an optical measurement: {exc}") from exc
    return check_distance_decay(ds)


def _angles_and_wavelengths(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with phases in degrees (``units`` deg) in rad and wavelengths in um or m in nm."""
    for v in ("phase", "phase_se"):
        if v in ds and str(ds[v].attrs.get("units", "")).strip().lower() in (
            "deg",
            "degree",
            "degrees",
        ):
            ds = ds.assign({v: ds[v].copy(data=np.deg2rad(ds[v].values)).assign_attrs(units="rad")})
    if "wavelength" in ds.coords:
        f = _WAVELENGTH_TO_NM.get(str(ds.wavelength.attrs.get("units", "nm")).strip())
        if f is not None and f != 1.0:
            wl = np.asarray(ds.wavelength.values, dtype=np.float64) * f
            ds = ds.assign_coords(
                wavelength=("wavelength", wl, {**ds.wavelength.attrs, "units": "nm"})
            )
    return ds


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

    Examples
    --------
    >>> from brim.fusion import measurement_from_arrays, positions_to_m
    >>> meas = measurement_from_arrays([[[1e-3]]], [[[0.0]]], [780], [[0, 0]], [[0.02, 0]], 0.0)
    >>> old = meas.assign_coords(detector_x=("detector", [20.0], {"units": "mm"}))
    >>> new = positions_to_m(old)
    >>> new.detector_x.values.tolist(), new.detector_x.attrs["units"]
    ([0.02], 'm')
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
