"""Radar beamforming kernels: Numba on the CPU, CuPy on the GPU, plain NumPy as the reference.

All kernels take the one-way propagation times ``t_ant[p, a]`` (s) from antenna ``a`` to image
point ``p`` and the channel table ``tx[c]``, ``rx[c]``; the round-trip time of channel ``c``
at point
``p`` is ``t_ant[p, tx[c]] + t_ant[p, rx[c]]``. For every point they form the focused channel
values ``y_c`` and return three intensities in ``out[p, :]``:

* ``0`` delay-and-sum (DAS): ``|sum_c y_c|**2`` (Hagness, Taflove & Bridges 1998, IEEE TBME 45,
  1470; Fear et al. 2002, IEEE TBME 49, 812);
* ``1`` delay-multiply-and-sum (DMAS): ``|sum_{i<j} yt_i yt_j|**2`` with the signed square root
  ``yt = y / sqrt(|y|)`` applied before the pairwise products so the result keeps the dimension
  of an amplitude (Lim et al. 2008, IEEE TBME 55, 1697; Matrone et al. 2015, IEEE TMI 34, 940).
  The pair sum uses ``sum_{i<j} a_i a_j = ((sum a)**2 - sum a**2) / 2`` (O(C), not O(C**2));
* ``2`` coherence-factor DAS (CF-DAS): ``CF * DAS`` with
  ``CF = |sum y|**2 / (C * sum |y|**2)`` (Mallart & Fink 1994; Li & Li 2003).

Frequency domain: ``y_c = sum_f S_c(f) exp(+j 2 pi f tau_c)`` (the exp(+jwt) convention: a path of
delay tau multiplies S by exp(-j 2 pi f tau), which focusing undoes). Uniformly spaced frequencies
use a phasor recursion instead of one ``exp`` per frequency. Time domain: ``y_c = x_c(tau_c)`` by
linear interpolation of complex (analytic) time signals on a uniform grid.
"""

from __future__ import annotations

import numba
import numpy as np
from array_api_compat import device as array_device

__all__ = [
    "fd_beamform_cupy",
    "fd_beamform_xp",
    "td_beamform_xp",
    "fd_beamform_numba",
    "fd_beamform_numpy",
    "td_beamform_cupy",
    "td_beamform_numba",
    "td_beamform_numpy",
]


@numba.njit(cache=True, inline="always")
def _combine(acc, acc2, acc_t, acc_t2, n, out_row):
    das = acc.real * acc.real + acc.imag * acc.imag
    out_row[0] = das
    pair = 0.5 * (acc_t * acc_t - acc_t2)
    out_row[1] = pair.real * pair.real + pair.imag * pair.imag
    out_row[2] = das * das / (n * acc2) if acc2 > 0 else 0.0


@numba.njit(cache=True, parallel=True, fastmath=False)
def fd_beamform_numba(s, freq, uniform, t_ant, tx, rx, out):
    """Frequency-domain DAS / DMAS / CF-DAS (Numba, parallel over points).

    For uniform frequencies the phasors ``exp(j 2 pi f_k tau_c)`` of all channels advance together
    by one complex multiplication per frequency (loop over channels innermost, so it vectorises);
    otherwise each phasor is evaluated with ``cos``/``sin``.

    Parameters
    ----------
    s : complex128[C, F]
        Calibrated S-parameters, channel-major.
    freq : float64[F]
        Frequencies in Hz.
    uniform : bool
        True when ``freq`` is uniformly spaced (phasor recursion).
    t_ant : float64[P, A]
        One-way times in s.
    tx, rx : int64[C]
        Antenna index of each channel.
    out : float64[P, 3]
        DAS, DMAS, CF-DAS intensities (written).
    """
    n_p = t_ant.shape[0]
    n_c, n_f = s.shape
    two_pi = 2.0 * np.pi
    df = freq[1] - freq[0] if n_f > 1 else 0.0
    sr = np.ascontiguousarray(s.real.T)  # [F, C]
    si = np.ascontiguousarray(s.imag.T)
    for p in numba.prange(n_p):
        yr = np.zeros(n_c)
        yi = np.zeros(n_c)
        er = np.empty(n_c)
        ei = np.empty(n_c)
        dr = np.empty(n_c)
        di = np.empty(n_c)
        for c in range(n_c):
            tau = t_ant[p, tx[c]] + t_ant[p, rx[c]]
            ph0 = two_pi * freq[0] * tau
            er[c] = np.cos(ph0)
            ei[c] = np.sin(ph0)
            phs = two_pi * df * tau
            dr[c] = np.cos(phs)
            di[c] = np.sin(phs)
        for k in range(n_f):
            if not uniform and k > 0:
                for c in range(n_c):
                    ph = two_pi * freq[k] * (t_ant[p, tx[c]] + t_ant[p, rx[c]])
                    er[c] = np.cos(ph)
                    ei[c] = np.sin(ph)
            if uniform:
                for c in range(n_c):
                    a = sr[k, c]
                    b = si[k, c]
                    xr = er[c]
                    xi = ei[c]
                    yr[c] += a * xr - b * xi
                    yi[c] += a * xi + b * xr
                    er[c] = xr * dr[c] - xi * di[c]
                    ei[c] = xr * di[c] + xi * dr[c]
            else:
                for c in range(n_c):
                    a = sr[k, c]
                    b = si[k, c]
                    yr[c] += a * er[c] - b * ei[c]
                    yi[c] += a * ei[c] + b * er[c]
        acc = 0j
        acc2 = 0.0
        acc_t = 0j
        acc_t2 = 0j
        for c in range(n_c):
            y = complex(yr[c], yi[c])
            acc += y
            m = abs(y)
            acc2 += m * m
            yt = y / np.sqrt(m) if m > 0 else 0j
            acc_t += yt
            acc_t2 += yt * yt
        _combine(acc, acc2, acc_t, acc_t2, n_c, out[p])


@numba.njit(cache=True, parallel=True, fastmath=False)
def td_beamform_numba(x, t0, dt, t_ant, tx, rx, out):
    """Time-domain DAS / DMAS / CF-DAS (Numba): linear interpolation of ``x[c, :]`` at the
    round-trip time; samples outside the record count as 0.

    Parameters
    ----------
    x : complex128[C, T]
        Time signals on ``t = t0 + k * dt`` (s).
    t0, dt : float
        First time and step in s.
    t_ant, tx, rx, out
        As in :func:`fd_beamform_numba`.
    """
    n_p = t_ant.shape[0]
    n_c, n_t = x.shape
    for p in numba.prange(n_p):
        acc = 0j
        acc2 = 0.0
        acc_t = 0j
        acc_t2 = 0j
        for c in range(n_c):
            tau = t_ant[p, tx[c]] + t_ant[p, rx[c]]
            u = (tau - t0) / dt
            k = int(np.floor(u))
            y = 0j
            if 0 <= k < n_t - 1:
                a = u - k
                y = (1.0 - a) * x[c, k] + a * x[c, k + 1]
            acc += y
            m = abs(y)
            acc2 += m * m
            yt = y / np.sqrt(m) if m > 0 else 0j
            acc_t += yt
            acc_t2 += yt * yt
        _combine(acc, acc2, acc_t, acc_t2, n_c, out[p])


def _combine_xp(xp, y):
    """Intensities from focused channel values ``y[p, c]`` (any array-API namespace)."""
    n_c = y.shape[1]
    acc = xp.sum(y, axis=1)
    mag = xp.abs(y)
    acc2 = xp.sum(mag * mag, axis=1)
    safe = xp.where(mag > 0, mag, xp.ones_like(mag))
    yt = xp.where(mag > 0, y / xp.astype(xp.sqrt(safe), y.dtype), xp.zeros_like(y))
    pair = 0.5 * (xp.sum(yt, axis=1) ** 2 - xp.sum(yt * yt, axis=1))
    das = xp.abs(acc) ** 2
    cf = xp.where(acc2 > 0, das / (n_c * xp.where(acc2 > 0, acc2, xp.ones_like(acc2))), 0 * das)
    return xp.stack([das, xp.abs(pair) ** 2, cf * das], axis=1)


def _ns(*arrays):
    import array_api_compat

    return array_api_compat.array_namespace(*arrays)


def fd_beamform_xp(s, freq, t_ant, tx, rx, *, freq_block: int = 16):
    """Vectorised frequency-domain beamforming for any array-API backend (NumPy, torch, CuPy).

    All inputs must be arrays of one backend (and device). Frequencies are processed in blocks
    of ``freq_block`` so memory stays ``P * C * freq_block`` complex values. Returns ``[P, 3]``.

    Parameters
    ----------
    s : array (C, F), complex
        Calibrated S-parameters, channel-major.
    freq : array (F,)
        Frequencies in Hz.
    t_ant : array (P, A)
        One-way times in s from every image point to every antenna.
    tx, rx : array (C,) of int
        Transmitting and receiving antenna of each channel.
    freq_block : int
        Frequencies processed at once (memory ``P * C * freq_block`` complex values).

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.
    """
    xp = _ns(s, freq, t_ant, tx, rx)
    tau = xp.take(t_ant, tx, axis=1) + xp.take(t_ant, rx, axis=1)  # [P, C]
    y = xp.zeros_like(tau, dtype=s.dtype)  # on the inputs' device (torch: CPU or CUDA)
    n_f = freq.shape[0]
    two_pi_j = xp.asarray(2j * np.pi, dtype=s.dtype)
    for k0 in range(0, n_f, freq_block):
        fk = freq[k0 : k0 + freq_block]
        ph = xp.astype(tau[:, :, None] * fk[None, None, :], s.dtype)
        e = xp.exp(two_pi_j * ph)
        y = y + xp.sum(e * s[None, :, k0 : k0 + freq_block], axis=2)
    return _combine_xp(xp, y)


def td_beamform_xp(x, t0: float, dt: float, t_ant, tx, rx):
    """Vectorised time-domain beamforming (linear interpolation) for any array-API backend.

    Parameters
    ----------
    x : array (C, T), complex
        Time signals on ``t = t0 + k * dt`` (s).
    t0, dt : float
        First time and time step in s.
    t_ant : array (P, A)
        One-way times in s from every image point to every antenna.
    tx, rx : array (C,) of int
        Transmitting and receiving antenna of each channel.

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.
    """
    xp = _ns(x, t_ant, tx, rx)
    tau = xp.take(t_ant, tx, axis=1) + xp.take(t_ant, rx, axis=1)
    u = (tau - t0) / dt
    k = xp.astype(xp.floor(u), xp.int64)
    a = xp.astype(u - xp.astype(k, u.dtype), x.dtype)
    n_t = x.shape[1]
    ok = (k >= 0) & (k < n_t - 1)
    kk = xp.clip(k, 0, n_t - 2)
    c = xp.arange(x.shape[0], device=array_device(x))[None, :] * n_t
    flat = xp.reshape(x, (-1,))
    lo = xp.take(flat, xp.reshape(c + kk, (-1,)))
    hi = xp.take(flat, xp.reshape(c + kk + 1, (-1,)))
    y = xp.reshape((1 - xp.reshape(a, (-1,))) * lo + xp.reshape(a, (-1,)) * hi, tau.shape)
    y = xp.where(ok, y, xp.zeros_like(y))
    return _combine_xp(xp, y)


def fd_beamform_numpy(s, freq, t_ant, tx, rx):
    """Plain vectorised NumPy reference of :func:`fd_beamform_numba` (memory ``P*C*F``).

    Parameters
    ----------
    s : array (C, F), complex
        Calibrated S-parameters, channel-major.
    freq : array (F,)
        Frequencies in Hz.
    t_ant : array (P, A)
        One-way times in s from every image point to every antenna.
    tx, rx : array (C,) of int
        Transmitting and receiving antenna of each channel.

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.
    """
    tau = t_ant[:, tx] + t_ant[:, rx]  # [P, C]
    e = np.exp(2j * np.pi * tau[:, :, None] * freq[None, None, :])
    y = np.einsum("pcf,cf->pc", e, s)
    return _combine_xp(np, y)


def td_beamform_numpy(x, t0, dt, t_ant, tx, rx):
    """Plain NumPy reference of :func:`td_beamform_numba`.

    Parameters
    ----------
    x : array (C, T), complex
        Time signals on ``t = t0 + k * dt`` (s).
    t0, dt : float
        First time and time step in s.
    t_ant : array (P, A)
        One-way times in s from every image point to every antenna.
    tx, rx : array (C,) of int
        Transmitting and receiving antenna of each channel.

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.
    """
    tau = t_ant[:, tx] + t_ant[:, rx]
    u = (tau - t0) / dt
    k = np.floor(u).astype(np.int64)
    a = u - k
    ok = (k >= 0) & (k < x.shape[1] - 1)
    kk = np.clip(k, 0, x.shape[1] - 2)
    c = np.arange(x.shape[0])[None, :]
    y = np.where(ok, (1 - a) * x[c, kk] + a * x[c, kk + 1], 0)
    return _combine_xp(np, y)


def fd_beamform_cupy(s, freq, t_ant, tx, rx, *, freq_block: int = 16):
    """Frequency-domain beamforming on the GPU (vectorised CuPy via :func:`fd_beamform_xp`).

    Inputs may be NumPy or CuPy arrays; returns a CuPy array ``[P, 3]``.

    Parameters
    ----------
    s : array (C, F), complex
        Calibrated S-parameters, channel-major.
    freq : array (F,)
        Frequencies in Hz.
    t_ant : array (P, A)
        One-way times in s from every image point to every antenna.
    tx, rx : array (C,) of int
        Transmitting and receiving antenna of each channel.
    freq_block : int
        Frequencies processed at once (memory ``P * C * freq_block`` complex values).

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.
    """
    import cupy as cp

    return fd_beamform_xp(
        cp.asarray(s),
        cp.asarray(freq, dtype=cp.float64),
        cp.asarray(t_ant, dtype=cp.float64),
        cp.asarray(tx),
        cp.asarray(rx),
        freq_block=freq_block,
    )


def td_beamform_cupy(x, t0, dt, t_ant, tx, rx):
    """Time-domain beamforming on the GPU (vectorised CuPy); returns CuPy ``[P, 3]``.

    Parameters
    ----------
    x : array (C, T), complex
        Time signals on ``t = t0 + k * dt`` (s).
    t0, dt : float
        First time and time step in s.
    t_ant : array (P, A)
        One-way times in s from every image point to every antenna.
    tx, rx : array (C,) of int
        Transmitting and receiving antenna of each channel.

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.
    """
    import cupy as cp

    return td_beamform_xp(
        cp.asarray(x), t0, dt, cp.asarray(t_ant, dtype=cp.float64), cp.asarray(tx), cp.asarray(rx)
    )
