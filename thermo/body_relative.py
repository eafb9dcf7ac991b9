"""Thermogram features relative to the patient's own body: blind to room, camera and period.

The static features of :mod:`brim.thermo.features` include absolute breast temperatures. On
the DMR-IR database those carry the acquisition period (room temperature, camera set-up and
the order in which healthy and sick volunteers were imaged), so a classifier trained on them
learns *when* a patient was imaged (issue 24 of brim's tracker: within the period in which
both classes were acquired, such a model is near chance). The features here are built to be
invariant by construction:

* **No absolute temperature.** Every temperature is taken relative to the same image: breast
  warmth against the median of the patient's torso outside the breasts (the body reference,
  falling back to the median of both breasts), everything else as a left–right difference.
* **Bilateral asymmetry after mirroring** about the thermal midline (Qi & Head 2001; Kakileti
  et al. 2017): ΔT statistics, hot-spot asymmetry, vascular asymmetry (Frangi vesselness),
  texture asymmetry (GLCM properties on a fixed 0.25 K bin width, Haralick et al. 1973) and
  histogram-shape asymmetry.
* **Unsigned differences.** A tumour is on either side; ``|left - right|`` is what a linear
  model can use, the sign is not.
* **No file or room property** (no ``calibrated`` flag, no background temperature).

Each feature is unchanged when a constant is added to the whole image (a different room or
camera offset); :func:`relative_features` is tested for that invariance.

References
----------
Qi H, Head JF (2001). Asymmetry analysis using automatic segmentation and classification for
breast cancer detection in thermograms. Proc IEEE EMBS 23:2866-2869.

Kakileti ST, Manjunath G, Madhu H, Ramprakash HV (2017). Advances in breast thermography.
In: New Perspectives in Breast Imaging, IntechOpen.

Haralick RM, Shanmugam K, Dinstein I (1973). Textural features for image classification.
IEEE Trans Syst Man Cybern 3(6):610-621.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from brim.errors import ConfigError
from brim.thermo.features import LEFT, RIGHT

__all__ = ["RELATIVE_FEATURE_UNITS", "relative_features"]

BODY = 1

#: Names and units of :func:`relative_features`.
RELATIVE_FEATURE_UNITS: dict[str, str] = {
    "breast_excess_mean": "K",
    "breast_excess_abs_delta": "K",
    "abs_delta_mean": "K",
    "abs_delta_median": "K",
    "abs_delta_max": "K",
    "abs_delta_p90": "K",
    "abs_delta_std": "K",
    "asym_abs_mean": "K",
    "asym_abs_p95": "K",
    "asym_area_05K": "1",
    "hotspot_area_asym": "1",
    "hotspot_excess_asym": "K",
    "vessel_mean_asym": "1",
    "vessel_area_asym": "1",
    "glcm_contrast_asym": "1",
    "glcm_homogeneity_asym": "1",
    "glcm_energy_asym": "1",
    "glcm_correlation_asym": "1",
    "skewness_asym": "1",
    "kurtosis_asym": "1",
    "area_log_ratio_abs": "1",
}


def _moments(v):
    if v.std() < 1e-9:
        return 0.0, 0.0
    return float(stats.skew(v)), float(stats.kurtosis(v))


def relative_features(
    ds: xr.Dataset,
    seg: xr.Dataset,
    *,
    hotspot_k: float = 2.0,
    glcm_bin: float = 0.25,
    vessel_threshold: float = 0.05,
    base: dict[str, float] | None = None,
) -> dict[str, float]:
    """Period-robust features of one thermogram (see :data:`RELATIVE_FEATURE_UNITS`).

    Parameters
    ----------
    ds : xarray.Dataset
        A thermogram (``temperature`` in degC, dims y, x).
    seg : xarray.Dataset
        Its segmentation (:func:`brim.thermo.segment_classical` layout: ``mask`` with 1 body,
        2 right breast, 3 left breast; optional ``midline_x``).
    hotspot_k : float
        Hot spot = pixel above its breast's mean + ``hotspot_k`` x its standard deviation.
    glcm_bin : float
        GLCM quantisation step, K.
    vessel_threshold : float
        Frangi vesselness above which a pixel counts as vessel (dimensionless).
    base : dict, optional
        :func:`brim.thermo.extract_features` of the same image and segmentation with the same
        options, when already computed (saves the second extraction).

    Returns
    -------
    dict of str -> float
        One value per name of :data:`RELATIVE_FEATURE_UNITS`, in that order.

    Raises
    ------
    SchemaError
        ``ds`` is not a thermogram.
    ConfigError
        A segmentation that does not match the image or lacks a breast.

    Examples
    --------
    >>> from brim.thermo import segment_classical, simulate_thermogram
    >>> from brim.thermo.body_relative import relative_features
    >>> ds = simulate_thermogram(seed=3)  # doctest: +SKIP
    >>> f = relative_features(ds, segment_classical(ds))  # doctest: +SKIP
    >>> f["abs_delta_mean"] >= 0  # doctest: +SKIP
    True
    """
    from brim.thermo.features import _glcm, _image, extract_features

    t, _, m = _image(ds, seg)
    if "temperature" not in ds:
        raise ConfigError("relative features need a calibrated thermogram ('temperature', degC)")
    if base is None:
        base = extract_features(
            ds, seg, hotspot_k=hotspot_k, glcm_bin=glcm_bin, vessel_threshold=vessel_threshold
        )
    r, l = m == RIGHT, m == LEFT
    body = (m == BODY) & np.isfinite(t)
    ref = float(np.median(t[body])) if body.sum() >= 50 else float(np.median(t[r | l]))
    tr, tl = t[r], t[l]
    f: dict[str, float] = {}
    f["breast_excess_mean"] = 0.5 * (base["mean_right"] + base["mean_left"]) - ref
    f["breast_excess_abs_delta"] = abs((float(np.median(tl)) - ref) - (float(np.median(tr)) - ref))
    f["abs_delta_mean"] = base["abs_delta_mean"]
    f["abs_delta_median"] = abs(float(np.median(tl) - np.median(tr)))
    f["abs_delta_max"] = base["abs_delta_max"]
    f["abs_delta_p90"] = abs(base["delta_p90"])
    f["abs_delta_std"] = abs(base["delta_std"])
    f["asym_abs_mean"] = base["asym_abs_mean"]
    f["asym_abs_p95"] = base["asym_abs_p95"]
    f["asym_area_05K"] = base["asym_area_05K"]
    f["hotspot_area_asym"] = abs(base["hotspot_area_left"] - base["hotspot_area_right"])
    f["hotspot_excess_asym"] = abs(float(tl.max() - tl.mean()) - float(tr.max() - tr.mean()))
    f["vessel_mean_asym"] = abs(base["vessel_mean_left"] - base["vessel_mean_right"])
    f["vessel_area_asym"] = base["vessel_area_asym"]
    g_r, g_l = _glcm(t, r, glcm_bin), _glcm(t, l, glcm_bin)
    for k in ("contrast", "homogeneity", "energy", "correlation"):
        f[f"glcm_{k}_asym"] = abs(g_l[k] - g_r[k])
    (sr, kr), (sl, kl) = _moments(tr), _moments(tl)
    f["skewness_asym"] = abs(sl - sr)
    f["kurtosis_asym"] = abs(kl - kr)
    f["area_log_ratio_abs"] = abs(float(np.log(l.sum() / r.sum())))
    return {k: float(f[k]) for k in RELATIVE_FEATURE_UNITS}
