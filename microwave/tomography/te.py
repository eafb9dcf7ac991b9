"""2-D TE polarisation: the transverse-field volume integral equation, FFT-accelerated.

Physics
-------
A transverse-electric wave (:math:`H_z`, with the electric field :math:`(E_x, E_y)` in the
plane of the grid) in a background of relative permittivity :math:`\\varepsilon_b` scattered by
an object of contrast :math:`\\chi = \\varepsilon_r/\\varepsilon_b - 1` obeys (time convention
``exp(+j omega t)``)

.. math::

    \\mathbf E = \\mathbf E^{inc} + (k_b^2 + \\nabla\\nabla\\cdot) \\int_D G\\,\\chi\\mathbf E
        \\,d\\mathbf r', \\qquad G = -\\tfrac{j}{4} H_0^{(2)}(k_b |\\mathbf r - \\mathbf r'|).

Discretisation (Richmond 1966, "TE-wave scattering by a dielectric cylinder of arbitrary
cross-section shape", *IEEE Trans. Antennas Propag.* 14(4), 460): constant field and contrast
per square cell, each cell replaced by the disk of equal area (radius ``a = d/sqrt(pi)``), the
grad-div applied to the exact disk integral of ``G`` (the derivatives are taken outside the
integral, so the depolarisation of the cell is exact for a disk). With
``C = -(j pi k a / 2) J1(k a)``, ``z = k rho_mn`` and the unit offset ``(u_x, u_y)`` from cell
n to cell m,

.. math::

    g^{xx}_{mn} = C\\,[H_0(z) - H_1(z)/z + u_x^2 H_2(z)], \\quad
    g^{yy}_{mn} = C\\,[H_0(z) - H_1(z)/z + u_y^2 H_2(z)], \\quad
    g^{xy}_{mn} = C\\,u_x u_y H_2(z),

and on the diagonal ``g^xx = g^yy = -(j pi k a / 4) H1(k a) - 1``, ``g^xy = 0`` (its static
limit, -1/2, is the depolarisation factor of a circular cylinder in a transverse field, so a
single cell gives ``E = 2 E_inc / (1 + eps_r)``). All Hankel functions are of the second kind.
The three kernels are 2-D Toeplitz, so the operator is applied by FFT on a zero-padded grid as
the TM operator is (:class:`~brim.microwave.tomography.vie.VIEOperator`); the block operator is
complex symmetric, so its adjoint is ``conj(g conj(w))`` as in TM. FFT-based TE solvers of this
family: Zwamborn & van den Berg 1991 (*IEEE Trans. Microw. Theory Tech.* 39, 953).

Fields on the grid are stored with the two components stacked along y: an array
``(..., 2 ny, nx)`` whose first ``ny`` rows are ``E_x`` and last ``ny`` rows ``E_y`` (flattened:
``2 N`` values, ``E_x`` first), so the batched Krylov solvers of
:mod:`~brim.microwave.tomography.krylov` run unchanged.

The measured scalar is the magnetic field scaled by the background impedance,
``u = eta_b H_z`` (V/m; in the far field of the object it equals the transverse electric field),
so TE and TM field sets have the same units and the same calibration. A TE line source is a
magnetic line current with ``u_inc = -(omega mu0 / 4) H0^(2)(k rho)`` (the same scalar as the TM
line source of 1 A), its electric field ``E = (1/(j k)) (du/dy, -du/dx)``; the field radiated
by the contrast sources ``w = chi E`` of cell n is
``u_s = -(pi k a / 2) J1(k a) H1^(2)(k rho) (r_x w_y - r_y w_x)`` with ``(r_x, r_y)`` the unit
vector from the cell to the receiver.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.special as sp

from brim.microwave.tomography.grid import TomographyGrid
from brim.microwave.tomography.vie import VIEOperator, hankel0

__all__ = [
    "POLARISATIONS",
    "TEVIEOperator",
    "check_polarisation",
    "dense_richmond_te_matrix",
    "te_line_source_field",
    "te_plane_wave_field",
    "te_receiver_matrix",
]

POLARISATIONS = ("TM", "TE")


def check_polarisation(polarisation: str) -> str:
    """The canonical name (``"TM"`` or ``"TE"``) of a polarisation, any case.

    Parameters
    ----------
    polarisation : str
        ``"TM"`` or ``"TE"`` (case-insensitive).

    Returns
    -------
    str
        ``"TM"`` or ``"TE"``.

    Raises
    ------
    ConfigError
        Any other value.

    Examples
    --------
    >>> from brim.microwave.tomography.te import check_polarisation
    >>> check_polarisation("te")
    'TE'
    """
    from brim.errors import ConfigError

    p = str(polarisation).upper()
    if p not in POLARISATIONS:
        raise ConfigError(f"unknown polarisation {polarisation!r}; use 'TM' or 'TE'")
    return p


def _hankel1(k: complex, rho) -> np.ndarray:
    """``H1^(2)(k rho)``: ``J1 - j Y1`` of a real argument when ``k`` is real (faster)."""
    k = complex(k)
    if k.imag == 0.0:
        x = k.real * np.asarray(rho, float)
        return sp.j1(x) - 1j * sp.y1(x)
    return sp.hankel2(1, k * np.asarray(rho))


def _te_kernels(k: complex, a: float, dx, dy):
    """``(g_xx, g_yy, g_xy)`` of cells at offsets ``(dx, dy)`` (m); offset 0: the self term."""
    rho = np.hypot(dx, dy)
    far = rho > 0
    safe = np.where(far, rho, 1.0)
    z = k * safe
    ux, uy = dx / safe, dy / safe
    c = -(1j * np.pi * k * a / 2) * sp.jv(1, k * a)
    h0 = hankel0(k, safe)
    h1 = _hankel1(k, safe)
    h2 = 2 * h1 / z - h0
    base = h0 - h1 / z
    self_term = -(1j * np.pi * k * a / 4) * sp.hankel2(1, k * a) - 1.0
    gxx = np.where(far, c * (base + ux**2 * h2), self_term)
    gyy = np.where(far, c * (base + uy**2 * h2), self_term)
    gxy = np.where(far, c * ux * uy * h2, 0.0)
    return gxx, gyy, gxy


class TEVIEOperator(VIEOperator):
    """Matrix-free TE Richmond operator ``w -> g w`` on ``(E_x, E_y)``, batched like TM.

    Parameters
    ----------
    grid : TomographyGrid
        Imaging domain; the fields hold ``E_x`` and ``E_y`` on it.
    k_b : array_like of complex
        Background wavenumber per frequency (rad/m), shape (n_freq,).
    backend : {"numpy", "cupy"}
        Where the FFTs run.
    precision : {"double", "single"}
        complex128 or complex64 kernel spectra.

    Notes
    -----
    Fields are ``(n_freq, n_src, 2 ny, nx)``: ``E_x`` rows first, then ``E_y``. A contrast of
    ``(n_freq, ny, nx)`` multiplies both components (:meth:`apply_system`).

    Examples
    --------
    The total field of a TE plane wave in a uniform contrast, solved like TM:

    >>> import numpy as np
    >>> from brim.microwave.tomography import (TomographyGrid, background_wavenumber,
    ...                                        solve_total_field)
    >>> from brim.microwave.tomography.te import TEVIEOperator, te_plane_wave_field
    >>> grid = TomographyGrid.centered(8, 0.08)
    >>> k = background_wavenumber(1e9, 1.0)
    >>> e_inc = te_plane_wave_field(*grid.points(), [0.0], k).reshape(1, 1, 16, 8)
    >>> e, info = solve_total_field(TEVIEOperator(grid, k), np.full((1, 8, 8), 1.0 + 0j), e_inc)
    >>> e.shape, bool(info.residual.max() < 1e-8)
    ((1, 1, 16, 8), True)
    """

    ncomp = 2

    def _build_kernels(self):
        """The spectra of the three TE kernels (xx, yy, xy) and the self terms, per frequency."""
        grid = self.grid
        oy = _wrapped_offsets(grid.ny, self.pad[0]) * grid.d
        ox = _wrapped_offsets(grid.nx, self.pad[1]) * grid.d
        dy, dx = np.meshgrid(oy, ox, indexing="ij")
        hats = []
        selfs = []
        for k in self.k_b:
            kern = _te_kernels(k, grid.radius, np.nan_to_num(dx), np.nan_to_num(dy))
            valid = np.isfinite(dx) & np.isfinite(dy)
            hats.append([scipy.fft.fft2(np.where(valid, g, 0.0), workers=-1) for g in kern])
            selfs.append(kern[0][0, 0])
        return self.xp.asarray(np.array(hats).astype(self.dtype)), np.array(
            selfs
        )  # (nf, 3, Py, Px)

    def apply_g(self, w):
        """Apply the TE operator to contrast sources ``w`` (n_freq, n_src, 2 ny, nx).

        Parameters
        ----------
        w : array (n_freq, n_src, 2 ny, nx), complex
            ``chi E`` with ``E_x`` rows first, then ``E_y``.

        Returns
        -------
        array (n_freq, n_src, 2 ny, nx), complex
            ``g w``.
        """
        xp = self.xp
        ny = self.grid.ny
        sx = self._spectrum(w[..., :ny, :])
        sy = self._spectrum(w[..., ny:, :])
        kh = self._kernel_hat[:, None]
        ox = kh[:, :, 0] * sx + kh[:, :, 2] * sy
        oy = kh[:, :, 2] * sx
        oy += kh[:, :, 1] * sy
        return xp.concatenate([self._crop_inverse(ox), self._crop_inverse(oy)], axis=-2)

    def apply_system(self, e, chi):
        """``(I - g chi) e`` with ``chi`` (n_freq, ny, nx) on both components of ``e``.

        Parameters
        ----------
        e : array (n_freq, n_src, 2 ny, nx), complex
            Field in the cells (V/m), ``E_x`` rows first.
        chi : array (n_freq, ny, nx) or (n_freq, 2 ny, nx), complex
            Contrast (1).

        Returns
        -------
        array (n_freq, n_src, 2 ny, nx), complex
            ``(I - g chi) e``.
        """
        if chi.shape[-2] == self.grid.ny:
            chi = self.xp.concatenate([chi, chi], axis=-2)
        return e - self.apply_g(chi[:, None] * e)


def _wrapped_offsets(n: int, size: int) -> np.ndarray:
    """Cell offsets of a circulant embedding of length ``size``; NaN in the zero padding."""
    i = np.arange(size, dtype=float)
    out = np.full(size, np.nan)
    out[:n] = i[:n]
    neg = i >= size - n + 1
    out[neg] = i[neg] - size
    return out


def dense_richmond_te_matrix(grid: TomographyGrid, k: complex) -> np.ndarray:
    """Full TE Richmond matrix (2N x 2N, ``E_x`` block first) for one frequency: a reference.

    Parameters
    ----------
    grid : TomographyGrid
        A small grid (the matrix has ``4 (ny nx)^2`` entries).
    k : complex
        Background wavenumber in rad/m.

    Returns
    -------
    ndarray (2N, 2N), complex
        ``[[g_xx, g_xy], [g_xy, g_yy]]``.

    Examples
    --------
    >>> from brim.microwave.tomography import TomographyGrid
    >>> from brim.microwave.tomography.te import dense_richmond_te_matrix
    >>> g = dense_richmond_te_matrix(TomographyGrid.centered(3, 0.03), 20.0)
    >>> g.shape, bool(abs(g - g.T).max() < 1e-12)  # complex symmetric
    ((18, 18), True)
    """
    px, py = grid.points()
    dx = px[:, None] - px[None]
    dy = py[:, None] - py[None]
    gxx, gyy, gxy = _te_kernels(complex(k), grid.radius, dx, dy)
    return np.block([[gxx, gxy], [gxy, gyy]])


def te_receiver_matrix(grid: TomographyGrid, rx_x, rx_y, k_b) -> np.ndarray:
    """Operator from TE contrast sources ``w = chi E`` (2N) to ``u = eta_b H_z`` at receivers.

    ``u_s(rx) = sum_n -(pi k a / 2) J1(k a) H1^(2)(k rho) (r_x w_y,n - r_y w_x,n)`` with
    ``(r_x, r_y)`` the unit vector from cell n to the receiver (receivers outside the cells).

    Parameters
    ----------
    grid : TomographyGrid
        The grid; each cell carries two sources, ``w_x`` and ``w_y``.
    rx_x, rx_y : array_like (n_rx,)
        Receiver positions in m, outside every cell (there is no interior formula).
    k_b : array_like (n_freq,), complex
        Background wavenumber per frequency in rad/m.

    Returns
    -------
    ndarray (n_freq, n_rx, 2 ny nx), complex
        ``[R_x, R_y]`` along the last axis.

    Examples
    --------
    A receiver on the x axis sees only the y component of the sources (``r_y = 0``):

    >>> import numpy as np
    >>> from brim.microwave.tomography import TomographyGrid
    >>> from brim.microwave.tomography.te import te_receiver_matrix
    >>> r = te_receiver_matrix(TomographyGrid.centered(1, 0.01), [0.2], [0.0], [20.96])
    >>> r.shape, bool(abs(r[0, 0, 0]) < 1e-15 < abs(r[0, 0, 1]))
    ((1, 1, 2), True)
    """
    k_b = np.atleast_1d(k_b)
    px, py = grid.points()
    dx = np.asarray(rx_x, float)[:, None] - px[None]
    dy = np.asarray(rx_y, float)[:, None] - py[None]
    rho = np.hypot(dx, dy)
    a = grid.radius
    out = np.empty((k_b.size, rho.shape[0], 2 * rho.shape[1]), complex)
    for i, k in enumerate(k_b):
        h = -(np.pi * k * a / 2) * sp.jv(1, k * a) * _hankel1(k, rho) / rho
        out[i, :, : px.size] = -h * dy
        out[i, :, px.size :] = h * dx
    return out


def te_line_source_field(px, py, sx, sy, freq, k_b) -> np.ndarray:
    """Electric field ``(E_x, E_y)`` of TE line sources (magnetic line currents) at points.

    ``u = eta_b H_z = -(omega mu0 / 4) H0^(2)(k rho)`` (the scalar of the TM line source),
    ``E = (1/(j k)) (du/dy, -du/dx) = (omega mu0 / 4) H1^(2)(k rho) (r_y, -r_x) / j`` with
    ``(r_x, r_y)`` the unit vector from the source.

    Parameters
    ----------
    px, py : array (n_pts,)
        Observation points in m.
    sx, sy : array (n_src,)
        Source positions in m.
    freq : float or array (n_freq,)
        Frequencies in Hz.
    k_b : complex or array (n_freq,)
        Background wavenumber per frequency in rad/m.

    Returns
    -------
    ndarray (n_freq, n_src, 2 n_pts), complex
        ``E_x`` at every point, then ``E_y`` (V/m); NaN at a source.

    Examples
    --------
    The field circles the source: at (0.1, 0) it points along -y (or +y), never along x.

    >>> import numpy as np
    >>> from brim.microwave.tomography.te import te_line_source_field
    >>> e = te_line_source_field([0.1], [0.0], [0.0], [0.0], 1e9, 20.96)
    >>> bool(abs(e[0, 0, 0]) < 1e-12 < abs(e[0, 0, 1]))
    True
    """
    from scipy.constants import mu_0

    freq = np.atleast_1d(np.asarray(freq, float))
    k_b = np.atleast_1d(np.asarray(k_b, complex))
    dx = np.asarray(px, float)[None, :] - np.asarray(sx, float)[:, None]
    dy = np.asarray(py, float)[None, :] - np.asarray(sy, float)[:, None]
    rho = np.hypot(dx, dy)
    rho = np.where(rho > 0, rho, np.nan)
    out = np.empty((freq.size, rho.shape[0], 2 * rho.shape[1]), complex)
    for i, (f, k) in enumerate(zip(freq, k_b, strict=True)):
        amp = (2 * np.pi * f * mu_0 / 4) * _hankel1(k, rho) / (1j * rho)
        out[i, :, : rho.shape[1]] = amp * dy
        out[i, :, rho.shape[1] :] = -amp * dx
    return out


def te_plane_wave_field(px, py, angles, k_b) -> np.ndarray:
    """``(E_x, E_y)`` of unit TE plane waves (``u = exp(-j k d.r)``, ``E = u (-sin a, cos a)``).

    Parameters
    ----------
    px, py : array_like (n_pts,)
        Observation points in m.
    angles : array_like (n_angle,)
        Propagation directions ``a`` in rad; the field points along ``(-sin a, cos a)``.
    k_b : complex or array_like (n_freq,)
        Background wavenumber per frequency in rad/m.

    Returns
    -------
    ndarray (n_freq, n_angle, 2 n_pts), complex
        ``E_x`` at every point, then ``E_y``.

    Examples
    --------
    A wave travelling along +x is polarised along y:

    >>> from brim.microwave.tomography.te import te_plane_wave_field
    >>> e = te_plane_wave_field([0.0], [0.0], [0.0], 20.96)
    >>> e.shape, abs(complex(e[0, 0, 0])), complex(e[0, 0, 1])
    ((1, 1, 2), 0.0, (1+0j))
    """
    k_b = np.atleast_1d(np.asarray(k_b, complex))
    a = np.asarray(angles, float)[None, :, None]
    proj = np.cos(a) * np.asarray(px, float) + np.sin(a) * np.asarray(py, float)
    u = np.exp(-1j * k_b[:, None, None] * proj)
    return np.concatenate([-np.sin(a) * u, np.cos(a) * u], axis=-1)
