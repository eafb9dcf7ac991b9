"""A Field II-like RF simulator: point scatterers convolved with a pulse and a beam profile.

Each RF line at lateral position ``x_l`` is the sum over scatterers ``(x_s, z_s, a_s)`` of

    a_s * exp(-(x_s - x_l)**2 / (2 sigma_x**2)) * p(t - 2 z_s / c),

with the Gaussian-modulated pulse ``p(tau) = exp(-tau**2 / (2 sigma_t**2)) cos(2 pi fc tau)``
whose -6 dB fractional bandwidth is ``bandwidth`` (sigma_t = 2 sqrt(2 ln 2) / (2 pi B fc)), and
a Gaussian lateral beam of full width at half maximum ``beam_fwhm``. This is the first-order
Born (weak scattering), separable point-spread-function model used throughout elastography
simulation (e.g. Meunier & Bertrand, IEEE TUFFC 42:301, 1995; Field II: Jensen, Med. Biol. Eng.
Comput. 34:351, 1996, computes the exact spatial impulse responses instead).

Pre/post pairs: scatterers are displaced with the finite-element field of
:func:`brim.elasto.fem.solve_compression` (positions relative to the probe, which moves down by
``compression * H``), so the true strain is known.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, ResourceError

from .fem import Inclusion, interpolate_displacement, solve_compression
from .readers import make_rf_frames

__all__ = ["random_scatterers", "simulate_pair", "simulate_rf", "simulate_shear_wave_rf"]

#: Most scatterers :func:`random_scatterers` draws (0.5 m^2 at the default density, 240 MB):
#: a size given in mm where m belongs asks for billions and used to end in a MemoryError.
MAX_SCATTERERS = 10_000_000


def _pulse_sigma(fc: float, bandwidth: float) -> float:
    return 2 * np.sqrt(2 * np.log(2)) / (2 * np.pi * bandwidth * fc)


def random_scatterers(
    width: float, height: float, *, density: float = 2e7, rng=None, x0: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniformly random scatterers with Gaussian amplitudes (fully developed speckle).

    Parameters
    ----------
    width, height : float
        Region in m: x in [x0, x0 + width], z in [0, height].
    density : float
        Scatterers per m^2 (2e7 = 20 per mm^2, above the ~10 per resolution cell needed).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.
    x0 : float
        Left edge of the region in m.

    Returns
    -------
    x, z, amplitude : numpy.ndarray
        Lateral positions (m), depths (m) and standard-normal amplitudes of the scatterers.

    Examples
    --------
    >>> x, z, a = random_scatterers(1e-3, 2e-3, rng=0)
    >>> x.size  # 20 per mm^2
    40
    """
    rng = np.random.default_rng(rng)
    n = int(round(density * width * height))
    if n > MAX_SCATTERERS:
        raise ResourceError(
            f"a {width:g} m x {height:g} m region holds {n:.3g} scatterers (limit "
            f"{MAX_SCATTERERS:.0e}): width and height are in m (20 mm is 20e-3)"
        )
    x = x0 + rng.uniform(0, width, n)
    z = rng.uniform(0, height, n)
    a = rng.standard_normal(n)
    return x, z, a


def simulate_rf(
    x: ArrayLike,
    z: ArrayLike,
    amplitude: ArrayLike,
    *,
    depths: ArrayLike,
    lines: ArrayLike,
    sampling_frequency: float = 20e6,
    center_frequency: float = 5e6,
    bandwidth: float = 0.6,
    beam_fwhm: float = 0.5e-3,
    sound_speed: float = 1540.0,
) -> np.ndarray:
    """RF lines (depth, line) of point scatterers; see the module docstring for the model.

    Parameters
    ----------
    x, z, amplitude : arrays
        Scatterer lateral positions (m), depths (m) and reflectivities.
    depths : array
        Sample depths in m (time 2 z / c).
    lines : array
        Line positions in m.
    sampling_frequency, center_frequency : float
        Hz (used to size the pulse support; samples are placed at ``depths``).
    bandwidth : float
        -6 dB fractional bandwidth.
    beam_fwhm : float
        Lateral beam width (FWHM) in m.
    sound_speed : float
        Speed of sound in m/s.

    Returns
    -------
    numpy.ndarray
        RF (len(depths), len(lines)).

    Examples
    --------
    >>> import numpy as np
    >>> depths = np.arange(256) * 1540 / 40e6
    >>> rf = simulate_rf([0.0], [2e-3], [1.0], depths=depths, lines=np.array([0.0, 1e-3]))
    >>> rf.shape, int(np.argmax(np.abs(rf[:, 0])) * 1540 / 40e6 * 1e4)  # the echo at 2 mm
    ((256, 2), 20)
    """
    if bandwidth <= 0 or beam_fwhm <= 0 or center_frequency <= 0:
        raise ConfigError("bandwidth, beam_fwhm and center_frequency must be positive")
    x = np.asarray(x, float)
    z = np.asarray(z, float)
    amp = np.asarray(amplitude, float)
    depths = np.asarray(depths, float)
    lines = np.asarray(lines, float)
    c = sound_speed
    sig_t = _pulse_sigma(center_frequency, bandwidth)
    sig_x = beam_fwhm / (2 * np.sqrt(2 * np.log(2)))
    t_samples = 2 * depths / c
    dt = t_samples[1] - t_samples[0]
    half = int(np.ceil(4 * sig_t / dt)) + 1
    nd = depths.size
    out = np.zeros((nd, lines.size))
    offs = np.arange(-half, half + 1)
    for j, xl in enumerate(lines):
        sel = np.abs(x - xl) < 3.5 * sig_x
        if not np.any(sel):
            continue
        ts = 2 * z[sel] / c
        w = amp[sel] * np.exp(-((x[sel] - xl) ** 2) / (2 * sig_x**2))
        i0 = np.rint((ts - t_samples[0]) / dt).astype(np.int64)
        idx = i0[:, None] + offs[None, :]
        tau = t_samples[0] + idx * dt - ts[:, None]
        val = (
            w[:, None]
            * np.exp(-(tau**2) / (2 * sig_t**2))
            * np.cos(2 * np.pi * center_frequency * tau)
        )
        ok = (idx >= 0) & (idx < nd)
        out[:, j] = np.bincount(idx[ok], weights=val[ok], minlength=nd)
    return out


@provenance.step
def simulate_pair(
    *,
    width: float = 20e-3,
    height: float = 30e-3,
    n_samples: int = 768,
    n_lines: int = 80,
    youngs_modulus: float = 20e3,
    inclusions: tuple[Inclusion, ...] | None = None,
    compression: float = 0.01,
    poisson: float = 0.495,
    sampling_frequency: float = 20e6,
    center_frequency: float = 5e6,
    bandwidth: float = 0.6,
    beam_fwhm: float = 0.5e-3,
    sound_speed: float = 1540.0,
    fe_elements: tuple[int, int] = (40, 60),
    noise_db: float | None = 40.0,
    lateral_shift: float = 0.0,
    correlation: float = 1.0,
    jitter: float = 0.0,
    seed: int = 0,
) -> xr.Dataset:
    """Simulate a pre/post-compression RF pair of a block with inclusions of known stiffness.

    The FE solution (:func:`brim.elasto.fem.solve_compression`) displaces point scatterers
    (separable Gaussian pulse and beam, :func:`simulate_rf`). Three optional sources of the
    decorrelation of real free-hand scans: a rigid lateral probe motion ``lateral_shift``;
    out-of-plane (elevational) motion, modelled by replacing part of every scatterer's
    reflectivity with an independent one, ``a_post = rho a + sqrt(1 - rho**2) a_new``, so that
    the RF correlation of the two frames is ``rho = correlation``; and random sub-resolution
    scatterer motion of RMS ``jitter`` (m) in both directions. With the defaults (no shift,
    ``correlation=1``, no jitter) the post frame is the pre frame's scatterers moved by the FE
    field alone.

    Parameters
    ----------
    width, height : float
        Block (and image) size in m.
    n_samples, n_lines : int
        Image size (depth samples, lines).
    youngs_modulus : float
        Background modulus in Pa.
    inclusions : tuple of Inclusion, optional
        Default: one 4 mm radius inclusion, 3x stiffer (60 kPa, carcinoma-like), in the centre.
    compression : float
        Applied compression (fraction).
    noise_db : float or None
        Electronic-noise SNR in dB relative to the RF RMS (independent per frame), None = none.
    lateral_shift : float
        Rigid lateral motion of the tissue between the frames in m.
    correlation : float
        Out-of-plane reflectivity correlation ``rho`` in [0, 1].
    jitter : float
        RMS random scatterer displacement in m.
    seed : int
        Random seed (the output is deterministic).

    Returns
    -------
    xarray.Dataset
        ``rf_frames`` with 2 frames (0 = pre, 1 = post) and the true axial strain ``true_strain``
        (dims ``zc, xc``, element centres of the FE mesh) and ``true_youngs_modulus`` (Pa).

    Examples
    --------
    A small 4 x 5 mm block with the default inclusion (3x stiffer, 1 % compression):

    >>> pair = simulate_pair(width=4e-3, height=5e-3, n_samples=64, n_lines=8,
    ...                      fe_elements=(8, 10))
    >>> pair.brim.kind, pair["rf"].dims, pair["rf"].shape
    ('rf_frames', ('frame', 'depth', 'line'), (2, 64, 8))
    >>> round(float(pair["true_strain"].mean()), 3)  # compressive: about -1 %
    -0.01
    >>> float(pair["true_youngs_modulus"].max())  # the inclusion, Pa
    60000.0
    """
    if not 0.0 <= correlation <= 1.0:
        raise ConfigError(f"correlation must be in [0, 1], got {correlation}")
    if jitter < 0:
        raise ConfigError(f"jitter must be >= 0, got {jitter}")
    if inclusions is None:
        inclusions = (Inclusion(width / 2, height / 2, 4e-3, 3 * youngs_modulus),)
    rng = np.random.default_rng(seed)
    fe = solve_compression(
        width,
        height,
        fe_elements[0],
        fe_elements[1],
        youngs_modulus=youngs_modulus,
        poisson=poisson,
        inclusions=inclusions,
        compression=compression,
    )
    pitch = width / n_lines
    lines = (np.arange(n_lines) + 0.5) * pitch
    dz = sound_speed / (2 * sampling_frequency)
    depths = (np.arange(n_samples)) * dz
    if depths[-1] > height:
        raise ConfigError(
            f"{n_samples} samples reach {depths[-1] * 1e3:.1f} mm, deeper than the block "
            f"({height * 1e3:.1f} mm)"
        )
    margin = 1.5e-3 + abs(lateral_shift)
    xs, zs, amp = random_scatterers(width + 2 * margin, height, rng=rng, x0=-margin)
    ux, uz = interpolate_displacement(fe, xs, zs)
    kw: dict[str, Any] = dict(
        depths=depths,
        lines=lines,
        sampling_frequency=sampling_frequency,
        center_frequency=center_frequency,
        bandwidth=bandwidth,
        beam_fwhm=beam_fwhm,
        sound_speed=sound_speed,
    )
    pre = simulate_rf(xs, zs, amp, **kw)
    amp_post = amp
    jx: np.ndarray | float = 0.0
    jz: np.ndarray | float = 0.0
    if correlation < 1.0:
        amp_post = correlation * amp + np.sqrt(1 - correlation**2) * rng.standard_normal(amp.size)
    if jitter > 0:
        jx = jitter * rng.standard_normal(xs.size)
        jz = jitter * rng.standard_normal(xs.size)
    # post: positions relative to the probe, which has moved down by compression * height
    post = simulate_rf(
        xs + ux + lateral_shift + jx, zs + uz - compression * height + jz, amp_post, **kw
    )
    if noise_db is not None:
        rms = np.sqrt(np.mean(pre**2))
        s = rms * 10 ** (-noise_db / 20)
        pre = pre + s * rng.standard_normal(pre.shape)
        post = post + s * rng.standard_normal(post.shape)
    ds = make_rf_frames(
        np.stack([pre, post]).astype(np.float32),
        sampling_frequency=sampling_frequency,
        center_frequency=center_frequency,
        sound_speed=sound_speed,
        pitch=pitch,
        depth_start=0.0,
        line_start=float(lines[0]),
    )
    ds = ds.assign(
        true_strain=(
            ("zc", "xc"),
            fe.eps_zz.values.astype(np.float32),
            {"units": "1", "long_name": "true axial strain (FE)"},
        ),
        true_youngs_modulus=(
            ("zc", "xc"),
            fe.youngs_modulus.values.astype(np.float32),
            {"units": "Pa"},
        ),
    )
    ds = ds.assign_coords(
        zc=("zc", fe.zc.values, {"units": "m"}), xc=("xc", fe.xc.values, {"units": "m"})
    )
    ds.attrs["applied_compression"] = float(compression)
    ds.attrs["inclusions"] = [
        dict(x=i.x, z=i.z, radius=i.radius, youngs_modulus=i.youngs_modulus) for i in inclusions
    ]
    return ds


@provenance.step
def simulate_shear_wave_rf(
    *,
    speed: float = 2.5,
    n_frames: int = 40,
    frame_rate: float = 5000.0,
    width: float = 20e-3,
    n_lines: int = 64,
    n_samples: int = 256,
    depth_start: float = 15e-3,
    push_x: float = 0.0,
    amplitude: float = 5e-6,
    duration: float = 0.5e-3,
    sampling_frequency: float = 20e6,
    center_frequency: float = 5e6,
    seed: int = 0,
) -> xr.Dataset:
    """RF frames of tissue carrying a propagating shear wave of known speed.

    A plane shear wave leaves the push line ``x = push_x`` in both lateral directions; the axial
    particle displacement is ``u(x, t) = A exp(-((t - 2T - |x - push_x| / c) / T)**2)`` with
    the Gaussian pulse duration ``T`` (frame 0 is nearly at rest).
    Scatterers are moved axially by ``u`` and every frame is simulated with :func:`simulate_rf`.

    Parameters
    ----------
    speed : float
        Shear-wave speed in m/s.
    n_frames : int
        Number of frames.
    frame_rate : float
        Frames per second (Hz).
    width : float
        Image width in m.
    n_lines, n_samples : int
        Image size (lines, depth samples).
    depth_start : float
        Depth of the first sample in m.
    push_x : float
        Lateral position of the push in m.
    amplitude : float
        Peak axial displacement in m.
    duration : float
        Gaussian pulse duration ``T`` in s.
    sampling_frequency, center_frequency : float
        Hz.
    seed : int
        Random seed of the scatterers (the output is deterministic).

    Returns
    -------
    xarray.Dataset
        ``rf_frames`` with ``n_frames`` frames and a ``time`` coordinate (s) on ``frame``; attrs
        ``true_speed`` (m/s).

    Examples
    --------
    >>> sw = simulate_shear_wave_rf(speed=3.0, n_frames=8, n_lines=16, n_samples=64)
    >>> sw.sizes["frame"], sw.attrs["true_speed"]
    (8, 3.0)
    """
    if speed <= 0 or frame_rate <= 0:
        raise ConfigError("speed and frame_rate must be positive")
    rng = np.random.default_rng(seed)
    pitch = width / n_lines
    lines = (np.arange(n_lines) - (n_lines - 1) / 2) * pitch
    dz = 1540.0 / (2 * sampling_frequency)
    depths = depth_start + np.arange(n_samples) * dz
    height = depths[-1] + 2e-3
    xs, zs, amp = random_scatterers(width + 3e-3, height - depth_start + 2e-3, rng=rng)
    xs = xs - (width + 3e-3) / 2
    zs = zs + depth_start - 1e-3
    times = np.arange(n_frames) / frame_rate
    frames = []
    for t in times:
        u = amplitude * np.exp(
            -(((t - 2 * duration - np.abs(xs - push_x) / speed) / duration) ** 2)
        )
        frames.append(
            simulate_rf(
                xs,
                zs + u,
                amp,
                depths=depths,
                lines=lines,
                sampling_frequency=sampling_frequency,
                center_frequency=center_frequency,
            )
        )
    ds = make_rf_frames(
        np.stack(frames).astype(np.float32),
        sampling_frequency=sampling_frequency,
        center_frequency=center_frequency,
        pitch=pitch,
        depth_start=depth_start,
        line_start=float(lines[0]),
    )
    ds = ds.assign_coords(time=("frame", times, {"units": "s"}))
    ds.attrs["true_speed"] = float(speed)
    return ds
