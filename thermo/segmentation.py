"""Segmentation of frontal breast thermograms.

Classical pipeline (:func:`segment_classical`), after the steps common to the thermography
literature (Kapoor & Prasad 2010; Mejía-Muñoz et al. / Kakileti et al. 2017 "Thermalytix" ROI
steps; Silva et al. 2014 DMR-IR protocol):

1. **body / background**: Otsu's threshold (Otsu 1979, *IEEE Trans. Syst. Man Cybern.* 9, 62;
   :func:`skimage.filters.threshold_otsu`) of the smoothed temperature (the warm body against
   the cooler room), largest connected component, holes filled;
2. **thermal midline**: the column about which the body's temperature field is most symmetric
   (minimum mean absolute difference between the field and its mirror image over the torso
   band);
3. **inframammary folds**: on each side, the warm horizontal ridge under the breast (largest
   negative second derivative across rows of the smoothed field) traced column by column in the
   lower torso and fitted robustly by a parabola. Rows at and below a cold object enclosed by
   the body (the DMR-IR marker, a square of tape between the breasts below the folds, 6-10 K
   under the skin) are left out: its lower edge is a warm ridge of its own;
4. **left / right breasts**: body pixels between the breast top line and the fold, on each side
   of the midline. "Left"/"right" are the *patient's*: in a frontal view the patient's left
   breast is on the viewer's right (higher x).

Learned pipeline: the small U-Net of :mod:`brim.learn` (Ronneberger et al., MICCAI 2015; trained
by :func:`brim.learn.fit` with class-weighted BCE and flips) on the breast masks of
the Colombian cohort (Rodriguez-Guerrero et al., Data in Brief 54:110503, 2024; alpha channel =
mask), see :func:`train_unet` and :func:`segment_unet`. Note on that data: the grey channel of
every crop is exactly 0 outside the mask, so a trivial ``grey > 0`` rule reproduces the mask;
:func:`load_colombia` therefore fills the background with a smooth random field of the image's
own grey levels (``fill_background=True``) so a model must learn breast shape, not the leak.

Label values of the classical mask: 0 background, 1 body (not breast), 2 right breast,
3 left breast.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage
from skimage.filters import threshold_otsu

from brim import provenance
from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError, MissingFileError, SchemaError, warn
from brim.schema import expect_dataset, expect_dims
from brim.schema.thermo import IMAGE_KINDS
from brim.thermo.features import _check_number

logger = logging.getLogger(__name__)

# Warning thresholds of segment_classical. In a frontal thermogram taken to the DMR-IR protocol
# (Silva et al. 2014: torso from the neck to below the inframammary folds fills the frame) the
# body covers 62-86 % of the frame and each breast 9-24 % (the 41 DMR-IR frames under
# BRIM_EXTERNAL_DATA). A body under 20 % of the frame (a third of the smallest seen) or breasts
# together under 3 % (a sixth of the smallest pair, 17 %) means the view is not of a breast:
# a hand, a face, a building, or a far-away patient.
MIN_BODY_FRACTION = 0.20
MIN_BREAST_FRACTION = 0.03

LABELS = {"background": 0, "body": 1, "right_breast": 2, "left_breast": 3}

__all__ = [
    "LABELS",
    "body_mask",
    "find_midline",
    "load_colombia",
    "segment",
    "segment_classical",
    "segment_unet",
    "segmentation_from_masks",
    "train_unet",
    "unet_spec",
]


def _temperature(ds: xr.Dataset) -> np.ndarray:
    expect_dataset(ds, IMAGE_KINDS)
    if "temperature" in ds:
        t = ds["temperature"]
    elif "intensity" in ds:
        t = ds["intensity"]
    else:
        raise SchemaError("a thermogram with 'temperature' (or 'intensity') is expected")
    if "time" in t.dims:
        t = t.isel(time=0)
    return np.asarray(expect_dims(t, ("y", "x"), arg="ds").values, dtype=np.float64)


def body_mask(temperature: np.ndarray, *, sigma: float = 2.0) -> np.ndarray:
    """Body (True) against background by Otsu's threshold of the smoothed image.

    Parameters
    ----------
    temperature : ndarray (y, x)
        Temperature in degC (or grey levels: only the ordering matters). NaN = background.
    sigma : float
        Gaussian smoothing in pixels before thresholding.

    Returns
    -------
    numpy.ndarray of bool
        Body mask (y, x), holes filled.
    """
    t = np.array(temperature, dtype=np.float64)
    bad = ~np.isfinite(t)
    if bad.all():
        raise FormatError("the image holds no finite value")
    t[bad] = np.nanmin(t)
    ts = ndimage.gaussian_filter(t, sigma)
    # Otsu (1979) on a 256-bin histogram; an image of one value has no body (threshold = it)
    m = ts > threshold_otsu(ts[~bad], nbins=256)
    m = ndimage.binary_opening(m, iterations=2)
    lab, n = ndimage.label(m)
    if n == 0:
        return m
    sizes = ndimage.sum_labels(m, lab, index=np.arange(1, n + 1))
    m = lab == (1 + int(np.argmax(sizes)))
    return ndimage.binary_fill_holes(m)


def find_midline(
    temperature: np.ndarray, body: np.ndarray, *, band: tuple[float, float] = (0.3, 0.95)
) -> float:
    """Column (px) of the thermal midline: the axis of best mirror symmetry.

    Minimises the mean absolute difference between the temperature field and its mirror image
    about candidate columns (within the middle 40 % of the body's width), over the rows of
    ``band`` (fractions of the body's height).

    Parameters
    ----------
    temperature : numpy.ndarray
        Image (y, x), degC or grey levels.
    body : numpy.ndarray of bool
        Body mask (:func:`body_mask`), same shape.
    band : (float, float)
        Rows used, as fractions of the body's height from its top.

    Returns
    -------
    float
        Midline column, px (a whole column).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(64)
    >>> temperature = np.tile(34.0 - 0.01 * (x - 30.0) ** 2, (40, 1))  # symmetric about x = 30
    >>> body = np.zeros((40, 64), bool)
    >>> body[5:35, 10:51] = True
    >>> find_midline(temperature, body)
    30.0
    """
    if isinstance(temperature, xr.Dataset) or isinstance(body, xr.Dataset):
        raise SchemaError(
            "find_midline takes the image and the body mask as (y, x) arrays, e.g. "
            "find_midline(ds['temperature'].values, body_mask(...)); for a thermogram Dataset "
            "use segment_classical(ds)['midline_x']"
        )
    temperature, body = np.asarray(temperature), np.asarray(body)
    if temperature.ndim != 2 or temperature.shape != body.shape:
        raise ConfigError(
            f"temperature and body must be (y, x) images of one shape, got {temperature.shape} "
            f"and {body.shape}"
        )
    if not (isinstance(band, (tuple, list)) and len(band) == 2):
        raise ConfigError(f"band must be two fractions (lo, hi), got {band!r}")
    rows = np.flatnonzero(body.any(axis=1))
    cols = np.flatnonzero(body.any(axis=0))
    if rows.size < 4 or cols.size < 4:
        raise FormatError("no body found in the image: cannot find a midline")
    r0 = rows[0] + int(band[0] * (rows[-1] - rows[0]))
    r1 = rows[0] + int(band[1] * (rows[-1] - rows[0]))
    t = np.where(body, temperature, np.nan)[r0:r1:2]
    c_lo, c_hi = cols[0], cols[-1]
    width = c_hi - c_lo
    best, best_c = np.inf, 0.5 * (c_lo + c_hi)
    half = max(8, int(0.35 * width))
    for c2 in range(2 * (c_lo + int(0.3 * width)), 2 * (c_lo + int(0.7 * width)) + 1, 2):
        # axis at c2/2 (integer columns); pairs (c2//2 - d, c2 - c2//2 + d)
        c = c2 // 2
        d = np.arange(1, half)
        left = c - d
        right = c + d
        ok = (left >= 0) & (right < t.shape[1])
        if ok.sum() < 8:
            continue
        diff = np.abs(t[:, left[ok]] - t[:, right[ok]])
        valid = np.isfinite(diff)
        if valid.sum() < 50:
            continue
        # penalise asymmetric body outline: pairs with exactly one side in the body
        one = np.isfinite(t[:, left[ok]]) ^ np.isfinite(t[:, right[ok]])
        score = diff[valid].mean() + 2.0 * one.mean()
        if score < best:
            best, best_c = score, float(c)
    return best_c


# A cold object held against the torso (the DMR-IR protocol's marker, a square of tape below the
# folds between the breasts, 6-10 K under the skin) is not skin: its lower edge is a warm ridge
# that the fold search took for the fold, pulling the fold curve down to it. Skin of the torso
# stays within about 3 K of its median (MAD 0.7-1.8 K over the DMR-IR frames), so a region
# COLD_OBJECT_K colder than the body's median and enclosed by the body is an object.
COLD_OBJECT_K = 4.0


def _cold_objects(
    ts: np.ndarray, body: np.ndarray, rows: tuple[int, int], reach: float
) -> np.ndarray:
    """Pixels within ``reach`` px of a cold object enclosed by the body, centred in ``rows``
    (the fold search band: raised hands or hair above the breasts are not in the way)."""
    cold = body & (ts < np.median(ts[body]) - COLD_OBJECT_K)
    if not cold.any():
        return cold
    # enclosed: the component does not reach the body's outline (cold arms and the lateral
    # edges, blurred with the background, do)
    lab, n = ndimage.label(cold)
    rim = body & ~ndimage.binary_erosion(body, iterations=3)
    touching = np.unique(lab[rim & cold])
    centre = np.array([c[0] for c in ndimage.center_of_mass(cold, lab, np.arange(1, n + 1))])
    outside = 1 + np.flatnonzero((centre < rows[0]) | (centre >= rows[1]))
    objects = cold & ~np.isin(lab, np.union1d(touching, outside))
    if not objects.any():
        return objects
    return ndimage.distance_transform_edt(~objects) <= reach


def _fold_curve(
    ts: np.ndarray, body: np.ndarray, cols: np.ndarray, r_lo: int, r_hi: int, strength: float
):
    """Row of the warm fold ridge per column (robust parabola fit); NaN where none."""
    d2 = ndimage.gaussian_filter(ts, 3.0, order=(2, 0))
    rows_found = []
    cols_found = []
    for c in cols:
        seg = d2[r_lo:r_hi, c]
        inside = body[r_lo:r_hi, c]
        if inside.sum() < 10:
            continue
        s = np.where(inside, seg, np.inf)
        k = int(np.argmin(s))
        if not np.isfinite(s[k]) or s[k] >= 0:
            continue
        # the fold is the LOWEST warm ridge at least `strength` x as strong as the column's
        # strongest (ridges inside the breast - vessels, areola, a phantom's rim - lie above)
        k = int(np.flatnonzero(s < strength * s[k]).max())
        while k > 0 and s[k - 1] < s[k]:  # walk to that ridge's own minimum
            k -= 1
        rows_found.append(r_lo + k)
        cols_found.append(c)
    if len(cols_found) < 6:
        return None
    x = np.asarray(cols_found, float)
    y = np.asarray(rows_found, float)
    keep = np.ones(x.size, bool)
    coef = np.polyfit(x, y, 2)
    for _ in range(3):  # iteratively drop outliers (> 2.5 MAD)
        resid = y - np.polyval(coef, x)
        mad = np.median(np.abs(resid[keep])) + 1.0
        keep = np.abs(resid) < 2.5 * 1.4826 * mad
        if keep.sum() < 6:
            break
        coef = np.polyfit(x[keep], y[keep], 2)
    if coef[0] > 0:  # a fold curves upward at the sides: parabola opening up in image rows
        coef = np.polyfit(x[keep], y[keep], 1)
        coef = np.r_[0.0, coef]
    return coef, (float(x[keep].min()), float(x[keep].max()))


@dataclass
class _Geometry:
    midline: float
    top: dict = field(default_factory=dict)
    fold: dict = field(default_factory=dict)


def segmentation_from_masks(ds: xr.Dataset) -> xr.Dataset:
    """The segmentation of a simulated thermogram from its true masks, in :data:`LABELS`.

    Simulated thermograms (:func:`brim.thermo.simulate_thermogram`) carry the true
    ``body_mask`` and ``breast_mask`` (1 patient's right, 2 left); this turns them into the
    layout :func:`segment_classical` returns, so features can be computed without segmentation
    errors. The phantoms are symmetric about the image centre, which is taken as the midline.

    Parameters
    ----------
    ds : xarray.Dataset
        A thermogram with ``breast_mask`` (and optionally ``body_mask``) on (y, x).

    Returns
    -------
    xarray.Dataset
        ``mask`` (y, x) uint8 (0 background, 1 body, 2 right breast, 3 left breast) and
        ``midline_x`` (column index of the image centre).

    Raises
    ------
    SchemaError
        No ``breast_mask`` variable.

    Examples
    --------
    >>> import brim.data
    >>> from brim.thermo.segmentation import segmentation_from_masks
    >>> seg = segmentation_from_masks(brim.data.sample("thermo_phantom_tumour"))
    >>> sorted(int(v) for v in np.unique(seg["mask"]))
    [0, 1, 2, 3]
    """
    if "breast_mask" not in ds:
        raise SchemaError("true masks need a 'breast_mask' variable (a simulated thermogram)")
    bm = ds["breast_mask"].values
    mask = (
        ds["body_mask"].values.astype(np.uint8)
        if "body_mask" in ds
        else np.zeros(bm.shape, np.uint8)
    )
    mask[bm == 1] = LABELS["right_breast"]
    mask[bm == 2] = LABELS["left_breast"]
    seg = xr.Dataset({"mask": (("y", "x"), mask)}, coords={"y": ds["y"], "x": ds["x"]})
    seg["midline_x"] = (ds.sizes["x"] - 1) / 2.0
    return seg


@provenance.step
def segment_classical(
    ds: xr.Dataset,
    *,
    sigma: float = 2.0,
    top_factor: float = 1.2,
    lateral_margin: float = 0.15,
    fold_strength: float = 0.7,
    fold_band: tuple[float, float] = (0.45, 1.0),
) -> xr.Dataset:
    """Classical segmentation: body, thermal midline, inframammary folds, left/right breasts.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``thermogram`` (degC) or ``thermal_intensity`` image, frontal view; a series uses its
        first frame.
    sigma : float
        Gaussian smoothing (px) for thresholding.
    top_factor : float
        Breast top line = lowest fold row minus ``top_factor`` x the fold's chord (its
        horizontal extent): breast height ~ breast width, a geometric rule.
    lateral_margin : float
        The breast spans the fold chord widened by this fraction of it on each side.
    fold_strength : float
        In each column the fold is the lowest warm ridge (negative second derivative across
        rows) at least this fraction as strong as the column's strongest one.
    fold_band : (float, float)
        Rows searched for the fold, as fractions of the body's height from its top.

    Returns
    -------
    xarray.Dataset
        Kind ``mask``: ``mask`` (y, x) uint8 with labels (attribute ``labels``: background 0,
        body 1, right_breast 2, left_breast 3 — patient's sides), ``midline_x`` (px),
        ``fold_y`` (side, x) fold row per column (px; NaN outside that breast) and
        ``top_y`` (side) the breast top rows.

    Examples
    --------
    On the bundled phantom thermogram, whose true breast masks are known:

    >>> import brim.data
    >>> from brim.evaluate import dice
    >>> from brim.thermo import segment_classical
    >>> ds = brim.data.sample("thermo_phantom_tumour")
    >>> seg = segment_classical(ds)
    >>> seg.brim.kind, seg.mask.dims
    ('mask', ('y', 'x'))
    >>> right = dice(seg.mask.values == 2, ds.breast_mask.values == 1)
    >>> left = dice(seg.mask.values == 3, ds.breast_mask.values == 2)
    >>> bool(right > 0.6 and left > 0.6)  # the phantom's breasts have no sharp edges
    True
    """
    from brim.schema import stamp

    t = _temperature(ds)
    h, w = t.shape
    _check_number("sigma", sigma, lo=0.0, hi=max(h, w))  # pixels; a huge one used to hang
    _check_number("top_factor", top_factor, lo=-1e6, hi=1e6)
    _check_number("lateral_margin", lateral_margin, lo=0.0, hi=0.5)
    _check_number("fold_strength", fold_strength, lo=-1e6, hi=1e6)
    if not (isinstance(fold_band, (tuple, list)) and len(fold_band) == 2):
        raise ConfigError(f"fold_band must be two fractions (lo, hi), got {fold_band!r}")
    for v in fold_band:
        _check_number("fold_band", v, lo=0.0, hi=1.0)
    body = body_mask(t, sigma=sigma)
    if body.sum() < 0.02 * h * w:
        raise FormatError("the body covers < 2 % of the image: is this a frontal thermogram?")
    tf = np.where(np.isfinite(t), t, np.nanmin(t))
    ts = ndimage.gaussian_filter(tf, sigma)
    mid = find_midline(tf, body)
    rows = np.flatnonzero(body.any(axis=1))
    rtop, rbot = rows[0], rows[-1]
    r_lo = rtop + int(fold_band[0] * (rbot - rtop))
    r_hi = min(h, rtop + int(fold_band[1] * (rbot - rtop)) + 1)
    # the fold ridges are searched on skin above any cold object: the second derivative (sigma
    # 3 px on top of the sigma smoothing) feels an object's edge up to 3 x their combined width
    # away, and below the object a column shows the abdomen (the bottom of the frame gave a
    # spurious "lowest ridge" there)
    near = _cold_objects(ts, body, (r_lo, r_hi), reach=3.0 * float(np.hypot(3.0, sigma)))
    skin = body & (np.arange(h)[:, None] < np.where(near.any(0), near.argmax(0), h)[None, :])
    mask = body.astype(np.uint8)
    fold_y = np.full((2, w), np.nan)
    top_y = np.full(2, np.nan)
    yy = np.arange(h)[:, None]
    for i, (label, side_cols) in enumerate(
        (
            (LABELS["right_breast"], np.arange(0, int(np.floor(mid)))),
            (LABELS["left_breast"], np.arange(int(np.ceil(mid)) + 1, w)),
        )
    ):
        in_body = side_cols[body[r_lo:r_hi, side_cols].any(axis=0)]
        if in_body.size < 10:
            continue
        # search the fold in the inner 85 % of the half-width (the lateral edge is noisy)
        lateral = in_body[np.argmax(np.abs(in_body - mid))]
        span = np.abs(in_body - mid) < 0.85 * abs(lateral - mid)
        fit = _fold_curve(ts, skin, in_body[span], r_lo, r_hi, fold_strength)
        if fit is None:
            continue
        coef, (c0, c1) = fit
        chord = max(c1 - c0, 10.0)
        lo_c, hi_c = c0 - lateral_margin * chord, c1 + lateral_margin * chord
        cols_in = side_cols[(side_cols >= lo_c) & (side_cols <= hi_c)]
        fy = np.clip(np.polyval(coef, side_cols.astype(float)), 0, h - 1)
        apex_row = int(fy[np.isin(side_cols, cols_in)].max())
        top = max(rtop, int(round(apex_row - top_factor * chord)))
        region = np.zeros((h, w), bool)
        sel = np.isin(side_cols, cols_in)
        region[:, cols_in] = (yy >= top) & (yy <= fy[None, sel])
        region &= body
        lab, n = ndimage.label(region)
        if n > 1:
            sizes = ndimage.sum_labels(region, lab, index=np.arange(1, n + 1))
            region = lab == (1 + int(np.argmax(sizes)))
        mask[region] = label
        fy_full = np.full(w, np.nan)
        fy_full[side_cols] = fy
        fy_full[~region.any(axis=0)] = np.nan
        fold_y[i] = fy_full
        top_y[i] = top
    body_frac = float(body.mean())
    breast_frac = float(np.isin(mask, (LABELS["right_breast"], LABELS["left_breast"])).mean())
    logger.debug(
        "segment_classical: body %.1f %% of the frame, breasts %.1f %%, midline x=%.1f px",
        100 * body_frac,
        100 * breast_frac,
        mid,
    )
    if body_frac < MIN_BODY_FRACTION:
        warn(
            f"the body covers only {100 * body_frac:.0f} % of the thermogram (a frontal breast "
            f"view fills > {100 * MIN_BODY_FRACTION:.0f} %): is the patient in view?"
        )
    elif "mask" in ds and ds["mask"].dims == ("y", "x") and "mask_source" not in ds["mask"].attrs:
        # (a mask_source: the DMR crops' breasts within a frontal frame, brim.thermo.read_dmr)
        own = 100 * float(ds["mask"].mean())
        warn(
            f"the image carries its own mask (an alpha channel, {own:.0f} % of the frame), as "
            "per-breast crops do (the Colombian cohort's): this "
            "segmentation looks for two breasts in a frontal view and split it at x = "
            f"{mid:.0f} px; for a single-breast crop use the file's mask (ds['mask'])"
        )
    elif breast_frac < MIN_BREAST_FRACTION:
        warn(
            f"segmentation found {'no breast' if breast_frac == 0 else 'almost no breast'} in "
            f"the thermogram ({100 * breast_frac:.1f} % of the frame; a frontal view shows "
            f"> {100 * MIN_BREAST_FRACTION:.0f} %): is it a frontal breast thermogram?"
        )
    out = xr.Dataset(
        {
            "mask": (("y", "x"), mask, {"units": "1"}),
            "midline_x": ((), mid, {"units": "px", "long_name": "thermal midline column"}),
            "fold_y": (("side", "x"), fold_y, {"units": "px", "long_name": "inframammary fold"}),
            "top_y": (("side",), top_y, {"units": "px", "long_name": "breast top row"}),
        },
        coords={"y": ds["y"], "x": ds["x"], "side": ("side", ["right", "left"])},
    )
    out.attrs["labels"] = json.dumps(LABELS)
    out.attrs["method"] = "classical"
    out.attrs["sides"] = "patient's sides: left breast at higher x in a frontal view"
    for k in ("patient", "source_file", "view", "protocol"):
        if k in ds.attrs:
            out.attrs[k] = ds.attrs[k]
    out = stamp(out, "mask")
    return out


# ----------------------------------------------------------------------------- U-Net
@dataclass
class ColombiaSet:
    """Colombian cohort crops resized to a common size."""

    images: np.ndarray  # (n, s, s) float32 in [0, 1]
    masks: np.ndarray  # (n, s, s) uint8
    ids: list[str]
    sides: list[str]
    labels: list[str]


def _fill_background(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace background pixels by a smooth random field with the foreground's grey levels."""
    fg = img[mask > 0]
    if fg.size == 0:
        return img
    noise = ndimage.gaussian_filter(rng.standard_normal(img.shape), rng.uniform(2, 6))
    noise = (noise - noise.mean()) / (noise.std() + 1e-9)
    level = rng.uniform(0.3, 1.0) * np.median(fg)
    field_ = np.clip(level + 0.5 * fg.std() * noise, 0, 255)
    out = img.copy()
    out[mask == 0] = field_[mask == 0]
    return ndimage.gaussian_filter(out, 0.7)


def colombia_labels(root: str | os.PathLike) -> dict[tuple[str, str], str]:
    """The Colombian cohort's per-breast labels (N, PB, PM) from ``left/left.xlsx`` and
    ``right/right.xlsx``, keyed by ``(side, crop file stem)``.

    The right sheet names its crops ``IIR0001_right`` while the files are ``IIR0001.png``: the
    side suffix is removed. A missing sheet gives no labels for its side.

    Parameters
    ----------
    root : path-like
        The cohort folder (with ``left/`` and ``right/``).

    Returns
    -------
    dict
        ``{(side, stem): label}``.
    """
    import pandas as pd

    labels: dict[tuple[str, str], str] = {}
    for side in ("left", "right"):
        sheet = Path(root) / side / f"{side}.xlsx"
        if sheet.is_file():
            df = pd.read_excel(sheet)
            for name, label in zip(df["Image"], df["Label"], strict=True):
                labels[(side, str(name).strip().removesuffix(f"_{side}"))] = str(label).strip()
    return labels


def load_colombia(
    root: str | os.PathLike,
    *,
    size: int = 64,
    fill_background: bool = True,
    seed: int = 0,
    limit: int | None = None,
) -> ColombiaSet:
    """Load the Colombian cohort's per-breast crops (``left/``, ``right/``) and masks.

    Parameters
    ----------
    root : path-like
        Folder with ``left/`` and ``right/`` (PNG RGBA, alpha = breast mask) and the
        ``left.xlsx``/``right.xlsx`` label sheets (optional).
    size : int
        Images and masks are resized to ``size`` x ``size`` (bilinear / nearest).
    fill_background : bool
        Replace the zeroed background by a random smooth field (see the module note).
    seed : int
        Seed of the background fields.
    limit : int, optional
        Read at most this many crops (for quick runs).

    Returns
    -------
    ColombiaSet
        Images (n, size, size) in [0, 1], masks, ids, sides and labels.
    """
    from PIL import Image

    root = Path(root)
    if not (root / "left").is_dir():
        raise MissingFileError(f"{root} has no 'left/' folder of the Colombian cohort")
    rng = np.random.default_rng(seed)
    try:
        labels = colombia_labels(root)
    except Exception:  # noqa: BLE001 - labels are optional for segmentation
        labels = {}
    imgs, msks, ids, sides, labs = [], [], [], [], []
    for side in ("left", "right"):
        files = sorted((root / side).glob("*.png"))
        for f in files[:limit] if limit else files:
            arr = np.asarray(Image.open(f).convert("RGBA"))
            grey = arr[..., 0].astype(np.float32)
            m = (arr[..., 3] > 127).astype(np.uint8)
            if fill_background:
                grey = _fill_background(grey, m, rng)
            g = Image.fromarray(grey.astype(np.float32), mode="F").resize((size, size), 2)
            mm = Image.fromarray(m * 255).resize((size, size), 0)
            imgs.append(np.asarray(g, np.float32) / 255.0)
            msks.append((np.asarray(mm) > 127).astype(np.uint8))
            ids.append(f.stem)
            sides.append(side)
            labs.append(labels.get((side, f.stem), ""))
    if not imgs:
        raise MissingFileError(f"no PNG crops under {root}")
    return ColombiaSet(np.stack(imgs), np.stack(msks), ids, sides, labs)


@positional_options
def unet_spec(*, base: int = 8, depth: int = 3) -> dict:
    """Spec of the U-Net: :class:`brim.learn.UNet2d` (Ronneberger et al. 2015), one input
    channel, one logit map.

    Parameters
    ----------
    base : int
        Channels of the first level.
    depth : int
        Number of down-sampling levels.

    Returns
    -------
    dict
        A :func:`brim.learn.build_model` spec.
    """
    return {
        "class": "UNet2d",
        "kwargs": {
            "in_channels": 1,
            "n_classes": 1,
            "base_channels": int(base),
            "depth": int(depth),
        },
    }


@dataclass
class UNetModel:
    """A trained U-Net (:class:`brim.learn.UNet2d`) and its input size."""

    net: object
    size: int
    base: int
    depth: int
    history: list = field(default_factory=list)

    def save(self, path: str | os.PathLike) -> Path:
        """Save with :func:`brim.learn.save_checkpoint` (safetensors weights + JSON spec) into
        folder ``path``; the input size is recorded in the checkpoint's config.

        Parameters
        ----------
        path : path-like
            Destination folder.

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        from brim.learn import save_checkpoint

        return save_checkpoint(
            self.net, path, config={"kind": "unet", "size": int(self.size), "thermo": True}
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> UNetModel:
        """Load a U-Net saved by :meth:`save` (:func:`brim.learn.load_checkpoint`).

        Parameters
        ----------
        path : path-like
            The folder :meth:`save` wrote.

        Returns
        -------
        UNetModel
        """
        from brim.learn import load_checkpoint

        p = Path(path)
        if not p.is_dir():
            raise MissingFileError(f"{p} holds no brim U-Net (not a folder)")
        net = load_checkpoint(p)
        cfg = getattr(net, "checkpoint_config", {})
        spec = net.spec["kwargs"]
        if net.spec["class"] != "UNet2d" or "size" not in cfg:
            raise FormatError(f"{p} holds no thermo U-Net (a {net.spec['class']})")
        return cls(net, int(cfg["size"]), spec["base_channels"], spec["depth"])

    def predict(self, images: np.ndarray, *, batch: int = 32) -> np.ndarray:
        """Probability of "breast" per pixel for (n, s, s) images in [0, 1]
        (:func:`brim.learn.predict`).

        Parameters
        ----------
        images : numpy.ndarray
            Images (n, s, s) scaled to [0, 1], s the model's input size.
        batch : int
            Images per forward pass.

        Returns
        -------
        numpy.ndarray
            Probabilities (n, s, s).
        """
        from brim.learn import ArrayDataset, predict

        ds = ArrayDataset(np.ascontiguousarray(images, np.float32))
        return predict(self.net, ds, batch_size=batch)["probability"].values


def train_unet(
    images: np.ndarray,
    masks: np.ndarray,
    *,
    epochs: int = 20,
    base: int = 8,
    depth: int = 3,
    lr: float = 3e-3,
    batch: int = 16,
    seed: int = 0,
    device: str = "cpu",
    num_threads: int | None = None,
    progress: bool = False,
) -> UNetModel:
    """Train a U-Net with :func:`brim.learn.fit` (class-weighted per-pixel BCE, AdamW,
    left-right flips of image and mask; input centring fitted on the training images).

    Parameters
    ----------
    images : ndarray (n, s, s)
        Grey images scaled to [0, 1] (s divisible by 2**depth).
    masks : ndarray (n, s, s)
        Binary masks.
    num_threads : int, optional
        torch CPU threads during training (restored afterwards); 1 is fastest on a busy
        machine.
    epochs, lr, batch, seed, device, progress
        Training options of :class:`brim.learn.TrainConfig`.
    base, depth
        Architecture, see :func:`unet_spec`.

    Returns
    -------
    UNetModel
    """
    from brim.learn import ArrayDataset, RandomFlip, TrainConfig, build_model, fit

    images = np.asarray(images)
    masks = np.asarray(masks)
    if images.shape != masks.shape or images.ndim != 3:
        raise ConfigError(f"images {images.shape} and masks {masks.shape} must be (n, s, s)")
    if images.shape[1] % 2**depth:
        raise ConfigError(f"image size {images.shape[1]} must be divisible by {2**depth}")
    net = build_model(unet_spec(base=base, depth=depth), seed=seed)
    data = ArrayDataset(
        np.ascontiguousarray(images, np.float32),
        np.ascontiguousarray(masks, np.float32),
        transform=RandomFlip((-1,)),
        seed=seed,
    )
    cfg = TrainConfig(
        epochs=epochs,
        lr=lr,
        batch_size=batch,
        seed=seed,
        patience=None,
        class_weighting=True,
        device=device,
        num_threads=num_threads,
        progress=progress,
    )
    res = fit(net, data, val_data=None, config=cfg)
    history = [row["train_loss"] for row in res.history]
    return UNetModel(res.model.cpu().eval(), images.shape[1], base, depth, history)


@provenance.step
def segment_unet(ds: xr.Dataset, model: UNetModel | str | os.PathLike) -> xr.Dataset:
    """Segment the breast in one image with a trained U-Net (mask resized back to the image).

    The U-Net was trained on per-breast crops: give it a crop (or a whole thermogram when the
    model was trained on whole thermograms). Grey or temperature values are min-max scaled to
    [0, 1] over the image (a display normalisation for the network only).

    Parameters
    ----------
    ds : xarray.Dataset
        Thermogram or ``thermal_intensity`` image on (y, x).
    model : UNetModel or path-like
        The trained U-Net or its folder.

    Returns
    -------
    xarray.Dataset
        A brim ``mask`` Dataset: ``mask`` (1 breast) and ``probability`` on (y, x).
    """
    from PIL import Image

    from brim.schema import stamp

    if not isinstance(model, UNetModel):
        model = UNetModel.load(model)
    t = _temperature(ds)
    t = np.where(np.isfinite(t), t, np.nanmin(t))
    lo, hi = float(t.min()), float(t.max())
    img = (t - lo) / (hi - lo + 1e-12)
    h, w = img.shape
    small = np.asarray(
        Image.fromarray(img.astype(np.float32), mode="F").resize((model.size, model.size), 2)
    )
    prob = model.predict(small[None])[0]
    big = np.asarray(Image.fromarray(prob.astype(np.float32), mode="F").resize((w, h), 2))
    mask = (big > 0.5).astype(np.uint8)
    out = xr.Dataset(
        {
            "mask": (("y", "x"), mask, {"units": "1"}),
            "probability": (("y", "x"), big.astype(np.float32), {"units": "1"}),
        },
        coords={"y": ds["y"], "x": ds["x"]},
    )
    out.attrs["labels"] = json.dumps({"background": 0, "breast": 1})
    out.attrs["method"] = "unet"
    return stamp(out, "mask")


def segment(
    ds: xr.Dataset,
    *,
    method: str = "classical",
    model: UNetModel | str | os.PathLike | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Segment a thermogram by ``method`` "classical" or "unet" (``model`` = U-Net folder).

    Parameters
    ----------
    ds : xarray.Dataset
        Thermogram or ``thermal_intensity`` image on (y, x).
    method : {"classical", "unet"}
        :func:`segment_classical` or :func:`segment_unet`.
    model : UNetModel or path-like, optional
        The trained U-Net (or its folder) for ``method="unet"``.
    **kwargs
        Options of :func:`segment_classical`.

    Returns
    -------
    xarray.Dataset
        A brim ``mask`` Dataset: ``mask`` (0 background, 1 body, 2 patient's right,
        3 patient's left breast) and ``midline_x``.

    Examples
    --------
    >>> import brim.data
    >>> seg = segment(brim.data.sample("thermo_phantom_tumour"))
    >>> sorted(int(v) for v in set(seg["mask"].values.ravel()))
    [0, 1, 2, 3]
    """
    if method == "classical":
        return segment_classical(ds, **kwargs)
    if method == "unet":
        if model is None:
            raise ConfigError("method 'unet' needs a trained model (--model PATH)")
        return segment_unet(ds, model)
    raise ConfigError(f"unknown segmentation method {method!r}; use 'classical' or 'unet'")


def segment_path(path: str | os.PathLike, *, method: str = "classical", **params) -> xr.Dataset:
    """Batch pipeline: read any thermal file (raw or brim) and segment it (``brim batch``).

    Parameters
    ----------
    path : path-like
        A file :func:`brim.thermo.read` reads.
    method : {"classical", "unet"}
        See :func:`segment`.
    **params
        Options of :func:`segment`.

    Returns
    -------
    xarray.Dataset
        The segmentation (:func:`segment`).
    """
    from brim.thermo.readers import read

    return segment(read(path), method=method, **params)


def train_unet_colombia(
    root: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    size: int = 32,
    epochs: int = 25,
    base: int = 8,
    depth: int = 2,
    seed: int = 0,
    progress: bool = False,
) -> Path:
    """Train the U-Net on every crop of the Colombian cohort and save it for
    ``brim thermo segment --method unet --model OUTDIR`` (per-breast crops as input).

    Parameters
    ----------
    root : path-like
        The cohort folder (see :func:`load_colombia`).
    outdir : path-like
        Model folder (created).
    size : int
        Crop size, px.
    epochs, base, depth, seed, progress
        Options of :func:`train_unet`.

    Returns
    -------
    pathlib.Path
        The model folder.
    """
    d = load_colombia(root, size=size, fill_background=True, seed=seed)
    model = train_unet(
        d.images,
        d.masks,
        epochs=epochs,
        base=base,
        depth=depth,
        lr=3e-3,
        seed=seed,
        progress=progress,
    )
    return model.save(outdir)
