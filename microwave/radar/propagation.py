"""The effective propagation model of a scan, estimated from the scan itself.

A user does not know a breast's effective permittivity. :func:`estimate_propagation` searches it
with the **image-focus criterion** of the radar parameter-search literature: the permittivity
(and, where asked, the antenna phase-centre delay) is the one whose delay-and-sum image is best
focused. Two focal-quality measures are offered:

* ``"peak"``: the maximum of the DAS intensity — the energy the coherent sum collects at its best
  point (the signal-energy fitness of O'Loughlin et al. 2017, Sensors 17, 2823, and of the MERIT
  parameter studies, O'Loughlin et al. 2018, Biomed. Phys. Eng. Express 4, 025036);
* ``"pmr"``: the peak-to-mean ratio of the image (the SMR-type focal quality of the same papers).

**The eps / delay ridge.** With the antennas on a hemisphere around the target, a larger
permittivity and a shorter antenna delay give nearly the same round-trip times near the focus:
the focus criterion over (eps_r, delay) is a ridge, not a peak (on the MERIT B0_P3 scan the peak
criterion varies by under 10 % along it from (eps 4, +200 ps) to (eps 11, -100 ps), while the
image maximum moves by 6 mm). The data do not fix both, so the default holds the delay at a
*physical* value — the scan's ``antenna_delay`` (a reference measurement or antenna model, see
:func:`~brim.microwave.radar.antenna_delay_calibration`), else 0 — and searches the permittivity
alone; ``delay_s="search"`` runs the joint search and returns the whole criterion surface so the
ridge can be seen (its flatness is reported as ``ridge_contrast``), and picks the point of the
ridge by a second criterion that is *not* flat along it: the **energy concentration** of the
image (the fraction of the image energy in its brightest 1 % of voxels, a sharpness measure of
the autofocus literature, e.g. Fienup & Miller 2003, JOSA A 20, 609), which penalises the blur
that a wrong delay leaves away from the focus. On the two homogeneous MERIT phantoms both
ridges are picked at the same delay (+150 ps), as a property of the antennas should be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, check_positive, check_vector

__all__ = [
    "CRITERIA",
    "PropagationEstimate",
    "energy_concentration",
    "estimate_propagation",
    "focus_criterion",
]

CRITERIA = ("peak", "pmr")

#: Default permittivity search range: from fat-like (3) to fibroglandular-rich (20) breasts.
EPS_RANGE = (3.0, 20.0)


@dataclass
class PropagationEstimate:
    """An estimated propagation model and the criterion it was read from.

    Attributes
    ----------
    eps_r : float
        Effective relative permittivity.
    delay_s : float
        Antenna phase-centre one-way delay in s (added to every antenna).
    criterion : str
        The focus criterion (``"peak"`` or ``"pmr"``).
    delay_source : str
        Where the delay came from: ``"scan"`` (the scan's ``antenna_delay``), ``"none"`` (0),
        ``"argument"`` or ``"search"``.
    eps_grid : ndarray
        The permittivities tried.
    curve : ndarray
        The criterion at each of ``eps_grid`` for the chosen delay, normalised to 1 at its
        maximum.
    delay_grid : ndarray
        The delays tried (s): one value unless the delay was searched.
    surface : ndarray
        ``(eps, delay)`` criterion, normalised to 1 at its maximum.
    ridge_contrast : float
        ``1 - min over delays of (best criterion at that delay)``: near 0 means the criterion
        cannot tell the delays apart (the eps / delay ridge); NaN for one delay.
    """

    eps_r: float
    delay_s: float
    criterion: str
    delay_source: str
    eps_grid: np.ndarray
    curve: np.ndarray
    delay_grid: np.ndarray = field(default_factory=lambda: np.zeros(1))
    surface: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    ridge_contrast: float = float("nan")

    def as_attrs(self) -> dict[str, Any]:
        """The estimate as NetCDF-safe attributes (``propagation_*``), for an image.

        Returns
        -------
        dict
            ``propagation_eps_r``, ``propagation_delay_s``, ``propagation_criterion``,
            ``propagation_delay_source``, ``propagation_eps_grid`` and ``propagation_curve``.
        """
        return {
            "propagation_eps_r": float(self.eps_r),
            "propagation_delay_s": float(self.delay_s),
            "propagation_criterion": self.criterion,
            "propagation_delay_source": self.delay_source,
            "propagation_eps_grid": np.asarray(self.eps_grid, dtype=float),
            "propagation_curve": np.asarray(self.curve, dtype=float),
        }

    def to_dataset(self) -> xr.Dataset:
        """The estimate as a Dataset: the criterion surface over ``(eps_r, delay)``.

        Returns
        -------
        xarray.Dataset
            ``criterion`` on ``(eps_r, delay)`` (delay in s), ``curve`` on ``eps_r``, and the
            estimate in the attributes (:meth:`as_attrs`).
        """
        ds = xr.Dataset(
            {
                "criterion": (
                    ("eps_r", "delay"),
                    np.asarray(self.surface, dtype=float),
                    {"units": "1", "long_name": f"focus criterion ({self.criterion})"},
                ),
                "curve": (
                    ("eps_r",),
                    np.asarray(self.curve, dtype=float),
                    {"units": "1", "long_name": "criterion at the chosen delay"},
                ),
            },
            coords={
                "eps_r": (
                    "eps_r",
                    np.asarray(self.eps_grid, dtype=float),
                    {"units": "1", "long_name": "effective relative permittivity"},
                ),
                "delay": ("delay", np.asarray(self.delay_grid, dtype=float), {"units": "s"}),
            },
        )
        ds.attrs.update(self.as_attrs())
        ds.attrs["propagation_ridge_contrast"] = float(self.ridge_contrast)
        return ds


def focus_criterion(image: ArrayLike, criterion: str = "peak") -> float:
    """The focal quality of a radar image (larger is better focused).

    Parameters
    ----------
    image : array_like
        Image intensities (NaN outside the imaged region is ignored).
    criterion : {"peak", "pmr"}
        Maximum intensity, or peak-to-mean ratio.

    Returns
    -------
    float
        The criterion value.

    Examples
    --------
    >>> from brim.microwave.radar.propagation import focus_criterion
    >>> focus_criterion([1.0, 1.0, 4.0]), focus_criterion([1.0, 1.0, 4.0], "pmr")
    (4.0, 2.0)
    """
    v = np.asarray(image, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ConfigError("the image has no finite value")
    if criterion == "peak":
        return float(v.max())
    if criterion == "pmr":
        return float(v.max() / max(v.mean(), 1e-300))
    raise ConfigError(f"unknown focus criterion {criterion!r}; use one of {CRITERIA}")


def energy_concentration(image: ArrayLike, fraction: float = 0.01) -> float:
    """The fraction of an image's energy in its brightest ``fraction`` of voxels.

    Parameters
    ----------
    image : array_like
        Image intensities (NaN ignored).
    fraction : float
        Fraction of the voxels counted (0 < fraction <= 1).

    Returns
    -------
    float
        Between ``fraction`` (flat image) and 1 (all energy in those voxels).

    Examples
    --------
    >>> from brim.microwave.radar.propagation import energy_concentration
    >>> energy_concentration([0.0] * 99 + [5.0]), energy_concentration([1.0] * 100)
    (1.0, 0.01)
    """
    v = np.asarray(image, dtype=float)
    v = np.sort(v[np.isfinite(v)])
    if v.size == 0 or not v.sum() > 0:
        raise ConfigError("the image has no finite positive value")
    k = max(1, int(round(fraction * v.size)))
    return float(v[-k:].sum() / v.sum())


def _scan_delay(scan: xr.Dataset) -> tuple[np.ndarray | None, str]:
    if "antenna_delay" in scan:
        return np.asarray(scan["antenna_delay"].values, dtype=float), "scan"
    return None, "none"


@provenance.step
def estimate_propagation(
    scan: xr.Dataset,
    *,
    eps_range: tuple[float, float] = EPS_RANGE,
    n_eps: int = 35,
    delay_s: float | str = "scan",
    delay_candidates: ArrayLike | None = None,
    criterion: str = "peak",
    radius: float = 0.07,
    resolution: float = 5e-3,
    backend: str | None = None,
) -> PropagationEstimate:
    """Estimate the effective permittivity (and antenna delay) of a calibrated scan by image
    focus.

    For each candidate the DAS image is formed on a coarse hemisphere grid and the focus
    criterion (:func:`focus_criterion`) is evaluated; the maximum is refined by a parabola
    through its neighbours (log-spaced permittivities).

    Parameters
    ----------
    scan : xarray.Dataset
        A calibrated ``sparameter_scan`` (artefact removed, e.g. by rotation subtraction).
    eps_range : (float, float)
        Smallest and largest relative permittivity tried.
    n_eps : int
        Number of permittivities tried (log-spaced).
    delay_s : float, "scan" or "search"
        The antenna one-way delay (s): a value; ``"scan"`` (default) the scan's
        ``antenna_delay`` (a reference measurement) or 0 without one; ``"search"`` a joint
        search over ``delay_candidates`` (the criterion is nearly degenerate along the
        eps / delay ridge: see the module docstring).
    delay_candidates : array_like, optional
        Delays (s) for ``delay_s="search"``; default -100 to +300 ps in 50 ps steps.
    criterion : {"peak", "pmr"}
        Focus criterion.
    radius, resolution : float
        Hemisphere of the search images (m).
    backend : str, optional
        Beamforming backend (:func:`~brim.microwave.radar.beamform`).

    Returns
    -------
    PropagationEstimate
        The estimate, its criterion curve over permittivity and (for a delay search) surface.

    References
    ----------
    D. O'Loughlin, M. Glavin, E. Jones, M. O'Halloran, "Parameter search algorithms for
    microwave radar-based breast imaging: focal quality metrics as fitness functions",
    Sensors 17 (2017) 2823. D. O'Loughlin et al., "Open-source software for microwave
    radar-based image reconstruction", EuCAP 2018 / Biomed. Phys. Eng. Express 4 (2018) 025036.

    Examples
    --------
    The bundled scan is simulated in a medium of relative permittivity 8:

    >>> import brim.data
    >>> from brim.microwave import rotation_subtraction
    >>> from brim.microwave.radar import estimate_propagation
    >>> scan = rotation_subtraction(brim.data.sample("microwave_radar_scan"))
    >>> est = estimate_propagation(scan, n_eps=9, eps_range=(4, 16), resolution=0.01)
    >>> bool(6.5 < est.eps_r < 10), est.delay_source, float(est.curve.max())
    (True, 'none', 1.0)
    """
    from brim.microwave.radar.beamforming import _check_eps, _expect_scan, beamform, hemisphere_grid

    _expect_scan(scan)
    if criterion not in CRITERIA:
        raise ConfigError(f"unknown focus criterion {criterion!r}; use one of {CRITERIA}")
    try:
        lo, hi = (float(v) for v in eps_range)
    except (TypeError, ValueError):
        raise ConfigError(
            f"eps_range must be two relative permittivities (low, high), got {eps_range!r}"
        ) from None
    _check_eps(lo, hi, name="eps_range")
    if not lo < hi:
        raise ConfigError(f"eps_range needs low < high, got {eps_range}")
    n_eps = check_positive("n_eps", n_eps, integer=True)
    eps_grid = np.geomspace(lo, hi, max(n_eps, 3))
    base, source = _scan_delay(scan)
    n_ant = scan.sizes.get("antenna", scan.sizes.get("position", 0))
    if isinstance(delay_s, str):
        if delay_s == "scan":
            delays = np.zeros(1)
        elif delay_s == "search":
            default = np.arange(-100e-12, 301e-12, 50e-12)
            delays = check_vector(
                "delay_candidates",
                default if delay_candidates is None else np.atleast_1d(delay_candidates),
            )
            source = "search"
        else:
            raise ConfigError(f"delay_s must be a number (s), 'scan' or 'search', got {delay_s!r}")
    else:
        delays = check_vector("delay_s", [delay_s])
        base, source = None, "argument"
    if base is None:
        base = np.zeros(n_ant)
    grid = hemisphere_grid(radius, resolution)
    work = scan.drop_vars("antenna_delay") if "antenna_delay" in scan else scan
    dim = "antenna" if "antenna" in scan.sizes else "position"
    surface = np.empty((eps_grid.size, delays.size))
    sharp = np.empty_like(surface)
    for j, d in enumerate(delays):
        trial = work.assign({"antenna_delay": (dim, base + d, {"units": "s"})})
        for i, e in enumerate(eps_grid):
            img = beamform(trial, grid=grid, methods=["das"], eps_r=float(e), backend=backend)
            surface[i, j] = focus_criterion(img["das"].values, criterion)
            sharp[i, j] = energy_concentration(img["das"].values)
    surface = surface / surface.max()
    ridge_i = np.argmax(surface, axis=0)  # the best permittivity at each delay
    j = int(np.argmax(sharp[ridge_i, np.arange(delays.size)]))  # the sharpest ridge point
    i = int(ridge_i[j])
    curve = surface[:, j] / surface[:, j].max()
    eps = _refine(np.log(eps_grid), curve, int(i))
    ridge = float(1 - surface.max(axis=0).min()) if delays.size > 1 else float("nan")
    delay_total = float(np.mean(base) + delays[j])
    provenance.note(eps_r=float(np.exp(eps)), delay_s=delay_total, delay_source=source)
    return PropagationEstimate(
        eps_r=float(np.exp(eps)),
        delay_s=delay_total,
        criterion=criterion,
        delay_source=source,
        eps_grid=eps_grid,
        curve=curve,
        delay_grid=np.mean(base) + delays,
        surface=surface,
        ridge_contrast=ridge,
    )


def _refine(x: np.ndarray, y: np.ndarray, i: int) -> float:
    """The vertex of the parabola through the maximum ``(x[i], y[i])`` and its neighbours."""
    if i == 0 or i == len(x) - 1:
        return float(x[i])
    x0, x1, x2 = x[i - 1 : i + 2]
    y0, y1, y2 = y[i - 1 : i + 2]
    den = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
    b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / den
    if a >= 0:
        return float(x1)
    return float(np.clip(-b / (2 * a), x0, x2))
