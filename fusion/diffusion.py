"""Diffusion-approximation forward models for near-infrared diffuse optics.

Conventions used throughout :mod:`brim.fusion`:

* lengths in **mm**, optical coefficients (``mua`` absorption, ``musp`` reduced scattering) in
  **mm^-1**, modulation frequency in **Hz** (0 for continuous wave);
* engineering time convention ``exp(+j*omega*t)`` (as everywhere in brim): the photon density
  wave obeys ``-D lap(Phi) + (mua + j*omega/v) Phi = S`` with ``D = 1 / (3 (mua + musp))`` and
  ``v = c / n``, so the complex wavenumber is ``k = sqrt((mua + j omega / v) / D)`` with
  ``Re k > 0`` and the fluence far from a source goes as ``exp(-k r)``: its phase *decreases*
  with distance (``phase = arg Phi``);
* the tissue occupies ``z >= 0`` (``z`` is depth), the probe lies on ``z = 0``.

References
----------
.. [1] R. C. Haskell, L. O. Svaasand, T.-T. Tsay, T.-C. Feng, M. S. McAdams, B. J. Tromberg,
   "Boundary conditions for the diffusion equation in radiative transfer", J. Opt. Soc. Am. A
   11(10):2727-2741, 1994 (extrapolated boundary, ``z_b = 2 A D``).
.. [2] T. J. Farrell, M. S. Patterson, B. Wilson, "A diffusion theory model of spatially resolved,
   steady-state diffuse reflectance ...", Med. Phys. 19(4):879-888, 1992 (image source at
   ``z0 = 1 / mu_t'``).
.. [3] D. A. Boas, M. A. O'Leary, B. Chance, A. G. Yodh, "Scattering of diffuse photon density
   waves by spherical inhomogeneities within turbid media: analytic solution and applications",
   Proc. Natl. Acad. Sci. USA 91:4887-4891, 1994 (exact sphere solution).
.. [4] M. A. O'Leary, D. A. Boas, B. Chance, A. G. Yodh, "Experimental images of heterogeneous
   turbid media by frequency-domain diffusing-photon tomography", Opt. Lett. 20(5):426-428, 1995
   (Born and Rytov weights).
.. [5] W. M. J. Groenhuis, H. A. Ferwerda, J. J. Ten Bosch, "Scattering and absorption of turbid
   materials determined from reflection measurements", Appl. Opt. 22:2456-2462, 1983 (empirical
   effective reflection coefficient).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import constants, special

from brim.deprecation import positional_options
from brim.errors import ConfigError

#: speed of light in vacuum, mm/s (the diffusion kernels work in mm; scipy.constants.c is m/s)
C_MM_PER_S = constants.c * 1e3

__all__ = [
    "C_MM_PER_S",
    "OpticalProperties",
    "effective_reflection",
    "green_infinite",
    "green_semi_infinite",
    "green_matrix",
    "fluence_semi_infinite",
    "born_weights",
    "rytov_weights",
    "sphere_exact",
    "sphere_self_integral",
]


@dataclass(frozen=True)
class OpticalProperties:
    """Homogeneous optical properties of a diffusive medium.

    Parameters
    ----------
    mua : float
        Absorption coefficient, mm^-1.
    musp : float
        Reduced scattering coefficient, mm^-1.
    n : float
        Refractive index of the tissue (default 1.33 as in many breast DOT systems; 1.4 also
        common).
    frequency : float
        Modulation frequency, Hz (0 for continuous wave).

    Examples
    --------
    Breast-like properties at 140 MHz and the diffusion quantities derived from them:

    >>> from brim.fusion import OpticalProperties
    >>> props = OpticalProperties(mua=0.005, musp=0.8, frequency=140e6)
    >>> round(props.D, 4), round(props.z0, 3), round(props.zb, 2)  # mm
    (0.4141, 1.242, 2.08)
    >>> f"{props.v:.3g}"  # c / 1.33, mm/s
    '2.25e+11'
    >>> round(props.k.real, 4), round(props.k.imag, 4)  # mm^-1
    (0.117, 0.0403)
    >>> OpticalProperties(mua=0.005, musp=0.8).k.imag  # continuous wave: k is real
    0.0
    """

    mua: float
    musp: float
    n: float = 1.33
    frequency: float = 0.0

    def __post_init__(self):
        for name in ("mua", "musp", "n", "frequency"):
            val = float(getattr(self, name))
            if not np.isfinite(val) or val < 0:
                raise ConfigError(f"optical property {name}={val!r} must be finite and >= 0")
            object.__setattr__(self, name, val)
        if self.musp <= 0:
            raise ConfigError("musp (mm^-1) must be > 0 for the diffusion approximation")
        if self.n < 1:
            raise ConfigError(f"refractive index n={self.n} must be >= 1")

    @property
    def D(self) -> float:  # noqa: N802 - physics symbol
        """Diffusion coefficient ``1 / (3 (mua + musp))``, mm."""
        return 1.0 / (3.0 * (self.mua + self.musp))

    @property
    def v(self) -> float:
        """Speed of light in the medium ``c / n``, mm/s."""
        return C_MM_PER_S / self.n

    @property
    def k(self) -> complex:
        """Complex wavenumber ``sqrt((mua + j omega / v) / D)``, mm^-1 (``Re k > 0``).

        Real for continuous wave (``frequency = 0``).
        """
        omega = 2.0 * np.pi * self.frequency
        return complex(np.sqrt((self.mua + 1j * omega / self.v) / self.D + 0j))

    @property
    def z0(self) -> float:
        """Depth of the isotropic equivalent source, ``1 / (mua + musp)``, mm [2]_."""
        return 1.0 / (self.mua + self.musp)

    @property
    def zb(self) -> float:
        """Extrapolation distance ``2 A D`` of the extrapolated boundary, mm [1]_.

        ``A = (1 + R_eff) / (1 - R_eff)`` with :func:`effective_reflection` of ``n``.
        """
        reff = effective_reflection(self.n)
        a = (1.0 + reff) / (1.0 - reff)
        return 2.0 * a * self.D

    def with_mua(self, mua: float) -> OpticalProperties:
        """A copy with another absorption coefficient.

        Parameters
        ----------
        mua : float
            Absorption coefficient, mm⁻¹.

        Returns
        -------
        OpticalProperties
            The same scattering, refractive index and frequency.

        Examples
        --------
        >>> from brim.fusion import OpticalProperties
        >>> OpticalProperties(mua=0.005, musp=0.8, frequency=140e6).with_mua(0.01)
        OpticalProperties(mua=0.01, musp=0.8, n=1.33, frequency=140000000.0)
        """
        return OpticalProperties(mua, self.musp, self.n, self.frequency)


def _fresnel(theta: float, n: float) -> float:
    """Unpolarised Fresnel reflectance from inside a medium of index n into air."""
    st = n * np.sin(theta)
    if st >= 1.0:
        return 1.0
    ct = np.cos(theta)
    tt = np.sqrt(1.0 - st * st)
    rs = (n * ct - tt) / (n * ct + tt)
    rp = (n * tt - ct) / (n * tt + ct)
    return 0.5 * (rs * rs + rp * rp)


@functools.lru_cache(maxsize=64)
def effective_reflection(n: float, method: str = "exact") -> float:
    """Effective internal reflection coefficient ``R_eff`` of a tissue/air boundary.

    ``method="exact"`` integrates the Fresnel reflectance as in Haskell et al. [1]_:
    ``R_eff = (R_phi + R_j) / (2 - R_phi + R_j)`` with
    ``R_phi = int 2 sin cos R_F``, ``R_j = int 3 sin cos^2 R_F`` over 0..pi/2 (0.493 at n = 1.4).
    ``method="groenhuis"`` is the empirical fit of Groenhuis et al. [5]_
    ``-1.440 n^-2 + 0.710 n^-1 + 0.668 + 0.0636 n`` (used by Farrell et al. [2]_).
    """
    from scipy.integrate import quad

    n = float(n)
    if n == 1.0:
        return 0.0
    if method == "groenhuis":
        return -1.440 / n**2 + 0.710 / n + 0.668 + 0.0636 * n
    if method != "exact":
        raise ConfigError(f"method must be 'exact' or 'groenhuis', got {method!r}")
    crit = float(np.arcsin(1.0 / n))
    pts = [crit]
    r_phi = quad(lambda t: 2 * np.sin(t) * np.cos(t) * _fresnel(t, n), 0, np.pi / 2, points=pts)[0]
    r_j = quad(lambda t: 3 * np.sin(t) * np.cos(t) ** 2 * _fresnel(t, n), 0, np.pi / 2, points=pts)[
        0
    ]
    return (r_phi + r_j) / (2.0 - r_phi + r_j)


def _as_points(p, name: str) -> np.ndarray:
    # Explicit float conversion: integer positions silently truncate in other codes (a known
    # 15-19 % error source); here every position becomes float64 before any arithmetic.
    arr = np.asarray(p)
    if arr.dtype.kind not in "fiu":
        raise ConfigError(f"{name} must be real numbers (mm); got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.shape[-1] != 3:
        raise ConfigError(f"{name} must have shape (..., 3) with x, y, z in mm; got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} contains NaN or inf")
    return arr


def green_infinite(r, k: complex, D: float):  # noqa: N803 - physics symbol
    """Infinite-medium Green's function ``exp(-k r) / (4 pi D r)`` (mm^-2 per unit source).

    Parameters
    ----------
    r : array_like
        Distances, mm (> 0).
    k : complex
        Complex wavenumber, mm^-1.
    D : float
        Diffusion coefficient, mm.

    Returns
    -------
    numpy.ndarray
        Complex fluence per unit source, mm⁻², the shape of ``r``.
    """
    r = np.asarray(r, dtype=np.float64)
    return np.exp(-k * r) / (4.0 * np.pi * D * r)


def green_semi_infinite(r_a, r_b, props: OpticalProperties, *, boundary: str = "extrapolated"):
    """Green's function between points ``r_a`` and ``r_b`` of the half space ``z >= 0``.

    With ``boundary="extrapolated"`` the fluence vanishes on the plane ``z = -z_b`` [1]_, so the
    Green's function is the infinite-medium one minus that of the mirror image of ``r_b`` about
    that plane (``z -> -2 z_b - z``). It is symmetric in its two arguments (reciprocity).
    ``boundary="infinite"`` drops the image (infinite medium).

    Parameters
    ----------
    r_a, r_b : array_like, shape (..., 3)
        Points (x, y, z) in mm, broadcast against each other.
    props : OpticalProperties
        Background optical properties.

    Returns
    -------
    ndarray of complex
        Fluence per unit source power, mm^-2.
    """
    a = _as_points(r_a, "r_a")
    b = _as_points(r_b, "r_b")
    k, D = props.k, props.D
    d = a - b
    r1 = np.sqrt(np.sum(d * d, axis=-1))
    g = green_infinite(r1, k, D)
    if boundary == "infinite":
        return g
    if boundary != "extrapolated":
        raise ConfigError(f"boundary must be 'extrapolated' or 'infinite', got {boundary!r}")
    zimg = -2.0 * props.zb - b[..., 2]
    r2 = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2 + (a[..., 2] - zimg) ** 2)
    return g - green_infinite(r2, k, D)


_numba: Any  # the numba module, or None without it
try:  # Numba kernel for the dense (N, M) Green's matrices that dominate the run time
    import numba as _numba
except ImportError:  # pragma: no cover - numba is a core dependency, kept optional here
    _numba = None


def _green_matrix_numpy(a, b, kr, ki, inv4pid, zimg_off, image):
    d = a[:, None, :] - b[None, :, :]
    r1 = np.sqrt(np.sum(d * d, -1))
    k = kr + 1j * ki
    g = np.exp(-k * r1) / r1
    if image:
        zi = zimg_off - b[:, 2]
        r2 = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2 + (a[:, None, 2] - zi[None, :]) ** 2)
        g = g - np.exp(-k * r2) / r2
    return g * inv4pid


if _numba is not None:

    @_numba.njit(cache=True, parallel=True, fastmath=False)
    def _green_matrix_kernel(a, b, kr, ki, inv4pid, zimg_off, image):  # pragma: no cover
        n, m = a.shape[0], b.shape[0]
        out = np.empty((n, m), dtype=np.complex128)
        for i in _numba.prange(n):
            ax, ay, az = a[i, 0], a[i, 1], a[i, 2]
            for j in range(m):
                dx = ax - b[j, 0]
                dy = ay - b[j, 1]
                dz = az - b[j, 2]
                r1 = np.sqrt(dx * dx + dy * dy + dz * dz)
                e = np.exp(-kr * r1) / r1
                gr = e * np.cos(ki * r1)
                gi = -e * np.sin(ki * r1)
                if image:
                    dz2 = az - (zimg_off - b[j, 2])
                    r2 = np.sqrt(dx * dx + dy * dy + dz2 * dz2)
                    e2 = np.exp(-kr * r2) / r2
                    gr -= e2 * np.cos(ki * r2)
                    gi += e2 * np.sin(ki * r2)
                out[i, j] = complex(gr * inv4pid, gi * inv4pid)
        return out


def _green_matrix_xp(a, b, kr, ki, inv4pid, zimg_off, image):
    """Array-API version (CuPy / torch): real and imaginary parts computed separately."""
    from brim.backend import namespace

    xp = namespace(a, b)
    dx = a[:, None, 0] - b[None, :, 0]
    dy = a[:, None, 1] - b[None, :, 1]
    dz = a[:, None, 2] - b[None, :, 2]
    r1 = xp.sqrt(dx * dx + dy * dy + dz * dz)
    e = xp.exp(-kr * r1) / r1
    gr = e * xp.cos(ki * r1)
    gi = -e * xp.sin(ki * r1)
    if image:
        dz2 = a[:, None, 2] - (zimg_off - b[None, :, 2])
        r2 = xp.sqrt(dx * dx + dy * dy + dz2 * dz2)
        e2 = xp.exp(-kr * r2) / r2
        gr = gr - e2 * xp.cos(ki * r2)
        gi = gi + e2 * xp.sin(ki * r2)
    return (gr + 1j * gi) * inv4pid


def green_matrix(
    a, b, props: OpticalProperties, *, boundary: str = "extrapolated", backend: str | None = None
):
    """Dense Green's matrix ``G[i, j] = G(a_i, b_j)`` for point sets (N, 3) and (M, 3), mm.

    Same values as :func:`green_semi_infinite` on broadcast inputs (tested). NumPy inputs use a
    parallel Numba kernel (``exp(-k r) = exp(-k_r r) (cos k_i r - j sin k_i r)``); CuPy or
    torch inputs (or ``backend="cupy"|"torch"``) stay on their device and use the same formula
    with array-API operations (float64; equal to NumPy within 1e-12 relative, tested).
    Coincident points give inf/NaN, as the analytic function does.

    Parameters
    ----------
    a : array_like, (N, 3)
        Field points, mm.
    b : array_like, (M, 3)
        Source points, mm.
    props : OpticalProperties
        Background optical properties.
    boundary : {"extrapolated", "infinite"}
        Semi-infinite medium with the extrapolated boundary, or an infinite medium.
    backend : {"numpy", "cupy", "torch"}, optional
        Array backend (default: that of the inputs).

    Returns
    -------
    array, (N, M)
        Complex Green's matrix, mm⁻², on the backend of the inputs.
    """
    from brim.backend import asarray_like, is_torch_tensor, resolve_backend

    if boundary not in ("extrapolated", "infinite"):
        raise ConfigError(f"boundary must be 'extrapolated' or 'infinite', got {boundary!r}")
    k = props.k
    consts = (
        float(k.real),
        float(k.imag),
        1.0 / (4.0 * np.pi * props.D),
        -2.0 * props.zb,
        boundary == "extrapolated",
    )
    name = resolve_backend(backend, a, b)
    if name != "numpy":
        if name == "cupy":
            import cupy

            like = cupy.empty(0)
        else:
            import torch

            dev = next((x.device for x in (a, b) if is_torch_tensor(x)), "cpu")
            like = torch.empty(0, device=dev)
        aa = asarray_like(_as_points(_host(a), "a"), like)
        bb = asarray_like(_as_points(_host(b), "b"), like)
        return _green_matrix_xp(aa, bb, *consts)
    a = _as_points(a, "a")
    b = _as_points(b, "b")
    args = (np.ascontiguousarray(a), np.ascontiguousarray(b), *consts)
    if _numba is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _green_matrix_numpy(*args)
    return _green_matrix_kernel(*args)


def _host(x):
    from brim.backend import to_numpy

    return to_numpy(x)


def _surface_points(points, what: str) -> np.ndarray:
    """Optode positions (x, y) or (x, y, z), mm, as float64 points (..., 3); (x, y) lie on z = 0."""
    p = np.asarray(points)
    if p.dtype.kind not in "fiu":
        raise ConfigError(f"{what} positions must be numbers (mm); got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.shape[-1] == 2:
        p = np.concatenate([p, np.zeros(p.shape[:-1] + (1,))], axis=-1)
    return _as_points(p, f"{what}s")


def _source_points(sources, props: OpticalProperties) -> np.ndarray:
    """Surface source positions (x, y) or (x, y, 0) -> equivalent isotropic sources at z0."""
    s = _surface_points(sources, "source").copy()
    s[..., 2] = s[..., 2] + props.z0
    return s


def _detector_points(detectors) -> np.ndarray:
    return _surface_points(detectors, "detector")


def fluence_semi_infinite(
    sources: ArrayLike,
    detectors: ArrayLike,
    props: OpticalProperties,
    *,
    boundary: str = "extrapolated",
) -> np.ndarray:
    """Homogeneous fluence at surface detectors for surface sources (semi-infinite medium).

    Each source on the surface is replaced by an isotropic point source at depth
    ``z0 = 1/(mua + musp)`` (Farrell et al. 1992); the extrapolated boundary condition (Haskell
    et al. 1994) adds a negative image at ``-(z0 + 2 z_b)``. For ``rho >> z0, z_b`` the
    amplitude goes as ``exp(-k_r rho) / rho^2``.

    Parameters
    ----------
    sources : array_like, shape (S, 2) or (S, 3)
        Source positions on the surface (x, y[, z]) in mm.
    detectors : array_like, shape (M, 2) or (M, 3)
        Detector positions (x, y[, z]) in mm.
    props : OpticalProperties

    Returns
    -------
    ndarray, complex, shape (S, M)
        Fluence per unit source power, mm^-2.

    Examples
    --------
    The amplitude falls by a factor of about 8 from 20 to 30 mm:

    >>> from brim.fusion import OpticalProperties, fluence_semi_infinite
    >>> props = OpticalProperties(mua=0.005, musp=0.8, frequency=140e6)
    >>> phi = fluence_semi_infinite([[0, 0]], [[20, 0], [30, 0]], props)
    >>> phi.shape, phi.dtype
    ((1, 2), dtype('complex128'))
    >>> round(float(abs(phi[0, 1]) / abs(phi[0, 0])), 4)
    0.1298
    """
    s = _source_points(sources, props)
    d = _detector_points(detectors)
    return green_semi_infinite(s[:, None, :], d[None, :, :], props, boundary=boundary)


def born_weights(
    sources: ArrayLike,
    detectors: ArrayLike,
    voxels: ArrayLike,
    volumes: ArrayLike,
    props: OpticalProperties,
    *,
    boundary: str = "extrapolated",
) -> np.ndarray:
    """First-Born weight matrix for absorption perturbations.

    ``Phi_sc(s, d) = sum_j W[s, d, j] * delta_mua[j]`` with
    ``W[s, d, j] = -G(r_s, r_j) G(r_j, r_d) dV_j`` (O'Leary et al. 1995), from the perturbed
    diffusion equation
    ``-D lap(Phi) + (mua + j omega / v) Phi = S - delta_mua Phi``.

    Parameters
    ----------
    sources, detectors : array_like, shape (S, 2|3), (M, 2|3)
        Surface positions, mm.
    voxels : array_like, shape (N, 3)
        Voxel centres (x, y, z), mm.
    volumes : array_like, shape (N,) or scalar
        Voxel volumes, mm^3 (quadrature weights).
    props : OpticalProperties
        Background properties.

    Returns
    -------
    ndarray, complex, shape (S, M, N)
        Weights in mm^-2 per mm^-1 of absorption change (fluence units per unit source).

    Examples
    --------
    One source-detector pair 20 mm apart and two 1 mm³ voxels midway, at 15 and 25 mm depth:

    >>> from brim.fusion import OpticalProperties, born_weights
    >>> props = OpticalProperties(mua=0.005, musp=0.8, frequency=140e6)
    >>> w = born_weights([[0, 0]], [[20, 0]], [[10, 0, 15], [10, 0, 25]], 1.0, props)
    >>> w.shape, w.dtype
    ((1, 1, 2), dtype('complex128'))
    >>> bool(abs(w[0, 0, 0]) > abs(w[0, 0, 1]))  # the deeper voxel weighs less
    True
    """
    s = _source_points(sources, props)
    d = _detector_points(detectors)
    v = _as_points(voxels, "voxels")
    vol = np.broadcast_to(np.asarray(volumes, dtype=np.float64), (v.shape[0],))
    gs = green_matrix(s, v, props, boundary=boundary)  # (S, N)
    gd = green_matrix(d, v, props, boundary=boundary)  # (M, N), reciprocity G(v, d) = G(d, v)
    return -(gs[:, None, :] * gd[None, :, :]) * vol


def rytov_weights(
    sources: ArrayLike,
    detectors: ArrayLike,
    voxels: ArrayLike,
    volumes: ArrayLike,
    props: OpticalProperties,
    *,
    boundary: str = "extrapolated",
) -> np.ndarray:
    """Rytov weight matrix: ``ln(Phi / Phi0) = sum_j W[s, d, j] delta_mua[j]``.

    The Born weights divided by the homogeneous fluence of each pair (O'Leary et al. 1995).
    Units: per mm^-1.

    Parameters
    ----------
    sources, detectors : array_like, (S, 3), (M, 3)
        Optode positions, mm.
    voxels : array_like, (V, 3)
        Voxel centres, mm.
    volumes : float or array_like, (V,)
        Voxel volumes, mm³.
    props : OpticalProperties
        Background optical properties.
    boundary : {"extrapolated", "infinite"}
        Boundary model of the Green's functions.

    Returns
    -------
    numpy.ndarray, (S, M, V)
        Complex weights, per mm⁻¹ of absorption change.

    Examples
    --------
    The Born weights divided by the homogeneous fluence of the pair:

    >>> import numpy as np
    >>> from brim.fusion import (OpticalProperties, born_weights, fluence_semi_infinite,
    ...                          rytov_weights)
    >>> props = OpticalProperties(mua=0.005, musp=0.8, frequency=140e6)
    >>> src, det, vox = [[0, 0]], [[20, 0]], [[10, 0, 15], [10, 0, 25]]
    >>> w = rytov_weights(src, det, vox, 1.0, props)
    >>> w.shape
    (1, 1, 2)
    >>> phi0 = fluence_semi_infinite(src, det, props)
    >>> bool(np.allclose(w * phi0[:, :, None], born_weights(src, det, vox, 1.0, props)))
    True
    """
    w = born_weights(sources, detectors, voxels, volumes, props, boundary=boundary)
    phi0 = fluence_semi_infinite(sources, detectors, props, boundary=boundary)
    return w / phi0[:, :, None]


def sphere_self_integral(radius, k: complex, D: float):  # noqa: N803
    """Integral of the infinite Green's function over a sphere about its own centre.

    ``int_0^a exp(-k r)/(4 pi D r) 4 pi r^2 dr = (1 - (1 + k a) exp(-k a)) / (D k^2)``; used for
    the singular diagonal of volume-integral (Lippmann-Schwinger) systems, voxel replaced by the
    sphere of equal volume. Units mm^-2 * mm^3 = mm.

    Parameters
    ----------
    radius : float or array_like
        Sphere radius, mm.
    k : complex
        Complex wavenumber, mm⁻¹.
    D : float
        Diffusion coefficient, mm.

    Returns
    -------
    complex or numpy.ndarray
        The integral, mm.
    """
    a = np.asarray(radius, dtype=np.float64)
    ka = k * a
    if abs(k) < 1e-12:
        return a**2 / (2.0 * D)
    return (1.0 - (1.0 + ka) * np.exp(-ka)) / (D * k * k)


@positional_options
def sphere_exact(
    source: ArrayLike,
    detectors: ArrayLike,
    center: ArrayLike,
    radius: float,
    props: OpticalProperties,
    mua_inside: float,
    *,
    musp_inside: float | None = None,
    lmax: int = 40,
) -> np.ndarray:
    """Exact scattered fluence of a homogeneous sphere in an infinite diffusive medium.

    Multipole solution of Boas et al. (1994): with the source at distance ``r_s`` from the sphere
    centre the incident wave is expanded with the addition theorem
    ``exp(-kR)/R = (2k/pi) sum_l (2l+1) i_l(k r<) k_l(k r>) P_l(cos gamma)`` (modified spherical
    Bessel functions); the fluence and the normal flux ``D dPhi/dr`` are continuous on the
    sphere surface. Outside,
    ``Phi_sc(r) = sum_l A_l k_l(k_out r) P_l(cos gamma)`` with

    ``A_l = S_l [D_i k_i i_l'(x_i) i_l(x_o) - D_o k_o i_l'(x_o) i_l(x_i)] /
    [D_o k_o k_l'(x_o) i_l(x_i) - D_i k_i i_l'(x_i) k_l(x_o)]``,
    ``S_l = (2 k_o / pi) (2l+1) k_l(k_o r_s) / (4 pi D_o)``, ``x = k a``.

    Parameters
    ----------
    source : array_like, shape (3,)
        Point source position, mm (outside the sphere).
    detectors : array_like, shape (M, 3)
        Detector positions, mm (outside the sphere).
    center : array_like, shape (3,)
        Sphere centre, mm.
    radius : float
        Sphere radius, mm.
    props : OpticalProperties
        Background (outside) properties, incl. the modulation frequency.
    mua_inside, musp_inside : float
        Inside properties, mm^-1. Without ``musp_inside`` the inside diffusion coefficient is
        the background's (a pure absorption perturbation, the case the Born weights model).
    lmax : int
        Highest multipole order kept.

    Returns
    -------
    ndarray, complex, shape (M,)
        Scattered fluence per unit source power, mm^-2 (total minus incident).

    Examples
    --------
    A 5 mm sphere with ten times the background absorption between a source and two
    detectors: the scattered fluence is negative (light absorbed), strongest on the axis:

    >>> import numpy as np
    >>> from brim.fusion import OpticalProperties, sphere_exact
    >>> props = OpticalProperties(mua=0.005, musp=0.8)
    >>> sc = sphere_exact([0, 0, -20], [[0, 0, 20], [10, 0, 20]], [0, 0, 0], 5.0, props, 0.05)
    >>> sc.shape, bool(np.all(sc.real < 0)), bool(abs(sc[0]) > abs(sc[1]))
    ((2,), True, True)
    """
    src = _as_points(source, "source")
    det = np.atleast_2d(_as_points(detectors, "detectors"))
    c = _as_points(center, "center")
    a = float(radius)
    ko, do_ = props.k, props.D
    if musp_inside is None:
        # pure absorption perturbation: D inside equals D outside (as the Born weights assume)
        di = do_
        omega = 2.0 * np.pi * props.frequency
        ki = complex(np.sqrt((float(mua_inside) + 1j * omega / props.v) / di + 0j))
    else:
        inside = OpticalProperties(float(mua_inside), float(musp_inside), props.n, props.frequency)
        ki, di = inside.k, inside.D
    rs_vec = src - c
    rs = np.linalg.norm(rs_vec)
    rd_vec = det - c
    rd = np.linalg.norm(rd_vec, axis=1)
    if rs <= a or np.any(rd <= a):
        raise ConfigError("source and detectors must lie outside the sphere")
    cosg = np.clip(rd_vec @ rs_vec / (rd * rs), -1.0, 1.0)
    xo, xi = ko * a, ki * a
    total = np.zeros(det.shape[0], dtype=complex)
    for ell in range(lmax + 1):
        sl = (2.0 * ko / np.pi) * (2 * ell + 1) * special.spherical_kn(ell, ko * rs)
        sl = sl / (4.0 * np.pi * do_)
        il_o = special.spherical_in(ell, xo)
        dil_o = special.spherical_in(ell, xo, derivative=True)
        il_i = special.spherical_in(ell, xi)
        dil_i = special.spherical_in(ell, xi, derivative=True)
        kl_o = special.spherical_kn(ell, xo)
        dkl_o = special.spherical_kn(ell, xo, derivative=True)
        num = di * ki * dil_i * il_o - do_ * ko * dil_o * il_i
        den = do_ * ko * dkl_o * il_i - di * ki * dil_i * kl_o
        al = sl * num / den
        term = al * special.spherical_kn(ell, ko * rd) * special.eval_legendre(ell, cosg)
        total += term
        if ell > 4 and np.max(np.abs(term)) < 1e-14 * np.max(np.abs(total)):
            break
    return total
