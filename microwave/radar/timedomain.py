"""Frequency-swept S-parameters to time signals: windowed inverse FFT and inverse chirp-Z.

Shared by calibration (:mod:`brim.microwave.radar.calibration`: time gating, skin-artefact windows)
and imaging (:func:`brim.microwave.radar.beamform` with ``domain="time"``).

Conventions: ``exp(+j w t)``; the time signal of a one-sided sweep is the analytic signal
``x(t) = sum_f w_f S(f) exp(+j 2 pi f t)``: a delay tau in ``S = exp(-j 2 pi f tau)`` peaks at
``t = tau``. The sweep must be uniform in frequency. Inputs on a GPU (CuPy) or in torch tensors
are copied to the host; results are NumPy arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from brim.backend import to_numpy
from brim.errors import CalibrationError, ConfigError, check_positive

__all__ = ["czt_time_signals", "frequency_step", "ifft_time_signals"]


def _window(name: str, n: int) -> np.ndarray:
    if name in (None, "none", "rect", "boxcar"):
        return np.ones(n)
    try:
        return scipy.signal.get_window(name, n, fftbins=False)
    except ValueError as exc:
        raise ConfigError(f"unknown window {name!r}: {exc}") from None


def frequency_step(freq) -> float:
    """The step (Hz) of a uniformly spaced frequency sweep.

    Parameters
    ----------
    freq : array_like
        Frequencies in Hz, increasing.

    Returns
    -------
    float
        The step in Hz.

    Raises
    ------
    CalibrationError
        Fewer than two frequencies, or a non-uniform spacing (IFFT and chirp-Z need a uniform
        one).
    """
    freq = np.asarray(freq, dtype=float)
    if freq.size < 2:
        raise CalibrationError("a time transform needs at least two frequencies")
    d = np.diff(freq)
    if not np.allclose(d, d[0], rtol=1e-6):
        raise CalibrationError("frequencies must be uniformly spaced for IFFT / chirp-Z")
    return float(d[0])


def czt_time_signals(s, freq, t0: float, dt: float, n_t: int, *, window: str = "hann"):
    """Inverse chirp-Z transform: ``x(t_k) = sum_n w_n S_n exp(j 2 pi f_n t_k)`` at
    ``t_k = t0 + k dt`` (s), any ``dt`` (zoom), for ``s[..., F]``. Returns ``[..., n_t]``.

    Uses :func:`scipy.signal.czt` with ``a = exp(-j 2 pi df t0)``, ``w = exp(+j 2 pi df dt)``
    and the carrier ``exp(j 2 pi f0 t_k)`` (Rabiner, Schafer & Rader 1969).

    Parameters
    ----------
    s : array_like (..., F), complex
        Frequency-domain signals.
    freq : array_like (F,)
        Uniformly spaced frequencies in Hz.
    t0, dt : float
        First time and time step in s.
    n_t : int
        Number of time samples.
    window : str
        Taper over frequency (scipy window name, or "none").

    Returns
    -------
    ndarray (..., n_t), complex
        Time signals at ``t0 + k dt``.
    """
    s = np.asarray(to_numpy(s))
    freq = np.asarray(to_numpy(freq), dtype=float)
    df = frequency_step(freq)
    dt = check_positive("dt", dt)
    n_t = check_positive("n_t", n_t, integer=True)
    if not np.isfinite(t0):
        raise ConfigError(f"t0 must be finite (s), got {t0}")
    sw = s * _window(window, freq.size)
    a = np.exp(-2j * np.pi * df * t0)
    w = np.exp(2j * np.pi * df * dt)
    x = scipy.signal.czt(sw, m=n_t, w=w, a=a, axis=-1)
    t = t0 + dt * np.arange(n_t)
    return x * np.exp(2j * np.pi * freq[0] * t)


def ifft_time_signals(s, freq, *, n_t: int | None = None, window: str = "hann"):
    """Windowed inverse FFT of ``s[..., F]`` on ``t_k = k / (n_t df)``, ``k < n_t``.

    Returns ``(x[..., n_t], t[n_t])``; zero-padding to ``n_t >= F`` interpolates in time.

    Parameters
    ----------
    s, freq, window
        As in :func:`czt_time_signals` (signals, uniformly spaced frequencies, taper).
    n_t : int, optional
        Number of time samples (>= F); default ``8 F``.

    Returns
    -------
    (ndarray (..., n_t), ndarray (n_t,))
        Complex time signals and the times in s.
    """
    s = np.asarray(to_numpy(s))
    freq = np.asarray(to_numpy(freq), dtype=float)
    df = frequency_step(freq)
    n_t = int(n_t or 8 * freq.size)
    if n_t < freq.size:
        raise ConfigError(f"n_t ({n_t}) must be >= the number of frequencies ({freq.size})")
    sw = s * _window(window, freq.size)
    x = np.fft.ifft(sw, n=n_t, axis=-1) * n_t
    t = np.arange(n_t) / (n_t * df)
    return x * np.exp(2j * np.pi * freq[0] * t), t
