"""Readers: what a VNA or a public microwave data set wrote -> a brim ``sparameter_scan`` Dataset.

Every reader returns an :class:`xarray.Dataset` stamped ``sparameter_scan/1`` with

* ``s`` — complex S-parameters, dims ``(freq, channel)`` (a list of measured Tx/Rx pairs, with
  integer coordinates ``tx`` and ``rx`` on ``channel`` indexing the ``antenna`` dimension),
  ``(freq, tx, rx)`` (a full multistatic matrix) or ``(freq, position)`` (monostatic), with a
  leading ``scan`` dimension where a file holds several scans;
* ``freq`` in Hz; antenna positions in metres as coordinates ``antenna_x/y/z`` on ``antenna``
  (``position_x/y/z`` on ``position`` for monostatic data);
* a reference or calibration scan, when given, carried alongside as ``s_reference`` with the
  same dims and the attribute ``reference_kind`` (``rotation``, ``empty``, ``phantom``, ...).

Formats: Touchstone ``.sNp`` (through scikit-rf, extra ``rf``), the MERIT CSV layout
(O'Loughlin et al. 2018, Biomed. Phys. Eng. Express 4, 025036), the UM-BMID layout
(Reimer et al. 2020, Sensors 20, 1784: ``[n_scans, n_freq, n_positions]`` complex plus a metadata
table) from MATLAB ``.mat`` — pickles are never opened — and NetCDF / NPZ
(``np.load(allow_pickle=False)``).

Note the MERIT trap: its ``antenna_locations.csv`` holds the geometric antenna positions, not
the antennas' phase centres; see :func:`brim.microwave.radar.calibration.antenna_delay_calibration`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import FormatError, MissingFileError
from brim.io import check_input_file, load_numpy, read_mat, read_text
from brim.microwave.tissue import renamed_freq
from brim.schema import stamp, validate

__all__ = [
    "make_scan",
    "open_scan",
    "parse_matlab_complex",
    "read_merit",
    "read_npz",
    "read_touchstone",
    "read_umbmid",
]

KIND = "sparameter_scan"


def _exists(path) -> Path:
    # missing files, folders, symlink loops, FIFOs and devices are refused before any read
    return check_input_file(path)


def _finite(a: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i[0]) for i in np.nonzero(bad))
        raise FormatError(
            f"{what} contains {int(bad.sum())} non-finite value(s) (NaN or inf), first at index "
            f"{idx}; fix or drop those measurements before imaging"
        )


@renamed_freq
def make_scan(
    s: ArrayLike,
    freq: ArrayLike,
    *,
    tx: ArrayLike | None = None,
    rx: ArrayLike | None = None,
    antenna_positions: ArrayLike | None = None,
    reference: ArrayLike | None = None,
    reference_kind: str | None = None,
    layout: str = "channel",
    attrs: dict | None = None,
) -> xr.Dataset:
    """Build a ``sparameter_scan`` Dataset from arrays.

    Parameters
    ----------
    s : array_like of complex
        ``(freq, channel)``, ``(freq, tx, rx)`` or ``(freq, position)`` S-parameters (1).
    freq : array_like
        Frequencies in Hz, strictly increasing.
    tx, rx : array_like of int, optional
        For ``layout="channel"``: transmitting and receiving antenna (0-based) of each channel.
    antenna_positions : array_like, optional
        ``(n_antenna, 3)`` (or ``(n_position, 3)`` for monostatic) positions in metres.
    reference : array_like, optional
        A reference scan of the same shape as ``s`` (carried as ``s_reference``).
    reference_kind : str, optional
        What the reference is: ``rotation``, ``empty``, ``phantom``...
    layout : {"channel", "multistatic", "monostatic"}
    attrs : dict, optional
        Extra flat attributes.

    Returns
    -------
    xarray.Dataset
        A validated ``sparameter_scan``.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import make_scan
    >>> ds = make_scan(np.ones((3, 2), complex), [1e9, 2e9, 3e9], tx=[0, 0], rx=[0, 1],
    ...                antenna_positions=[[0, 0, 0], [0.01, 0, 0]])
    >>> ds.brim.kind, ds["s"].dims
    ('sparameter_scan', ('freq', 'channel'))
    """
    s = np.asarray(s)
    if not np.iscomplexobj(s):
        s = s.astype(complex)
    f = np.asarray(freq, dtype=float)
    if f.ndim != 1 or s.shape[0] != f.size:
        raise FormatError(
            f"S-parameters have {s.shape[0] if s.ndim else 0} frequency rows but "
            f"{f.size} frequencies were given"
        )
    if f.size > 1 and np.any(np.diff(f) <= 0):
        raise FormatError("frequencies must be strictly increasing (Hz)")
    _finite(f, "frequency list")
    _finite(s, "S-parameter data")
    ds = xr.Dataset(attrs=dict(attrs or {}))
    if layout == "channel":
        if s.ndim != 2:
            raise FormatError(f"channel layout needs (freq, channel) data, got shape {s.shape}")
        dims: tuple[str, ...] = ("freq", "channel")
        n_ch = s.shape[1]
        tx = np.arange(n_ch) if tx is None else np.asarray(tx, dtype=np.int64)
        rx = np.arange(n_ch) if rx is None else np.asarray(rx, dtype=np.int64)
        if tx.shape != (n_ch,) or rx.shape != (n_ch,):
            raise FormatError(
                f"channel table has {tx.size} rows but the data have {n_ch} channels; "
                "the channel list and the data columns must match"
            )
        ds = ds.assign_coords(channel=np.arange(n_ch), tx=("channel", tx), rx=("channel", rx))
        pos_dim = "antenna"
        n_pos_needed = int(max(tx.max(initial=-1), rx.max(initial=-1))) + 1
    elif layout == "multistatic":
        if s.ndim != 3 or s.shape[1] != s.shape[2]:
            raise FormatError(f"multistatic layout needs (freq, tx, rx) data, got {s.shape}")
        dims = ("freq", "tx", "rx")
        ds = ds.assign_coords(tx=np.arange(s.shape[1]), rx=np.arange(s.shape[2]))
        pos_dim = "antenna"
        n_pos_needed = s.shape[1]
    elif layout == "monostatic":
        if s.ndim not in (2, 3):
            raise FormatError(f"monostatic layout needs (freq, position) data, got {s.shape}")
        dims = ("scan", "freq", "position") if s.ndim == 3 else ("freq", "position")
        pos_dim = "position"
        n_pos_needed = s.shape[-1]
    else:
        raise FormatError(f"unknown layout {layout!r}; use channel, multistatic or monostatic")
    ds["s"] = (dims, s, {"units": "1", "long_name": "S-parameter"})
    ds = ds.assign_coords(freq=("freq", f, {"units": "Hz", "long_name": "frequency"}))
    if antenna_positions is not None:
        pos = np.asarray(antenna_positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] not in (2, 3):
            raise FormatError(f"antenna positions must be (n, 2) or (n, 3) in m, got {pos.shape}")
        if pos.shape[0] < n_pos_needed:
            raise FormatError(
                f"the channel table refers to {n_pos_needed} antennas but only {pos.shape[0]} "
                "antenna positions were given; the channel table and the antenna list disagree"
            )
        _finite(pos, "antenna positions")
        if pos.shape[1] == 2:
            pos = np.column_stack([pos, np.zeros(len(pos))])
        prefix = "antenna" if pos_dim == "antenna" else "position"
        for k, name in enumerate("xyz"):
            ds = ds.assign_coords({f"{prefix}_{name}": (pos_dim, pos[:, k], {"units": "m"})})
    if reference is not None:
        ref = np.asarray(reference)
        if ref.shape != s.shape:
            raise FormatError(
                f"reference scan has shape {ref.shape}, the scan {s.shape}; they must match"
            )
        _finite(ref, "reference scan")
        ds["s_reference"] = (
            dims,
            ref.astype(complex),
            {"units": "1", "reference_kind": str(reference_kind or "reference")},
        )
    ds.attrs.setdefault("layout", layout)
    return stamp(ds, KIND)


# ---------------------------------------------------------------------------------------------
# MERIT CSV


def parse_matlab_complex(text: str, *, where: str = "file") -> list[list[complex]]:
    """Parse MATLAB ``writematrix``/``dlmwrite`` complex text (``a+bi`` per cell) into rows.

    Accepts ``i`` or ``j``, real-only cells, surrounding spaces, ``,`` or ``;`` or tabs between
    cells (one separator for the text, guessed from its first line by
    :func:`brim.io.parse_table`). Raises :class:`~brim.errors.FormatError` naming the row and
    column of a bad cell.

    Parameters
    ----------
    text : str
        The file's text.
    where : str
        What to call the source in error messages (e.g. the file name).

    Returns
    -------
    list of list of complex
        The rows of cells.

    Examples
    --------
    >>> from brim.microwave.readers import parse_matlab_complex
    >>> parse_matlab_complex("1+2i, 3, -1.5-0.5j")
    [[(1+2j), (3+0j), (-1.5-0.5j)]]
    """
    from brim.io import parse_table

    # the separator from the first line (brim.io.parse_table); a separator closing a row
    # (1+2i,3-1i,) is dropped; MATLAB writes decimal points, so no decimal commas
    table = parse_table(text, comment=None, strip_trailing=True)
    rows = []
    for r, cells, _ in table.rows:
        row = []
        for c, cell in enumerate(cells):
            tok = cell.replace(" ", "").replace("i", "j").replace("I", "j")
            tok = tok.replace("Jnf", "inf").replace("jnf", "inf")  # 'Inf' after the i->j swap
            try:
                row.append(complex(tok))
            except ValueError:
                raise FormatError(
                    f"{where}: row {r}, column {c + 1}: cannot read {cell!r} as a "
                    "complex number (expected MATLAB text like 0.1-0.2i)"
                ) from None
        rows.append(row)
    return rows


def _read_table(path: Path, *, dtype=float, ncols=None) -> np.ndarray:
    try:
        import io

        text = read_text(path, what="MERIT table")
        a = np.loadtxt(io.StringIO(text), delimiter=",", dtype=dtype, ndmin=2)
    except ValueError as exc:
        raise FormatError(f"{path.name}: not a numeric CSV table ({exc})") from None
    if ncols is not None and a.shape[1] != ncols:
        raise FormatError(f"{path.name}: expected {ncols} columns, found {a.shape[1]}")
    return a


def _read_merit_csv(path: Path, n_freq: int, n_ch: int) -> np.ndarray:
    rows = parse_matlab_complex(read_text(path, what="MERIT scan"), where=path.name)
    if n_freq != n_ch and len(rows) == n_ch and all(len(row) == n_freq for row in rows):
        # written channel by channel (n_channel rows x n_freq columns, e.g. MATLAB's
        # writematrix(scan.')): the two counts differ, so the orientation is unambiguous
        rows = [list(col) for col in zip(*rows)]
    if len(rows) != n_freq:
        raise FormatError(
            f"{path.name}: {len(rows)} rows but frequencies.csv lists {n_freq} frequencies; "
            "the file is truncated or belongs to another sweep"
        )
    for r, row in enumerate(rows):
        if len(row) != n_ch:
            raise FormatError(
                f"{path.name}: row {r + 1} has {len(row)} values but channel_names.csv lists "
                f"{n_ch} channels; the file is truncated or the channel table does not match"
            )
    a = np.asarray(rows, dtype=complex)
    _finite(a, path.name)
    return a


#: The files a MERIT CSV scan needs beside it: frequencies (Hz), 1-based Tx,Rx channels, and
#: antenna positions (m).
_MERIT_COMPANIONS = ("frequencies.csv", "channel_names.csv", "antenna_locations.csv")


@provenance.step(inputs=("scan", "reference"))
def read_merit(
    scan: str | os.PathLike,
    *,
    reference: str | os.PathLike | None = None,
    reference_kind: str = "rotation",
    folder: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Read one scan in the MERIT CSV layout.

    Parameters
    ----------
    scan : path
        ``<name>.csv``: ``n_freq`` rows x ``n_channel`` columns of MATLAB complex text.
    reference : path, optional
        A second scan (e.g. the phantom rotated by 36 degrees, or an empty-chamber scan)
        carried alongside as ``s_reference``.
    reference_kind : str
        ``"rotation"`` (default), ``"empty"`` or ``"phantom"``.
    folder : path, optional
        Where ``frequencies.csv`` (Hz), ``channel_names.csv`` (1-based Tx,Rx) and
        ``antenna_locations.csv`` (m) are; default: the scan's folder.

    Returns
    -------
    xarray.Dataset
        ``sparameter_scan``, ``s`` on ``(freq, channel)``, ``tx``/``rx`` 0-based antenna indices.

    References
    ----------
    D. O'Loughlin et al., "Open-source software for microwave radar-based image reconstruction",
    EuCAP 2018; MERIT sample data, O'Loughlin et al. 2018, Biomed. Phys. Eng. Express 4, 025036.

    Examples
    --------
    A two-frequency, three-antenna scan written in the MERIT layout:

    >>> from pathlib import Path
    >>> from brim.microwave import read_merit
    >>> _ = Path("frequencies.csv").write_text("1e9\\n2e9\\n")
    >>> _ = Path("channel_names.csv").write_text("1,2\\n1,3\\n2,3\\n")
    >>> _ = Path("antenna_locations.csv").write_text("0.07,0,0\\n0,0.07,0\\n-0.07,0,0\\n")
    >>> _ = Path("scan.csv").write_text("1+2i,3-1i,0.5i\\n2,1i,-1\\n")
    >>> ds = read_merit("scan.csv")
    >>> ds.brim.kind, dict(ds.sizes), ds["tx"].values.tolist(), ds["rx"].values.tolist()
    ('sparameter_scan', {'channel': 3, 'freq': 2, 'antenna': 3}, [0, 0, 1], [1, 2, 2])
    >>> complex(ds["s"].sel(freq=1e9, channel=0))
    (1+2j)
    """
    scan = _exists(scan)
    folder = Path(folder) if folder is not None else scan.parent
    missing = [n for n in _MERIT_COMPANIONS if not (folder / n).exists()]
    if missing:
        raise MissingFileError(
            f"{scan.name}: a MERIT CSV scan needs {', '.join(_MERIT_COMPANIONS)} in the same "
            f"folder ({folder}); missing: {', '.join(missing)}"
        )
    f_path = _exists(folder / "frequencies.csv")
    c_path = _exists(folder / "channel_names.csv")
    a_path = _exists(folder / "antenna_locations.csv")
    freq = _read_table(f_path).ravel()
    chans = _read_table(c_path, ncols=2)
    if np.any(chans != np.round(chans)) or np.any(chans < 1):
        raise FormatError(f"{c_path.name}: antenna numbers must be integers >= 1 (1-based)")
    chans = chans.astype(np.int64) - 1
    ants = _read_table(a_path, ncols=3)
    reach = float(np.abs(ants).max(initial=0.0))
    if reach > 1.0:  # MERIT's hemisphere has a 7 cm radius; no breast array reaches 1 m
        raise FormatError(
            f"{a_path.name}: an antenna coordinate of {reach:g} m; the MERIT layout stores "
            f"metres (e.g. 0.069) and no breast array reaches 1 m: are these mm or cm?"
        )
    if chans.max() >= len(ants):
        raise FormatError(
            f"{c_path.name} refers to antenna {int(chans.max()) + 1} but {a_path.name} lists "
            f"only {len(ants)} antennas: the channel table does not match the antenna list"
        )
    s = _read_merit_csv(scan, freq.size, len(chans))
    ref = None
    if reference is not None:
        ref = _read_merit_csv(_exists(reference), freq.size, len(chans))
    ds = make_scan(
        s,
        freq,
        tx=chans[:, 0],
        rx=chans[:, 1],
        antenna_positions=ants,
        reference=ref,
        reference_kind=reference_kind if ref is not None else None,
        attrs={
            "source_format": "merit-csv",
            "scan_name": scan.stem,
            "antenna_position_kind": "geometric",
            "comment": "MERIT antenna locations are geometric positions, not phase centres",
        },
    )
    provenance.add_inputs(f_path, c_path, a_path)  # the side files found beside the scan
    return ds


# ---------------------------------------------------------------------------------------------
# Touchstone


def _touchstone_ports(p: Path) -> int | None:
    """The port count N of a ``.sNp`` suffix (any case: ``.S2P``), else None (e.g. ``.ts``)."""
    suf = p.suffix.lower()
    if suf.startswith(".s") and suf.endswith("p") and suf[2:-1].isdigit():
        return int(suf[2:-1])
    return None


def _touchstone_lines(p: Path) -> list[tuple[int, str]]:
    """(line number, text without its comment) of the non-blank lines; a UTF-8 byte-order
    mark (Windows editors write one), UTF-16, CRLF line ends and tabs are taken as they come;
    a byte of a comment that is not ASCII never stops the check (Latin-1 decodes every byte)."""
    text = read_text(p, what="Touchstone", encoding="latin-1")
    out = []
    for k, line in enumerate(text.splitlines(), 1):
        line = line.split("!", 1)[0].strip()
        if line:
            out.append((k, line))
    return out


def _touchstone_number(p: Path, k: int, t: str) -> float:
    try:
        return float(t)
    except ValueError:
        raise FormatError(
            f"{p.name}, line {k}: {t!r} is not a number; Touchstone data lines hold only "
            "numbers (comments start with '!')"
        ) from None


def _check_touchstone_v1(p: Path, lines: list[tuple[int, str]], n: int) -> int:
    """Check the data of a Touchstone v1 ``.sNp``; return its number of frequency records.

    A record is a frequency and ``2 N**2`` numbers starting on a new line (wrapped over several
    lines for many ports); frequencies strictly increase. A 2-port file may end with a noise
    block (5 numbers a line, from a frequency not above the last one). scikit-rf takes any
    decreasing frequency in a 2-port file for that block and silently drops the rest of the
    data, and reads a file of another port count than its suffix as garbage: refused here.
    """
    per = 1 + 2 * n * n
    data = [(k, line.split()) for k, line in lines if not line.startswith("#")]
    if not data:
        raise FormatError(f"{p.name}: no frequency records after the option line (empty data)")
    width0 = len(data[0][1])
    n_rec, last = 0, (0, "", -np.inf)
    li = 0
    while li < len(data):
        k, toks = data[li]
        f = _touchstone_number(p, k, toks[0])
        if n_rec and not f > last[2]:
            if n == 2 and all(len(t) == 5 for _, t in data[li:]):
                break  # the 2-port noise-parameter block: f NFmin |Gopt| angle Rn
            hint = (
                f" (line {k} holds {len(toks)} numbers, line {data[0][0]} {width0}: does the "
                f"file hold another port count than its suffix {p.suffix!r} says?)"
                if len(toks) != width0
                else ""
            )
            raise FormatError(
                f"{p.name}, line {k}: frequency {toks[0]} after {last[1]} (line {last[0]}); "
                f"Touchstone frequencies must strictly increase: sort the records and drop "
                f"repeated frequencies{hint}"
            )
        got: list[str] = []
        while li < len(data) and len(got) < per:
            got += data[li][1]
            li += 1
        if len(got) < per:
            raise FormatError(
                f"{p.name}, line {k}: the last record holds {len(got)} numbers, a {n}-port "
                f"record {per} (a frequency and {2 * n * n} values): the file is truncated"
            )
        if len(got) > per:
            raise FormatError(
                f"{p.name}, line {k}: the record starting here runs into the next line's "
                f"numbers ({len(got)} where a {n}-port record holds {per}): the file holds "
                f"another port count than its suffix {p.suffix!r} says, or a line is cut short"
            )
        for t in got[1:]:
            _touchstone_number(p, k, t)
        n_rec += 1
        last = (k, toks[0], f)
    return n_rec


def _check_touchstone_v2(p: Path, lines: list[tuple[int, str]]) -> int | None:
    """The ``[Number of Frequencies]`` of a Touchstone 2 file (None if absent), after checking
    that a full-matrix ``[Network Data]`` block holds that many whole records (scikit-rf's
    error on a truncated one names no cause)."""
    nf = _touchstone_keyword(lines, "Number of Frequencies")
    npt = _touchstone_keyword(lines, "Number of Ports")
    if nf is None or not nf.isdigit():
        return None
    fmt = _touchstone_keyword(lines, "Matrix Format")
    if npt is None or not npt.isdigit() or (fmt is not None and fmt.lower() != "full"):
        return int(nf)
    count, inside = 0, False
    for _, line in lines:
        if line.startswith("["):
            inside = line.lower().startswith("[network data]")
        elif inside:
            count += len(line.split())
    per = 1 + 2 * int(npt) ** 2
    if count != int(nf) * per:
        raise FormatError(
            f"{p.name}: [Network Data] holds {count} numbers where [Number of Frequencies] "
            f"{nf} and [Number of Ports] {npt} need {int(nf) * per} ({per} a record): the file "
            "is truncated or its header is wrong"
        )
    return int(nf)


def _touchstone_keyword(lines: list[tuple[int, str]], key: str) -> str | None:
    """The value of a Touchstone 2 ``[key] value`` line (case-insensitive), else None."""
    key = f"[{key.lower()}]"
    for _, line in lines:
        if line.lower().startswith(key):
            return line[len(key) :].strip()
    return None


@provenance.step(inputs=("path", "reference"))
def read_touchstone(
    path: str | os.PathLike,
    *,
    antenna_positions: ArrayLike | None = None,
    reference: str | os.PathLike | None = None,
    reference_kind: str = "empty",
) -> xr.Dataset:
    """Read a Touchstone ``.sNp`` file through scikit-rf (extra ``rf``).

    The N-port matrix ``S[f, i, j]`` (wave out of port i for wave into port j) becomes
    ``s`` on ``(freq, tx, rx)`` with ``s[f, tx=j, rx=i] = S[f, i, j]``. The reference impedance is
    kept as the 0-d variable ``z0`` (ohm). Antenna positions (m) may be given as ``(N, 3)``.

    Parameters
    ----------
    path : path-like
        The ``.sNp`` file.
    antenna_positions : array_like (N, 3), optional
        Antenna positions in m, one row per port.
    reference : path-like, optional
        A reference ``.sNp`` of the same network, ports and frequency sweep (carried as
        ``s_reference``).
    reference_kind : str
        What the reference is (``empty``, ``phantom``, ``rotation``...).

    Returns
    -------
    xarray.Dataset
        A ``sparameter_scan``: complex ``s`` (1) on ``(freq, tx, rx)``, ``freq`` in Hz, ``z0`` in
        ohm, antenna positions in m when given.

    Raises
    ------
    FormatError
        Frequencies that do not strictly increase (named by line), a truncated record, data of
        another port count than the ``.sNp`` suffix, a Touchstone 2 file whose data disagree
        with ``[Number of Frequencies]``, NaN, a negative frequency, port impedances that
        differ, a reference of another sweep or port count, antenna positions not ``(N, 3)``
        or beyond 5 m (mm or cm given as m).

    Examples
    --------
    A two-port file (columns: f, S11, S21, S12, S22 as real/imaginary pairs):

    >>> from pathlib import Path
    >>> from brim.microwave import read_touchstone
    >>> _ = Path("net.s2p").write_text(
    ...     "# GHz S RI R 50\\n"
    ...     "1.0 0.1 0 0.5 0.1 0.3 -0.1 0.2 0\\n"
    ...     "2.0 0.1 0 0.4 0.2 0.3 -0.1 0.2 0\\n"
    ... )
    >>> ds = read_touchstone("net.s2p")
    >>> ds["s"].dims, float(ds["z0"]), ds["freq"].values.tolist()
    (('freq', 'tx', 'rx'), 50.0, [1000000000.0, 2000000000.0])
    >>> complex(ds["s"].isel(freq=0, tx=0, rx=1))  # S21: into port 1, out of port 2
    (0.5+0.1j)
    """
    from brim.errors import require

    skrf = require("skrf", "rf")
    p = _exists(path)
    net = _load_touchstone(skrf, p)
    s = np.transpose(net.s, (0, 2, 1))
    n = s.shape[1]
    _finite(s, f"{p.name}: S-parameter data (freq, tx, rx)")
    ref = None
    if reference is not None:
        rp = _exists(reference)
        rnet = _load_touchstone(skrf, rp)
        if rnet.s.shape[1] != n:
            raise FormatError(
                f"reference {rp.name} has {rnet.s.shape[1]} ports, the scan {p.name} {n}; a "
                "reference must be measured with the same ports"
            )
        if rnet.f.shape != net.f.shape or not np.allclose(rnet.f, net.f, rtol=1e-9, atol=0):
            raise FormatError(
                f"reference {rp.name} has {rnet.f.size} frequencies "
                f"({rnet.f[0]:g}..{rnet.f[-1]:g} Hz), the scan {p.name} {net.f.size} "
                f"({net.f[0]:g}..{net.f[-1]:g} Hz); a reference must be measured on the same "
                "frequency sweep"
            )
        ref = np.transpose(rnet.s, (0, 2, 1))
    if antenna_positions is not None:
        pos = np.asarray(antenna_positions, dtype=float)
        if pos.shape not in ((n, 3), (n, 2)):
            raise FormatError(
                f"{p.name} has {n} ports (antennas) but antenna_positions has shape "
                f"{pos.shape}; give one (x, y, z) row per port, in m: shape ({n}, 3)"
            )
        reach = float(np.abs(pos[np.isfinite(pos)]).max(initial=0.0))
        # the bound of brim's sparameter_scan/field_set schema: antennas ring a body part or,
        # on free-space test ranges (Institut Fresnel, ~1.7 m), an object, all within 5 m of the
        # imaging centre; breast-array positions typed in mm (69 for 0.069 m) land far beyond
        if reach > 5.0:
            raise FormatError(
                f"antenna_positions has a coordinate of {reach:g} m; positions are in metres "
                "(e.g. 0.069) and no imaging array reaches 5 m from its centre: are these mm "
                "or cm?"
            )
    ds = make_scan(
        s,
        net.f,
        layout="multistatic",
        antenna_positions=antenna_positions,
        reference=ref,
        reference_kind=reference_kind if ref is not None else None,
        attrs={"source_format": "touchstone", "scan_name": p.stem},
    )
    z0 = np.asarray(net.z0)
    ds["z0"] = ((), float(np.real(z0.flat[0])), {"units": "ohm", "long_name": "port impedance"})
    return ds


def _load_touchstone(skrf, p: Path):
    """Check ``p`` (see :func:`_check_touchstone_v1`) and read it with scikit-rf; refuse what
    brim's scan cannot hold: a negative frequency, port impedances that differ."""
    lines = _touchstone_lines(p)
    n = _touchstone_ports(p)
    if n == 0:
        raise FormatError(f"{p.name}: a .s0p has no ports; a Touchstone file is .s1p, .s2p, ...")
    is_v2 = any(line.startswith("[") for _, line in lines)
    n_rec = None
    if not is_v2 and n is not None:
        n_rec = _check_touchstone_v1(p, lines, n)
    elif is_v2:
        n_rec = _check_touchstone_v2(p, lines)
    try:
        net = skrf.Network(str(p))
    except Exception as exc:  # noqa: BLE001 - scikit-rf raises many kinds
        raise FormatError(f"{p.name}: not a readable Touchstone file ({exc})") from None
    if n_rec is not None and net.f.size != n_rec:
        raise FormatError(
            f"{p.name}: [Number of Frequencies] says {n_rec} but the data hold {net.f.size} "
            "frequencies: the file is truncated or its header is wrong"
            if is_v2
            else f"{p.name}: the file holds {n_rec} frequency records but {net.f.size} were read"
        )
    if net.f.size and net.f.min() < 0:
        raise FormatError(
            f"{p.name}: a negative frequency ({net.f.min():g} Hz); a VNA sweep is >= 0 Hz"
        )
    # a wrong unit on the option line (or none: Touchstone then reads GHz) scales the sweep by
    # 1e3..1e9: refuse a sweep wholly below 1 MHz (the lower end of brim's sparameter_scan band)
    # or reaching past 1.5 THz (the top of the highest VNA waveguide extenders, WR-0.65)
    if net.f.size and (net.f.max() < 1e6 or net.f.max() > 1.5e12):
        opt = next((line.lower().split() for _, line in lines if line.startswith("#")), None)
        unit = next((u for u in ("hz", "khz", "mhz", "ghz") if opt and u in opt), None)
        said = f"the option line says {unit!r}" if unit else "without a unit Touchstone reads GHz"
        raise FormatError(
            f"{p.name}: the sweep reads {net.f.min():g}..{net.f.max():g} Hz ({said}); a "
            "microwave scan lies between 1 MHz and 1.5 THz: give the frequency unit on the "
            "option line, e.g. '# Hz S RI R 50' or '# GHz S RI R 50'"
        )
    z0 = np.asarray(net.z0)
    if z0.size and not np.allclose(z0, z0.flat[0]):
        raise FormatError(
            f"{p.name}: the port reference impedances differ ({np.unique(z0).tolist()} ohm); "
            "brim's scan holds one z0: renormalise the file first, e.g. with scikit-rf "
            "Network.renormalize(50)"
        )
    return net


# ---------------------------------------------------------------------------------------------
# UM-BMID (.mat)


def _metadata_columns(md: np.ndarray) -> dict[str, np.ndarray]:
    """Flatten a MATLAB struct array (one record per scan) into column arrays."""
    names = md.dtype.names
    if not names:
        return {}
    cols: dict[str, list] = {}
    for record in np.atleast_1d(md).ravel():
        for n in names:
            value = np.asarray(record[n])
            cols.setdefault(n, []).append(value.item() if value.size == 1 else np.nan)
    out = {}
    for k, v in cols.items():
        try:
            out[k] = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            out[k] = np.asarray([str(x) for x in v])
    return out


@renamed_freq  # outside the step: it binds the new keyword
@provenance.step(inputs=("path", "metadata_csv"))
def read_umbmid(
    path: str | os.PathLike,
    *,
    data_key: str | None = None,
    metadata_key: str = "metadata",
    freq: ArrayLike | None = None,
    antenna_radius_m: float | None = None,
    metadata_csv: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Read UM-BMID-style monostatic data from a MATLAB ``.mat`` file (never a pickle).

    Parameters
    ----------
    path : path
        ``.mat`` file holding a complex array ``[n_scans, n_freq, n_positions]``.
    data_key : str, optional
        Variable name of that array; default: the only 3-D complex array in the file.
    metadata_key : str
        Struct array with one record per scan (fields become per-scan coordinates).
    freq : array_like, optional
        Frequencies in Hz; otherwise a ``freqs``/``frequencies``/``freq`` variable of the file,
        otherwise an error (UM-BMID generation 2 sweeps 1–8 GHz in 1001 points, but brim does
        not guess).
    antenna_radius_m : float, optional
        Radius of the antenna circle in m; with it, ``position_x/y`` coordinates are added for
        positions equally spaced in angle.
    metadata_csv : path, optional
        A CSV with a header and one row per scan instead of the in-file struct.

    Returns
    -------
    xarray.Dataset
        A monostatic ``sparameter_scan`` over (scan, freq, position) with per-scan metadata
        coordinates.

    References
    ----------
    T. Reimer, J. Krenkevich, S. Pistorius, "An open-access experimental dataset for breast
    microwave imaging", EuCAP 2020; UM-BMID (github.com/UManitoba-BMS/UM-BMID).

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.io
    >>> from brim.microwave import read_umbmid
    >>> scipy.io.savemat("scans.mat", {"data": np.ones((2, 3, 4), complex),
    ...                                "freqs": [1e9, 2e9, 3e9]})
    >>> ds = read_umbmid("scans.mat", antenna_radius_m=0.1)
    >>> ds["s"].dims, dict(ds.sizes), round(float(ds["position_x"][0]), 3)
    (('scan', 'freq', 'position'), {'scan': 2, 'freq': 3, 'position': 4}, 0.1)
    """
    p = _exists(path)
    if p.suffix.lower() in (".pickle", ".pkl"):
        raise FormatError(
            f"{p.name}: brim never unpickles a user file (pickles can run code); convert it "
            "once, in a trusted environment, to .mat or .npz"
        )
    m = read_mat(p, squeeze=True)
    if data_key is None:
        cands = [k for k, v in m.items() if v.ndim == 3 and np.iscomplexobj(v)]
        if len(cands) != 1:
            raise FormatError(
                f"{p.name}: expected one 3-D complex array [n_scans, n_freq, n_positions], found "
                f"{cands or 'none'}; pass data_key="
            )
        data_key = cands[0]
    if data_key not in m:
        raise FormatError(f"{p.name}: no variable {data_key!r}")
    data = np.asarray(m[data_key])
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3:
        raise FormatError(f"{p.name}:{data_key} has shape {data.shape}; expected 3-D")
    if freq is None:
        for k in ("freqs", "frequencies", "freq", "frequency"):
            if k in m:
                freq = np.asarray(m[k], dtype=float).ravel()
                break
    if freq is None:
        raise FormatError(f"{p.name}: no frequency vector in the file; pass freq= (in Hz)")
    freq = np.asarray(freq, dtype=float).ravel()
    n_scan, n_f, n_pos = data.shape
    if freq.size != n_f:
        raise FormatError(
            f"{p.name}: data have {n_f} frequencies but the frequency vector has {freq.size}"
        )
    _finite(data, f"{p.name}:{data_key}")
    ds = xr.Dataset(
        {"s": (("scan", "freq", "position"), data.astype(complex), {"units": "1"})},
        coords={
            "scan": np.arange(n_scan),
            "freq": ("freq", freq, {"units": "Hz"}),
            "position": np.arange(n_pos),
        },
        attrs={"source_format": "umbmid-mat", "layout": "monostatic", "scan_name": p.stem},
    )
    ang = np.arange(n_pos) * 2 * np.pi / n_pos
    ds = ds.assign_coords(position_angle=("position", ang, {"units": "rad"}))
    if antenna_radius_m is not None:
        ds = ds.assign_coords(
            position_x=("position", antenna_radius_m * np.cos(ang), {"units": "m"}),
            position_y=("position", antenna_radius_m * np.sin(ang), {"units": "m"}),
            position_z=("position", np.zeros(n_pos), {"units": "m"}),
        )
    cols = {}
    if metadata_csv is not None:
        import pandas as pd

        table = pd.read_csv(_exists(metadata_csv))
        cols = {c: table[c].to_numpy() for c in table.columns}
    elif metadata_key in m:
        cols = _metadata_columns(m[metadata_key])
    for k, v in cols.items():
        if len(v) != n_scan:
            raise FormatError(f"metadata table has {len(v)} rows but the data hold {n_scan} scans")
        ds = ds.assign_coords({f"meta_{k}": ("scan", np.asarray(v))})
    if cols:
        ds.attrs["metadata_columns"] = json.dumps(sorted(cols))
    ds = stamp(ds, KIND)
    return ds


# ---------------------------------------------------------------------------------------------
# NPZ / NetCDF


@provenance.step
def read_npz(path: str | os.PathLike) -> xr.Dataset:
    """Read an ``.npz`` with arrays ``s`` and ``freq`` (Hz), optional ``tx``, ``rx`` (0-based),
    ``antenna_positions`` (m, ``(n, 3)``), ``s_reference`` and ``layout`` (a string array).

    Opened with ``allow_pickle=False``: object arrays are refused.

    Parameters
    ----------
    path : path-like
        The ``.npz`` archive.

    Returns
    -------
    xarray.Dataset
        A ``sparameter_scan`` in the archive's ``layout`` (default ``multistatic`` for a 3-D
        ``s``, else ``channel``): complex ``s`` (1), ``freq`` in Hz, antenna positions in m.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import read_npz
    >>> np.savez("scan.npz", s=np.ones((3, 2), complex), freq=[1e9, 2e9, 3e9], tx=[0, 0],
    ...          rx=[0, 1], antenna_positions=[[0, 0, 0], [0.01, 0, 0]])
    >>> ds = read_npz("scan.npz")
    >>> ds.brim.kind, ds["s"].dims, ds.attrs["source_format"]
    ('sparameter_scan', ('freq', 'channel'), 'npz')
    """
    p = _exists(path)
    d = load_numpy(p)
    if not isinstance(d, dict):
        raise FormatError(f"{p.name}: a single .npy array, not an .npz archive of named arrays")
    for k in ("s", "freq"):
        if k not in d:
            raise FormatError(f"{p.name}: missing array {k!r} (found {sorted(d)})")
    s = d["s"]
    layout = str(d["layout"]) if "layout" in d else ("multistatic" if s.ndim == 3 else "channel")
    ds = make_scan(
        s,
        d["freq"],
        tx=d.get("tx"),
        rx=d.get("rx"),
        antenna_positions=d.get("antenna_positions"),
        reference=d.get("s_reference"),
        reference_kind="reference" if "s_reference" in d else None,
        layout=layout,
        attrs={"source_format": "npz", "scan_name": p.stem},
    )
    return ds


def open_scan(path: str | os.PathLike, **kwargs) -> xr.Dataset:
    """Open a scan in any format brim reads, chosen by the file extension.

    ``.sNp`` Touchstone (:func:`read_touchstone`), ``.csv`` MERIT (:func:`read_merit`), ``.mat``
    UM-BMID (:func:`read_umbmid`), ``.npz`` (:func:`read_npz`), ``.nc``/``.h5`` brim NetCDF
    (validated as ``sparameter_scan``).

    Parameters
    ----------
    path : path-like
        The scan file.
    **kwargs
        Passed to the format's reader, e.g. ``reference=`` for a MERIT scan.

    Returns
    -------
    xarray.Dataset
        Kind ``sparameter_scan``: complex ``s`` on ``(freq, tx, rx)``, ``(freq, channel)`` or
        ``(freq, position)``, ``freq`` in Hz, antenna positions in m.

    Raises
    ------
    MissingFileError
        No such file.
    FormatError
        An unknown extension, a pickle, or a file its reader cannot parse.

    Examples
    --------
    >>> import brim.data
    >>> from brim.microwave import open_scan
    >>> scan = open_scan(brim.data.sample_path("microwave_radar_scan"))
    >>> scan.brim.kind, scan.s.dims, scan.freq.attrs["units"]
    ('sparameter_scan', ('freq', 'channel'), 'Hz')
    """
    p = _exists(path)
    suf = p.suffix.lower()
    if _touchstone_ports(p) is not None or suf == ".ts":  # .ts: Touchstone 2's own suffix
        return read_touchstone(p, **kwargs)
    if suf == ".csv":
        return read_merit(p, **kwargs)
    if suf == ".mat":
        return read_umbmid(p, **kwargs)
    if suf == ".npz":
        return read_npz(p)
    if suf in (".nc", ".h5", ".nc4", ".netcdf"):
        from brim.io import open as brim_open
        from brim.schema import require_kind

        ds = require_kind(brim_open(p), KIND, p.name)
        return validate(ds, KIND)
    if suf in (".pickle", ".pkl"):
        raise FormatError(f"{p.name}: brim never unpickles a user file; convert it to .mat/.npz")
    raise FormatError(
        f"{p.name}: unknown scan format {suf!r}; brim reads .sNp/.ts, MERIT .csv, .mat, .npz, .nc"
    )
