"""Thermogram features: bilateral asymmetry, hot spots, vascular pattern, texture, histogram.

All features are computed inside the breast regions of a segmentation (labels of
:mod:`brim.thermo.segmentation`: 2 = right breast, 3 = left breast) and carry units
(:data:`FEATURE_UNITS`). Temperature-valued features are in degC (K for differences);
intensity inputs (uncalibrated grey images) give the same features in grey levels, flagged by
``calibrated = 0``.

* **Asymmetry** (Qi & Head 2001; Kakileti et al. 2017): the left breast is mirrored about the
  thermal midline onto the right; ΔT = T_left(mirrored) - T_right pixel by pixel where both
  breasts exist, and differences of regional statistics (mean, max, p90, std).
* **Hot spots**: pixels hotter than the breast's own mean + ``k`` x std (default 2): area
  fraction, count of connected spots, max excess over the breast mean.
* **Vascular pattern**: Frangi vesselness of the warm (bright) ridges (Frangi et al., MICCAI
  1998), scales 1-3 px: mean vesselness and the area fraction of vessel pixels.
* **Texture**: grey-level co-occurrence matrix (Haralick et al. 1973) on the breast temperatures
  quantised to 32 levels over a fixed 0.25 K bin width (no per-image rescaling): contrast,
  homogeneity, energy, correlation.
* **Histogram**: mean, std, skewness, kurtosis, entropy (bins of 0.1 K).

The rule-based baseline (:func:`delta_t_rule`) flags a thermogram whose absolute difference of
mean (or max) breast temperatures exceeds a threshold (0.5 K by default; the classical ≥ 1 K /
0.5 K contralateral-difference rules of Gautherie 1980 and of Head et al. 1993).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy import ndimage, stats

if TYPE_CHECKING:
    import pandas as pd

from brim import provenance
from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError, SchemaError
from brim.schema import expect_dataset, expect_dims
from brim.schema.thermo import IMAGE_KINDS

__all__ = [
    "FEATURE_UNITS",
    "asymmetry_map",
    "delta_t_rule",
    "extract_features",
    "features_table",
]

RIGHT, LEFT = 2, 3

FEATURE_UNITS: dict[str, str] = {
    "mean_right": "degC",
    "mean_left": "degC",
    "delta_mean": "K",
    "abs_delta_mean": "K",
    "delta_max": "K",
    "abs_delta_max": "K",
    "delta_p90": "K",
    "delta_std": "K",
    "asym_abs_mean": "K",
    "asym_abs_p95": "K",
    "asym_area_05K": "1",
    "hotspot_area_right": "1",
    "hotspot_area_left": "1",
    "hotspot_count": "1",
    "hotspot_excess_max": "K",
    "vessel_mean_right": "1",
    "vessel_mean_left": "1",
    "vessel_area_asym": "1",
    "glcm_contrast": "1",
    "glcm_homogeneity": "1",
    "glcm_energy": "1",
    "glcm_correlation": "1",
    "glcm_contrast_asym": "1",
    "hist_std": "K",
    "hist_skewness": "1",
    "hist_kurtosis": "1",
    "hist_entropy": "bit",
    "breast_area_ratio": "1",
    "calibrated": "1",
}


def _check_number(
    name: str, value: object, *, lo: float = -np.inf, hi: float = np.inf, positive: bool = False
) -> None:
    """ConfigError unless ``value`` is a real number in [lo, hi] (and > 0 with ``positive``).

    A string, None or NaN for a numeric option used to fail deep inside NumPy or SciPy (or,
    for a huge smoothing width, to hang).
    """
    real = (int, float, np.integer, np.floating)
    v = float(value) if isinstance(value, real) and not isinstance(value, bool) else np.nan
    if not (lo <= v <= hi and (v > 0 or not positive)):
        if positive:
            want = "a number > 0" + (f" and <= {hi:g}" if np.isfinite(hi) else "")
        elif np.isfinite(lo) or np.isfinite(hi):
            want = f"a number in [{lo:g}, {hi:g}]"
        else:
            want = "a finite number"
        raise ConfigError(f"{name} must be {want}, got {value!r}")


def _image(ds: xr.Dataset, seg: xr.Dataset) -> tuple[np.ndarray, bool, np.ndarray]:
    """The image of ``ds`` (first frame of a series), whether it is calibrated (degC), and the
    ``mask`` of its segmentation ``seg`` on the same (y, x) grid."""
    expect_dataset(ds, IMAGE_KINDS)
    expect_dataset(seg, "mask", builder="brim.thermo.segment_classical")
    if "temperature" in ds:
        v, cal = ds["temperature"], True
    elif "intensity" in ds:
        v, cal = ds["intensity"], False
    else:
        raise SchemaError("a thermogram ('temperature') or thermal_intensity image is expected")
    if "time" in v.dims:
        v = v.isel(time=0)
    t = np.asarray(expect_dims(v, ("y", "x"), arg="ds").values, np.float64)
    if cal:
        _check_celsius(t)
    if "mask" not in seg.data_vars or "temperature" in seg or "intensity" in seg:
        raise SchemaError(
            "seg: got a Dataset without a segmentation 'mask' (variables "
            f"{sorted(map(str, seg.data_vars))}); pass the segmentation of ds, "
            "seg = brim.thermo.segment(ds), as the second argument"
        )
    m = expect_dims(seg["mask"], ("y", "x"), arg="seg").values
    if m.shape != t.shape:
        raise ConfigError(f"segmentation {m.shape} does not match the image {t.shape}")
    return t, cal, m


def _check_celsius(t: np.ndarray) -> None:
    """Refuse an image whose temperatures are not skin in degC (a kelvin or degF array labelled
    degC in a notebook gave features hundreds of degrees off); the readers' check."""
    from brim.thermo.readers import _check_degc

    if not np.isfinite(t).any():
        raise SchemaError("ds: the thermogram has no finite temperature (all NaN)")
    try:
        _check_degc(t, "ds 'temperature'")
    except FormatError as exc:
        raise SchemaError(str(exc)) from None


def _mirror_left(t: np.ndarray, midline: float) -> tuple[np.ndarray, np.ndarray]:
    """Column map x -> 2*midline - x (nearest column) and a validity mask."""
    w = t.shape[1]
    src = np.rint(2.0 * midline - np.arange(w)).astype(int)
    ok = (src >= 0) & (src < w)
    return np.clip(src, 0, w - 1), ok


@provenance.step
def asymmetry_map(ds: xr.Dataset, seg: xr.Dataset) -> xr.Dataset:
    """ΔT map: the left breast mirrored about the midline minus the right breast (K).

    Parameters
    ----------
    ds : xarray.Dataset
        Thermogram (``temperature``, degC) or ``thermal_intensity`` image on (y, x).
    seg : xarray.Dataset
        Its segmentation: ``mask`` (2 right, 3 left breast) and ``midline_x`` (column, px), as
        made by :func:`brim.thermo.segmentation.segment_classical`.

    Returns
    -------
    xarray.Dataset
        ``delta_t`` (y, x) on the right-breast side of the image (NaN elsewhere) in K:
        T(left, mirrored) - T(right); positive = left warmer.

    Examples
    --------
    >>> import brim.data
    >>> from brim.thermo import asymmetry_map, segment_classical
    >>> ds = brim.data.sample("thermo_phantom_tumour")
    >>> dt = asymmetry_map(ds, segment_classical(ds))["delta_t"]
    >>> dt.dims, dt.attrs["units"]
    (('y', 'x'), 'K')
    >>> bool(dt.mean() > 0)  # the tumour warms the patient's left breast
    True
    """
    t, _, m = _image(ds, seg)
    mid = float(seg["midline_x"]) if "midline_x" in seg else t.shape[1] / 2.0
    src, ok = _mirror_left(t, mid)
    left_m = (m == LEFT)[:, src] & ok[None, :]
    tl = t[:, src]
    both = left_m & (m == RIGHT)
    delta = np.where(both, tl - t, np.nan)
    return xr.Dataset(
        {"delta_t": (("y", "x"), delta.astype(np.float32), {"units": "K"})},
        coords={"y": ds["y"], "x": ds["x"]},
        attrs={"midline_x": mid, "definition": "T_left(mirrored) - T_right"},
    )


def _glcm(values: np.ndarray, region: np.ndarray, bin_width: float) -> dict[str, float]:
    from skimage.feature import graycomatrix, graycoprops

    if region.sum() < 16:
        return dict.fromkeys(("contrast", "homogeneity", "energy", "correlation"), np.nan)
    ys, xs = np.nonzero(region)
    sub = values[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    reg = region[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    lo = np.nanmin(sub[reg])
    q = np.clip(np.floor((sub - lo) / bin_width), 0, 30).astype(np.uint8) + 1
    q[~reg] = 0  # level 0 = outside, dropped from the matrix below
    g = graycomatrix(q, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=32, symmetric=True)
    g = g[1:, 1:].astype(float)
    g /= np.maximum(g.sum(axis=(0, 1), keepdims=True), 1)
    return {
        p: float(graycoprops(g, p).mean())
        for p in ("contrast", "homogeneity", "energy", "correlation")
    }


def extract_features(
    ds: xr.Dataset,
    seg: xr.Dataset,
    *,
    hotspot_k: float = 2.0,
    glcm_bin: float = 0.25,
    vessel_threshold: float = 0.05,
) -> dict[str, float]:
    """All features of one thermogram (see :data:`FEATURE_UNITS` for the units).

    Parameters
    ----------
    ds : xarray.Dataset
        Thermogram (degC) or thermal_intensity image.
    seg : xarray.Dataset
        Its segmentation (:func:`brim.thermo.segmentation.segment_classical`).
    hotspot_k : float
        Hot spot = pixel above breast mean + k x breast std.
    glcm_bin : float
        GLCM quantisation step in K (grey levels for intensity images).
    vessel_threshold : float
        Frangi vesselness above which a pixel counts as vessel (dimensionless).

    Returns
    -------
    dict of str to float
        One value per name in :data:`FEATURE_UNITS` (K or degC for temperature features on a
        thermogram, grey levels on an intensity image, 1 for ratios and counts).

    Raises
    ------
    ConfigError
        The segmentation does not match the image, or lacks a breast.
    FormatError
        Pixels inside a breast hold no value (NaN cells of a damaged matrix).

    Examples
    --------
    >>> import brim.data
    >>> from brim.thermo import segment_classical
    >>> ds = brim.data.sample("thermo_phantom_tumour")
    >>> f = extract_features(ds, segment_classical(ds))
    >>> f["delta_mean"] > 0  # the tumour is in the patient's left breast
    True
    """
    from skimage.filters import frangi

    t, calibrated, m = _image(ds, seg)
    _check_number("hotspot_k", hotspot_k, lo=-1e3, hi=1e3)
    _check_number("glcm_bin", glcm_bin, positive=True, hi=1e6)
    _check_number("vessel_threshold", vessel_threshold, lo=-1e6, hi=1e6)
    r, l = m == RIGHT, m == LEFT
    if r.sum() < 10 or l.sum() < 10:
        raise ConfigError(
            "the segmentation lacks a breast (fewer than 10 pixels on one side): features need "
            "both breasts"
        )
    missing = int((~np.isfinite(t) & (r | l)).sum())
    if missing:  # NaN in the background (a damaged matrix's corner) is harmless
        raise FormatError(
            f"{missing} pixels inside the breasts hold no value (NaN or empty cells in the "
            "file): the features need every breast pixel"
        )
    tr, tl = t[r], t[l]
    f: dict[str, float] = {}
    f["mean_right"], f["mean_left"] = float(tr.mean()), float(tl.mean())
    f["delta_mean"] = f["mean_left"] - f["mean_right"]
    f["abs_delta_mean"] = abs(f["delta_mean"])
    f["delta_max"] = float(tl.max() - tr.max())
    f["abs_delta_max"] = abs(f["delta_max"])
    f["delta_p90"] = float(np.percentile(tl, 90) - np.percentile(tr, 90))
    f["delta_std"] = float(tl.std() - tr.std())
    dmap = asymmetry_map(ds, seg)["delta_t"].values
    d = dmap[np.isfinite(dmap)]
    f["asym_abs_mean"] = float(np.abs(d).mean()) if d.size else np.nan
    f["asym_abs_p95"] = float(np.percentile(np.abs(d), 95)) if d.size else np.nan
    f["asym_area_05K"] = float((np.abs(d) > 0.5).mean()) if d.size else np.nan
    # hot spots
    n_spots = 0
    excess = -np.inf
    for side, vals, reg in (("right", tr, r), ("left", tl, l)):
        thr = vals.mean() + hotspot_k * vals.std()
        hot = reg & (t > thr)
        f[f"hotspot_area_{side}"] = float(hot.sum() / reg.sum())
        n_spots += int(ndimage.label(hot)[1])
        excess = max(excess, float(vals.max() - vals.mean()))
    f["hotspot_count"] = float(n_spots)
    f["hotspot_excess_max"] = excess
    # vascular pattern (bright ridges)
    tf = np.where(np.isfinite(t), t, np.nanmean(t))
    scale = 1.0 if calibrated else 1.0 / 25.0  # grey levels ~ 25 per K on typical exports
    ys, xs = np.nonzero(r | l)
    pad = 12  # > 3 sigma of the largest scale: the crop does not change the filter inside
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, t.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, t.shape[1])
    v = np.zeros_like(tf)
    v[y0:y1, x0:x1] = frangi(tf[y0:y1, x0:x1] * scale, sigmas=(1.0, 2.0, 3.0), black_ridges=False)
    f["vessel_mean_right"] = float(v[r].mean())
    f["vessel_mean_left"] = float(v[l].mean())
    f["vessel_area_asym"] = float(
        abs((v[l] > vessel_threshold).mean() - (v[r] > vessel_threshold).mean())
    )
    # texture
    g_all = _glcm(t, r | l, glcm_bin)
    g_r, g_l = _glcm(t, r, glcm_bin), _glcm(t, l, glcm_bin)
    for k, val in g_all.items():
        f[f"glcm_{k}"] = val
    f["glcm_contrast_asym"] = float(abs(g_l["contrast"] - g_r["contrast"]))
    # histogram
    both = t[r | l]
    f["hist_std"] = float(both.std())
    flat = both.std() < 1e-9  # constant field: moments of higher order are 0 by convention
    f["hist_skewness"] = 0.0 if flat else float(stats.skew(both))
    f["hist_kurtosis"] = 0.0 if flat else float(stats.kurtosis(both))
    hist, _ = np.histogram(both, bins=np.arange(both.min(), both.max() + 0.2, 0.1))
    f["hist_entropy"] = float(stats.entropy(hist, base=2))  # Shannon entropy of the bins
    f["breast_area_ratio"] = float(l.sum() / r.sum())
    f["calibrated"] = float(calibrated)
    return f


def delta_t_rule(
    features: dict[str, float] | list[dict[str, float]],
    *,
    threshold: float = 0.5,
    feature: str = "abs_delta_mean",
) -> np.ndarray:
    """Rule-based baseline: positive when ``|ΔT|`` between breasts exceeds ``threshold`` (K).

    Parameters
    ----------
    features : dict, list of dict or pandas.DataFrame
        Features of one thermogram or of several (:func:`extract_features`, or the table of
        :func:`features_table`).
    threshold : float
        Decision threshold on the feature, K.
    feature : str
        The feature compared, a key of the feature dicts (default the absolute difference of
        the breasts' mean temperatures).

    Returns
    -------
    numpy.ndarray
        Scores ``|ΔT| - threshold`` (K; > 0 = positive), one per thermogram, usable as a
        ranking score for ROC analysis.

    Examples
    --------
    >>> delta_t_rule([{"abs_delta_mean": 0.8}, {"abs_delta_mean": 0.2}]).round(3).tolist()
    [0.3, -0.3]
    """
    rows = _feature_rows(features, "features")
    if feature not in FEATURE_UNITS:
        raise ConfigError(f"unknown feature {feature!r}")
    _check_number("threshold", threshold)
    if any(feature not in r for r in rows):
        raise ConfigError(f"feature {feature!r} is missing from a row of features")
    return np.array([abs(r[feature]) - threshold for r in rows], float)


def _feature_rows(rows: object, arg: str) -> list[dict]:
    """``rows`` as a list of feature dicts: one dict, a list of them, or a features_table
    DataFrame; anything else is a ConfigError naming ``arg`` (was a pandas or TypeError)."""
    if isinstance(rows, dict):
        return [rows]
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a pandas DataFrame
        return list(rows.to_dict("records"))
    if isinstance(rows, (list, tuple)) and all(isinstance(r, dict) for r in rows):
        return list(rows)
    raise ConfigError(
        f"{arg} must be a feature dict (extract_features), a list of them or a "
        f"features_table DataFrame; got {type(rows).__name__}"
    )


@positional_options
def features_table(rows: list[dict], *, names: list[str] | None = None) -> pd.DataFrame:
    """A pandas DataFrame of feature rows with a units row in ``df.attrs['units']``.

    Parameters
    ----------
    rows : list of dict
        Features of each thermogram (:func:`extract_features`); one dict is one row.
    names : list of str, optional
        File names, one per row, put in a first column ``file``.

    Returns
    -------
    pandas.DataFrame
        One row per thermogram, one column per feature; ``df.attrs["units"]`` maps each
        column to its unit (:data:`FEATURE_UNITS`; "" for ``file``).

    Examples
    --------
    >>> rows = [{"mean_left": 33.1, "delta_mean": 0.4}, {"mean_left": 32.8, "delta_mean": -0.1}]
    >>> df = features_table(rows, names=["a.txt", "b.txt"])
    >>> df.shape, list(df.columns)
    ((2, 3), ['file', 'mean_left', 'delta_mean'])
    >>> df.attrs["units"]
    {'file': '', 'mean_left': 'degC', 'delta_mean': 'K'}
    """
    import pandas as pd

    rows = _feature_rows(rows, "rows")
    if names is not None and (isinstance(names, str) or len(names) != len(rows)):
        raise ConfigError(f"names must be a list of {len(rows)} file name(s), one per row")
    df = pd.DataFrame(rows)
    if names is not None:
        df.insert(0, "file", names)
    df.attrs["units"] = {k: FEATURE_UNITS.get(k, "") for k in df.columns}
    return df


def features_path(path, **params) -> xr.Dataset:
    """Batch pipeline: read a thermal file, segment it classically, and return its features as a
    Dataset of 0-d variables, each with its ``units`` attribute (``brim batch``).

    Parameters
    ----------
    path : path-like
        A file :func:`brim.thermo.read` reads.
    **params
        Options of :func:`extract_features`.

    Returns
    -------
    xarray.Dataset
        One 0-d variable per feature with ``units``; attributes ``source_file`` and, when
        known, ``patient``.
    """
    from brim.thermo.readers import read
    from brim.thermo.segmentation import segment_classical

    ds = read(path)
    f = extract_features(ds, segment_classical(ds), **params)
    out = xr.Dataset({k: ((), v, {"units": FEATURE_UNITS.get(k, "1")}) for k, v in f.items()})
    out.attrs["source_file"] = ds.attrs.get("source_file", str(path))
    if "patient" in ds.attrs:
        out.attrs["patient"] = ds.attrs["patient"]
    return out
