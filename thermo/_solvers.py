"""Linear solvers for the assembled (symmetric positive definite) Pennes system.

A sparse direct factorisation (SuperLU, ``scipy.sparse.linalg.splu``) for small grids,
Jacobi-preconditioned conjugate gradients (compiled with Numba) for medium ones and CG
preconditioned by a geometric aggregation-multigrid V-cycle for large ones. The
perfusion term makes the matrix strictly diagonally dominant (its condition number is bounded by
about ``1 + 12 k / (omega_b rho_b c_b dx^2)``), so CG converges in a few hundred iterations at
any practical resolution. With ``backend="cupy"`` the CG runs on the GPU through
``cupyx.scipy.sparse.linalg.cg``. Internal: the public entry points are
:func:`brim.thermo.solve_steady` and :func:`brim.thermo.solve_transient`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from brim.errors import BackendError, ConfigError, SolverError

DIRECT_MAX = 4_000
"""Largest system (unknowns) that ``method="auto"`` factorises directly."""

MG_MIN = 40_000
"""Smallest system (unknowns) that ``method="auto"`` solves with multigrid-preconditioned CG."""


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


def cg_jacobi(A, b, x0, rtol, maxiter):
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


def pcg(A, b, x0, rtol, maxiter, precond):
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
    x, it = pcg(A.tocsr(), b, x0, rtol, maxiter, lambda r: _vcycle(hier, r))
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


def solve(A, b, x0, method, rtol, maxiter, backend, coords=None):
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
        elif n <= DIRECT_MAX:
            method = "direct"
        else:
            method = "mg" if (n > MG_MIN and coords is not None) else "cg"
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
        x, it = cg_jacobi(A, b, x0, rtol, maxiter)
        return x, "cg", it
    raise ConfigError(f"method must be 'auto', 'direct', 'cg' or 'mg'; got {method!r}")
