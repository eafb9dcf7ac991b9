"""Adaptive (data-dependent) beamforming: the diagonally loaded Capon (MVDR) beamformer.

At each image point the channels are time-aligned with the point's round-trip delays
(``X[c, f] = S_c(f) exp(+j 2 pi f tau_c)``), the channel covariance is estimated with the
frequency samples as snapshots, ``R = X X^H / F + delta I``, and the Capon output power

    ``P = 1 / (a^H R^-1 a)``,  ``a = 1`` (aligned channels: unit steering vector)

is its output power. That power alone does not image a radar scan: with fewer snapshots than
channels ``R`` is rank deficient and ``1 / (a^H R^-1 a)`` is set by the loading, almost flat over
the image. The image is therefore the **beamformed signal** ``y_f = w^H x_f`` with the Capon
weights ``w = R^-1 a / (a^H R^-1 a)``, summed coherently over frequency like DAS,
``I = |sum_f y_f|^2`` (the adaptive weights replace DAS's equal weights; for a large loading
``w -> a / C`` and the image tends to DAS / C**2). The diagonal loading
``delta = loading * trace(X X^H / F) / C`` is the closed form of the robust Capon beamformer
for a spherical steering-vector uncertainty set (Stoica, Wang & Li 2003; Li, Stoica & Wang
2003): it keeps the beamformer from cancelling the target when the
aligned target response is not exactly ``a`` (unequal channel amplitudes, model error). The
multistatic adaptive imaging of Xie, Guo, Li & Stoica (MAMI, 2006) applies the same robust
Capon step to breast radar data.

``R^-1`` is never formed: with ``F`` snapshots and ``C`` channels, Woodbury's identity gives
``a^H R^-1 a = (C - u^H v) / delta`` and ``a^H R^-1 X = F v^H`` with ``u = X^H a`` and
``v = (delta F I + X^H X)^-1 u``, an ``F x F`` solve per point (``F`` < ``C`` for MERIT: 76
frequencies, 96 channels).

References
----------
J. Capon, "High-resolution frequency-wavenumber spectrum analysis", Proc. IEEE 57 (1969) 1408.
P. Stoica, Z. Wang, J. Li, "Robust Capon beamforming", IEEE Signal Process. Lett. 10 (2003) 172.
J. Li, P. Stoica, Z. Wang, "On robust Capon beamforming and diagonal loading", IEEE Trans.
Signal Process. 51 (2003) 1702.
Y. Xie, B. Guo, L. Xu, J. Li, P. Stoica, "Multistatic adaptive microwave imaging for early
breast cancer detection", IEEE Trans. Biomed. Eng. 53 (2006) 1647.
"""

from __future__ import annotations

import numpy as np

__all__ = ["capon_power"]


def capon_power(
    s: np.ndarray,
    freq: np.ndarray,
    t_ant: np.ndarray,
    tx: np.ndarray,
    rx: np.ndarray,
    *,
    loading: float = 1.0,
) -> np.ndarray:
    """Diagonally loaded Capon image: the coherent frequency sum of the Capon-beamformed signal.

    Parameters
    ----------
    s : ndarray (C, F), complex
        Calibrated channel spectra.
    freq : ndarray (F,)
        Frequencies in Hz.
    t_ant : ndarray (P, A)
        One-way times (s) from each image point to each antenna (phase-centre delay
        included).
    tx, rx : ndarray (C,) of int
        Transmitting and receiving antenna of each channel.
    loading : float
        Diagonal loading as a fraction of the mean channel power (``delta / (tr R / C)``);
        larger is more robust and closer to DAS, smaller more adaptive.

    Returns
    -------
    ndarray (P,)
        ``|sum_f w^H x_f|**2`` (units of ``|S|**2``).

    Examples
    --------
    One point target seen by three channels, imaged at the right and a wrong point:

    >>> import numpy as np
    >>> from brim.microwave.radar.adaptive import capon_power
    >>> f = np.linspace(1e9, 3e9, 16)
    >>> tau = np.array([1.0, 1.2, 1.4]) * 1e-9  # round trips of the three channels
    >>> s = np.exp(-2j * np.pi * f[None] * tau[:, None])
    >>> t = np.array([[0.5e-9, 0.5e-9, 0.6e-9, 0.7e-9], [0.6e-9, 0.5e-9, 0.5e-9, 0.5e-9]])
    >>> p = capon_power(s, f, t, np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> bool(p[0] > 5 * p[1])
    True
    """
    s = np.asarray(s, dtype=np.complex128)
    freq = np.asarray(freq, dtype=float)
    n_c, n_f = s.shape
    tau = t_ant[:, tx] + t_ant[:, rx]  # [P, C] round trips
    x = s[None] * np.exp(2j * np.pi * tau[:, :, None] * freq[None, None])  # [P, C, F]
    u = x.sum(axis=1).conj()  # X^H a, [P, F]
    g = np.conj(x).transpose(0, 2, 1) @ x  # X^H X, [P, F, F]
    power = np.real(np.einsum("pcf,pcf->p", x.conj(), x)) / n_f  # trace(X X^H / F)
    delta = loading * power / n_c + 1e-300
    g[:, np.arange(n_f), np.arange(n_f)] += (delta * n_f)[:, None]
    v = np.linalg.solve(g, u[:, :, None])[:, :, 0]
    quad = (n_c - np.real(np.einsum("pf,pf->p", u.conj(), v))) / delta  # a^H R^-1 a
    y = n_f * v.conj().sum(axis=1) / np.maximum(quad, 1e-300)  # sum_f w^H x_f
    return np.abs(y) ** 2
