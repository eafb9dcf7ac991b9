"""Measured multistatic field tables -> a brim ``field_set``.

Free-space tomography data sets publish their measurements as a table with one row per source,
receiver and frequency: the source and receiver indices, the frequency, and the real and
imaginary parts of the total field and of the incident field (the field measured without the
object) at the receiver. The Institut Fresnel databases are the best-known example (Belkebir &
Saillard 2001, Inverse Problems 17:1565; Geffrin, Sabouroux & Eyraud 2005, Inverse Problems
21:S117). Antenna positions are not in the table: they come from the set-up's description, as a
geometry file or as ring radii and angles.

:func:`read_field_table` reads

* whitespace-, comma- or semicolon-separated **text** without a header (``.exp``, ``.txt``,
  ``.dat``, ``.csv``), the columns in the order of ``columns`` (by default
  :data:`DEFAULT_COLUMNS`);
* **CSV with a header** naming its columns (any order; the aliases of :data:`COLUMN_ALIASES`);
* **MATLAB** ``.mat`` files holding one 1-D variable per named column, or one numeric matrix
  whose columns follow ``columns``;
* **NetCDF** files holding the same named 1-D variables (a file that already is a brim
  ``field_set`` is returned as it is).

Pairs absent from the table (e.g. receivers too close to the source, which such set-ups do not
measure) are stored as 0 and flagged ``False`` in the ``mask`` variable, which brim's solvers
honour. brim's time convention is exp(+jωt); a table written with exp(−iωt) is conjugated on
reading (``time_convention="-iwt"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import ConfigError, FormatError
from brim.io import check_input_file, read_text

__all__ = ["COLUMN_ALIASES", "DEFAULT_COLUMNS", "read_field_table"]

#: Column order of a table without a header (the Institut Fresnel layout).
DEFAULT_COLUMNS = (
    "tx",
    "rx",
    "freq",
    "total_re",
    "total_im",
    "incident_re",
    "incident_im",
)

#: Accepted header names (lower case) for each column.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "tx": ("tx", "source", "transmitter", "tx_index", "source_index", "itx"),
    "rx": ("rx", "receiver", "rx_index", "receiver_index", "irx"),
    "freq": ("freq", "frequency", "f", "freq_hz", "frequency_hz", "freq_ghz", "frequency_ghz"),
    "total_re": ("total_re", "re_total", "etot_re", "re_etot", "total_real", "real_total"),
    "total_im": ("total_im", "im_total", "etot_im", "im_etot", "total_imag", "imag_total"),
    "incident_re": ("incident_re", "re_incident", "einc_re", "re_einc", "incident_real"),
    "incident_im": ("incident_im", "im_incident", "einc_im", "im_einc", "incident_imag"),
}
_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_MAX_ROWS = 50_000_000


def _canonical(name: str) -> str | None:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    for canon, aliases in COLUMN_ALIASES.items():
        if key in aliases:
            return canon
    return None


def _numeric_rows(text: str, where: str) -> np.ndarray:
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith(("#", "%", "!")):
            continue
        parts = s.replace(",", " ").replace(";", " ").split()
        try:
            rows.append([float(p) for p in parts])
        except ValueError:
            raise FormatError(f"{where}, line {n}: not a row of numbers: {s[:60]!r}") from None
        if len(rows) > _MAX_ROWS:
            raise FormatError(f"{where}: more than {_MAX_ROWS} rows")
    if not rows:
        raise FormatError(f"{where}: no data rows")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise FormatError(f"{where}: rows have different numbers of columns {sorted(widths)}")
    return np.asarray(rows, dtype=np.float64)


def _from_matrix(a: np.ndarray, columns: Sequence[str], where: str) -> dict[str, np.ndarray]:
    if a.ndim != 2 or a.shape[1] < len(columns):
        raise FormatError(
            f"{where}: {a.shape[1] if a.ndim == 2 else a.ndim} columns, but the layout "
            f"{list(columns)} needs {len(columns)} (pass columns= to name them)"
        )
    return {c: a[:, i] for i, c in enumerate(columns) if c}


def _from_named(named: dict, where: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, values in named.items():
        canon = _canonical(str(name))
        if canon is None:
            continue
        if canon in out:
            raise FormatError(f"{where}: two columns are {canon!r} ({name!r} and another)")
        a = np.asarray(values)
        if a.dtype.kind not in "biuf":
            raise FormatError(f"{where}: column {name!r} is not numeric ({a.dtype})")
        out[canon] = a.astype(np.float64).ravel()
        if "ghz" in str(name).lower():
            out["__freq_unit__"] = np.asarray(1e9)
        elif str(name).lower().endswith("hz"):
            out["__freq_unit__"] = np.asarray(1.0)
    return out


def _read_columns(path: Path, columns: Sequence[str]) -> dict[str, np.ndarray]:
    where = path.name
    suffix = path.suffix.lower()
    if suffix == ".mat":
        from brim.io import read_mat

        m = read_mat(path, squeeze=True)
        named = _from_named(m, where)
        if named:
            return named
        mats = [v for v in m.values() if isinstance(v, np.ndarray) and v.ndim == 2]
        if len(mats) != 1:
            raise FormatError(
                f"{where}: no named columns ({', '.join(COLUMN_ALIASES)}) and not exactly one "
                "numeric matrix"
            )
        return _from_matrix(np.asarray(mats[0], np.float64), columns, where)
    if suffix in (".nc", ".h5", ".hdf5", ".netcdf"):
        try:
            ds = xr.open_dataset(path, engine="h5netcdf")
        except Exception as exc:  # noqa: BLE001 - any backend failure is a format problem
            raise FormatError(f"{where}: not a readable NetCDF file ({exc})") from None
        with ds:
            if ds.attrs.get("brim_schema", "").startswith("field_set"):
                return {"__field_set__": ds.load()}  # type: ignore[dict-item]
            named = _from_named({k: ds[k].values for k in ds.data_vars}, where)
            if "polarisation" in ds.attrs:
                named["__polarisation__"] = np.asarray(str(ds.attrs["polarisation"]))
            return named
    text = read_text(path, what="field table")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    tokens = first.replace(",", " ").replace(";", " ").split()
    if tokens and any(_canonical(t) for t in tokens):
        sep = "," if "," in first else (";" if ";" in first else None)
        names = [t.strip() for t in (first.split(sep) if sep else first.split()) if t.strip()]
        body = text.split("\n", 1)[1] if "\n" in text else ""
        a = _numeric_rows(body, where)
        if a.shape[1] != len(names):
            raise FormatError(f"{where}: {len(names)} header names for {a.shape[1]} columns")
        return _from_named(dict(zip(names, a.T, strict=True)), where)
    return _from_matrix(_numeric_rows(text, where), columns, where)


def _positions(kind, n, geometry_rows, radius, angles):
    """(x, y) of ``n`` antennas of one kind, from a geometry file's rows or a ring."""
    if geometry_rows is not None:
        rows = geometry_rows.get(kind)
        if rows is None:
            raise ConfigError(f"the geometry file has no {kind!r} rows")
        return rows
    if radius is None:
        raise ConfigError(
            f"{kind} positions are not in a field table: give geometry= (CLI --geometry; a CSV "
            f"file with columns kind,index,x,y in m) or {kind}_radius= (CLI --{kind}-radius; m) "
            f"with optional {kind}_angles= (degrees)"
        )
    if angles is None:
        angles = np.arange(n) * 360.0 / n
    ang = np.deg2rad(np.asarray(angles, np.float64).ravel())
    return float(radius) * np.cos(ang), float(radius) * np.sin(ang)


def _read_geometry(path, index_base):
    p = check_input_file(path, what="antenna geometry")
    text = read_text(p, what="antenna geometry")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    head = [h.strip().lower() for h in lines[0].split(",")]
    need = ("kind", "index", "x", "y")
    if any(h not in head for h in need):
        raise FormatError(f"{p.name}: the geometry CSV needs the columns {', '.join(need)}")
    out: dict[str, dict[int, tuple[float, float]]] = {"tx": {}, "rx": {}}
    for n, ln in enumerate(lines[1:], 2):
        cells = [c.strip() for c in ln.split(",")]
        rec = dict(zip(head, cells, strict=False))
        kind = rec["kind"].lower()
        if kind not in out:
            raise FormatError(f"{p.name}, line {n}: kind must be tx or rx, got {rec['kind']!r}")
        try:
            out[kind][int(rec["index"])] = (float(rec["x"]), float(rec["y"]))
        except ValueError:
            raise FormatError(f"{p.name}, line {n}: index, x and y must be numbers") from None
    rows = {}
    for kind, d in out.items():
        if d:
            idx = sorted(d)
            if idx != list(range(index_base, index_base + len(idx))):
                raise FormatError(
                    f"{p.name}: {kind} indices must run {index_base}..{index_base + len(idx) - 1}"
                )
            xy = np.array([d[i] for i in idx])
            rows[kind] = (xy[:, 0], xy[:, 1])
    return rows


@provenance.step
def read_field_table(
    path: str | os.PathLike,
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    geometry: str | os.PathLike | None = None,
    tx_radius: float | None = None,
    rx_radius: float | None = None,
    tx_angles: Sequence[float] | None = None,
    rx_angles: Sequence[float] | None = None,
    n_tx: int | None = None,
    n_rx: int | None = None,
    freq_unit: str = "auto",
    index_base: int = 1,
    time_convention: str = "+jwt",
    polarisation: str | None = None,
) -> xr.Dataset:
    """Read a measured multistatic field table into a ``field_set`` Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        The table: text (``.exp``, ``.txt``, ``.dat``, ``.csv``, with or without a header),
        ``.mat`` or ``.nc`` (see the module documentation).
    columns : sequence of str
        Column names of a table without a header, in file order; names from
        :data:`DEFAULT_COLUMNS`, ``""`` for a column to skip.
    geometry : str or os.PathLike, optional
        CSV with columns ``kind,index,x,y`` (``kind`` tx or rx, positions in m).
    tx_radius, rx_radius : float, optional
        Ring radii in m, when there is no geometry file.
    tx_angles, rx_angles : sequence of float, optional
        Angles of the antennas on their rings in degrees (counter-clockwise from +x), in index
        order; default equally spaced from 0.
    n_tx, n_rx : int, optional
        Number of antenna positions on each ring; default the largest index in the table (or
        the length of the angles).
    freq_unit : {"auto", "Hz", "kHz", "MHz", "GHz"}
        Unit of the frequency column; ``"auto"``: a header naming the unit, else GHz when
        every frequency is below 1000, Hz when every one is at least 1e6.
    index_base : int
        Index of the first source and receiver in the table (1 in the Fresnel files).
    time_convention : {"+jwt", "-iwt"}
        Time convention of the table; ``"-iwt"`` conjugates the fields into brim's exp(+jωt).
    polarisation : {None, "TM", "TE"}
        Polarisation of the measurement, stored as ``attrs["polarisation"]`` (TE tables hold
        ``eta_b H_z``, or the transverse electric field in the far field, see
        :mod:`~brim.microwave.tomography.te`). Default: the ``polarisation`` attribute of a
        NetCDF table when it has one, else unset (the solvers then assume TM).

    Returns
    -------
    xarray.Dataset
        Kind ``field_set``: ``total_field``, ``incident_field``, ``scattered_field``
        (freq, tx, rx) complex in the table's field unit, ``mask`` (freq, tx, rx) True where a
        row exists; coords ``freq`` (Hz), ``tx_x/tx_y/rx_x/rx_y`` (m); attributes
        ``source_file``, ``time_convention_read``, ``n_rows``.

    Raises
    ------
    MissingFileError
        The table or the geometry file does not exist.
    FormatError
        A row that is not numbers, a missing column, non-finite values, a row repeated for the
        same source, receiver and frequency, or an index outside the geometry.
    ConfigError
        No geometry given, an unknown unit or convention, or an ambiguous frequency unit.

    References
    ----------
    Geffrin JM, Sabouroux P, Eyraud C (2005). Free space experimental scattering database
    continuation: experimental set-up and measurement precision. Inverse Problems 21:S117.

    Examples
    --------
    >>> from pathlib import Path
    >>> rows = ["1 2 3.0 0.5 0.1 0.4 0.1", "2 1 3.0 0.6 0.0 0.5 0.0"]
    >>> _ = Path("table.exp").write_text("\\n".join(rows))
    >>> from brim.microwave.tomography.fieldtable import read_field_table
    >>> fs = read_field_table("table.exp", tx_radius=0.72, rx_radius=0.76)
    >>> fs["total_field"].shape, float(fs.freq[0]), fs["mask"].values.sum()
    ((1, 2, 2), 3000000000.0, np.int64(2))
    """
    if freq_unit.lower() not in (*_UNITS, "auto"):
        raise ConfigError(f"freq_unit must be auto, Hz, kHz, MHz or GHz; got {freq_unit!r}")
    if time_convention not in ("+jwt", "-iwt"):
        raise ConfigError(f"time_convention must be '+jwt' or '-iwt'; got {time_convention!r}")
    unknown = [c for c in columns if c and c not in DEFAULT_COLUMNS]
    if unknown:
        raise ConfigError(f"unknown column names {unknown}; known: {list(DEFAULT_COLUMNS)}")
    p = check_input_file(path, what="field table")
    if polarisation is not None:
        from brim.microwave.tomography.te import check_polarisation

        polarisation = check_polarisation(polarisation)
    cols = _read_columns(p, columns)
    if "__field_set__" in cols:
        fs: xr.Dataset = cols["__field_set__"]  # type: ignore[assignment]
        if polarisation is not None:
            fs.attrs["polarisation"] = polarisation
        return fs
    header_unit = cols.pop("__freq_unit__", None)
    file_polarisation = cols.pop("__polarisation__", None)
    if polarisation is None and file_polarisation is not None:
        from brim.microwave.tomography.te import check_polarisation

        polarisation = check_polarisation(str(file_polarisation))
    missing = [c for c in DEFAULT_COLUMNS if c not in cols]
    if missing:
        raise FormatError(f"{p.name}: no column for {', '.join(missing)}")
    n_rows = {c: cols[c].size for c in DEFAULT_COLUMNS}
    if len(set(n_rows.values())) != 1:
        raise FormatError(f"{p.name}: columns of different lengths {n_rows}")
    for c in DEFAULT_COLUMNS:
        if not np.all(np.isfinite(cols[c])):
            raise FormatError(f"{p.name}: column {c!r} holds NaN or infinite values")
    idx = {}
    for c in ("tx", "rx"):
        v = cols[c]
        if np.any(v != np.round(v)) or np.any(v < index_base):
            raise FormatError(f"{p.name}: {c} indices must be integers >= {index_base}")
        idx[c] = v.astype(np.int64) - int(index_base)
    f = cols["freq"]
    if freq_unit.lower() != "auto":
        scale = _UNITS[freq_unit.lower()]
    elif header_unit is not None:
        scale = float(header_unit)
    elif np.all(f < 1e3):
        scale = 1e9
    elif np.all(f >= 1e6):
        scale = 1.0
    else:
        raise ConfigError(
            f"{p.name}: frequencies {f.min():g}..{f.max():g} are neither all below 1000 (GHz) "
            "nor all above 1e6 (Hz): give freq_unit="
        )
    freq_hz = f * scale
    if np.any(freq_hz <= 0):
        raise FormatError(f"{p.name}: frequencies must be positive")
    freqs, fi = np.unique(np.round(freq_hz, 3), return_inverse=True)

    geo = _read_geometry(geometry, index_base) if geometry is not None else None
    n_t = int(n_tx or (len(tx_angles) if tx_angles is not None else idx["tx"].max() + 1))
    n_r = int(n_rx or (len(rx_angles) if rx_angles is not None else idx["rx"].max() + 1))
    tx_xy = _positions("tx", n_t, geo, tx_radius, tx_angles)
    rx_xy = _positions("rx", n_r, geo, rx_radius, rx_angles)
    n_t, n_r = len(tx_xy[0]), len(rx_xy[0])
    for c, n in (("tx", n_t), ("rx", n_r)):
        if idx[c].max() >= n:
            raise FormatError(
                f"{p.name}: {c} index {idx[c].max() + index_base} but the geometry has {n} "
                f"{c} positions"
            )
    flat = (fi * n_t + idx["tx"]) * n_r + idx["rx"]
    if np.unique(flat).size != flat.size:
        raise FormatError(f"{p.name}: a source/receiver/frequency row appears more than once")
    shape = (freqs.size, n_t, n_r)
    total = np.zeros(shape, complex)
    incident = np.zeros(shape, complex)
    mask = np.zeros(shape, bool)
    total.reshape(-1)[flat] = cols["total_re"] + 1j * cols["total_im"]
    incident.reshape(-1)[flat] = cols["incident_re"] + 1j * cols["incident_im"]
    mask.reshape(-1)[flat] = True
    if time_convention == "-iwt":
        total, incident = total.conj(), incident.conj()
    from brim.microwave.tomography.forward import field_set_dataset

    return field_set_dataset(
        total,
        incident,
        freqs,
        *tx_xy,
        *rx_xy,
        mask=mask,
        attrs={
            "source_file": p.name,
            "time_convention_read": time_convention,
            "n_rows": int(flat.size),
        },
        polarisation=polarisation,
    )
