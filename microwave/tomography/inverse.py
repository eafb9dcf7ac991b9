"""Quantitative microwave tomography: Born, BIM, DBIM, CSI and MR-CSI inversions.

All methods reconstruct the complex relative permittivity ``eps_r = eps' - j eps''``
(``exp(+j omega t)``) on a square-cell grid from a ``field_set`` (scattered field = total -
incident per frequency, transmitter, receiver; unmeasured pairs excluded by the mask).

Methods
-------
``born``   first-order Born approximation, one regularised linear solve (Slaney et al. 1984).
``bim``    Born iterative method: the total field is updated with the forward solver and the
           contrast re-solved with the homogeneous Green's function (Wang & Chew 1989,
           *Int. J. Imaging Syst. Technol.* 1, 100).
``dbim``   distorted-Born iterative method: Gauss–Newton on the data misfit with the exact
           Jacobian (distorted Green's function from adjoint fields in the current medium)
           (Chew & Wang 1990, *IEEE Trans. Med. Imaging* 9, 218).
``csi``    contrast-source inversion (van den Berg & Kleinman 1997, *Inverse Problems* 13, 1607).
``mr-csi`` multiplicatively regularised CSI with a weighted-L2 total-variation factor
           (van den Berg, van Broekhoven & Abubakar 1999, *Inverse Problems* 15, 1325;
           Abubakar, van den Berg & Mallorqui 2002, *IEEE Trans. MTT* 50, 1761).

Regularisation weight: for the linear(ised) steps (Born, BIM, DBIM), Tikhonov regularisation
with the weight chosen per step by Morozov's discrepancy principle when the noise level is known
(``noise_level``), otherwise by generalised cross-validation (Golub, Heath & Wahba 1979). Both are
evaluated on the singular values of the small data-space Jacobian (an M x N matrix with M the
number of measured pairs), so a choice costs one SVD — milliseconds to a second, not minutes.
Total-variation regularisation (``regularization="tv"``) uses lagged-diffusivity reweighting
(Vogel & Oman 1996) with a weight scaled from the Tikhonov choice (equal penalty trace).

Multi-frequency data are inverted by frequency hopping (Chew & Lin 1995, *IEEE MGWL* 5, 439):
frequencies in increasing order, each started from the previous frequency's map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np
import xarray as xr

from brim import provenance
from brim.backend import to_numpy
from brim.deprecation import renamed_names
from brim.errors import CalibrationError, ConfigError, SchemaError, SolverError, check_positive
from brim.microwave.tomography.forward import (
    background_wavenumber,
    line_source_field,
    plane_wave_field,
)
from brim.microwave.tomography.grid import TomographyGrid, _expect_grid
from brim.microwave.tomography.krylov import solve_total_field
from brim.microwave.tomography.te import (
    TEVIEOperator,
    check_polarisation,
    te_line_source_field,
    te_plane_wave_field,
    te_receiver_matrix,
)
from brim.microwave.tomography.vie import VIEOperator, receiver_matrix
from brim.schema import expect_dataset

__all__ = [
    "InversionResult",
    "METHODS",
    "JACOBIAN_MODES",
    "DEFAULT_ITERATIONS",
    "CALIBRATION_MODES",
    "calibrate_gain",
    "choose_weight",
    "incident_spread_db",
    "invert",
    "reconstruct_file",
    "tikhonov_svd",
]

METHODS = ("born", "bim", "dbim", "csi", "mr-csi")
DEFAULT_ITERATIONS = {"born": 1, "bim": 10, "dbim": 10, "csi": 500, "mr-csi": 500}
"""Iteration cap per frequency when ``invert(iterations=None)``: CSI and MR-CSI converge slowly
(100 per frequency were needed on measured TM data, about 500 on TE data, whose model is more
nonlinear) and stop earlier on a plateau or at the noise level."""
_PLATEAU_WINDOW = 10  # CSI / MR-CSI: iterations over which the misfit must still fall ...
_PLATEAU_TOL = 1e-3  # ... by this relative amount, else the iteration stops (plateau)
_MAX_BACKTRACK = 3  # DBIM: half-length retries of a rejected step before stopping


@dataclass
class InversionResult:
    """Outcome of an inversion.

    Attributes
    ----------
    permittivity : ndarray (ny, nx), complex
        Reconstructed relative permittivity at the last frequency (1).
    per_frequency : ndarray (n_freq, ny, nx), complex
        Map after each frequency of the hop.
    grid : TomographyGrid
    freq : ndarray
        Frequencies (Hz) in processing order.
    method : str
    history : list of dict
        One entry per iteration: ``freq``, ``iteration``, ``misfit`` (relative data misfit
        ``||d - F(eps)|| / ||d||`` on the measured pairs), ``update_norm`` (relative norm of the
        contrast change), ``weight`` (regularisation weight, if any).
    parameters : dict
        The settings of :func:`invert` (recorded in the provenance of :meth:`to_dataset`).
    stopping : list of dict
        Per frequency: ``freq``, ``iterations`` (accepted iterations used) and ``reason``
        (``"iterations"``, ``"discrepancy"``, ``"plateau"``, ``"update below 1e-4"`` or
        ``"step rejected"``).
    provenance : list of dict
        The provenance chain of the input field set plus the :func:`invert` record (filled by
        :func:`brim.provenance.step`); :meth:`to_dataset` writes it into the map.
    """

    permittivity: np.ndarray
    per_frequency: np.ndarray
    grid: TomographyGrid
    freq: np.ndarray
    method: str
    history: list[dict] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    stopping: list[dict] = field(default_factory=list)
    provenance: list[dict] = field(default_factory=list)

    def to_dataset(self) -> xr.Dataset:
        """The map as a brim ``reconstruction`` Dataset (coords x, y in m).

        Returns
        -------
        xarray.Dataset
            Kind ``reconstruction``: ``permittivity`` (complex, 1) on (y, x), ``freq`` in Hz, the
            history as JSON, provenance ``brim.microwave.invert``.
        """
        from brim.schema import stamp

        ds = xr.Dataset(
            {
                "permittivity": (
                    ("y", "x"),
                    self.permittivity,
                    {"units": "1", "long_name": "complex relative permittivity eps' - j eps''"},
                )
            },
            coords={
                "x": ("x", self.grid.x, {"units": "m"}),
                "y": ("y", self.grid.y, {"units": "m"}),
            },
            attrs={
                "method": self.method,
                "history": json.dumps(self.history),
                "iterations_used": json.dumps(self.stopping),
            },
        )
        ds["freq"] = xr.DataArray(float(self.freq[-1]), attrs={"units": "Hz"})
        if self.provenance:  # set by the @provenance.step of invert: the input's chain + invert
            ds = provenance.restore(ds, self.provenance)
        else:  # a result built by hand
            params = {"method": self.method, **self.parameters}
            ds = provenance.record(ds, provenance.step_name(invert), params=params)
        return stamp(ds, "reconstruction")


# ----------------------------------------------------------------------------------------------
# regularised linear solves
# ----------------------------------------------------------------------------------------------
def tikhonov_svd(u, s, vh, b, lam):
    """Tikhonov solution ``argmin ||A x - b||^2 + lam ||x||^2`` from the SVD ``A = U S V^H``.

    Parameters
    ----------
    u : ndarray (m, r)
        Left singular vectors.
    s : ndarray (r,)
        Singular values.
    vh : ndarray (r, n)
        Right singular vectors (conjugate-transposed).
    b : ndarray (m,)
        Data.
    lam : float
        Tikhonov weight (>= 0).

    Returns
    -------
    ndarray (n,)
        The regularised solution.
    """
    beta = u.conj().T @ b
    return vh.conj().T @ (s / (s**2 + lam) * beta)


def choose_weight(s, beta, bnorm2: float, m: int, *, noise: float | None = None, tau=1.0):
    """Tikhonov weight from singular values ``s`` and data coefficients ``beta = U^H b``.

    With ``noise`` (a target residual norm: the expected noise norm for Morozov's discrepancy
    principle, or ``q ||r||`` for a regularising Levenberg–Marquardt step, Hanke 1997,
    *Inverse Problems* 13, 79) the largest ``lam`` with ``||A x_lam - b|| <= tau * noise``,
    or, when no weight reaches that residual (a model error above the noise: e.g. Born on
    strongly scattering TE data), the GCV weight instead of the smallest weight of the sweep;
    without ``noise`` the GCV minimiser over a logarithmic sweep. ``bnorm2`` is ``||b||^2``,
    ``m`` the number of data.

    Parameters
    ----------
    s : ndarray (r,)
        Singular values of ``A``.
    beta : ndarray (r,)
        ``U^H b``.
    bnorm2 : float
        ``||b||^2``.
    m : int
        Number of data.
    noise : float, optional
        Target residual norm (discrepancy principle); default: GCV.
    tau : float
        Safety factor of the discrepancy principle.

    Returns
    -------
    float
        The weight ``lam``.
    """
    s2 = s**2
    perp = max(bnorm2 - float(np.sum(np.abs(beta) ** 2)), 0.0)
    lams = s2.max() * np.logspace(-9, 1, 121)
    f = s2[None, :] / (s2[None, :] + lams[:, None])
    res2 = np.sum(((1 - f) * np.abs(beta)[None]) ** 2, axis=1) + perp
    if noise is not None:
        ok = np.nonzero(res2 <= (tau * noise) ** 2)[0]
        if ok.size:
            return float(lams[ok[-1]])
        # no weight reaches the target (model error above the noise): GCV, not no weight
    trace = m - f.sum(axis=1)
    gcv = res2 / np.maximum(trace, 1e-12) ** 2
    return float(lams[np.argmin(gcv)])


def _grad_ops(ny, nx):
    import scipy.sparse as sps

    def d1(n):
        return sps.diags([-np.ones(n - 1), np.ones(n - 1)], [0, 1], shape=(n - 1, n))

    dx = sps.kron(sps.eye(ny), d1(nx))
    dy = sps.kron(d1(ny), sps.eye(nx))
    return sps.vstack([dx, dy]).tocsr()


_DENSE_SVD_LIMIT = 1500  # above min(M, N): a randomised truncated SVD of the Jacobian
_SVD_RANK = 300  # its rank


def _data_space_svd(a):
    """Left singular vectors and values of ``a`` (M x N), largest first.

    Up to ``_DENSE_SVD_LIMIT`` measured pairs (or cells), exactly, from the smaller of the two
    Gram matrices ``a a^H`` (M x M) and ``a^H a`` (N x N). Beyond, a randomised truncated SVD of
    rank ``_SVD_RANK`` (Halko, Martinsson & Tropp 2011, *SIAM Review* 53, 217; two power
    iterations, a fixed seed): the discarded tail lies far below any regularisation weight the
    discrepancy principle or GCV picks, and the cost falls from O(M^3) to O(M N k), so a DBIM
    step at 4,338 pairs and 2,500 cells no longer takes minutes.
    """
    m, n = a.shape
    if min(m, n) > _DENSE_SVD_LIMIT:
        return _randomised_svd(a, _SVD_RANK)
    if m <= n:
        gram = a @ a.conj().T
        w, u = np.linalg.eigh(gram)
        w = np.clip(w[::-1], 0.0, None)
        u = u[:, ::-1]
        return u, np.sqrt(w)
    w, v = np.linalg.eigh(a.conj().T @ a)
    w = np.clip(w[::-1], 0.0, None)
    v = v[:, ::-1]
    s = np.sqrt(w)
    keep = s > s[0] * 1e-12 if s.size and s[0] > 0 else np.zeros(s.size, bool)
    return (a @ v[:, keep]) / s[keep], s[keep]


def _randomised_svd(a, rank, *, oversample=10, power=2):
    """Rank-``rank`` left singular vectors and values of ``a`` (Halko et al. 2011, alg. 4.4).

    Orthonormalisation by CholeskyQR2 (Fukaya et al. 2014) and the small SVD from a k x k
    eigenproblem: matrix products only, where LAPACK QR and SVD of tall matrices are slow.
    """
    m, n = a.shape
    k = min(rank + oversample, m, n)
    rng = np.random.default_rng(0)
    q = _orthonormal(a @ rng.standard_normal((n, k)).astype(a.dtype))
    for _ in range(power):
        q = _orthonormal(a @ _orthonormal(a.conj().T @ q))
    b = q.conj().T @ a  # (k, n)
    w, ub = np.linalg.eigh(b @ b.conj().T)
    order = np.argsort(w)[::-1]
    s = np.sqrt(np.clip(w[order], 0.0, None))
    r = min(rank, s.size)
    return q @ ub[:, order[:r]], s[:r]


def _orthonormal(y):
    """An orthonormal basis of the columns of ``y`` (m x k, m >= k) by CholeskyQR2."""
    from scipy.linalg import cholesky, solve_triangular

    for _ in range(2):
        g = y.conj().T @ y
        shift = 1e-13 * max(float(np.trace(g).real), 1e-300)
        r = cholesky(g + shift * np.eye(g.shape[0]), lower=False)  # g = r^H r
        y = solve_triangular(r, y.T, trans="T", lower=False).T  # y r^-1
    return y


def _regularised_solve(
    a, b, *, noise, regularization, x_ref, grid, tv_beta=1e-3, weight=None, gcv_floor=False
):
    """Solve ``min ||a x - b||^2 + lam R(x_ref + x)`` for the update x; returns (x, lam).

    The weight is ``weight`` when given, else chosen from the singular values of ``a``,
    computed from the small data-space Gram matrix ``a a^H`` (M x M, M = number of measured
    pairs). With ``gcv_floor`` the chosen weight is at least the GCV weight.
    """
    u, s = _data_space_svd(a)
    beta = u.conj().T @ b
    if weight is None:
        bnorm2 = float(np.vdot(b, b).real)
        lam = choose_weight(s, beta, bnorm2, b.size, noise=noise)
        if gcv_floor:
            lam = max(lam, choose_weight(s, beta, bnorm2, b.size))
    else:
        lam = float(weight)
    x = a.conj().T @ (u @ (beta / (s**2 + lam)))
    if regularization == "tikhonov":
        return x, lam
    if regularization != "tv":
        raise ConfigError(f"unknown regularization {regularization!r}; use 'tikhonov' or 'tv'")
    lmat = _grad_ops(grid.ny, grid.nx)
    ata = a.conj().T @ a
    atb = a.conj().T @ b
    scale = np.abs(x_ref).max() + np.abs(x).max() + 1e-12
    for _ in range(3):  # lagged diffusivity
        grad = lmat @ (x_ref + x)
        wts = 1.0 / np.sqrt(np.abs(grad) ** 2 + (tv_beta * scale) ** 2)
        reg = (lmat.T @ (lmat.multiply(wts[:, None]))).toarray()
        lam_tv = lam * reg.shape[0] / max(np.trace(reg).real, 1e-30)
        x = np.linalg.solve(ata + lam_tv * reg, atb - lam_tv * (reg @ x_ref))
    return x, lam


class _JacobianOperator:
    """The Jacobian ``J[(t, r), n] = E[t, n] B[r, n]`` of the measured pairs, never formed.

    ``E`` holds the fields of the transmitters in the cells (n_tx, N) and ``B`` the fields of
    the receivers (n_rx, N): the receiver operator for Born/BIM, the adjoint fields of the
    current medium for DBIM (the distorted Green's function). ``J x`` and ``J^H y`` are two
    small matrix products, ``(n_tx x N) @ (N x n_rx)``, instead of an M x N matrix (M measured
    pairs) in memory and its factorisation.
    """

    def __init__(self, e, b, rows, shape, ncomp=1):
        self.ncomp = ncomp  # TE: E_x and E_y per cell (fields of 2N values), summed per cell
        self.e = np.ascontiguousarray(e)
        self.b_t = np.ascontiguousarray(b.T)  # (N, n_rx)
        self.b_conj = np.ascontiguousarray(np.conj(b))  # (n_rx, N)
        self.e_conj = np.conj(self.e)
        self.rows = rows
        self.pairs = shape  # (n_tx, n_rx)
        self.shape = (rows.size, e.shape[1] // ncomp)
        self.dtype = np.result_type(e.dtype, b.dtype)

    def matvec(self, x):
        return ((self.e * np.tile(x, self.ncomp)[None, :]) @ self.b_t).ravel()[self.rows]

    def rmatvec(self, y):
        full = np.zeros(self.pairs[0] * self.pairs[1], self.dtype)
        full[self.rows] = y
        out = np.sum(self.e_conj * (full.reshape(self.pairs) @ self.b_conj), axis=0)
        return out.reshape(self.ncomp, -1).sum(axis=0)

    def dense(self):
        """The explicit M x N matrix (for tests and small problems)."""
        jac = self.e[:, None, :] * self.b_t.T[None, :, :]
        jac = jac.reshape(jac.shape[:2] + (self.ncomp, -1)).sum(axis=2)
        return jac.reshape(-1, jac.shape[-1])[self.rows]


_GKB_MAX = 400  # Golub-Kahan steps at most per linearised solve
_GKB_CHECK = 5  # steps between two checks of the projected solution
_GKB_TOL = 1e-4  # relative change of the projected Tikhonov solution at which to stop


def _golub_kahan_tikhonov(jop, b, *, noise, weight=None, gcv_floor=False):
    """Hybrid Tikhonov solve of ``min ||J x - b||^2 + lam ||x||^2`` on a Golub-Kahan basis.

    Lanczos (Golub-Kahan) bidiagonalisation ``J V_k = U_{k+1} B_k`` started from ``b`` (the
    engine of LSQR: Paige & Saunders 1982, *ACM TOMS* 8, 43), with full reorthogonalisation;
    at every ``_GKB_CHECK`` steps the weight is chosen on the singular values of the small
    bidiagonal ``B_k`` by :func:`choose_weight` (discrepancy principle or GCV, as in the dense
    path: the residual of a solution in the Krylov space is exactly that of the projected
    problem) and the projected solution formed; the iteration stops when it changes by less
    than ``_GKB_TOL`` (hybrid regularisation: Chung, Nagy & O'Leary 2008, *ETNA* 28, 149).
    Costs ``2 k`` products with ``J`` and ``J^H``, no M x N matrix. Returns ``(x, lam)``.
    """
    m, n = jop.shape
    kmax = min(_GKB_MAX, m, n)
    beta1 = float(np.linalg.norm(b))
    if beta1 == 0.0:
        return np.zeros(n, jop.dtype), float(weight or 0.0)
    us = np.zeros((kmax + 1, m), jop.dtype)
    vs = np.zeros((kmax, n), jop.dtype)
    alphas = np.zeros(kmax)
    betas = np.zeros(kmax)
    us[0] = b / beta1
    x_prev = None
    x = np.zeros(n, jop.dtype)
    lam = float(weight or 0.0)
    k = 0
    for i in range(kmax):
        v = jop.rmatvec(us[i])
        if i > 0:
            v -= betas[i - 1] * vs[i - 1]
        v -= vs[:i].T @ (vs[:i].conj() @ v)  # reorthogonalise
        alpha = float(np.linalg.norm(v))
        if i == 0 and alpha == 0.0:  # J^H b = 0: the data see no cell
            return np.zeros(n, jop.dtype), float(weight or 0.0)
        if alpha <= 1e-14 * alphas[0]:  # invariant subspace: the basis is complete
            break
        vs[i] = v / alpha
        alphas[i] = alpha
        u = jop.matvec(vs[i]) - alpha * us[i]
        u -= us[: i + 1].T @ (us[: i + 1].conj() @ u)
        beta = float(np.linalg.norm(u))
        k = i + 1
        betas[i] = beta
        if beta <= 1e-14 * alphas[0]:
            break
        us[i + 1] = u / beta
        if k % _GKB_CHECK == 0 or k == kmax:
            x, lam = _projected_tikhonov(
                alphas[:k], betas[:k], vs[:k], beta1, m, noise, weight, gcv_floor
            )
            if x_prev is not None and np.linalg.norm(x - x_prev) <= _GKB_TOL * max(
                float(np.linalg.norm(x)), 1e-300
            ):
                return x, lam
            x_prev = x
    return _projected_tikhonov(alphas[:k], betas[:k], vs[:k], beta1, m, noise, weight, gcv_floor)


def _projected_tikhonov(alphas, betas, vs, beta1, m, noise, weight, gcv_floor):
    """Tikhonov solution on the Golub-Kahan basis ``V_k`` and its weight."""
    k = alphas.size
    bk = np.zeros((k + 1, k))
    bk[np.arange(k), np.arange(k)] = alphas
    bk[np.arange(1, k + 1), np.arange(k)] = betas
    p, s, qh = np.linalg.svd(bk, full_matrices=False)
    coef = beta1 * p[0]  # P^H (beta1 e1), real
    if weight is None:
        lam = choose_weight(s, coef, beta1**2, m, noise=noise)
        if gcv_floor:
            lam = max(lam, choose_weight(s, coef, beta1**2, m))
    else:
        lam = float(weight)
    y = qh.T @ (s / (s**2 + lam) * coef)
    return vs.T @ y, lam


def _cg_normal(jop, rhs, reg, lam, x0, *, tol=1e-6, maxiter=300):
    """Conjugate gradients on ``(J^H J + lam reg) x = rhs`` (Hermitian positive definite)."""
    x = x0.copy()

    def apply(z):
        return jop.rmatvec(jop.matvec(z)) + lam * (reg @ z)

    r = rhs - apply(x)
    d = r.copy()
    rr = float(np.vdot(r, r).real)
    stop = (tol * float(np.linalg.norm(rhs))) ** 2
    for _ in range(maxiter):
        if rr <= stop:
            break
        ad = apply(d)
        step = rr / float(np.vdot(d, ad).real)
        x += step * d
        r -= step * ad
        rr_new = float(np.vdot(r, r).real)
        d = r + (rr_new / rr) * d
        rr = rr_new
    return x


def _regularised_solve_op(
    jop, b, *, noise, regularization, x_ref, grid, tv_beta=1e-3, weight=None, gcv_floor=False
):
    """Matrix-free :func:`_regularised_solve`: the same weight rule and penalty, on ``J``."""
    x, lam = _golub_kahan_tikhonov(jop, b, noise=noise, weight=weight, gcv_floor=gcv_floor)
    if regularization == "tikhonov":
        return x, lam
    if regularization != "tv":
        raise ConfigError(f"unknown regularization {regularization!r}; use 'tikhonov' or 'tv'")
    lmat = _grad_ops(grid.ny, grid.nx)
    atb = jop.rmatvec(b)
    scale = np.abs(x_ref).max() + np.abs(x).max() + 1e-12
    for _ in range(3):  # lagged diffusivity, as in the dense path
        grad = lmat @ (x_ref + x)
        wts = 1.0 / np.sqrt(np.abs(grad) ** 2 + (tv_beta * scale) ** 2)
        reg = (lmat.T @ lmat.multiply(wts[:, None])).tocsr()
        lam_tv = lam * reg.shape[0] / max(float(reg.diagonal().sum().real), 1e-30)
        x = _cg_normal(jop, atb - lam_tv * (reg @ x_ref), reg, lam_tv, x)
    return x, lam


JACOBIAN_MODES = ("auto", "dense", "operator")


def _use_operator(jacobian, m, n):
    if jacobian not in JACOBIAN_MODES:
        raise ConfigError(f"unknown jacobian {jacobian!r}; use one of {', '.join(JACOBIAN_MODES)}")
    if jacobian == "auto":
        return min(m, n) > _DENSE_SVD_LIMIT
    return jacobian == "operator"


# ----------------------------------------------------------------------------------------------
# calibration
# ----------------------------------------------------------------------------------------------
CALIBRATION_MODES = ("auto", "per_tx", "per_pair", "reference")


@provenance.step
def calibrate_gain(
    measured: xr.Dataset,
    simulated_incident: Any,
    *,
    mode: str = "auto",
    n_reference: int = 1,
    directivity_db: float = 20.0,
) -> xr.Dataset:
    """Calibrate measured fields by the ratio of simulated to measured incident field.

    Each transmitter's chain (cable, antenna, source) multiplies its measured fields by an
    unknown complex factor; the ratio ``E_inc^sim / E_inc^meas`` removes it (Ostadrahimi et al.
    2011, *IEEE Trans. Instrum. Meas.* 60, 2779; Gilmore et al. 2010). Directive antennas
    (horns) are not line sources: their measured incident field falls by tens of dB away from
    boresight while the model's does not, so a factor fitted over every receiver is biased
    towards the weak receivers (it inflates the scattered field) and a factor per pair
    amplifies them. The usual practice for such data (Geffrin, Sabouroux & Eyraud 2005,
    *Inverse Problems* 21, S117) is one factor per frequency and source taken from the
    receiver(s) facing the source, applied to the measured scattered field
    ``E_tot^meas - E_inc^meas``: mode ``"reference"``.

    Parameters
    ----------
    measured : Dataset (field_set)
        Measured total and incident (empty-chamber) fields (V/m or any consistent unit).
    simulated_incident : array (freq, tx, rx), complex
        The incident field of the model used for inversion at the same pairs (V/m).
    mode : {"auto", "per_tx", "per_pair", "reference"}
        ``"per_tx"``: one least-squares factor per (frequency, transmitter) over all its
        measured receivers; ``"per_pair"``: one factor per pair; ``"reference"``: one
        least-squares factor per (frequency, transmitter) over its ``n_reference`` measured
        receivers of largest measured incident field (those facing the source), and the
        calibrated total field is ``E_inc^sim + c (E_tot^meas - E_inc^meas)``; ``"auto"``
        (default): ``"reference"`` when the measured incident field is strongly directive
        (the median over sources of the spread of ``|E_inc^meas / E_inc^sim|`` across the
        receivers of one source exceeds ``directivity_db``), else ``"per_tx"``.
    n_reference : int
        Receivers per source that set the factor in ``"reference"`` mode (>= 1).
    directivity_db : float
        Spread (dB) above which ``"auto"`` chooses ``"reference"``.

    Returns
    -------
    xarray.Dataset
        Kind ``field_set`` with calibrated ``total_field`` and ``incident_field``
        (= simulated); ``attrs["calibration_mode"]`` is the mode used and
        ``attrs["incident_spread_db"]`` the directivity measure.

    Raises
    ------
    CalibrationError
        A measured incident field of zero on a measured pair, or a source without receivers.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.tomography import TomographyGrid, ring_positions, simulate
    >>> g = TomographyGrid.centered(8, 0.04)
    >>> ring = ring_positions(4, 0.1)
    >>> clean = simulate(np.full(g.shape, 1.2 + 0j), g, [1e9], ring, ring)
    >>> meas = clean.copy()
    >>> for v in ("total_field", "incident_field"):
    ...     meas[v] = clean[v] * (2 - 1j)
    >>> cal = calibrate_gain(meas, clean["incident_field"].values)
    >>> cal.attrs["calibration_mode"], bool(np.allclose(cal.total_field, clean.total_field))
    ('per_tx', True)
    """
    from brim.schema import validate

    expect_dataset(measured, "field_set")
    validate(measured, "field_set")
    if isinstance(simulated_incident, (xr.Dataset, str, PurePath)):
        hint = (
            " (the simulated field_set: pass its ds['incident_field'])"
            if isinstance(simulated_incident, xr.Dataset)
            else ""
        )
        raise ConfigError(
            f"simulated_incident must be the simulated incident field, an array (freq, tx, rx), "
            f"got {type(simulated_incident).__name__}{hint}"
        )
    measured = measured.brim.to_device("cpu")
    sim = np.asarray(to_numpy(simulated_incident), complex)
    inc = measured["incident_field"].values
    tot = measured["total_field"].values
    if sim.shape != inc.shape:
        raise SchemaError(f"simulated incident field {sim.shape} does not match data {inc.shape}")
    if mode not in CALIBRATION_MODES:
        raise ConfigError(
            f"unknown calibration mode {mode!r}; use one of {', '.join(CALIBRATION_MODES)}"
        )
    n_reference = check_positive("n_reference", n_reference, integer=True)
    m = _mask_of(measured)
    if np.any(m & (np.abs(inc) == 0)):
        raise CalibrationError("measured incident field is zero on a measured pair")
    spread = incident_spread_db(inc, sim, m)
    if mode == "auto":
        mode = "reference" if spread > directivity_db else "per_tx"
    if mode != "per_pair" and np.any(m.sum(axis=-1) == 0):
        raise CalibrationError("a transmitter has no measured receiver to calibrate with")
    if mode == "per_pair":
        c = np.where(m, sim / np.where(m, inc, 1), 0)
    elif mode == "per_tx":
        num = np.sum(np.where(m, np.conj(inc) * sim, 0), axis=-1)
        den = np.sum(np.where(m, np.abs(inc) ** 2, 0), axis=-1)
        c = (num / den)[..., None]
    else:  # reference receivers: the strongest measured incident fields of each source
        order = np.argsort(np.where(m, -np.abs(inc), np.inf), axis=-1, kind="stable")
        ref = np.zeros_like(m)
        np.put_along_axis(ref, order[..., :n_reference], True, axis=-1)
        ref &= m
        num = np.sum(np.where(ref, np.conj(inc) * sim, 0), axis=-1)
        den = np.sum(np.where(ref, np.abs(inc) ** 2, 0), axis=-1)
        c = (num / den)[..., None]
    out = measured.copy()
    if mode == "reference":
        cal_total = np.where(m, sim + c * (tot - inc), 0)
    else:
        cal_total = np.where(m, c * tot, 0)
    out["total_field"] = measured["total_field"].copy(data=cal_total)
    out["incident_field"] = measured["incident_field"].copy(data=np.where(m, sim, 0))
    if "scattered_field" in out:
        out["scattered_field"] = out["total_field"] - out["incident_field"]
    out.attrs["calibration_mode"] = mode
    out.attrs["incident_spread_db"] = float(spread)
    return out


def incident_spread_db(measured_incident: Any, simulated_incident: Any, mask: Any = None) -> float:
    """Directivity of measured sources relative to the model, in dB.

    For each (frequency, source) the spread ``20 log10(max / min)`` of
    ``|E_inc^meas / E_inc^sim|`` over its measured receivers; the median over sources. About
    0 dB when the antennas behave like the model's sources (up to a gain), 20-40 dB for horns
    modelled as line sources.

    Parameters
    ----------
    measured_incident, simulated_incident : array (freq, tx, rx), complex
        Measured and model incident fields at the same pairs.
    mask : array of bool (freq, tx, rx), optional
        Measured pairs (default all).

    Returns
    -------
    float
        The median spread in dB (0 when no source has two measured receivers).

    Examples
    --------
    >>> import numpy as np
    >>> sim = np.ones((1, 2, 4), complex)
    >>> meas = sim * np.array([1.0, 0.5, 0.1, 0.01])
    >>> round(incident_spread_db(meas, sim), 1)
    40.0
    """
    inc = np.asarray(to_numpy(measured_incident), complex)
    sim = np.asarray(to_numpy(simulated_incident), complex)
    m = (
        np.ones(inc.shape, bool)
        if mask is None
        else np.broadcast_to(np.asarray(mask, bool), inc.shape)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(inc) / np.abs(sim)
    m = m & np.isfinite(ratio) & (ratio > 0)
    hi = np.max(np.where(m, ratio, -np.inf), axis=-1)
    lo = np.min(np.where(m, ratio, np.inf), axis=-1)
    ok = m.sum(axis=-1) >= 2
    if not np.any(ok):
        return 0.0
    return float(np.median(20 * np.log10(hi[ok] / lo[ok])))


# renamed in issue 18; removed in the next release
__getattr__ = renamed_names(
    __name__,
    {
        "calibrate": (
            calibrate_gain,
            "brim.microwave.tomography.inverse.calibrate is deprecated; use calibrate_gain",
        )
    },
)


def _mask_of(ds: xr.Dataset) -> np.ndarray:
    shape = ds["total_field"].shape
    if "mask" not in ds:
        return np.ones(shape, bool)
    return np.broadcast_to(ds["mask"].values.astype(bool), shape)


# ----------------------------------------------------------------------------------------------
# problem set-up
# ----------------------------------------------------------------------------------------------
@dataclass
class _Freq:
    f: float
    k: complex
    eps_b: complex
    op: VIEOperator
    e_inc: Any  # (1, n_tx, ncomp * ny, nx) on backend (NumPy or CuPy)
    rmat: Any  # (n_rx, ncomp * N)
    data: np.ndarray  # (n_tx, n_rx) scattered field, 0 where unmeasured
    mask: np.ndarray  # (n_tx, n_rx)
    rbasis: Any = None  # (C, Q) with rmat = C Q, Q orthonormal rows (compressed adjoint solves)
    ncomp: int = 1  # field components per cell: 1 (TM, E_z) or 2 (TE, E_x and E_y)


def _setup(ds, grid, freqs, eps_b, backend, incident_grid, polarisation="TM"):
    src = ds.attrs.get("source_model", "line")
    te = polarisation == "TE"
    ncomp = 2 if te else 1
    tx_x, tx_y = ds["tx_x"].values, ds["tx_y"].values
    rx_x, rx_y = ds["rx_x"].values, ds["rx_y"].values
    px, py = grid.points()
    mask_all = _mask_of(ds)
    out = []
    all_f = ds["freq"].values
    for f in freqs:
        i = int(np.argmin(np.abs(all_f - f)))
        if eps_b is None:
            eb = complex(ds["eps_background"].values[i]) if "eps_background" in ds else 1.0
        else:
            eb = complex(eps_b(f)) if callable(eps_b) else complex(np.asarray(eps_b).ravel()[0])
        k = background_wavenumber(f, eb)
        if incident_grid is not None:
            e_inc = np.asarray(incident_grid, complex)[i][None]
        elif src == "line":
            e_inc = (te_line_source_field if te else line_source_field)(px, py, tx_x, tx_y, f, k)
        elif src == "plane":
            ang = np.arctan2(tx_y, tx_x)
            e_inc = (te_plane_wave_field if te else plane_wave_field)(px, py, ang, k)
        else:
            raise ConfigError(
                "the field set used a measured incident field: pass incident_grid= with the "
                "incident field on the inversion grid"
            )
        op = (
            TEVIEOperator(grid, k, backend=backend) if te else VIEOperator(grid, k, backend=backend)
        )
        xp = op.xp
        m = mask_all[i]
        data = np.where(m, ds["total_field"].values[i] - ds["incident_field"].values[i], 0)
        out.append(
            _Freq(
                f=float(all_f[i]),
                k=complex(k[0]),
                eps_b=eb,
                op=op,
                e_inc=xp.asarray(e_inc.reshape(1, -1, ncomp * grid.ny, grid.nx)),
                rmat=xp.asarray(
                    (te_receiver_matrix if te else receiver_matrix)(grid, rx_x, rx_y, k)[0]
                ),
                data=data,
                mask=m,
                ncomp=ncomp,
            )
        )
    return out


def _project(chi, eps_b, bounds):
    """Physical constraints on eps = eps_b (1 + chi): Re within bounds, passive (Im <= 0)."""
    eps = eps_b * (1 + chi)
    lo, hi = bounds
    re = np.clip(eps.real, lo, hi)
    im = np.minimum(eps.imag, 0.0)
    return (re + 1j * im) / eps_b - 1


# ----------------------------------------------------------------------------------------------
# the driver
# ----------------------------------------------------------------------------------------------
@provenance.step
def invert(
    fields: xr.Dataset,
    grid: TomographyGrid,
    *,
    method: str = "dbim",
    freq: Any = None,
    iterations: int | None = None,
    regularization: str = "tikhonov",
    noise_level: float | None = None,
    weight: float | None = None,
    eps_b: Any = None,
    bounds: tuple[float, float] = (1.0, np.inf),
    initial: Any = None,
    incident_grid: Any = None,
    tol: float = 1e-6,
    backend: str | None = None,
    progress: bool = False,
    jacobian: str = "auto",
    polarisation: str | None = None,
) -> InversionResult:
    """Reconstruct the complex permittivity map from a tomography ``field_set``.

    Parameters
    ----------
    fields : Dataset (field_set)
        Total and incident field per (freq, tx, rx); the optional ``mask`` is honoured (only
        measured pairs enter every misfit and Jacobian). The transmitter model (line source or
        plane wave) is read from ``attrs["source_model"]``.
    grid : TomographyGrid
        Inversion grid (m). It may differ from the grid the data were simulated on.
    method : {"born", "bim", "dbim", "csi", "mr-csi"}
    freq : float or sequence of float, optional
        Frequencies (Hz) to use; default all, hopped from low to high.
    iterations : int, optional
        Iteration cap per frequency (ignored by ``born``); default ``DEFAULT_ITERATIONS``
        (10 for bim/dbim, 500 for csi/mr-csi). CSI and MR-CSI stop earlier when the data misfit
        reaches ``noise_level`` (discrepancy principle) or falls by less than 0.1 % over 10
        iterations (plateau); DBIM at the discrepancy principle, and when a step that increases
        the misfit is still rejected after three halvings. ``InversionResult.stopping`` gives
        the iterations used and the reason per frequency.
    regularization : {"tikhonov", "tv"}
        Penalty of the linear(ised) steps of born/bim/dbim. CSI is unregularised; MR-CSI carries
        its own multiplicative TV factor.
    noise_level : float, optional
        Relative noise level ``||noise|| / ||data||``; selects the discrepancy principle for
        the regularisation weight (GCV otherwise).
    weight : float, optional
        A fixed regularisation weight ``lam`` of every linear(ised) step of born/bim/dbim
        (``min ||J x - r||^2 + lam ||x||^2``, or its TV counterpart), in the units of
        ``|J|^2``; default: chosen at every step (discrepancy principle or GCV above). For
        comparisons with other codes at a fixed parameter, and for reproducing a published
        setting.
    eps_b : complex or callable, optional
        Background permittivity; default the field set's ``eps_background`` (else 1).
    bounds : (lo, hi)
        Bounds on Re(eps_r) applied after every update; Im(eps_r) <= 0 (passivity) always.
    initial : array (ny, nx), optional
        Starting permittivity (default the background).
    incident_grid : array (n_freq, n_tx, ny, nx), optional (TE: (n_freq, n_tx, 2 ny, nx))
        Incident field on the inversion grid for a measured-incident-field set-up.
    tol : float
        Forward-solver tolerance.
    backend : {None, "numpy", "cupy"}
        Where FFTs and iterations run; ``None`` follows the field set's data (a set moved with
        ``fields.brim.to_device("cuda")`` runs on the GPU).
    progress : bool
        tqdm bar over iterations.
    jacobian : {"auto", "dense", "operator"}
        How the linearised steps of born/bim/dbim are solved. ``"dense"``: the Jacobian (M
        measured pairs x N cells) is formed and the weight chosen on its singular values
        (exact up to 1,500 pairs or cells, a randomised truncated SVD of rank 300 above).
        ``"operator"``: matrix-free, products with ``J`` and ``J^H`` only (transmitter fields
        times receiver or adjoint fields), a hybrid Golub-Kahan (LSQR) Tikhonov solve with the
        same weight rule on the projected problem, and DBIM's adjoint solve on a compressed
        receiver basis; at 4,338 pairs and 50^2 cells an iteration takes well under 2 s.
        ``"auto"`` (default): ``"operator"`` above 1,500 pairs and cells, else ``"dense"``.
    polarisation : {None, "TM", "TE"}
        The model of the data: ``"TM"`` (``E_z``) or ``"TE"`` (``u = eta_b H_z`` at the
        receivers, ``(E_x, E_y)`` in the cells; :mod:`~brim.microwave.tomography.te`). Every
        method runs on either: the solvers see the operator, the receiver operator and the
        incident field of the polarisation. Default: the field set's
        ``attrs["polarisation"]``, else TM.

    Returns
    -------
    InversionResult
        The map, the map per frequency, the iteration history and the settings
        (:meth:`InversionResult.to_dataset` gives the ``reconstruction`` Dataset).

    Examples
    --------
    A Born reconstruction of a weak cylinder from simulated data:

    >>> import numpy as np
    >>> from brim.microwave.tomography import TomographyGrid, invert, ring_positions, simulate
    >>> grid = TomographyGrid.centered(12, 0.06)
    >>> xx, yy = np.meshgrid(grid.x, grid.y)
    >>> eps = np.where(np.hypot(xx, yy) < 0.01, 1.1, 1.0)
    >>> ring = ring_positions(8, 0.05)
    >>> fields = simulate(eps, grid, [2e9], ring, ring)
    >>> res = invert(fields, grid, method="born")
    >>> res.permittivity.shape, bool(res.permittivity.real[6, 6] > 1.0)
    ((12, 12), True)
    """
    from brim.backend import resolve_backend
    from brim.schema import validate

    expect_dataset(fields, "field_set")
    validate(fields, "field_set", check_values=True)
    _expect_grid(grid)
    backend = resolve_backend(backend, *(v.data for v in fields.data_vars.values()))
    fields = fields.brim.to_device("cpu")  # set-up and data terms are small: built on the host
    if weight is not None:
        check_positive("weight", weight)
    if noise_level is not None:
        noise_level = check_positive("noise_level", noise_level)
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    _use_operator(jacobian, 0, 0)  # validate the choice
    if iterations is None:
        iterations = DEFAULT_ITERATIONS[method]
    iterations = check_positive("iterations", iterations, integer=True)
    tol = check_positive("tol", tol)
    if backend == "torch":
        backend = "numpy"
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (lo < hi) or np.isnan(lo) or np.isnan(hi):
        raise ConfigError(f"bounds must be (lo, hi) on Re eps_r with lo < hi, got {bounds!r}")
    freqs = fields["freq"].values if freq is None else np.atleast_1d(np.asarray(freq, float))
    if freqs.size == 0:
        raise ConfigError("freq selects no frequency; give one or more of the field set's (Hz)")
    for f in freqs:
        if np.min(np.abs(fields["freq"].values - f)) > 1e-6 * f:
            raise ConfigError(f"frequency {f:g} Hz is not in the field set")
    freqs = np.sort(freqs)
    polarisation = check_polarisation(
        fields.attrs.get("polarisation", "TM") if polarisation is None else polarisation
    )
    probs = _setup(fields, grid, freqs, eps_b, backend, incident_grid, polarisation)
    eps0 = probs[0].eps_b
    try:
        eps = (
            np.full(grid.shape, eps0, complex) if initial is None else np.asarray(initial, complex)
        )
    except (TypeError, ValueError):
        raise ConfigError(
            f"initial must be a permittivity map of shape {grid.shape}, got {initial!r}"
        ) from None
    if eps.shape != grid.shape:
        raise ConfigError(f"initial map {eps.shape} does not match grid {grid.shape}")
    if not np.isfinite(eps).all():
        raise ConfigError("initial map has NaN or infinite values")
    history: list[dict] = []
    stopping: list[dict] = []
    maps = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(probs) * (1 if method == "born" else iterations), desc=method)
    settings = _Settings(
        method=method,
        iterations=iterations,
        regularization=regularization,
        noise_level=noise_level,
        weight=weight,
        bounds=bounds,
        tol=tol,
        jacobian=jacobian,
    )
    run = _run_gn if method in ("born", "bim", "dbim") else _run_csi
    for p in probs:
        chi = (eps / p.eps_b - 1).ravel()
        chi, used, reason = run(p, grid, chi, settings, history, bar)
        stopping.append({"freq": float(p.f), "iterations": int(used), "reason": reason})
        eps = (p.eps_b * (1 + chi)).reshape(grid.shape)
        maps.append(eps.copy())
    if bar is not None:
        bar.close()
    return InversionResult(
        permittivity=eps,
        per_frequency=np.stack(maps),
        grid=grid,
        freq=freqs,
        method=method,
        history=history,
        stopping=stopping,
        parameters={
            "freq": [float(f) for f in freqs],
            "iterations": int(iterations),
            "regularization": regularization,
            "noise_level": None if noise_level is None else float(noise_level),
            "weight": None if weight is None else float(weight),
            "bounds": [float(b) for b in bounds],
            "tol": float(tol),
            "backend": backend,
            "jacobian": jacobian,
            "polarisation": polarisation,
            "grid": {"nx": grid.nx, "ny": grid.ny, "x0": float(grid.x[0]), "y0": float(grid.y[0])},
        },
    )


def _forward(p: _Freq, grid, chi, tol, x0=None):
    xp = p.op.xp
    c = xp.asarray(chi.reshape(1, grid.ny, grid.nx))
    e, _ = solve_total_field(p.op, c, p.e_inc, tol=tol, x0=x0, check=False)
    return e


def _predict(p: _Freq, chi, e):
    xp = p.op.xp
    w = xp.tile(xp.asarray(chi), p.ncomp)[None, :] * e[0].reshape(e.shape[1], -1)
    return to_numpy(w @ p.rmat.T)  # (n_tx, n_rx)


def _misfit(p: _Freq, pred):
    r = np.where(p.mask, p.data - pred, 0)
    return float(np.linalg.norm(r) / max(float(np.linalg.norm(p.data)), 1e-300))


@dataclass(frozen=True)
class _Settings:
    """The options of :func:`invert` that the per-frequency solvers read (checked there)."""

    method: str
    iterations: int
    regularization: str
    noise_level: float | None
    weight: float | None
    bounds: tuple[float, float]
    tol: float
    jacobian: str


def _run_gn(p, grid, chi, settings: _Settings, hist, bar):
    """Born / BIM / DBIM at one frequency; returns ``(chi, iterations, reason)``.

    DBIM is a regularising Levenberg-Marquardt iteration (Hanke 1997): each step asks for a
    residual reduction to ``q ||r||``. It is safeguarded (Nocedal & Wright 2006, ch. 3): a step
    that increases the data misfit is rejected and retried at half length (at most
    ``_MAX_BACKTRACK`` times, then the iteration stops at the last accepted map), and without a
    noise level the automatic weight never drops below the GCV weight of the same linearised
    step, so the weight cannot collapse on the noise floor.
    """
    method, noise_level, weight = settings.method, settings.noise_level, settings.weight
    bounds, tol = settings.bounds, settings.tol
    rows = np.nonzero(p.mask.ravel())[0]
    d = p.data.ravel()[rows]
    use_op = _use_operator(settings.jacobian, rows.size, grid.ny * grid.nx)
    noise = None if noise_level is None else noise_level * float(np.linalg.norm(d))
    n_it = 1 if method == "born" else settings.iterations
    q = 0.7  # Levenberg-Marquardt residual reduction per nonlinear step (Hanke 1997)
    e = p.e_inc
    accepted: tuple[Any, float, Any] | None = None  # DBIM: (chi, residual norm, step) last kept
    n_back = 0
    reason = "iterations"
    used = 0
    for it in range(n_it):
        if method != "born" or it > 0:
            e = _forward(p, grid, chi, tol, x0=e if it > 0 else None)
        pred = _predict(p, chi, e)
        cur = float(np.linalg.norm((p.data - pred).ravel()[rows]))
        misfit = cur / max(float(np.linalg.norm(d)), 1e-300)
        if method == "dbim" and accepted is not None and not cur <= accepted[1]:
            # the last step increased the misfit: reject it, retry at half length or stop
            n_back += 1
            hist.append(
                {
                    "freq": p.f,
                    "iteration": it,
                    "misfit": misfit,
                    "update_norm": 0.0,
                    "weight": hist[-1]["weight"] if hist else None,
                    "rejected": True,
                }
            )
            if bar is not None:
                bar.update(1)
            if n_back > _MAX_BACKTRACK:
                chi = accepted[0]
                reason = "step rejected"
                break
            half = 0.5**n_back * accepted[2]
            chi = _project(accepted[0] + half, p.eps_b, bounds)
            continue
        n_back = 0
        used = it + 1
        if method == "dbim":
            accepted = (chi, cur, None)
        if method != "born" and noise is not None and cur <= 1.1 * noise:
            reason = "discrepancy"
            break  # discrepancy principle as the stopping rule
        e_np = to_numpy(e[0]).reshape(e.shape[1], -1)  # (n_tx, N)
        if method == "dbim":
            adj = _forward_adjoint(p, grid, chi, tol, compress=use_op)  # (n_rx, N)
            resid = (p.data - pred).ravel()[rows]
            x_ref = chi
        else:  # born / bim: solve for the whole contrast
            adj = to_numpy(p.rmat)
            resid = d
            x_ref = np.zeros_like(chi)
        jop = _JacobianOperator(e_np, adj, rows, p.mask.shape, p.ncomp)
        target = noise
        if method != "born":
            target = max(noise or 0.0, q * cur)
        step, lam = (_regularised_solve_op if use_op else _regularised_solve)(
            jop if use_op else jop.dense(),
            resid,
            noise=target,
            regularization=settings.regularization,
            x_ref=x_ref,
            grid=grid,
            weight=weight,
            gcv_floor=method == "dbim" and noise is None and weight is None,
        )
        new = chi + step if method == "dbim" else step
        new = _project(new, p.eps_b, bounds)
        upd = float(np.linalg.norm(new - chi) / max(float(np.linalg.norm(new)), 1e-300))
        if method == "dbim":
            accepted = (chi, cur, new - chi)
        chi = new
        hist.append(
            {
                "freq": p.f,
                "iteration": it,
                "misfit": misfit,
                "update_norm": upd,
                "weight": lam,
            }
        )
        if bar is not None:
            bar.update(1)
        if upd < 1e-4:
            reason = "update below 1e-4"
            break
    # misfit of the final map (DBIM: the last step, untested, is kept only if it did not hurt)
    e = _forward(p, grid, chi, tol)
    final = _misfit(p, _predict(p, chi, e))
    if method == "dbim" and accepted is not None and chi is not accepted[0]:
        if not final * max(float(np.linalg.norm(p.data)), 1e-300) <= accepted[1]:
            chi = accepted[0]
            e = _forward(p, grid, chi, tol)
            final = _misfit(p, _predict(p, chi, e))
    if hist and hist[-1]["freq"] == p.f:
        hist[-1]["final_misfit"] = final
    return chi, used, reason


def _forward_adjoint(p: _Freq, grid, chi, tol, *, compress=False):
    """Fields of 'receiver sources' in the current medium: rows of R (I - X g)^{-1}.

    With ``compress`` the rows of ``R`` are first reduced to an orthonormal basis of their span
    (``R = C Q``, from the eigendecomposition of the small Gram matrix ``R R^H``, directions of
    singular value below ``1e-7`` of the largest dropped), the solve runs on the ``rank`` rows
    of ``Q`` and ``C`` maps the result back: the fields are linear in their sources. A ring of
    241 receivers around a domain a few wavelengths wide spans some 40 independent fields, so
    the solve is six times smaller.
    """
    xp = p.op.xp
    rm = p.rmat
    coef = None
    if compress:
        if p.rbasis is None:
            r = to_numpy(rm)
            w, u = np.linalg.eigh(r @ r.conj().T)
            keep = w > 1e-14 * w.max()
            basis = (u[:, keep].conj().T @ r) / np.sqrt(w[keep])[:, None]  # orthonormal rows
            p.rbasis = (u[:, keep] * np.sqrt(w[keep])[None, :], xp.asarray(basis))
        coef, rm = p.rbasis
    src = rm.reshape(1, -1, p.ncomp * grid.ny, grid.nx)
    c = xp.asarray(chi.reshape(1, grid.ny, grid.nx))
    u, _ = solve_total_field(p.op, c, src, tol=tol, check=False)
    out = to_numpy(u[0]).reshape(u.shape[1], -1)
    return out if coef is None else coef @ out


def _run_csi(p, grid, chi0, settings: _Settings, hist, bar):
    """Contrast-source inversion (MR-CSI: multiplicatively regularised) at one frequency.

    Returns ``(chi, iterations, reason)``. The iteration stops at ``iterations``, when the data
    misfit reaches the noise level (Morozov's discrepancy principle, with ``noise_level``), or
    on a plateau: a relative misfit decrease below ``_PLATEAU_TOL`` over the last
    ``_PLATEAU_WINDOW`` iterations.

    Raises
    ------
    SolverError
        When the data hold no scattered field, when every cell of the contrast is clipped to
        the background by the bounds (e.g. conjugated fields: the data imply an active medium)
        or when the iteration produces non-finite values.
    """
    mr, noise_level = settings.method == "mr-csi", settings.noise_level
    iterations, bounds, tol = settings.iterations, settings.bounds, settings.tol
    xp = p.op.xp
    ny, nx = grid.shape
    n_tx = p.e_inc.shape[1]
    mask = xp.asarray(p.mask)
    f = xp.asarray(p.data)
    rm = p.rmat  # (n_rx, N)

    def gs(w):  # (n_tx, N) -> (n_tx, n_rx)
        return (w @ rm.T) * mask

    def gs_h(r):  # (n_tx, n_rx) -> (n_tx, N)
        return (r * mask) @ xp.conj(rm)

    nc = p.ncomp  # TE: fields hold E_x then E_y (2N values per source)

    def gd(w):
        return p.op.apply_g(w.reshape(1, n_tx, nc * ny, nx))[0].reshape(n_tx, -1)

    def gd_h(w):
        return p.op.apply_g_adjoint(w.reshape(1, n_tx, nc * ny, nx))[0].reshape(n_tx, -1)

    def mul(c, fld):  # contrast (N,) times every component of fields (n_tx, nc * N)
        return (c[None] * fld.reshape(-1, ny * nx)).reshape(fld.shape)

    def csum(a):  # sum over sources and components -> (N,)
        return xp.sum(a.reshape(-1, ny * nx), axis=0)

    einc = p.e_inc[0].reshape(n_tx, -1)
    f_norm2 = float(xp.sum(xp.abs(f) ** 2))
    if not f_norm2 > 0:
        raise SolverError(
            f"no scattered field at {p.f:g} Hz: the total field equals the incident field on "
            "every measured pair, so there is no contrast to reconstruct (check that "
            "total_field and incident_field are not the same measurement)"
        )
    eta_s = 1.0 / f_norm2
    chi = xp.asarray(chi0)
    if float(xp.max(xp.abs(chi))) > 0:
        e = _forward(p, grid, to_numpy(chi), tol)[0].reshape(n_tx, -1)
        w = mul(chi, e)
    else:
        bp = gs_h(f)
        gam = xp.sum(xp.abs(bp) ** 2, axis=1) / xp.maximum(
            xp.sum(xp.abs(gs(bp)) ** 2, axis=1), 1e-300
        )
        w = gam[:, None] * bp
        e = einc + gd(w)
        chi = csum(w * xp.conj(e)) / xp.maximum(csum(xp.abs(e) ** 2), 1e-300)
        chi = xp.asarray(_project(to_numpy(chi), p.eps_b, bounds))
        _check_contrast(chi, xp, p, bounds, "the first estimate")
    e = einc + gd(w)
    lmat = _grad_ops(ny, nx)
    area = (ny * nx) * grid.d**2
    g_prev = None
    v: Any = None
    f_d_prev = None
    d_chi = None
    gchi_prev = None
    objectives: list[float] = []
    reason = "iterations"
    used = 0
    for it in range(iterations):
        rho = f - gs(w)
        r = mul(chi, e) - w
        eta_d = 1.0 / max(float(xp.sum(xp.abs(mul(chi, einc)) ** 2)), 1e-300)
        g = -eta_s * gs_h(rho) - eta_d * (r - gd_h(mul(xp.conj(chi), r)))
        if g_prev is None:
            v = g
        else:
            gam = float(xp.real(xp.sum(xp.conj(g) * (g - g_prev)))) / max(
                float(xp.sum(xp.abs(g_prev) ** 2)), 1e-300
            )
            v = g + max(gam, 0.0) * v
        g_prev = g
        gsv = gs(v)
        dv = v - mul(chi, gd(v))
        num = eta_s * xp.sum(xp.conj(gsv) * rho) + eta_d * xp.sum(xp.conj(dv) * r)
        den = eta_s * xp.sum(xp.abs(gsv) ** 2) + eta_d * xp.sum(xp.abs(dv) ** 2)
        alpha = num / den
        w = w + alpha * v
        e = einc + gd(w)
        # contrast update
        chi_old = chi
        chi_ls = csum(w * xp.conj(e)) / xp.maximum(csum(xp.abs(e) ** 2), 1e-300)
        if not mr:
            chi = chi_ls
        else:
            f_s = eta_s * float(xp.sum(xp.abs(f - gs(w)) ** 2))
            chi, d_chi, gchi_prev, f_d_prev = _mr_update(
                f_s,
                to_numpy(chi_old),
                to_numpy(chi_ls),
                to_numpy(w).reshape(-1, ny * nx),
                to_numpy(e).reshape(-1, ny * nx),
                to_numpy(einc).reshape(-1, ny * nx),
                lmat,
                area,
                grid,
                d_chi,
                gchi_prev,
                f_d_prev,
            )
            chi = xp.asarray(chi)
        chi = xp.asarray(_project(to_numpy(chi), p.eps_b, bounds))
        _check_contrast(chi, xp, p, bounds, f"iteration {it}")
        upd = float(xp.linalg.norm(chi - chi_old) / max(float(xp.linalg.norm(chi)), 1e-300))
        rho = f - gs(w)
        misfit = float(xp.linalg.norm(rho) / xp.linalg.norm(f))
        state = float(xp.linalg.norm(mul(chi, e) - w)) / max(
            float(xp.linalg.norm(mul(chi, einc))), 1e-300
        )
        objective = misfit**2 + state**2  # the CSI cost F_S + F_D, normalised
        hist.append(
            {
                "freq": p.f,
                "iteration": it,
                "misfit": misfit,
                "update_norm": upd,
                "weight": None,
                "state_error": state,
            }
        )
        if bar is not None:
            bar.update(1)
        used = it + 1
        objectives.append(objective)
        if noise_level is not None and objective <= noise_level**2:
            reason = "discrepancy"
            break
        if len(objectives) > _PLATEAU_WINDOW:
            before = objectives[-1 - _PLATEAU_WINDOW]
            if before - objective <= _PLATEAU_TOL * before:
                reason = "plateau"
                break
    chi_np = to_numpy(chi)
    e = _forward(p, grid, chi_np, tol)
    hist[-1]["final_misfit"] = _misfit(p, _predict(p, chi_np, e))
    return chi_np, used, reason


def _check_contrast(chi, xp, p, bounds, where):
    """Raise :class:`SolverError` on a non-finite contrast or one clipped to zero everywhere."""
    amax = float(xp.max(xp.abs(chi)))
    if not np.isfinite(amax):
        raise SolverError(f"CSI at {p.f:g} Hz: non-finite contrast at {where}")
    if amax == 0.0:
        raise SolverError(
            f"CSI at {p.f:g} Hz: {where} is clipped to the background in every cell by the "
            f"bounds (Re eps_r in {tuple(float(b) for b in bounds)}, Im eps_r <= 0): the data "
            "imply a contrast below the bounds or an active medium. Check the time convention "
            "(brim uses exp(+j omega t); conjugate fields recorded with exp(-i omega t)), the "
            "sign of the scattered field (total - incident) and the calibration."
        )


def _mr_update(f_s, chi, chi_ls, w, e, einc, lmat, area, grid, d_prev, g_prev, f_d_prev):
    """One MR-CSI contrast step on ``(F_S + F_D(chi)) * F_MR(chi)``, line search on the step.

    ``F_S`` is the (fixed) data error of the current contrast sources; the gradient is
    ``g_D + (F_S + F_D) g_MR`` at ``F_MR = 1`` (van den Berg, van Broekhoven & Abubakar 1999).
    Gradients are finite differences divided by the cell size (1/m), like ``delta^2``.
    """
    lmat = lmat / grid.d
    from scipy.optimize import minimize_scalar

    ecol = e
    denom = max(float(np.sum(np.abs(chi[None] * einc) ** 2)), 1e-300)

    def f_d(c):
        return float(np.sum(np.abs(c[None] * ecol - w) ** 2)) / denom

    fd_now = f_d(chi)
    delta2 = fd_now / grid.d**2 if f_d_prev is None else f_d_prev / grid.d**2
    grad_prev = lmat @ chi
    bw = 1.0 / (area * (np.abs(grad_prev) ** 2 + delta2))

    def f_mr(c):
        gr = lmat @ c
        return (
            float(np.sum(bw * (np.abs(gr) ** 2 + delta2)))
            * grid.d**2
            / (float(np.sum(bw * (np.abs(grad_prev) ** 2 + delta2))) * grid.d**2)
        )

    g_d = np.sum(np.conj(ecol) * (chi[None] * ecol - w), axis=0) / denom
    g_mr = (lmat.T @ (bw * (lmat @ chi))) / float(np.sum(bw * (np.abs(grad_prev) ** 2 + delta2)))
    g = g_d + (f_s + fd_now) * g_mr
    prec = 1.0 / np.maximum(np.sum(np.abs(ecol) ** 2, axis=0) / denom, 1e-300)
    gp = prec * g
    if d_prev is None or g_prev is None:
        d = gp
    else:
        gam = float(np.real(np.vdot(g, gp - prec * g_prev))) / max(
            float(np.real(np.vdot(g_prev, prec * g_prev))), 1e-300
        )
        d = gp + max(gam, 0.0) * d_prev

    def cost(beta):
        c = chi - beta * d
        return (f_s + f_d(c)) * f_mr(c)

    res = minimize_scalar(cost, bounds=(0.0, 2.0), method="bounded", options={"xatol": 1e-4})
    new = chi - res.x * d
    return new, d, g, fd_now


def reconstruct_file(
    path: str, *, grid: str = "32x32:0.1", method: str = "dbim", **params
) -> xr.Dataset:
    """Batch pipeline: open a ``field_set`` file and return its ``reconstruction`` Dataset.

    ``grid`` is a :meth:`TomographyGrid.from_spec` string (``CELLS:WIDTH_M``); other keywords go to
    :func:`invert`.

    Parameters
    ----------
    path : path-like
        A ``field_set`` file.
    grid : str
        Inversion grid as ``CELLS:WIDTH_M``.
    method : str
        Inversion method (see :func:`invert`).
    **params
        Other options of :func:`invert`.

    Returns
    -------
    xarray.Dataset
        Kind ``reconstruction``.

    Examples
    --------
    A simulated disk (eps 1.5, radius 15 mm at x = 2 cm) saved and reconstructed by Born:

    >>> import numpy as np
    >>> import brim
    >>> from brim.microwave import reconstruct_file, simulate
    >>> from brim.microwave.tomography import TomographyGrid, ring_positions
    >>> grid = TomographyGrid.centered(10, 0.08)
    >>> xx, yy = np.meshgrid(grid.x, grid.y)
    >>> ring = ring_positions(8, 0.09)
    >>> eps = np.where(np.hypot(xx - 0.02, yy) < 0.015, 1.5, 1.0)
    >>> _ = brim.save(simulate(eps, grid, 1e9, ring, ring), "fields.nc")
    >>> rec = reconstruct_file("fields.nc", grid="10x10:0.08", method="born")
    >>> rec.brim.kind, dict(rec.sizes), rec.attrs["method"]
    ('reconstruction', {'y': 10, 'x': 10}, 'born')
    >>> iy, ix = np.unravel_index(np.argmax(rec["permittivity"].values.real), (10, 10))
    >>> bool(np.hypot(float(rec["x"][ix]) - 0.02, float(rec["y"][iy])) < 0.01)
    True
    """
    import brim

    res = invert(brim.open(path), TomographyGrid.from_spec(grid), method=method, **params)
    return res.to_dataset()
