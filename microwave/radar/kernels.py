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
delay tau multiplies S by exp(-j 2 pi f tau), which focusing undoes). For uniformly spaced
frequencies ``f_k = f0 + k df`` this is a polynomial in ``z = exp(j 2 pi df tau_c)``, evaluated by
Horner's rule: one complex multiply-add (8 flops, 4 fused multiply-adds) per point, channel and
frequency, no phasor stored or loaded. The Numba kernel makes image points the vector lanes
(blocks of ``_PB`` points, parallel over blocks), keeps each lane's accumulator and ``z`` in
registers for ``_KB`` frequencies and broadcasts ``S_c(f)``; the array-API/CuPy kernel uses the
same polynomial, blocked (powers ``z**j`` within a frequency block as batched complex products,
Horner's rule in ``z**B`` across blocks). Time domain: ``y_c = x_c(tau_c)`` by linear
interpolation of complex (analytic) time signals on a uniform grid.

Vector width: on Intel CPUs with AVX-512, LLVM compiles loops for 256-bit vectors unless told
otherwise (its ``prefer-256-bit`` tuning). The frequency-domain kernels mark their own compiled
function with ``"prefer-vector-width"="512"`` (:func:`_wide_vectors`), which makes the FMA loop
use 512-bit registers there and nowhere else (1.5x on a Xeon, same results bit for bit in the
benchmark); on a CPU without AVX-512 the attribute changes nothing.
"""

from __future__ import annotations

import numba
import numpy as np
from array_api_compat import device as array_device
from numba.core import types
from numba.extending import intrinsic

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


# Lanes (image points) per block and frequencies per register block of the Numba kernels. A
# block's working set (the lane vectors, and one channel's reversed spectrum of F complex values
# or one channel's time record) stays in the L1/L2 cache while all channels are swept; the
# frequency block keeps each lane's Horner accumulator in registers for _KB steps.
_PB = 128
_KB = 8
_VECTOR_BITS = 512  # preferred vector width of the frequency-domain kernels (see _wide_vectors)
_TWO_PI = 2.0 * np.pi
# Taylor coefficients of sin(x) / x and cos(x) in x**2, enough for |x| <= pi/4 to < 1 ulp.
_SIN = (
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362880.0,
    -1.0 / 39916800.0,
    1.0 / 6227020800.0,
    -1.0 / 1307674368000.0,
)
_COS = (
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40320.0,
    -1.0 / 3628800.0,
    1.0 / 479001600.0,
    -1.0 / 87178291200.0,
    1.0 / 20922789888000.0,
)


@intrinsic
def _wide_vectors(typingctx):
    """Mark the function being compiled with ``"prefer-vector-width"="512"`` (a no-op call).

    LLVM's X86 back end reads this function attribute to override the CPU's preferred vector
    width, so only the kernel that calls this gets 512-bit loops. Called inside a ``prange``
    body it marks the outlined parallel function, where the loops are. llvmlite's attribute set
    only checks names against LLVM's keyword attributes, so the string attribute is added with
    ``set.add``; its text goes into the IR as it is.
    """

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, f'"prefer-vector-width"="{_VECTOR_BITS}"')
        return context.get_dummy_value()

    return types.none(), codegen


@numba.njit(cache=True, inline="always", error_model="numpy")
def _sincos_turns(r):
    """``(cos 2 pi r, sin 2 pi r)`` without a libm call, so that a loop over lanes vectorises.

    Reduction to the nearest quarter turn ``q`` (``|2 pi (r - q/4)| <= pi/4``), Taylor
    polynomials to degree 16 there (truncation < 5e-17), and the quadrant by exchanging and
    negating; agrees with ``np.cos``/``np.sin`` of ``2 pi r`` to a few 1e-16 for ``|r|`` of a few
    turns.
    """
    q = np.floor(4.0 * r + 0.5)
    x = _TWO_PI * (r - 0.25 * q)
    x2 = x * x
    s = _SIN[6]
    for j in range(5, -1, -1):
        s = s * x2 + _SIN[j]
    s = x + x * x2 * s
    c = _COS[7]
    for j in range(6, -1, -1):
        c = c * x2 + _COS[j]
    c = 1.0 + x2 * c
    n = np.int64(q) & 3
    cq = s if n & 1 else c  # cos and sin of x + n pi / 2
    sq = c if n & 1 else s
    return (cq if (n + 1) & 2 == 0 else -cq), (sq if n & 2 == 0 else -sq)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _accumulate(yr, yi, acc):
    """Add one channel's focused values ``y = yr + j yi`` (one per lane) to the lane sums.

    ``acc[0:2]`` sum of y, ``acc[2]`` sum of ``|y|**2``, ``acc[3:5]`` sum of the signed square
    roots ``yt = y / sqrt|y|``, ``acc[5:7]`` sum of ``yt**2``.
    """
    for i in range(yr.shape[0]):
        a = yr[i]
        b = yi[i]
        m2 = a * a + b * b
        w = 1.0 / np.sqrt(np.sqrt(m2)) if m2 > 0.0 else 0.0
        ta = a * w
        tb = b * w
        acc[0, i] += a
        acc[1, i] += b
        acc[2, i] += m2
        acc[3, i] += ta
        acc[4, i] += tb
        acc[5, i] += ta * ta - tb * tb
        acc[6, i] += 2.0 * ta * tb


@numba.njit(cache=True, inline="always", error_model="numpy")
def _finish(acc, n_c, p0, out):
    """DAS, DMAS and CF-DAS of the lanes ``p0 + i`` that are image points (see module doc)."""
    for i in range(min(acc.shape[1], out.shape[0] - p0)):
        das = acc[0, i] * acc[0, i] + acc[1, i] * acc[1, i]
        # sum_{i<j} yt_i yt_j = ((sum yt)**2 - sum yt**2) / 2
        pr = 0.5 * (acc[3, i] * acc[3, i] - acc[4, i] * acc[4, i] - acc[5, i])
        pi = 0.5 * (2.0 * acc[3, i] * acc[4, i] - acc[6, i])
        out[p0 + i, 0] = das
        out[p0 + i, 1] = pr * pr + pi * pi
        out[p0 + i, 2] = das * das / (n_c * acc[2, i]) if acc[2, i] > 0 else 0.0


# Each kernel allocates its own lane arrays (tau, yr, yi, acc) in its block loop. A shared inline
# helper returning them as a tuple was tried (issue 18): the outputs stayed bit-identical, but
# LLVM no longer proved the arrays apart, the lane loops lost their vector gathers and the
# time-domain kernel ran 1.6-1.9x slower (40000 points: 24 -> 39 ms).
@numba.njit(cache=True, inline="always")
def _lane_delays(t_ant, a, b, p0, tau):
    """Round-trip times of antennas ``a`` -> ``b`` for lanes ``p0 + i`` (the last point repeats
    past the end, so a partial block computes finite values it never writes)."""
    n_p = t_ant.shape[0]
    for i in range(tau.shape[0]):
        p = min(p0 + i, n_p - 1)
        tau[i] = t_ant[p, a] + t_ant[p, b]


@numba.njit(cache=True, parallel=True, fastmath={"contract"}, error_model="numpy")
def _fd_horner_numba(srv, siv, f0, df, t_ant, tx, rx, out):
    """Frequency-domain focusing by Horner's rule on uniformly spaced frequencies.

    ``y_c = exp(j 2 pi f0 tau) * sum_k S_c(k) z**k`` with ``z = exp(j 2 pi df tau)``: per
    (point, channel, frequency) one complex multiply-add ``y = y z + S`` (8 flops, 4 FMAs), no
    phasor array and no trigonometry in the loop. Points are the vector lanes (blocks of
    ``_PB``, 512-bit vectors: :func:`_wide_vectors`), ``S_c(k)`` is a broadcast scalar; each
    lane's ``y`` and ``z`` stay in registers for ``_KB`` frequencies, and two independent lane
    groups are interleaved to hide the FMA latency. ``srv, siv`` are ``S`` reversed along
    frequency and zero-padded in front to a multiple of ``_KB``.
    """
    n_c, n_fp = srv.shape
    n_p = t_ant.shape[0]
    half = _PB // 2
    for blk in numba.prange((n_p + _PB - 1) // _PB):
        _wide_vectors()
        p0 = blk * _PB
        tau = np.empty(_PB)
        zr = np.empty(_PB)
        zi = np.empty(_PB)
        yr = np.empty(_PB)
        yi = np.empty(_PB)
        acc = np.zeros((7, _PB))
        for c in range(n_c):
            _lane_delays(t_ant, tx[c], rx[c], p0, tau)
            for i in range(_PB):
                zr[i], zi[i] = _sincos_turns(df * tau[i])
                yr[i] = 0.0
                yi[i] = 0.0
            for k0 in range(0, n_fp, _KB):
                for i in range(half):
                    a0, b0, cr0, ci0 = yr[i], yi[i], zr[i], zi[i]
                    a1, b1, cr1, ci1 = yr[i + half], yi[i + half], zr[i + half], zi[i + half]
                    for kk in range(_KB):
                        sr = srv[c, k0 + kk]
                        si = siv[c, k0 + kk]
                        u0 = sr - b0 * ci0
                        v0 = si + b0 * cr0
                        u1 = sr - b1 * ci1
                        v1 = si + b1 * cr1
                        b0 = v0 + a0 * ci0
                        a0 = u0 + a0 * cr0
                        b1 = v1 + a1 * ci1
                        a1 = u1 + a1 * cr1
                    yr[i], yi[i] = a0, b0
                    yr[i + half], yi[i + half] = a1, b1
            for i in range(_PB):
                er, ei = _sincos_turns(f0 * tau[i])
                a, b = yr[i], yi[i]
                yr[i] = a * er - b * ei
                yi[i] = a * ei + b * er
            _accumulate(yr, yi, acc)
        _finish(acc, n_c, p0, out)


@numba.njit(cache=True, parallel=True, fastmath={"contract"}, error_model="numpy")
def _fd_direct_numba(sr, si, freq, t_ant, tx, rx, out):
    """Frequency-domain focusing for arbitrary frequencies: one vectorised ``_sincos_turns``
    per (point, channel, frequency), same blocks and lanes as :func:`_fd_horner_numba`."""
    n_c, n_f = sr.shape
    n_p = t_ant.shape[0]
    for blk in numba.prange((n_p + _PB - 1) // _PB):
        _wide_vectors()
        p0 = blk * _PB
        tau = np.empty(_PB)
        yr = np.empty(_PB)
        yi = np.empty(_PB)
        acc = np.zeros((7, _PB))
        for c in range(n_c):
            _lane_delays(t_ant, tx[c], rx[c], p0, tau)
            yr[:] = 0.0
            yi[:] = 0.0
            for k in range(n_f):
                fk = freq[k]
                a = sr[c, k]
                b = si[c, k]
                for i in range(_PB):
                    er, ei = _sincos_turns(fk * tau[i])
                    yr[i] += a * er - b * ei
                    yi[i] += a * ei + b * er
            _accumulate(yr, yi, acc)
        _finish(acc, n_c, p0, out)


def fd_beamform_numba(s, freq, uniform, t_ant, tx, rx, out):
    """Frequency-domain DAS / DMAS / CF-DAS on the CPU (Numba, parallel over blocks of points).

    Uniformly spaced frequencies use Horner's rule in ``z = exp(j 2 pi df tau)`` (one complex
    multiply-add per point, channel and frequency, the accumulators in registers; see
    :func:`_fd_horner_numba`); otherwise each phasor is evaluated (vectorised sine/cosine).
    Matches :func:`fd_beamform_numpy` to ~1e-12 relative (rounding only: the Horner sum of
    ``F`` terms of modulus-one phasors has error ``O(F eps)``).

    Parameters
    ----------
    s : complex128[C, F]
        Calibrated S-parameters, channel-major.
    freq : float64[F]
        Frequencies in Hz.
    uniform : bool
        True when ``freq`` is uniformly spaced (Horner recursion).
    t_ant : float64[P, A]
        One-way times in s.
    tx, rx : int64[C]
        Antenna index of each channel.
    out : float64[P, 3]
        DAS, DMAS, CF-DAS intensities (written).

    Returns
    -------
    None
        The result is written to ``out``.
    """
    s = np.asarray(s, dtype=np.complex128)
    freq = np.asarray(freq, dtype=np.float64)
    t_ant = np.ascontiguousarray(t_ant, dtype=np.float64)
    tx = np.asarray(tx, dtype=np.int64)
    rx = np.asarray(rx, dtype=np.int64)
    n_f = s.shape[1]
    if uniform and n_f > 1:
        n_fp = -(-n_f // _KB) * _KB
        rev = np.zeros((s.shape[0], n_fp), dtype=np.complex128)
        rev[:, n_fp - n_f :] = s[:, ::-1]
        df = (freq[-1] - freq[0]) / (n_f - 1)
        _fd_horner_numba(
            np.ascontiguousarray(rev.real),
            np.ascontiguousarray(rev.imag),
            float(freq[0]),
            float(df),
            t_ant,
            tx,
            rx,
            out,
        )
    else:
        _fd_direct_numba(
            np.ascontiguousarray(s.real), np.ascontiguousarray(s.imag), freq, t_ant, tx, rx, out
        )


@numba.njit(cache=True, parallel=True, fastmath={"contract"}, error_model="numpy")
def td_beamform_numba(x, t0, dt, t_ant, tx, rx, out):
    """Time-domain DAS / DMAS / CF-DAS (Numba): linear interpolation of ``x[c, :]`` at the
    round-trip time; samples outside the record count as 0.

    Blocks of points are the vector lanes and the channel loop is outside the lane loop, so one
    channel's record (``T`` complex samples) is reused from the cache by a block's points.

    Parameters
    ----------
    x : complex128[C, T]
        Time signals on ``t = t0 + k * dt`` (s).
    t0, dt : float
        First time and step in s.
    t_ant, tx, rx, out
        As in :func:`fd_beamform_numba`.

    Returns
    -------
    None
        The result is written to ``out``.
    """
    n_p = t_ant.shape[0]
    n_c, n_t = x.shape
    for blk in numba.prange((n_p + _PB - 1) // _PB):
        p0 = blk * _PB
        tau = np.empty(_PB)
        yr = np.empty(_PB)
        yi = np.empty(_PB)
        acc = np.zeros((7, _PB))
        for c in range(n_c):
            _lane_delays(t_ant, tx[c], rx[c], p0, tau)
            for i in range(_PB):
                u = (tau[i] - t0) / dt
                k = int(np.floor(u))
                if 0 <= k < n_t - 1:
                    a = u - k
                    y = (1.0 - a) * x[c, k] + a * x[c, k + 1]
                    yr[i] = y.real
                    yi[i] = y.imag
                else:
                    yr[i] = 0.0
                    yi[i] = 0.0
            _accumulate(yr, yi, acc)
        _finish(acc, n_c, p0, out)


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


def _uniform_spacing(xp, freq) -> bool:
    """Whether ``freq`` is uniformly spaced (rtol 1e-9, as ``beamform`` decides): one scalar read
    back from the device. Arrays whose values cannot be read (torch "meta" tensors, shapes only)
    count as non-uniform."""
    if freq.shape[0] < 3:
        return freq.shape[0] == 2
    d = freq[1:] - freq[:-1]
    try:
        return bool(xp.all(xp.abs(d - d[0]) <= 1e-9 * xp.abs(d[0])))
    except RuntimeError:
        return False


def fd_beamform_xp(s, freq, t_ant, tx, rx, *, freq_block: int = 16, uniform: bool | None = None):
    """Vectorised frequency-domain beamforming for any array-API backend (NumPy, torch, CuPy).

    All inputs must be arrays of one backend (and device). Uniformly spaced frequencies use the
    structure of the Numba kernel, blocked: with ``z = exp(j 2 pi df tau)`` and blocks of
    ``B = freq_block`` frequencies,
    ``y = exp(j 2 pi f0 tau) sum_b (z**B)**b sum_{j<B} S(bB + j) z**j``: the powers ``z**j``
    (``B`` exponentials per point and channel, not ``F``) multiply every block's S-parameters
    (batched complex products and a sum), and Horner's rule in ``z**B`` runs over the blocks.
    Other frequencies evaluate one phasor per term. Memory is ``P * C * freq_block`` complex
    values either way. Returns ``[P, 3]``.

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
    uniform : bool, optional
        Whether ``freq`` is uniformly spaced; ``None`` checks it (one scalar from the device).

    Returns
    -------
    array (P, 3)
        DAS, DMAS and CF-DAS intensities per point, on the inputs' backend.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.radar import kernels as rk
    >>> s, freq = np.ones((1, 40), complex), np.linspace(1e9, 2e9, 40)
    >>> t = np.full((1, 1), 1e-9)  # one point 1 ns from the single antenna, monostatic channel
    >>> tx = rx = np.zeros(1, dtype=np.int64)
    >>> out = rk.fd_beamform_xp(s, freq, t, tx, rx)  # DAS, DMAS, CF-DAS of the one point
    >>> bool(np.allclose(out, rk.fd_beamform_numpy(s, freq, t, tx, rx)))
    True
    """
    xp = _ns(s, freq, t_ant, tx, rx)
    tau = xp.take(t_ant, tx, axis=1) + xp.take(t_ant, rx, axis=1)  # [P, C]
    n_f = freq.shape[0]
    two_pi_j = xp.asarray(2j * np.pi, dtype=s.dtype, device=array_device(s))
    if uniform is None:
        uniform = _uniform_spacing(xp, freq)
    y = xp.zeros_like(tau, dtype=s.dtype)  # on the inputs' device (torch: CPU or CUDA)
    if not uniform or n_f < 2:
        for k0 in range(0, n_f, freq_block):
            fk = freq[k0 : k0 + freq_block]
            e = xp.exp(two_pi_j * xp.astype(tau[:, :, None] * fk[None, None, :], s.dtype))
            y = y + xp.sum(e * s[None, :, k0 : k0 + freq_block], axis=2)
        return _combine_xp(xp, y)
    n_b = min(freq_block, n_f)
    df = (freq[n_f - 1] - freq[0]) / (n_f - 1)
    j = xp.arange(n_b, dtype=tau.dtype, device=array_device(tau))
    zpow = xp.exp(two_pi_j * xp.astype(tau[:, :, None] * (df * j)[None, None, :], s.dtype))
    z_block = xp.exp(two_pi_j * xp.astype(tau * (df * n_b), s.dtype))
    for k0 in reversed(range(0, n_f, n_b)):
        blk = s[:, k0 : k0 + n_b]
        y = y * z_block + xp.sum(zpow[:, :, : blk.shape[1]] * blk[None, :, :], axis=2)
    y = y * xp.exp(two_pi_j * xp.astype(tau * freq[0], s.dtype))
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
    s, freq, t_ant, tx, rx
        As in :func:`fd_beamform_xp`.

    Returns
    -------
    numpy.ndarray (P, 3)
        DAS, DMAS and CF-DAS intensities per point.
    """
    tau = t_ant[:, tx] + t_ant[:, rx]  # [P, C]
    e = np.exp(2j * np.pi * tau[:, :, None] * freq[None, None, :])
    y = np.einsum("pcf,cf->pc", e, s)
    return _combine_xp(np, y)


def td_beamform_numpy(x, t0, dt, t_ant, tx, rx):
    """Plain NumPy reference of :func:`td_beamform_numba`.

    Parameters
    ----------
    x, t0, dt, t_ant, tx, rx
        As in :func:`td_beamform_xp`.

    Returns
    -------
    numpy.ndarray (P, 3)
        DAS, DMAS and CF-DAS intensities per point, as :func:`fd_beamform_numpy`.
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
    s, freq, t_ant, tx, rx, freq_block
        As in :func:`fd_beamform_xp` (NumPy or CuPy arrays).

    Returns
    -------
    cupy.ndarray (P, 3)
        DAS, DMAS and CF-DAS intensities per point.
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
    x, t0, dt, t_ant, tx, rx
        As in :func:`td_beamform_xp` (NumPy or CuPy arrays).

    Returns
    -------
    cupy.ndarray (P, 3)
        DAS, DMAS and CF-DAS intensities per point, as :func:`fd_beamform_cupy`.
    """
    import cupy as cp

    return td_beamform_xp(
        cp.asarray(x), t0, dt, cp.asarray(t_ant, dtype=cp.float64), cp.asarray(tx), cp.asarray(rx)
    )
