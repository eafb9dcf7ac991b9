"""Block-matching and dynamic-programming kernels (Numba CPU, CuPy GPU, plain NumPy reference).

NCC block matching: for a window of ``2 hw + 1`` samples centred on row ``r`` of line ``l`` of the
pre-compression frame, the zero-mean normalised cross-correlation with the post frame is
evaluated for integer axial shifts ``s`` in ``guide_ax ± ax_search`` and lateral shifts ``m`` in
``guide_lat ± lat_search``; the maximum is refined to sub-sample precision by a parabola through
the peak and its two neighbours (laterally) and by a cosine fit axially (``fit=1``, less
biased for band-pass RF correlations; ``fit=0`` gives the parabola) (Cespedes et al.,
Ultrasonic Imaging 17:142, 1995; de Jong et al., Ultrasonic Imaging 12:84, 1990).

Dynamic programming (Rivaz, Boctor, Foroughi, Zellars, Fichtinger, Hager, "Ultrasound
elastography: a dynamic programming approach", IEEE TMI 27(10):1373-1377, 2008): along each line
the integer axial/lateral displacement of consecutive windows minimises the sum of a data cost
(here 1 - NCC) and a regularisation ``alpha * ((d_i - d_{i-1})**2 + (m_i - m_{i-1})**2)``, with
steps of at most one sample/line between neighbouring windows; solved exactly by DP.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.fft
import scipy.signal

from brim.errors import ConfigError

_FM = {"reassoc", "contract", "arcp"}  # vectorise the dot products; NaN/inf semantics kept


@numba.njit(cache=True, inline="always")
def _subfit(cm, c0, cp, mode):  # pragma: no cover - jit
    """Sub-sample peak offset from 3 correlation values: parabola (0) or cosine (1) fit."""
    if mode == 1 and c0 > 0.0:
        r = (cm + cp) / (2.0 * c0)
        if -1.0 < r < 1.0:
            w = np.arccos(r)
            if w > 1e-9:  # sin(arccos r) = sqrt(1 - r^2)
                d = np.arctan((cp - cm) / (2.0 * c0 * np.sqrt(1.0 - r * r))) / w
                return min(max(d, -0.5), 0.5)
    den = cm - 2.0 * c0 + cp
    if den >= 0.0:
        return 0.0
    d = 0.5 * (cm - cp) / den
    return min(max(d, -0.5), 0.5)


@numba.njit(cache=True, inline="always", fastmath=_FM)
def _ncc_t(at, bt, pa, qa, pb, qb, l, lp, r0, n, s):  # pragma: no cover - jit
    """NCC with line-major copies (at, bt) and prefix sums of x and x^2 (pa, qa, pb, qb)."""
    ra = at[l, r0 : r0 + n]
    rb = bt[lp, r0 + s : r0 + s + n]
    sab = 0.0
    for i in range(n):
        sab += ra[i] * rb[i]
    sa = pa[l, r0 + n] - pa[l, r0]
    saa = qa[l, r0 + n] - qa[l, r0]
    sb = pb[lp, r0 + s + n] - pb[lp, r0 + s]
    sbb = qb[lp, r0 + s + n] - qb[lp, r0 + s]
    cov = sab - sa * sb / n
    va = saa - sa * sa / n
    vb = sbb - sb * sb / n
    if va <= 0.0 or vb <= 0.0:
        return 0.0
    return cov / np.sqrt(va * vb)


@numba.njit(cache=True, inline="always")
def _row_prefix_sums(a, p, q, r0, r1, n):  # pragma: no cover - jit
    """Rows r0..r1-1: p[r, i] = sum(a[r, :i]), q[r, i] = sum(a[r, :i] ** 2), i = 0..n."""
    for r in range(r0, r1):
        s1 = 0.0
        s2 = 0.0
        p[r, 0] = 0.0
        q[r, 0] = 0.0
        for i in range(n):
            v = a[r, i]
            s1 += v
            s2 += v * v
            p[r, i + 1] = s1
            q[r, i + 1] = s2


@numba.njit(cache=True, parallel=True)
def _prefix_kernel(x, sums):  # pragma: no cover - jit
    """Line-major copy t of x (depth, line); with ``sums`` also prefix sums of x and x^2."""
    nd, nl = x.shape
    t = np.empty((nl, nd))
    m = nd + 1 if sums else 0
    p = np.empty((nl if sums else 0, m))
    q = np.empty((nl if sums else 0, m))
    bl = 8  # 8 lines = one 64-byte cache line of a row of x
    for ib in numba.prange((nl + bl - 1) // bl):
        l0 = ib * bl
        l1 = min(l0 + bl, nl)
        for i in range(nd):
            for l in range(l0, l1):
                t[l, i] = x[i, l]
        if not sums:
            continue
        _row_prefix_sums(t, p, q, l0, l1, nd)
    return t, p, q


def _prefix(x):
    """Line-major copy of x (depth, line) and prefix sums of x and x^2 along depth."""
    return _prefix_kernel(np.ascontiguousarray(x, dtype=np.float64), True)


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _nccv(sab, sa, va, sb, sbb, n):  # pragma: no cover - jit
    """NCC from the window sums; ``va`` is n x the variance of the pre window."""
    cov = sab - sa * sb / n
    vb = sbb - sb * sb / n
    if va > 0.0 and vb > 0.0:
        return cov / np.sqrt(va * vb)
    return 0.0


@numba.njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def _ncc_block_kernel(
    x, y, lines, post_ptr, post_idx, starts, step, q, n, gax, glat, ax_search, lat_search,
    lanes, pad, chunk, fit, lat_fit,
):  # pragma: no cover - jit  # fmt: skip
    nd, nl = x.shape
    nlines = lines.shape[0]
    nw = starts.shape[0]
    A = ax_search
    L = lat_search
    nlw = 2 * A + 3  # searched shifts plus one on each side for the sub-sample fit
    nml = 2 * L + 1
    mmax = nml + 2
    qs = max(q, 1)
    mp = nd + 2 * pad
    ax = np.empty((nw, nlines))
    lat = np.empty((nw, nlines))
    cc = np.empty((nw, nlines))
    nchunk = (nlines + chunk - 1) // chunk
    for c in numba.prange(nchunk):
        l0 = c * chunk
        nc = min(chunk, nlines - l0)
        p0 = post_ptr[c]
        npl = post_ptr[c + 1] - p0
        # line-major copies: pre lines of the chunk, zero-padded post lines and their prefix
        # sums of x and x^2 (read row by row from the (depth, line) frames)
        slot = np.full(nl, -1, dtype=np.int64)
        for j in range(npl):
            slot[post_idx[p0 + j]] = j
        abuf = np.empty((nc, nd))
        pa = np.empty((nc, nd + 1))
        qa = np.empty((nc, nd + 1))
        bbuf = np.zeros((npl, mp))
        for i in range(nd):
            for j in range(nc):
                abuf[j, i] = x[i, lines[l0 + j]]
            for j in range(npl):
                bbuf[j, pad + i] = y[i, post_idx[p0 + j]]
        pbuf = np.empty((npl, mp + 1))
        qbuf = np.empty((npl, mp + 1))
        acc1 = np.zeros(npl)
        acc2 = np.zeros(npl)
        pbuf[:, 0] = 0.0
        qbuf[:, 0] = 0.0
        for t in range(mp):
            for j in range(npl):
                v = bbuf[j, t]
                acc1[j] += v
                acc2[j] += v * v
                pbuf[j, t + 1] = acc1[j]
                qbuf[j, t + 1] = acc2[j]
        _row_prefix_sums(abuf, pa, qa, 0, nc, nd)
        blk = np.zeros((qs, mmax, lanes))
        acc = np.empty(lanes)
        sbase = np.zeros(qs, dtype=np.int64)
        smlo = np.zeros(qs, dtype=np.int64)
        snm = np.zeros(qs, dtype=np.int64)
        sab = np.empty(nlw)
        tb = np.empty((nml, nlw))
        cs = np.empty(2)
        for lj in range(nc):
            li = l0 + lj
            l = lines[li]
            arow = abuf[lj]
            for w in range(nw):
                r0 = starts[w]
                g = gax[w, li]
                gl = glat[w, li]
                # block sums over one step of rows for a range of shifts, shared by the q
                # windows that contain the block
                if q > 0:
                    k0 = w + q - 1 if w > 0 else 0
                    for k in range(k0, w + q):
                        sl = k % q
                        wlo = max(0, k - q + 1)
                        whi = min(nw - 1, k)
                        gmin = gax[wlo, li]
                        gmax = gmin
                        lmin = glat[wlo, li]
                        lmax = lmin
                        for ww in range(wlo + 1, whi + 1):
                            gmin = min(gmin, gax[ww, li])
                            gmax = max(gmax, gax[ww, li])
                            lmin = min(lmin, glat[ww, li])
                            lmax = max(lmax, glat[ww, li])
                        if gmax - gmin + nlw > lanes or lmax - lmin + nml > mmax:
                            snm[sl] = 0  # guidance too irregular here: direct sums
                            continue
                        base = gmin - A - 1
                        sbase[sl] = base
                        smlo[sl] = lmin - L
                        snm[sl] = lmax - lmin + nml
                        rb = starts[0] + k * step
                        for mi in range(lmax - lmin + nml):
                            lp = l + lmin - L + mi
                            if lp < 0 or lp >= nl:
                                continue
                            brow = bbuf[slot[lp]]
                            acc[:] = 0.0
                            for i in range(rb, rb + step):
                                ai = arow[i]
                                bb = brow[i + base + pad : i + base + pad + lanes]
                                for j in range(lanes):
                                    acc[j] += ai * bb[j]
                            blk[sl, mi, :] = acc
                sa = pa[lj, r0 + n] - pa[lj, r0]
                saa = qa[lj, r0 + n] - qa[lj, r0]
                va = saa - sa * sa / n
                base_w = g - A - 1
                good = q > 0
                for k in range(w, w + q):
                    sl = k % q
                    if (
                        snm[sl] == 0
                        or base_w < sbase[sl]
                        or base_w + nlw > sbase[sl] + lanes
                        or gl - L < smlo[sl]
                        or gl + L >= smlo[sl] + snm[sl]
                    ):
                        good = False
                # shifts inside the frame
                j_lo = max(0, -r0 - base_w)
                j_hi = min(nlw, nd - n - r0 - base_w + 1)
                best = -2.0
                bs = 0
                bm = 0
                for mi in range(nml):
                    m = gl - L + mi
                    lp = l + m
                    if lp < 0 or lp >= nl or j_lo >= j_hi:
                        continue
                    ks = slot[lp]
                    brow = bbuf[ks]
                    i0 = r0
                    if good:
                        sl = w % q
                        off = base_w - sbase[sl]
                        mk = m - smlo[sl]
                        for j in range(nlw):
                            sab[j] = blk[sl, mk, off + j]
                        for k in range(w + 1, w + q):
                            sl = k % q
                            off = base_w - sbase[sl]
                            mk = m - smlo[sl]
                            for j in range(nlw):
                                sab[j] += blk[sl, mk, off + j]
                        i0 = r0 + q * step
                    else:
                        for j in range(nlw):
                            sab[j] = 0.0
                    for i in range(i0, r0 + n):
                        ai = arow[i]
                        o = i + base_w + pad
                        for j in range(nlw):
                            sab[j] += ai * brow[o + j]
                    p = pbuf[ks]
                    qq = qbuf[ks]
                    t0 = r0 + base_w + pad
                    for j in range(j_lo, j_hi):
                        tb[mi, j] = _nccv(
                            sab[j], sa, va, p[t0 + j + n] - p[t0 + j],
                            qq[t0 + j + n] - qq[t0 + j], n,
                        )  # fmt: skip
                    for j in range(max(j_lo, 1), min(j_hi, nlw - 1)):
                        v = tb[mi, j]
                        if v > best:
                            best = v
                            bs = base_w + j
                            bm = m
                if best <= -2.0:
                    ax[w, li] = np.nan
                    lat[w, li] = np.nan
                    cc[w, li] = 0.0
                    continue
                im = bm - gl + L
                js = bs - base_w
                da = 0.0
                if r0 + bs - 1 >= 0 and r0 + bs + 1 + n <= nd:
                    da = _subfit(tb[im, js - 1], best, tb[im, js + 1], fit)
                dl = 0.0
                if lat_fit and l + bm - 1 >= 0 and l + bm + 1 < nl:
                    for e in range(2):
                        mm = bm - 1 + 2 * e
                        if mm >= gl - L and mm <= gl + L:
                            cs[e] = tb[mm - gl + L, js]
                        else:
                            ks = slot[l + mm]
                            brow = bbuf[ks]
                            o = bs + pad
                            sab0 = 0.0
                            for i in range(r0, r0 + n):
                                sab0 += arow[i] * brow[o + i]
                            t0 = r0 + o
                            cs[e] = _nccv(
                                sab0, sa, va, pbuf[ks, t0 + n] - pbuf[ks, t0],
                                qbuf[ks, t0 + n] - qbuf[ks, t0], n,
                            )  # fmt: skip
                    dl = _subfit(cs[0], best, cs[1], 0)
                ax[w, li] = bs + da
                lat[w, li] = bm + dl
                cc[w, li] = best
    return ax, lat, cc


def ncc_numba(
    pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search, fit=1, *,
    lines=None, lateral_fit=True, chunk=16,
):  # fmt: skip
    """NCC block matching (Numba, parallel over chunks of lines).

    For each window (``2 hw + 1`` rows centred on ``centers``) of each line in ``lines``
    (default: all), the zero-mean NCC with the post frame is maximised over the axial shifts
    ``guide_ax +- ax_search`` and the lateral shifts ``guide_lat +- lat_search`` and refined
    to sub-sample precision (cosine fit axially with ``fit=1``, parabola laterally; no lateral
    fit with ``lateral_fit=False``).

    Returns (axial, lateral, ncc) float arrays (n_windows, n_lines): integer-plus-sub-sample
    shifts in samples and lines, and the NCC peak (NaN shifts and 0 where no shift fits in the
    frame). Same numbers as :func:`ncc_numpy` up to round-off.

    How it saves work: with equally spaced windows (step ``p``, ``n = q p + r`` rows), a window
    is ``q`` blocks of ``p`` rows plus ``r`` rows, and neighbouring windows share ``q - 1`` of
    their blocks. For each block and each post line, the products with a small range of shifts
    (``2 ax_search + 3`` plus slack for the guide's variation) are summed once, lag-vectorised,
    and reused by the ``q`` windows that contain the block, so a candidate shift costs about
    ``p + r`` multiply-adds instead of ``n`` (4x fewer at 75 % overlap). The post windows'
    sums of x and x^2 come from prefix sums. Frames are read in their (depth, line) layout and
    copied line-major per chunk of lines.
    """
    # one compiled signature (float64; Numba compiles are slow): float32 input is converted
    pre = np.ascontiguousarray(pre, np.float64)
    post = np.ascontiguousarray(post, np.float64)
    nd, nl = pre.shape
    centers = np.asarray(centers, np.int64)
    n = 2 * int(hw) + 1
    starts = centers - int(hw)
    a_s = int(ax_search)
    l_s = int(lat_search)
    lines = np.arange(nl, dtype=np.int64) if lines is None else np.asarray(lines, np.int64)
    if np.shape(guide_ax) != (centers.size, lines.size) or np.shape(guide_lat) != np.shape(
        guide_ax
    ):
        raise ConfigError(
            f"guides must have shape (n_windows, n_lines) = {(centers.size, lines.size)}; "
            f"got {np.shape(guide_ax)} and {np.shape(guide_lat)}"
        )
    # shifts beyond the frame are invalid anyway: clipping keeps the padding small
    gax = np.clip(np.asarray(guide_ax, np.int64), -nd - a_s - 1, nd + a_s + 1)
    glat = np.clip(np.asarray(guide_lat, np.int64), -nl - l_s - 1, nl + l_s + 1)
    d = np.diff(starts)
    step = int(d[0]) if d.size and (d == d[0]).all() and d[0] > 0 else 0
    q = n // step if step else 0
    if gax.size and (gax == gax.flat[0]).all():
        lanes = 2 * a_s + 3
    else:  # slack of 4 shifts for the guide's variation within a block's windows
        lanes = -(-(2 * a_s + 7) // 4) * 4
    pad = int(np.abs(gax).max(initial=0)) + a_s + 2 + lanes
    # post lines each chunk reads (lateral search and the lateral sub-sample fit)
    reach = l_s + int(bool(lateral_fit))
    ptr = [0]
    idx = [np.zeros(0, np.int64)]
    contiguous = lines.size > 0 and (np.diff(lines) == 1).all()
    for c0 in range(0, lines.size, chunk):
        cl = lines[c0 : c0 + chunk]
        gl = glat[:, c0 : c0 + chunk]
        lo, hi = int(gl.min(initial=0)) - reach, int(gl.max(initial=0)) + reach
        if contiguous:
            need = np.arange(max(int(cl[0]) + lo, 0), min(int(cl[-1]) + hi + 1, nl))
        else:
            need = np.unique((cl[None, :] + np.arange(lo, hi + 1)[:, None]).ravel())
            need = need[(need >= 0) & (need < nl)]
        idx.append(need)
        ptr.append(ptr[-1] + need.size)
    return _ncc_block_kernel(
        pre, post, lines, np.asarray(ptr, np.int64), np.concatenate(idx).astype(np.int64),
        starts, step, q, n, gax, glat, a_s, l_s, lanes, pad, int(chunk), int(fit),
        bool(lateral_fit),
    )  # fmt: skip


def ncc_numpy(pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search, fit=1):
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
            da = _subfit_py(table[im, js - 1], best, table[im, js + 1], fit)
            dl = _subfit_py(table[im - 1, js], best, table[im + 1, js], 0)
            ax[w, l] = shifts[js] + da
            lat[w, l] = ms[im] + dl
            cc[w, l] = best
    return ax, lat, cc


def _subfit_py(cm, c0, cp, mode):
    if cm <= -2.0 or cp <= -2.0:
        return 0.0
    if mode == 1 and c0 > 0:
        r = (cm + cp) / (2 * c0)
        if -1 < r < 1:
            w = np.arccos(r)
            if w > 1e-9:
                d = np.arctan((cp - cm) / (2 * c0 * np.sin(w))) / w
                return float(np.clip(d, -0.5, 0.5))
    den = cm - 2 * c0 + cp
    if den >= 0:
        return 0.0
    return float(np.clip(0.5 * (cm - cp) / den, -0.5, 0.5))


def dp_numba(pre, post, centers, hw, dmin, dmax, lat_max, alpha):
    """Regularised integer displacement along each line by dynamic programming (Numba).

    ``dmin`` may be an int or an int array (n_lines,): per-line lowest candidate shift; the
    candidates are ``dmin .. dmin + (dmax - min(dmin))`` on every line.

    Returns (axial int (nw, nl), lateral int (nw, nl)).
    """
    nl = np.shape(pre)[1]
    dmin_arr = np.broadcast_to(np.asarray(dmin, dtype=np.int64), (nl,)).copy()
    width = int(dmax) - int(dmin_arr.min())
    at, pa, qa = _prefix(pre)
    bt, pb, qb = _prefix(post)
    return _dp_kernel(
        at, bt, pa, qa, pb, qb, np.asarray(centers, np.int64), int(hw), dmin_arr, width,
        int(lat_max), float(alpha),
    )  # fmt: skip


@numba.njit(cache=True, parallel=True, fastmath=_FM)
def _dp_kernel(
    at, bt, pa, qa, pb, qb, centers, hw, dmins, width, lat_max, alpha
):  # pragma: no cover
    nl, nd = at.shape
    nw = centers.shape[0]
    n = 2 * hw + 1
    nda = width + 1
    ndl = 2 * lat_max + 1
    out_a = np.zeros((nw, nl), dtype=np.int64)
    out_l = np.zeros((nw, nl), dtype=np.int64)
    for l in numba.prange(nl):
        dmin = dmins[l]
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
                        d = 1.0 - _ncc_t(at, bt, pa, qa, pb, qb, l, lp, r0, n, s)
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
__device__ double parab(double cm, double c0, double cp, int mode) {
    if (mode == 1 && c0 > 0.0) {
        double r = (cm + cp) / (2.0 * c0);
        if (r > -1.0 && r < 1.0) {
            double w = acos(r);
            if (w > 1e-9) {
                double d = atan((cp - cm) / (2.0 * c0 * sin(w))) / w;
                return d > 0.5 ? 0.5 : (d < -0.5 ? -0.5 : d);
            }
        }
    }
    double den = cm - 2.0 * c0 + cp;
    if (den >= 0.0) return 0.0;
    double d = 0.5 * (cm - cp) / den;
    return d > 0.5 ? 0.5 : (d < -0.5 ? -0.5 : d);
}
extern "C" __global__
void ncc(const double* pre, const double* post, const long long* centers, int hw,
         const long long* gax, const long long* glat, int as, int ls, int nd, int nl, int nw,
         int fit, double* ax, double* lat, double* cc) {
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
                   ncc1(pre, post, nl, l, l + bm, r0, n, bs + 1), fit);
    if (l + bm - 1 >= 0 && l + bm + 1 < nl)
        dl = parab(ncc1(pre, post, nl, l, l + bm - 1, r0, n, bs), best,
                   ncc1(pre, post, nl, l, l + bm + 1, r0, n, bs), 0);
    ax[idx] = bs + da; lat[idx] = bm + dl; cc[idx] = best;
}
"""


def ncc_cupy(pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search, fit=1):
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
            np.int32(fit),
            ax,
            lat,
            cc,
        ),
    )
    return ax, lat, cc


@numba.njit(cache=True, parallel=True)
def _phase_kernel(a1, a2, centers, hw, g, lat):  # pragma: no cover - jit
    nl, nd = a1.shape
    nw = centers.shape[0]
    n = 2 * hw + 1
    out = np.empty((nw, nl))
    for l in numba.prange(nl):
        for w in range(nw):
            lp = min(max(l + lat[w, l], 0), nl - 1)
            r01 = 0j
            r10 = 0j
            b1 = centers[w] - hw
            b2 = b1 + g[w, l]
            if b1 >= 0 and b2 >= 0 and b1 + n <= nd - 1 and b2 + n <= nd - 1:
                for i in range(n):  # window inside the frame: no clamping needed
                    x1 = a1[l, b1 + i]
                    x2 = a2[lp, b2 + i]
                    r01 += x1.conjugate() * x2
                    r10 += x1.conjugate() * a1[l, b1 + i + 1] + x2.conjugate() * a2[lp, b2 + i + 1]
            else:
                for i in range(n):
                    r1 = min(max(b1 + i, 0), nd - 2)
                    r2 = min(max(b2 + i, 0), nd - 2)
                    x1 = a1[l, r1]
                    x2 = a2[lp, r2]
                    r01 += x1.conjugate() * x2
                    r10 += x1.conjugate() * a1[l, r1 + 1] + x2.conjugate() * a2[lp, r2 + 1]
            om = np.angle(r10)
            if abs(om) > 1e-6:
                out[w, l] = g[w, l] - np.angle(r01) / om
            else:
                out[w, l] = np.nan
    return out


def phase_numba(a1, a2, centers, hw, g, lat, *, line_major=False):
    """Loupas phase refinement on analytic signals a1, a2 (depth, line); Numba kernel.

    With ``line_major=True`` a1 and a2 are already (line, depth) (as from
    :func:`analytic_lines`), which saves two transposed copies.
    """
    if not line_major:
        a1, a2 = a1.T, a2.T
    return _phase_kernel(
        np.ascontiguousarray(a1), np.ascontiguousarray(a2), np.asarray(centers, np.int64),
        int(hw), np.asarray(g, np.int64), np.asarray(lat, np.int64),
    )  # fmt: skip


def analytic_lines(x):
    """Analytic signal of real RF ``x`` (depth, line) along depth, returned line-major.

    :func:`scipy.signal.hilbert` (one-sided spectrum, doubled positive frequencies; Marple,
    IEEE TSP 47:2600, 1999) along depth, with its FFTs on as many threads as Numba uses, written
    as a C-contiguous (line, depth) array for the line-parallel kernels.
    """
    x = np.asarray(x, dtype=np.float64)
    with scipy.fft.set_workers(max(numba.get_num_threads(), 1)):
        return np.ascontiguousarray(scipy.signal.hilbert(x.T, axis=1))


_CUDA_DP = r"""
extern "C" __global__
void dp(const double* pre, const double* post, const long long* centers, int hw,
        const long long* dmins, int nda, int lat_max, double alpha, int nd, int nl, int nw,
        double* cost, int* arg, long long* out_a, long long* out_l) {
    int l = blockDim.x * blockIdx.x + threadIdx.x;
    if (l >= nl) return;
    int ndl = 2 * lat_max + 1, n = 2 * hw + 1;
    int dmin = (int)dmins[l];
    size_t S = (size_t)nda * ndl;
    double* c0 = cost + (size_t)l * 2 * S;
    double* c1 = c0 + S;
    int* ar = arg + (size_t)l * nw * S;
    for (int w = 0; w < nw; ++w) {
        int r0 = (int)centers[w] - hw;
        for (int j = 0; j < ndl; ++j) {
            int lp = l + j - lat_max;
            for (int i = 0; i < nda; ++i) {
                int s = dmin + i;
                double d;
                if (lp < 0 || lp >= nl || r0 + s < 0 || r0 + s + n > nd) d = 2.0;
                else d = 1.0 - ncc1(pre, post, nl, l, lp, r0, n, s);
                if (w == 0) { c1[i * ndl + j] = d; continue; }
                double best = 1e300; int barg = 0;
                for (int di = -1; di <= 1; ++di) {
                    int ii = i + di;
                    if (ii < 0 || ii >= nda) continue;
                    for (int dj = -1; dj <= 1; ++dj) {
                        int jj = j + dj;
                        if (jj < 0 || jj >= ndl) continue;
                        double v = c0[ii * ndl + jj] + alpha * (di * di + dj * dj);
                        if (v < best) { best = v; barg = ii * ndl + jj; }
                    }
                }
                c1[i * ndl + j] = d + best;
                ar[(size_t)w * S + i * ndl + j] = barg;
            }
        }
        double* t = c0; c0 = c1; c1 = t;
    }
    double best = 1e300; int bi = 0, bj = 0;
    for (int i = 0; i < nda; ++i)
        for (int j = 0; j < ndl; ++j)
            if (c0[i * ndl + j] < best) { best = c0[i * ndl + j]; bi = i; bj = j; }
    for (int w = nw - 1; w >= 0; --w) {
        out_a[(size_t)w * nl + l] = dmin + bi;
        out_l[(size_t)w * nl + l] = bj - lat_max;
        if (w > 0) {
            int k = ar[(size_t)w * S + bi * ndl + bj];
            bi = k / ndl; bj = k % ndl;
        }
    }
}
"""


def dp_cupy(pre, post, centers, hw, dmin, dmax, lat_max, alpha):
    """Dynamic programming on the GPU (CuPy RawKernel, one thread per line); same outputs as
    :func:`dp_numba` up to ties between equal costs."""
    import cupy as cp

    kern = cp.RawKernel(_CUDA_NCC + _CUDA_DP, "dp")
    pre_d = cp.ascontiguousarray(cp.asarray(pre, dtype=cp.float64))
    post_d = cp.ascontiguousarray(cp.asarray(post, dtype=cp.float64))
    nd, nl = pre_d.shape
    nw = len(centers)
    dmins = np.broadcast_to(np.asarray(dmin, dtype=np.int64), (nl,)).copy()
    nda = int(dmax) - int(dmins.min()) + 1
    ndl = 2 * int(lat_max) + 1
    cost = cp.empty((nl, 2, nda, ndl))
    arg = cp.zeros((nl, nw, nda, ndl), dtype=cp.int32)
    out_a = cp.zeros((nw, nl), dtype=cp.int64)
    out_l = cp.zeros((nw, nl), dtype=cp.int64)
    threads = 64
    kern(
        ((nl + threads - 1) // threads,),
        (threads,),
        (
            pre_d, post_d, cp.asarray(np.asarray(centers, np.int64)), np.int32(hw),
            cp.asarray(dmins), np.int32(nda), np.int32(lat_max), np.float64(alpha),
            np.int32(nd), np.int32(nl), np.int32(nw), cost, arg, out_a, out_l,
        ),
    )  # fmt: skip
    return out_a.get(), out_l.get()
