"""The Pennes bioheat equation on a 3-D voxel grid: steady state and transient.

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

Solvers: a sparse direct factorisation (SuperLU, ``scipy.sparse.linalg.splu``) for small grids,
Jacobi-preconditioned conjugate gradients (``scipy.sparse.linalg.cg``) for medium ones and CG
preconditioned by a geometric aggregation-multigrid V-cycle for large ones. The
perfusion term makes the matrix strictly diagonally dominant (its condition number is bounded by
about ``1 + 12 k / (omega_b rho_b c_b dx^2)``), so CG converges in a few hundred iterations at
any practical resolution. With ``backend="cupy"`` the CG runs on the GPU through
``cupyx.scipy.sparse.linalg.cg``.

Transient problems use the theta scheme: Crank–Nicolson (``theta=0.5``, second order) or
backward Euler (``theta=1``, L-stable), with one factorisation reused for every step.

References
----------
Rannacher, R. (1984). Finite element solution of diffusion problems with irregular data.
Numer. Math. 43, 309–327 (backward-Euler start of Crank–Nicolson).
Pennes, H. H. (1948). Analysis of tissue and arterial blood temperatures in the resting human
forearm. J. Appl. Physiol. 1(2), 93–122.
Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere (finite volumes,
harmonic-mean interface conductance).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
import scipy.constants
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from brim.errors import BackendError, ConfigError, SolverError

STEFAN_BOLTZMANN = scipy.constants.Stefan_Boltzmann
"""Stefan–Boltzmann constant, W/m^2/K^4 (exact in the 2019 SI, through :mod:`scipy.constants`)."""

RHO_BLOOD = 1060.0
"""Blood density, kg/m^3 (typical value, e.g. Hasgall et al., IT'IS tissue database)."""

C_BLOOD = 3600.0
"""Blood specific heat, J/kg/K (value used by the breast bioheat literature, e.g. Ng & Sudharsan
2001; IT'IS gives 3617)."""

T_ARTERIAL = 37.0
"""Arterial blood temperature, degC."""

_DIRECT_MAX = 4_000
_MG_MIN = 40_000


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
    fixed: np.ndarray = field(repr=False, default=None)


@dataclass
class BioheatSolution:
    """Result of a steady-state solve.

    Attributes
    ----------
    temperature : numpy.ndarray
        Temperature on the grid, degC: solved in tissue, the fixed value in Dirichlet voxels,
        NaN in air.
    method : str
        ``"direct"`` or ``"cg"`` (and the backend for CG, e.g. ``"cg-cupy"``).
    iterations : int
        CG iterations (0 for the direct solver).
    residual : float
        Relative residual ``|b - A T| / |b|`` of the returned solution.
    """

    temperature: np.ndarray
    method: str
    iterations: int
    residual: float


@dataclass
class TransientSolution:
    """Result of a transient solve.

    Attributes
    ----------
    time : numpy.ndarray
        Output times, s.
    temperature : numpy.ndarray
        Temperature at the output times, shape ``(len(time), *grid)``, degC (NaN in air).
    scheme : str
        ``"crank-nicolson"``, ``"backward-euler"`` or ``"theta=<value>"``.
    dt : float
        Time step, s.
    """

    time: np.ndarray
    temperature: np.ndarray
    scheme: str
    dt: float


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


def _as_grid(value, shape, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(shape, float(arr))
    if arr.shape != tuple(shape):
        raise ConfigError(f"{name} has shape {arr.shape}; expected a scalar or shape {shape}")
    return arr


def radiative_h(t_skin: float, t_ambient: float, emissivity: float = 0.98) -> float:
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
        used on the exposed faces of each tissue voxel (e.g. :func:`staircase_correction`).
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
    if np.isscalar(spacing):
        spacing = (float(spacing),) * 3
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ConfigError(f"spacing must be a positive float or 3 positive floats; got {spacing}")
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
        d = spacing[axis]
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
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
        spacing=spacing,
        fixed=fix,
    )


def _scatter(problem: BioheatProblem, values: np.ndarray) -> np.ndarray:
    out = np.array(problem.fixed, dtype=np.float64, copy=True)
    dom = problem.index >= 0
    out[dom] = values
    return out


@numba.njit(cache=True)
def _pcg_jacobi_kernel(indptr, indices, data, b, x, dinv, rtol, maxiter):  # pragma: no cover
    """Jacobi-preconditioned CG on a CSR matrix, fully compiled and single-threaded.

    Stops when ``|r| <= rtol |b|``; returns the iteration count (-1 without convergence).
    """
    n = b.size
    r = np.empty(n)
    for i in range(n):
        acc = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            acc += data[j] * x[indices[j]]
        r[i] = b[i] - acc
    bnorm2 = 0.0
    for i in range(n):
        bnorm2 += b[i] * b[i]
    tol2 = rtol * rtol * bnorm2
    z = dinv * r
    p = z.copy()
    q = np.empty(n)
    rz = 0.0
    rr = 0.0
    for i in range(n):
        rz += r[i] * z[i]
        rr += r[i] * r[i]
    if rr <= tol2:
        return 0
    for it in range(1, maxiter + 1):
        pq = 0.0
        for i in range(n):
            acc = 0.0
            for j in range(indptr[i], indptr[i + 1]):
                acc += data[j] * p[indices[j]]
            q[i] = acc
            pq += p[i] * acc
        alpha = rz / pq
        rr = 0.0
        rz_new = 0.0
        for i in range(n):
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
            z[i] = dinv[i] * r[i]
            rr += r[i] * r[i]
            rz_new += r[i] * z[i]
        if rr <= tol2:
            return it
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            p[i] = z[i] + beta * p[i]
    return -1


def _cg_numpy(A, b, x0, rtol, maxiter):
    """Jacobi-preconditioned CG (compiled with Numba: no BLAS threads, no per-iteration Python)."""
    A = A.tocsr()
    x = np.array(x0, dtype=np.float64, copy=True)
    it = _pcg_jacobi_kernel(
        A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data.astype(np.float64),
        np.ascontiguousarray(b, dtype=np.float64), x, 1.0 / A.diagonal(), float(rtol),
        int(maxiter),
    )  # fmt: skip
    if it < 0:
        raise SolverError(
            f"conjugate gradients did not converge in {maxiter} iterations (rtol={rtol}); "
            f"use method='direct' or a coarser grid"
        )
    return x, it


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # np.add.reduce instead of BLAS ddot: multithreaded BLAS on small vectors is slow on a
    # loaded machine and its thread pool fights other workers.
    return float(np.add.reduce(a * b))


def _pcg(A, b, x0, rtol, maxiter, precond):
    """Preconditioned CG with a callable SPD preconditioner; returns (x, iterations or -1)."""
    x = np.array(x0, dtype=np.float64, copy=True)
    r = b - A @ x
    tol2 = rtol * rtol * _dot(b, b)
    if _dot(r, r) <= tol2:
        return x, 0
    z = precond(r)
    p = z.copy()
    rz = _dot(r, z)
    for it in range(1, maxiter + 1):
        q = A @ p
        alpha = rz / _dot(p, q)
        x += alpha * p
        r -= alpha * q
        if _dot(r, r) <= tol2:
            return x, it
        z = precond(r)
        rz_new = _dot(r, z)
        p *= rz_new / rz
        p += z
        rz = rz_new
    return x, -1


@dataclass
class _Hierarchy:
    levels: list  # (A, 1/diag(A), P) per level, finest first
    coarse: object  # SuperLU of the coarsest matrix


def aggregation_hierarchy(A, coords: np.ndarray, *, min_size: int = 3000) -> _Hierarchy:
    """Geometric aggregation multigrid hierarchy on a voxel grid.

    Each level merges 2x2x2 blocks of voxels (only those present in the domain) into one
    unknown: piecewise-constant prolongation P, Galerkin coarse matrix ``P^T A P`` (which stays
    symmetric positive definite), down to ``min_size`` unknowns, factorised directly.

    Parameters
    ----------
    A : scipy.sparse matrix
        Fine SPD matrix.
    coords : numpy.ndarray, shape (n, 3)
        Integer voxel indices of the unknowns, in unknown order.
    """
    levels = []
    A = A.tocsr()
    coords = np.asarray(coords, np.int64)
    while A.shape[0] > min_size:
        c = coords // 2
        dims = c.max(axis=0) + 1
        key = (c[:, 0] * dims[1] + c[:, 1]) * dims[2] + c[:, 2]
        uniq, agg = np.unique(key, return_inverse=True)
        nf, nc = A.shape[0], uniq.size
        if nc > 0.5 * nf:  # aggregation no longer coarsens (thin domains): stop here
            break
        P = sp.csr_matrix((np.ones(nf), (np.arange(nf), agg)), shape=(nf, nc))
        levels.append((A, 1.0 / A.diagonal(), P))
        A = (P.T @ A @ P).tocsr()
        cc = np.zeros((nc, 3), np.int64)
        cc[agg] = c
        coords = cc
    return _Hierarchy(levels, spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A"))


def _vcycle(h: _Hierarchy, b: np.ndarray, level: int = 0, nu: int = 2, w: float = 2.0 / 3.0):
    """One symmetric V-cycle (damped Jacobi, nu pre- and post-sweeps): an SPD preconditioner."""
    if level == len(h.levels):
        return h.coarse.solve(b)
    A, dinv, P = h.levels[level]
    x = w * dinv * b
    for _ in range(nu - 1):
        x += w * dinv * (b - A @ x)
    x += P @ _vcycle(h, P.T @ (b - A @ x), level + 1, nu, w)
    for _ in range(nu):
        x += w * dinv * (b - A @ x)
    return x


def _cg_mg(A, b, x0, rtol, maxiter, coords):
    hier = aggregation_hierarchy(A, coords)
    x, it = _pcg(A.tocsr(), b, x0, rtol, maxiter, lambda r: _vcycle(hier, r))
    if it < 0:
        raise SolverError(
            f"multigrid-preconditioned CG did not converge in {maxiter} iterations; "
            f"use method='cg' or method='direct'"
        )
    return x, it


def _cg_cupy(A, b, x0, rtol, maxiter):
    from brim.backend import cupy_available

    if not cupy_available():
        raise BackendError("backend='cupy' needs CuPy and a CUDA GPU; none is usable here")
    import cupy as cp
    import cupyx.scipy.sparse as csp
    import cupyx.scipy.sparse.linalg as cspla

    # symmetric Jacobi scaling: solve (D^-1/2 A D^-1/2) y = D^-1/2 b, x = D^-1/2 y
    s = 1.0 / np.sqrt(A.diagonal())
    As = sp.diags(s) @ A @ sp.diags(s)
    Ag = csp.csr_matrix(As.tocsr())
    bg = cp.asarray(b * s)
    y0 = cp.asarray(x0 / s)
    info = {"n": 0}

    def cb(_):
        info["n"] += 1

    # cupy's cg stops on |r| <= max(tol*|b|, atol); newer releases may call tol "rtol"
    import inspect

    key = "rtol" if "rtol" in inspect.signature(cspla.cg).parameters else "tol"
    y, status = cspla.cg(Ag, bg, x0=y0, maxiter=maxiter, callback=cb, **{key: rtol})
    if int(status) != 0:
        raise SolverError(f"CuPy conjugate gradients did not converge in {maxiter} iterations")
    return cp.asnumpy(y) * s, info["n"]


def _solve(A, b, x0, method, rtol, maxiter, backend, coords=None):
    n = A.shape[0]
    if backend is not None:
        from brim.backend import resolve_backend

        # aliases ("cpu", "gpu", "cuda") as elsewhere; BackendError for CuPy without a GPU
        backend = resolve_backend(backend)
    if backend not in (None, "numpy", "cupy"):
        raise ConfigError(f"backend must be None, 'numpy' or 'cupy'; got {backend!r}")
    if method == "auto":
        if backend == "cupy":
            method = "cg"
        elif n <= _DIRECT_MAX:
            method = "direct"
        else:
            method = "mg" if (n > _MG_MIN and coords is not None) else "cg"
    if method == "mg":
        if backend == "cupy":
            raise ConfigError("method='mg' runs on the CPU only; use method='cg' with cupy")
        if coords is None:
            raise ConfigError("method='mg' needs the voxel coordinates of the unknowns")
        x, it = _cg_mg(A, b, x0, rtol, maxiter, coords)
        return x, "mg", it
    if method == "direct":
        if backend == "cupy":
            raise ConfigError("method='direct' runs on the CPU only; use method='cg' with cupy")
        lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A")
        return lu.solve(b), "direct", 0
    if method == "cg":
        if backend == "cupy":
            x, it = _cg_cupy(A, b, x0, rtol, maxiter)
            return x, "cg-cupy", it
        x, it = _cg_numpy(A, b, x0, rtol, maxiter)
        return x, "cg", it
    raise ConfigError(f"method must be 'auto', 'direct', 'cg' or 'mg'; got {method!r}")


def solve_steady(
    problem: BioheatProblem,
    t_ambient: float,
    *,
    method: str = "auto",
    rtol: float = 1e-10,
    maxiter: int = 5000,
    backend: str | None = None,
) -> BioheatSolution:
    """Solve the steady Pennes equation of an assembled problem.

    Parameters
    ----------
    problem : BioheatProblem
        From :func:`assemble`.
    t_ambient : float
        Ambient (air) temperature for the Robin condition, degC.
    method : {"auto", "direct", "cg", "mg"}
        ``"direct"``: SuperLU factorisation; ``"cg"``: Jacobi-preconditioned conjugate
        gradients; ``"mg"``: CG preconditioned by one V-cycle of geometric aggregation
        multigrid (:func:`aggregation_hierarchy`), ~20 iterations at any size; ``"auto"``:
        direct up to 4 000 unknowns (SuperLU fill-in makes 3-D direct solves slow: 4.7 s
        against 0.08 s for CG at 28 000 unknowns), Jacobi-CG up to 40 000, multigrid above.
    rtol : float
        CG relative residual tolerance.
    maxiter : int
        CG iteration limit (:class:`SolverError` beyond it).
    backend : {None, "numpy", "cupy"}
        ``"cupy"`` runs CG on the GPU.

    Returns
    -------
    BioheatSolution
    """
    b = problem.rhs + problem.robin * float(t_ambient)
    x0 = np.full(b.shape, T_ARTERIAL)
    coords = np.argwhere(problem.index >= 0)  # C order = unknown order
    x, used, it = _solve(problem.matrix, b, x0, method, rtol, maxiter, backend, coords)
    if not np.all(np.isfinite(x)):
        raise SolverError("the bioheat solve produced non-finite temperatures")
    res = float(np.linalg.norm(b - problem.matrix @ x) / np.linalg.norm(b))
    return BioheatSolution(
        temperature=_scatter(problem, x), method=used, iterations=it, residual=res
    )


def solve_pennes(
    conductivity,
    perfusion,
    metabolic_heat,
    domain: np.ndarray,
    *,
    spacing: float | Sequence[float],
    fixed=None,
    h=10.0,
    t_ambient: float = 21.0,
    t_arterial: float = T_ARTERIAL,
    rho_blood: float = RHO_BLOOD,
    c_blood: float = C_BLOOD,
    method: str = "auto",
    rtol: float = 1e-10,
    backend: str | None = None,
) -> BioheatSolution:
    """Steady-state Pennes temperature on a voxel grid (assemble + solve).

    Parameters are those of :func:`assemble` and :func:`solve_steady`; units: W/m/K, 1/s,
    W/m^3, m, degC, W/m^2/K.

    Returns
    -------
    BioheatSolution
        ``temperature`` in degC on the grid (NaN in air).

    Examples
    --------
    A 20 mm column of tissue held at 37 degC (the arterial temperature) at one end: metabolic
    heat warms the far end, but not beyond the perfusion balance ``Ta + q / (w rho_b c_b)``:

    >>> import numpy as np
    >>> dom = np.ones((20, 1, 1), bool); dom[0] = False
    >>> fixed = np.full(dom.shape, np.nan); fixed[0] = 37.0
    >>> sol = solve_pennes(0.48, 5e-4, 450.0, dom, spacing=1e-3, fixed=fixed)
    >>> limit = 37.0 + 450.0 / (5e-4 * RHO_BLOOD * C_BLOOD)
    >>> bool(37.0 < sol.temperature[-1, 0, 0] < limit)
    True
    """
    prob = assemble(
        conductivity,
        perfusion,
        metabolic_heat,
        domain,
        spacing=spacing,
        fixed=fixed,
        h=h,
        t_arterial=t_arterial,
        rho_blood=rho_blood,
        c_blood=c_blood,
    )
    return solve_steady(prob, t_ambient, method=method, rtol=rtol, backend=backend)


def solve_transient(
    problem: BioheatProblem,
    t_initial,
    t_ambient: float | Callable[[float], float],
    *,
    dt: float,
    t_end: float,
    output_times: Sequence[float] | None = None,
    theta: float = 0.5,
    startup_steps: int = 2,
    method: str = "auto",
    rtol: float = 1e-10,
) -> TransientSolution:
    """Integrate the transient Pennes equation with the theta scheme.

    ``(C/dt + theta A) T^{n+1} = (C/dt - (1-theta) A) T^n + theta b^{n+1} + (1-theta) b^n``
    with ``b^n = rhs + robin * T_amb(t_n)``; ``theta=0.5`` is Crank–Nicolson (second order),
    ``theta=1`` backward Euler (first order, no oscillation for rough initial data).

    Parameters
    ----------
    problem : BioheatProblem
        From :func:`assemble` (its ``heat_capacity`` is used).
    t_initial : array_like
        Initial temperature on the grid (degC; values outside tissue ignored) or a scalar.
    t_ambient : float or callable
        Ambient temperature, degC, constant or a function of time (s), e.g. a cold-stress
        protocol.
    dt : float
        Time step, s.
    t_end : float
        Final time, s (rounded to a whole number of steps).
    output_times : sequence of float, optional
        Times (s) at which to store the field (nearest step); default: start and end.
    theta : float
        Implicitness, 0.5 <= theta <= 1.
    startup_steps : int
        Number of initial backward-Euler steps before Crank–Nicolson (Rannacher time
        stepping): they damp the stiff modes that a jump of the boundary data at t = 0 (a
        cold-stress step) would otherwise leave oscillating, keeping second-order accuracy.
    method : {"auto", "direct", "cg"}
        Linear solver for each step (one factorisation reused when direct).
    rtol : float
        CG tolerance.

    Returns
    -------
    TransientSolution
    """
    if not 0.5 <= theta <= 1.0:
        raise ConfigError(f"theta must be in [0.5, 1] (unconditionally stable); got {theta}")
    if not dt > 0 or not t_end >= 0:
        raise ConfigError(f"need dt > 0 and t_end >= 0 (s); got dt={dt}, t_end={t_end}")
    amb = t_ambient if callable(t_ambient) else (lambda _t, v=float(t_ambient): v)
    nsteps = int(round(t_end / dt))
    dom = problem.index >= 0
    t0 = np.asarray(t_initial, dtype=np.float64)
    x = np.full(dom.sum(), float(t0)) if t0.ndim == 0 else t0[dom].astype(np.float64)
    if output_times is None:
        output_times = [0.0, nsteps * dt]
    out_steps = sorted({int(round(t / dt)) for t in output_times})
    if out_steps and (out_steps[0] < 0 or out_steps[-1] > nsteps):
        raise ConfigError("output_times must lie within [0, t_end]")
    A = problem.matrix
    C = sp.diags(problem.capacity / dt)
    lhs = (C + theta * A).tocsc()
    rhs_op = (C - (1.0 - theta) * A).tocsr()
    n = A.shape[0]
    use_direct = method == "direct" or (method == "auto" and n <= _DIRECT_MAX)
    lu = spla.splu(lhs, permc_spec="MMD_AT_PLUS_A") if use_direct else None
    lhs_csr = None if use_direct else lhs.tocsr()
    n_start = int(startup_steps) if theta < 1.0 else 0
    if n_start:
        lhs_be = (C + A).tocsc() if use_direct else (C + A).tocsr()
        lu_be = spla.splu(lhs_be, permc_spec="MMD_AT_PLUS_A") if use_direct else None
    times, fields = [], []
    if 0 in out_steps:
        times.append(0.0)
        fields.append(_scatter(problem, x))
    b_old = problem.rhs + problem.robin * amb(0.0)
    for step in range(1, nsteps + 1):
        t = step * dt
        b_new = problem.rhs + problem.robin * amb(t)
        if step <= n_start:  # backward-Euler start (Rannacher 1984) damps stiff modes
            r = C @ x + b_new
            x = lu_be.solve(r) if lu_be is not None else _cg_numpy(lhs_be, r, x, rtol, 5000)[0]
        else:
            r = rhs_op @ x + theta * b_new + (1.0 - theta) * b_old
            if lu is not None:
                x = lu.solve(r)
            else:
                x, _ = _cg_numpy(lhs_csr, r, x, rtol, 5000)
        b_old = b_new
        if step in out_steps:
            times.append(t)
            fields.append(_scatter(problem, x))
    scheme = {0.5: "crank-nicolson", 1.0: "backward-euler"}.get(theta, f"theta={theta}")
    return TransientSolution(
        time=np.asarray(times), temperature=np.stack(fields), scheme=scheme, dt=float(dt)
    )


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
    if np.isscalar(spacing):
        spacing = (float(spacing),) * 3
    k = _as_grid(conductivity, shape, "conductivity")
    isfixed = np.zeros(shape, bool) if fixed is None else ~np.isnan(_as_grid(fixed, shape, "f"))
    air = ~domain & ~isfixed
    hv = _as_grid(h, shape, "h")
    acc = np.zeros(shape)
    cnt = np.zeros(shape)
    top = np.full(shape, np.nan)
    for axis in range(3):
        d = spacing[axis]
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
    from scipy import ndimage

    occ = ndimage.gaussian_filter(np.asarray(domain, np.float64), sigma, mode="nearest")
    g = np.stack(np.gradient(occ))
    norm = np.sqrt((g**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        l1 = np.abs(g).sum(axis=0) / norm
    f = np.where(norm > 1e-9, 1.0 / np.clip(l1, 1.0, np.sqrt(3.0)), 1.0)
    return f
