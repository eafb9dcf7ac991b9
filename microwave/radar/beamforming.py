"""Radar-based microwave imaging: delays, imaging grids and DAS / DMAS / CF-DAS beamforming.

The image of a calibrated scan (artefact already removed, e.g. by rotation subtraction) is formed
point by point from the round-trip propagation time of each Tx/Rx channel:

* homogeneous medium: ``t = |r - a| * sqrt(eps_r) / c0`` (MERIT's model; O'Loughlin et al. 2018);
* two-layer model (an immersion / skin layer outside a sphere of radius ``R``, breast inside):
  **straight-ray approximation** — the ray is the straight segment from the antenna to the point,
  split at the sphere into its outer and inner lengths, each travelled at its own speed;
  refraction at the interface (Snell / Fermat) is neglected, an error second order in the
  bending angle.

Kernels (:mod:`brim.microwave.radar.kernels`) run on Numba on the CPU or CuPy on the GPU; work is
chunked over image points so memory stays bounded (``max_memory_mb``), which lets a 10**6-point
3-D image run on a laptop. A tqdm bar shows progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.backend import resolve_backend, to_numpy
from brim.errors import ConfigError, SchemaError, check_positive, check_vector
from brim.microwave.radar.timedomain import czt_time_signals
from brim.microwave.tissue import C0
from brim.schema import check_ranges, expect_dataset, stamp

__all__ = [
    "ImagingGrid",
    "beamform",
    "box_grid",
    "channel_table",
    "hemisphere_grid",
    "homogeneous_delays",
    "plane_grid",
    "two_layer_delays",
]

METHODS = ("das", "dmas", "cf-das")
#: Adaptive beamformers (:mod:`brim.microwave.radar.adaptive`), computed beside the kernels.
ADAPTIVE = ("capon",)
_VAR = {"das": "das", "dmas": "dmas", "cf-das": "cf_das", "capon": "capon"}


@dataclass
class ImagingGrid:
    """A regular imaging grid, possibly masked.

    Attributes
    ----------
    x, y, z : ndarray
        Axis coordinates in m (``z`` of length 1 for a plane).
    mask : ndarray of bool
        ``(z, y, x)``: which grid nodes are imaged.
    planar : bool
        True for a 2-D image at a single ``z``.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    mask: np.ndarray
    planar: bool = False

    @property
    def points(self) -> np.ndarray:
        """``(N, 3)`` coordinates (m) of the imaged nodes, in ``(z, y, x)`` C order."""
        zz, yy, xx = np.meshgrid(self.z, self.y, self.x, indexing="ij")
        m = self.mask
        return np.column_stack([xx[m], yy[m], zz[m]])

    @property
    def voxel(self) -> float:
        """Grid spacing in m (the largest of the axis steps)."""
        steps = [np.diff(a).max() for a in (self.x, self.y, self.z) if a.size > 1]
        return float(max(steps)) if steps else 0.0


#: Largest imaging radius accepted (m): a breast fits in ~0.1 m, so more is millimetres typed
#: as metres (radius=70), which would otherwise try to allocate terabytes.
_RADIUS_MAX_M = 1.0


def _disc_axis(radius: float, resolution: float, z: float) -> tuple[np.ndarray, int]:
    """The axis ``k * resolution``, ``|k| <= n = floor(radius / resolution)`` (m), and ``n``;
    ConfigError unless the radius and step are finite and > 0 m and z is finite."""
    radius = check_positive("grid radius (m)", radius)
    resolution = check_positive("grid resolution (m)", resolution)
    check_vector("grid z (m)", [z])
    if radius > _RADIUS_MAX_M:
        raise ConfigError(
            f"grid radius {radius:g} m is over {_RADIUS_MAX_M:g} m: lengths are in m, not mm "
            f"(a breast fits in a radius of about 0.07 m)"
        )
    n = int(np.floor(radius / resolution + 1e-9))
    return np.arange(-n, n + 1) * resolution, n


def box_grid(x: Any, y: Any, z: Any) -> ImagingGrid:
    """A full box grid from three axis vectors (m).

    Parameters
    ----------
    x, y, z : array_like
        Axis coordinates in m (``z`` of length 1 gives a planar grid).

    Returns
    -------
    ImagingGrid
        Every node of the box imaged.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.radar import box_grid
    >>> g = box_grid(np.linspace(-0.01, 0.01, 5), np.linspace(-0.01, 0.01, 5), [0.02])
    >>> g.points.shape, g.planar, round(g.voxel, 4)
    ((25, 3), True, 0.005)
    """
    x, y, z = (
        check_vector(f"grid axis {n} (m)", np.atleast_1d(a)) for n, a in zip("xyz", (x, y, z))
    )
    mask = np.ones((z.size, y.size, x.size), dtype=bool)
    return ImagingGrid(x, y, z, mask, planar=z.size == 1)


def hemisphere_grid(radius: float, resolution: float, *, z_min: float = 0.0) -> ImagingGrid:
    """Nodes of a cubic grid (spacing ``resolution``, m) inside the hemisphere ``|r| <= radius``,
    ``z >= z_min`` — the MERIT imaging domain.

    Parameters
    ----------
    radius : float
        Hemisphere radius in m.
    resolution : float
        Grid spacing in m.
    z_min : float
        Lowest imaged plane in m.

    Returns
    -------
    ImagingGrid
        A cubic grid (``z`` from ``z_min`` up to ``radius``) masked to the hemisphere.

    Examples
    --------
    >>> from brim.microwave.radar import hemisphere_grid
    >>> g = hemisphere_grid(0.07, 0.01)
    >>> g.mask.shape, int(g.mask.sum())
    ((8, 15, 15), 784)
    """
    ax, n = _disc_axis(radius, resolution, z_min)
    z = np.arange(int(np.ceil(z_min / resolution - 1e-9)), n + 1) * resolution
    zz, yy, xx = np.meshgrid(z, ax, ax, indexing="ij")
    mask = xx**2 + yy**2 + zz**2 <= radius**2 * (1 + 1e-12)
    return ImagingGrid(ax, ax.copy(), z, mask)


def plane_grid(radius: float, resolution: float, z: float) -> ImagingGrid:
    """A 2-D disc of radius ``radius`` (m) in the plane ``z`` (m).

    Parameters
    ----------
    radius, resolution : float
        Disc radius and grid spacing in m.
    z : float
        Height of the plane in m.

    Returns
    -------
    ImagingGrid
        One plane (``planar=True``, ``z`` of length 1) masked to the disc.

    Examples
    --------
    >>> from brim.microwave.radar import plane_grid
    >>> g = plane_grid(0.05, 0.01, 0.02)
    >>> g.mask.shape, int(g.mask.sum()), g.z.tolist()
    ((1, 11, 11), 81, [0.02])
    """
    ax, _ = _disc_axis(radius, resolution, z)
    yy, xx = np.meshgrid(ax, ax, indexing="ij")
    mask = (xx**2 + yy**2 <= radius**2 * (1 + 1e-12))[None]
    return ImagingGrid(ax, ax.copy(), np.array([float(z)]), mask, planar=True)


#: Largest relative permittivity accepted: breast tissues reach ~70 and water ~80 at GHz
#: frequencies (Lazebnik et al. 2007, Phys. Med. Biol. 52:6093), so more is a typing slip.
_EPS_R_MAX = 100.0


def _check_eps(*values: float, name: str = "relative permittivity") -> None:
    """ConfigError unless every relative permittivity is finite and in [1, 100]."""
    for e in values:
        try:
            v = float(e)
        except (TypeError, ValueError):
            v = float("nan")  # a string or another object: named as given below
        if not np.isfinite(v) or not 1 <= v <= _EPS_R_MAX:
            raise ConfigError(
                f"{name} must be in [1, {_EPS_R_MAX:g}] (vacuum 1; breast tissue at most ~70 "
                f"and water ~80 at GHz frequencies), got {e!r}"
            )


def _xyz(name: str, values: Any) -> np.ndarray:
    """``values`` as an ``(N, 3)`` float array of positions (m), or ConfigError naming it."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        a = np.empty(0)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ConfigError(f"{name} must be an (N, 3) array of (x, y, z) in m, got shape {a.shape}")
    return a


def homogeneous_delays(points: ArrayLike, antennas: ArrayLike, eps_r: float) -> np.ndarray:
    """One-way propagation times (s), ``[P, A]``, through a homogeneous lossless medium.

    ``t = |r - a| * sqrt(eps_r) / c0``; for a lossy/dispersive medium pass the real relative
    permittivity giving the wanted phase velocity (see
    :func:`brim.microwave.tissue.effective_wave_speed`).

    Parameters
    ----------
    points : array_like (P, 3)
        Image points ``(x, y, z)`` in m.
    antennas : array_like (A, 3)
        Antenna phase centres in m, in the same medium as the points.
    eps_r : float
        Relative permittivity of the medium (>= 1).

    Returns
    -------
    ndarray (P, A)
        One-way times in s, ``|r - a| sqrt(eps_r) / c0``.

    Examples
    --------
    >>> from brim.microwave.radar import homogeneous_delays
    >>> t = homogeneous_delays([[0.0, 0.0, 0.0]], [[0.3, 0.0, 0.0]], 4.0)
    >>> round(float(t[0, 0]) * 1e9, 4)  # 0.3 m at c0 / 2: 2 ns
    2.0014
    """
    _check_eps(eps_r)
    eps_r = float(eps_r)
    p, a = _xyz("points", points), _xyz("antennas", antennas)
    d = np.sqrt(((p[:, None, :] - a[None, :, :]) ** 2).sum(-1))
    return d * (np.sqrt(eps_r) / C0)


def two_layer_delays(
    points: ArrayLike,
    antennas: ArrayLike,
    *,
    eps_outer: float,
    eps_inner: float,
    radius: float,
    centre: ArrayLike = (0, 0, 0),
) -> np.ndarray:
    """One-way times (s) through two media: outside / inside a sphere (radius m, centre m).

    Straight-ray approximation: no refraction at the interface (see the module docstring).

    Parameters
    ----------
    points : array_like (P, 3)
        Image points ``(x, y, z)`` in m, inside or outside the sphere.
    antennas : array_like (A, 3)
        Antenna phase centres in m (usually outside the sphere).
    eps_outer, eps_inner : float
        Relative permittivities outside and inside the sphere (>= 1).
    radius : float
        Sphere radius in m.
    centre : (3,) array_like
        Sphere centre in m.

    Returns
    -------
    ndarray (P, A)
        One-way times in s: the straight ray's length in each medium times its slowness.

    Examples
    --------
    >>> from brim.microwave.radar import two_layer_delays
    >>> t = two_layer_delays(
    ...     [[0.0, 0.0, 0.0]], [[0.1, 0.0, 0.0]], eps_outer=1.0, eps_inner=9.0, radius=0.05
    ... )
    >>> t.shape, round(float(t[0, 0]) * 1e9, 4)  # 5 cm in air + 5 cm at c0 / 3: 2/3 ns
    ((1, 1), 0.6671)
    """
    _check_eps(eps_outer, eps_inner)
    eps_outer, eps_inner = float(eps_outer), float(eps_inner)
    radius = check_positive("two_layer radius (m)", radius)
    c = _xyz("centre", [centre])[0]
    p = _xyz("points", points)[:, None, :] - c
    a = _xyz("antennas", antennas)[None, :, :] - c
    d = p - a  # ray r(u) = a + u d, u in [0, 1]
    dd = (d * d).sum(-1)
    ad = (a * d).sum(-1)
    aa = (a * a).sum(-1)
    disc = ad**2 - dd * (aa - radius**2)
    length = np.sqrt(dd)
    sq = np.sqrt(np.clip(disc, 0, None))
    safe = np.where(dd > 0, dd, 1.0)
    u1 = np.clip((-ad - sq) / safe, 0, 1)
    u2 = np.clip((-ad + sq) / safe, 0, 1)
    inside = np.where(disc > 0, (u2 - u1) * length, 0.0)
    outside = length - inside
    return (outside * np.sqrt(eps_outer) + inside * np.sqrt(eps_inner)) / C0


def _expect_scan(scan: Any, *, variable: bool = True) -> None:
    """Raise :class:`SchemaError` unless ``scan`` is a Dataset (holding ``s`` if ``variable``).

    A path, array or DataArray is told how to read or build an ``sparameter_scan``.
    """
    expect_dataset(scan, "sparameter_scan")
    if variable and "s" not in scan:
        raise SchemaError("scan has no variable 's'; read it with brim.microwave.readers")


def channel_table(scan: xr.Dataset):
    """``(s[C, F], freq[F], tx[C], rx[C], antenna_positions[A, 3])`` of a scan, any layout.

    Parameters
    ----------
    scan : xarray.Dataset
        A ``sparameter_scan`` in any layout (channel list, (tx, rx) matrix or monostatic
        positions) with antenna or position coordinates in m.

    Returns
    -------
    tuple
        ``s`` (C, F) complex, ``freq`` (F,) in Hz, ``tx`` and ``rx`` (C,) antenna indices and the
        antenna positions (A, 3) in m.
    """
    _expect_scan(scan)
    s = scan["s"]
    if "scan" in s.dims:
        if s.sizes["scan"] != 1:
            raise ConfigError("beamform one scan at a time: select it with ds.isel(scan=k)")
        s = s.isel(scan=0)
    if not np.iscomplexobj(s.values):
        raise SchemaError(
            f"scan variable 's' has dtype {s.dtype}; expected complex S-parameters (magnitude "
            f"and phase): a real or integer 's' (e.g. |S| or S.real) cannot be focused"
        )
    freq = np.asarray(scan["freq"].values, dtype=float)
    if s.dims == ("freq", "channel"):
        if "tx" not in scan.coords or "rx" not in scan.coords:
            raise SchemaError("scan on (freq, channel) has no tx and rx channel coordinates")
        sig = np.ascontiguousarray(s.values.T)
        tx = np.asarray(scan["tx"].values, dtype=np.int64)
        rx = np.asarray(scan["rx"].values, dtype=np.int64)
        pre = "antenna"
    elif s.dims == ("freq", "tx", "rx"):
        n = s.sizes["tx"]
        ti, ri = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        keep = ti <= ri  # reciprocal network: one of each pair plus the monostatic terms
        tx, rx = ti[keep].astype(np.int64), ri[keep].astype(np.int64)
        sig = np.ascontiguousarray(s.values[:, tx, rx].T)
        pre = "antenna"
    elif s.dims == ("freq", "position"):
        sig = np.ascontiguousarray(s.values.T)
        tx = rx = np.arange(s.sizes["position"], dtype=np.int64)
        pre = "position"
    else:
        raise SchemaError(f"unsupported S-parameter dims {s.dims}")
    bad = ~np.isfinite(sig)
    if bad.any():
        c, f = np.argwhere(bad)[0]
        raise SchemaError(
            f"scan variable 's' has {int(bad.sum())} NaN or infinite value(s) (first at channel "
            f"{c}, {freq[f]:g} Hz), which would make the whole image NaN; drop those channels "
            f"or frequencies (ds.isel / ds.sel) or fill them first"
        )
    names = [f"{pre}_{k}" for k in "xyz"]
    if not all(n in scan.coords for n in names):
        raise SchemaError(
            f"scan has no {pre} positions ({', '.join(names)} in m); beamforming needs them"
        )
    pos = np.column_stack([np.asarray(scan[n].values, dtype=float) for n in names])
    check_ranges(scan["freq"], "sparameter_scan")  # Hz: a sweep typed in GHz is named
    far = float(np.max(np.abs(pos), initial=0.0))
    if not np.isfinite(far) or far > _RADIUS_MAX_M:
        raise SchemaError(
            f"scan {pre} positions reach {far:g} m from the origin (over {_RADIUS_MAX_M:g} m): "
            f"{', '.join(names)} must be finite and in m, not mm"
        )
    return sig.astype(np.complex128), freq, tx, rx, pos


_TWO_LAYER_KEYS = ("eps_outer", "eps_inner", "radius", "centre")


def _check_two_layer(two_layer: Any) -> None:
    """ConfigError unless ``two_layer`` is a dict of :func:`two_layer_delays` settings."""
    if not isinstance(two_layer, dict):
        raise ConfigError(
            f"two_layer must be a dict with keys {_TWO_LAYER_KEYS[:3]} (and optional 'centre'), "
            f"got {type(two_layer).__name__}"
        )
    unknown = sorted(set(two_layer) - set(_TWO_LAYER_KEYS))
    missing = [k for k in _TWO_LAYER_KEYS[:3] if k not in two_layer]
    if unknown or missing:
        raise ConfigError(
            f"two_layer has unknown keys {unknown} / lacks {missing}; it takes "
            f"{list(_TWO_LAYER_KEYS)} (permittivities, radius in m, centre in m)"
        )


def _chunk_size(n_points, per_point_bytes, max_memory_mb):
    return int(max(1, min(n_points, (max_memory_mb * 2**20) // max(per_point_bytes, 1))))


@provenance.step
def beamform(
    scan: xr.Dataset,
    *,
    grid: ImagingGrid | None = None,
    methods: Sequence[str] | str = METHODS,
    domain: str = "frequency",
    eps_r: float | None = None,
    two_layer: dict | None = None,
    radius: float = 0.07,
    resolution: float = 2.5e-3,
    max_memory_mb: float = 256.0,
    time_oversample: int = 16,
    backend: str | None = None,
    progress: bool = False,
    capon_loading: float = 1.0,
) -> xr.Dataset:
    """Form DAS / DMAS / CF-DAS (and Capon) images of a calibrated scan.

    Parameters
    ----------
    scan : xarray.Dataset
        ``sparameter_scan`` whose ``s`` is already calibrated (artefact removed). An
        ``antenna_delay`` variable (s, on ``antenna``) — the phase-centre calibration — is added
        to the one-way times.
    grid : ImagingGrid, optional
        Imaging grid; default a hemisphere of ``radius`` (m) at ``resolution`` (m).
    methods : sequence of {"das", "dmas", "cf-das", "capon"}
        Images to return (the first three cost the same single pass); ``"capon"``: the
        diagonally loaded Capon / robust Capon beamformer
        (:func:`~brim.microwave.radar.adaptive.capon_power`, CPU, about 50 times DAS's cost).
    domain : {"frequency", "time"}
        Frequency-domain focusing (exact phase shifts) or time-domain (inverse chirp-Z to a time
        grid of step ``1 / (time_oversample * f_max)``, linear interpolation).
    eps_r : float, optional
        Relative permittivity for homogeneous delays. Default: estimated from the scan by image
        focus (:func:`~brim.microwave.radar.estimate_propagation`, with the scan's
        ``antenna_delay``); the estimate and its criterion curve go to the image's attributes
        (``propagation_*``). MERIT's own example uses 8 for its phantoms.
    two_layer : dict, optional
        ``{"eps_outer", "eps_inner", "radius", "centre"}`` for :func:`two_layer_delays`.
    max_memory_mb : float
        Bound on the working memory per chunk of image points.
    backend : {None, "numpy", "cupy", "torch"}
        "numpy": Numba kernels on the CPU; "cupy": vectorised CuPy on the GPU; "torch": the same
        vectorised kernel with torch on the CPU; ``None`` follows the scan's data (Numba for
        NumPy data, CuPy for a scan moved with ``scan.brim.to_device("cuda")``).
    progress : bool
        Show a tqdm bar over chunks.
    capon_loading : float
        Diagonal loading of the Capon beamformer (fraction of the mean channel power).

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` with one variable per method on ``(z, y, x)`` (or ``(y, x)`` for a
        plane; scalar ``z`` coordinate), NaN outside the imaged region; units "1" (sums of
        ``|S|**2``).

    Examples
    --------
    The bundled scan is simulated with a point scatterer at (15, 0, 35) mm; delay-and-sum on a
    5 mm hemisphere grid puts the image maximum there:

    >>> import brim.data
    >>> from brim.microwave import average_subtraction, beamform, hemisphere_grid, image_metrics
    >>> scan = average_subtraction(brim.data.sample("microwave_radar_scan"))
    >>> img = beamform(scan, grid=hemisphere_grid(0.07, 0.005), methods=["das"], eps_r=8.0)
    >>> img.brim.kind, img.das.dims
    ('reconstruction', ('z', 'y', 'x'))
    >>> m = image_metrics(img, target=(0.015, 0.0, 0.035), var="das")
    >>> bool(m.localisation_error_m < 0.005)
    True
    """
    _expect_scan(scan)
    if grid is not None and not isinstance(grid, ImagingGrid):
        raise ConfigError(
            f"grid must be an ImagingGrid (hemisphere_grid, plane_grid or box_grid), got "
            f"{type(grid).__name__}"
        )
    if two_layer is not None:
        _check_two_layer(two_layer)
    methods = [m.lower() for m in ([methods] if isinstance(methods, str) else methods)]
    if not methods:  # an empty list gave an image Dataset without an image
        raise ConfigError(f"methods is empty; name at least one of {METHODS + ADAPTIVE}")
    for m in methods:
        if m not in METHODS + ADAPTIVE:
            raise ConfigError(f"unknown beamformer {m!r}; use one of {METHODS + ADAPTIVE}")
    if domain not in ("frequency", "time"):
        raise ConfigError("domain must be 'frequency' or 'time'")
    check_positive("max_memory_mb", max_memory_mb)
    estimate = None
    if two_layer is None:
        if eps_r is None:
            from brim.microwave.radar.propagation import estimate_propagation

            estimate = estimate_propagation(scan, radius=radius, backend=backend)
            eps_r = estimate.eps_r
        _check_eps(eps_r)
    eps_value = float("nan") if eps_r is None else float(eps_r)
    time_oversample = check_positive("time_oversample", time_oversample, integer=True)
    name = resolve_backend(backend, *(v.data for v in scan.data_vars.values()))
    sig, freq, tx, rx, pos = channel_table(scan.brim.to_device("cpu"))
    if grid is None:
        grid = hemisphere_grid(radius, resolution)
    points = grid.points
    if len(points) == 0:
        raise ConfigError("the imaging grid has no points inside its region")
    delay = np.zeros(len(pos))
    if "antenna_delay" in scan:
        delay = np.asarray(to_numpy(scan["antenna_delay"].data), dtype=float)
    if domain == "time":
        dt = 1.0 / (time_oversample * freq.max())
        t_max = 1.0 / np.min(np.diff(freq)) if freq.size > 1 else 1e-8
        n_t = int(np.ceil(t_max / dt))
        x = czt_time_signals(sig, freq, 0.0, dt, n_t, window="none")
    uniform = bool(freq.size < 3 or np.allclose(np.diff(freq), freq[1] - freq[0], rtol=1e-9))

    n_p = len(points)
    if name in ("cupy", "torch"):
        per_point = 3 * 16 * len(tx) * 16 + 8 * len(pos) * 8
    else:
        # delay temporaries ([P, A, 3] differences, squares, distances) + times + outputs
        per_point = 8 * len(pos) * 8 + 48
    chunk = _chunk_size(n_p, per_point, max_memory_mb)
    out = np.empty((n_p, 3))
    capon = np.empty(n_p) if "capon" in methods else None
    if capon is not None:  # [P, C, F] aligned spectra and the [P, F, F] Gram matrices
        per_point = max(per_point, 16 * len(tx) * freq.size * 3 + 16 * freq.size**2 * 2)
        chunk = _chunk_size(n_p, per_point, max_memory_mb)
    starts = range(0, n_p, chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, total=len(starts), desc="beamform", unit="chunk")
    from brim.microwave.radar import kernels as rk

    if name in ("cupy", "torch"):  # the channel data go to the device once, not per chunk
        if name == "cupy":
            import cupy

            to_dev = cupy.asarray
        else:
            import torch

            def to_dev(a):  # torch warns on (and must not share) a read-only array: copy only those
                return torch.as_tensor(np.require(a, requirements="W"))

        d_data = to_dev(sig if domain == "frequency" else x)
        d_freq, d_tx, d_rx = to_dev(freq), to_dev(tx), to_dev(rx)
    for i0 in starts:
        p = points[i0 : i0 + chunk]
        if two_layer:
            t = two_layer_delays(p, pos, **two_layer)
        else:
            t = homogeneous_delays(p, pos, eps_value)
        t = np.ascontiguousarray(t + delay[None, :])
        if capon is not None:
            from brim.microwave.radar.adaptive import capon_power

            capon[i0 : i0 + len(p)] = capon_power(sig, freq, t, tx, rx, loading=capon_loading)
        if name in ("cupy", "torch"):
            if domain == "frequency":
                r = rk.fd_beamform_xp(d_data, d_freq, to_dev(t), d_tx, d_rx, uniform=uniform)
            else:
                r = rk.td_beamform_xp(d_data, 0.0, dt, to_dev(t), d_tx, d_rx)
            out[i0 : i0 + len(p)] = to_numpy(r)
        else:
            o = np.empty((len(p), 3))
            if domain == "frequency":
                rk.fd_beamform_numba(sig, freq, uniform, t, tx, rx, o)
            else:
                rk.td_beamform_numba(x, 0.0, dt, t, tx, rx, o)
            out[i0 : i0 + len(p)] = o

    ds = xr.Dataset(
        coords={
            "x": ("x", grid.x, {"units": "m"}),
            "y": ("y", grid.y, {"units": "m"}),
        }
    )
    for m in methods:
        img = np.full(grid.mask.shape, np.nan)
        img[grid.mask] = capon if m == "capon" else out[:, METHODS.index(m)]
        if grid.planar:
            ds[_VAR[m]] = (
                ("y", "x"),
                img[0],
                {"units": "1", "long_name": f"{m} intensity", "plane_z_m": float(grid.z[0])},
            )
        else:
            ds[_VAR[m]] = (("z", "y", "x"), img, {"units": "1", "long_name": f"{m} intensity"})
    if grid.planar:
        ds.attrs["plane_z_m"] = float(grid.z[0])  # the schema wants z as a dimension coordinate
    else:
        ds = ds.assign_coords(z=("z", grid.z, {"units": "m"}))
    ds.attrs.update(
        {
            "methods": ",".join(methods),
            "domain": domain,
            "delay_model": "two-layer straight-ray" if two_layer else "homogeneous",
            "eps_r": eps_value if not two_layer else float("nan"),
        }
    )
    if estimate is not None:
        ds.attrs.update(estimate.as_attrs())
    ds = stamp(ds, "reconstruction")
    provenance.note(n_points=n_p, backend=name)
    return ds
