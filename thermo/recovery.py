"""Recovery features of dynamic (cold-stress) thermography: how fast each breast re-warms.

In the dynamic protocol of the DMR-IR database (Silva et al. 2014) the breasts are cooled by an
air stream and imaged every 15 s while they re-warm. Tissue with more perfusion and metabolic
heat re-warms differently from its mirror image, information that a single static image lacks
(Amalu 2004; Ng 2009 review the cold-stress test). The features here are, like
:mod:`brim.thermo.body_relative`, relative to the patient's own body: rates and their
left–right differences, never an absolute temperature.

* :func:`recovery_map`: the per-pixel re-warming rate (K/min), the least-squares slope of the
  temperature over the frames of the first ``early`` seconds.
* :func:`recovery_features`: per-breast mean rate, total re-warming and half-recovery time,
  their unsigned left–right differences, and the mirrored asymmetry of the rate map
  (mean, 95th percentile, rate hot-spot area).

Read a sequence with :func:`brim.thermo.read_frames` (``PAC_<id>_DN<k>`` files are ordered by
frame and timed every ``interval`` s) and segment one frame with
:func:`brim.thermo.segment_classical`.

References
----------
Silva LF et al. (2014). A new database for breast research with infrared image. J Med
Imaging Health Inform 4(1):92-100.

Ng EYK (2009). A review of thermography as promising non-invasive detection modality for
breast tumor. Int J Therm Sci 48(5):849-859.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from brim.errors import ConfigError, SchemaError
from brim.thermo.features import LEFT, RIGHT

__all__ = ["RECOVERY_FEATURE_UNITS", "recovery_features", "recovery_map"]

#: Names and units of :func:`recovery_features`.
RECOVERY_FEATURE_UNITS: dict[str, str] = {
    "recovery_rate_mean": "K/min",
    "recovery_rate_abs_delta": "K/min",
    "recovery_amplitude_abs_delta": "K",
    "recovery_half_time_abs_delta": "s",
    "recovery_map_asym_mean": "K/min",
    "recovery_map_asym_p95": "K/min",
    "recovery_hotspot_area_asym": "1",
}


def _series(ds: xr.Dataset) -> xr.DataArray:
    if "temperature" not in ds:
        raise SchemaError("a calibrated thermogram series ('temperature', degC) is expected")
    t = ds["temperature"]
    if "time" not in t.dims or t.sizes["time"] < 2:
        raise ConfigError(
            "recovery features need a sequence: 'temperature' on (time, y, x) with >= 2 frames"
        )
    if not np.all(np.diff(ds["time"].values) > 0):
        raise ConfigError("the frame times must increase")
    return t.transpose("time", "y", "x")


def recovery_map(ds: xr.Dataset, *, early: float = 60.0) -> xr.DataArray:
    """Per-pixel re-warming rate over the first ``early`` seconds of a sequence.

    Parameters
    ----------
    ds : xarray.Dataset
        A thermogram sequence: ``temperature`` (degC) on (time, y, x), ``time`` in s since
        the end of the cooling.
    early : float
        Length of the fitting window from the first frame, s (at least two frames are used).

    Returns
    -------
    xarray.DataArray
        ``recovery_rate`` on (y, x) in K/min: the least-squares slope of each pixel's
        temperature against time in the window.

    Raises
    ------
    SchemaError
        No ``temperature`` variable.
    ConfigError
        Fewer than two frames, times that do not increase, or ``early`` not positive.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brim.thermo.recovery import recovery_map
    >>> t = np.arange(5) * 15.0
    >>> temp = 30 + 0.01 * t[:, None, None] * np.ones((5, 2, 3))  # 0.6 K/min everywhere
    >>> ds = xr.Dataset({"temperature": (("time", "y", "x"), temp)}, coords={"time": t})
    >>> float(recovery_map(ds).mean().round(3))
    0.6
    """
    if not early > 0:
        raise ConfigError(f"early must be > 0 s, got {early}")
    temp = _series(ds)
    time = ds["time"].values.astype(np.float64)
    n = max(2, int(np.sum(time - time[0] <= early)))
    tt = time[:n] - time[:n].mean()
    v = temp.values[:n].astype(np.float64)
    slope = np.tensordot(tt, v - v.mean(axis=0), axes=(0, 0)) / np.sum(tt**2)  # K/s
    return xr.DataArray(
        slope * 60.0,
        dims=("y", "x"),
        coords={k: ds[k] for k in ("y", "x") if k in ds.coords},
        name="recovery_rate",
        attrs={"units": "K/min", "window_s": float(time[n - 1] - time[0]), "frames": n},
    )


def _half_time(curve: np.ndarray, time: np.ndarray) -> float:
    """Time at which a mean re-warming curve reaches half its total rise (linear interp.)."""
    rise = curve[-1] - curve[0]
    if not rise > 0:
        return float(time[-1] - time[0])
    target = curve[0] + 0.5 * rise
    k = int(np.argmax(curve >= target))
    if k == 0:
        return 0.0
    f = (target - curve[k - 1]) / max(curve[k] - curve[k - 1], 1e-12)
    return float(time[k - 1] + f * (time[k] - time[k - 1]) - time[0])


def recovery_features(
    ds: xr.Dataset, seg: xr.Dataset, *, early: float = 60.0, hotspot_k: float = 2.0
) -> dict[str, float]:
    """Relative recovery features of a dynamic sequence (see :data:`RECOVERY_FEATURE_UNITS`).

    Parameters
    ----------
    ds : xarray.Dataset
        A thermogram sequence (``temperature`` on (time, y, x), time in s).
    seg : xarray.Dataset
        Segmentation of the sequence's frames (``mask``: 2 right breast, 3 left breast;
        optional ``midline_x``), e.g. :func:`brim.thermo.segment_classical` of one frame.
    early : float
        Window of the rate fit, s (:func:`recovery_map`).
    hotspot_k : float
        Rate hot spot = pixel whose rate exceeds its breast's mean rate + ``hotspot_k`` std.

    Returns
    -------
    dict of str -> float
        One value per name of :data:`RECOVERY_FEATURE_UNITS`, in that order.

    Raises
    ------
    SchemaError, ConfigError
        Not a sequence (see :func:`recovery_map`), or a segmentation that does not match the
        frames or lacks a breast.

    Examples
    --------
    >>> from brim.thermo import segment_classical, simulate_dynamic
    >>> from brim.thermo.recovery import recovery_features
    >>> seq = simulate_dynamic(seed=1, n_frames=6)  # doctest: +SKIP
    >>> f = recovery_features(seq, segment_classical(seq.isel(time=-1)))  # doctest: +SKIP
    >>> f["recovery_rate_mean"] > 0  # doctest: +SKIP
    True
    """
    from brim.thermo.features import asymmetry_map

    rate = recovery_map(ds, early=early)
    m = np.asarray(seg["mask"].values)
    if m.shape != rate.shape:
        raise ConfigError(f"segmentation {m.shape} does not match the frames {rate.shape}")
    r, l = m == RIGHT, m == LEFT
    if r.sum() < 10 or l.sum() < 10:
        raise ConfigError("the segmentation lacks a breast (fewer than 10 pixels on one side)")
    temp = _series(ds).values
    time = ds["time"].values.astype(np.float64)
    rv = rate.values
    curve_r, curve_l = temp[:, r].mean(axis=1), temp[:, l].mean(axis=1)
    f: dict[str, float] = {}
    f["recovery_rate_mean"] = float(rv[r | l].mean())
    f["recovery_rate_abs_delta"] = abs(float(rv[l].mean() - rv[r].mean()))
    f["recovery_amplitude_abs_delta"] = abs(
        float((curve_l[-1] - curve_l[0]) - (curve_r[-1] - curve_r[0]))
    )
    f["recovery_half_time_abs_delta"] = abs(_half_time(curve_l, time) - _half_time(curve_r, time))
    rate_ds = xr.Dataset({"temperature": rate}, coords=rate.coords)
    d = asymmetry_map(rate_ds, seg)["delta_t"].values
    d = np.abs(d[np.isfinite(d)])
    f["recovery_map_asym_mean"] = float(d.mean()) if d.size else 0.0
    f["recovery_map_asym_p95"] = float(np.percentile(d, 95)) if d.size else 0.0
    hot = []
    for reg in (r, l):
        vals = rv[reg]
        hot.append(float((vals > vals.mean() + hotspot_k * vals.std()).mean()))
    f["recovery_hotspot_area_asym"] = abs(hot[1] - hot[0])
    return {k: float(f[k]) for k in RECOVERY_FEATURE_UNITS}
