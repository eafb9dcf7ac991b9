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

from collections import namedtuple

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


_NccOptions = namedtuple(
    "_NccOptions", ["n", "step", "q", "ax_search", "lat_search", "lanes", "pad", "chunk", "fit",
                    "lat_fit"],
)  # fmt: skip
_NccOptions.__doc__ = """Scalar settings of :func:`_ncc_block_kernel` (all int).

``n`` window length (rows); ``step`` window step (rows) and ``q = n // step`` whole steps per
window (``q = 0``: unequal steps, no shared block sums); ``ax_search``, ``lat_search`` half search
ranges (samples, lines) around the guide; ``lanes`` shifts summed per shared block; ``pad`` zero
rows on each side of a post line; ``chunk`` lines per parallel task; ``fit`` axial sub-sample fit
(1 cosine, 0 parabola); ``lat_fit`` 1 for the lateral parabola fit, 0 for none.
"""

# The helpers below are inlined into _match_chunk (inline="always"), so the arithmetic is that of
# one function (bit-identical to the former single kernel). They take arrays, not namedtuples of
# arrays: passing those per window made the kernel 2x slower.


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _chunk_buffers(x, y, cl, pidx, pad):  # pragma: no cover - jit
    """Line-major copies of the pre lines ``cl`` and the zero-padded post lines ``pidx``.

    ``x``, ``y`` are the (depth, line) frames, read row by row. Returns ``(abuf, pa, qa, bbuf,
    pbuf, qbuf, slot)``: ``abuf`` (len(cl), depth) with prefix sums ``pa``, ``qa`` of x and
    x**2 (``pa[j, i] = sum(abuf[j, :i])``); ``bbuf`` (len(pidx), depth + 2 pad) with ``pad``
    zeros on each side and prefix sums ``pbuf``, ``qbuf``; ``slot[line]`` the row of ``bbuf`` that
    holds post line ``line`` (-1: none).
    """
    nd, nl = x.shape
    nc = cl.shape[0]
    npl = pidx.shape[0]
    mp = nd + 2 * pad
    slot = np.full(nl, -1, dtype=np.int64)
    for j in range(npl):
        slot[pidx[j]] = j
    abuf = np.empty((nc, nd))
    bbuf = np.zeros((npl, mp))
    for i in range(nd):
        for j in range(nc):
            abuf[j, i] = x[i, cl[j]]
        for j in range(npl):
            bbuf[j, pad + i] = y[i, pidx[j]]
    pa = np.empty((nc, nd + 1))
    qa = np.empty((nc, nd + 1))
    pbuf = np.empty((npl, mp + 1))
    qbuf = np.empty((npl, mp + 1))
    _row_prefix_sums(bbuf, pbuf, qbuf, 0, npl, mp)
    _row_prefix_sums(abuf, pa, qa, 0, nc, nd)
    return abuf, pa, qa, bbuf, pbuf, qbuf, slot


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _share_block_sums(
    arow, bbuf, slot, l, w, starts, gax, glat, lj, blk, binfo, acc, opt
):  # pragma: no cover - jit
    """Sum the blocks that window ``w`` of pre line ``l`` (row ``arow``) is the first to need.

    Block ``k`` (rows ``starts[0] + k step`` .. ``+ step - 1``) lies in windows ``k - q + 1`` ..
    ``k``. Its products with the post lines ``bbuf[slot[line]]`` are summed once for the union
    of those windows' guided search ranges (axial guides ``gax[:, lj]``, lateral
    ``glat[:, lj]``) and stored in ``blk[k % q, mi, j]``: post line ``binfo[1, k % q] + mi``
    relative to ``l``, axial shift ``binfo[0, k % q] + j``, with ``binfo[2, k % q]`` lateral
    shifts stored. At ``w = 0`` these are blocks ``0 .. q - 1``, after it the one block
    ``w + q - 1``. Where the guides of those windows vary more than ``opt.lanes`` allows, the
    block is marked unusable (``binfo[2] = 0``) and its windows sum their products directly.
    ``acc`` is a work array of ``opt.lanes``.
    """
    q = opt.q
    a_s = opt.ax_search
    l_s = opt.lat_search
    nw = starts.shape[0]
    nl = slot.shape[0]
    nlw = 2 * a_s + 3
    nml = 2 * l_s + 1
    k0 = w + q - 1 if w > 0 else 0
    for k in range(k0, w + q):
        sl = k % q
        wlo = max(0, k - q + 1)
        whi = min(nw - 1, k)
        gmin = gax[wlo, lj]
        gmax = gmin
        lmin = glat[wlo, lj]
        lmax = lmin
        for ww in range(wlo + 1, whi + 1):
            gmin = min(gmin, gax[ww, lj])
            gmax = max(gmax, gax[ww, lj])
            lmin = min(lmin, glat[ww, lj])
            lmax = max(lmax, glat[ww, lj])
        if gmax - gmin + nlw > opt.lanes or lmax - lmin + nml > nml + 2:
            binfo[2, sl] = 0  # guidance too irregular here: direct sums
            continue
        base = gmin - a_s - 1
        binfo[0, sl] = base
        binfo[1, sl] = lmin - l_s
        binfo[2, sl] = lmax - lmin + nml
        rb = starts[0] + k * opt.step
        for mi in range(lmax - lmin + nml):
            lp = l + lmin - l_s + mi
            if lp < 0 or lp >= nl:
                continue
            brow = bbuf[slot[lp]]
            acc[:] = 0.0
            for i in range(rb, rb + opt.step):
                ai = arow[i]
                bb = brow[i + base + opt.pad : i + base + opt.pad + opt.lanes]
                for j in range(opt.lanes):
                    acc[j] += ai * bb[j]
            blk[sl, mi, :] = acc


@numba.njit(cache=True, inline="always")
def _shared_sums_cover(binfo, w, base_w, g_lat, opt):  # pragma: no cover - jit
    """True if the ``q`` stored blocks of window ``w`` (see :func:`_share_block_sums`) cover its
    search range: axial shifts ``base_w .. base_w + 2 ax_search + 2``, lateral shifts
    ``g_lat +- lat_search``. False without shared blocks (``q = 0``)."""
    q = opt.q
    if q == 0:
        return False
    nlw = 2 * opt.ax_search + 3
    l_s = opt.lat_search
    for k in range(w, w + q):
        sl = k % q
        if (
            binfo[2, sl] == 0
            or base_w < binfo[0, sl]
            or base_w + nlw > binfo[0, sl] + opt.lanes
            or g_lat - l_s < binfo[1, sl]
            or g_lat + l_s >= binfo[1, sl] + binfo[2, sl]
        ):
            return False
    return True


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _stored_products(blk, binfo, sab, w, m, base_w, q):  # pragma: no cover - jit
    """``sab[j]`` = products of the first ``q`` blocks of window ``w`` at lateral shift ``m`` and
    axial shift ``base_w + j``, summed from ``blk`` (see :func:`_share_block_sums`)."""
    nlw = sab.shape[0]
    sl = w % q
    off = base_w - binfo[0, sl]
    mk = m - binfo[1, sl]
    for j in range(nlw):
        sab[j] = blk[sl, mk, off + j]
    for k in range(w + 1, w + q):
        sl = k % q
        off = base_w - binfo[0, sl]
        mk = m - binfo[1, sl]
        for j in range(nlw):
            sab[j] += blk[sl, mk, off + j]


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _direct_products(arow, brow, sab, i0, i1, off):  # pragma: no cover - jit
    """``sab[j] += sum(arow[i] * brow[i + off + j] for i in i0 .. i1 - 1)`` for every shift j."""
    nlw = sab.shape[0]
    for i in range(i0, i1):
        ai = arow[i]
        o = i + off
        for j in range(nlw):
            sab[j] += ai * brow[o + j]


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _shift_nccs(sab, sa, va, p, qq, t0, n, j_lo, j_hi, tb, mi):  # pragma: no cover - jit
    """``tb[mi, j]`` = NCC at the shifts ``j_lo .. j_hi - 1`` from the products ``sab[j]``.

    The post window of shift ``j`` starts at ``t0 + j`` in a padded post line with prefix sums
    ``p`` (x) and ``qq`` (x**2); ``sa``, ``va`` are the pre window's sum and ``n`` x variance.
    """
    for j in range(j_lo, j_hi):
        tb[mi, j] = _nccv(sab[j], sa, va, p[t0 + j + n] - p[t0 + j], qq[t0 + j + n] - qq[t0 + j], n)


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _window_ncc(arow, brow, p, qq, r0, o, sa, va, n):  # pragma: no cover - jit
    """NCC of the pre window at rows ``r0 ..`` with rows ``r0 + o ..`` of a padded post line
    (prefix sums ``p``, ``qq``; ``sa``, ``va``: the pre window's sum and ``n`` x variance)."""
    sab = 0.0
    for i in range(r0, r0 + n):
        sab += arow[i] * brow[o + i]
    t0 = r0 + o
    return _nccv(sab, sa, va, p[t0 + n] - p[t0], qq[t0 + n] - qq[t0], n)


@numba.njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _axial_offset(tb, im, js, best, r, n, nd, fit):  # pragma: no cover - jit
    """Axial sub-sample offset of the peak ``best = tb[im, js]`` (post window at row ``r``) by
    :func:`_subfit` through its axial neighbours (``fit``: 1 cosine, 0 parabola); 0 where a
    neighbour window leaves the ``nd`` rows."""
    if r - 1 >= 0 and r + 1 + n <= nd:
        return _subfit(tb[im, js - 1], best, tb[im, js + 1], fit)
    return 0.0


@numba.njit(cache=True, parallel=False, fastmath=_FM, error_model="numpy")
def _match_chunk(x, y, lines, pidx, starts, gax, glat, opt):  # pragma: no cover - jit
    """Match every window of the pre lines ``lines``: one parallel task of
    :func:`_ncc_block_kernel`.

    ``pidx`` are the post lines the chunk reads and ``gax``, ``glat`` the guides' columns of
    ``lines``. Returns ``(axial, lateral, ncc)`` (n_windows, len(lines)); NaN, NaN, 0 where no
    shift fits in the frame. Per line, the windows are visited in order:

    1. :func:`_share_block_sums` sums the blocks the window is the first to need;
    2. the guided search: for each lateral shift ``g_lat +- lat_search`` the window's products
       with the post line at the axial shifts ``g +- (ax_search + 1)`` are summed from the
       stored blocks (:func:`_stored_products`, where :func:`_shared_sums_cover`) and directly
       (:func:`_direct_products`), and give a row of the NCC table (:func:`_shift_nccs`); the
       peak is the table's maximum over the interior axial shifts;
    3. the sub-sample fit: axially :func:`_axial_offset`, laterally a parabola (:func:`_subfit`)
       through the neighbouring lines (:func:`_window_ncc` where a neighbour was not searched).

    The helpers are inlined (``inline="always"``), so the arithmetic is that of one function.
    Helpers that branch around their loops are slower inlined than written out (LLVM vectorises
    the loops worse), which is why the loops of step 2 stay here.
    """
    abuf, pa, qa, bbuf, pbuf, qbuf, slot = _chunk_buffers(x, y, lines, pidx, opt.pad)
    nd = abuf.shape[1]
    nl = slot.shape[0]
    nw = starts.shape[0]
    nc = lines.shape[0]
    n = opt.n
    pad = opt.pad
    step = opt.step
    q = opt.q
    lanes = opt.lanes
    fit = opt.fit
    lat_fit = opt.lat_fit
    A = opt.ax_search
    L = opt.lat_search
    nlw = 2 * A + 3
    nml = 2 * L + 1
    mmax = nml + 2
    qs = max(q, 1)
    oax = np.empty((nw, nc))
    olat = np.empty((nw, nc))
    occ = np.empty((nw, nc))
    blk = np.zeros((qs, mmax, lanes))
    acc = np.empty(lanes)
    binfo = np.zeros((3, qs), dtype=np.int64)
    sab = np.empty(nlw)
    tb = np.empty((nml, nlw))
    cs = np.empty(2)
    for lj in range(nc):
        l = lines[lj]
        arow = abuf[lj]
        for w in range(nw):
            r0 = starts[w]
            g = gax[w, lj]
            gl = glat[w, lj]
            if q > 0:
                _share_block_sums(arow, bbuf, slot, l, w, starts, gax, glat, lj, blk, binfo, acc,
                                  opt)  # fmt: skip
            # the guided search
            sa = pa[lj, r0 + n] - pa[lj, r0]
            saa = qa[lj, r0 + n] - qa[lj, r0]
            va = saa - sa * sa / n
            base_w = g - A - 1
            good = _shared_sums_cover(binfo, w, base_w, gl, opt)
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
                i0 = r0
                if good:
                    _stored_products(blk, binfo, sab, w, m, base_w, q)
                    i0 = r0 + q * step
                else:
                    sab[:] = 0.0
                _direct_products(arow, bbuf[ks], sab, i0, r0 + n, base_w + pad)
                _shift_nccs(sab, sa, va, pbuf[ks], qbuf[ks], r0 + base_w + pad, n, j_lo, j_hi,
                            tb, mi)  # fmt: skip
                for j in range(max(j_lo, 1), min(j_hi, nlw - 1)):
                    v = tb[mi, j]
                    if v > best:
                        best = v
                        bs = base_w + j
                        bm = m
            if best <= -2.0:
                oax[w, lj] = np.nan
                olat[w, lj] = np.nan
                occ[w, lj] = 0.0
                continue
            # the sub-sample fit
            js = bs - base_w
            da = _axial_offset(tb, bm - gl + L, js, best, r0 + bs, n, nd, fit)
            dl = 0.0
            if lat_fit and l + bm - 1 >= 0 and l + bm + 1 < nl:
                for e in range(2):
                    mm = bm - 1 + 2 * e
                    if mm >= gl - L and mm <= gl + L:
                        cs[e] = tb[mm - gl + L, js]
                    else:  # a neighbour outside the searched lines
                        ks = slot[l + mm]
                        cs[e] = _window_ncc(arow, bbuf[ks], pbuf[ks], qbuf[ks], r0, bs + pad, sa,
                                            va, n)  # fmt: skip
                dl = _subfit(cs[0], best, cs[1], 0)
            oax[w, lj] = bs + da
            olat[w, lj] = bm + dl
            occ[w, lj] = best
    return oax, olat, occ


@numba.njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def _ncc_block_kernel(x, y, lines, post_ptr, post_idx, starts, gax, glat, opt):  # pragma: no cover
    """Guided NCC block matching of every window of ``lines`` (see :func:`ncc_numba`).

    Parameters
    ----------
    x, y : float64 array (depth, line)
        Pre- and post-compression frames.
    lines : int64 array (n_lines,)
        Pre lines to match; the output's columns.
    post_ptr, post_idx : int64 arrays
        The post lines that chunk ``c`` of ``opt.chunk`` lines reads are
        ``post_idx[post_ptr[c] : post_ptr[c + 1]]``.
    starts : int64 array (n_windows,)
        First row of each window of ``opt.n`` rows.
    gax, glat : int64 arrays (n_windows, n_lines)
        Integer axial (samples) and lateral (lines) guides.
    opt : _NccOptions
        Window, search and fit settings.

    Returns
    -------
    axial, lateral, ncc : float64 arrays (n_windows, n_lines)
        Peak shift with sub-sample offset (samples, lines) and the peak NCC; NaN, NaN and 0
        where no shift fits in the frame.

    Notes
    -----
    Chunks of ``opt.chunk`` lines run in parallel, each in :func:`_match_chunk`.
    """
    nlines = lines.shape[0]
    nw = starts.shape[0]
    ax = np.empty((nw, nlines))
    lat = np.empty((nw, nlines))
    cc = np.empty((nw, nlines))
    chunk = opt.chunk
    for c in numba.prange((nlines + chunk - 1) // chunk):
        l0 = c * chunk
        l1 = min(l0 + chunk, nlines)
        pidx = post_idx[post_ptr[c] : post_ptr[c + 1]]
        a_c, l_c, c_c = _match_chunk(
            x, y, lines[l0:l1], pidx, starts, gax[:, l0:l1], glat[:, l0:l1], opt
        )
        ax[:, l0:l1] = a_c
        lat[:, l0:l1] = l_c
        cc[:, l0:l1] = c_c
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
    fit with ``lateral_fit=False``). Same numbers as :func:`ncc_numpy` up to round-off.

    Parameters
    ----------
    pre, post : array (depth, line)
        Real RF frames.
    centers : int array (n_windows,)
        Window centres (rows).
    hw : int
        Window half-length in samples (windows of ``2 hw + 1`` rows).
    guide_ax, guide_lat : int arrays (n_windows, n_lines)
        Integer axial (samples) and lateral (lines) guides.
    ax_search, lat_search : int
        Half search ranges around the guides (samples, lines).
    fit : {1, 0}
        Axial sub-sample fit: cosine (1) or parabola (0).
    lines : int array, optional
        The lines matched (default all); the guides' columns.
    lateral_fit : bool
        Refine the lateral shift by a parabola.
    chunk : int
        Lines per parallel task.

    Returns
    -------
    axial, lateral, ncc : numpy.ndarray (n_windows, n_lines)
        Shifts in samples and lines (integer plus sub-sample) and the NCC peak; NaN shifts and
        0 where no shift fits in the frame.

    Notes
    -----
    How it saves work: with equally spaced windows (step ``p``, ``n = q p + r`` rows), a window
    is ``q`` blocks of ``p`` rows plus ``r`` rows, and neighbouring windows share ``q - 1`` of
    their blocks. For each block and each post line, the products with a small range of shifts
    (``2 ax_search + 3`` plus slack for the guide's variation) are summed once, lag-vectorised,
    and reused by the ``q`` windows that contain the block, so a candidate shift costs about
    ``p + r`` multiply-adds instead of ``n`` (4x fewer at 75 % overlap). The post windows'
    sums of x and x^2 come from prefix sums. Frames are read in their (depth, line) layout and
    copied line-major per chunk of lines; the kernel is :func:`_ncc_block_kernel`.
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
    opt = _NccOptions(
        n, step, q, a_s, l_s, int(lanes), pad, int(chunk), int(fit), int(bool(lateral_fit))
    )
    return _ncc_block_kernel(
        pre, post, lines, np.asarray(ptr, np.int64), np.concatenate(idx).astype(np.int64),
        starts, gax, glat, opt,
    )  # fmt: skip


def ncc_numpy(pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search, fit=1):
    """Straightforward NumPy NCC block matching (Python loop over windows; reference).

    The plain definition that :func:`ncc_numba` is tested against: the table of NCCs over all
    shifts of each window, its peak and the sub-sample fits around it.

    Parameters
    ----------
    pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search, fit
        As :func:`ncc_numba`; every line is matched and the lateral shift always refined.

    Returns
    -------
    axial, lateral, ncc : numpy.ndarray (n_windows, n_lines)
        The numbers of :func:`ncc_numba` for all lines with ``lateral_fit=True``, up to
        round-off.
    """
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

    Parameters
    ----------
    pre, post, centers, hw
        The RF frames and windows, as in :func:`ncc_numba`; the data cost of a candidate shift
        of a window is 1 - its NCC.
    dmin : int or int array (n_lines,)
        Lowest candidate axial shift (per line); the candidates are
        ``dmin .. dmin + (dmax - min(dmin))`` on every line.
    dmax : int
        Highest candidate axial shift (of the line with the lowest ``dmin``).
    lat_max : int
        Lateral candidates ``-lat_max .. lat_max`` lines.
    alpha : float
        Smoothness weight (cost of 1 - NCC per squared step between neighbouring windows).

    Returns
    -------
    axial, lateral : numpy.ndarray of int (n_windows, n_lines)
        Integer displacements in samples and lines.
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
    """NCC block matching on the GPU (CuPy RawKernel, one thread per window); same outputs.

    Parameters
    ----------
    pre, post, centers, hw, guide_ax, guide_lat, ax_search, lat_search, fit
        As :func:`ncc_numba` (NumPy or CuPy arrays; copied to the device as float64 frames
        and int64 guides); every line is matched and the lateral shift always refined.

    Returns
    -------
    axial, lateral, ncc : cupy.ndarray (n_windows, n_lines)
        On the device: the numbers of :func:`ncc_numba` for all lines with
        ``lateral_fit=True``, up to round-off.
    """
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

    Parameters
    ----------
    a1, a2 : complex arrays (depth, line), or (line, depth) with ``line_major``
        Analytic signals of the pre and post frames.
    centers : int array (n_windows,)
        Window centres (rows).
    hw : int
        Window half-length in samples.
    g, lat : int arrays (n_windows, n_lines)
        Integer axial (samples) and lateral (lines) alignment.
    line_major : bool
        ``a1`` and ``a2`` are already (line, depth) (as from :func:`analytic_lines`), which saves
        two transposed copies.

    Returns
    -------
    numpy.ndarray (n_windows, n_lines)
        Axial displacement in samples (NaN where the local frequency is not defined).
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

    Parameters
    ----------
    x : array (depth, line)
        Real RF.

    Returns
    -------
    numpy.ndarray of complex (line, depth)
        The analytic signal.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(64)
    >>> a = analytic_lines(np.cos(0.5 * t)[:, None])
    >>> a.shape, bool(np.allclose(np.abs(a[0, 16:48]), 1.0, atol=0.05))
    ((1, 64), True)
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
    """Dynamic programming on the GPU (CuPy RawKernel, one thread per line).

    Same parameters and outputs as :func:`dp_numba` (up to ties between equal costs).

    Parameters
    ----------
    pre, post, centers, hw, dmin, dmax, lat_max, alpha
        As in :func:`dp_numba`.

    Returns
    -------
    axial, lateral : numpy.ndarray of int (n_windows, n_lines)
        Integer displacements in samples and lines.
    """
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
