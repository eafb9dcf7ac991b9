"""Linear solvers for the assembled (symmetric positive definite) Pennes system.

A sparse direct factorisation (SuperLU, ``scipy.sparse.linalg.splu``) for small grids,
Jacobi-preconditioned conjugate gradients (compiled with Numba) for medium ones and CG
preconditioned by a V-cycle of smoothed-aggregation algebraic multigrid (``pyamg``) for large
ones. The
perfusion term makes the matrix strictly diagonally dominant (its condition number is bounded by
about ``1 + 12 k / (omega_b rho_b c_b dx^2)``), so CG converges in a few hundred iterations at
any practical resolution. With ``backend="cupy"`` the CG runs on the GPU through
``cupyx.scipy.sparse.linalg.cg``. Internal: the public entry points are
:func:`brim.thermo.solve_steady` and :func:`brim.thermo.solve_transient`.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from brim.errors import BackendError, ConfigError, SolverError

DIRECT_MAX = 4_000
"""Largest system (unknowns) that ``method="auto"`` factorises directly."""


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


AMG_OPTIONS: dict = {"smooth": None, "improve_candidates": None}
"""Keyword arguments of :func:`pyamg.smoothed_aggregation_solver` for ``method="mg"``.

Unsmoothed (piecewise-constant) aggregation with pyamg's symmetric strength of connection and
symmetric Gauss–Seidel V-cycle, and the constant vector as the near-null-space candidate without
improvement (it is the near-null space of this diffusion–reaction operator). On the 3 mm phantom
(59 061 unknowns, the size of every simulated thermogram) this took 0.29 s against 0.56 s for
pyamg's full defaults (Jacobi-smoothed prolongation and improved candidates, 8 instead of 16 CG
iterations; single-threaded BLAS, a loaded 2-core machine); both converge in an iteration count
nearly independent of the grid size (16–24 against 8–9 up to 262 144 unknowns).
"""


def amg_hierarchy(A):
    """Smoothed-aggregation algebraic multigrid hierarchy of an SPD matrix (pyamg).

    Parameters
    ----------
    A : scipy.sparse matrix
        Symmetric positive definite matrix, shape (n, n).

    Returns
    -------
    pyamg.multilevel.MultilevelSolver
        The hierarchy; ``.aspreconditioner(cycle="V")`` is one V-cycle as an SPD operator.

    References
    ----------
    Vaněk, P., Mandel, J., Brezina, M. (1996). Algebraic multigrid by smoothed aggregation for
    second and fourth order elliptic problems. Computing 56, 179–196.
    """
    import pyamg

    return pyamg.smoothed_aggregation_solver(sp.csr_matrix(A), **AMG_OPTIONS)


def cg_amg(A, b, x0, rtol, maxiter):
    """CG preconditioned by one V-cycle of smoothed-aggregation AMG (:func:`amg_hierarchy`)."""
    M = amg_hierarchy(A).aspreconditioner(cycle="V")
    x, it = pcg(sp.csr_matrix(A), b, x0, rtol, maxiter, M.matvec)
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


def solve(A, b, x0, method, rtol, maxiter, backend):
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
            # Jacobi-CG: faster than multigrid-CG on every system measured (12 000 to 10^6
            # unknowns, with and without perfusion, 20x conductivity contrast; RESULTS.md);
            # multigrid only where Jacobi-CG runs out of iterations
            try:
                x, it = cg_jacobi(A, b, x0, rtol, maxiter)
                return x, "cg", it
            except SolverError:
                method = "mg"
    if method == "mg":
        if backend == "cupy":
            raise ConfigError("method='mg' runs on the CPU only; use method='cg' with cupy")
        x, it = cg_amg(A, b, x0, rtol, maxiter)
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
