"""Simulated optical phantoms: a spherical lesion in a semi-infinite diffusive medium.

The measurement of a lesion is computed with the volume-integral (Lippmann-Schwinger) form of
the diffusion equation for an absorption perturbation,
``Phi(r) = Phi0(r) - int G(r, r') delta_mua(r') Phi(r') dr'``, solved exactly on the lesion's
voxels (not the first Born approximation the reconstruction uses, so the tests do not commit the
"inverse crime"). The singular diagonal uses the integral of the Green's function over the sphere of
the voxel's volume (:func:`brim.fusion.diffusion.sphere_self_integral`).

Optical properties come from haemoglobin concentrations through an extinction table (Prahl's by
default): ``mua [mm^-1] = ln(10) / 10 * (eps_HbO2 [cm^-1/M] C_HbO2 + eps_Hb C_Hb) [M]``.

Units: the Dataset-level functions (:class:`Lesion`, :func:`probe_geometry`,
:func:`simulate_measurement`, :func:`simulate_pair`, :func:`synthetic_ultrasound`) take and
return lengths in metres; the array kernels (:func:`sphere_voxels`, :func:`volume_green_matrix`,
:func:`lesion_scattered_field`) work in millimetres, the length unit of the ``mm-1`` optical
coefficients (see :mod:`brim.fusion.diffusion`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.deprecation import positional_options
from brim.errors import ConfigError, check_positive
from brim.fusion import diffusion as dif
from brim.fusion._units import M_TO_MM, MM_TO_M, UM_TO_MUA, check_plausible_m
from brim.fusion.measurement import _MIN_MODULATION_HZ

__all__ = [
    "Lesion",
    "probe_geometry",
    "sphere_voxels",
    "lesion_scattered_field",
    "volume_green_matrix",
    "mua_from_hemoglobin",
    "simulate_measurement",
    "simulate_pair",
    "synthetic_ultrasound",
]


@dataclass(frozen=True)
class Lesion:
    """A spherical lesion.

    Parameters
    ----------
    center : tuple of float
        (x, y, z) in m; z is depth below the probe.
    radius : float
        m.
    hbo2, hb : float
        Oxy- and deoxyhaemoglobin inside the lesion, micromolar (finite, >= 0; with
        ``hbo2 = HbT sO2`` and ``hb = HbT (1 - sO2)`` this needs HbT >= 0 and 0 <= sO2 <= 1).

    Raises
    ------
    ConfigError
        For a centre that is not three finite numbers, a radius that is not finite and > 0,
        haemoglobin that is negative or not finite, a lesion that reaches the surface, or
        lengths beyond 0.5 m (millimetres given as metres).
    """

    center: tuple[float, float, float] = (0.0, 0.0, 0.020)
    radius: float = 0.0075
    hbo2: float = 45.0
    hb: float = 25.0

    def __post_init__(self):
        c = tuple(float(v) for v in self.center)
        if len(c) != 3 or not all(np.isfinite(c)):
            raise ConfigError(f"lesion center must be three finite numbers (x, y, z) in m, got {c}")
        check_plausible_m(c, "lesion center")
        object.__setattr__(self, "center", c)
        radius = check_positive("lesion radius (m)", self.radius)
        check_plausible_m(radius, "lesion radius")
        object.__setattr__(self, "radius", radius)
        for name in ("hbo2", "hb"):
            v = float(getattr(self, name))
            if not (np.isfinite(v) and v >= 0):
                raise ConfigError(
                    f"lesion {name} must be a finite concentration >= 0 uM, got {v} "
                    "(HbT must be >= 0 and sO2 within [0, 1])"
                )
            object.__setattr__(self, name, v)
        if c[2] - self.radius <= 0:
            raise ConfigError("lesion must lie below the surface (depth z > radius)")


def probe_geometry() -> tuple[np.ndarray, np.ndarray]:
    """A hand-held US-guided DOT probe layout: 9 sources and 14 detectors (126 pairs).

    Sources on the left, detectors on the right of a central ultrasound transducer slot along y
    (as in the Zhu-lab probes), source-detector distances from about 20 to 85 mm.

    Returns
    -------
    sources, detectors : ndarray, shape (9, 2), (14, 2)
        (x, y) positions on the surface, m.

    Examples
    --------
    >>> from brim.fusion import probe_geometry
    >>> sources, detectors = probe_geometry()
    >>> sources.shape, detectors.shape
    ((9, 2), (14, 2))
    >>> float(sources[:, 0].min()), float(detectors[:, 0].max())  # m
    (-0.04, 0.03)
    """
    s, d = _probe_geometry_mm()
    return s * MM_TO_M, d * MM_TO_M


def _probe_geometry_mm() -> tuple[np.ndarray, np.ndarray]:
    """:func:`probe_geometry` in mm (the kernels' unit)."""
    sx = np.array([-15.0, -15.0, -15.0, -27.0, -27.0, -27.0, -40.0, -40.0, -40.0])
    sy = np.array([-20.0, 0.0, 20.0, -28.0, 0.0, 28.0, -18.0, 0.0, 18.0])
    dx = np.concatenate([np.full(7, 12.0), np.full(7, 30.0)])
    dy = np.concatenate([np.linspace(-36.0, 36.0, 7), np.linspace(-30.0, 30.0, 7)])
    return np.stack([sx, sy], 1), np.stack([dx, dy], 1)


def sphere_voxels(center, radius: float, spacing: float) -> np.ndarray:
    """Centres (N, 3) of the cubic voxels of size ``spacing`` whose centre is in the sphere.

    An array kernel: ``center``, ``radius`` and ``spacing`` in one length unit (the simulator
    uses mm), the result in the same unit.

    Parameters
    ----------
    center : array_like, (3,)
        Sphere centre.
    radius : float
        Sphere radius.
    spacing : float
        Voxel edge.

    Returns
    -------
    numpy.ndarray, (N, 3)
        Voxel centres (at least the centre voxel).
    """
    c = np.asarray(center, dtype=np.float64)
    spacing = check_positive("voxel spacing (mm)", spacing)
    n = int(np.ceil(check_positive("sphere radius (mm)", radius) / spacing)) + 1
    g = (np.arange(-n, n + 1) * spacing).astype(np.float64)
    X, Y, Z = np.meshgrid(g, g, g, indexing="ij")  # noqa: N806
    pts = np.stack([X.ravel(), Y.ravel(), Z.ravel()], 1)
    # half-voxel offset keeps the grid symmetric about the centre
    pts = pts[np.sum(pts**2, 1) <= radius**2] + c
    return pts


def volume_green_matrix(
    voxels, volume: float, props: dif.OpticalProperties, *, boundary="extrapolated"
):
    """Green's matrix between voxel centres with the singular diagonal regularised.

    Off-diagonal: the point Green's function. Diagonal: the integral of the infinite-medium
    Green's function over the sphere of the voxel's volume, divided by that volume, minus the
    (regular) image term at distance ``2 (z + z_b)`` for the extrapolated boundary.

    Parameters
    ----------
    voxels : array_like, (N, 3)
        Voxel centres, mm.
    volume : float
        Volume of one voxel, mm³.
    props : OpticalProperties
        Background optical properties.
    boundary : {"extrapolated", "infinite"}
        Boundary model.

    Returns
    -------
    numpy.ndarray, (N, N)
        Complex matrix, mm⁻².
    """
    v = np.asarray(voxels, dtype=np.float64)
    g = dif.green_matrix(v, v, props, boundary=boundary)
    radius_eq = (3.0 * volume / (4.0 * np.pi)) ** (1.0 / 3.0)
    diag = dif.sphere_self_integral(radius_eq, props.k, props.D) / volume
    if boundary == "extrapolated":
        diag = diag - dif.green_infinite(2.0 * (v[:, 2] + props.zb), props.k, props.D)
    g[np.diag_indices_from(g)] = diag
    return g


def lesion_scattered_field(
    sources,
    detectors,
    voxels,
    volume: float,
    delta_mua,
    props: dif.OpticalProperties,
    *,
    boundary: str = "extrapolated",
) -> np.ndarray:
    """Scattered fluence of an absorbing inclusion by the full volume-integral equation.

    Solves ``(I + G_vv diag(delta_mua dV)) Phi_v = Phi0_v`` on the inclusion's voxels for every
    source, then ``Phi_sc(s, d) = -sum_v G(d, v) delta_mua_v dV Phi_v(s)``.

    Parameters
    ----------
    sources, detectors : array_like, (S, 2|3), (M, 2|3)
        Surface positions, mm (an array kernel in the diffusion module's units).
    voxels : array_like, (N, 3)
        Voxel centres of the inclusion, mm.
    volume : float
        Volume of one voxel, mm^3.
    delta_mua : float or array_like (N,)
        Absorption change, mm^-1.
    props : OpticalProperties
        Background.

    Returns
    -------
    ndarray, complex, (S, M)
    """
    v = np.asarray(voxels, dtype=np.float64)
    n = v.shape[0]
    dm = np.broadcast_to(np.asarray(delta_mua, dtype=np.float64), (n,))
    gvv = volume_green_matrix(v, volume, props, boundary=boundary)
    a = np.eye(n) + gvv * (dm * volume)[None, :]
    s = dif._source_points(sources, props)
    dd = dif._detector_points(detectors)
    phi0 = dif.green_matrix(v, s, props, boundary=boundary)
    phi_v = np.linalg.solve(a, phi0)  # (N, S)
    gd = dif.green_matrix(dd, v, props, boundary=boundary)
    return (-(gd * (dm * volume)[None, :]) @ phi_v).T  # (S, M)


@positional_options
def mua_from_hemoglobin(
    hbo2: float, hb: float, wavelengths: ArrayLike, *, extinction: xr.Dataset | None = None
) -> np.ndarray:
    """Absorption coefficient (mm^-1) from haemoglobin concentrations (micromolar).

    ``mua = ln(10) (eps_HbO2 C_HbO2 + eps_Hb C_Hb)`` with molar extinction in cm^-1/M, divided
    by 10 for mm^-1. ``extinction`` defaults to the bundled Prahl subset
    (:func:`brim.fusion.read_extinction`).

    Parameters
    ----------
    hbo2, hb : float
        Oxy- and deoxyhaemoglobin, µM.
    wavelengths : array_like
        nm.
    extinction : xarray.Dataset, optional
        Extinction table (default Prahl's, bundled).

    Returns
    -------
    numpy.ndarray
        ``mua`` per wavelength, mm⁻¹.

    Examples
    --------
    >>> from brim.fusion import mua_from_hemoglobin
    >>> mua_from_hemoglobin(14.0, 6.0, [800.0]).round(5).tolist()  # a breast background
    [0.00368]
    """
    from brim.fusion.extinction import extinction_at

    eps = extinction_at(wavelengths, extinction=extinction)
    return UM_TO_MUA * (eps[:, 0] * float(hbo2) + eps[:, 1] * float(hb))


def _measurement_dataset(phi, sources, detectors, wavelengths, frequency, attrs) -> xr.Dataset:
    from brim.schema import stamp

    ds = xr.Dataset(
        {
            "amplitude": (("wavelength", "source", "detector"), np.abs(phi), {"units": "1"}),
            "phase": (("wavelength", "source", "detector"), np.angle(phi), {"units": "rad"}),
            "modulation_frequency": ((), float(frequency), {"units": "Hz"}),
        },
        coords={
            "wavelength": ("wavelength", np.asarray(wavelengths, float), {"units": "nm"}),
            "source_x": ("source", sources[:, 0].astype(float), {"units": "m"}),
            "source_y": ("source", sources[:, 1].astype(float), {"units": "m"}),
            "detector_x": ("detector", detectors[:, 0].astype(float), {"units": "m"}),
            "detector_y": ("detector", detectors[:, 1].astype(float), {"units": "m"}),
        },
        attrs=attrs,
    )
    return stamp(ds, "optical_measurement")


@provenance.step
def simulate_measurement(
    lesion: Lesion | None = None,
    *,
    wavelengths: ArrayLike = (740.0, 780.0, 808.0, 830.0),
    background_hbo2: float = 14.0,
    background_hb: float = 6.0,
    musp: float = 0.7,
    n: float = 1.33,
    frequency: float = 140e6,
    amplitude_noise: float = 0.005,
    phase_noise: float = 0.005,
    noise: str = "constant",
    voxel: float = 1.5e-3,
    sources: ArrayLike | None = None,
    detectors: ArrayLike | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """Simulate one frequency-domain measurement (optionally with a lesion) with noise.

    Parameters
    ----------
    lesion : Lesion or None
        None gives the homogeneous reference measurement.
    wavelengths : sequence of float
        nm.
    background_hbo2, background_hb : float
        Background haemoglobin, micromolar.
    musp : float
        Reduced scattering (mm^-1), the same inside and outside the lesion.
    n : float
        Refractive index.
    frequency : float
        Modulation frequency, Hz.
    amplitude_noise : float
        Relative (multiplicative, Gaussian) amplitude noise.
    phase_noise : float
        Additive Gaussian phase noise, rad.
    noise : {"constant", "shot"}
        ``"constant"``: the same ``amplitude_noise`` and ``phase_noise`` on every pair.
        ``"shot"``: photon shot noise, whose standard errors grow as ``1/sqrt(amplitude)``:
        ``amplitude_noise`` and ``phase_noise`` at the median pair of each wavelength, far
        pairs noisier, near pairs quieter; the standard errors are stored as
        ``amplitude_rel_se`` and ``phase_se``, as an instrument that averages repeated
        acquisitions would store them (:func:`brim.fusion.reconstruct` weighs by them).
    voxel : float
        Voxel size (m) used to discretise the lesion; the voxel volume is rescaled so that the
        voxels' total equals the sphere's volume (the scattered field then agrees with the exact
        sphere solution within 0.2 % at 1.5-2 mm voxels, see the tests).
    sources, detectors : array_like, optional
        Surface positions (m); default :func:`probe_geometry`.
    seed : int
        Seed of the noise generator (the result is bit-for-bit reproducible).

    Returns
    -------
    xarray.Dataset
        ``optical_measurement`` with truth in ``attrs["brim_truth"]`` (JSON).

    Raises
    ------
    ConfigError
        An unknown ``noise`` model, or a voxel that is not a plausible length.

    Examples
    --------
    >>> from brim.fusion import Lesion, simulate_measurement
    >>> ref = simulate_measurement(None, wavelengths=(780.0,), seed=1)
    >>> ref.brim.kind, dict(ref.amplitude.sizes)
    ('optical_measurement', {'wavelength': 1, 'source': 9, 'detector': 14})
    >>> target = simulate_measurement(Lesion(), wavelengths=(780.0,), seed=2)
    >>> bool((target.amplitude < ref.amplitude).mean() > 0.5)  # the lesion absorbs
    True
    """
    voxel = check_positive("voxel (m)", voxel)
    check_plausible_m(voxel, "voxel")
    if noise not in ("constant", "shot"):
        raise ConfigError(f"noise must be 'constant' or 'shot', got {noise!r}")
    if not (frequency == 0 or frequency >= _MIN_MODULATION_HZ):  # NaN too
        raise ConfigError(
            f"frequency {frequency:g} Hz is no frequency-domain DOT frequency (tens of MHz to "
            "1 GHz); MHz given as Hz? Give it in Hz (140e6), or 0 for CW"
        )
    if sources is None or detectors is None:
        sources, detectors = _probe_geometry_mm()  # the kernels work in mm
    else:
        sources = check_plausible_m(sources, "source positions") * M_TO_MM
        detectors = check_plausible_m(detectors, "detector positions") * M_TO_MM
    sources = np.asarray(sources, dtype=np.float64)
    detectors = np.asarray(detectors, dtype=np.float64)
    wl = np.asarray(wavelengths, dtype=np.float64)
    rng = np.random.default_rng(seed)
    mua_bg = mua_from_hemoglobin(background_hbo2, background_hb, wl)
    phi = np.empty((wl.size, sources.shape[0], detectors.shape[0]), complex)
    rel = np.ones(phi.shape)  # each pair's noise relative to the stated levels
    truth = {
        "background_hbo2_uM": background_hbo2,
        "background_hb_uM": background_hb,
        "musp_per_mm": musp,
        "mua_background_per_mm": mua_bg.tolist(),
    }
    vox = None
    if lesion is not None:
        c_mm = tuple(v * M_TO_MM for v in lesion.center)
        r_mm = lesion.radius * M_TO_MM
        vox = sphere_voxels(c_mm, r_mm, voxel * M_TO_MM)
        dvol = 4.0 / 3.0 * np.pi * r_mm**3 / vox.shape[0]
        mua_les = mua_from_hemoglobin(lesion.hbo2, lesion.hb, wl)
        truth.update({"lesion": asdict(lesion), "mua_lesion_per_mm": mua_les.tolist()})
    for i in range(wl.size):
        props = dif.OpticalProperties(mua_bg[i], musp, n, frequency)
        p = dif.fluence_semi_infinite(sources, detectors, props)
        if vox is not None:
            dm = mua_les[i] - mua_bg[i]
            p = p + lesion_scattered_field(sources, detectors, vox, dvol, dm, props)
        if noise == "shot":  # photon counts: relative errors grow as 1/sqrt(amplitude)
            rel[i] = np.sqrt(np.median(np.abs(p)) / np.abs(p))
        noise_a = 1.0 + amplitude_noise * rel[i] * rng.standard_normal(p.shape)
        noise_p = phase_noise * rel[i] * rng.standard_normal(p.shape)
        phi[i] = p * noise_a * np.exp(1j * noise_p)
    attrs = {
        "brim_truth": json.dumps(truth),
        "refractive_index": n,
        "description": "simulated by brim.fusion.simulate (volume-integral diffusion model)",
    }
    ds = _measurement_dataset(phi, sources * MM_TO_M, detectors * MM_TO_M, wl, frequency, attrs)
    if noise == "shot":
        dims = ("wavelength", "source", "detector")
        ds["amplitude_rel_se"] = (dims, amplitude_noise * rel, {"units": "1"})
        ds["phase_se"] = (dims, phase_noise * rel, {"units": "rad"})
    return ds


def simulate_pair(
    lesion: Lesion | None = None, *, seed: int = 0, **kw
) -> tuple[xr.Dataset, xr.Dataset]:
    """A lesion measurement and its homogeneous reference (different noise seeds).

    Parameters
    ----------
    lesion : Lesion, optional
        The lesion of the target measurement (default :class:`Lesion`).
    seed : int
        Noise seed of the target; the reference uses ``seed + 1``.
    **kw
        Further options of :func:`simulate_measurement`.

    Returns
    -------
    (xarray.Dataset, xarray.Dataset)
        ``(target, reference)``.

    Examples
    --------
    One wavelength, the lesion discretised in 3 mm voxels (fast):

    >>> import json
    >>> from brim.fusion import simulate_pair
    >>> target, reference = simulate_pair(wavelengths=(780.0,), voxel=3e-3)
    >>> target.brim.kind, dict(target.amplitude.sizes)
    ('optical_measurement', {'wavelength': 1, 'source': 9, 'detector': 14})
    >>> "lesion" in json.loads(target.attrs["brim_truth"])
    True
    >>> "lesion" in json.loads(reference.attrs["brim_truth"])
    False
    """
    lesion = Lesion() if lesion is None else lesion
    return (
        simulate_measurement(lesion, seed=seed, **kw),
        simulate_measurement(None, seed=seed + 1, **kw),
    )


@provenance.step
def synthetic_ultrasound(
    lesion: Lesion | None = None,
    *,
    width: float = 0.060,
    depth: float = 0.040,
    pixel: float = 0.25e-3,
    seed: int = 0,
) -> xr.Dataset:
    """A B-mode-like ultrasound image of the plane y = lesion y with a hypoechoic lesion.

    Rayleigh speckle (amplitude of complex Gaussian scatterers), log-compressed to 0..1, darker
    inside the lesion; the true lesion mask is included.

    Parameters
    ----------
    lesion : Lesion, optional
        The lesion (default :class:`Lesion`).
    width, depth, pixel : float
        Image width (centred on x = 0), depth and pixel size, m.
    seed : int
        Seed of the speckle.

    Returns
    -------
    xarray.Dataset
        ``mask`` kind: ``image`` and ``mask`` on dims ``(y, x)`` where ``y`` is the depth (m,
        downwards, ``long_name`` "depth") and ``x`` lateral (m); the elevational position of
        the image plane in ``attrs["plane_y_m"]``.

    Examples
    --------
    >>> from brim.fusion import synthetic_ultrasound
    >>> us = synthetic_ultrasound(pixel=0.5e-3)
    >>> dict(us.sizes), us.y.attrs["units"], int(us["mask"].sum()) > 0
    ({'y': 80, 'x': 120}, 'm', True)
    """
    from brim.schema import stamp

    lesion = Lesion() if lesion is None else lesion
    for name, v in (("width", width), ("depth", depth), ("pixel", pixel)):
        check_plausible_m(check_positive(f"{name} (m)", v), name)
    rng = np.random.default_rng(seed)
    # the pixel grid is laid out in mm, as before lengths became SI, so the image is unchanged
    w_mm, d_mm, p_mm = width * M_TO_MM, depth * M_TO_MM, pixel * M_TO_MM
    c_mm, r_mm = [v * M_TO_MM for v in lesion.center], lesion.radius * M_TO_MM
    x = (np.arange(int(round(w_mm / p_mm))) * p_mm - w_mm / 2 + p_mm / 2).astype(float)
    y = (np.arange(int(round(d_mm / p_mm))) * p_mm + p_mm / 2).astype(float)
    X, Y = np.meshgrid(x, y)  # noqa: N806
    inside = (X - c_mm[0]) ** 2 + (Y - c_mm[2]) ** 2 <= r_mm**2
    echo = np.where(inside, 0.25, 1.0) * np.exp(-Y / 80.0)
    speck = np.abs(rng.standard_normal(X.shape) + 1j * rng.standard_normal(X.shape)) / np.sqrt(2)
    img = 20 * np.log10(echo * speck + 1e-3)
    img = np.clip((img + 40.0) / 40.0, 0.0, 1.0).astype(np.float32)
    ds = xr.Dataset(
        {
            "image": (("y", "x"), img, {"units": "1", "long_name": "B-mode (log-compressed)"}),
            "mask": (("y", "x"), inside.astype(np.uint8), {"labels": json.dumps({"1": "lesion"})}),
        },
        coords={
            "y": ("y", y * MM_TO_M, {"units": "m", "long_name": "depth"}),
            "x": ("x", x * MM_TO_M, {"units": "m", "long_name": "lateral"}),
        },
        attrs={"plane_y_m": float(lesion.center[1]), "brim_truth": json.dumps(asdict(lesion))},
    )
    return stamp(ds, "mask")
