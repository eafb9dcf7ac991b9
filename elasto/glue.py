"""Global (regularised) time-delay estimation: a GLUE-style displacement estimator.

GLUE (Hashemi & Rivaz 2017) finds the sub-sample axial and lateral displacement of every sample
of an RF frame at once, by minimising over the whole image a data term -- the squared difference
between the pre-compression RF and the post-compression RF warped by the displacement, linearised
by a first-order Taylor expansion around an integer seed -- plus continuity (smoothness) terms
between neighbouring displacements. The cost is quadratic in the displacement, so its minimum is
the solution of one sparse symmetric positive-definite linear system, solved here by conjugate
gradients warm-started from the seed (or from the previous frame's result).

How this implementation is built (:func:`glue_displacement`):

* **Seed.** Integer axial and lateral shifts from brim's NCC block matching
  (:func:`brim.elasto.estimate_displacement`, on every other node of the grid below and
  interpolated), median filtered (5 x 3 nodes) against peak-hopping outliers; or the result
  of the previous frame (``initial=``), which skips the block matching altogether.
* **Grid.** The unknowns are the displacements at the window grid of
  :func:`~brim.elasto.estimate_displacement` (same ``row`` centres and step), constant over the
  ``step`` samples of a node; the data term sums the linearised residual of every one of those
  samples (the GLUE cost restricted to piecewise-constant displacement; ``step=1`` is GLUE's
  per-sample grid). Its output therefore has the same layout, and the same strain resolution
  under :func:`~brim.elasto.strain_image`, as the NCC estimate.
* **Data term.** Residual ``r = post(i + A, j + L) - pre(i, j)`` at the integer seed ``(A, L)``
  and the symmetric gradient (the mean of the pre and of the warped post gradient, which makes
  the linearisation exact to second order for a shift; Malis, IROS 2004), axially a sixth-order
  central difference (0.8 % gain error at 6 samples per period, against 17 % for the two-point
  difference), laterally the two-point difference.
* **Continuity.** Axial displacement: second differences along depth (a uniform strain costs
  nothing, so the axial strain is not biased towards zero as with GLUE's first-order axial
  term; SOUL, Ashikuzzaman & Rivaz 2022, adds such second-order terms) and first differences
  across lines; lateral displacement: first differences along depth and across lines.
* **Weights in physical units.** Each term is weighted relative to the mean data curvature
  (the mean over the image of the summed squared RF gradient of a node), so the weights do not
  depend on the RF amplitude scale: a term of order ``p`` on a grid step ``h`` has the weight
  ``mean curvature x (length / h) ** p`` with ``length`` the smoothing length in m
  (``axial_smoothing``, ``lateral_smoothing``). Where the speckle is weak the data curvature
  is small and the smoothing takes over.
* **Solver.** Matrix-free conjugate gradients (Numba) on the 2 x (depth nodes x lines)
  unknowns, preconditioned by a tridiagonal solve across lines for every node row (the lateral
  continuity is the stiffest term), started from the seed: about 25 iterations to a relative
  residual of 1e-3 on the pairs of the tests and benchmark.

References
----------
H. S. Hashemi and H. Rivaz, "Global time-delay estimation in ultrasound elastography", IEEE
Trans. Ultrason. Ferroelectr. Freq. Control 64(10):1625-1636, 2017.
H. Rivaz, E. Boctor, P. Foroughi, R. Zellars, G. Fichtinger, G. Hager, "Ultrasound elastography:
a dynamic programming approach", IEEE Trans. Med. Imaging 27(10):1373-1377, 2008.
M. Ashikuzzaman and H. Rivaz, "Second-order ultrasound elastography with L1-norm spatial
regularization", IEEE Trans. Ultrason. Ferroelectr. Freq. Control 69(3):1008-1019, 2022.
E. Malis, "Improving vision-based control using efficient second-order minimization
techniques", Proc. IEEE ICRA 2004, 1843-1848.
T. Varghese and J. Ophir, "An analysis of elastographic contrast-to-noise ratio", Ultrasound
Med. Biol. 24(6):915-924, 1998 (CNRe).
"""

from __future__ import annotations

import logging

import numba
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, FormatError, SolverError, check_positive

from .displacement import estimate_displacement, frame_pair, window_centers
from .fem import Inclusion
from .rfsim import simulate_pair
from .strain import _median_finite

__all__ = ["glue_displacement", "simulate_decorrelated_pair"]

# passes=None: linearise again (at most 3 times) while more than this fraction of the nodes
# ended more than 0.75 sample (or line) away from the integer warp of their linearisation
AUTO_PASS_FRACTION = 0.05
# the NCC seed is estimated every _SEED_STEP nodes and interpolated: with 2, CNRe as with 1 on
# the decorrelated pairs of the tests and benchmark (better at 2 % compression), 30 % faster
_SEED_STEP = 2

logger = logging.getLogger(__name__)


def _lateral_speckle_lines(a: np.ndarray, *, max_lag: int = 12) -> float:
    """Lag (lines, interpolated) at which the RF correlation between lines falls to 1/2."""
    x = np.asarray(a[::4], dtype=np.float64)
    x = x - x.mean(axis=0)
    nl = x.shape[1]
    prev = 1.0
    for lag in range(1, min(max_lag, nl - 1) + 1):
        num = float((x[:, :-lag] * x[:, lag:]).sum())
        den = float(np.sqrt((x[:, :-lag] ** 2).sum() * (x[:, lag:] ** 2).sum()))
        c = num / den if den > 0 else 0.0
        if c < 0.5:
            return lag - 1 + (prev - 0.5) / (prev - c)
        prev = c
    return float(min(max_lag, max(nl - 1, 1)))


def _default_window(a: np.ndarray) -> int:
    """About 10 periods of the RF, measured from its spectrum (as estimate_displacement)."""
    nd = a.shape[0]
    spec = np.abs(np.fft.rfft(a, axis=0)) ** 2
    f = np.fft.rfftfreq(nd)
    fmean = float((spec.sum(1) * f).sum() / max(spec.sum(), 1e-300))
    return max(int(round(10 / max(fmean, 1e-3))), 5)


_FM = {"reassoc", "contract", "arcp"}  # vectorise the sums; NaN/inf semantics kept


@numba.njit(cache=True, inline="always")
def _grad_z(x, j, r, nd):  # pragma: no cover - jit
    """d x / d sample at (line j, row r) of a line-major frame: 6th-order central difference."""
    if 3 <= r < nd - 3:
        return (
            0.75 * (x[j, r + 1] - x[j, r - 1])
            - 0.15 * (x[j, r + 2] - x[j, r - 2])
            + (x[j, r + 3] - x[j, r - 3]) / 60.0
        )
    lo = max(r - 1, 0)
    hi = min(r + 1, nd - 1)
    return (x[j, hi] - x[j, lo]) / max(hi - lo, 1)


@numba.njit(cache=True, inline="always")
def _grad_x(x, j, r, nl):  # pragma: no cover - jit
    """d x / d line: two-point central difference (one-sided at the edge lines)."""
    lo = max(j - 1, 0)
    hi = min(j + 1, nl - 1)
    return (x[hi, r] - x[lo, r]) / max(hi - lo, 1)


@numba.njit(cache=True, parallel=True, fastmath=_FM)
def _data_kernel(at, bt, r0, k, ai, li, out):  # pragma: no cover - jit
    """Node sums of the linearised data term (line-major frames ``at, bt`` of (line, sample)).

    ``ai, li`` (line, node): integer warp. ``out`` (8, line, node): haa, hal, hll, ra, rl, sab,
    saa, sbb, where r = post(i + A, j + L) - pre(i, j) and the gradient is the mean of the pre
    and of the warped post gradient.
    """
    nl, nd = at.shape
    nz = ai.shape[1]
    for j in numba.prange(nl):
        for p in range(nz):
            jj = min(max(j + li[j, p], 0), nl - 1)
            shift = ai[j, p]
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
            for s in range(k):
                r = r0 + p * k + s
                rr = min(max(r + shift, 0), nd - 1)
                pa = at[j, r]
                pw = bt[jj, rr]
                ga = 0.5 * (_grad_z(at, j, r, nd) + _grad_z(bt, jj, rr, nd))
                gl = 0.5 * (_grad_x(at, j, r, nl) + _grad_x(bt, jj, rr, nl))
                res = pw - pa
                s0 += ga * ga
                s1 += ga * gl
                s2 += gl * gl
                s3 += res * ga
                s4 += res * gl
                s5 += pa * pw
                s6 += pa * pa
                s7 += pw * pw
            out[0, j, p] = s0
            out[1, j, p] = s1
            out[2, j, p] = s2
            out[3, j, p] = s3
            out[4, j, p] = s4
            out[5, j, p] = s5
            out[6, j, p] = s6
            out[7, j, p] = s7


@numba.njit(cache=True, fastmath=_FM)
def _apply(h, w, xu, xv, qu, qv):  # pragma: no cover - jit
    """q = (H + R) x on the (line, node) grid; returns x . q.

    ``h`` (3, line, node): haa, hal, hll. ``w``: weights of (axial 2nd differences of u, lateral
    1st differences of u, axial 1st differences of v, lateral 1st differences of v).
    """
    nl, nz = xu.shape
    w2z, wux, w1z, wvx = w[0], w[1], w[2], w[3]
    total = 0.0
    for j in range(nl):
        acc = 0.0
        for p in range(nz):
            u = xu[j, p]
            v = xv[j, p]
            fu = h[0, j, p] * u + h[1, j, p] * v
            fv = h[1, j, p] * u + h[2, j, p] * v
            # axial second differences of u: D2^T D2 u
            d2 = 0.0
            if p >= 2:
                d2 += xu[j, p] - 2.0 * xu[j, p - 1] + xu[j, p - 2]
            if 1 <= p < nz - 1:
                d2 -= 2.0 * (xu[j, p + 1] - 2.0 * xu[j, p] + xu[j, p - 1])
            if p < nz - 2:
                d2 += xu[j, p + 2] - 2.0 * xu[j, p + 1] + xu[j, p]
            fu += w2z * d2
            # axial first differences of v: D1^T D1 v
            d1 = 0.0
            if p >= 1:
                d1 += xv[j, p] - xv[j, p - 1]
            if p < nz - 1:
                d1 += xv[j, p] - xv[j, p + 1]
            fv += w1z * d1
            # lateral first differences of u and v
            lu = 0.0
            lv = 0.0
            if j >= 1:
                lu += u - xu[j - 1, p]
                lv += v - xv[j - 1, p]
            if j < nl - 1:
                lu += u - xu[j + 1, p]
                lv += v - xv[j + 1, p]
            fu += wux * lu
            fv += wvx * lv
            qu[j, p] = fu
            qv[j, p] = fv
            acc += u * fu + v * fv
        total += acc
    return total


@numba.njit(cache=True)
def _line_factors(h, w):  # pragma: no cover - jit
    """Thomas-algorithm pivots of the across-line tridiagonal preconditioners of u and v.

    For each node row, ``u``: diagonal ``haa + w2z diag(D2z^T D2z)`` plus ``wux`` times the
    across-line Laplacian; ``v`` likewise with ``hll``, ``w1z`` and ``wvx`` (the u-v coupling
    ``hal`` is left out, which keeps the preconditioner symmetric positive definite).
    """
    _, nl, nz = h.shape
    fu = np.empty((nl, nz))
    fv = np.empty((nl, nz))
    for j in range(nl):
        cx = 2.0 if 0 < j < nl - 1 else (1.0 if nl > 1 else 0.0)
        for p in range(nz):
            if nz >= 3:
                c2 = 6.0 if 2 <= p < nz - 2 else (1.0 if p == 0 or p == nz - 1 else 5.0)
            else:
                c2 = 0.0
            c1 = 2.0 if 0 < p < nz - 1 else (1.0 if nz > 1 else 0.0)
            du = h[0, j, p] + w[0] * c2 + w[1] * cx + 1e-300
            dv = h[2, j, p] + w[2] * c1 + w[3] * cx + 1e-300
            if j > 0:
                du -= w[1] * w[1] / fu[j - 1, p]
                dv -= w[3] * w[3] / fv[j - 1, p]
            fu[j, p] = du
            fv[j, p] = dv
    return fu, fv


@numba.njit(cache=True, inline="always")
def _line_solve(r, f, e, z):  # pragma: no cover - jit
    """z = M^-1 r for the tridiagonal M with pivots f and off-diagonal -e (Thomas)."""
    nl, nz = r.shape
    for p in range(nz):
        z[0, p] = r[0, p] / f[0, p]
    for j in range(1, nl):
        for p in range(nz):
            z[j, p] = (r[j, p] + e * z[j - 1, p]) / f[j, p]
    for j in range(nl - 2, -1, -1):
        for p in range(nz):
            z[j, p] += e / f[j, p] * z[j + 1, p]


@numba.njit(cache=True, fastmath=_FM)
def _cg(h, w, bu, bv, xu, xv, maxiter, rtol):  # pragma: no cover - jit
    """Conjugate gradients for (H + R) x = b, in place on x, with an across-line tridiagonal
    preconditioner (:func:`_line_factors`; the lateral continuity is the stiffest term).

    Returns the number of iterations and the final relative residual.
    """
    fu, fv = _line_factors(h, w)
    qu = np.empty_like(xu)
    qv = np.empty_like(xv)
    ru = np.empty_like(xu)
    rv = np.empty_like(xv)
    zu = np.empty_like(xu)
    zv = np.empty_like(xv)
    _apply(h, w, xu, xv, qu, qv)
    bnorm = 0.0
    rr = 0.0
    nl, nz = xu.shape
    for j in range(nl):
        for p in range(nz):
            ru[j, p] = bu[j, p] - qu[j, p]
            rv[j, p] = bv[j, p] - qv[j, p]
            rr += ru[j, p] ** 2 + rv[j, p] ** 2
            bnorm += bu[j, p] ** 2 + bv[j, p] ** 2
    bnorm = np.sqrt(bnorm) if bnorm > 0.0 else 1.0
    res = np.sqrt(rr) / bnorm
    _line_solve(ru, fu, w[1], zu)
    _line_solve(rv, fv, w[3], zv)
    pu = zu.copy()
    pv = zv.copy()
    rz = np.sum(ru * zu) + np.sum(rv * zv)
    it = 0
    while it < maxiter and res > rtol:
        pq = _apply(h, w, pu, pv, qu, qv)
        if not pq > 0.0:
            break
        alpha = rz / pq
        rr = 0.0
        for j in range(nl):
            for p in range(nz):
                xu[j, p] += alpha * pu[j, p]
                xv[j, p] += alpha * pv[j, p]
                ru[j, p] -= alpha * qu[j, p]
                rv[j, p] -= alpha * qv[j, p]
                rr += ru[j, p] ** 2 + rv[j, p] ** 2
        _line_solve(ru, fu, w[1], zu)
        _line_solve(rv, fv, w[3], zv)
        rz_new = 0.0
        for j in range(nl):
            for p in range(nz):
                rz_new += ru[j, p] * zu[j, p] + rv[j, p] * zv[j, p]
        beta = rz_new / rz
        rz = rz_new
        for j in range(nl):
            for p in range(nz):
                pu[j, p] = zu[j, p] + beta * pu[j, p]
                pv[j, p] = zv[j, p] + beta * pv[j, p]
        res = np.sqrt(rr) / bnorm
        it += 1
    return it, res


def _fill_nan(x: np.ndarray) -> np.ndarray:
    """NaN replaced by the median of the finite values (0 if none)."""
    x = np.asarray(x, float)
    bad = ~np.isfinite(x)
    if bad.any():
        good = x[~bad]
        x = np.where(bad, float(np.median(good)) if good.size else 0.0, x)
    return x


def _moving_sum(x: np.ndarray, m: int) -> np.ndarray:
    """Sum over ``m`` neighbouring nodes along axis 0 (centred, truncated at the ends)."""
    if m <= 1:
        return x
    c = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    lo = np.clip(np.arange(x.shape[0]) - m // 2, 0, x.shape[0])
    hi = np.clip(lo + m, 0, x.shape[0])
    return c[hi] - c[lo]


@provenance.step
def glue_displacement(
    pre: xr.Dataset | ArrayLike,
    post: xr.Dataset | ArrayLike | None = None,
    *,
    initial: xr.Dataset | None = None,
    window: int | None = None,
    step: int | None = None,
    axial_smoothing: float | None = None,
    lateral_smoothing: float | None = None,
    max_strain: float = 0.05,
    lateral_search: int = 1,
    passes: int | None = None,
    cg_iterations: int = 60,
    tolerance: float = 1e-3,
    frames: tuple[int, int] = (0, 1),
    backend: str | None = None,
) -> xr.Dataset:
    """Regularised global displacement (GLUE-style) from a pre/post RF pair.

    See the module docstring (:mod:`brim.elasto.glue`) for the cost and its weights.

    Parameters
    ----------
    pre, post : xarray.Dataset or array
        ``rf_frames`` Datasets (``post=None``: two frames of ``pre`` chosen by ``frames``) or
        real 2-D arrays (depth, line), as for :func:`brim.elasto.estimate_displacement`.
    initial : xarray.Dataset, optional
        A displacement estimated on the same grid (the previous frame pair's result in a
        sequence): it seeds the estimate and starts the conjugate gradients, and the NCC block
        matching is skipped. Its integer part must be within about a quarter period of the
        truth (frame-to-frame changes of the displacement below about 1 sample).
    window : int, optional
        Axial window in samples of the seed's NCC and of the ``correlation`` output; default
        about 10 periods of the RF, measured from its spectrum (as ``estimate_displacement``),
        or that of ``initial`` when it is given.
    step : int, optional
        Axial grid step in samples (the displacement is constant over a step); default a
        quarter window, the grid of ``estimate_displacement`` (or that of ``initial``).
    axial_smoothing, lateral_smoothing : float, optional
        Smoothing lengths along depth and across lines, in m (in samples and lines for plain
        arrays): the continuity weight of an order-``p`` term is the mean data curvature times
        ``(length / grid step) ** p``. Defaults: 4 periods of the RF along depth (the period
        measured from the spectrum), and across lines the lateral speckle size (the distance
        at which the correlation of the RF of two lines falls to 1/2, measured on the pre
        frame: about the lateral resolution); with ``initial``, the lengths it was made with.
    max_strain : float
        Largest expected ``|strain|`` (search range of the NCC seed).
    lateral_search : int
        Lateral search range in lines of the NCC seed.
    passes : int, optional
        Linearisations (>= 1): each pass after the first rounds the previous solution to the
        new integer warp, so seed errors of more than half a sample are corrected. Default
        (None): another pass, up to 3 in all, while more than 5 % of the nodes ended more than
        0.75 sample or line from the warp they were linearised at (on decorrelated simulated
        pairs: one pass at 0.5 and 1 % compression, three at 2 %, where they raised the CNRe
        from 5.0 dB with one pass to 16.0 dB).
    cg_iterations : int
        Conjugate-gradient iterations per pass at most.
    tolerance : float
        Relative residual ``|b - A x| / |b|`` of the linear system at which the
        conjugate gradients stop; 1e-3 (default) and 1e-4 gave the same CNRe within 0.1 dB.
    frames : tuple of int
        Frames compared when ``post`` is None.
    backend : {None, "numpy", "cupy"}
        Backend of the NCC seed (as ``estimate_displacement``); the GLUE solve runs on the CPU
        (Numba).

    Returns
    -------
    xarray.Dataset
        As :func:`brim.elasto.estimate_displacement`: ``axial`` and ``lateral`` (m; samples and
        lines for plain arrays), ``axial_samples`` and ``lateral_lines``, ``correlation`` (the
        normalised correlation, over ``window`` samples, of the pre RF with the post RF warped
        by the integer displacement), ``sample_spacing`` and ``window_step`` on
        ``(depth, line)``; attrs ``method="glue"`` and the ``axial_smoothing`` and
        ``lateral_smoothing`` lengths used. :func:`brim.elasto.strain_image` takes it
        unchanged.

    Raises
    ------
    FormatError
        Frames of different shape, complex, or not finite (NaN or infinite RF).
    ConfigError
        Invalid options, or ``initial`` on another grid.
    SolverError
        The linear system could not be solved (non-finite solution).

    References
    ----------
    H. S. Hashemi and H. Rivaz, "Global time-delay estimation in ultrasound elastography", IEEE
    Trans. Ultrason. Ferroelectr. Freq. Control 64(10):1625-1636, 2017.

    M. Ashikuzzaman and H. Rivaz, "Second-order ultrasound elastography with L1-norm spatial
    regularization", IEEE Trans. Ultrason. Ferroelectr. Freq. Control 69(3):1008-1019, 2022.

    Examples
    --------
    The bundled pair was simulated at 1 % compression:

    >>> import numpy as np
    >>> import brim.data
    >>> from brim.elasto import strain_image
    >>> from brim.elasto.glue import glue_displacement
    >>> pair = brim.data.sample("elasto_phantom_pair")
    >>> disp = glue_displacement(pair)
    >>> disp.attrs["method"], disp.axial.attrs["units"]
    ('glue', 'm')
    >>> strain = strain_image(disp)
    >>> bool(abs(np.nanmedian(strain.strain) + 0.01) < 0.001)
    True
    """
    if not 0 < max_strain < 0.5:
        raise ConfigError("max_strain must be in (0, 0.5)")
    if passes is not None:
        check_positive("passes", passes, integer=True)
    check_positive("cg_iterations", cg_iterations, integer=True)
    check_positive("tolerance", tolerance)
    a64, b64, meta = frame_pair(pre, post, frames=frames)  # refuses NaN or infinite RF
    rms = float(np.sqrt(np.mean(np.square(a64))))
    if not rms > 0:
        raise FormatError("the pre-compression frame is all zeros")
    nd, nl = a64.shape
    if initial is not None:
        if not isinstance(initial, xr.Dataset) or not {
            "axial_samples",
            "lateral_lines",
            "row",
        } <= set(initial.variables):
            raise ConfigError("initial must be a displacement Dataset (axial_samples, ...)")
        rows = initial["row"].values
        if window is None:  # the grid of the previous estimate: first centre = half window
            window = 2 * int(rows[0]) + 1
        if step is None and rows.size > 1:
            step = int(rows[1] - rows[0])
    if window is None:
        window = _default_window(a64)
    elif check_positive("window", window, integer=True) < 5:
        raise ConfigError(f"window must be >= 5 samples, got {window}")
    hw = window // 2
    k = max(int(step or max(hw // 2, 1)), 1)
    if k > 2 * hw + 1:
        raise ConfigError(f"step ({k}) must not exceed the window ({2 * hw + 1} samples)")
    centers = window_centers(nd, hw, k)
    nz = centers.size
    r0 = int(centers[0]) - k // 2
    if r0 < 0 or r0 + nz * k > nd:  # pragma: no cover - guaranteed by k <= window
        raise ConfigError("the step does not fit the frame")

    if meta is not None:
        dz = float(meta["sound_speed"]) / (2 * float(meta["sampling_frequency"]))
        pitch = float(meta["pitch"])
    else:
        dz, pitch = 1.0, 1.0

    # seed: integer shifts on the node grid
    if initial is not None:
        if initial["axial_samples"].shape != (nz, nl) or not np.array_equal(
            initial["row"].values, centers
        ):
            raise ConfigError(
                f"initial is on a {initial['axial_samples'].shape} grid, this pair on "
                f"{(nz, nl)} (rows {int(centers[0])}..{int(centers[-1])} step {k}); use the "
                "same window and step"
            )
        u0 = _fill_nan(initial["axial_samples"].values)
        v0 = _fill_nan(initial["lateral_lines"].values)
    else:
        seed = estimate_displacement(
            pre,
            post,
            method="ncc",
            window=2 * hw + 1,
            step=k * _SEED_STEP,
            max_strain=max_strain,
            lateral_search=lateral_search,
            frames=frames,
            backend=backend,
        )
        u0 = _median_finite(_fill_nan(seed["axial_samples"].values), 5, 3)
        v0 = _median_finite(_fill_nan(seed["lateral_lines"].values), 5, 3)
        if _SEED_STEP > 1:
            srows = seed["row"].values.astype(float)
            u0 = np.stack([np.interp(centers, srows, c) for c in u0.T], axis=1)
            v0 = np.stack([np.interp(centers, srows, c) for c in v0.T], axis=1)

    # line-major float32 frames scaled to unit RMS (RF comes in any unit: Field II's are
    # ~1e-23, whose squared gradients underflow float32); node sums accumulate in float64
    at = (a64.T / rms).astype(np.float32, order="C")
    bt = (b64.T / rms).astype(np.float32, order="C")

    # continuity weights (grid units: nodes of k samples along depth, lines across)
    prev = initial.attrs if initial is not None else {}
    if axial_smoothing is None:
        axial_smoothing = prev.get("axial_smoothing", 4 * (2 * hw / 10.0) * dz)  # 4 periods
    if lateral_smoothing is None:
        lateral_smoothing = prev.get("lateral_smoothing", _lateral_speckle_lines(a64) * pitch)
    lz = float(axial_smoothing) / dz  # samples
    lx = float(lateral_smoothing) / pitch  # lines
    if not (lz >= 0 and lx >= 0):
        raise ConfigError("axial_smoothing and lateral_smoothing must be >= 0")

    u = np.ascontiguousarray(u0.T, dtype=np.float64)  # (line, node)
    v = np.ascontiguousarray(v0.T, dtype=np.float64)
    sums = np.empty((8, nl, nz))
    iterations, residual = 0, 0.0
    max_passes = 3 if passes is None else int(passes)
    done = 0
    moved = 1.0
    while done < max_passes and (passes is not None or moved > AUTO_PASS_FRACTION):
        ai = np.rint(u).astype(np.int64)
        li = np.rint(v).astype(np.int64)
        _data_kernel(at, bt, r0, k, ai, li, sums)
        haa, hal, hll, ra, rl = sums[0], sums[1], sums[2], sums[3], sums[4]
        ta = float(haa.mean())
        tl = float(hll.mean())
        if not (ta > 0 and tl > 0):
            raise FormatError("the RF has no axial or no lateral variation (constant lines?)")
        w = np.array([ta * (lz / k) ** 4, ta * lx**2, tl * (lz / k) ** 2, tl * lx**2])
        # minimise sum (r + ga (u - A) + gl (v - L))^2 + continuity: (H + R) x = H [A, L] - r
        bu = haa * ai + hal * li - ra
        bv = hal * ai + hll * li - rl
        it, residual = _cg(sums[:3], w, bu, bv, u, v, int(cg_iterations), float(tolerance))
        iterations += it
        done += 1
        if not (np.isfinite(u).all() and np.isfinite(v).all()):
            raise SolverError("GLUE: the conjugate gradients diverged (non-finite displacement)")
        # fraction of nodes whose solution left the half-sample range of their linearisation
        moved = float(np.mean((np.abs(u - ai) > 0.75) | (np.abs(v - li) > 0.75)))
    if residual > tolerance:
        logger.info("glue_displacement: CG stopped at relative residual %.2g", residual)
    u, v = u.T, v.T

    m = max(int(round((2 * hw + 1) / k)), 1)
    sab, saa, sbb = (_moving_sum(s.T, m) for s in sums[5:8])
    with np.errstate(invalid="ignore", divide="ignore"):
        cc = sab / np.sqrt(saa * sbb)

    units = "m" if meta is not None else "sample"
    if meta is not None:  # the coordinates of estimate_displacement
        depth = float(meta["depth"].values[0]) + centers * dz
        lines = meta["line"].values
    else:
        depth = centers.astype(float)
        lines = np.arange(nl, dtype=float)
    ds = xr.Dataset(
        {
            "axial": (
                ("depth", "line"),
                u * dz,
                {"units": units, "long_name": "axial displacement"},
            ),
            "lateral": (
                ("depth", "line"),
                v * pitch,
                {"units": "m" if meta is not None else "line", "long_name": "lateral displacement"},
            ),
            "axial_samples": (("depth", "line"), u, {"units": "sample"}),
            "lateral_lines": (("depth", "line"), v, {"units": "line"}),
            "correlation": (("depth", "line"), cc, {"units": "1"}),
            "sample_spacing": (
                (),
                dz if meta is not None else np.nan,
                {"units": "m", "long_name": "axial sample spacing"},
            ),
            "window_step": ((), int(k), {"units": "sample"}),
        },
        coords={
            "depth": ("depth", depth, {"units": units}),
            "line": ("line", lines, {"units": "m" if meta is not None else "line"}),
            "row": ("depth", centers),
        },
        attrs={
            "method": "glue",
            "axial_smoothing": float(axial_smoothing),
            "lateral_smoothing": float(lateral_smoothing),
        },
    )
    provenance.note(
        window=2 * hw + 1,
        step=k,
        axial_smoothing_samples=lz,
        lateral_smoothing_lines=lx,
        cg_iterations_used=iterations,
        passes_used=done,
        seed="initial" if initial is not None else "ncc",
    )
    logger.info(
        "glue_displacement: %d x %d RF, %d x %d nodes, %d CG iterations, median correlation %.3f",
        nd,
        nl,
        nz,
        nl,
        iterations,
        float(np.nanmedian(cc)) if cc.size else float("nan"),
    )
    return ds


@provenance.step
def simulate_decorrelated_pair(
    *,
    width: float = 20e-3,
    height: float = 30e-3,
    n_samples: int = 768,
    n_lines: int = 80,
    youngs_modulus: float = 20e3,
    inclusions: tuple[Inclusion, ...] | None = None,
    compression: float = 0.01,
    lateral_shift: float = 0.0,
    correlation: float = 1.0,
    jitter: float = 0.0,
    noise_db: float | None = 30.0,
    sampling_frequency: float = 20e6,
    center_frequency: float = 5e6,
    bandwidth: float = 0.6,
    beam_fwhm: float = 0.5e-3,
    sound_speed: float = 1540.0,
    fe_elements: tuple[int, int] = (40, 60),
    seed: int = 0,
) -> xr.Dataset:
    """Pre/post RF pair with the decorrelation of real free-hand scans, and the FE truth.

    :func:`brim.elasto.simulate_pair` (which this calls) with the electronic noise of a
    free-hand scan (30 dB instead of 40 dB) and the three sources of decorrelation that GLUE is
    tested against:
    a rigid lateral probe motion ``lateral_shift``; out-of-plane (elevational) motion, modelled
    by replacing part of every scatterer's reflectivity with an independent one,
    ``a_post = rho a + sqrt(1 - rho**2) a_new`` so that the RF correlation of the two frames is
    ``rho = correlation``; and random sub-resolution scatterer motion of RMS ``jitter`` (m) in
    both directions. Independent electronic noise (``noise_db`` below the RF RMS) is added to
    each frame.

    Parameters
    ----------
    width, height, n_samples, n_lines, youngs_modulus, inclusions, compression, lateral_shift, \
correlation, jitter, noise_db, sampling_frequency, center_frequency, bandwidth, beam_fwhm, \
sound_speed, fe_elements, seed
        As in :func:`simulate_pair` (m, Pa, Hz, m/s); ``noise_db`` defaults to a free-hand
        scan's 30 dB here instead of 40 dB.

    Returns
    -------
    xarray.Dataset
        ``rf_frames`` with 2 frames (0 pre, 1 post), ``true_strain`` on the FE element centres
        ``(zc, xc)`` and attrs ``applied_compression`` and ``inclusions``.

    Examples
    --------
    >>> from brim.elasto.glue import simulate_decorrelated_pair
    >>> pair = simulate_decorrelated_pair(n_samples=200, n_lines=16, width=4e-3, height=8e-3,
    ...                                   inclusions=(), correlation=0.95, fe_elements=(4, 8))
    >>> pair["rf"].shape
    (2, 200, 16)
    """
    return simulate_pair(
        width=width,
        height=height,
        n_samples=n_samples,
        n_lines=n_lines,
        youngs_modulus=youngs_modulus,
        inclusions=inclusions,
        compression=compression,
        lateral_shift=lateral_shift,
        correlation=correlation,
        jitter=jitter,
        noise_db=noise_db,
        sampling_frequency=sampling_frequency,
        center_frequency=center_frequency,
        bandwidth=bandwidth,
        beam_fwhm=beam_fwhm,
        sound_speed=sound_speed,
        fe_elements=fe_elements,
        seed=seed,
    )
