"""Background optical properties from the distance dependence of a measurement.

For a semi-infinite medium and source-detector distances ``rho`` much larger than ``z0`` and
``z_b`` the extrapolated-boundary fluence behaves as ``exp(-k rho) / rho^2`` up to a constant, so
``ln(rho^2 A) = -k_r rho + c_1`` and ``phase = -k_i rho + c_2`` (brim's ``exp(+j omega t)``
convention, phase falling with distance), with ``k = k_r + j k_i = sqrt((mua + j omega/v)/D)``.
From the two slopes:
``D = omega / (2 v k_r k_i)``, ``mua = D (k_r^2 - k_i^2)``, ``musp = 1/(3D) - mua``
(Fantini et al., J. Opt. Soc. Am. B 11:2128, 1994; the semi-infinite fitting used for the
reference/contralateral breast in US-guided DOT, Zhu et al., Radiology 237:57, 2005).

The slope estimate is biased by the asymptotic approximation at short distances; ``refine=True``
then fits the full extrapolated-boundary model (:func:`brim.fusion.diffusion.fluence_semi_infinite`)
by nonlinear least squares with free amplitude and phase offsets (unknown system coupling).

Units: positions and ``min_distance`` in m (the measurement's SI coordinates); the fit itself
runs in mm, so the optical coefficients and the slopes come out per mm (``mm-1``, ``rad/mm``),
the units the ``optical_measurement``/``reconstruction`` conventions name for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import CalibrationError, ConfigError, check_positive, warn
from brim.fusion import diffusion as dif
from brim.fusion._units import M_TO_MM

__all__ = [
    "BackgroundFit",
    "check_distance_decay",
    "pair_distances",
    "fit_slopes",
    "fit_background",
]

logger = logging.getLogger(__name__)

# check_distance_decay warns when, at some wavelength, the Spearman rank correlation between
# source-detector distance and amplitude is above this bound. The diffuse fluence falls as
# exp(-k_r rho) / rho^2 (Fantini et al. 1994, above): strictly with distance, by more than 4x
# over any doubling of rho from the 1/rho^2 factor alone, so the rank correlation of a real
# measurement is close to -1 (-0.999 for the bundled simulated pair), fibre-coupling
# differences and a lesion's perturbation (tens of %) notwithstanding. Above -0.5 the amplitude
# does not clearly decay: swapped channels, saturated detectors, or positions in a wrong unit.
MAX_DECAY_RANK_CORRELATION = -0.5


def pair_distances(meas: xr.Dataset) -> np.ndarray:
    """Source-detector distances (source, detector) in m (float64).

    Parameters
    ----------
    meas : xarray.Dataset
        ``optical_measurement`` (positions in m).

    Returns
    -------
    numpy.ndarray
        Distances, shape (source, detector), m.

    Examples
    --------
    >>> import brim.data
    >>> from brim.fusion import pair_distances
    >>> rho = pair_distances(brim.data.sample("fusion_measurement"))
    >>> rho.shape, round(float(rho.min()) * 1e3, 1), round(float(rho.max()) * 1e3, 1)  # mm
    ((9, 14), 27.0, 84.9)
    """
    from brim.schema import expect_dataset, validate

    expect_dataset(meas, "optical_measurement")
    validate(meas, "optical_measurement")
    sx = np.asarray(meas.source_x.values, dtype=np.float64)
    sy = np.asarray(meas.source_y.values, dtype=np.float64)
    dx = np.asarray(meas.detector_x.values, dtype=np.float64)
    dy = np.asarray(meas.detector_y.values, dtype=np.float64)
    return np.hypot(sx[:, None] - dx[None, :], sy[:, None] - dy[None, :])


def check_distance_decay(meas: xr.Dataset) -> xr.Dataset:
    """Warn (:class:`brim.BrimWarning`) when the amplitude does not decay with distance.

    Parameters
    ----------
    meas : xarray.Dataset
        ``optical_measurement``: its amplitude at each wavelength is ranked against the
        source-detector distances.

    Returns
    -------
    xarray.Dataset
        ``meas``, unchanged.

    Warns
    -----
    BrimWarning
        At the first wavelength whose rank correlation of amplitude with distance is above
        :data:`MAX_DECAY_RANK_CORRELATION` (swapped channels, saturated detectors, or
        positions in a wrong unit); none with fewer than three distinct distances.
    """
    from scipy.stats import spearmanr

    rho = pair_distances(meas).ravel()
    if np.unique(rho).size < 3:  # too few distances to tell
        return meas
    for w in range(meas.sizes["wavelength"]):
        amp = np.asarray(meas.amplitude.values[w], dtype=np.float64).ravel()
        ok = np.isfinite(amp)
        if ok.sum() < 3 or np.ptp(amp[ok]) == 0:
            r = 1.0  # a constant amplitude does not decay either
        else:
            r = float(spearmanr(rho[ok], amp[ok]).statistic)
        wl = float(meas.wavelength.values[w])
        logger.debug("rank correlation of amplitude with distance at %g nm: %.3f", wl, r)
        if not r <= MAX_DECAY_RANK_CORRELATION:
            warn(
                f"the amplitude does not decay with source-detector distance at {wl:g} nm "
                f"(rank correlation {r:.2f}, above {MAX_DECAY_RANK_CORRELATION}): check the "
                "channel order, the detector gains and the position units"
            )
            break
    return meas


@dataclass
class BackgroundFit:
    """Slopes and optical properties of one wavelength."""

    wavelength: float
    slope_amplitude: float  # d ln(rho^2 A) / d rho, mm^-1
    slope_phase: float  # d phase / d rho, rad/mm
    mua: float  # mm^-1
    musp: float  # mm^-1


def fit_slopes(rho, amplitude, phase) -> tuple[float, float, float, float]:
    """Least-squares lines through ``ln(rho^2 A)`` and the unwrapped phase against ``rho``.

    Parameters
    ----------
    rho : array_like
        Source-detector distances, mm.
    amplitude : array_like
        Amplitudes of the same pairs (> 0; other pairs are ignored).
    phase : array_like
        Phases of the same pairs, rad.

    Returns
    -------
    (slope_amp, intercept_amp, slope_phase, intercept_phase)
    """
    rho = np.asarray(rho, dtype=np.float64).ravel()
    a = np.asarray(amplitude, dtype=np.float64).ravel()
    ph = np.asarray(phase, dtype=np.float64).ravel()
    ok = np.isfinite(rho) & np.isfinite(a) & np.isfinite(ph) & (a > 0) & (rho > 0)
    if ok.sum() < 3:
        raise CalibrationError("need at least 3 valid source-detector pairs to fit a background")
    rho, a, ph = rho[ok], a[ok], ph[ok]
    order = np.argsort(rho)
    rho, a, ph = rho[order], a[order], np.unwrap(ph[order])
    x = np.stack([rho, np.ones_like(rho)], 1)
    (sa, ca), *_ = np.linalg.lstsq(x, np.log(rho**2 * a), rcond=None)
    (sp, cp), *_ = np.linalg.lstsq(x, ph, rcond=None)
    return float(sa), float(ca), float(sp), float(cp)


def _props_from_slopes(sa, sp, frequency, n, musp_cw):
    kr = -sa
    if kr <= 0:
        raise CalibrationError(
            f"amplitude does not decay with distance (slope {sa:.4g} /mm); check the data"
        )
    v = dif.C_MM_PER_S / n
    omega = 2 * np.pi * frequency
    if frequency == 0:
        if musp_cw is None:
            raise ConfigError("a CW measurement cannot separate mua and musp: pass musp (mm^-1)")
        # k_r^2 = 3 mua (mua + musp)
        mua = (-musp_cw + np.sqrt(musp_cw**2 + 4 * kr**2 / 3)) / 2
        return mua, float(musp_cw)
    ki = -sp
    if ki <= 0:
        raise CalibrationError(
            f"phase does not fall with distance (slope {sp:.4g} rad/mm); brim uses the "
            "exp(+j omega t) convention (phase = arg of the fluence, a lag is negative): pass "
            "phase_sign=-1 for data that store the delay as positive"
        )
    D = omega / (2 * v * kr * ki)  # noqa: N806
    mua = D * (kr**2 - ki**2)
    musp = 1 / (3 * D) - mua
    return float(mua), float(musp)


def _refine(use, src, det, a, ph, mua0, musp0, frequency, n):
    from scipy.optimize import least_squares

    bad = int(np.count_nonzero(use & ~(a > 0)))
    if bad:  # log(0) = -inf: the fit cannot start (scipy raised a bare ValueError)
        raise CalibrationError(
            f"{bad} source-detector amplitudes used in the fit are 0 or negative; a detected "
            "amplitude is > 0 (a damaged measurement?)"
        )
    la = np.log(np.where(use, a, 1.0))

    def resid(p):
        mua, musp = np.exp(p[0]), np.exp(p[1])
        props = dif.OpticalProperties(mua, musp, n, frequency)
        phi = dif.fluence_semi_infinite(src, det, props)
        r1 = (np.log(np.abs(phi)) + p[2] - la)[use]
        if frequency == 0:
            return r1
        dphi = np.angle(np.exp(1j * (np.angle(phi) + p[3] - ph)))[use]
        return np.concatenate([r1, dphi])

    phi0 = dif.fluence_semi_infinite(src, det, dif.OpticalProperties(mua0, musp0, n, frequency))
    c_a = float(np.mean((la - np.log(np.abs(phi0)))[use]))
    c_p = float(np.angle(np.mean(np.exp(1j * (ph - np.angle(phi0)))[use])))
    p0 = [np.log(mua0), np.log(musp0), c_a, c_p]
    if frequency == 0:
        p0 = p0[:3]
        res = least_squares(lambda q: resid([q[0], np.log(musp0), q[1]]), [p0[0], p0[2]])
        return float(np.exp(res.x[0])), musp0
    res = least_squares(resid, p0, x_scale="jac")
    return float(np.exp(res.x[0])), float(np.exp(res.x[1]))


@provenance.step
def fit_background(
    meas: xr.Dataset,
    *,
    n: float | None = None,
    refine: bool = True,
    musp: float | None = None,
    min_distance: float = 0.0,
    phase_sign: float = 1.0,
) -> xr.Dataset:
    """Fit background ``mua`` and ``musp`` per wavelength of an optical measurement.

    Parameters
    ----------
    meas : xarray.Dataset
        ``optical_measurement`` (typically the reference / contralateral measurement).
    n : float, optional
        Refractive index, finite and >= 1 (default: ``meas.attrs["refractive_index"]`` or 1.33).
    refine : bool
        After the slope fit, fit the full extrapolated-boundary model (recommended).
    musp : float, optional
        Reduced scattering (mm^-1, finite and > 0), required for CW data (0 Hz).
    min_distance : float
        Ignore pairs closer than this, m (the slope fit assumes ``rho >> 1/musp``); at least 3
        pairs must remain.
    phase_sign : {1, -1}
        Multiply the stored phase by this (``-1`` for data that store a lag as positive).

    Returns
    -------
    xarray.Dataset
        ``mua``, ``musp`` (mm^-1), ``slope_amplitude`` (mm^-1) and ``slope_phase`` (rad/mm)
        over ``wavelength``; ``mua_slope``/``musp_slope`` hold the slope-only estimates.

    Raises
    ------
    ConfigError
        For a refractive index that is not finite and >= 1, a ``musp`` that is not finite and
        > 0, a ``phase_sign`` other than 1 or -1, or a ``min_distance`` that leaves fewer than
        3 source-detector pairs.
    CalibrationError
        If the data do not give physical properties.

    Examples
    --------
    The bundled reference measurement was simulated with a reduced scattering coefficient of
    0.7 mm^-1 at every wavelength; the fit recovers it within 1 %:

    >>> import json
    >>> import numpy as np
    >>> import brim.data
    >>> from brim.fusion import fit_background
    >>> reference = brim.data.sample("fusion_reference")
    >>> json.loads(reference.attrs["brim_truth"])["musp_per_mm"]
    0.7
    >>> bg = fit_background(reference)
    >>> bg.musp.dims, bg.musp.attrs["units"]
    (('wavelength',), 'mm-1')
    >>> bool(np.all(np.abs(bg.musp.values / 0.7 - 1) < 0.01))
    True
    """
    from brim.schema import expect_dataset, validate

    expect_dataset(meas, "optical_measurement")
    validate(meas, "optical_measurement")
    n = float(meas.attrs.get("refractive_index", 1.33)) if n is None else float(n)
    if not (np.isfinite(n) and n >= 1):
        raise ConfigError(f"refractive index n must be a finite number >= 1, got {n}")
    if musp is not None:
        musp = check_positive("musp (mm^-1)", musp)
    if phase_sign not in (1, -1):
        raise ConfigError(f"phase_sign must be 1 or -1, got {phase_sign!r}")
    freq = float(meas["modulation_frequency"])
    rho = pair_distances(meas) * M_TO_MM  # the fit runs in mm: slopes and mua per mm
    use = rho >= min_distance * M_TO_MM
    if use.sum() < 3:
        raise ConfigError(
            f"min_distance={min_distance} m leaves {use.sum()} of {use.size} source-detector "
            f"pairs (distances {rho.min():.1f} to {rho.max():.1f} mm); the fit needs at least 3"
        )
    src = M_TO_MM * np.stack([meas.source_x.values, meas.source_y.values], 1).astype(np.float64)
    det = M_TO_MM * np.stack([meas.detector_x.values, meas.detector_y.values], 1).astype(np.float64)
    out: dict[str, list[float]] = {
        k: [] for k in ("mua", "musp", "mua_slope", "musp_slope", "sa", "sp")
    }
    for w in range(meas.sizes["wavelength"]):
        a = meas.amplitude.values[w].astype(np.float64)
        ph = phase_sign * meas.phase.values[w].astype(np.float64)
        sa, _, sp, _ = fit_slopes(rho[use], a[use], ph[use])
        mua_s, musp_s = _props_from_slopes(sa, sp, freq, n, musp)
        if mua_s <= 0 or musp_s <= 0:
            raise CalibrationError(
                f"slope fit gave non-physical properties mua={mua_s:.3g}, musp={musp_s:.3g} /mm "
                f"at {float(meas.wavelength[w])} nm; check the positions and the phase convention"
            )
        mua, musp_w = mua_s, musp_s
        if refine:
            mua, musp_w = _refine(use, src, det, a, ph, mua_s, musp_s, freq, n)
        for k, val in zip(out, (mua, musp_w, mua_s, musp_s, sa, sp)):
            out[k].append(val)
    wl = meas.wavelength.values.astype(float)
    mm = {"units": "mm-1"}
    ds = xr.Dataset(
        {
            "mua": ("wavelength", np.array(out["mua"]), mm),
            "musp": ("wavelength", np.array(out["musp"]), mm),
            "mua_slope": ("wavelength", np.array(out["mua_slope"]), mm),
            "musp_slope": ("wavelength", np.array(out["musp_slope"]), mm),
            "slope_amplitude": ("wavelength", np.array(out["sa"]), mm),
            "slope_phase": ("wavelength", np.array(out["sp"]), {"units": "rad/mm"}),
            "modulation_frequency": ((), freq, {"units": "Hz"}),
        },
        coords={"wavelength": ("wavelength", wl, {"units": "nm"})},
        attrs={"refractive_index": n},
    )
    return ds
