"""Block-matching and dynamic-programming kernels (Numba CPU, CuPy GPU, plain NumPy reference).

NCC block matching: for a window of ``2 hw + 1`` samples centred on row ``r`` of line ``l`` of the
pre-compression frame, the zero-mean normalised cross-correlation with the post frame is
evaluated for integer axial shifts ``s`` in ``guide_ax ± ax_search`` and lateral shifts ``m`` in
``guide_lat ± lat_search``; the maximum is refined to sub-sample precision by a parabola through
the peak and its two neighbours, axially and laterally (Cespedes et al., Ultrasonic Imaging
17:142, 1995).

Dynamic programming (Rivaz, Boctor, Foroughi, Zellars, Fichtinger, Hager, "Ultrasound
elastography: a dynamic programming approach", IEEE TMI 27(10):1373-1377, 2008): along each line
the integer axial/lateral displacement of consecutive windows minimises the sum of a data cost
(here 1 - NCC) and a regularisation ``alpha * ((d_i - d_{i-1})**2 + (m_i - m_{i-1})**2)``, with
steps of at most one sample/line between neighbouring windows; solved exactly by DP.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _ncc(pre, post, l, lp, r0, n, s):  # pragma: no cover - jit
    sa = 0.0
    sb = 0.0
    sab = 0.0
    saa = 0.0
    sbb = 0.0
    for i in range(n):
        a = pre[r0 + i, l]
        b = post[r0 + i + s, lp]
        sa += a
        sb += b
        sab += a * b
        saa += a * a
        sbb += b * b
    cov = sab - sa * sb / n
    va = saa - sa * sa / n
    vb = sbb - sb * sb / n
    if va <= 0.0 or vb <= 0.0:
        return 0.0
    return cov / np.sqrt(va * vb)


@numba.njit(cache=True, parallel=True)
def ncc_numba(pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search):  # noqa: E501
    """NCC block matching. Returns (axial, lateral, ncc) float arrays (n_windows, n_lines)."""
    nd, nl = pre.shape
    nw = centers.shape[0]
    n = 2 * hw + 1
    ax = np.zeros((nw, nl))
    lat = np.zeros((nw, nl))
    cc = np.zeros((nw, nl))
    for l in numba.prange(nl):
        for w in range(nw):
            r0 = centers[w] - hw
            best = -2.0
            bs = 0
            bm = 0
            g = guide_ax[w, l]
            gl = guide_lat[w, l]
            for m in range(gl - lat_search, gl + lat_search + 1):
                lp = l + m
                if lp < 0 or lp >= nl:
                    continue
                for s in range(g - ax_search, g + ax_search + 1):
                    if r0 + s < 0 or r0 + s + n > nd:
                        continue
                    v = _ncc(pre, post, l, lp, r0, n, s)
                    if v > best:
                        best = v
                        bs = s
                        bm = m
            if best <= -2.0:
                ax[w, l] = np.nan
                lat[w, l] = np.nan
                cc[w, l] = 0.0
                continue
            da = 0.0
            if r0 + bs - 1 >= 0 and r0 + bs + 1 + n <= nd:
                cm = _ncc(pre, post, l, l + bm, r0, n, bs - 1)
                cp = _ncc(pre, post, l, l + bm, r0, n, bs + 1)
                den = cm - 2.0 * best + cp
                if den < 0.0:
                    da = 0.5 * (cm - cp) / den
                    if da > 0.5:
                        da = 0.5
                    elif da < -0.5:
                        da = -0.5
            dl = 0.0
            if l + bm - 1 >= 0 and l + bm + 1 < nl:
                cm = _ncc(pre, post, l, l + bm - 1, r0, n, bs)
                cp = _ncc(pre, post, l, l + bm + 1, r0, n, bs)
                den = cm - 2.0 * best + cp
                if den < 0.0:
                    dl = 0.5 * (cm - cp) / den
                    if dl > 0.5:
                        dl = 0.5
                    elif dl < -0.5:
                        dl = -0.5
            ax[w, l] = bs + da
            lat[w, l] = bm + dl
            cc[w, l] = best
    return ax, lat, cc


def ncc_numpy(pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search):
    """Straightforward NumPy NCC block matching (Python loop over windows; reference)."""
    nd, nl = pre.shape
    nw = len(centers)
    n = 2 * hw + 1
    ax = np.full((nw, nl), np.nan)
    lat = np.full((nw, nl), np.nan)
    cc = np.zeros((nw, nl))
    for w in range(nw):
        r0 = centers[w] - hw
        for l in range(nl):
            a = pre[r0 : r0 + n, l]
            a = a - a.mean()
            g, gl = int(guide_ax[w, l]), int(guide_lat[w, l])
            shifts = np.arange(g - ax_search - 1, g + ax_search + 2)
            ms = np.arange(gl - lat_search - 1, gl + lat_search + 2)
            table = np.full((ms.size, shifts.size), -2.0)
            for im, m in enumerate(ms):
                lp = l + m
                if lp < 0 or lp >= nl:
                    continue
                ok = (r0 + shifts >= 0) & (r0 + shifts + n <= nd)
                idx = r0 + shifts[ok][:, None] + np.arange(n)[None, :]
                b = post[idx, lp]
                b = b - b.mean(axis=1, keepdims=True)
                den = np.sqrt((a * a).sum() * (b * b).sum(axis=1))
                v = np.where(den > 0, (b @ a) / np.where(den > 0, den, 1), 0.0)
                table[im, ok] = v
            inner = table[1:-1, 1:-1]
            if inner.max() <= -2.0:
                continue
            im, js = np.unravel_index(np.argmax(inner), inner.shape)
            im += 1
            js += 1
            best = table[im, js]
            da = _parab(table[im, js - 1], best, table[im, js + 1])
            dl = _parab(table[im - 1, js], best, table[im + 1, js])
            ax[w, l] = shifts[js] + da
            lat[w, l] = ms[im] + dl
            cc[w, l] = best
    return ax, lat, cc


def _parab(cm, c0, cp):
    if cm <= -2.0 or cp <= -2.0:
        return 0.0
    den = cm - 2 * c0 + cp
    if den >= 0:
        return 0.0
    return float(np.clip(0.5 * (cm - cp) / den, -0.5, 0.5))


@numba.njit(cache=True, parallel=True)
def dp_numba(pre, post, centers, hw, dmin, dmax, lat_max, alpha):  # pragma: no cover - jit
    """Regularised integer displacement along each line by dynamic programming.

    Returns (axial int (nw, nl), lateral int (nw, nl)).
    """
    nd, nl = pre.shape
    nw = centers.shape[0]
    n = 2 * hw + 1
    nda = dmax - dmin + 1
    ndl = 2 * lat_max + 1
    out_a = np.zeros((nw, nl), dtype=np.int64)
    out_l = np.zeros((nw, nl), dtype=np.int64)
    for l in numba.prange(nl):
        cost = np.empty((nw, nda, ndl))
        arg = np.zeros((nw, nda, ndl), dtype=np.int64)
        for w in range(nw):
            r0 = centers[w] - hw
            for j in range(ndl):
                lp = l + j - lat_max
                for i in range(nda):
                    s = dmin + i
                    if lp < 0 or lp >= nl or r0 + s < 0 or r0 + s + n > nd:
                        d = 2.0
                    else:
                        d = 1.0 - _ncc(pre, post, l, lp, r0, n, s)
                    if w == 0:
                        cost[w, i, j] = d
                        continue
                    best = 1e300
                    barg = 0
                    for di in range(-1, 2):
                        ii = i + di
                        if ii < 0 or ii >= nda:
                            continue
                        for dj in range(-1, 2):
                            jj = j + dj
                            if jj < 0 or jj >= ndl:
                                continue
                            v = cost[w - 1, ii, jj] + alpha * (di * di + dj * dj)
                            if v < best:
                                best = v
                                barg = ii * ndl + jj
                    cost[w, i, j] = d + best
                    arg[w, i, j] = barg
        # backtrack
        best = 1e300
        bi = 0
        bj = 0
        for i in range(nda):
            for j in range(ndl):
                if cost[nw - 1, i, j] < best:
                    best = cost[nw - 1, i, j]
                    bi = i
                    bj = j
        for w in range(nw - 1, -1, -1):
            out_a[w, l] = dmin + bi
            out_l[w, l] = bj - lat_max
            if w > 0:
                k = arg[w, bi, bj]
                bi = k // ndl
                bj = k % ndl
    return out_a, out_l


_CUDA_NCC = r"""
__device__ double ncc1(const double* pre, const double* post, int nl, int l, int lp,
                       int r0, int n, int s) {
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; ++i) {
        double a = pre[(size_t)(r0 + i) * nl + l];
        double b = post[(size_t)(r0 + i + s) * nl + lp];
        sa += a; sb += b; sab += a * b; saa += a * a; sbb += b * b;
    }
    double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (va <= 0.0 || vb <= 0.0) return 0.0;
    return cov / sqrt(va * vb);
}
__device__ double parab(double cm, double c0, double cp) {
    double den = cm - 2.0 * c0 + cp;
    if (den >= 0.0) return 0.0;
    double d = 0.5 * (cm - cp) / den;
    return d > 0.5 ? 0.5 : (d < -0.5 ? -0.5 : d);
}
extern "C" __global__
void ncc(const double* pre, const double* post, const long long* centers, int hw,
         const long long* gax, const long long* glat, int as, int ls, int nd, int nl, int nw,
         double* ax, double* lat, double* cc) {
    int idx = blockDim.x * blockIdx.x + threadIdx.x;
    if (idx >= nw * nl) return;
    int w = idx / nl, l = idx % nl;
    int n = 2 * hw + 1, r0 = (int)centers[w] - hw;
    int g = (int)gax[idx], gl = (int)glat[idx];
    double best = -2.0; int bs = 0, bm = 0;
    for (int m = gl - ls; m <= gl + ls; ++m) {
        int lp = l + m;
        if (lp < 0 || lp >= nl) continue;
        for (int s = g - as; s <= g + as; ++s) {
            if (r0 + s < 0 || r0 + s + n > nd) continue;
            double v = ncc1(pre, post, nl, l, lp, r0, n, s);
            if (v > best) { best = v; bs = s; bm = m; }
        }
    }
    if (best <= -2.0) { ax[idx] = nan(""); lat[idx] = nan(""); cc[idx] = 0.0; return; }
    double da = 0.0, dl = 0.0;
    if (r0 + bs - 1 >= 0 && r0 + bs + 1 + n <= nd)
        da = parab(ncc1(pre, post, nl, l, l + bm, r0, n, bs - 1), best,
                   ncc1(pre, post, nl, l, l + bm, r0, n, bs + 1));
    if (l + bm - 1 >= 0 && l + bm + 1 < nl)
        dl = parab(ncc1(pre, post, nl, l, l + bm - 1, r0, n, bs), best,
                   ncc1(pre, post, nl, l, l + bm + 1, r0, n, bs));
    ax[idx] = bs + da; lat[idx] = bm + dl; cc[idx] = best;
}
"""


def ncc_cupy(pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search):
    """NCC block matching on the GPU (CuPy RawKernel, one thread per window); same outputs."""
    import cupy as cp

    kern = cp.RawKernel(_CUDA_NCC, "ncc")
    pre_d = cp.ascontiguousarray(cp.asarray(pre, dtype=cp.float64))
    post_d = cp.ascontiguousarray(cp.asarray(post, dtype=cp.float64))
    nd, nl = pre_d.shape
    nw = len(centers)
    cen = cp.asarray(np.asarray(centers, dtype=np.int64))
    gax = cp.ascontiguousarray(cp.asarray(guide_ax, dtype=cp.int64))
    glat = cp.ascontiguousarray(cp.asarray(guide_lat, dtype=cp.int64))
    ax = cp.empty((nw, nl))
    lat = cp.empty((nw, nl))
    cc = cp.empty((nw, nl))
    threads = 128
    blocks = (nw * nl + threads - 1) // threads
    kern(
        (blocks,),
        (threads,),
        (
            pre_d,
            post_d,
            cen,
            np.int32(hw),
            gax,
            glat,
            np.int32(ax_search),
            np.int32(lat_search),
            np.int32(nd),
            np.int32(nl),
            np.int32(nw),
            ax,
            lat,
            cc,
        ),
    )
    return ax, lat, cc
