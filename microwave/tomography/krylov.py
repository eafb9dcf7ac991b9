"""Batched Krylov solvers for the discretised volume integral equation.

Many independent systems (all transmitters and frequencies) are solved at once, each with its
own scalars: batched BiCGSTAB (van der Vorst 1992, *SIAM J. Sci. Stat. Comput.* 13, 631) and
batched restarted GMRES(m) (Saad & Schultz 1986, *SIAM J. Sci. Stat. Comput.* 7, 856), on the
original (not normal-equation) system. Host inner products and vector updates are
single-threaded Numba loops; on CuPy arrays the same code runs on the GPU.
:func:`solve_total_field` solves ``(I - g chi) E = E_inc`` with a
:class:`~brim.microwave.tomography.vie.VIEOperator`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from brim.backend import is_cupy_array, to_numpy
from brim.errors import ConfigError, SolverError, check_positive
from brim.microwave.tomography.vie import VIEOperator, complex_dtype

__all__ = ["SOLVERS", "SolveInfo", "bicgstab_batched", "gmres_batched", "solve_total_field"]


@dataclass
class SolveInfo:
    """Convergence record of a batched solve: iterations, final relative residual per system.

    Attributes
    ----------
    iterations : int
        Iterations taken.
    residual : ndarray
        Final relative residual of each system.
    history : list of float
        Largest relative residual after each iteration.
    """

    iterations: int
    residual: np.ndarray
    history: list[float] = field(default_factory=list)


@numba.njit(cache=True, fastmath=True)
def _vdot_rows(a, b, out):  # pragma: no cover - compiled
    for i in range(a.shape[0]):
        sr = 0.0
        si = 0.0
        for j in range(a.shape[1]):
            x = a[i, j]
            y = b[i, j]
            sr += x.real * y.real + x.imag * y.imag
            si += x.real * y.imag - x.imag * y.real
        out[i] = complex(sr, si)


@numba.njit(cache=True, fastmath=True)
def _axpy_rows(alpha, x, y):  # pragma: no cover - compiled
    for i in range(x.shape[0]):
        a = alpha[i]
        if a != 0:
            for j in range(x.shape[1]):
                y[i, j] += a * x[i, j]


def _rows(a):
    return a.reshape(-1, a.shape[-2] * a.shape[-1])


def _numba_ok(*arrays) -> bool:
    return len({a.dtype for a in arrays}) == 1 and all(
        isinstance(a, np.ndarray)
        and a.dtype in (np.complex128, np.complex64)
        and a.flags.c_contiguous
        for a in arrays
    )


def _dot(xp, a, b):
    """Batched inner products ``sum(conj(a) * b)`` over the last two axes.

    On the host a single-threaded Numba loop (no ``conj(a)`` temporary, and none of the
    thread contention that multithreaded level-1 BLAS shows on a loaded machine).
    """
    if xp is np and _numba_ok(a, b):
        out = np.empty(int(np.prod(a.shape[:-2])), complex)
        _vdot_rows(_rows(a), _rows(b), out)
        return out.reshape(a.shape[:-2])
    return xp.sum(xp.conj(a) * b, axis=(-2, -1), dtype=xp.complex128)  # double, as on the host


def _axpy(xp, alpha, x, y):
    """``y += alpha * x`` in place, one complex scalar ``alpha`` per system (leading axes)."""
    if xp is np and _numba_ok(x, y):
        al = np.ascontiguousarray(np.broadcast_to(np.asarray(alpha, complex), y.shape[:-2]))
        _axpy_rows(al.ravel(), _rows(x), _rows(y))
        return y
    y += alpha[..., None, None] * x
    return y


def _scaled(a, s):
    """``a * s`` with one scalar per system (leading axes), keeping ``a``'s dtype."""
    return a * s.astype(a.dtype)[..., None, None]


def _norm(xp, a):
    return xp.sqrt(xp.real(_dot(xp, a, a)))


_TINY = 1e-300


def _safe_div(xp, num, den):
    """``num / den`` where ``|den| > 1e-300``, else 0 (a Krylov breakdown stops that system)."""
    ok = xp.abs(den) > _TINY
    return xp.where(ok, num / xp.where(ok, den, 1.0), 0.0)


def bicgstab_batched(
    matvec: Callable[[Any], Any], b: Any, *, x0: Any = None, tol: float = 1e-8, maxiter: int = 500
) -> tuple[Any, SolveInfo]:
    """BiCGSTAB on many independent systems at once (van der Vorst 1992).

    ``b`` has shape (..., ny, nx); every leading index is its own system with its own scalars,
    and ``matvec`` maps a full block to a full block (so one FFT batch serves all systems).
    Converged systems are frozen. ``maxiter`` counts BiCGSTAB iterations (two matvecs each).
    Returns ``(x, SolveInfo)``.

    Parameters
    ----------
    matvec : callable
        Applies the system matrix to a block shaped like ``b``; called twice per iteration.
    b : array (..., ny, nx), complex
        Right-hand sides (NumPy or CuPy).
    x0 : array, optional
        Initial guess (default 0).
    tol : float
        A system is frozen once its recursively updated relative residual ``||r|| / ||b||``
        is at or below ``tol``.
    maxiter : int
        BiCGSTAB iterations at most.

    Returns
    -------
    (array, SolveInfo)
        The solutions (shape of ``b``) and the convergence record: ``iterations`` counts
        BiCGSTAB iterations, ``history`` holds the largest residual after each.

    Examples
    --------
    Two independent diagonal 2 x 2 "images" solved in one batch:

    >>> import numpy as np
    >>> from brim.microwave import bicgstab_batched
    >>> d = np.array([[[1.0, 2.0], [4.0, 8.0]], [[3.0, 6.0], [12.0, 24.0]]])
    >>> b = np.ones((2, 2, 2), complex)
    >>> x, info = bicgstab_batched(lambda v: d * v, b, tol=1e-10)
    >>> bool(np.allclose(x, b / d)), info.residual.shape, bool(np.all(info.residual < 1e-10))
    (True, (2,), True)
    """
    xp = _namespace(b)
    x = xp.zeros_like(b) if x0 is None else x0.copy()
    r = b - matvec(x) if x0 is not None else b.copy()
    bnorm = _norm(xp, b)
    bnorm = xp.where(bnorm == 0, 1.0, bnorm)
    rhat = r.copy()
    rho = xp.ones(b.shape[:-2], complex)
    alpha = xp.ones_like(rho)
    omega = xp.ones_like(rho)
    v = xp.zeros_like(b)
    p = xp.zeros_like(b)
    hist = []
    res = _norm(xp, r) / bnorm
    it = 0

    while it < maxiter:
        active = res > tol
        if not bool(xp.any(active)):
            break
        it += 1
        rho_new = _dot(xp, rhat, r)
        beta = _safe_div(xp, rho_new, rho) * _safe_div(xp, alpha, omega)
        # p = r + beta (p - omega v), in place
        _axpy(xp, -omega, v, p)
        p *= beta[..., None, None]
        p += r
        v = matvec(p)
        alpha = xp.where(active, _safe_div(xp, rho_new, _dot(xp, rhat, v)), 0.0)
        s = _axpy(xp, -alpha, v, r.copy())
        t = matvec(s)
        omega = xp.where(active, _safe_div(xp, _dot(xp, t, s), _dot(xp, t, t)), 0.0)
        _axpy(xp, alpha, p, x)
        _axpy(xp, omega, s, x)
        r = _axpy(xp, -omega, t, s)
        rho = rho_new
        res = xp.where(active, _norm(xp, r) / bnorm, res)
        hist.append(float(xp.max(res)))
        if bool(xp.any(~xp.isfinite(res))):
            raise SolverError("BiCGSTAB broke down (non-finite residual); check the contrast")
    resn = to_numpy(res)
    return x, SolveInfo(iterations=it, residual=resn, history=hist)


def gmres_batched(
    matvec: Callable[[Any], Any],
    b: Any,
    *,
    x0: Any = None,
    tol: float = 1e-8,
    maxiter: int = 1000,
    restart: int = 20,
) -> tuple[Any, SolveInfo]:
    """Restarted GMRES(m) on many independent systems at once (Saad & Schultz 1986).

    Saad & Schultz (1986), *SIAM J. Sci. Stat. Comput.* 7, 856: Arnoldi with modified
    Gram–Schmidt, the small least-squares problem updated by complex Givens rotations, restart
    after ``restart`` inner steps. ``b`` has shape (..., ny, nx); every leading index is its own
    system with its own Krylov basis and rotations, while one ``matvec`` call (one FFT batch)
    serves all of them. Systems whose residual estimate is below ``tol`` take no further update.
    The residual is re-computed from ``b - A x`` at every restart, so the returned residual is the
    true relative residual ``||b - A x|| / ||b||`` per system.

    ``maxiter`` counts matrix–vector products (one per inner step). Memory: ``restart + 1``
    basis blocks the size of ``b``. Returns ``(x, SolveInfo)``.

    Parameters
    ----------
    matvec : callable
        Applies the system matrix to a block shaped like ``b``; called once per inner step.
    b : array (..., ny, nx), complex
        Right-hand sides (NumPy or CuPy).
    x0 : array, optional
        Initial guess (default 0).
    tol : float
        A system takes no further update once its Givens residual estimate is at or below
        ``tol``; the returned residual is the true one, recomputed at each restart.
    maxiter : int
        Matrix–vector products at most.
    restart : int
        Inner steps between restarts (basis vectors kept).

    Returns
    -------
    (array, SolveInfo)
        The solutions (shape of ``b``) and the convergence record: ``iterations`` counts
        matrix–vector products, ``history`` holds the largest residual estimate after each.

    Examples
    --------
    Two independent diagonal 2 x 2 "images" solved in one batch; four distinct eigenvalues need
    at most four Krylov steps:

    >>> import numpy as np
    >>> from brim.microwave import gmres_batched
    >>> d = np.array([[[1.0, 2.0], [4.0, 8.0]], [[3.0, 6.0], [12.0, 24.0]]])
    >>> b = np.ones((2, 2, 2), complex)
    >>> x, info = gmres_batched(lambda v: d * v, b, tol=1e-10)
    >>> bool(np.allclose(x, b / d)), info.iterations <= 4, bool(np.all(info.residual < 1e-10))
    (True, True, True)
    """
    if restart < 1:
        raise ConfigError(f"GMRES restart length must be >= 1, got {restart}")
    xp = _namespace(b)
    bshape = b.shape[:-2]
    x = xp.zeros_like(b) if x0 is None else x0.copy()
    bnorm = _norm(xp, b)
    bnorm = xp.where(bnorm == 0, 1.0, bnorm)
    r = b - matvec(x) if x0 is not None else b.copy()
    beta = _norm(xp, r)
    res = beta / bnorm
    hist: list[float] = []
    it = 0

    while it < maxiter:
        active = res > tol
        if not bool(xp.any(active)):
            break
        m = min(restart, maxiter - it)
        basis = [_scaled(r, _safe_div(xp, 1.0, beta))]
        h = xp.zeros(bshape + (m + 1, m), complex)
        cs = xp.zeros(bshape + (m,), complex)
        sn = xp.zeros(bshape + (m,), complex)
        g = xp.zeros(bshape + (m + 1,), complex)
        g[..., 0] = beta
        j_done = 0
        for j in range(m):
            w = matvec(basis[j])
            it += 1
            for i in range(j + 1):  # modified Gram-Schmidt
                hij = _dot(xp, basis[i], w)
                h[..., i, j] = hij
                _axpy(xp, -hij, basis[i], w)
            hn = _norm(xp, w)
            h[..., j + 1, j] = hn
            basis.append(_scaled(w, _safe_div(xp, 1.0, hn)))
            for i in range(j):  # previous rotations on the new column
                hi, hi1 = h[..., i, j], h[..., i + 1, j]
                h[..., i, j], h[..., i + 1, j] = (
                    cs[..., i] * hi + sn[..., i] * hi1,
                    -xp.conj(sn[..., i]) * hi + cs[..., i] * hi1,
                )
            a_, b_ = h[..., j, j], h[..., j + 1, j]
            t = xp.sqrt(xp.abs(a_) ** 2 + xp.abs(b_) ** 2)
            phase = xp.where(xp.abs(a_) > _TINY, _safe_div(xp, a_, xp.abs(a_)), 1.0)
            c = xp.where(t > _TINY, _safe_div(xp, xp.abs(a_), t), 1.0)
            sj = _safe_div(xp, phase * xp.conj(b_), t)
            cs[..., j], sn[..., j] = c, sj
            h[..., j, j] = c * a_ + sj * b_
            h[..., j + 1, j] = 0
            g[..., j + 1] = -xp.conj(sj) * g[..., j]
            g[..., j] = c * g[..., j]
            j_done = j + 1
            est = xp.abs(g[..., j + 1]) / bnorm
            hist.append(float(xp.max(xp.where(active, est, 0.0))))
            if not bool(xp.any(active & (est > tol))):
                break
        # back substitution H y = g per system (upper triangular j_done x j_done)
        y = xp.zeros(bshape + (j_done,), complex)
        for i in range(j_done - 1, -1, -1):
            acc = g[..., i] - xp.sum(h[..., i, i + 1 : j_done] * y[..., i + 1 : j_done], axis=-1)
            y[..., i] = _safe_div(xp, acc, h[..., i, i])
        y = xp.where(active[..., None], y, 0.0)
        for i in range(j_done):
            _axpy(xp, y[..., i], basis[i], x)
        del basis
        r = b - matvec(x)
        beta = _norm(xp, r)
        res = xp.where(active, beta / bnorm, res)
        if bool(xp.any(~xp.isfinite(res))):
            raise SolverError("GMRES broke down (non-finite residual); check the contrast")
    resn = to_numpy(res)
    return x, SolveInfo(iterations=it, residual=resn, history=hist)


SOLVERS = ("bicgstab", "gmres")


def _namespace(a):
    if is_cupy_array(a):
        import cupy

        return cupy
    return np


def solve_total_field(
    op: VIEOperator,
    chi: Any,
    e_inc: Any,
    *,
    tol: float = 1e-8,
    maxiter: int = 1000,
    x0: Any = None,
    check: bool = True,
    solver: str = "bicgstab",
    restart: int = 30,
) -> tuple[Any, SolveInfo]:
    """Total field inside the domain for every frequency and source: ``(I - g chi) E = E_inc``.

    Parameters
    ----------
    op : VIEOperator
    chi : array (n_freq, ny, nx), complex
        Contrast ``eps_r/eps_b - 1`` (1).
    e_inc : array (n_freq, n_src, ny, nx), complex
        Incident field on the grid (V/m).
    tol : float
        Relative residual per system.
    maxiter : int
        BiCGSTAB iterations (two operator applications each) or GMRES operator applications.
    check : bool
        Raise :class:`~brim.errors.SolverError` if a system did not reach ``tol``.
    solver : {"bicgstab", "gmres"}
        Batched BiCGSTAB (:func:`bicgstab_batched`) or restarted GMRES (:func:`gmres_batched`).
    restart : int
        GMRES restart length (basis vectors kept; memory ``restart + 1`` copies of ``e_inc``).

    Returns
    -------
    (E, SolveInfo)
        ``E`` has the operator's dtype (complex64 for ``precision="single"``).

    Examples
    --------
    A plane wave through a uniform contrast 0.5 on an 8 x 8 grid (8 cm), one frequency, one
    source; without contrast the total field is the incident one:

    >>> import numpy as np
    >>> from brim.microwave import solve_total_field
    >>> from brim.microwave.tomography import (TomographyGrid, VIEOperator,
    ...                                        background_wavenumber, plane_wave_field)
    >>> grid = TomographyGrid.centered(8, 0.08)
    >>> k = background_wavenumber(1e9, 1.0)
    >>> px, py = grid.points()
    >>> e_inc = plane_wave_field(px, py, [0.0], k).reshape(1, 1, 8, 8)
    >>> op = VIEOperator(grid, k)
    >>> e, info = solve_total_field(op, np.full((1, 8, 8), 0.5 + 0j), e_inc)
    >>> e.shape, e.dtype, bool(info.residual.max() < 1e-8)
    ((1, 1, 8, 8), dtype('complex128'), True)
    >>> e0, _ = solve_total_field(op, np.zeros((1, 8, 8), complex), e_inc)
    >>> bool(np.allclose(e0, e_inc))
    True
    """
    xp = op.xp
    tol = check_positive("tol", tol)
    maxiter = check_positive("maxiter", maxiter, integer=True)
    if op.dtype == np.complex64:
        complex_dtype("single", tol=tol)
    chi = xp.asarray(chi, dtype=op.dtype)
    e_inc = xp.asarray(e_inc, dtype=op.dtype)
    if x0 is not None:
        x0 = xp.asarray(x0, dtype=op.dtype)
    if solver == "bicgstab":
        e, info = bicgstab_batched(
            lambda v: op.apply_system(v, chi), e_inc, x0=x0, tol=tol, maxiter=maxiter
        )
    elif solver == "gmres":
        e, info = gmres_batched(
            lambda v: op.apply_system(v, chi),
            e_inc,
            x0=x0,
            tol=tol,
            maxiter=maxiter,
            restart=restart,
        )
    else:
        raise ConfigError(f"unknown forward solver {solver!r}; use one of {', '.join(SOLVERS)}")
    if check and np.any(info.residual > tol * 10):
        raise SolverError(
            f"forward solver did not converge: residual {info.residual.max():.2e} after "
            f"{info.iterations} {solver} iterations (tol {tol:g}); raise maxiter or check that "
            "the contrast is physical"
        )
    logging.getLogger(__name__).debug(
        "forward %s: %d iterations, largest relative residual %.2e (tol %g), %d systems",
        solver,
        int(np.max(info.iterations)),
        float(np.max(info.residual)),
        tol,
        int(np.size(info.residual)),
    )
    return e, info
