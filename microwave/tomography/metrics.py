"""Quality indicators for quantitative microwave tomography.

Relative errors of the complex permittivity (global and per region), region means, tumour
localisation error, lesion candidates (the ranked local maxima of a map), SSIM and data misfit.
They follow the usual definitions of the inverse-scattering literature, e.g. the ``zeta``
indicators of eispy2d (Batista, Adriano & Batista, 2021): the relative error is
``||eps_rec - eps_true|| / ||eps_true||`` over a region (an L2 norm over its cells), per complex
map, real part and imaginary part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from brim.deprecation import positional_options
from brim.errors import ConfigError

__all__ = [
    "LesionCandidate",
    "TomoScores",
    "data_misfit",
    "lesion_candidates",
    "localisation_error",
    "region_means",
    "relative_error",
    "score",
    "ssim",
]


def _check(rec, true):
    rec = np.asarray(rec)
    true = np.asarray(true)
    if rec.shape != true.shape:
        raise ConfigError(f"maps differ in shape: {rec.shape} vs {true.shape}; resample first")
    return rec, true


@positional_options
def relative_error(rec, true, *, mask=None, part: str = "complex") -> float:
    """``||rec - true|| / ||true||`` over ``mask`` (1); ``part`` "complex", "real" or "imag".

    Parameters
    ----------
    rec, true : ndarray (ny, nx), complex
        Reconstructed and true relative permittivity.
    mask : ndarray of bool, optional
        The cells compared; default all.
    part : {"complex", "real", "imag"}
        Which part is compared.

    Returns
    -------
    float
        The relative error (1).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.tomography import relative_error
    >>> relative_error(np.full((2, 2), 1.1), np.ones((2, 2)))
    0.1...
    """
    rec, true = _check(rec, true)
    m = np.ones(true.shape, bool) if mask is None else np.asarray(mask, bool)
    if not m.any():
        raise ConfigError("region mask is empty")
    parts = {"complex": lambda a: a, "real": np.real, "imag": np.imag}
    if part not in parts:
        raise ConfigError(f"part must be one of {list(parts)}, not {part!r}")
    f = parts[part]
    a, b = f(rec[m]), f(true[m])
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(b)), 1e-300))


def region_means(eps, masks: dict[str, np.ndarray]) -> dict[str, complex]:
    """Mean complex permittivity per region (empty regions omitted).

    Parameters
    ----------
    eps : ndarray (ny, nx), complex
        A permittivity map.
    masks : dict of str to bool ndarray
        Region masks.

    Returns
    -------
    dict of str to complex
        Mean per non-empty region.
    """
    eps = np.asarray(eps)
    for k, m in masks.items():
        if np.shape(m) != eps.shape:
            raise ConfigError(f"mask {k!r} {np.shape(m)} does not match the map {eps.shape}")
    return {k: complex(eps[np.asarray(m, bool)].mean()) for k, m in masks.items() if np.any(m)}


def localisation_error(rec, x, y, true_center, *, background=None, threshold=0.5) -> float:
    """Distance (m) between the true tumour centre and the centroid of the reconstructed peak.

    The peak region is the connected set of cells around the maximum of ``|rec - background|``
    above ``threshold`` times that maximum; its contrast-weighted centroid is compared with
    ``true_center`` (x, y) in m.

    Parameters
    ----------
    rec : ndarray (ny, nx)
        Reconstructed map.
    x, y : ndarray
        Grid coordinates in m.
    true_center : (float, float)
        True tumour centre in m.
    background : complex or ndarray, optional
        Subtracted before the peak search; default the map's median.
    threshold : float
        Fraction of the peak contrast that bounds the peak region.

    Returns
    -------
    float
        The distance in m.
    """
    rec = np.asarray(rec)
    bgv = np.median(rec) if background is None else background
    c = np.abs(rec - bgv)
    if isinstance(c, np.ndarray) and c.ndim != 2:
        raise ConfigError("localisation works on 2-D maps")
    iy, ix = np.unravel_index(np.argmax(c), c.shape)
    if not c[iy, ix] > 0:
        raise ConfigError("the map has no contrast against the background: nothing to localise")
    cx, cy, _ = _peak_region(c, iy, ix, threshold, x, y)
    return float(np.hypot(cx - true_center[0], cy - true_center[1]))


def _peak_region(c, iy, ix, threshold, x, y, allowed=None):
    """Contrast-weighted centroid (m) and mask of the connected region around the peak
    ``(iy, ix)`` of the contrast map ``c`` where ``c >= threshold * c[iy, ix]`` (and ``allowed``).
    """
    from scipy.ndimage import label

    if np.size(x) != c.shape[1] or np.size(y) != c.shape[0]:
        raise ConfigError(
            f"x ({np.size(x)}) and y ({np.size(y)}) coordinates do not match the map "
            f"(ny, nx) = {c.shape}"
        )
    above = c >= threshold * c[iy, ix]
    lab, _ = label(above if allowed is None else above & allowed)
    reg = lab == lab[iy, ix]
    w = c * reg
    yy, xx = np.meshgrid(np.asarray(y, float), np.asarray(x, float), indexing="ij")
    return float((w * xx).sum() / w.sum()), float((w * yy).sum() / w.sum()), reg


@dataclass(frozen=True)
class LesionCandidate:
    """One local maximum of a reconstructed map (positions in m, values in the map's units).

    Attributes
    ----------
    x, y : float
        Contrast-weighted centroid of the candidate's region in m.
    peak_x, peak_y : float
        Position of the local maximum in m.
    peak : float
        The map's value (of the chosen part) at the local maximum.
    contrast : float
        ``peak`` minus the baseline (the median of the map over the mask).
    area_m2 : float
        Area of the region above ``threshold`` times the contrast in m².
    """

    x: float
    """Contrast-weighted centroid of the candidate's region, x (m)."""
    y: float
    """Contrast-weighted centroid of the candidate's region, y (m)."""
    peak_x: float
    peak_y: float
    peak: float
    """The map's value (of the chosen part) at the local maximum."""
    contrast: float
    """``peak`` minus the baseline (the median of the map over the mask)."""
    area_m2: float
    """Area of the region above ``threshold`` times the contrast (m²)."""

    def distance_to(self, point) -> float:
        """Distance (m) from the centroid to ``point`` (x, y).

        Parameters
        ----------
        point : (float, float)
            ``(x, y)`` in m.

        Returns
        -------
        float
            The distance in m.
        """
        return float(np.hypot(self.x - point[0], self.y - point[1]))


_PARTS = {"real": np.real, "loss": lambda a: -np.imag(a)}  # "abs" is |rec - median|, below


def lesion_candidates(
    rec: Any,
    x: Any,
    y: Any,
    *,
    mask: ArrayLike | None = None,
    n: int = 3,
    part: str = "real",
    min_distance: int = 2,
    threshold: float = 0.5,
) -> list[LesionCandidate]:
    """The ``n`` strongest local maxima of a 2-D map, strongest first.

    :func:`localisation_error` follows the single strongest contrast; in a dense breast that is
    often a fibroglandular lobe, while a smaller tumour shows as a separate, weaker maximum. This
    lists the maxima so that each can be judged (size, value, position against an anatomical
    prior) instead of keeping only the first.

    Parameters
    ----------
    rec : array (ny, nx)
        Reconstructed map (complex permittivity or any real map).
    x, y : array
        Cell-centre coordinates (m).
    mask : array (ny, nx) of bool, optional
        Where to look (e.g. the breast interior without the skin, whose permittivity is high);
        the baseline is the median over it. Default: the whole map.
    n : int
        How many candidates at most.
    part : {"real", "loss", "abs"}
        Which value ranks the maxima: ``Re(eps)``, the loss ``-Im(eps)`` (``exp(+jwt)``
        convention) or ``|rec - median|`` for contrast of either sign.
    min_distance : int
        Smallest separation of two maxima (cells; :func:`skimage.feature.peak_local_max`).
    threshold : float
        A candidate's region is the connected set of cells around its maximum whose contrast is at
        least ``threshold`` times the maximum's, split from its neighbours' regions by nearest
        maximum.

    Returns
    -------
    list of LesionCandidate
        Empty when nothing in the mask rises above the baseline.

    Examples
    --------
    Two bright cells on a uniform map (1 cm cells), the stronger first:

    >>> import numpy as np
    >>> from brim.microwave import lesion_candidates
    >>> x = np.arange(10) * 0.01
    >>> rec = np.full((10, 10), 5.0 - 1.0j)
    >>> rec[2, 2], rec[7, 6] = 9.0, 7.0
    >>> found = lesion_candidates(rec, x, x, n=3)
    >>> [(round(c.peak_x, 3), round(c.peak_y, 3), c.peak, c.contrast) for c in found]
    [(0.02, 0.02, 9.0, 4.0), (0.06, 0.07, 7.0, 2.0)]
    """
    from skimage.feature import peak_local_max

    rec = np.asarray(rec)
    if rec.ndim != 2:
        raise ConfigError(f"lesion candidates work on 2-D maps, not shape {rec.shape}")
    if part not in (*_PARTS, "abs"):
        raise ConfigError(f"part must be one of {sorted((*_PARTS, 'abs'))}, not {part!r}")
    if not 0 < threshold < 1:
        raise ConfigError(f"threshold must lie in (0, 1), not {threshold!r}")
    if n < 1 or min_distance < 1:
        raise ConfigError("n and min_distance must be at least 1")
    m = np.ones(rec.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.shape != rec.shape:
        raise ConfigError(f"mask {m.shape} does not match the map {rec.shape}")
    if not m.any():
        raise ConfigError("mask is empty")
    if part == "abs":
        values = np.abs(rec - np.median(rec[m].real) - 1j * np.median(rec[m].imag))
        base = 0.0
    else:
        values = np.asarray(_PARTS[part](rec), float)
        base = float(np.median(values[m]))
    if not np.all(np.isfinite(values[m])):
        raise ConfigError("the map has non-finite values inside the mask")
    c = np.maximum(np.where(m, values - base, 0.0), 0.0)
    peaks = peak_local_max(
        c, min_distance=int(min_distance), threshold_abs=1e-12, exclude_border=False, num_peaks=n
    )
    if len(peaks) == 0:
        return []
    x, y = np.asarray(x, float), np.asarray(y, float)
    iy, ix = np.indices(rec.shape)
    # nearest maximum of each cell (in cells), so that two touching blobs are kept apart
    d2 = (iy[None] - peaks[:, 0, None, None]) ** 2 + (ix[None] - peaks[:, 1, None, None]) ** 2
    owner = np.argmin(d2, axis=0)
    cell_area = float(np.mean(np.abs(np.diff(x)))) * float(np.mean(np.abs(np.diff(y))))
    out = []
    for k, (py, px) in enumerate(peaks):
        cx, cy, reg = _peak_region(c, py, px, threshold, x, y, allowed=owner == k)
        out.append(
            LesionCandidate(
                x=cx,
                y=cy,
                peak_x=float(x[px]),
                peak_y=float(y[py]),
                peak=float(values[py, px]),
                contrast=float(c[py, px]),
                area_m2=float(reg.sum() * cell_area),
            )
        )
    return out


def ssim(rec, true, *, part: str = "real") -> float:
    """Structural similarity (Wang et al. 2004) of one part of the maps (skimage).

    Parameters
    ----------
    rec, true : ndarray (ny, nx), complex
        Reconstructed and true relative permittivity.
    part : {"real", "imag", "abs"}
        Which part is compared.

    Returns
    -------
    float
        SSIM in [-1, 1].
    """
    from skimage.metrics import structural_similarity

    rec, true = _check(rec, true)
    parts: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "real": np.real,
        "imag": np.imag,
        "abs": np.abs,
    }
    a, b = parts[part](rec).astype(float), parts[part](true).astype(float)
    rng = float(max(b.max(), a.max()) - min(b.min(), a.min())) or 1.0
    win = min(7, *(s if s % 2 else s - 1 for s in b.shape))
    return float(structural_similarity(a, b, data_range=rng, win_size=win))


@positional_options
def data_misfit(predicted, measured, *, mask=None) -> float:
    """Relative data misfit ``||d_pred - d|| / ||d||`` over measured pairs (1).

    Parameters
    ----------
    predicted, measured : ndarray, complex
        Predicted and measured data.
    mask : ndarray of bool, optional
        Measured pairs; default all.

    Returns
    -------
    float
        The relative misfit (1).
    """
    p = np.asarray(predicted)
    d = np.asarray(measured)
    if p.shape != d.shape:
        raise ConfigError(f"predicted {p.shape} and measured {d.shape} data differ in shape")
    m = np.ones(d.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), d.shape)
    return float(np.linalg.norm((p - d)[m]) / max(float(np.linalg.norm(d[m])), 1e-300))


@dataclass
class TomoScores:
    """All indicators for one reconstruction.

    Attributes
    ----------
    rel_error, rel_error_real, rel_error_imag : float
        Relative errors of the complex map and of its parts (1).
    rel_error_regions : dict
        Relative error per region.
    means, true_means : dict
        Mean reconstructed and true permittivity per region.
    ssim_real : float
        SSIM of the real parts.
    localisation_error_m : float or None
        Tumour localisation error in m.
    """

    rel_error: float
    rel_error_real: float
    rel_error_imag: float
    rel_error_regions: dict
    means: dict
    true_means: dict
    ssim_real: float
    localisation_error_m: float | None

    def as_dict(self) -> dict:
        """The scores as JSON-friendly values (complex means as ``[re, im]``).

        Returns
        -------
        dict
            Field name -> value.
        """
        d = asdict(self)
        d["means"] = {k: [v.real, v.imag] for k, v in self.means.items()}
        d["true_means"] = {k: [v.real, v.imag] for k, v in self.true_means.items()}
        return d


def score(
    rec, true, masks: dict[str, np.ndarray], x, y, *, tumour_centre=None, tumour_center=None
) -> TomoScores:
    """Compute every indicator of ``rec`` against ``true`` with named region masks.

    Parameters
    ----------
    rec, true : array (ny, nx), complex
        Reconstructed and true relative permittivity.
    masks : dict of str to bool array (ny, nx)
        Named regions (``"tumour"``, ``"background"``, tissue names).
    x, y : array
        Grid coordinates in m.
    tumour_centre : (x, y) in m, optional
        Where the tumour is: adds the localisation error.
    tumour_center : (x, y) in m, optional
        Deprecated spelling of ``tumour_centre`` (warns; removed in the next release).

    Returns
    -------
    TomoScores
    """
    if tumour_center is not None:
        import warnings

        warnings.warn(
            "score(tumour_center=...) is renamed tumour_centre=; the old keyword will be removed "
            "in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        if tumour_centre is None:
            tumour_centre = tumour_center
    rec, true = _check(rec, true)
    loc = None
    if tumour_centre is not None:
        breast = ~masks["background"] if "background" in masks else None
        bgv = np.median(rec[breast]) if breast is not None and breast.any() else None
        r = np.where(breast, rec, bgv) if breast is not None else rec
        loc = localisation_error(r, x, y, tumour_centre, background=bgv)
    return TomoScores(
        rel_error=relative_error(rec, true),
        rel_error_real=relative_error(rec, true, part="real"),
        rel_error_imag=relative_error(rec, true, part="imag"),
        rel_error_regions={
            k: relative_error(rec, true, mask=m) for k, m in masks.items() if m.any()
        },
        means=region_means(rec, masks),
        true_means=region_means(true, masks),
        ssim_real=ssim(rec, true),
        localisation_error_m=loc,
    )
