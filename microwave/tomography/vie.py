"""The discretised 2-D TM volume integral equation: grid, cell Green's function, FFT operator.

The building blocks shared by the forward solver (:mod:`brim.microwave.tomography.forward`), the
moment-corrected quadrature (:mod:`brim.microwave.tomography.moment_quadrature`) and the inversion
(:mod:`brim.microwave.tomography.inverse`): the square-cell
:class:`~brim.microwave.tomography.grid.TomographyGrid`, the outgoing Hankel function of the
2-D Green's function, Richmond's closed-form cell integrals (Richmond 1965, *IEEE Trans.
Antennas Propag.* 13, 334: each square cell of side ``d`` replaced by the disk of equal area,
radius ``a = d / sqrt(pi)``),

.. math::

    g_{mn} = -\\tfrac{j\\pi k_b a}{2} J_1(k_b a) H_0^{(2)}(k_b\\rho_{mn}) \\quad (m \\ne n), \\qquad
    g_{mm} = -\\tfrac{j\\pi k_b a}{2} H_1^{(2)}(k_b a) - 1 ,

the matrix-free Toeplitz operator :class:`VIEOperator` (a circular convolution on a zero-padded,
FFT-friendly grid, batched over frequencies and sources), its dense reference
:func:`dense_richmond_matrix`, the receiver operator :func:`receiver_matrix`, and the
per-frequency permittivity maps. Engineering time convention ``exp(+j*omega*t)`` (brim-wide).
The physics and accuracy are described in :mod:`brim.microwave.tomography.forward`.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.special as sp

from brim.backend import to_numpy
from brim.errors import ConfigError
from brim.microwave.tomography.grid import TomographyGrid

__all__ = [
    "PRECISIONS",
    "VIEOperator",
    "complex_dtype",
    "dense_richmond_matrix",
    "hankel0",
    "permittivity_maps",
    "receiver_matrix",
]


# ----------------------------------------------------------------------------------------------
# Green's function, receiver operator
# ----------------------------------------------------------------------------------------------
def hankel0(k: complex, rho) -> np.ndarray:
    """``H0^(2)(k rho)``, the outgoing Hankel function of the 2-D Green's function.

    Evaluated as ``J0 - j Y0`` of a real argument when ``k`` is real (lossless background,
    faster), as ``scipy.special.hankel2`` otherwise.

    Parameters
    ----------
    k : complex
        Wavenumber in rad/m.
    rho : array_like
        Distances in m.

    Returns
    -------
    ndarray, complex
        ``H0^(2)(k rho)``.

    Examples
    --------
    >>> from brim.microwave.tomography.vie import hankel0
    >>> h = complex(hankel0(1.0, 1.0))
    >>> round(h.real, 6), round(h.imag, 6)  # J0(1), -Y0(1)
    (0.765198, -0.088257)
    """
    k = complex(k)
    if k.imag == 0.0:
        x = k.real * np.asarray(rho, float)
        return sp.j0(x) - 1j * sp.y0(x)
    return sp.hankel2(0, k * rho)


def receiver_matrix(grid: TomographyGrid, rx_x, rx_y, k_b) -> np.ndarray:
    """Operator from contrast sources ``w = chi*E`` on the grid to scattered field at receivers.

    ``E_s(rx) = sum_n R[f, rx, n] w_n`` with the Richmond cell integral
    ``R = -(j pi k a / 2) J1(k a) H0^(2)(k rho)``; shape (n_freq, n_rx, ny*nx). A receiver inside a
    cell's equal-area circle (rho < a) uses the exact interior value
    ``-(j pi k a / 2) J0(k rho) H1^(2)(k a) - 1`` of the same disk integral.

    Parameters
    ----------
    grid : TomographyGrid
        The grid; one source per cell.
    rx_x, rx_y : array_like (n_rx,)
        Receiver positions in m, anywhere (one inside a cell gets the interior value).
    k_b : array_like (n_freq,), complex
        Background wavenumber per frequency in rad/m.

    Returns
    -------
    ndarray (n_freq, n_rx, ny * nx), complex
        The operator ``R``.
    """
    k_b = np.atleast_1d(k_b)
    px, py = grid.points()
    rho = np.hypot(np.asarray(rx_x)[:, None] - px[None], np.asarray(rx_y)[:, None] - py[None])
    a = grid.radius
    out = np.empty((k_b.size,) + rho.shape, complex)
    near = rho < a
    for i, k in enumerate(k_b):
        coef = -(1j * np.pi * k * a / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = coef * sp.jv(1, k * a) * hankel0(k, rho)
        if near.any():
            out[i][near] = coef * sp.jv(0, k * rho[near]) * sp.hankel2(1, k * a) - 1.0
    return out


# ----------------------------------------------------------------------------------------------
# the FFT operator
# ----------------------------------------------------------------------------------------------
def _backend_modules(backend: str):
    """``(array module, FFT module)`` of a backend name: CuPy's for ``"cupy"``, else NumPy's."""
    if backend == "cupy":
        import cupy
        import cupyx.scipy.fft as cfft

        return cupy, cfft
    return np, scipy.fft


PRECISIONS = {"double": np.complex128, "single": np.complex64}
_SINGLE_MIN_TOL = 1e-5


def complex_dtype(precision: str, *, tol: float | None = None):
    """The complex dtype of a ``precision`` name; single precision refuses ``tol < 1e-5``.

    Parameters
    ----------
    precision : {"double", "single"}
        The precision name.
    tol : float, optional
        The solver tolerance to check against single precision.

    Returns
    -------
    numpy.dtype
        ``complex128`` or ``complex64``.
    """
    try:
        dtype = PRECISIONS[precision]
    except KeyError:
        raise ConfigError(
            f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}"
        ) from None
    if tol is not None and dtype == np.complex64 and tol < _SINGLE_MIN_TOL:
        raise ConfigError(
            f"tol {tol:g} is below what single precision can certify ({_SINGLE_MIN_TOL:g}); "
            "use precision='double' or a looser tolerance"
        )
    return dtype


def _richmond_kernel(grid: TomographyGrid, k: complex, shape_pad: tuple[int, int]) -> np.ndarray:
    """Circulant embedding of the Richmond Green's kernel g on the padded grid (host array).

    The kernel depends on ``|offset|`` only, so the Hankel functions are evaluated on the
    ``ny x nx`` quadrant of non-negative offsets and mirrored into the wrapped negative ones.
    """
    py_, px_ = shape_pad
    ny, nx = grid.shape
    a = grid.radius
    rho = grid.d * np.hypot(np.arange(ny)[:, None], np.arange(nx)[None, :])
    coef = -(1j * np.pi * k * a / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = coef * sp.jv(1, k * a) * hankel0(k, rho)
    q[0, 0] = coef * sp.hankel2(1, k * a) - 1.0
    g = np.zeros(shape_pad, complex)
    g[:ny, :nx] = q
    g[py_ - ny + 1 :, :nx] = q[1:][::-1]
    g[:ny, px_ - nx + 1 :] = q[:, 1:][:, ::-1]
    g[py_ - ny + 1 :, px_ - nx + 1 :] = q[1:, 1:][::-1, ::-1]
    return g


class VIEOperator:
    """Matrix-free Richmond operator ``w -> g * w`` on a grid, batched over frequency and source.

    Parameters
    ----------
    grid : TomographyGrid
        Imaging domain.
    k_b : array_like of complex
        Background wavenumber per frequency (rad/m), shape (n_freq,).
    backend : {"numpy", "cupy"}
        Where the FFTs run.
    precision : {"double", "single"}
        complex128 or complex64 kernel spectrum; :meth:`apply_g` expects fields of that dtype
        (:attr:`dtype`).

    Notes
    -----
    The padded FFT size per axis is ``next_fast_len(2 n - 1)``; the padded region is zero so the
    circular convolution equals the linear (Toeplitz) one on the domain.
    """

    def __init__(
        self, grid: TomographyGrid, k_b, *, backend: str = "numpy", precision: str = "double"
    ):
        self.grid = grid
        self.dtype = complex_dtype(precision)
        self.k_b = np.atleast_1d(np.asarray(k_b, complex))
        self.backend = backend
        self.xp, self.fft = _backend_modules(backend)
        self.pad = (
            scipy.fft.next_fast_len(2 * grid.ny - 1),
            scipy.fft.next_fast_len(2 * grid.nx - 1),
        )
        self._kernel_hat, self.self_term = self._build_kernels()

    def _build_kernels(self):
        """The kernel spectra on the padded grid and the self terms, one per frequency."""
        kern = np.stack([_richmond_kernel(self.grid, k, self.pad) for k in self.k_b])
        hat = self.xp.asarray(scipy.fft.fft2(kern, workers=-1).astype(self.dtype))
        return hat, np.array([kern[i, 0, 0] for i in range(kern.shape[0])])

    def _fft(self, a, *, n=None, axis=-1, inverse=False, overwrite=False):
        f = self.fft.ifft if inverse else self.fft.fft
        if self.backend == "numpy":
            return f(a, n=n, axis=axis, overwrite_x=overwrite, workers=-1)
        return f(a, n=n, axis=axis, overwrite_x=overwrite)

    def apply_g(self, w):
        """Convolve contrast sources ``w`` (n_freq, n_src, ny, nx) with the Richmond kernel.

        The 2-D FFTs are pruned (Skinner-style zero-skipping, see e.g. Markel 1971, *IEEE Trans.
        Audio Electroacoust.* 19, 305): the forward x-transform runs only on the ``ny`` data rows
        (the padded rows are zero) and the inverse x-transform only on the ``ny`` rows that are
        kept, which saves a quarter of the FFT work of a full padded ``fft2``/``ifft2``.

        Parameters
        ----------
        w : array (n_freq, n_src, ny, nx), complex
            Contrast sources ``chi * E``.

        Returns
        -------
        array (n_freq, n_src, ny, nx), complex
            ``g w`` on the backend of the operator.
        """
        a = self._spectrum(w)
        a *= self._kernel_hat[:, None]
        return self._crop_inverse(a)

    def _spectrum(self, w):
        """Padded 2-D FFT of fields on the grid (pruned: padded rows skip the x-transform)."""
        a = self._fft(w, n=self.pad[1], axis=-1)
        return self._fft(a, n=self.pad[0], axis=-2, overwrite=True)

    def _crop_inverse(self, a):
        """Inverse of :meth:`_spectrum` cropped to the grid (only kept rows are x-transformed)."""
        ny, nx = self.grid.shape
        a = self._fft(a, axis=-2, inverse=True, overwrite=True)[..., :ny, :]
        return self._fft(a, axis=-1, inverse=True, overwrite=True)[..., :nx]

    def apply_g_adjoint(self, w):
        """Adjoint (conjugate transpose) of :meth:`apply_g` (the kernel is symmetric).

        Parameters
        ----------
        w : array (n_freq, n_src, ny, nx), complex
            Fields on the grid (in CSI's gradient: ``conj(chi)`` times the domain residuals).

        Returns
        -------
        array (n_freq, n_src, ny, nx), complex
            ``g^H w``.
        """
        # g is complex symmetric, so g^H w = conj(g conj(w))
        xp = self.xp
        return xp.conj(self.apply_g(xp.conj(w)))

    def apply_system(self, e, chi):
        """``(I - g chi) e`` with ``chi`` (n_freq, ny, nx) and ``e`` (n_freq, n_src, ny, nx).

        Parameters
        ----------
        e : array (n_freq, n_src, ny, nx), complex
            Field in the cells (V/m).
        chi : array (n_freq, ny, nx), complex
            Contrast (1).

        Returns
        -------
        array (n_freq, n_src, ny, nx), complex
            ``(I - g chi) e``.
        """
        return e - self.apply_g(chi[:, None] * e)


def dense_richmond_matrix(grid: TomographyGrid, k: complex) -> np.ndarray:
    """Full Richmond matrix ``g`` (N x N, N = ny*nx) for one frequency — a dense reference.

    Parameters
    ----------
    grid : TomographyGrid
        The grid (small: the matrix has ``(ny*nx)**2`` entries).
    k : complex
        Background wavenumber in rad/m.

    Returns
    -------
    ndarray (N, N), complex
        The matrix ``g``.
    """
    px, py = grid.points()
    rho = np.hypot(px[:, None] - px[None], py[:, None] - py[None])
    a = grid.radius
    coef = -(1j * np.pi * k * a / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = coef * sp.jv(1, k * a) * hankel0(k, rho)
    np.fill_diagonal(g, coef * sp.hankel2(1, k * a) - 1.0)
    return g


# ----------------------------------------------------------------------------------------------
# permittivity maps
# ----------------------------------------------------------------------------------------------
def permittivity_maps(permittivity, freq: np.ndarray) -> np.ndarray:
    """Relative permittivity as contiguous complex maps (n_freq, ny, nx), one per frequency.

    ``permittivity`` is a map (ny, nx) used at every frequency, a stack (n_freq, ny, nx), or a
    callable ``f -> map`` (f in Hz). A positive imaginary part is refused (brim's time
    convention is ``exp(+j omega t)``: lossy media are ``eps' - j eps''``).

    Parameters
    ----------
    permittivity : array_like or callable
        ``(ny, nx)``, ``(n_freq, ny, nx)`` or ``f_hz -> map``.
    freq : ndarray (n_freq,)
        Frequencies in Hz.

    Returns
    -------
    ndarray (n_freq, ny, nx), complex128
        The maps.
    """
    if callable(permittivity):
        maps = np.stack([np.asarray(to_numpy(permittivity(f)), complex) for f in freq])
    else:
        try:
            p = np.asarray(to_numpy(permittivity), complex)
        except (TypeError, ValueError):
            p = np.empty(0, complex)
        if p.ndim not in (2, 3):
            raise ConfigError(
                f"permittivity must be a (ny, nx) or (n_freq, ny, nx) map, a callable "
                f"f_hz -> map, got {type(permittivity).__name__} of shape {np.shape(p)}; a "
                f"homogeneous medium is np.full(grid.shape, eps)"
            )
        maps = np.broadcast_to(p, (freq.size,) + p.shape[-2:]) if p.ndim == 2 else p
    if maps.shape[0] != freq.size:
        raise ConfigError(
            f"permittivity has {maps.shape[0]} frequency maps but {freq.size} frequencies given"
        )
    if np.any(maps.imag > 1e-12 * np.abs(maps)):
        raise ConfigError(
            "permittivity has a positive imaginary part: brim uses exp(+j*omega*t), so write a "
            "lossy medium as eps' - j*sigma/(omega*eps0)"
        )
    return np.ascontiguousarray(maps)
