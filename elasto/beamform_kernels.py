"""Plane-wave delay-and-sum kernels: Numba (CPU), CuPy (GPU) and a plain NumPy reference.

All three compute the same sum (Montaldo et al., IEEE TUFFC 56:489, 2009, coherent plane-wave
compounding): for a pixel at lateral position ``x`` and depth ``z``, transmit ``k`` at angle
``theta_k`` and element ``e`` at ``x_e``,

    t = (z cos(theta_k) + x sin(theta_k)) / c + sqrt(z**2 + (x - x_e)**2) / c,

the channel signal is read at sample ``(t - t0) * fs`` by linear interpolation, weighted by a
receive apodisation that opens with depth at a constant f-number F (elements with
``|x - x_e| <= z / (2F)``, Hann-weighted over that aperture), and summed over elements and
transmits.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True, fastmath=False)
def das_numba(channel, angles, element_x, xs, zs, fs, c, t0, fnum):  # pragma: no cover - jit
    """DAS of one frame. channel (tx, element, sample) float32/64 -> out (z, x) float64."""
    ntx, nel, ns = channel.shape
    nz = zs.shape[0]
    nx = xs.shape[0]
    out = np.zeros((nz, nx))
    pitch = element_x[1] - element_x[0] if nel > 1 else 1.0
    x0 = element_x[0]
    ca = np.cos(angles)
    sa = np.sin(angles)
    for ix in numba.prange(nx):
        ttx = np.empty(ntx)
        x = xs[ix]
        for iz in range(nz):
            z = zs[iz]
            half = z / (2.0 * fnum)
            lo = int(np.ceil((x - half - x0) / pitch))
            hi = int(np.floor((x + half - x0) / pitch))
            if lo < 0:
                lo = 0
            if hi > nel - 1:
                hi = nel - 1
            for k in range(ntx):
                ttx[k] = (z * ca[k] + x * sa[k]) / c
            acc = 0.0
            for e in range(lo, hi + 1):
                dx = x - element_x[e]
                if half > 0.0:
                    w = 0.5 + 0.5 * np.cos(np.pi * dx / half)
                else:
                    w = 1.0
                trx = np.sqrt(z * z + dx * dx) / c
                for k in range(ntx):
                    s = (ttx[k] + trx - t0) * fs
                    i0 = int(np.floor(s))
                    if i0 < 0 or i0 >= ns - 1:
                        continue
                    fr = s - i0
                    acc += w * ((1.0 - fr) * channel[k, e, i0] + fr * channel[k, e, i0 + 1])
            out[iz, ix] = acc
    return out


def das_numpy(channel, angles, element_x, xs, zs, fs, c, t0, fnum, xp=np):
    """Straightforward vectorised DAS (NumPy or CuPy via ``xp``): loops over tx and elements.

    Used as the reference implementation in benchmarks and as the GPU fallback.

    Parameters
    ----------
    channel : array (tx, element, sample)
        Channel data of one frame.
    angles : array (tx,)
        Plane-wave angles in rad.
    element_x : array (element,)
        Element positions in m.
    xs, zs : array
        Image lines and depths in m.
    fs : float
        Sampling frequency in Hz.
    c : float
        Speed of sound in m/s.
    t0 : float
        Time of the first sample in s.
    fnum : float
        Receive f-number.
    xp : module
        ``numpy`` or ``cupy``.

    Returns
    -------
    array (z, x)
        Beamformed RF (``xp`` array).
    """
    ntx, nel, ns = channel.shape
    X, Z = xp.meshgrid(xp.asarray(xs), xp.asarray(zs))
    out = xp.zeros(X.shape)
    half = Z / (2.0 * fnum)
    flat = xp.asarray(channel)
    for k in range(ntx):
        ttx = (Z * np.cos(float(angles[k])) + X * np.sin(float(angles[k]))) / c
        for e in range(nel):
            dx = X - float(element_x[e])
            inside = xp.abs(dx) <= half
            w = xp.where(inside, 0.5 + 0.5 * xp.cos(np.pi * dx / xp.where(half > 0, half, 1.0)), 0)
            s = (ttx + xp.sqrt(Z * Z + dx * dx) / c - t0) * fs
            i0 = xp.floor(s).astype(xp.int64)
            ok = inside & (i0 >= 0) & (i0 < ns - 1)
            i0c = xp.clip(i0, 0, ns - 2)
            fr = s - i0
            sig = flat[k, e]
            val = (1.0 - fr) * sig[i0c] + fr * sig[i0c + 1]
            out += xp.where(ok, w * val, 0.0)
    return out


_CUDA_SRC = r"""
extern "C" __global__
void das(const float* ch, const double* ang, const double* ex, const double* xs,
         const double* zs, double* out, int ntx, int nel, int ns, int nx, int nz,
         double fs, double c, double t0, double fnum, double pitch) {
    int idx = blockDim.x * blockIdx.x + threadIdx.x;
    if (idx >= nx * nz) return;
    int iz = idx / nx, ix = idx % nx;
    double x = xs[ix], z = zs[iz];
    double half = z / (2.0 * fnum);
    int lo = (int)ceil((x - half - ex[0]) / pitch);
    int hi = (int)floor((x + half - ex[0]) / pitch);
    if (lo < 0) lo = 0;
    if (hi > nel - 1) hi = nel - 1;
    double acc = 0.0;
    for (int k = 0; k < ntx; ++k) {
        double ttx = (z * cos(ang[k]) + x * sin(ang[k])) / c;
        for (int e = lo; e <= hi; ++e) {
            double dx = x - ex[e];
            double w = half > 0.0 ? 0.5 + 0.5 * cos(3.141592653589793 * dx / half) : 1.0;
            double s = (ttx + sqrt(z * z + dx * dx) / c - t0) * fs;
            int i0 = (int)floor(s);
            if (i0 < 0 || i0 >= ns - 1) continue;
            double fr = s - i0;
            const float* sig = ch + ((size_t)k * nel + e) * ns;
            acc += w * ((1.0 - fr) * sig[i0] + fr * sig[i0 + 1]);
        }
    }
    out[idx] = acc;
}
"""


def das_cupy(channel, angles, element_x, xs, zs, fs, c, t0, fnum):
    """DAS of one frame on the GPU (CuPy RawKernel, one thread per pixel).

    Parameters
    ----------
    channel, angles, element_x, xs, zs, fs, c, t0, fnum
        As :func:`das_numpy`.

    Returns
    -------
    cupy.ndarray (z, x)
        Beamformed RF.
    """
    import cupy as cp

    kern = cp.RawKernel(_CUDA_SRC, "das")
    ch = cp.ascontiguousarray(cp.asarray(channel, dtype=cp.float32))
    ntx, nel, ns = ch.shape
    ang = cp.asarray(angles, dtype=cp.float64)
    ex = cp.asarray(element_x, dtype=cp.float64)
    xs_d = cp.asarray(xs, dtype=cp.float64)
    zs_d = cp.asarray(zs, dtype=cp.float64)
    nx, nz = xs_d.size, zs_d.size
    out = cp.zeros((nz, nx), dtype=cp.float64)
    pitch = float(element_x[1] - element_x[0]) if nel > 1 else 1.0
    threads = 256
    blocks = (nx * nz + threads - 1) // threads
    kern(
        (blocks,),
        (threads,),
        (
            ch,
            ang,
            ex,
            xs_d,
            zs_d,
            out,
            np.int32(ntx),
            np.int32(nel),
            np.int32(ns),
            np.int32(nx),
            np.int32(nz),
            np.float64(fs),
            np.float64(c),
            np.float64(t0),
            np.float64(fnum),
            np.float64(pitch),
        ),
    )
    return out
