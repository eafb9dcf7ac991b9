"""Quality indicators for quantitative microwave tomography.

Relative errors of the complex permittivity (global and per region), region means, tumour
localisation error, SSIM and data misfit. They follow the usual definitions of the
inverse-scattering literature, e.g. the ``zeta`` indicators of eispy2d (Batista, Adriano &
Batista, 2021): the relative error is ``||eps_rec - eps_true|| / ||eps_true||`` over a region
(an L2 norm over its cells), per complex map, real part and imaginary part.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from brim.errors import ConfigError

__all__ = [
    "TomoScores",
    "data_misfit",
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


def relative_error(rec, true, mask=None, *, part: str = "complex") -> float:
    """``||rec - true|| / ||true||`` over ``mask`` (1); ``part`` "complex", "real" or "imag"."""
    rec, true = _check(rec, true)
    m = np.ones(true.shape, bool) if mask is None else np.asarray(mask, bool)
    if not m.any():
        raise ConfigError("region mask is empty")
    f = {"complex": lambda a: a, "real": np.real, "imag": np.imag}[part]
    a, b = f(rec[m]), f(true[m])
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def region_means(eps, masks: dict[str, np.ndarray]) -> dict[str, complex]:
    """Mean complex permittivity per region (empty regions omitted)."""
    eps = np.asarray(eps)
    return {k: complex(eps[np.asarray(m, bool)].mean()) for k, m in masks.items() if np.any(m)}


def localisation_error(rec, x, y, true_center, *, background=None, threshold=0.5) -> float:
    """Distance (m) between the true tumour centre and the centroid of the reconstructed peak.

    The peak region is the connected set of cells around the maximum of ``|rec - background|``
    above ``threshold`` times that maximum; its contrast-weighted centroid is compared with
    ``true_center`` (x, y) in m.
    """
    from scipy.ndimage import label

    rec = np.asarray(rec)
    bgv = np.median(rec) if background is None else background
    c = np.abs(rec - bgv)
    if isinstance(c, np.ndarray) and c.ndim != 2:
        raise ConfigError("localisation works on 2-D maps")
    iy, ix = np.unravel_index(np.argmax(c), c.shape)
    if not c[iy, ix] > 0:
        raise ConfigError("the map has no contrast against the background: nothing to localise")
    lab, _ = label(c >= threshold * c[iy, ix])
    reg = lab == lab[iy, ix]
    w = c * reg
    yy, xx = np.meshgrid(np.asarray(y), np.asarray(x), indexing="ij")
    cx = float((w * xx).sum() / w.sum())
    cy = float((w * yy).sum() / w.sum())
    return float(np.hypot(cx - true_center[0], cy - true_center[1]))


def ssim(rec, true, *, part: str = "real") -> float:
    """Structural similarity (Wang et al. 2004) of one part of the maps (skimage)."""
    from skimage.metrics import structural_similarity

    rec, true = _check(rec, true)
    f = {"real": np.real, "imag": np.imag, "abs": np.abs}[part]
    a, b = f(rec).astype(float), f(true).astype(float)
    rng = float(max(b.max(), a.max()) - min(b.min(), a.min())) or 1.0
    win = min(7, *(s if s % 2 else s - 1 for s in b.shape))
    return float(structural_similarity(a, b, data_range=rng, win_size=win))


def data_misfit(predicted, measured, mask=None) -> float:
    """Relative data misfit ``||d_pred - d|| / ||d||`` over measured pairs (1)."""
    p = np.asarray(predicted)
    d = np.asarray(measured)
    m = np.ones(d.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), d.shape)
    return float(np.linalg.norm((p - d)[m]) / max(np.linalg.norm(d[m]), 1e-300))


@dataclass
class TomoScores:
    """All indicators for one reconstruction."""

    rel_error: float
    rel_error_real: float
    rel_error_imag: float
    rel_error_regions: dict
    means: dict
    true_means: dict
    ssim_real: float
    localisation_error_m: float | None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["means"] = {k: [v.real, v.imag] for k, v in self.means.items()}
        d["true_means"] = {k: [v.real, v.imag] for k, v in self.true_means.items()}
        return d


def score(rec, true, masks: dict[str, np.ndarray], x, y, *, tumour_center=None) -> TomoScores:
    """Compute every indicator of ``rec`` against ``true`` with named region masks."""
    rec, true = _check(rec, true)
    loc = None
    if tumour_center is not None:
        breast = ~masks["background"] if "background" in masks else None
        bgv = np.median(rec[breast]) if breast is not None and breast.any() else None
        r = np.where(breast, rec, bgv) if breast is not None else rec
        loc = localisation_error(r, x, y, tumour_center, background=bgv)
    return TomoScores(
        rel_error=relative_error(rec, true),
        rel_error_real=relative_error(rec, true, part="real"),
        rel_error_imag=relative_error(rec, true, part="imag"),
        rel_error_regions={k: relative_error(rec, true, m) for k, m in masks.items() if m.any()},
        means=region_means(rec, masks),
        true_means=region_means(true, masks),
        ssim_real=ssim(rec, true),
        localisation_error_m=loc,
    )
