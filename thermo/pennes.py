"""The Pennes bioheat equation on a 3-D voxel grid: its finite-volume discretisation.

The equation (Pennes 1948) for tissue temperature :math:`T` (degC) is

.. math::

    \\rho c \\, \\partial_t T = \\nabla\\cdot(k\\nabla T) + \\omega_b \\rho_b c_b (T_a - T) + Q_m

with thermal conductivity :math:`k` (W/m/K), volumetric blood perfusion rate :math:`\\omega_b`
(1/s, m^3 of blood per m^3 of tissue per second), blood density :math:`\\rho_b` (kg/m^3) and
specific heat :math:`c_b` (J/kg/K), arterial temperature :math:`T_a` (degC) and metabolic heat
:math:`Q_m` (W/m^3).

Discretisation: cell-centred finite volumes on a uniform (possibly anisotropic) voxel grid, one
unknown per tissue voxel. Between two tissue voxels the face conductance uses the harmonic mean of
their conductivities (exact for a layered medium). Three kinds of voxel:

* **tissue** (``domain`` True): unknown temperature;
* **fixed** (``fixed`` not NaN): Dirichlet voxels, e.g. the chest wall at core temperature; the
  fixed value holds at the voxel centre;
* **air** (neither): a tissue face next to air is a skin surface with the Robin condition
  :math:`-k\\,\\partial_n T = h (T_s - T_\\infty)`, the surface node sitting on the voxel face
  (series resistance :math:`d/2k + 1/h`).

Faces on the outer boundary of the array are adiabatic (symmetry / truncation of the body).
The scheme is conservative and second-order accurate; the tests reproduce the analytic 1-D
solution to better than 1e-4 K.

The assembled system is solved by :mod:`brim.thermo.steady` (steady state) and
:mod:`brim.thermo.transient` (time stepping); skin-surface quantities are in
:mod:`brim.thermo.skin`.

References
----------
Pennes, H. H. (1948). Analysis of tissue and arterial blood temperatures in the resting human
forearm. J. Appl. Physiol. 1(2), 93–122.
Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere (finite volumes,
harmonic-mean interface conductance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.constants
import scipy.sparse as sp

from brim.deprecation import positional_options
from brim.errors import ConfigError

STEFAN_BOLTZMANN = scipy.constants.Stefan_Boltzmann
"""Stefan–Boltzmann constant, W/m^2/K^4 (exact in the 2019 SI, through :mod:`scipy.constants`)."""

RHO_BLOOD = 1060.0
"""Blood density, kg/m^3 (typical value, e.g. Hasgall et al., IT'IS tissue database)."""

C_BLOOD = 3600.0
"""Blood specific heat, J/kg/K (value used by the breast bioheat literature, e.g. Ng & Sudharsan
2001; IT'IS gives 3617)."""

T_ARTERIAL = 37.0
"""Arterial blood temperature, degC."""


@dataclass
class BioheatProblem:
    """An assembled Pennes problem ``A T = b + r T_amb`` (per unit volume, W/m^3).

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Symmetric positive definite system matrix, W/m^3/K.
    rhs : numpy.ndarray
        Source vector without the ambient part (metabolic + perfusion + Dirichlet), W/m^3.
    robin : numpy.ndarray
        Robin conductance per unit volume of each unknown, W/m^3/K; multiply by the ambient
        temperature for its contribution to the right-hand side.
    capacity : numpy.ndarray
        Volumetric heat capacity rho*c of each unknown, J/m^3/K.
    index : numpy.ndarray
        int64 array of the grid shape: unknown number of each tissue voxel, -1 elsewhere.
    shape : tuple of int
        Grid shape (z, y, x).
    spacing : tuple of float
        Voxel size (dz, dy, dx), m.
    """

    matrix: sp.csr_matrix
    rhs: np.ndarray
    robin: np.ndarray
    capacity: np.ndarray
    index: np.ndarray
    shape: tuple[int, ...]
    spacing: tuple[float, float, float]
    fixed: np.ndarray | None = field(repr=False, default=None)


def _as_grid(value, shape, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(shape, float(arr))
    if arr.shape != tuple(shape):
        raise ConfigError(f"{name} has shape {arr.shape}; expected a scalar or shape {shape}")
    return arr


def _spacing3(spacing: float | Sequence[float]) -> tuple[float, float, float]:
    """Voxel size as (dz, dy, dx), m, from a scalar or three values; ConfigError otherwise."""
    if isinstance(spacing, (int, float, np.number)):
        values = [float(spacing)] * 3
    else:
        values = [float(s) for s in spacing]
    if len(values) != 3 or min(values) <= 0:
        raise ConfigError(f"spacing must be a positive float or 3 positive floats; got {spacing}")
    return values[0], values[1], values[2]


@positional_options
def radiative_h(t_skin: float, t_ambient: float, *, emissivity: float = 0.98) -> float:
    """Linearised radiative heat-transfer coefficient, W/m^2/K.

    ``h_r = eps sigma (T_s^2 + T_inf^2)(T_s + T_inf)`` with temperatures in kelvin, so that
    ``h_r (T_s - T_inf)`` equals the exact net grey-body exchange ``eps sigma (T_s^4 - T_inf^4)``
    at the reference skin temperature ``t_skin``.

    Parameters
    ----------
    t_skin, t_ambient : float
        Reference skin and surrounding-wall temperatures, degC.
    emissivity : float
        Skin emissivity (0.98, Steketee 1973, Phys. Med. Biol. 18, 686).

    Returns
    -------
    float
        h_r, W/m^2/K (about 6 W/m^2/K for skin at 32 degC in a 21 degC room).

    Examples
    --------
    >>> round(radiative_h(32.0, 21.0), 2)
    5.98
    """
    ts = t_skin + 273.15
    ta = t_ambient + 273.15
    return float(emissivity * STEFAN_BOLTZMANN * (ts**2 + ta**2) * (ts + ta))


def assemble(
    conductivity,
    perfusion,
    metabolic_heat,
    domain: np.ndarray,
    *,
    spacing: float | Sequence[float],
    fixed=None,
    h=10.0,
    heat_capacity=3.6e6,
    t_arterial: float = T_ARTERIAL,
    rho_blood: float = RHO_BLOOD,
    c_blood: float = C_BLOOD,
) -> BioheatProblem:
    """Assemble the finite-volume Pennes system on a voxel grid.

    Parameters
    ----------
    conductivity : array_like or float
        Thermal conductivity k, W/m/K, on the grid (also used in Dirichlet voxels).
    perfusion : array_like or float
        Volumetric blood perfusion rate omega_b, 1/s.
    metabolic_heat : array_like or float
        Metabolic heat Q_m, W/m^3.
    domain : numpy.ndarray of bool, shape (nz, ny, nx)
        Tissue voxels (unknowns).
    spacing : float or (dz, dy, dx)
        Voxel size, m.
    fixed : array_like, optional
        Dirichlet temperatures, degC; NaN where not fixed. Must not overlap ``domain``.
    h : float or array_like
        Heat-transfer coefficient skin -> ambient, W/m^2/K (convection, plus
        :func:`radiative_h` when radiation is linearised into it); an array gives the value
        used on the exposed faces of each tissue voxel (e.g.
        :func:`brim.thermo.skin.staircase_correction`).
    heat_capacity : array_like or float
        Volumetric heat capacity rho*c of tissue, J/m^3/K (transient only).
    t_arterial : float
        Arterial temperature, degC.
    rho_blood, c_blood : float
        Blood density (kg/m^3) and specific heat (J/kg/K).

    Returns
    -------
    BioheatProblem
    """
    domain = np.asarray(domain, dtype=bool)
    if domain.ndim != 3:
        raise ConfigError(f"domain must be a 3-D boolean array (z, y, x); got {domain.ndim}-D")
    shape = domain.shape
    dzyx = _spacing3(spacing)
    hv = _as_grid(h, shape, "h")
    if not np.all(hv >= 0):
        raise ConfigError("heat-transfer coefficient h must be >= 0 W/m^2/K everywhere")
    k = _as_grid(conductivity, shape, "conductivity")
    w = _as_grid(perfusion, shape, "perfusion") * (rho_blood * c_blood)
    q = _as_grid(metabolic_heat, shape, "metabolic_heat")
    cap = _as_grid(heat_capacity, shape, "heat_capacity")
    fix = np.full(shape, np.nan) if fixed is None else _as_grid(fixed, shape, "fixed")
    isfixed = ~np.isnan(fix)
    if np.any(isfixed & domain):
        raise ConfigError("fixed (Dirichlet) voxels overlap the tissue domain; make them disjoint")
    if np.any(k[domain | isfixed] <= 0) or not np.all(np.isfinite(k[domain | isfixed])):
        raise ConfigError("conductivity must be finite and > 0 in tissue and fixed voxels")
    if np.any(w[domain] < 0) or np.any(cap[domain] <= 0):
        raise ConfigError("perfusion must be >= 0 and heat capacity > 0 in tissue")
    n = int(domain.sum())
    if n == 0:
        raise ConfigError("the tissue domain is empty")

    index = np.full(shape, -1, dtype=np.int64)
    index[domain] = np.arange(n)
    diag = w[domain].copy()
    rhs = q[domain] + w[domain] * t_arterial
    robin = np.zeros(n)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    air = ~domain & ~isfixed

    for axis in range(3):
        d = dzyx[axis]
        lo = tuple(slice(0, -1) if a == axis else slice(None) for a in range(3))
        hi = tuple(slice(1, None) if a == axis else slice(None) for a in range(3))
        k1, k2 = k[lo], k[hi]
        with np.errstate(divide="ignore", invalid="ignore"):
            g_int = 2.0 * k1 * k2 / (k1 + k2) / d**2
        d1, d2 = domain[lo], domain[hi]
        # tissue-tissue faces
        both = d1 & d2
        i1, i2 = index[lo][both], index[hi][both]
        g = g_int[both]
        np.add.at(diag, i1, g)
        np.add.at(diag, i2, g)
        rows += [i1, i2]
        cols += [i2, i1]
        vals += [-g, -g]
        # tissue-fixed faces (Dirichlet value at the fixed voxel centre)
        for dom, other, ii in ((d1, isfixed[hi], 0), (d2, isfixed[lo], 1)):
            sel = dom & other
            if not sel.any():
                continue
            idx = (index[lo] if ii == 0 else index[hi])[sel]
            tf = (fix[hi] if ii == 0 else fix[lo])[sel]
            g = g_int[sel]
            np.add.at(diag, idx, g)
            np.add.at(rhs, idx, g * tf)
        # tissue-air faces: Robin, surface node on the face
        for dom, other, kt, ht in ((d1, air[hi], k1, hv[lo]), (d2, air[lo], k2, hv[hi])):
            sel = dom & other & (ht > 0)
            if not sel.any():
                continue
            idx = (index[lo] if kt is k1 else index[hi])[sel]
            g = 1.0 / (d / (2.0 * kt[sel]) + 1.0 / ht[sel]) / d
            np.add.at(diag, idx, g)
            np.add.at(robin, idx, g)
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(diag)
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return BioheatProblem(
        matrix=A,
        rhs=rhs,
        robin=robin,
        capacity=cap[domain].copy(),
        index=index,
        shape=shape,
        spacing=dzyx,
        fixed=fix,
    )


def _scatter(problem: BioheatProblem, values: np.ndarray) -> np.ndarray:
    out = np.array(problem.fixed, dtype=np.float64, copy=True)
    dom = problem.index >= 0
    out[dom] = values
    return out
