"""Analytic oracle: the field scattered by a homogeneous dielectric cylinder (2-D TM and TE).

The Bessel–Hankel eigenfunction series (Harrington 1961, *Time-Harmonic Electromagnetic
Fields*, §5-12; Richmond 1965, *IEEE Trans. Antennas Propag.* 13, 334; for TE Richmond 1966,
*IEEE Trans. Antennas Propag.* 14, 460, and Balanis 2012, *Advanced Engineering
Electromagnetics*, 2nd ed., §11.5) against which the forward solvers' accuracy is measured
(tests/microwave/test_tomo_forward.py, tests/microwave/test_tomo_te.py, benchmarks/RESULTS.md).
Time dependence exp(+jωt).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sp
from scipy.constants import c as C0
from scipy.constants import mu_0 as MU0

from brim.errors import ConfigError

__all__ = ["cylinder_scattered_field_analytic"]


def cylinder_scattered_field_analytic(
    radius: float,
    eps_r: complex,
    eps_b: complex,
    freq: float,
    rx_x,
    rx_y,
    *,
    source: tuple[float, float] | None = None,
    angle: float | None = None,
    n_terms: int | None = None,
    polarisation: str = "TM",
) -> np.ndarray:
    """Scattered field of a homogeneous dielectric cylinder centred at the origin (series).

    Bessel–Hankel (Mie-type) eigenfunction series (Harrington 1961, *Time-Harmonic Electromagnetic
    Fields*, §5-12; Richmond 1965). Illumination: a 1 A line source at ``source`` (x, y) in m,
    or a unit plane wave travelling along ``angle`` (rad). Receivers must lie outside the cylinder.

    Parameters
    ----------
    radius : float
        Cylinder radius in m.
    eps_r, eps_b : complex
        Relative permittivity of the cylinder and of the background.
    freq : float
        Frequency in Hz.
    rx_x, rx_y : array_like
        Receiver positions in m (outside the cylinder).
    source : (float, float), optional
        Line-source position in m.
    angle : float, optional
        Plane-wave propagation direction in rad.
    n_terms : int, optional
        Series terms ``-n .. n``; default from the electrical size.
    polarisation : {"TM", "TE"}
        ``"TM"``: the scattered ``E_z``, with the boundary conditions ``E_z`` and ``dE_z/drho``
        continuous. ``"TE"``: the scattered ``u = eta_b H_z`` (V/m) of a TE line source
        (``u_inc = -(omega mu0 / 4) H0^(2)``) or a unit TE plane wave, with ``H_z`` and
        ``(1/eps) dH_z/drho`` continuous: the TM coefficients with the wavenumbers exchanged in
        the derivative ratios.

    Returns
    -------
    ndarray, complex
        Scattered field in V/m at the receivers.

    Examples
    --------
    A cylinder of the background's permittivity scatters nothing:

    >>> import numpy as np
    >>> from brim.microwave.tomography import cylinder_scattered_field_analytic
    >>> es = cylinder_scattered_field_analytic(0.02, 2.0, 2.0, 1e9, [0.1], [0.0], angle=0.0)
    >>> bool(np.abs(es).max() < 1e-12)
    True
    """
    k0 = 2 * np.pi * freq / C0 * np.sqrt(complex(eps_b))
    k1 = 2 * np.pi * freq / C0 * np.sqrt(complex(eps_r))
    rx_x = np.asarray(rx_x, float)
    rx_y = np.asarray(rx_y, float)
    rho = np.hypot(rx_x, rx_y)
    phi = np.arctan2(rx_y, rx_x)
    if n_terms is None:
        n_terms = int(abs(k1) * radius + abs(k0) * radius + 30)
    n = np.arange(-n_terms, n_terms + 1)
    x0, x1 = k0 * radius, k1 * radius
    jn0, jn1 = sp.jv(n, x0), sp.jv(n, x1)
    djn0, djn1 = sp.jvp(n, x0), sp.jvp(n, x1)
    hn0, dhn0 = sp.hankel2(n, x0), sp.h2vp(n, x0)
    from brim.microwave.tomography.te import check_polarisation

    if check_polarisation(polarisation) == "TM":
        ratio = (k1 * djn1 * jn0 - k0 * jn1 * djn0) / (k0 * jn1 * dhn0 - k1 * djn1 * hn0)
    else:  # TE: a_n / b_n = -(k1 J_n(x1) J_n'(x0) - k0 J_n'(x1) J_n(x0)) / (... H_n ...)
        ratio = (k0 * djn1 * jn0 - k1 * jn1 * djn0) / (k1 * jn1 * dhn0 - k0 * djn1 * hn0)
    if source is not None:
        rs = math.hypot(*source)
        ps = math.atan2(source[1], source[0])
        c = -(2 * np.pi * freq * MU0 / 4) * sp.hankel2(n, k0 * rs) * np.exp(-1j * n * ps)
    elif angle is not None:
        c = (1j) ** (-n) * np.exp(-1j * n * angle)
    else:
        raise ConfigError("give a line-source position or a plane-wave angle")
    a = c * ratio
    terms = a[:, None] * sp.hankel2(n[:, None], k0 * rho[None]) * np.exp(1j * n[:, None] * phi)
    return terms.sum(axis=0)
