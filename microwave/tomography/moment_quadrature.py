"""Second-order moment-corrected Richmond quadrature for the 2-D TM volume integral equation.

Richmond's scheme (:mod:`~brim.microwave.tomography.forward`) takes the field constant over
each cell, so the cell integral
:math:`\\int_{cell} G(\\mathbf r_m - \\mathbf r')\\chi(\\mathbf r')E(\\mathbf r')\\,d\\mathbf r'`
is exact only for constant :math:`E`; the neglected variation of :math:`E` gives an O(d²)
error of about 5e-3 at 20 cells per wavelength. Here the integrand
:math:`f(\\mathbf r') = G(\\mathbf r_m - \\mathbf r')E(\\mathbf r')` is expanded to second order
about each cell centre :math:`\\mathbf c_n` (offset :math:`\\mathbf s = \\mathbf r' - \\mathbf c_n`)
and integrated against the cell's contrast *moments*

.. math::

    m_0 = \\int \\chi, \\qquad \\mathbf m_1 = \\int \\chi\\,\\mathbf s, \\qquad
    \\mathsf M_2 = \\int \\chi\\,\\mathbf s \\mathbf s^T ,

which carry the sub-cell geometry (a boundary cell's contrast is off-centre: :math:`\\mathbf m_1
\\neq 0`). With :math:`\\nabla' f = (\\nabla' G)E + G\\nabla E` and
:math:`\\nabla'\\nabla' f = (\\nabla'\\nabla' G)E + \\nabla' G \\otimes \\nabla E + \\nabla E
\\otimes \\nabla' G + G\\nabla\\nabla E`, the cell integral becomes

.. math::

    m_0 \\bar G E + \\mathbf m_1\\cdot\\nabla' G\\,E
    + \\bigl(\\mathbf m_1\\cdot\\nabla E + \\tfrac12 \\mathsf M_2 : \\nabla\\nabla E\\bigr) G
    + (\\mathsf M_2 \\nabla E)\\cdot\\nabla' G ,

where :math:`m_0\\bar G E` is Richmond's term (its disk integral of :math:`G` already holds the
:math:`\\nabla'\\nabla' G` part). :math:`\\nabla E` and :math:`\\nabla\\nabla E` are central
differences of the unknown field on the grid (second-order one-sided at the domain edge; the TM
field is C¹ across material interfaces), so the operator stays matrix-free: three padded FFTs in
(the sources of :math:`G`, :math:`\\partial_{x'} G`, :math:`\\partial_{y'} G`), one back — about
twice the cost of a Richmond application. The self cell uses the :math:`s^2`-weighted mean of
:math:`G` over its equal-area disk for the second-moment term.

This is the "corrected" (moment-based) quadrature idea used for Lippmann–Schwinger equations
with discontinuous coefficients (e.g. Duan & Rokhlin 2009, *J. Comput. Phys.* 228, 2152, for
smooth contrasts; here with the moments of a piecewise-constant contrast). Measured against the
analytic cylinder series: 0.8e-4 – 2.3e-4 at 20 cells per wavelength in the object, against
4.4e-3 – 8.2e-3 for plain Richmond on the same grid (tests/microwave/test_tomo_forward.py,
benchmarks/RESULTS.md). It needs the sub-cell geometry: :func:`contrast_moments` integrates the
contrast of a permittivity rasterised on a finer grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.integrate as si
import scipy.special as sp

from brim.errors import ConfigError
from brim.microwave.tomography.grid import TomographyGrid, refined_grid
from brim.microwave.tomography.vie import (
    VIEOperator,
    hankel0,
    permittivity_maps,
    receiver_matrix,
)

__all__ = ["ContrastMoments", "contrast_moments", "MomentCorrectedOperator"]


@dataclass(frozen=True)
class ContrastMoments:
    """Per-cell moments of the contrast ``chi = eps_r/eps_b - 1``, shape (n_freq, ny, nx) each.

    ``m0`` (m²), ``m1x``, ``m1y`` (m³) and ``m2xx``, ``m2xy``, ``m2yy`` (m⁴) about the cell
    centres; ``m0 / d²`` is the area-averaged contrast of plain Richmond.

    Attributes
    ----------
    m0 : ndarray (n_freq, ny, nx), complex
        Zeroth moment (integral of the contrast over the cell) in m².
    m1x, m1y : ndarray (n_freq, ny, nx), complex
        First moments in m³.
    m2xx, m2xy, m2yy : ndarray (n_freq, ny, nx), complex
        Second moments in m⁴.
    """

    m0: np.ndarray
    m1x: np.ndarray
    m1y: np.ndarray
    m2xx: np.ndarray
    m2xy: np.ndarray
    m2yy: np.ndarray

    def mean_contrast(self, grid: TomographyGrid) -> np.ndarray:
        """The cell-averaged contrast ``m0 / d²`` (what plain Richmond uses).

        Parameters
        ----------
        grid : TomographyGrid
            The grid the moments belong to.

        Returns
        -------
        ndarray (n_freq, ny, nx), complex
            The contrast (1).
        """
        return self.m0 / grid.d**2


def contrast_moments(fine_maps, grid: TomographyGrid, eps_b, supersample: int) -> ContrastMoments:
    """Contrast moments of each cell of ``grid`` from permittivity maps on a refined grid.

    Parameters
    ----------
    fine_maps : array (n_freq, ny * supersample, nx * supersample), complex
        Relative permittivity on :func:`~brim.microwave.tomography.vie.refined_grid` ``(grid,
        supersample)`` (ideally itself area-averaged at its own boundary cells).
    grid : TomographyGrid
        The simulation grid.
    eps_b : array (n_freq,), complex
        Background permittivity per frequency.
    supersample : int
        Sub-cells per cell and axis (midpoint rule inside each cell).

    Returns
    -------
    ContrastMoments
        The moments per frequency and cell.
    """
    ss = int(supersample)
    ny, nx = grid.shape
    maps = np.asarray(fine_maps, complex)
    if maps.shape[-2:] != (ny * ss, nx * ss):
        raise ConfigError(
            f"fine permittivity map {maps.shape[-2:]} is not the grid {grid.shape} refined "
            f"{ss}x{ss}"
        )
    eps_b = np.asarray(eps_b, complex).reshape(-1, 1, 1)
    h = grid.d / ss
    s = (np.arange(ss) - (ss - 1) / 2) * h
    chi = (maps / eps_b - 1.0).reshape(maps.shape[0], ny, ss, nx, ss)
    # one pass over the fine map: x-weights 1, s, s^2, then the y-weights on the 3x smaller rest
    t = chi @ np.stack([np.ones(ss), s, s * s], axis=1).astype(complex)  # (f, ny, ss, nx, 3)
    t *= h * h
    sy = s[:, None]  # along the fine-y axis (axis 2)
    return ContrastMoments(
        m0=t[..., 0].sum(2),
        m1x=t[..., 1].sum(2),
        m1y=(t[..., 0] * sy).sum(2),
        m2xx=t[..., 2].sum(2),
        m2xy=(t[..., 1] * sy).sum(2),
        m2yy=(t[..., 0] * sy * sy).sum(2),
    )


def fine_maps_from(
    rasterise, grid: TomographyGrid, freq: np.ndarray, supersample: int
) -> np.ndarray:
    """Call ``rasterise`` on the refined grid and return (n_freq, NY, NX) permittivity maps.

    Parameters
    ----------
    rasterise : callable
        ``TomographyGrid -> permittivity`` (a map, a stack or ``f_hz -> map``).
    grid : TomographyGrid
        The simulation grid.
    freq : ndarray (n_freq,)
        Frequencies in Hz.
    supersample : int
        Sub-cells per cell and axis.

    Returns
    -------
    ndarray (n_freq, NY, NX), complex
        The maps on the refined grid.
    """
    if supersample < 2:
        raise ConfigError(f"supersample must be >= 2, got {supersample}")
    return permittivity_maps(rasterise(refined_grid(grid, factor=supersample)), freq)


def _green_gradient_over_offset(k: complex, rho, a: float) -> np.ndarray:
    """``k^2 dG/dx'`` divided by ``x - x'`` (the same for y) at distance ``rho``; 0 for rho < a.

    ``G = -(j/4) H0^(2)(k rho)``; ``d/dx' H0(k|r - r'|) = k H1(k rho) (x - x')/rho``. The point
    value is scaled by Richmond's disk-average factor ``2 J1(ka)/(ka)``; inside a cell's
    equal-area disk (the self cell, or a receiver inside a cell) the term is dropped.
    """
    rho = np.asarray(rho, float)
    fac = 2 * sp.jv(1, k * a) / (k * a)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = k**2 * (-0.25j) * k * sp.hankel2(1, k * rho) / rho * fac
    return np.where(rho < a, 0.0, q)


def _self_weighted_green(grid: TomographyGrid, k: complex) -> complex:
    """``k^2 G`` averaged over the cell's equal-area disk with weight ``s^2`` (the self term)."""
    a = grid.radius

    def part(fn):
        return si.quad(lambda r: fn(-0.25j * hankel0(k, r)) * r**3, 0.0, a, limit=200)[0]

    return complex(k**2 * (part(np.real) + 1j * part(np.imag)) / (a**4 / 4))


class MomentCorrectedOperator(VIEOperator):
    """Richmond operator with the second-order moment correction (see the module notes).

    Parameters
    ----------
    grid, k_b, backend, precision
        As for :class:`~brim.microwave.tomography.vie.VIEOperator`.
    moments : ContrastMoments
        Contrast moments per frequency and cell (:func:`contrast_moments`).
    """

    def __init__(self, grid: TomographyGrid, k_b, moments: ContrastMoments, **kwargs):
        super().__init__(grid, k_b, **kwargs)
        xp = self.xp
        py_, px_ = self.pad
        ny, nx = grid.shape
        iy, ix = np.arange(py_), np.arange(px_)
        oy = np.where(iy < ny, iy, iy - py_)
        ox = np.where(ix < nx, ix, ix - px_)
        inside = (np.abs(oy)[:, None] < ny) & (np.abs(ox)[None, :] < nx)
        ay, ax = np.minimum(np.abs(oy), ny - 1), np.minimum(np.abs(ox), nx - 1)
        dx_hat, dy_hat, s2 = [], [], []
        rho_q = grid.d * np.hypot(np.arange(ny)[:, None], np.arange(nx)[None, :])
        for k in self.k_b:
            q_quadrant = _green_gradient_over_offset(k, rho_q, grid.radius)
            q = np.where(inside, q_quadrant[ay[:, None], ax[None, :]], 0)
            dx_hat.append(np.fft.fft2(q * (ox[None, :] * grid.d)))
            dy_hat.append(np.fft.fft2(q * (oy[:, None] * grid.d)))
            s2.append(_self_weighted_green(grid, k))
        self._dx_hat = xp.asarray(np.stack(dx_hat).astype(self.dtype))
        self._dy_hat = xp.asarray(np.stack(dy_hat).astype(self.dtype))
        self._self_shift = xp.asarray(
            (np.array(s2) - self.self_term / grid.d**2).astype(self.dtype)
        )
        self.host_moments = moments
        self.moments = ContrastMoments(
            *(xp.asarray(np.asarray(v), dtype=self.dtype) for v in vars(moments).values())
        )

    def apply_integral(self, e):
        """``k^2 ∫ G chi E`` at the cell centres with the moment-corrected quadrature.

        Parameters
        ----------
        e : array (n_freq, n_src, ny, nx), complex
            Total field in the cells (V/m).

        Returns
        -------
        array (n_freq, n_src, ny, nx), complex
            The integral at the cell centres (V/m).
        """
        w_g, w_x, w_y, t = _sources(self.xp, self.moments, self.grid.d, e)
        a = self._spectrum(w_g / self.grid.d**2)
        a *= self._kernel_hat[:, None]
        b = self._spectrum(w_x)
        b *= self._dx_hat[:, None]
        a += b
        b = self._spectrum(w_y)
        b *= self._dy_hat[:, None]
        a += b
        return self._crop_inverse(a) + self._self_shift[:, None, None, None] * t

    def apply_system(self, e, chi=None):
        """``E - K E`` with the corrected integral operator ``K`` (``chi`` is not used).

        Parameters
        ----------
        e : array (n_freq, n_src, ny, nx), complex
            Total field in the cells (V/m).
        chi : ignored
            For the signature of :meth:`VIEOperator.apply_system`.

        Returns
        -------
        array (n_freq, n_src, ny, nx), complex
            ``E - K E``.
        """
        return e - self.apply_integral(e)

    def scattered(self, e, rx_x, rx_y) -> np.ndarray:
        """Scattered field at the receivers (n_freq, n_src, n_rx) from the total field ``e``.

        The same moment-corrected cell integrals with the receiver Green's function (a receiver
        inside a cell's equal-area disk gets no gradient term).

        Parameters
        ----------
        e : array (n_freq, n_src, ny, nx), complex
            Total field in the cells (V/m).
        rx_x, rx_y : array_like (n_rx,)
            Receiver positions in m.

        Returns
        -------
        ndarray (n_freq, n_src, n_rx), complex
            Scattered field in V/m.
        """
        from brim.backend import to_numpy

        e = np.asarray(to_numpy(e), complex)
        w_g, w_x, w_y, _ = _sources(np, self.host_moments, self.grid.d, e)
        px, py = self.grid.points()
        rx_x, rx_y = np.asarray(rx_x, float), np.asarray(rx_y, float)
        dxr = rx_x[:, None] - px[None]
        dyr = rx_y[:, None] - py[None]
        rho = np.hypot(dxr, dyr)
        a = self.grid.radius
        rmat = receiver_matrix(self.grid, rx_x, rx_y, self.k_b)
        nf, ns = e.shape[:2]
        out = np.empty((nf, ns, rx_x.size), complex)
        for i, k in enumerate(self.k_b):
            q = _green_gradient_over_offset(k, rho, a)
            out[i] = (
                w_g[i].reshape(ns, -1) @ rmat[i].T / self.grid.d**2
                + w_x[i].reshape(ns, -1) @ (q * dxr).T
                + w_y[i].reshape(ns, -1) @ (q * dyr).T
            )
        return out


def _sources(xp, m: ContrastMoments, d: float, e):
    """The source fields ``(w_G, w_x, w_y, t)`` of the corrected cell integrals.

    ``w_G = m0 E + t`` with ``t = m1·∇E + ½ M2:∇∇E`` goes with ``G``; ``w_x``, ``w_y`` (the
    components of ``m1 E + M2 ∇E``) go with ``∂G/∂x'``, ``∂G/∂y'``. ``e``: (n_freq, n_src, ny, nx).
    """
    ey, ex = xp.gradient(e, d, axis=(-2, -1), edge_order=2)
    eyy, eyx = xp.gradient(ey, d, axis=(-2, -1), edge_order=2)
    exy, exx = xp.gradient(ex, d, axis=(-2, -1), edge_order=2)
    m0, m1x, m1y, m2xx, m2xy, m2yy = (
        v[:, None] for v in (m.m0, m.m1x, m.m1y, m.m2xx, m.m2xy, m.m2yy)
    )
    t = m1x * ex + m1y * ey + 0.5 * (m2xx * exx + m2xy * (exy + eyx) + m2yy * eyy)
    return m0 * e + t, m1x * e + m2xx * ex + m2xy * ey, m1y * e + m2xy * ex + m2yy * ey, t
