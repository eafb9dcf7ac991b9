"""Calibration and artefact removal for multistatic S-parameter scans.

* reference subtraction (empty chamber / homogeneous phantom) and rotation subtraction (the
  same breast rotated, MERIT's choice: O'Loughlin et al. 2018, Biomed. Phys. Eng. Express 4,
  025036) — both subtract a second scan of identical geometry;
* average (mean-channel) subtraction: each channel minus the mean of the channels that share its
  Tx–Rx antenna distance (the skin response is nearly the same for those; Fear et al. 2002);
* filter-based skin-artefact removal: each channel's early-time response is predicted by a
  least-squares FIR combination of the other channels and subtracted (Bond et al. 2003, IEEE
  TAP 51, 1690; Elahi et al. 2018, IEEE TMTT 66, 5238 review the family);
* time gating (rectangular window in time, exact inverse);
* frequency -> time by windowed inverse FFT or inverse chirp-Z (:func:`scipy.signal.czt`), in
  :mod:`brim.microwave.radar.timedomain` (shared with the radar's time-domain beamformer);
* antenna phase-centre delay calibration: geometric antenna positions (as in MERIT's files) are
  not phase centres; a per-antenna extra one-way delay (s) is stored as ``antenna_delay`` and used
  by :func:`brim.microwave.radar.beamform`.

Conventions: ``exp(+j w t)``; the time signal of a one-sided sweep is the analytic signal
``x(t) = sum_f w_f S(f) exp(+j 2 pi f t)`` — a delay tau in ``S = exp(-j 2 pi f tau)`` peaks at
``t = tau``.

Every function runs on the CPU (the work is small next to imaging): a scan moved to the GPU with
``ds.brim.to_device("cuda")`` is copied back to the host, and results are NumPy-backed.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.backend import is_cupy_array, is_torch_tensor, to_numpy
from brim.deprecation import positional_options
from brim.errors import (
    CalibrationError,
    ConfigError,
    SchemaError,
    check_positive,
    check_vector,
    warn,
)
from brim.microwave.radar.beamforming import _expect_scan, beamform, hemisphere_grid
from brim.microwave.radar.metrics import localisation_error, target_position
from brim.microwave.radar.timedomain import czt_time_signals, frequency_step, ifft_time_signals

__all__ = [
    "antenna_delay_calibration",
    "average_subtraction",
    "czt_time_signals",
    "estimate_antenna_delay",
    "ifft_time_signals",
    "reference_subtraction",
    "rotation_subtraction",
    "skin_artefact_removal",
    "time_gate",
    "to_time_domain",
]


def _host(x):
    if isinstance(x, xr.Dataset):
        return x.brim.to_device("cpu")
    if is_cupy_array(x) or is_torch_tensor(x):
        return to_numpy(x)
    return x


def _on_host(fn):
    """Calibration is light and runs on the CPU: Datasets and arrays on a GPU (or torch
    tensors) passed to ``fn`` are copied to the host first, and the result is on the host.
    ``fn`` takes the scan first: a path, array or DataArray there is told how to read one."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if args:
            _expect_scan(args[0])
        return fn(*map(_host, args), **{k: _host(v) for k, v in kwargs.items()})

    return wrapper


def _s_freq_last(ds: xr.Dataset):
    if "s" not in ds:
        raise SchemaError("dataset has no variable 's' (not an sparameter_scan)")
    s = ds["s"]
    other = [d for d in s.dims if d != "freq"]
    return s.transpose(*other, "freq"), other


@provenance.step
@_on_host
def to_time_domain(
    ds: xr.Dataset,
    *,
    method: str = "czt",
    window: str = "hann",
    dt: float | None = None,
    t_max: float | None = None,
) -> xr.Dataset:
    """Time signals of a scan: variable ``x`` on ``(..., time)``, time in s.

    Parameters
    ----------
    method : {"czt", "ifft"}
        Inverse chirp-Z (any ``dt``, ``t_max``) or zero-padded inverse FFT.
    window : str
        Taper over frequency (scipy window name, or "none").
    dt, t_max : float, optional
        Time step and span (s); defaults ``1 / (8 f_max)`` and ``1 / df``.

    Returns
    -------
    xarray.Dataset
        The scan's coordinates with the time signals ``x`` (complex) over ``(..., time)`` and
        ``time`` in s.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import make_scan, to_time_domain
    >>> scan = make_scan(np.ones((8, 2), complex), np.linspace(1e9, 2e9, 8), tx=[0, 0],
    ...                  rx=[0, 1], antenna_positions=[[0, 0, 0], [0.01, 0, 0]])
    >>> x = to_time_domain(scan, method="ifft")
    >>> x["x"].dims, x.sizes["time"], x["time"].attrs["units"]
    (('channel', 'time'), 112, 's')
    """
    s, other = _s_freq_last(ds)
    freq = ds["freq"].values
    df = frequency_step(freq)
    dt = 1.0 / (8 * freq.max()) if dt is None else check_positive("dt", dt)
    t_max = 1.0 / df if t_max is None else check_positive("t_max", t_max)
    if method == "czt":
        n_t = int(np.ceil(t_max / dt))
        x = czt_time_signals(s.values, freq, 0.0, dt, n_t, window=window)
        t = dt * np.arange(n_t)
    elif method == "ifft":
        n_t = int(np.ceil(1.0 / (df * dt)))
        x, t = ifft_time_signals(s.values, freq, n_t=max(n_t, freq.size), window=window)
    else:
        raise ConfigError("method must be 'czt' or 'ifft'")
    out = xr.Dataset(
        {"x": ((*other, "time"), x, {"units": "1", "long_name": "analytic time signal"})},
        coords={k: v for k, v in ds.coords.items() if "freq" not in v.dims},
    )
    out = out.assign_coords(time=("time", t, {"units": "s"}))
    out.attrs = {k: v for k, v in ds.attrs.items() if k != "brim_schema"}
    provenance.note(dt=dt, t_max=t_max)  # the defaults as computed for this scan
    return out


logger = logging.getLogger(__name__)

# Artefact removal (subtraction of a reference / rotated scan, average subtraction, skin-artefact
# filtering) warns when the energy it leaves, as a fraction of the scan's, is outside these bounds.
# The skin and antenna responses are orders of magnitude stronger than a tumour's (Bond et al.,
# IEEE TAP 51:1690, 2003; Elahi et al., IEEE TMTT 66:5238, 2018), so a step that removed them
# lowers the energy by well over 10 dB: more than a tenth left means the skin response still
# dominates (for comparison, rotation subtraction of the real MERIT scans leaves 0.8-3.7 %,
# average subtraction 42-54 %). Less than 1e-6 (-60 dB) left is deeper than the tens of dB
# between a tumour's response and the skin's: the step removed the signal too, e.g. with a
# reference scan that is the scan itself.
MAX_RESIDUAL_ENERGY = 0.1
MIN_RESIDUAL_ENERGY = 1e-6
_ARTEFACT_STEPS = {
    "reference_subtraction",
    "rotation_subtraction",
    "average_subtraction",
    "skin_artefact_removal",
}


def _warn_residual_energy(before: np.ndarray, after: np.ndarray, step: str) -> None:
    """Warn (BrimWarning) when an artefact-removal step left almost nothing or almost all."""
    e0 = float(np.nansum(np.abs(before) ** 2))
    if not e0 > 0:
        return
    ratio = float(np.nansum(np.abs(after) ** 2)) / e0
    db = 10 * np.log10(ratio) if ratio > 0 else -np.inf
    logger.info("%s: residual energy %.1f dB of the scan's", step, db)
    if ratio < MIN_RESIDUAL_ENERGY:
        msg = (
            f"{step} removed almost all the signal (residual energy {db:.0f} dB of the scan's, "
            f"below {10 * np.log10(MIN_RESIDUAL_ENERGY):.0f} dB): is the reference the scan "
            "itself, or the scan only an artefact?"
        )
    elif ratio > MAX_RESIDUAL_ENERGY:
        msg = (
            f"{step} left {100 * ratio:.0f} % of the scan's energy (more than "
            f"{100 * MAX_RESIDUAL_ENERGY:.0f} %): the skin / antenna response probably still "
            "dominates the scan; try another calibration (e.g. rotation subtraction)"
        )
    else:
        return
    warn(msg)


def _with_s(ds: xr.Dataset, s_new, step: str, params: dict) -> xr.Dataset:
    if step.rsplit(".", 1)[-1] in _ARTEFACT_STEPS:
        _warn_residual_energy(ds["s"].values, np.asarray(s_new), step.rsplit(".", 1)[-1])
    out = ds.copy()
    out["s"] = (ds["s"].dims, np.asarray(s_new), dict(ds["s"].attrs))
    steps = [x for x in ds.attrs.get("calibration", "").split(",") if x]
    out.attrs["calibration"] = ",".join([*steps, step.rsplit(".", 1)[-1]])
    provenance.note(**params)  # derived settings, added to the step's record (@provenance.step)
    return out


def _other(ds: xr.Dataset, other, kind: str) -> np.ndarray:
    if other is None:
        if "s_reference" not in ds:
            raise CalibrationError(
                f"no {kind} scan: pass one, or read the scan with reference=... so it carries "
                "'s_reference'"
            )
        return ds["s_reference"].values
    o = other["s"] if isinstance(other, xr.Dataset) else other
    if isinstance(other, xr.Dataset):
        if other["s"].dims != ds["s"].dims or other["s"].shape != ds["s"].shape:
            raise CalibrationError(
                f"{kind} scan has dims {dict(other['s'].sizes)}, the scan {dict(ds['s'].sizes)}"
            )
        if not np.allclose(other["freq"].values, ds["freq"].values, rtol=1e-9):
            raise CalibrationError(f"{kind} scan was measured at other frequencies")
        for c in ("tx", "rx"):
            if c in ds.coords and c in other.coords:
                if not np.array_equal(ds[c].values, other[c].values):
                    raise CalibrationError(f"{kind} scan has another channel table")
    o = np.asarray(o)
    if o.shape != ds["s"].shape:
        raise CalibrationError(f"{kind} scan has shape {o.shape}, the scan {ds['s'].shape}")
    return o


def _subtract_other(ds: xr.Dataset, other, kind: str, step: str) -> xr.Dataset:
    """``s - other`` (:func:`_other`: an argument, else the scan's ``s_reference``), recorded as
    ``step`` with where ``other`` came from."""
    s_other = _other(ds, other, kind)
    source = "argument" if other is not None else "s_reference"
    return _with_s(ds, ds["s"].values - s_other, step, {kind: source})


@positional_options
@provenance.step
@_on_host
def reference_subtraction(ds: xr.Dataset, *, reference: Any = None) -> xr.Dataset:
    """``s - s_ref`` with a reference scan (empty chamber or homogeneous phantom) of identical
    geometry.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``sparameter_scan`` (complex ``s`` over freq, channel).
    reference : xarray.Dataset or array, optional
        The reference scan (same channels and frequencies) or its ``s`` values; default: the
        scan's own ``s_reference``.

    Returns
    -------
    xarray.Dataset
        The scan with ``s`` replaced by the difference; ``attrs["calibration"]`` names the step.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import make_scan, reference_subtraction
    >>> s = np.ones((8, 2), complex)
    >>> scan = make_scan(s, np.linspace(1e9, 2e9, 8), tx=[0, 0], rx=[0, 1],
    ...                  antenna_positions=[[0, 0, 0], [0.01, 0, 0]], reference=0.95 * s)
    >>> out = reference_subtraction(scan)
    >>> np.round(out["s"].values.real[0], 3).tolist(), out.attrs["calibration"]
    ([0.05, 0.05], 'reference_subtraction')
    """
    return _subtract_other(ds, reference, "reference", "reference_subtraction")


@positional_options
@provenance.step
@_on_host
def rotation_subtraction(ds: xr.Dataset, *, rotated: Any = None) -> xr.Dataset:
    """Rotation subtraction: ``s(0 deg) - s(rotated)`` (MERIT: 36 degrees).

    The tumour, off the rotation axis, moves; the (nearly rotationally symmetric) skin and
    antenna responses cancel. The image then shows the tumour at its original position plus a
    weaker, sign-inverted copy at the rotated position.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``sparameter_scan`` (complex ``s`` over freq, channel).
    rotated : xarray.Dataset or array, optional
        The scan of the rotated breast (same channels and frequencies) or its ``s`` values;
        default: the scan's own ``s_reference``.

    Returns
    -------
    xarray.Dataset
        The scan with ``s`` replaced by the difference.

    Examples
    --------
    >>> import numpy as np
    >>> import brim.data
    >>> from brim.microwave import rotation_subtraction
    >>> scan = brim.data.sample("microwave_radar_scan")  # s_reference: the rotated scan
    >>> out = rotation_subtraction(scan)
    >>> out.attrs["calibration"], bool(abs(out["s"]).max() < 0.1 * abs(scan["s"]).max())
    ('rotation_subtraction', True)
    """
    return _subtract_other(ds, rotated, "rotated", "rotation_subtraction")


def _distance_groups(ds: xr.Dataset, decimals: int = 3) -> np.ndarray:
    if not {"tx", "rx", "antenna_x"} <= set(ds.coords):
        raise CalibrationError("average subtraction by distance needs tx/rx and antenna_x/y/z")
    pos = np.column_stack([ds[f"antenna_{k}"].values for k in "xyz"])
    tx, rx = ds["tx"].values, ds["rx"].values
    d = np.round(np.linalg.norm(pos[tx] - pos[rx], axis=1), decimals)
    _, g = np.unique(d, return_inverse=True)
    return g


@provenance.step
@_on_host
def average_subtraction(ds: xr.Dataset, *, groups: str = "distance") -> xr.Dataset:
    """Subtract from each channel the mean over its group of channels.

    Parameters
    ----------
    groups : {"distance", "all"}
        ``"distance"``: channels with the same Tx–Rx antenna distance (to 1 mm);
        ``"all"``: every channel (the classical mean-channel subtraction).

    Returns
    -------
    xarray.Dataset
        The scan with each group's mean channel subtracted from ``s``; ``attrs["calibration"]``
        lists the calibration steps.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import make_scan, average_subtraction
    >>> s = np.array([[1.0, 1.0, 1.3]] * 4, complex)  # a common response, one channel differs
    >>> scan = make_scan(s, np.linspace(1e9, 2e9, 4), tx=[0, 0, 1], rx=[1, 2, 2],
    ...                  antenna_positions=[[0, 0, 0], [0.01, 0, 0], [0, 0.01, 0]])
    >>> out = average_subtraction(scan, groups="all")
    >>> np.round(out["s"].values.real[0], 3).tolist(), out.attrs["calibration"]
    ([-0.1, -0.1, 0.2], 'average_subtraction')
    """
    s = ds["s"]
    if s.dims != ("freq", "channel"):
        raise CalibrationError("average subtraction needs a (freq, channel) scan")
    v = s.values
    if groups == "all":
        g = np.zeros(v.shape[1], dtype=int)
    elif groups == "distance":
        g = _distance_groups(ds)
    else:
        raise ConfigError("groups must be 'distance' or 'all'")
    out = v.copy()
    for k in np.unique(g):
        m = g == k
        if m.sum() < 2:
            continue  # a lone channel has no partner to estimate its artefact from
        out[:, m] = v[:, m] - v[:, m].mean(axis=1, keepdims=True)
    return _with_s(ds, out, "average_subtraction", {"groups": groups})


def _time_window(window, what: str) -> tuple[float, float]:
    """``(t_start, t_stop)`` in s with ``0 <= t_start < t_stop`` (NaN fails), or ConfigError."""
    try:
        t_start, t_stop = (float(v) for v in window)
    except (TypeError, ValueError):
        t_start = t_stop = float("nan")
    if not 0 <= t_start < t_stop:
        raise ConfigError(
            f"{what} needs (t_start, t_stop) s with 0 <= t_start < t_stop, got {window}"
        )
    return t_start, t_stop


def _exact_time_pair(freq, oversample: int):
    """Time grid and the matrices E (time <- freq) and its exact inverse (freq <- time)."""
    df = frequency_step(freq)
    n_t = check_positive("oversample", oversample, integer=True) * freq.size
    t = np.arange(n_t) / (n_t * df)
    e = np.exp(2j * np.pi * np.outer(t, freq))  # [T, F]
    return t, e


@provenance.step
@_on_host
def time_gate(
    ds: xr.Dataset, t_start: float, t_stop: float, *, keep: bool = True, oversample: int = 8
) -> xr.Dataset:
    """Rectangular time gate: keep (or, ``keep=False``, remove) the response in
    ``[t_start, t_stop)`` s. Exact: the time grid spans one alias period ``1/df`` with
    ``oversample * F`` samples, so the back-projection ``S = E^H x / T`` inverts ``x = E S``.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``sparameter_scan``.
    t_start, t_stop : float
        The gate in s, ``0 <= t_start < t_stop``.
    keep : bool
        Keep the response inside the gate (True) or remove it (False).
    oversample : int
        Time samples per frequency sample of the exact time grid.

    Returns
    -------
    xarray.Dataset
        The scan with ``s`` gated in time; ``attrs["calibration"]`` lists the steps.

    Examples
    --------
    >>> import numpy as np
    >>> import brim.data
    >>> from brim.microwave import time_gate
    >>> scan = brim.data.sample("microwave_radar_scan")
    >>> inside = time_gate(scan, 0.0, 2e-9)
    >>> outside = time_gate(scan, 0.0, 2e-9, keep=False)
    >>> inside["s"].shape, bool(np.allclose(inside["s"] + outside["s"], scan["s"]))
    ((31, 190), True)
    """
    t_start, t_stop = _time_window((t_start, t_stop), "time gate")
    s, other = _s_freq_last(ds)
    freq = ds["freq"].values
    t, e = _exact_time_pair(freq, oversample)
    gate = (t >= t_start) & (t < t_stop)
    if not keep:
        gate = ~gate
    x = s.values @ e.T  # [..., T]
    sg = (x * gate) @ e.conj() / len(t)
    out_s = xr.DataArray(sg, dims=s.dims).transpose(*ds["s"].dims).values
    return _with_s(
        ds,
        out_s,
        "time_gate",
        {"t_start": t_start, "t_stop": t_stop, "keep": keep},
    )


@provenance.step
@_on_host
def skin_artefact_removal(
    ds: xr.Dataset,
    *,
    window: tuple[float, float],
    n_neighbours: int = 4,
    n_taps: int = 3,
    oversample: int = 4,
    rcond: float = 1e-6,
) -> xr.Dataset:
    """Filter-based skin-artefact removal (Bond et al. 2003, IEEE TAP 51, 1690).

    For each channel, its time signal inside ``window`` (s, the early-time interval dominated by
    the skin / antenna reflection) is predicted by least squares as a sum of FIR-filtered
    (``n_taps`` sample shifts) time signals of its ``n_neighbours`` most similar other channels
    (largest correlation in the window); the filtered prediction is subtracted over the whole
    record, and the result goes back to the frequency domain exactly.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``sparameter_scan`` with dims (freq, channel).
    window : (float, float)
        The early-time interval ``(t_start, t_stop)`` in s dominated by the artefact.
    n_neighbours : int
        Channels whose filtered signals predict a channel's artefact.
    n_taps : int
        FIR filter length in time samples.
    oversample : int
        Time samples per frequency sample of the exact time grid.
    rcond : float
        Relative cut-off of the least-squares solution's singular values.

    Returns
    -------
    xarray.Dataset
        The scan with the predicted artefact subtracted from ``s``; ``attrs["calibration"]``
        lists the calibration steps.

    Examples
    --------
    >>> import brim.data
    >>> from brim.microwave import skin_artefact_removal
    >>> scan = brim.data.sample("microwave_radar_scan")  # artefact-dominated raw scan
    >>> out = skin_artefact_removal(scan, window=(0.0, 1e-9))
    >>> out.attrs["calibration"], bool(abs(out["s"]).max() < 0.1 * abs(scan["s"]).max())
    ('skin_artefact_removal', True)
    """
    s, other = _s_freq_last(ds)
    if s.ndim != 2:
        raise CalibrationError("skin-artefact removal needs a (freq, channel) scan")
    freq = ds["freq"].values
    n_neighbours = check_positive("n_neighbours", n_neighbours, integer=True)
    n_taps = check_positive("n_taps", n_taps, integer=True)
    if n_neighbours >= s.shape[0]:
        raise ConfigError(f"n_neighbours ({n_neighbours}) must be < the {s.shape[0]} channels")
    win = _time_window(window, "skin-artefact window")
    t, e = _exact_time_pair(freq, oversample)
    x = s.values @ e.T  # [C, T]
    w = (t >= win[0]) & (t < win[1])
    if w.sum() < n_taps * n_neighbours + 1:
        raise ConfigError("window too short for the requested filter; widen it or use fewer taps")
    n_c = x.shape[0]
    xw = x[:, w]
    norm = np.linalg.norm(xw, axis=1)
    corr = np.abs(xw.conj() @ xw.T) / np.outer(norm + 1e-300, norm + 1e-300)
    half = n_taps // 2
    shifts = range(-half, n_taps - half)
    out = x.copy()
    for c in range(n_c):
        order = [j for j in np.argsort(-corr[c]) if j != c][:n_neighbours]
        cols = [np.roll(x[j], k) for j in order for k in shifts]
        a_full = np.stack(cols, axis=1)  # [T, n_neighbours * n_taps]
        coef, *_ = np.linalg.lstsq(a_full[w], x[c, w], rcond=rcond)
        out[c] = x[c] - a_full @ coef
    sg = out @ e.conj() / len(t)
    return _with_s(
        ds,
        sg.T,
        "skin_artefact_removal",
        {"window": list(win), "n_neighbours": n_neighbours, "n_taps": n_taps},
    )


@provenance.step
@_on_host
def antenna_delay_calibration(ds: xr.Dataset, delay_s: ArrayLike) -> xr.Dataset:
    """Attach the antennas' phase-centre delay (one-way, s; scalar or per antenna) as the
    variable ``antenna_delay`` used by the beamformer.

    A positive delay means the wave leaves the antenna's phase centre later than the geometric
    position suggests (feed and radiator length); it is added to every one-way time.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``sparameter_scan`` with an ``antenna`` or ``position`` dimension.
    delay_s : float or array_like (n_antenna,)
        One-way delay in s.

    Returns
    -------
    xarray.Dataset
        The scan with the variable ``antenna_delay`` (s) over antennas.

    Examples
    --------
    >>> import brim.data
    >>> from brim.microwave import antenna_delay_calibration
    >>> out = antenna_delay_calibration(brim.data.sample("microwave_radar_scan"), 50e-12)
    >>> d = out["antenna_delay"]
    >>> d.dims, d.attrs["units"], d.size, float(d[0])
    (('antenna',), 's', 20, 5e-11)
    """
    n = ds.sizes.get("antenna", ds.sizes.get("position"))
    dim = "antenna" if "antenna" in ds.sizes else "position"
    if n is None:
        raise CalibrationError("scan has no antenna/position dimension")
    try:
        d = np.asarray(delay_s, dtype=float)
    except (TypeError, ValueError):
        raise CalibrationError(f"antenna delays must be numbers (s), got {delay_s!r}") from None
    if d.size not in (1, n):
        raise CalibrationError(
            f"delay_s has {d.size} values; give one delay (s) or one per {dim} ({n})"
        )
    d = np.broadcast_to(d.reshape(-1) if d.size == n else d.reshape(()), (n,)).copy()
    if not np.all(np.isfinite(d)):
        raise CalibrationError("antenna delays must be finite (s)")
    out = ds.copy()
    out["antenna_delay"] = (dim, d, {"units": "s", "long_name": "phase-centre one-way delay"})
    provenance.note(delay_s=d.tolist())
    return out


@_on_host
def estimate_antenna_delay(
    calibration_scan: xr.Dataset,
    target_m: ArrayLike,
    *,
    candidates_s: ArrayLike | None = None,
    eps_r: float = 8.0,
    radius: float = 0.07,
    resolution: float = 2.5e-3,
) -> float:
    """Fit one common phase-centre delay (s) on a calibration scan with a known target.

    For each candidate delay the DAS image is formed and the candidate whose image maximum lies
    closest to ``target_m`` (ties: the higher peak-to-mean ratio) wins. Apply the result to
    *other* scans (fitting and judging on the same scan would be circular).

    Parameters
    ----------
    calibration_scan : xarray.Dataset
        A calibrated ``sparameter_scan`` of a known target.
    target_m : (3,) array_like
        The target position ``(x, y, z)`` in m.
    candidates_s : array_like, optional
        Candidate delays in s; default 0 to 300 ps in 25 ps steps.
    eps_r : float
        Relative permittivity of the imaging medium.
    radius, resolution : float
        Hemisphere imaging grid (:func:`~brim.microwave.radar.hemisphere_grid`) in m.

    Returns
    -------
    float
        The best delay in s.

    Examples
    --------
    The bundled scan is simulated without a phase-centre delay; a coarse grid keeps it quick:

    >>> import brim.data
    >>> from brim.microwave import estimate_antenna_delay, rotation_subtraction
    >>> scan = rotation_subtraction(brim.data.sample("microwave_radar_scan"))
    >>> target = [float(v) for v in scan.attrs["target_m"].split(",")]
    >>> estimate_antenna_delay(scan, target, candidates_s=[0.0, 1e-10], resolution=0.01)
    0.0
    """
    default = np.arange(0.0, 301e-12, 25e-12)
    candidates = check_vector(
        "candidates_s", default if candidates_s is None else np.atleast_1d(candidates_s)
    )
    target = target_position(target_m)
    grid = hemisphere_grid(radius, resolution)
    best: tuple[tuple[float, float], float] | None = None
    for d in candidates:
        img = beamform(
            antenna_delay_calibration(calibration_scan, d), grid=grid, methods=["das"], eps_r=eps_r
        )["das"]
        v = img.values
        score = (localisation_error(img, target), float(-np.nanmax(v) / np.nanmean(v)))
        if best is None or score < best[0]:
            best = (score, float(d))
    if best is None:  # unreachable: check_vector refuses an empty candidate list
        raise ConfigError("no candidate delay")
    return best[1]
