"""Skin-surface temperatures of a voxel bioheat solution, and the surface corrections of a
voxel (staircase) skin: the per-voxel heat-transfer factor that restores the smooth surface's
area, and a Gaussian average over neighbouring surface voxels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from brim.thermo.pennes import _as_grid, _spacing3


@dataclass
class SkinTemperature:
    """Skin-surface temperatures on a voxel grid.

    Attributes
    ----------
    mean : numpy.ndarray
        Mean surface temperature over the exposed faces of each voxel, degC; NaN elsewhere.
    top : numpy.ndarray
        Surface temperature of the +z face (the one a frontal camera sees), degC; NaN where
        that face is not exposed.
    """

    mean: np.ndarray
    top: np.ndarray


def skin_temperature(
    temperature: np.ndarray,
    conductivity,
    domain: np.ndarray,
    *,
    spacing: float | Sequence[float],
    h,
    t_ambient: float,
    fixed=None,
) -> SkinTemperature:
    """Skin-surface temperature on every exposed face, averaged per voxel.

    For each tissue face next to air the surface node temperature is
    ``T_s = (2k/d T_c + h T_inf) / (2k/d + h)`` (flux continuity through the half cell).

    Parameters
    ----------
    temperature : numpy.ndarray
        Solved temperature (z, y, x), degC.
    conductivity : array_like or float
        k used in the solve, W/m/K.
    domain : numpy.ndarray of bool
        Tissue voxels.
    spacing : float or (dz, dy, dx)
        Voxel size, m.
    h : float or array_like
        Heat-transfer coefficient of the solve, W/m^2/K (scalar or per voxel).
    t_ambient : float
        Ambient temperature, degC.
    fixed : array_like, optional
        Dirichlet temperatures as in :func:`assemble` (those voxels are not air).

    Returns
    -------
    SkinTemperature
    """
    domain = np.asarray(domain, bool)
    shape = domain.shape
    dzyx = _spacing3(spacing)
    k = _as_grid(conductivity, shape, "conductivity")
    isfixed = np.zeros(shape, bool) if fixed is None else ~np.isnan(_as_grid(fixed, shape, "f"))
    air = ~domain & ~isfixed
    hv = _as_grid(h, shape, "h")
    acc = np.zeros(shape)
    cnt = np.zeros(shape)
    top = np.full(shape, np.nan)
    for axis in range(3):
        d = dzyx[axis]
        g = 2.0 * k / d
        ts = (g * temperature + hv * t_ambient) / (g + hv)
        for shift in (-1, 1):
            nb_air = np.zeros(shape, bool)  # array edges are adiabatic: not exposed
            src = [slice(None)] * 3
            dst = [slice(None)] * 3
            if shift == 1:
                src[axis], dst[axis] = slice(1, None), slice(0, -1)
            else:
                src[axis], dst[axis] = slice(0, -1), slice(1, None)
            nb_air[tuple(dst)] = air[tuple(src)]
            sel = domain & nb_air
            acc[sel] += ts[sel]
            cnt[sel] += 1
            if axis == 0 and shift == 1:
                top[sel] = ts[sel]
    with np.errstate(invalid="ignore", divide="ignore"):
        skin = np.where(cnt > 0, acc / np.maximum(cnt, 1), np.nan)
    return SkinTemperature(mean=skin, top=top)


def staircase_correction(domain: np.ndarray, *, sigma: float = 1.5) -> np.ndarray:
    """Per-voxel factor that makes a voxel staircase lose heat through the true surface area.

    On a staircase approximating a smooth surface of unit normal n, the exposed faces normal
    to axis i have total area ``|n_i| A``, so all faces together overstate the area A by
    ``|n_x| + |n_y| + |n_z|`` (up to sqrt(3); 1.5 on average over a sphere). Multiplying h by
    ``1 / (|n_x| + |n_y| + |n_z|)`` restores the heat loss of the smooth surface. The normal is
    the gradient of the Gaussian-smoothed occupancy (``sigma`` in voxels). Flat faces aligned
    with the grid get exactly 1.

    Parameters
    ----------
    domain : numpy.ndarray of bool
        Tissue voxels (array edges are treated as continuing the body, not as air).
    sigma : float
        Smoothing of the occupancy, voxels.

    Returns
    -------
    numpy.ndarray
        Factor in [1/sqrt(3), 1], 1 away from the surface.
    """
    occ = ndimage.gaussian_filter(np.asarray(domain, np.float64), sigma, mode="nearest")
    g = np.stack(np.gradient(occ))
    norm = np.sqrt((g**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        l1 = np.abs(g).sum(axis=0) / norm
    f = np.where(norm > 1e-9, 1.0 / np.clip(l1, 1.0, np.sqrt(3.0)), 1.0)
    return f


def smooth_on_surface(values: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised Gaussian average of a field defined on surface voxels (NaN elsewhere).

    ``sum_j G(i-j) v_j / sum_j G(i-j)`` over the finite voxels j, evaluated where ``values`` is
    finite; ``sigma`` in voxels.

    Parameters
    ----------
    values : numpy.ndarray
        Field on the surface voxels (e.g. ``SkinTemperature.mean``), NaN elsewhere.
    sigma : float
        Gaussian standard deviation, voxels.

    Returns
    -------
    numpy.ndarray
        The averaged field, NaN where ``values`` is not finite.
    """
    ok = np.isfinite(values)
    num = ndimage.gaussian_filter(np.where(ok, values, 0.0), sigma, mode="constant")
    den = ndimage.gaussian_filter(ok.astype(np.float64), sigma, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(ok, out, np.nan)
