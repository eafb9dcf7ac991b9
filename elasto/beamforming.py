"""Plane-wave delay-and-sum beamforming with coherent compounding; envelope and B-mode.

References
----------
G. Montaldo, M. Tanter, J. Bercoff, N. Benech, M. Fink, "Coherent plane-wave compounding for
very high frame rate ultrasonography and transient elastography", IEEE TUFFC 56(3):489-506, 2009.
J. A. Jensen, "Field: A program for simulating ultrasound systems", Med. Biol. Eng. Comput.
34:351-353, 1996 (the simulator of the validation data).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy.signal import hilbert

from brim import provenance, schema
from brim.backend import resolve_backend, to_numpy
from brim.errors import ConfigError, check_positive, check_vector

from ._checks import image_var
from .beamform_kernels import das_cupy, das_numba, das_numpy
from .readers import make_rf_frames

__all__ = ["beamform", "bmode", "envelope", "iq_demodulate"]


@provenance.step
def beamform(
    channel: xr.Dataset,
    *,
    depths: ArrayLike | None = None,
    lines: ArrayLike | None = None,
    fnumber: float = 1.5,
    output: str = "rf",
    backend: str | None = None,
    progress: bool = False,
) -> xr.Dataset:
    """Delay-and-sum beamform plane-wave channel data and compound all transmits coherently.

    Parameters
    ----------
    channel : xarray.Dataset
        ``channel_data`` Dataset (see :func:`brim.elasto.readers.make_channel_data`); its
        ``time`` coordinate (s) gives the receive time of every sample. Elements must be
        uniformly spaced on z = 0.
    depths : array, optional
        Image depths in m; default from 1 mm to the deepest recorded depth, sampled at
        ``c / (2 fs)``.
    lines : array, optional
        Lateral line positions in m; default the element positions.
    fnumber : float
        Receive f-number F: the aperture at depth z is z / F wide (Hann weights).
    output : {"rf", "iq"}
        Real RF lines, or complex IQ (baseband, demodulated at the centre frequency).
    backend : {None, "numpy", "cupy"}
        ``"numpy"`` runs the Numba kernel (parallel CPU); ``"cupy"`` a CUDA kernel.

    Returns
    -------
    xarray.Dataset
        ``rf_frames`` with the same number of frames, ``depth`` (m) and ``line`` (m) coords.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.elasto import make_channel_data
    >>> ch = make_channel_data(
    ...     np.random.default_rng(0).standard_normal((1, 16, 400)), sampling_frequency=20e6,
    ...     center_frequency=5e6, sound_speed=1540.0, angles=np.array([0.0]),
    ...     element_x=(np.arange(16) - 7.5) * 3e-4)
    >>> rf = beamform(ch, depths=np.linspace(2e-3, 10e-3, 64), lines=np.linspace(-2e-3, 2e-3, 8))
    >>> rf["rf"].dims, rf["rf"].shape
    (('frame', 'depth', 'line'), (1, 64, 8))
    """
    schema.expect_dataset(channel, "channel_data")
    schema.validate(channel, "channel_data", check_values=False)
    fnumber = check_positive("fnumber", fnumber)
    if output not in ("rf", "iq"):
        raise ConfigError(f"output must be 'rf' or 'iq', got {output!r}")
    fs = float(channel["sampling_frequency"])
    fc = float(channel["center_frequency"])
    c = float(channel["sound_speed"])
    ex = np.asarray(channel["element_x"].values, dtype=float)
    if ex.size > 1 and not np.allclose(np.diff(ex), ex[1] - ex[0], rtol=1e-6, atol=1e-12):
        raise ConfigError("beamform needs uniformly spaced elements (a linear array)")
    if ex.size > 1 and ex[1] == ex[0]:
        raise ConfigError("element_x has repeated positions (zero pitch)")
    # The kernels find the receive aperture from the pitch and assume it is positive; an array
    # numbered from its far end is flipped (the delay-and-sum is order-independent).
    flip = ex.size > 1 and ex[1] < ex[0]
    if flip:
        ex = ex[::-1].copy()
    ang = np.asarray(channel["angle"].values, dtype=float)
    if "time" in channel.coords:
        t0 = float(channel["time"].values[0])
    else:
        t0 = 0.0
    ns = channel.sizes["sample"]
    if depths is None:
        zmax = (t0 + (ns - 1) / fs) * c / 2.0
        depths = np.arange(1e-3, zmax, c / (2 * fs))
    zs: np.ndarray = check_vector("depths", depths, increasing=True)
    if zs[0] < 0:
        raise ConfigError(f"depths must be >= 0 m, got {zs[0]}")
    xs: np.ndarray = ex.copy() if lines is None else check_vector("lines", lines, increasing=True)
    name = resolve_backend(backend)
    data = np.asarray(channel["channel"].values)
    if data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float32)
    if flip:
        data = data[:, :, ::-1]
    frames = []
    it = range(data.shape[0])
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="beamform", unit="frame")
    for f in it:
        if name == "cupy":
            img = to_numpy(das_cupy(data[f], ang, ex, xs, zs, fs, c, t0, fnumber))
        else:
            img = das_numba(np.ascontiguousarray(data[f]), ang, ex, xs, zs, fs, c, t0, fnumber)
        frames.append(img)
    rf = np.stack(frames)
    dz = zs[1] - zs[0] if zs.size > 1 else c / (2 * fs)
    fs_axial = c / (2 * dz)
    pitch = float(xs[1] - xs[0]) if xs.size > 1 else float(ex[1] - ex[0])
    if output == "iq":
        rf = iq_demodulate(rf, fs_axial, fc, axis=1)
    ds = make_rf_frames(
        rf,
        sampling_frequency=fs_axial,
        center_frequency=fc,
        sound_speed=c,
        pitch=pitch,
        depth_start=float(zs[0]),
        line_start=float(xs[0]),
    )
    ds = ds.assign_coords(depth=("depth", zs, {"units": "m"}))
    ds = ds.assign_coords(line=("line", xs, {"units": "m"}))
    provenance.note(backend=name, n_tx=int(ang.size))
    return ds


def iq_demodulate(rf: ArrayLike, fs: float, fc: float, *, axis: int = -2) -> np.ndarray:
    """Complex baseband IQ from real RF: analytic signal times exp(-j 2 pi fc t).

    The analytic signal is :func:`scipy.signal.hilbert` along ``axis``.

    Parameters
    ----------
    rf : array_like
        Real RF, sampled at ``fs`` along ``axis``.
    fs : float
        Sampling frequency in Hz.
    fc : float
        Demodulation frequency in Hz.
    axis : int
        The time (depth) axis of ``rf``.

    Returns
    -------
    numpy.ndarray
        Complex IQ of the shape of ``rf``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(256) / 20e6
    >>> iq = iq_demodulate(np.cos(2 * np.pi * 5e6 * t), 20e6, 5e6, axis=0)
    >>> bool(np.allclose(iq[64:192], 1.0, atol=1e-2))
    True
    """
    rf = np.asarray(rf)
    ana = hilbert(rf, axis=axis)
    n = rf.shape[axis]
    shape = [1] * rf.ndim
    shape[axis] = n
    ph = np.exp(-2j * np.pi * fc * np.arange(n) / fs).reshape(shape)
    return ana * ph


def _rf(rf: xr.Dataset) -> xr.DataArray:
    """The ``rf`` of an rf_frames Dataset on (frame, depth, line), or SchemaError."""
    return image_var(
        rf, "rf", ("frame", "depth", "line"), arg="rf", kind="rf_frames",
        builder="brim.elasto.make_rf_frames",
    )  # fmt: skip


def envelope(rf: xr.Dataset, *, axis: int = -2) -> xr.Dataset:
    """Envelope (magnitude of the analytic signal) of RF, or magnitude of IQ.

    The analytic signal is :func:`scipy.signal.hilbert` along depth.

    Parameters
    ----------
    rf : xarray.Dataset
        ``rf_frames`` with real RF or complex IQ ``rf`` on (frame, depth, line).
    axis : int
        Deprecated: the depth axis of an array ``rf``. Arrays are accepted for one more release
        with a :class:`DeprecationWarning` (and return an array); use
        ``np.abs(scipy.signal.hilbert(x, axis=axis))``.

    Returns
    -------
    xarray.Dataset
        ``rf`` with ``envelope`` (frame, depth, line) added.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.elasto import make_rf_frames
    >>> t = np.arange(128) / 20e6
    >>> rf = np.cos(2 * np.pi * 5e6 * t)[None, :, None] * np.ones((1, 1, 4))
    >>> ds = make_rf_frames(rf, sampling_frequency=20e6, center_frequency=5e6, pitch=3e-4)
    >>> env = envelope(ds)["envelope"]
    >>> env.dims, bool(np.allclose(env.values[0, 32:96], 1.0, atol=1e-2))
    (('frame', 'depth', 'line'), True)
    """
    schema.expect_dataset(rf, "rf_frames", arrays=True)  # a path is told to read the file
    if not isinstance(rf, xr.Dataset):
        import warnings

        warnings.warn(
            "envelope() of an array is deprecated and will be removed: pass an rf_frames "
            "Dataset, or use np.abs(scipy.signal.hilbert(x, axis=axis)) for an array",
            DeprecationWarning,
            stacklevel=2,
        )
        arr = np.asarray(rf)
        return np.abs(arr) if np.iscomplexobj(arr) else np.abs(hilbert(arr, axis=axis))
    arr = _rf(rf).values
    env = np.abs(arr) if np.iscomplexobj(arr) else np.abs(hilbert(arr, axis=1))
    return rf.assign(envelope=(("frame", "depth", "line"), env, {"units": "1"}))


def bmode(rf: xr.Dataset, *, dynamic_range: float = 60.0) -> xr.DataArray:
    """Log-compressed B-mode image in dB (0 dB at the maximum, clipped at ``-dynamic_range``).

    Parameters
    ----------
    rf : xarray.Dataset
        ``rf_frames`` with real RF or complex IQ (see :func:`envelope`).
    dynamic_range : float
        Displayed range in dB; lower values are clipped to ``-dynamic_range``.

    Returns
    -------
    xarray.DataArray
        ``bmode`` with dims (frame, depth, line), units ``dB``.

    Examples
    --------
    >>> import brim.data
    >>> img = bmode(brim.data.sample("elasto_phantom_pair"), dynamic_range=50.0)
    >>> img.dims, float(img.max()), float(img.min()) >= -50.0
    (('frame', 'depth', 'line'), 0.0, True)
    """
    if dynamic_range <= 0:
        raise ConfigError("dynamic_range must be positive (dB)")
    _rf(rf)  # an array here is refused (envelope would return an array)
    env = envelope(rf)["envelope"].values
    ref = env.max()
    db = 20 * np.log10(np.maximum(env, ref * 1e-12) / (ref if ref > 0 else 1.0))
    db = np.maximum(db, -dynamic_range)
    return xr.DataArray(
        db,
        dims=("frame", "depth", "line"),
        coords={"depth": rf["depth"], "line": rf["line"]},
        name="bmode",
        attrs={"units": "dB", "dynamic_range": dynamic_range},
    )


def das_reference(channel: xr.Dataset, depths, lines, *, fnumber: float = 1.5) -> np.ndarray:
    """Plain NumPy DAS of frame 0 (benchmark reference; same sum as :func:`beamform`).

    Parameters
    ----------
    channel : xarray.Dataset
        ``channel_data``.
    depths, lines : array_like
        Image depths and lines in m.
    fnumber : float
        Receive f-number.

    Returns
    -------
    numpy.ndarray (depth, line)
        Beamformed RF of frame 0, all transmits compounded.
    """
    fs = float(channel["sampling_frequency"])
    c = float(channel["sound_speed"])
    t0 = float(channel["time"].values[0])
    return das_numpy(
        np.asarray(channel["channel"].values[0], dtype=np.float64),
        np.asarray(channel["angle"].values, float),
        np.asarray(channel["element_x"].values, float),
        np.asarray(lines, float),
        np.asarray(depths, float),
        fs,
        c,
        t0,
        fnumber,
    )
