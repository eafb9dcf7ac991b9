"""Readers for ultrasound RF frames and plane-wave channel data -> brim Datasets.

Two kinds of Dataset come out (specs in :mod:`brim.schema.ultrasound`):

``rf_frames``
    variable ``rf`` with dims ``(frame, depth, line)``; 0-d variables ``sampling_frequency`` (Hz),
    ``center_frequency`` (Hz), ``sound_speed`` (m/s) and ``pitch`` (m); coordinates ``depth`` and
    ``line`` in metres.
``channel_data``
    variable ``channel`` with dims ``(frame, tx, element, sample)``; coordinates ``angle`` (rad, per
    transmit), ``element_x`` (m), ``time`` (s, receive time of each sample relative to the
    plane-wave emission at the array centre); the same 0-d scalars.

Supported files: MATLAB ``.mat`` v5 (``scipy.io.loadmat``) and v7.3 (HDF5, read with ``h5py``),
the HDF5 channel layout of the pybf project (``data/rf_data/frame_k/shot_j``, ``trans_params``,
``sim_params``; also its structs saved by MATLAB), NumPy ``.npy`` (never unpickled) and brim
NetCDF.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance, schema
from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError
from brim.io import _signature, check_input_file, load_numpy

__all__ = [
    "make_channel_data",
    "make_rf_frames",
    "read_channel_pybf",
    "read_mat_variable",
    "read_rf",
    "read_channel",
]


def _scalar(value: float, units: str, long_name: str) -> xr.DataArray:
    return xr.DataArray(float(value), attrs={"units": units, "long_name": long_name})


def make_rf_frames(
    rf: ArrayLike,
    *,
    sampling_frequency: float,
    center_frequency: float,
    sound_speed: float = 1540.0,
    pitch: float,
    depth_start: float = 0.0,
    line_start: float | None = None,
    attrs: dict | None = None,
) -> xr.Dataset:
    """Wrap an RF (or IQ) array as a brim ``rf_frames`` Dataset.

    Parameters
    ----------
    rf : array, shape (depth, line) or (frame, depth, line)
        RF samples (real) or IQ samples (complex).
    sampling_frequency : float
        Axial sampling frequency in Hz.
    center_frequency : float
        Transducer centre frequency in Hz.
    sound_speed : float
        Speed of sound in m/s (1540 by default).
    pitch : float
        Lateral distance between lines in m.
    depth_start : float
        Depth of the first sample in m.
    line_start : float, optional
        Lateral position of the first line in m; by default the lines are centred on 0.

    Returns
    -------
    xarray.Dataset
        Stamped ``rf_frames``. Depth is ``depth_start + n * c / (2 fs)`` (two-way travel).

    Examples
    --------
    >>> import numpy as np
    >>> ds = make_rf_frames(np.zeros((2, 100, 8)), sampling_frequency=40e6,
    ...                     center_frequency=5e6, pitch=3e-4)
    >>> ds["rf"].dims, float(ds["depth"][1]), ds["depth"].attrs["units"]
    (('frame', 'depth', 'line'), 1.925e-05, 'm')
    """
    arr = np.asarray(rf)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise FormatError(
            f"RF data must be 2-D (depth, line) or 3-D (frame, depth, line); got shape {arr.shape}"
        )
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    for name, v in (
        ("sampling_frequency", sampling_frequency),
        ("center_frequency", center_frequency),
        ("sound_speed", sound_speed),
        ("pitch", pitch),
    ):
        if v is None or not np.isfinite(v) or v <= 0:
            raise ConfigError(f"{name} must be a positive number, got {v!r}")
    nf, nd, nl = arr.shape
    dz = sound_speed / (2.0 * sampling_frequency)
    depth = depth_start + dz * np.arange(nd)
    if line_start is None:
        line_start = -0.5 * (nl - 1) * pitch
    line = line_start + pitch * np.arange(nl)
    ds = xr.Dataset(
        {
            "rf": (("frame", "depth", "line"), arr, {"long_name": "RF signal", "units": "1"}),
            "sampling_frequency": _scalar(sampling_frequency, "Hz", "axial sampling frequency"),
            "center_frequency": _scalar(center_frequency, "Hz", "centre frequency"),
            "sound_speed": _scalar(sound_speed, "m/s", "speed of sound"),
            "pitch": _scalar(pitch, "m", "line pitch"),
        },
        coords={
            "frame": ("frame", np.arange(nf)),
            "depth": ("depth", depth, {"units": "m", "long_name": "depth"}),
            "line": ("line", line, {"units": "m", "long_name": "lateral position"}),
        },
        attrs=dict(attrs or {}),
    )
    return schema.stamp(ds, "rf_frames")


def make_channel_data(
    channel: ArrayLike,
    *,
    sampling_frequency: float,
    center_frequency: float,
    sound_speed: float,
    angles: ArrayLike,
    element_x: ArrayLike,
    t0: float = 0.0,
    attrs: dict | None = None,
) -> xr.Dataset:
    """Wrap plane-wave channel data as a brim ``channel_data`` Dataset.

    Parameters
    ----------
    channel : array, shape (frame, tx, element, sample) or (tx, element, sample)
        Received samples per transmit and element.
    sampling_frequency, center_frequency : float
        In Hz.
    sound_speed : float
        In m/s.
    angles : array, shape (tx,)
        Plane-wave steering angles in rad.
    element_x : array, shape (element,)
        Lateral element positions in m (the array lies on z = 0).
    t0 : float
        Time (s) of sample 0 relative to the moment the plane wave crosses the array centre,
        after any pulse-delay correction; sample ``n`` is received at ``t0 + n / fs``.

    Returns
    -------
    xarray.Dataset
        Stamped ``channel_data``, with ``tx_delay`` (tx, element) in s: the per-element transmit
        delays that steer each plane wave, relative to the array centre.

    Examples
    --------
    >>> import numpy as np
    >>> ch = make_channel_data(
    ...     np.zeros((2, 16, 100)), sampling_frequency=20e6, center_frequency=5e6,
    ...     sound_speed=1540.0, angles=np.radians([-5.0, 5.0]),
    ...     element_x=(np.arange(16) - 7.5) * 3e-4,
    ... )
    >>> ch.brim.kind, ch["channel"].dims, ch["channel"].shape
    ('channel_data', ('frame', 'tx', 'element', 'sample'), (1, 2, 16, 100))
    >>> f"{float(ch['tx_delay'][1, -1]) * 1e9:.1f} ns"  # last element, +5 degrees
    '127.3 ns'
    """
    arr = np.asarray(channel)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise FormatError(
            f"channel data must be (frame, tx, element, sample); got shape {arr.shape}"
        )
    angles = np.atleast_1d(np.asarray(angles, dtype=float))
    element_x = np.asarray(element_x, dtype=float)
    if angles.shape != (arr.shape[1],):
        raise FormatError(f"{angles.size} angles for {arr.shape[1]} transmits")
    if element_x.shape != (arr.shape[2],):
        raise FormatError(f"{element_x.size} element positions for {arr.shape[2]} elements")
    ns = arr.shape[3]
    ds = xr.Dataset(
        {
            "channel": (
                ("frame", "tx", "element", "sample"),
                arr,
                {"long_name": "received channel signal", "units": "1"},
            ),
            "sampling_frequency": _scalar(sampling_frequency, "Hz", "sampling frequency"),
            "center_frequency": _scalar(center_frequency, "Hz", "centre frequency"),
            "sound_speed": _scalar(sound_speed, "m/s", "speed of sound"),
            "tx_delay": (
                ("tx", "element"),
                np.sin(angles)[:, None] * element_x[None, :] / sound_speed,
                {
                    "units": "s",
                    "long_name": "transmit delay of each element, relative to the array centre "
                    "(x_e sin(angle) / c; negative = fires before the centre)",
                },
            ),
        },
        coords={
            "frame": ("frame", np.arange(arr.shape[0])),
            "angle": ("tx", angles, {"units": "rad", "long_name": "plane-wave angle"}),
            "element_x": ("element", element_x, {"units": "m", "long_name": "element position"}),
            "time": (
                "sample",
                t0 + np.arange(ns) / sampling_frequency,
                {"units": "s", "long_name": "receive time"},
            ),
        },
        attrs=dict(attrs or {}),
    )
    return schema.stamp(ds, "channel_data")


def _is_hdf5(path) -> bool:
    # check_input_file: a folder, a symlink loop or a FIFO is refused here
    return _signature(check_input_file(path)) == "hdf5"


@positional_options
def read_mat_variable(path: str | os.PathLike, *, var: str | None = None) -> np.ndarray:
    """Read one numeric variable from a MATLAB file (v5 or v7.3, with :func:`brim.io.read_mat`).

    Parameters
    ----------
    path : path-like
        The ``.mat`` file.
    var : str, optional
        Variable name; may be omitted when the file holds exactly one numeric variable, or
        one array (two or more dimensions longer than 1) beside scalars and vectors.

    Returns
    -------
    numpy.ndarray
        The variable as MATLAB shows it (v7.3 files are transposed back from HDF5's order).

    Raises
    ------
    FormatError
        The variable is missing or ambiguous (the message lists the candidates), or the file
        is not a readable MATLAB file.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.io
    >>> scipy.io.savemat("rf.mat", {"rf": np.arange(6.0).reshape(2, 3)})
    >>> rf = read_mat_variable("rf.mat", var="rf")
    >>> rf.shape, rf[1].tolist()
    ((2, 3), [3.0, 4.0, 5.0])
    >>> read_mat_variable("rf.mat").shape  # the only numeric variable: no name needed
    (2, 3)
    """
    from brim.io import read_mat

    m = read_mat(path)
    shapes = {k: v.shape for k, v in m.items() if v.dtype.kind in "iufc"}
    return m[_choose(shapes, var, Path(path))]


def _h5_damaged(path: Path, kind: str, exc: BaseException) -> str:
    """The message for an HDF5 file that h5py cannot read (truncated, damaged)."""
    detail = " ".join(str(exc).split())[:200]
    return (
        f"{path}: {kind} file is truncated or corrupt ({type(exc).__name__}: {detail}); "
        f"re-export it from its source"
    )


def _choose(shapes: dict[str, tuple[int, ...]], var: str | None, path: Path) -> str:
    """The variable to read: ``var``, else the only numeric one, else the only array among
    scalars and vectors (a Field II script saves ``rf`` beside ``fs``, ``c``, ``tstart``)."""
    names = list(shapes)
    if var is not None:
        if var not in names:
            raise FormatError(
                f"{path} has no numeric variable {var!r}; it has: {', '.join(names) or 'none'}"
            )
        return var
    arrays = [k for k, shape in shapes.items() if sum(n > 1 for n in shape) >= 2]
    if len(names) > 1 and len(arrays) == 1:
        return arrays[0]
    if len(names) != 1:
        raise FormatError(
            f"{path} holds {len(names)} numeric variables ({', '.join(names)}); choose one with "
            f"var=... (CLI: --var NAME)"
        )
    return names[0]


@provenance.step
def read_rf(
    path: str | os.PathLike,
    *,
    var: str | None = None,
    sampling_frequency: float | None = None,
    center_frequency: float | None = None,
    sound_speed: float = 1540.0,
    pitch: float | None = None,
) -> xr.Dataset:
    """Read RF frames from ``.mat`` (v5/v7.3), ``.npy`` or brim NetCDF into ``rf_frames``.

    For ``.mat`` and ``.npy`` the array must be (depth, line) or (frame, depth, line) and the
    acquisition parameters must be given (raw arrays carry none; nothing is guessed). A 3-D
    ``.mat`` array that is a frame sequence only in MATLAB's (depth, line, frame) order is
    reordered; an array that is a frame only transposed (lines x samples) is refused. A brim
    NetCDF file is opened and validated as it is.

    Parameters
    ----------
    path : path-like
        Input file.
    var : str, optional
        Variable name in a ``.mat`` file.
    sampling_frequency, center_frequency : float
        In Hz (required for raw arrays).
    sound_speed : float
        m/s.
    pitch : float
        Line pitch in m (required for raw arrays).

    Returns
    -------
    xarray.Dataset
        Kind ``rf_frames``: ``rf`` on ``(frame, depth, line)`` with ``depth`` and ``line`` in m
        and the acquisition parameters as 0-d variables with units.

    Raises
    ------
    FormatError
        The file cannot be read, its array has another number of dimensions, or it looks
        transposed (lines x samples).
    ConfigError
        A raw array without its acquisition parameters.

    Examples
    --------
    Two raw frames of 64 samples x 8 lines saved as ``.npy``; depth follows from the
    pulse-echo time, ``c / (2 fs)`` per sample:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from brim.elasto import read_rf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "frames.npy"
    >>> np.save(path, np.random.default_rng(0).normal(size=(2, 64, 8)))
    >>> ds = read_rf(path, sampling_frequency=40e6, center_frequency=5e6, pitch=0.3e-3)
    >>> ds.brim.kind, ds.rf.dims, ds.depth.attrs["units"]
    ('rf_frames', ('frame', 'depth', 'line'), 'm')
    >>> bool(np.isclose(float(ds.depth[1] - ds.depth[0]), 1540.0 / (2 * 40e6)))
    True
    """
    path = check_input_file(path, what="RF")
    suffix = path.suffix.lower()
    if suffix in (".nc", ".h5", ".hdf5", ".nc4") and not (
        suffix in (".h5", ".hdf5") and _looks_pybf(path)
    ):
        from brim.io import open as brim_open

        return schema.require_kind(brim_open(path), "rf_frames", path.name)
    if suffix in (".h5", ".hdf5"):
        raise FormatError(
            f"{path} holds plane-wave channel data (pybf layout); read it with read_channel and "
            f"beamform it first (CLI: brim elasto beamform)"
        )
    if suffix == ".mat":
        try:
            arr = read_mat_variable(path, var=var)
        except FormatError:
            if _mat_has_pybf(path):
                raise FormatError(
                    f"{path} holds plane-wave channel data (the pybf structs data, "
                    f"trans_params); read it with read_channel and beamform it first (CLI: "
                    f"brim elasto beamform)"
                ) from None
            raise
    elif suffix == ".npy":
        loaded = load_numpy(path)
        if isinstance(loaded, dict):
            raise FormatError(f"{path} is an .npz archive; pass one array as .npy")
        arr = loaded
    else:
        raise FormatError(
            f"unknown RF file type {suffix!r} for {path}; use .mat, .npy or brim NetCDF (.nc)"
        )
    if sampling_frequency is None or center_frequency is None or pitch is None:
        missing = [
            n
            for n, v in (
                ("sampling_frequency", sampling_frequency),
                ("center_frequency", center_frequency),
                ("pitch", pitch),
            )
            if v is None
        ]
        raise ConfigError(
            f"{path.name} is a raw array without acquisition parameters; give "
            f"{', '.join(missing)} (CLI: --fs, --fc, --pitch)"
        )
    attrs: dict = {}
    if arr.ndim in (2, 3) and min(sampling_frequency, sound_speed, pitch) > 0:
        arr, attrs = _orient(arr, path, dz=sound_speed / (2 * sampling_frequency), pitch=pitch)
    ds = make_rf_frames(
        arr,
        sampling_frequency=sampling_frequency,
        center_frequency=center_frequency,
        sound_speed=sound_speed,
        pitch=pitch,
        attrs=attrs,
    )
    return ds


def _plausible_frame(n_depth: int, n_line: int, dz: float, pitch: float) -> bool:
    """Whether ``n_depth`` samples x ``n_line`` lines can be an ultrasound frame: at least 8
    lines, at most 10 cm wide (the widest linear arrays span about 6 cm), at least 3 mm deep."""
    return n_line >= 8 and n_line * pitch <= 0.1 and n_depth * dz >= 3e-3


def _orient(arr: np.ndarray, path: Path, *, dz: float, pitch: float) -> tuple[np.ndarray, dict]:
    """A raw RF array in brim's (frame, depth, line) order, with the attributes saying so.

    MATLAB stacks frames last, ``rf(:, :, k)``: a 3-D ``.mat`` array that is a frame only as
    (depth, line, frame) is reordered (as (frame, depth, line) it would be frames of 2 lines,
    say, and the strain of depth rows). A frame that is plausible only transposed (Field II's
    1041 x 250 saved as 250 x 1041: 4.8 mm deep, 208 mm wide) is refused rather than turned:
    a file exported lines-first may hold other surprises its author should look at.
    """
    attrs = {}
    if path.suffix.lower() == ".mat" and arr.ndim == 3:
        a, b, c = arr.shape
        if _plausible_frame(a, b, dz, pitch) and not _plausible_frame(b, c, dz, pitch):
            arr = np.moveaxis(arr, -1, 0)
            attrs["source_order"] = "(depth, line, frame), MATLAB's rf(:, :, k); frames moved first"
    nd, nl = arr.shape[-2:]
    if not _plausible_frame(nd, nl, dz, pitch) and _plausible_frame(nl, nd, dz, pitch):
        raise FormatError(
            f"{path.name}: as {nd} samples x {nl} lines the frame would be {nd * dz * 1e3:.1f} mm "
            f"deep and {nl * pitch * 1e3:.0f} mm wide; the array looks transposed (lines x "
            f"samples): store it as samples x lines (MATLAB: rf = rf.')"
        )
    return arr, attrs


def _looks_pybf(path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "data/rf_data" in f and "trans_params" in f
    except OSError:
        return False


# The entries read_channel_pybf cannot do without; pybf's own reader also needs
# trans_params/bandwidth, x_width, y_* and data/fps, which the beamforming here does not use.
_PYBF_REQUIRED = (
    "data/rf_data",
    "data/f_sampling",
    "data/tx_mode",
    "trans_params/x_num_of_elements",
    "trans_params/x_pitch",
    "trans_params/f_central",
)


def _h5_scalar(f, key: str) -> float:
    return float(np.ravel(f[key][()])[0])


def _pybf_frame(rf_data, frame: str, n_el: int, path: Path) -> tuple[np.ndarray, str]:
    """The shots of one frame as (shot, element, sample), and how the file stored them.

    pybf writes a shot as (element, sample); a shot saved as (sample, element) (MATLAB's and
    Field II's samples x elements order, or a v7.3 save of an (element, sample) matrix) is
    turned back: ``x_num_of_elements`` says which axis holds the elements, so nothing is
    guessed. An array with neither axis of that length is refused.
    """
    g = rf_data[frame]
    shots = _numbered(g, "shot")
    if not shots:
        raise FormatError(f"{path}: data/rf_data/{frame} holds no shots (shot_1, shot_2, ...)")
    out: list[np.ndarray] = []
    note = ""
    for s in shots:
        a = np.asarray(g[s][()])
        if a.ndim == 2 and a.shape[0] != n_el and a.shape[1] == n_el:
            a = a.T
            note = (
                f"(sample, element) in the file: {n_el} elements on the second axis; turned to "
                f"(element, sample)"
            )
        if a.ndim != 2 or a.shape[0] != n_el:
            raise FormatError(
                f"{path}: data/rf_data/{frame}/{s} has shape {a.shape}; a shot is (element, "
                f"sample) with trans_params/x_num_of_elements = {n_el} elements"
            )
        if out and a.shape != out[0].shape:
            raise FormatError(
                f"{path}: data/rf_data/{frame}/{s} has shape {a.shape} but {shots[0]} has "
                f"{out[0].shape}; every shot needs the same number of samples"
            )
        if a.dtype.kind not in "if":
            raise FormatError(
                f"{path}: data/rf_data/{frame}/{s} holds {a.dtype} samples; channel data are "
                f"signed RF (an echo swings both ways): "
                + (
                    "subtract the ADC offset (2**15 for 16-bit offset binary) and store int16"
                    if a.dtype.kind == "u"
                    else "IQ or other samples are not read: store the real RF"
                )
            )
        out.append(a)
    return np.stack(out), note


def _numbered(group, stem: str) -> list[str]:
    """The ``<stem>_<k>`` members of a group in the order of k; other entries (notes, time
    stamps that some exports add) are not data and are left alone."""
    import re

    found = {int(m[1]): k for k in group if (m := re.fullmatch(rf"{stem}_(\d+)", k))}
    return [found[k] for k in sorted(found)]


def _tx_mode(group, path) -> str:
    """The one entry of ``data/tx_mode``: the only one, or the only ``PW_*`` among several."""
    keys = list(group)
    pw = [k for k in keys if k.startswith("PW")]
    if len(keys) == 1 or len(pw) == 1:
        return keys[0] if len(keys) == 1 else pw[0]
    raise FormatError(
        f"{path}: data/tx_mode holds {len(keys)} transmit modes ({', '.join(keys) or 'none'}); "
        f"the pybf layout has one, PW_<count>_<max degrees> with the plane-wave angles in rad"
    )


def _time_shift(f, path) -> float:
    """Seconds from the emission to sample 0, negated (``time = n / fs - shift``).

    ``data/correction_time_shift`` when stored; else, as pybf's own reader does for measured
    data, ``hardware_params/correction_time - hardware_params/start_time`` (pybf converts a
    delay ``t`` to the sample ``(t - start_time + correction_time) fs``); else computed from
    the simulation parameters (:func:`_pulse_shift`).
    """
    if "data/correction_time_shift" in f:
        return _h5_scalar(f, "data/correction_time_shift")
    hw = ("hardware_params/correction_time", "hardware_params/start_time")
    if all(k in f for k in hw):
        return _h5_scalar(f, hw[0]) - _h5_scalar(f, hw[1])
    return _pulse_shift(f, path)


def _check_pybf_units(path: Path, **values: float) -> None:
    """Refuse a sampling frequency, centre frequency or pitch outside brim's plausible ranges
    (those of the ``rf_frames`` and ``channel_data`` specs), naming the likely unit slip:
    the pybf layout stores Hz and m, and 20 (MHz) or 0.23 (mm) would be read as 20 Hz or
    0.23 m and only fail, unexplained, after beamforming."""
    from brim.schema.ultrasound import CHANNEL_DATA, RF_FRAMES

    ranges = {r.name: r for r in (*RF_FRAMES.ranges, *CHANNEL_DATA.ranges)}
    where = {
        "sampling_frequency": ("data/f_sampling", "Hz", {"MHz": 1e6, "kHz": 1e3}),
        "center_frequency": ("trans_params/f_central", "Hz", {"MHz": 1e6, "kHz": 1e3}),
        "pitch": ("trans_params/x_pitch", "m", {"mm": 1e-3, "um": 1e-6}),
    }
    for name, value in values.items():
        r = ranges[name]
        if r.lo <= value <= r.hi:
            continue
        key, unit, slips = where[name]
        hint = next(
            (
                f": is it in {u}? ({value:g} {u} = {value * k:g} {unit})"
                for u, k in slips.items()
                if r.lo <= value * k <= r.hi
            ),
            "",
        )
        raise FormatError(
            f"{path}: {key} = {value:g} {unit} is outside [{r.lo:g}, {r.hi:g}] {unit} ({r.why}); "
            f"the pybf layout stores {unit}{hint}"
        )


def _check_tx_name(path: Path, key: str, angles: np.ndarray) -> None:
    """Check the angles against pybf's name of the transmit mode, ``PW_<count>_<max deg>``.

    pybf's own beamformer steers by that name alone (``linspace(-max, max, count)`` degrees)
    and never reads the stored values; brim reads the values, so the two must agree, within
    0.01 degree (a tilt that moves the wavefront by 8 um across a 44 mm aperture, under a
    thirtieth of a 5 MHz wavelength). Angles stored in degrees are named as such.
    """
    import re

    m = re.fullmatch(r"PW_(\d+)_(\d+(?:\.\d+)?)", key)
    if m is None:
        return
    count, top = int(m[1]), float(m[2])
    named = np.linspace(-top, top, count)
    if named.shape == angles.shape:
        if np.allclose(angles, np.radians(named), rtol=0, atol=np.radians(0.01)):
            return
        if top > 0 and np.allclose(angles, named, rtol=0, atol=0.01):
            raise FormatError(
                f"{path}: data/tx_mode/{key} stores {np.round(angles, 4).tolist()}, the angles "
                f"its name gives ({-top:g} to {top:g} degrees) in degrees; the pybf layout "
                f"stores radians ({top:g} degrees = {np.radians(top):.3g}), are these degrees?"
            )
    raise FormatError(
        f"{path}: data/tx_mode/{key} names {count} plane waves from {-top:g} to {top:g} "
        f"degrees (pybf steers by this name) but stores "
        f"{np.round(np.degrees(angles), 3).tolist()} degrees; correct the name or the angles"
    )


@provenance.step
def read_channel_pybf(path: str | os.PathLike, *, sound_speed: float = 1540.0) -> xr.Dataset:
    """Read plane-wave channel data in the pybf HDF5 layout.

    Layout (Field II simulations of the pybf project, CC-BY-4.0): ``data/rf_data/frame_k/shot_j``
    (element, sample) int16; ``data/f_sampling``; ``data/tx_mode/PW_*`` (angles, rad);
    ``data/correction_time_shift`` (s, delay of the two-way pulse peak); ``trans_params/*``
    (``x_pitch``, ``x_num_of_elements``, ``f_central``); ``sim_params/*`` (``start_time`` of
    the recording, ``scatters_data`` (3, N) scatterer positions in m).

    The time axis is ``n / fs - correction_time_shift``: in this layout the correction already
    includes the recording start time (``correction_time_shift = pulse_lag - start_time``, where
    ``pulse_lag`` = 2.59 us is the envelope peak of excitation * impulse * impulse in
    ``sim_params``), so time 0 is the emission and echo peaks sit at ``2 z / c``.
    A file without ``data/correction_time_shift`` gets it computed from those ``sim_params``
    (or, lacking them too, time 0 at the first sample, with a warning).
    The scatterer positions, when present, are kept as ``scatterer_x``/``scatterer_z`` (m)
    for validation.

    Stored otherwise, the same data read the same: shots saved (sample, element) are turned
    (``x_num_of_elements`` names the element axis), any numeric type, the structs saved from
    MATLAB (``.mat``, v5/v7 or v7.3), pybf's ``hardware_params/correction_time`` and
    ``start_time`` of measured data in place of ``correction_time_shift``, scatterers as
    Field II's (N, 3).

    Parameters
    ----------
    path : path-like
        The pybf HDF5 file.
    sound_speed : float
        Speed of sound in m/s (the layout does not store it).

    Returns
    -------
    xarray.Dataset
        ``channel_data`` (frame, tx, element, time), all transmits and frames of the file.

    Raises
    ------
    FormatError
        The file is not in the pybf layout (the message lists the entries it lacks) or is
        damaged; its angles do not match its shots or its ``PW_<count>_<max degrees>`` name,
        or are in degrees; a sampling frequency, centre frequency or pitch is outside the
        plausible range (in MHz or mm, say); samples are NaN; frames or shots differ in shape.

    Examples
    --------
    >>> import h5py
    >>> import numpy as np
    >>> with h5py.File("pw.h5", "w") as f:  # one frame, one 0-degree shot, 8 elements
    ...     f["data/f_sampling"] = 20e6
    ...     f["data/correction_time_shift"] = 1e-6  # s; pulse peak after the recording start
    ...     f["data/tx_mode/PW_angles"] = [0.0]
    ...     f["data/rf_data/frame_1/shot_1"] = np.zeros((8, 50), np.int16)
    ...     f["trans_params/x_num_of_elements"] = 8
    ...     f["trans_params/x_pitch"] = 3e-4
    ...     f["trans_params/f_central"] = 5e6
    >>> ds = read_channel_pybf("pw.h5")
    >>> ds.brim.kind, ds["channel"].shape, float(ds["pitch"]), ds["pitch"].attrs["units"]
    ('channel_data', (1, 1, 8, 50), 0.0003, 'm')
    """
    import contextlib

    import h5py

    path = check_input_file(path, what="channel data")
    from brim.limits import check_hdf5

    source: contextlib.AbstractContextManager
    if path.suffix.lower() == ".mat" and not _is_hdf5(path):
        source = contextlib.nullcontext(_MatTree.read(path))  # MATLAB v5/v7: the same structs
    else:
        check_hdf5(path)  # declared sizes and the HDF5 heaps, before h5py reads anything
        try:
            source = h5py.File(path, "r")
        except OSError as exc:
            raise FormatError(f"{path} is not an HDF5 file: {exc}") from exc
    with source as f:
        missing = [k for k in _PYBF_REQUIRED if k not in f]
        if missing:
            raise FormatError(
                f"{path} is not a complete pybf channel file: it lacks {', '.join(missing)} "
                f"(the layout needs {', '.join(_PYBF_REQUIRED)}; trans_params/bandwidth, "
                f"x_width, y_* and sim_params are optional)"
            )
        try:
            fs = _h5_scalar(f, "data/f_sampling")
            tx_group = f["data/tx_mode"]
            tx_key = _tx_mode(tx_group, path)
            angles = np.ravel(tx_group[tx_key][()]).astype(float)
            n_el = int(_h5_scalar(f, "trans_params/x_num_of_elements"))
            pitch = _h5_scalar(f, "trans_params/x_pitch")
            fc = _h5_scalar(f, "trans_params/f_central")
            frames = _numbered(f["data/rf_data"], "frame")
            if not frames:
                raise FormatError(f"{path}: data/rf_data holds no frame_1, frame_2, ...")
            data = [_pybf_frame(f["data/rf_data"], fr, n_el, path) for fr in frames]
            shift = _time_shift(f, path)
            scat = f["sim_params/scatters_data"][()] if "sim_params/scatters_data" in f else None
        except FormatError:
            raise
        except (OSError, RuntimeError, TypeError) as exc:  # truncated / damaged data blocks
            raise FormatError(_h5_damaged(path, "pybf channel-data (HDF5)", exc)) from None
        except (KeyError, StopIteration, ValueError, IndexError) as exc:
            raise FormatError(
                f"{path} does not follow the pybf channel layout (data/rf_data/frame_k/shot_j, "
                f"data/f_sampling, data/tx_mode, trans_params/*): {exc}"
            ) from exc
    for fr, (a, _) in zip(frames[1:], data[1:]):
        if a.shape != data[0][0].shape:
            raise FormatError(
                f"{path}: data/rf_data/{fr} holds {a.shape[0]} shots of {a.shape[1:]} but "
                f"{frames[0]} holds {data[0][0].shape[0]} of {data[0][0].shape[1:]}; every "
                f"frame needs the same shots"
            )
    arr = np.stack([a for a, _ in data])
    attrs = {"source_order": data[0][1]} if data[0][1] else {}
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        fr, sh = np.argwhere(bad)[0][:2]
        raise FormatError(
            f"{path}: the channel data hold {int(bad.sum())} NaN or infinite samples (first in "
            f"data/rf_data/{frames[fr]}/shot_{sh + 1}); a receive channel records numbers, so "
            f"these are gaps of the export: re-export the file, or zero them if the channel "
            f"was off"
        )
    arr = arr.astype(np.float32)
    _check_pybf_units(path, sampling_frequency=fs, center_frequency=fc, pitch=pitch)
    if angles.size != arr.shape[1]:
        raise FormatError(
            f"{path}: data/tx_mode/{tx_key} lists {angles.size} plane-wave angles but "
            f"data/rf_data/{frames[0]} holds {arr.shape[1]} shots"
        )
    if np.abs(angles).max(initial=0.0) > np.pi / 2:
        raise FormatError(
            f"{path}: plane-wave angles up to {np.abs(angles).max():g} in data/tx_mode/{tx_key}; "
            f"the pybf layout stores radians (12 degrees = 0.209), are these degrees?"
        )
    _check_tx_name(path, tx_key, angles)
    # Plane-wave compounding steers within a few tens of degrees: an element a wavelength
    # wide radiates 12 dB down at 45 degrees (soft-baffle directivity sinc(w sin(a) / lambda)
    # cos(a)), so no sequence goes further. 1 stored for 1 degree would be read as 57 degrees.
    if np.abs(angles).max(initial=0.0) > np.radians(45.0):
        raise FormatError(
            f"{path}: plane-wave angles up to {np.degrees(np.abs(angles).max()):.1f} degrees "
            f"({np.abs(angles).max():g} rad) in data/tx_mode/{tx_key}; plane-wave sequences "
            f"steer within 45 degrees and the pybf layout stores radians: are these degrees?"
        )
    element_x = (np.arange(n_el) - 0.5 * (n_el - 1)) * pitch
    ds = make_channel_data(
        arr,
        sampling_frequency=fs,
        center_frequency=fc,
        sound_speed=sound_speed,
        angles=angles,
        element_x=element_x,
        t0=-shift,
        attrs=attrs,
    )
    ds["pitch"] = _scalar(pitch, "m", "element pitch")
    scat = _scatterers(scat, path)
    if scat is not None and not np.isfinite(np.asarray(scat, dtype=float)).all():
        raise FormatError(f"{path}: sim_params/scatters_data holds NaN or infinite positions")
    if scat is not None:
        ds = ds.assign(
            scatterer_x=("scatterer", scat[0], {"units": "m"}),
            scatterer_z=("scatterer", scat[2], {"units": "m"}),
        )
    return ds


def _scatterers(scat, path) -> np.ndarray | None:
    """``sim_params/scatters_data`` as (3, N): pybf stores x, y, z rows; Field II's
    ``positions`` and a MATLAB v7.3 save of them are (N, 3), turned here. Another shape is
    dropped with a warning (the positions only serve validation; the channel data are read)."""
    if scat is None:
        return None
    scat = np.asarray(scat)
    if scat.ndim == 2 and scat.shape[0] != 3 and scat.shape[1] == 3:
        return scat.T
    if scat.ndim != 2 or scat.shape[0] != 3:
        from brim.errors import warn

        warn(
            f"{Path(path).name}: sim_params/scatters_data has shape {scat.shape}, not (3, N) "
            f"x, y, z rows; the scatterer positions are left out"
        )
        return None
    return scat


def _pulse_shift(f, path) -> float:
    """``correction_time_shift`` of a pybf file that lacks it: the envelope peak of excitation *
    impulse response * impulse response (two-way pulse) minus ``sim_params/start_time``.

    On the pybf test file this gives 3.658 us against the stored 3.6625 us (under a tenth of
    a 20 MHz sample). Without those ``sim_params`` the time axis starts at the first recorded
    sample, with a warning: echoes then sit deeper (by 2.8 mm on that file).
    """
    from scipy.signal import hilbert

    from brim.errors import warn

    need = ("excitation", "electroacoustic_impulse_response", "f_sim_hz", "start_time")
    if not all(f"sim_params/{k}" in f for k in need):
        warn(
            f"{Path(path).name}: no data/correction_time_shift nor the sim_params to compute it "
            f"({', '.join(need)}) nor hardware_params/correction_time and start_time; time 0 "
            f"is the first recorded sample, so echoes sit deeper by c x the missing shift / 2 "
            f"(2.8 mm on pybf's own test file)"
        )
        return 0.0
    sp = f["sim_params"]
    ex, ir = (np.ravel(sp[k][()]).astype(float) for k in need[:2])
    fs_sim = float(np.ravel(sp["f_sim_hz"][()])[0])
    pulse = np.convolve(np.convolve(ex, ir), ir)
    lag = float(np.argmax(np.abs(hilbert(pulse)))) / fs_sim
    return lag - float(np.ravel(sp["start_time"][()])[0])


_NO_MAT = (
    "Channel data are read from the pybf layout (in MATLAB, the structs data and "
    "trans_params saved together) or from arrays with brim.elasto.make_channel_data"
)


class _MatTree:
    """The structs of a MATLAB v5/v7 file seen as h5py sees the pybf layout: ``"a/b" in t``,
    ``t["a/b"]`` (a struct as another tree, an array as itself, so ``[()]`` reads it),
    iteration over the field names."""

    def __init__(self, fields: dict):
        self._fields = fields

    @classmethod
    def read(cls, path) -> _MatTree:
        from brim.io import read_mat

        return cls({k: cls._node(v) for k, v in read_mat(path).items()})

    @classmethod
    def _node(cls, v):
        v = np.asarray(v)
        if v.dtype.names and v.size == 1:  # a scalar struct (read_mat: a structured array)
            rec = v.reshape(-1)[0]
            return cls({n: cls._node(rec[n]) for n in v.dtype.names})
        return v

    def _get(self, key: str):
        node: object = self
        for part in key.strip("/").split("/"):
            if not isinstance(node, _MatTree) or part not in node._fields:
                raise KeyError(f"no field {key.replace('/', '.')!r}")
            node = node._fields[part]
        return node

    def __contains__(self, key: str) -> bool:
        try:
            self._get(key)
        except KeyError:
            return False
        return True

    def __getitem__(self, key: str):
        return self._get(key)

    def __iter__(self):
        return iter(sorted(self._fields))


def _mat_has_pybf(path) -> bool:
    """Whether a ``.mat`` file holds the pybf structs (v7.3: HDF5 groups; v5: structs)."""
    if _is_hdf5(path):
        return _hdf5_kind(path)[0]
    try:
        tree = _MatTree.read(path)
    except FormatError:
        return False
    return any(k in tree for k in ("data/rf_data", "data/tx_mode", "trans_params"))


def _hdf5_kind(path) -> tuple[bool, bool, list[str]]:
    """Whether an HDF5 file has any pybf entry, whether it is a brim file, its top entries."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            pybf = any(k in f for k in ("data/rf_data", "data/tx_mode", "trans_params"))
            return pybf, "brim_schema" in f.attrs, sorted(f)
    except OSError:
        return False, True, []  # brim.io.open says what is wrong with it


def read_channel(path: str | os.PathLike, **kw) -> xr.Dataset:
    """Read channel data: the pybf HDF5 layout or a brim ``channel_data`` NetCDF file.

    Parameters
    ----------
    path : path-like
        A pybf HDF5 file (:func:`read_channel_pybf`), the pybf structs ``data``,
        ``trans_params`` (and ``sim_params``) saved by MATLAB in a ``.mat`` file, or a brim
        file of kind ``channel_data``.
    **kw
        Options of :func:`read_channel_pybf` (e.g. ``sound_speed``).

    Returns
    -------
    xarray.Dataset
        ``channel_data``.

    Raises
    ------
    FormatError
        The file holds neither (the message names what it holds and what is missing).

    Examples
    --------
    A brim ``channel_data`` file:

    >>> import numpy as np
    >>> import brim
    >>> ch = make_channel_data(
    ...     np.zeros((1, 8, 50)), sampling_frequency=20e6, center_frequency=5e6,
    ...     sound_speed=1540.0, angles=[0.0], element_x=(np.arange(8) - 3.5) * 3e-4,
    ... )
    >>> _ = brim.save(ch, "channels.nc")
    >>> read_channel("channels.nc")["channel"].shape
    (1, 1, 8, 50)

    A pybf HDF5 file (:func:`read_channel_pybf`):

    >>> import h5py
    >>> import numpy as np
    >>> with h5py.File("pw.h5", "w") as f:  # one frame, one 0-degree shot, 8 elements
    ...     f["data/f_sampling"] = 20e6
    ...     f["data/correction_time_shift"] = 1e-6  # s; pulse peak after the recording start
    ...     f["data/tx_mode/PW_angles"] = [0.0]
    ...     f["data/rf_data/frame_1/shot_1"] = np.zeros((8, 50), np.int16)
    ...     f["trans_params/x_num_of_elements"] = 8
    ...     f["trans_params/x_pitch"] = 3e-4
    ...     f["trans_params/f_central"] = 5e6
    >>> read_channel("pw.h5", sound_speed=1500.0)["sound_speed"].item()
    1500.0
    """
    path = check_input_file(path, what="channel data")
    if _is_hdf5(path):
        pybf, brim_file, top = _hdf5_kind(path)
        if pybf:  # a partial pybf file is refused there, naming what it lacks
            return read_channel_pybf(path, **kw)
        if not brim_file:
            raise FormatError(
                f"{path} is HDF5 but neither the pybf channel layout ({', '.join(_PYBF_REQUIRED)}"
                f") nor a brim channel_data file; it holds {', '.join(top[:8]) or 'nothing'}. "
                + _NO_MAT
            )
    elif path.suffix.lower() == ".mat":
        if _mat_has_pybf(path):
            return read_channel_pybf(path, **kw)
        raise FormatError(
            f"{path} is a MATLAB file without the pybf structs (data.rf_data.frame_k.shot_j, "
            f"data.f_sampling, data.tx_mode, trans_params); it holds "
            f"{', '.join(list(_MatTree.read(path))[:8]) or 'nothing'}. " + _NO_MAT
        )
    from brim.io import open as brim_open

    return schema.require_kind(brim_open(path), "channel_data", path.name)
