"""Shear-wave elastography: tracking, particle velocity, time-of-flight speed, Young's modulus.

Pipeline (e.g. Bercoff, Tanter, Fink, "Supersonic shear imaging", IEEE TUFFC 51:396, 2004;
Palmeri et al., "Quantifying hepatic shear modulus in vivo using acoustic radiation force",
Ultrasound Med. Biol. 34:546, 2008, for the time-of-flight estimate):

1. axial displacement of every frame relative to frame 0, by the Loupas phase-shift estimator
   (:mod:`brim.elasto.displacement`), giving ``u(t, z, x)``;
2. particle velocity ``v = du/dt`` (central differences in time);
3. arrival time of the velocity peak at every lateral position (parabolic sub-frame fit);
4. group speed ``c``: least-squares slope of ``|x - x_push|`` against arrival time (both sides of
   the push, excluding a near-field zone), globally and in sliding lateral windows for a map;
5. Young's modulus ``E = 3 rho c**2`` (incompressible, isotropic, linear elastic tissue; rho =
   1000 kg/m^3 by default), and ``Emax``, ``Emean`` in a region of interest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance, schema
from brim.errors import ConfigError, check_positive

from .displacement import phase_refine, window_centers
from .strain import StrainRoi, roi_mask

__all__ = [
    "ShearWaveResult",
    "arrival_times",
    "group_speed",
    "shear_wave_elastography",
    "track_displacement",
    "youngs_modulus",
]


def youngs_modulus(speed: ArrayLike, *, density: float = 1000.0) -> np.ndarray:
    """E = 3 rho c^2 in Pa, for shear speed ``c`` in m/s and density in kg/m^3.

    Valid for incompressible, isotropic, linear-elastic tissue (Poisson's ratio 0.5).

    Parameters
    ----------
    speed : array_like
        Shear-wave speed in m/s.
    density : float
        Tissue density in kg/m^3.

    Returns
    -------
    numpy.ndarray
        Young's modulus in Pa, of the shape of ``speed`` (0-d for a scalar).

    Examples
    --------
    >>> float(youngs_modulus(2.0))  # 2 m/s in soft tissue: 12 kPa
    12000.0
    """
    return 3.0 * density * np.asarray(speed, float) ** 2


def track_displacement(rf: xr.Dataset, *, window: int | None = None, step: int | None = None):
    """Axial displacement (m) of every frame relative to frame 0, by the Loupas estimator.

    Shear-wave displacements are micrometres (a small fraction of a sample), so no integer
    search is needed: the phase estimator is applied with zero alignment.

    Parameters
    ----------
    rf : xarray.Dataset
        ``rf_frames`` with a ``time`` coordinate (s) on ``frame``; frame 0 is the reference.
    window : int, optional
        Axial window in samples (made odd); default 3 periods of the centre frequency.
    step : int, optional
        Window step in samples; default a quarter window.

    Returns
    -------
    xarray.DataArray
        ``displacement`` with dims (frame, depth, line) in m, ``time`` coordinate in s.
    """
    schema.expect_dataset(rf, "rf_frames")
    schema.validate(rf, "rf_frames", check_values=False)
    if "time" not in rf.coords:
        raise ConfigError("shear-wave RF frames need a 'time' coordinate (s) on 'frame'")
    data = rf["rf"].values
    if np.iscomplexobj(data):
        raise ConfigError("track_displacement needs real RF frames")
    nf, nd, nl = data.shape
    if nf < 3:  # a velocity (time derivative) and its arrival peak need a sequence
        raise ConfigError(f"shear-wave tracking needs a sequence of >= 3 frames, got {nf}")
    fs = float(rf["sampling_frequency"])
    fc = float(rf["center_frequency"])
    window = int(window or round(3 * fs / fc)) | 1
    hw = window // 2
    step = int(step or max(hw // 2, 1))
    cen = window_centers(nd, hw, step)
    dz = float(rf["sound_speed"]) / (2 * fs)
    zeros = np.zeros((cen.size, nl), dtype=np.int64)
    out = np.zeros((nf, cen.size, nl))
    ref = np.asarray(data[0], float)
    for k in range(1, nf):
        out[k] = phase_refine(ref, np.asarray(data[k], float), cen, hw, zeros) * dz
    depth = rf["depth"].values[cen]
    return xr.DataArray(
        out,
        dims=("frame", "depth", "line"),
        coords={"time": ("frame", rf["time"].values), "depth": depth, "line": rf["line"].values},
        name="displacement",
        attrs={"units": "m"},
    )


def arrival_times(velocity: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Time of the peak of ``velocity`` along axis 0, refined by a parabola through 3 frames.

    Parameters
    ----------
    velocity : numpy.ndarray
        Particle velocity (any unit) with time on axis 0.
    times : numpy.ndarray
        Uniformly spaced frame times in s.

    Returns
    -------
    numpy.ndarray
        Arrival time in s, of the shape of ``velocity[0]``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(20) * 1e-4
    >>> v = np.exp(-(((t - 7.3e-4) / 2e-4) ** 2))[:, None]
    >>> bool(abs(arrival_times(v, t)[0] - 7.3e-4) < 1e-5)
    True
    """
    v = np.asarray(velocity, float)
    k = np.argmax(v, axis=0)
    k = np.clip(k, 1, v.shape[0] - 2)
    idx = np.indices(k.shape)
    vm = v[(k - 1, *idx)]
    v0 = v[(k, *idx)]
    vp = v[(k + 1, *idx)]
    den = vm - 2 * v0 + vp
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(den < 0, 0.5 * (vm - vp) / den, 0.0)
    d = np.clip(d, -0.5, 0.5)
    dt = times[1] - times[0]
    return times[0] + (k + d) * dt


def group_speed(x, t, *, push_x: float = 0.0, exclude: float = 1.5e-3) -> float:
    """Group speed (m/s): least-squares slope of ``|x - push_x|`` against arrival time ``t``.

    Points within ``exclude`` (m) of the push are left out (near-field, where the wave is not yet
    formed).

    Parameters
    ----------
    x : array_like
        Lateral positions in m.
    t : array_like
        Arrival times in s (same shape as ``x``; NaN ignored).
    push_x : float
        Lateral position of the push in m.
    exclude : float
        Half-width in m of the zone around the push that is left out.

    Returns
    -------
    float
        Speed in m/s.

    Raises
    ------
    ConfigError
        Fewer than 3 usable points, or arrival times that do not increase away from the push.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-0.01, 0.01, 41)
    >>> round(group_speed(x, np.abs(x) / 2.5 + 1e-4), 6)
    2.5
    """
    x = np.asarray(x, float).ravel()
    t = np.asarray(t, float).ravel()
    r = np.abs(x - push_x)
    ok = (r >= exclude) & np.isfinite(t)
    if ok.sum() < 3:
        raise ConfigError("too few lateral positions outside the excluded push zone")
    slope = np.polyfit(t[ok], r[ok], 1)[0]
    if slope <= 0:
        raise ConfigError("arrival times do not increase away from the push: no shear wave found")
    return float(slope)


@dataclass
class ShearWaveResult:
    """Shear-wave elastography result.

    Attributes
    ----------
    speed : float
        Global group speed in m/s.
    youngs_modulus : float
        E = 3 rho c^2 in Pa.
    maps : xarray.Dataset
        ``speed`` (m/s) and ``youngs_modulus`` (Pa) maps on (depth, line), ``arrival_time`` (s).
    e_max, e_mean : float
        Maximum and mean of the modulus map in the ROI (Pa); NaN without an ROI.
    """

    speed: float
    youngs_modulus: float
    maps: xr.Dataset
    e_max: float = float("nan")
    e_mean: float = float("nan")


@provenance.step
def shear_wave_elastography(
    rf: xr.Dataset,
    *,
    push_x: float = 0.0,
    density: float = 1000.0,
    exclude: float = 1.5e-3,
    map_window: int = 9,
    roi: StrainRoi | None = None,
) -> ShearWaveResult:
    """Shear-wave speed and Young's modulus from RF frames of a propagating shear wave.

    Parameters
    ----------
    rf : xarray.Dataset
        ``rf_frames`` over time with a ``time`` coordinate (s) on ``frame``; frame 0 is the
        reference (tissue at rest).
    push_x : float
        Lateral position (m) of the push.
    density : float
        kg/m^3.
    exclude : float
        Near-push zone (m) left out of the speed fits.
    map_window : int
        Lines per sliding lateral fit for the speed map.
    roi : StrainRoi, optional
        Region for Emax / Emean (coordinates in m).

    Returns
    -------
    ShearWaveResult
        The group speed (m/s), its Young's modulus (Pa), the maps (speed, modulus, arrival
        time on depth, line) and, with ``roi``, Emax and Emean (Pa).

    Examples
    --------
    >>> from brim.elasto import simulate_shear_wave_rf
    >>> sw = simulate_shear_wave_rf(speed=2.5, n_frames=24, n_lines=32, n_samples=128)
    >>> res = shear_wave_elastography(sw)
    >>> bool(abs(res.speed - 2.5) < 0.25)
    True
    """
    density = check_positive("density (kg/m^3)", density)
    map_window = check_positive("map_window", map_window, integer=True)
    if map_window < 2:
        raise ConfigError(f"map_window must be >= 2 lines (a slope), got {map_window}")
    if not np.isfinite(push_x):
        raise ConfigError(f"push_x must be a finite position (m), got {push_x}")
    disp = track_displacement(rf)
    t = disp["time"].values
    vel = np.gradient(disp.values, t, axis=0)
    tarr = arrival_times(vel, t)  # (depth, line)
    x = disp["line"].values
    xx = np.broadcast_to(x[None, :], tarr.shape)
    c = group_speed(xx, tarr, push_x=push_x, exclude=exclude)
    # local speed map: slope of distance vs time in sliding windows along x
    nd, nl = tarr.shape
    h = map_window // 2
    cmap = np.full((nd, nl), np.nan)
    r = np.abs(x - push_x)
    for j in range(h, nl - h):
        sl = slice(j - h, j + h + 1)
        if np.any(r[sl] < exclude) or np.any(np.sign(x[sl] - push_x) != np.sign(x[j] - push_x)):
            continue
        rr = r[sl]
        tt = tarr[:, sl]
        tm = tt.mean(axis=1, keepdims=True)
        rm = rr.mean()
        num = ((tt - tm) * (rr - rm)).sum(axis=1)
        den = ((tt - tm) ** 2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cmap[:, j] = np.where(den > 0, num / den, np.nan)
    cmap[cmap <= 0] = np.nan
    emap = youngs_modulus(cmap, density=density)
    maps = xr.Dataset(
        {
            "speed": (("depth", "line"), cmap, {"units": "m/s", "long_name": "shear-wave speed"}),
            "youngs_modulus": (
                ("depth", "line"),
                emap,
                {"units": "Pa", "long_name": "Young's modulus (3 rho c^2)"},
            ),
            "arrival_time": (
                ("depth", "line"),
                tarr,
                {"units": "s", "long_name": "shear-wave arrival time"},
            ),
        },
        coords={
            "depth": ("depth", disp["depth"].values, {"units": "m"}),
            "line": ("line", x, {"units": "m"}),
        },
    )
    res = ShearWaveResult(c, float(youngs_modulus(c, density=density)), maps)
    if roi is not None:
        m = roi_mask(maps, roi) & np.isfinite(emap)
        if not m.any():
            raise ConfigError("the ROI holds no valid modulus estimate")
        res.e_max = float(emap[m].max())
        res.e_mean = float(emap[m].mean())
    return res
