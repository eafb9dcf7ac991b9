"""Displacement estimation between pre- and post-compression RF frames.

Methods
-------
``"ncc"``
    Normalised cross-correlation block matching, axial and lateral, with sub-sample refinement
    (cosine fit axially, parabola laterally) and coarse-to-fine guidance: a coarse pass (double
    window, 50 % overlap, about 24 lines, full axial search range) is median-filtered,
    interpolated, and guides a fine pass that searches +-2 samples and +-``lateral_search`` lines
    around it (Cespedes et al., Ultrasonic Imaging 17:142, 1995; de Jong et al., Ultrasonic
    Imaging 12:84, 1990 for the cosine fit).
``"phase"``
    Loupas' 2-D autocorrelation (phase-shift) estimator (Loupas, Powers, Gill, IEEE TUFFC 42:689,
    1995) on the analytic signal: after integer alignment ``g`` from NCC, the sub-sample shift is
    ``g - arg(R01) / arg(R10)`` with ``R01 = sum conj(a1[i]) a2[i + g]`` the zero-lag
    cross-correlation and ``R10`` the lag-one axial autocorrelation of both windows, which estimates
    the local mean frequency (so no nominal centre frequency is assumed).
``"dp"``
    Dynamic programming (Rivaz et al., IEEE TMI 27:1373, 2008): integer axial and lateral
    displacements along each line minimise data cost (1 - NCC) plus a smoothness penalty; the
    result guides an NCC sub-sample refinement (+-1 sample). Robust where independent block
    matching produces peak-hopping outliers (large strain, low correlation).
``"glue"``
    Regularised global estimation, GLUE-style (Hashemi & Rivaz, IEEE TUFFC 64:1625, 2017),
    seeded by ``"ncc"``: axial and lateral displacement minimise a data term plus axial and
    lateral smoothness terms over the whole image (:func:`brim.elasto.glue.glue_displacement`).
    Cleaner strain than NCC where the speckle decorrelates.

Results are ``xarray.Dataset``s on the window grid ``(depth, line)`` with ``axial`` and
``lateral`` displacement in m (and in samples/lines) and the NCC peak ``correlation``.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy.ndimage import median_filter
from scipy.signal import hilbert

from brim import provenance, schema
from brim.backend import resolve_backend, to_numpy
from brim.errors import ConfigError, FormatError, check_positive

from .displacement_kernels import (
    analytic_lines,
    dp_cupy,
    dp_numba,
    ncc_cupy,
    ncc_numba,
    ncc_numpy,
    phase_numba,
)

__all__ = ["estimate_displacement", "frame_pair", "phase_refine", "window_centers"]

METHODS = ("ncc", "phase", "dp", "glue")


def frame_pair(pre, post=None, *, frames: tuple[int, int] = (0, 1)):
    """Return (pre, post, meta) from two rf_frames Datasets, one Dataset with two frames, or arrays.

    With one Dataset, frames ``frames[0]`` and ``frames[1]`` are compared. With two Datasets,
    frame ``frames[0]`` of ``pre`` is compared with the only frame of ``post`` (or its frame
    ``frames[0]`` when it has several). ``meta`` is the first Dataset (for coordinates and
    scalars) or None for plain arrays.

    Parameters
    ----------
    pre : xarray.Dataset or array_like
        ``rf_frames`` or a real 2-D array (depth, line).
    post : xarray.Dataset or array_like, optional
        The post-compression frame(s); None: two frames of ``pre``.
    frames : tuple of int
        Frame indices (see above).

    Returns
    -------
    pre, post : numpy.ndarray
        C-contiguous float64 (depth, line).
    meta : xarray.Dataset or None
        The Dataset that supplies coordinates and acquisition scalars.

    Raises
    ------
    ConfigError
        A frame index is out of range or both name the same frame.
    FormatError
        Frames of different shapes, not 2-D, complex (IQ), or not finite (NaN or inf).
    """
    if not (
        isinstance(frames, (tuple, list))
        and len(frames) == 2
        and all(isinstance(f, (int, np.integer)) and not isinstance(f, bool) for f in frames)
    ):
        raise ConfigError(
            f"frames must be two frame indices (pre, post), e.g. (0, 1); got {frames!r}"
        )
    for frame in (pre, post):
        if frame is not None:
            schema.expect_dataset(frame, "rf_frames", arrays=True)
    if isinstance(pre, xr.Dataset):
        schema.validate(pre, "rf_frames", check_values=False)
        meta = pre
        if post is None:
            n = pre.sizes["frame"]
            for f in frames:
                if not -n <= f < n:
                    raise ConfigError(f"frame index {f} out of range: the file has {n} frame(s)")
            if frames[0] % n == frames[1] % n:
                raise ConfigError(
                    f"frames {tuple(frames)} name the same frame twice; PRE and POST must differ"
                )
            a = pre["rf"].values[frames[0]]
            b = pre["rf"].values[frames[1]]
        else:
            if not isinstance(post, xr.Dataset):
                raise ConfigError("pre is a Dataset, so post must be one too")
            schema.validate(post, "rf_frames", check_values=False)
            a = pre["rf"].values[frames[0]]
            b = post["rf"].values[0 if post.sizes["frame"] == 1 else frames[0]]
    else:
        meta = None
        a = np.asarray(pre)
        b = np.asarray(post)
    if a.shape != b.shape or a.ndim != 2:
        raise FormatError(
            f"pre and post frames must be 2-D of equal shape; got {a.shape}, {b.shape}"
        )
    if np.iscomplexobj(a) or np.iscomplexobj(b):
        raise FormatError("displacement estimation needs real RF; got complex (IQ) data")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise FormatError(
            "the RF frames contain NaN or infinite samples; displacement estimation needs finite RF"
        )
    return np.ascontiguousarray(a, float), np.ascontiguousarray(b, float), meta


def window_centers(n_samples: int, half_window: int, step: int) -> np.ndarray:
    """Centres of axial windows ``half_window`` .. ``n - 1 - half_window`` every ``step``.

    Parameters
    ----------
    n_samples : int
        Samples per line.
    half_window : int
        Window half-length in samples.
    step : int
        Window step in samples.

    Returns
    -------
    numpy.ndarray of int64
        Window centres (rows).

    Examples
    --------
    >>> window_centers(20, 3, 5)
    array([ 3,  8, 13])
    """
    if 2 * half_window + 1 > n_samples:
        raise ConfigError(f"window of {2 * half_window + 1} samples exceeds {n_samples} samples")
    return np.arange(half_window, n_samples - half_window, step, dtype=np.int64)


def _ncc(backend, *args):
    if backend == "cupy":
        return tuple(to_numpy(v) for v in ncc_cupy(*args))
    return ncc_numba(*args)


def _guide(coarse_c, coarse_ax, coarse_lat, fine_c, nl, coarse_lines=None):
    """Median-filter the coarse field and interpolate it to the fine grid (integer guidance)."""
    ax = median_filter(np.nan_to_num(coarse_ax), size=(3, 3), mode="nearest")
    lat = median_filter(np.nan_to_num(coarse_lat), size=(3, 3), mode="nearest")
    if coarse_lines is not None and len(coarse_lines) != nl:
        cl = np.asarray(coarse_lines, float)
        full = np.arange(nl, dtype=float)
        ax = _interp_columns(full, cl, ax.T).T  # np.interp(full, cl, row) for every row
        lat = _interp_columns(full, cl, lat.T).T
    gax = np.rint(_interp_columns(fine_c, coarse_c, ax)).astype(np.int64)
    glat = np.rint(_interp_columns(fine_c, coarse_c, lat)).astype(np.int64)
    return gax, glat


def _interp_columns(x, xp, fp):
    """``np.interp(x, xp, fp[:, j])`` for every column j at once (same arithmetic)."""
    x = np.asarray(x, dtype=float)
    xp = np.asarray(xp, dtype=float)
    fp = np.asarray(fp, dtype=float)
    if xp.size == 1:
        return np.repeat(fp[:1], x.size, axis=0)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])[:, None]
    out = slope * (x - xp[j])[:, None] + fp[j]
    exact = x == xp[j]
    out[exact] = fp[j[exact]]
    out[x <= xp[0]] = fp[0]
    out[x >= xp[-1]] = fp[-1]
    return out


def _coarse(name, a, b, hw, step, dmax, kernel=None):
    """Coarse pass: double window, 50 % overlap, ~24 lines, full axial search, no lateral."""
    nd, nl = a.shape
    hwc = min(2 * hw, (nd - 1) // 2)
    c_c = window_centers(nd, hwc, max(2 * step, hwc))  # coarse windows overlap by <= 50 %
    k = max(1, nl // 24)
    cols = np.arange(0, nl, k)
    if cols[-1] != nl - 1:
        cols = np.append(cols, nl - 1)
    zeros = np.zeros((c_c.size, cols.size), dtype=np.int64)
    if kernel is None and name != "cupy":  # Numba: the chosen lines, no lateral fit
        cax, clat, _ = ncc_numba(a, b, c_c, hwc, zeros, zeros, dmax, 0, lines=cols,
                                 lateral_fit=False)  # fmt: skip
        return c_c, cax, clat, cols
    ac = np.ascontiguousarray(a[:, cols])
    bc = np.ascontiguousarray(b[:, cols])
    run = kernel or (lambda *args: _ncc(name, *args))
    cax, clat, _ = run(ac, bc, c_c, hwc, zeros, zeros, dmax, 0)
    return c_c, cax, clat, cols


def phase_refine(pre, post, centers, half_window, guide_ax, *, lateral=None, kernel="numba"):
    """Loupas phase-shift refinement of integer axial shifts (in samples).

    Parameters
    ----------
    pre, post : arrays (depth, line)
        Real RF.
    centers : array (n_windows,)
        Window centres (rows).
    half_window : int
        Window half-length in samples.
    guide_ax : int array (n_windows, n_lines)
        Integer axial alignment.
    lateral : int array, optional
        Integer lateral alignment (lines), default 0.
    kernel : {"numba", "numpy", "cupy"}
        Numba loops (default), the vectorised NumPy reference, or the same vectorised sums on
        the GPU with CuPy (analytic signal by ``cupyx.scipy.signal.hilbert``).

    Returns
    -------
    numpy.ndarray
        Axial displacement in samples.
    """
    g = np.asarray(guide_ax, dtype=np.int64)
    lat = np.zeros_like(g) if lateral is None else np.asarray(lateral, dtype=np.int64)
    if kernel == "cupy":
        import cupy as cp
        from cupyx.scipy.signal import hilbert as gpu_hilbert

        a1 = gpu_hilbert(cp.asarray(pre, dtype=cp.float64), axis=0)
        a2 = gpu_hilbert(cp.asarray(post, dtype=cp.float64), axis=0)
        out = _phase_vectorised(cp, a1, a2, cp.asarray(centers), half_window, cp.asarray(g),
                                cp.asarray(lat))  # fmt: skip
        return to_numpy(out)
    if kernel == "numba":
        a1, a2 = analytic_lines(pre), analytic_lines(post)
        return phase_numba(a1, a2, centers, half_window, g, lat, line_major=True)
    a1 = hilbert(pre, axis=0)
    a2 = hilbert(post, axis=0)
    if kernel != "numpy":
        raise ConfigError(f"unknown phase kernel {kernel!r}; use 'numba', 'numpy' or 'cupy'")
    return _phase_vectorised(np, a1, a2, np.asarray(centers), half_window, g, lat)


def _phase_vectorised(xp, a1, a2, centers, half_window, g, lat):
    """Vectorised Loupas sums (NumPy or CuPy): gathers (window, line, sample) blocks."""
    nd, nl = a1.shape
    n = 2 * half_window + 1
    rows = centers[:, None, None] - half_window + xp.arange(n)[None, None, :]  # (nw,1,n)
    cols = xp.arange(nl)[None, :, None]
    r2 = xp.clip(rows + g[:, :, None], 0, nd - 2)
    c2 = xp.clip(cols + lat[:, :, None], 0, nl - 1)
    r1 = xp.clip(rows, 0, nd - 2)
    w1 = a1[r1, cols]
    w1n = a1[r1 + 1, cols]
    w2 = a2[r2, c2]
    w2n = a2[r2 + 1, c2]
    r01 = xp.sum(xp.conj(w1) * w2, axis=-1)
    r10 = xp.sum(xp.conj(w1) * w1n + xp.conj(w2) * w2n, axis=-1)
    omega = xp.angle(r10)
    omega = xp.where(xp.abs(omega) > 1e-6, omega, xp.nan)
    return g - xp.angle(r01) / omega


@provenance.step
def estimate_displacement(
    pre: xr.Dataset | ArrayLike,
    post: xr.Dataset | ArrayLike | None = None,
    *,
    method: str = "ncc",
    window: int | None = None,
    step: int | None = None,
    max_strain: float = 0.05,
    lateral_search: int = 1,
    dp_alpha: float = 0.15,
    frames: tuple[int, int] = (0, 1),
    backend: str | None = None,
) -> xr.Dataset:
    """Estimate the axial and lateral displacement from a pre/post RF pair.

    Parameters
    ----------
    pre, post : xarray.Dataset or array
        ``rf_frames`` Datasets (``post=None``: two frames of ``pre`` chosen by ``frames``) or
        real 2-D arrays (depth, line).
    method : {"ncc", "phase", "dp", "glue"}
        See the module docstring.
    window : int, optional
        Axial window length in samples (odd); default about 10 periods of the RF, measured from
        its spectrum.
    step : int, optional
        Window step in samples; default a quarter window (75 % overlap).
    max_strain : float
        Largest expected ``|strain|``; sets the coarse search range to ``max_strain * n_samples``.
    lateral_search : int
        Lateral search range in lines around the coarse guidance (the coarse pass, on about
        24 lines, is axial only).
    dp_alpha : float
        DP smoothness weight (cost units of 1 - NCC per squared sample step).
    backend : {None, "numpy", "cupy"}
        NCC kernels on Numba (CPU) or CUDA.

    Returns
    -------
    xarray.Dataset
        ``axial`` and ``lateral`` (m), ``axial_samples`` and ``lateral_lines``, ``correlation``,
        on ``(depth, line)`` where ``depth`` are the window centres.

    Examples
    --------
    The bundled pair was simulated at 1 % compression; the median strain estimated from it is
    within a tenth of that:

    >>> import numpy as np
    >>> import brim.data
    >>> from brim.elasto import estimate_displacement, strain_image
    >>> pair = brim.data.sample("elasto_phantom_pair")
    >>> float(pair.attrs["applied_compression"])
    0.01
    >>> disp = estimate_displacement(pair, method="ncc")
    >>> disp.axial.dims, disp.axial.attrs["units"]
    (('depth', 'line'), 'm')
    >>> strain = strain_image(disp)
    >>> bool(abs(np.nanmedian(strain.strain) + 0.01) < 0.001)
    True
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if not isinstance(max_strain, (int, float, np.integer, np.floating)) or not (
        0 < max_strain < 0.5
    ):
        raise ConfigError(f"max_strain must be in (0, 0.5), got {max_strain!r}")
    if isinstance(lateral_search, bool) or not isinstance(lateral_search, (int, np.integer)):
        raise ConfigError(f"lateral_search must be an integer >= 0, got {lateral_search!r}")
    if lateral_search < 0:
        raise ConfigError(f"lateral_search must be an integer >= 0, got {lateral_search}")
    if method == "glue":
        from .glue import glue_displacement  # glue imports this module: keep the import local

        return glue_displacement(
            pre,
            post,
            window=window,
            step=step,
            max_strain=max_strain,
            lateral_search=lateral_search,
            frames=frames,
            backend=backend,
        )
    a, b, meta = frame_pair(pre, post, frames=frames)
    nd, nl = a.shape
    if window is None:
        spec = np.abs(np.fft.rfft(a, axis=0)) ** 2
        f = np.fft.rfftfreq(nd)
        fmean = float((spec.sum(1) * f).sum() / max(spec.sum(), 1e-300))
        window = max(int(round(10 / max(fmean, 1e-3))), 5)
    elif (window := check_positive("window", window, integer=True)) < 5:
        raise ConfigError(f"window must be >= 5 samples, got {window}")
    hw = window // 2
    step = max(int(step or max(hw // 2, 1)), 1)
    name = resolve_backend(backend)
    dmax = int(np.ceil(max_strain * nd)) + 2
    fine_c = window_centers(nd, hw, step)
    if method == "dp":
        hw_dp = max(hw // 2, 4)
        c_dp = window_centers(nd, hw_dp, step)
        # candidate band per line: the coarse NCC range of that line +- margin (the DP is free
        # within it, so coarse outliers only widen the band)
        c_c, cax, _, cols = _coarse(name, a, b, hw, step, dmax)
        full = np.interp(np.arange(nl), cols, np.arange(cols.size))
        lo = np.nanmin(np.where(np.isfinite(cax), cax, np.inf), axis=0)
        hi = np.nanmax(np.where(np.isfinite(cax), cax, -np.inf), axis=0)
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            lo = np.full(cols.size, -dmax, float)
            hi = np.full(cols.size, dmax, float)
        margin = 8
        lo_l = np.floor(np.interp(full, np.arange(cols.size), lo)) - margin
        hi_l = np.ceil(np.interp(full, np.arange(cols.size), hi)) + margin
        band = int(np.max(hi_l - lo_l))
        dmins = np.clip(lo_l, -dmax, dmax).astype(np.int64)
        dp = dp_cupy if name == "cupy" else dp_numba
        ia, il = dp(
            a, b, c_dp, hw_dp, dmins, int(dmins.min()) + band, int(lateral_search), float(dp_alpha)
        )
        gax, glat = _guide(c_dp, ia.astype(float), il.astype(float), fine_c, nl)
        ax, lat, cc = _ncc(name, a, b, fine_c, hw, gax, glat, 1, 1)
    else:
        c_c, cax, clat, cols = _coarse(name, a, b, hw, step, dmax)
        gax, glat = _guide(c_c, cax, clat, fine_c, nl, cols)
        ax, lat, cc = _ncc(name, a, b, fine_c, hw, gax, glat, 2, int(lateral_search))
        if method == "phase":
            g = np.rint(np.nan_to_num(ax)).astype(np.int64)
            gl = np.rint(np.nan_to_num(lat)).astype(np.int64)
            ph = phase_refine(
                a, b, fine_c, hw, g, lateral=gl, kernel="cupy" if name == "cupy" else "numba"
            )
            ax = np.where(np.abs(ph - ax) <= 1.0, ph, ax)
    if meta is not None:
        fs = float(meta["sampling_frequency"])
        c = float(meta["sound_speed"])
        dz = c / (2 * fs)
        depth0 = float(meta["depth"].values[0])
        depth = depth0 + fine_c * dz
        lines = meta["line"].values
        pitch = float(meta["pitch"])
    else:
        dz, pitch = np.nan, np.nan
        depth = fine_c.astype(float)
        lines = np.arange(nl, dtype=float)
    units = "m" if meta is not None else "sample"
    ds = xr.Dataset(
        {
            "axial": (
                ("depth", "line"),
                ax * dz if meta is not None else ax,
                {"units": units, "long_name": "axial displacement"},
            ),
            "lateral": (
                ("depth", "line"),
                lat * pitch if meta is not None else lat,
                {"units": "m" if meta is not None else "line", "long_name": "lateral displacement"},
            ),
            "axial_samples": (("depth", "line"), ax, {"units": "sample"}),
            "lateral_lines": (("depth", "line"), lat, {"units": "line"}),
            "correlation": (("depth", "line"), cc, {"units": "1"}),
            "sample_spacing": ((), dz, {"units": "m", "long_name": "axial sample spacing"}),
            "window_step": ((), int(step), {"units": "sample"}),
        },
        coords={
            "depth": ("depth", depth, {"units": units}),
            "line": ("line", lines, {"units": "m" if meta is not None else "line"}),
            "row": ("depth", fine_c),
        },
        attrs={"method": method},
    )
    provenance.note(window=2 * hw + 1, step=step, backend=name)  # as chosen for this pair
    logging.getLogger(__name__).info(
        "estimate_displacement: %s on %d x %d RF (%s), window %d samples, step %d; "
        "median correlation %.3f",
        method,
        nd,
        nl,
        name,
        2 * hw + 1,
        step,
        float(np.nanmedian(cc)) if np.size(cc) else float("nan"),
    )
    return ds


def estimate_displacement_reference(
    pre, post, *, window: int, step: int, max_strain=0.05, lateral_search: int = 1
) -> np.ndarray:
    """Plain-NumPy NCC coarse-to-fine block matching (benchmark reference; same algorithm).

    Parameters
    ----------
    pre, post : array_like (depth, line)
        Real RF frames.
    window, step : int
        Axial window length and step in samples.
    max_strain : float
        Largest expected ``|strain|`` (sets the coarse search range).
    lateral_search : int
        Lateral search range in lines.

    Returns
    -------
    numpy.ndarray (n_windows, n_lines)
        Axial displacement in samples.
    """
    a = np.ascontiguousarray(pre, float)
    b = np.ascontiguousarray(post, float)
    nd, nl = a.shape
    hw = window // 2
    dmax = int(np.ceil(max_strain * nd)) + 2
    fine_c = window_centers(nd, hw, step)
    c_c, cax, clat, cols = _coarse("numpy", a, b, hw, step, dmax, kernel=ncc_numpy)
    gax, glat = _guide(c_c, cax, clat, fine_c, nl, cols)
    ax, _, _ = ncc_numpy(a, b, fine_c, hw, gax, glat, 2, lateral_search)
    return ax
