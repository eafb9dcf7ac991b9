"""Breast-ultrasound lesion segmentation (U-Net) with a leakage-safe, hash-grouped evaluation.

BUSI (Al-Dhabyani et al., Data in Brief 28:104863, 2020) contains the same image more than once
(also across the benign/malignant folders), so images are **grouped** before splitting: exact
duplicates (same decoded pixels) and near duplicates (DCT perceptual hashes of the grey images,
:func:`brim.evaluate.perceptual_hash`, at most 4 of 64 bits apart) fall into one group. The
split is :func:`brim.evaluate.grouped_split` (whole groups, stratified by the class in the file
name) and a split that puts a group on both sides raises :class:`brim.LeakageError`. Dice is
reported with a percentile-bootstrap confidence interval over test images
(:func:`brim.evaluate.mean_ci`).

The network is :class:`brim.learn.UNet2d` (Ronneberger, Fischer, Brox, MICCAI 2015), trained
with :func:`brim.learn.fit` at a reduced resolution (64 x 64 by default) so that it trains on a
CPU in minutes; the split is re-checked with :func:`brim.evaluate.check_leakage` (groups, exact
and near-duplicate inputs) and Dice comes from :func:`brim.evaluate.segmentation_metrics`.
Checkpoints are brim.learn's (safetensors + JSON, no pickles). Without a trained model,
:func:`segment` falls back to a classical baseline (Otsu threshold of the smoothed image, the
dark component nearest the centre).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from brim import provenance
from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError
from brim.evaluate import (
    check_leakage,
    dice,
    grouped_split,
    mean_ci,
    perceptual_hash,
    segmentation_metrics,
)

__all__ = [
    "group_images",
    "busi_class_labels",
    "build_unet",
    "SegmentationResult",
    "train_segmenter",
    "evaluate_segmenter",
    "save_model",
    "predict",
    "load_model",
    "segment",
    "threshold_segment",
]


def group_images(paths, *, near_duplicate_bits: int = 4) -> np.ndarray:
    """Group ids: images that are exact or near duplicates of each other share an id.

    Two images are linked when their decoded grey pixels are identical
    (:func:`brim.fusion.image_hash`) or their DCT perceptual hashes
    (:func:`brim.evaluate.perceptual_hash`, 64 bits) are at most ``near_duplicate_bits`` apart
    (Hamming; the same rule as :func:`brim.evaluate.check_leakage`); groups are the connected
    components of these links. On the 60 ``busi_dev`` images a half-size copy of an image is
    2-4 bits away and distinct lesions 12 or more (median 30); one real pair, benign (204) and
    (249), the same scan at two sizes, is 4 bits apart and grouped.

    Parameters
    ----------
    paths : sequence of path-like
        Image files (any Pillow format; converted to grey).
    near_duplicate_bits : int
        Hamming distance (of 64 bits) at or under which two images count as near duplicates.

    Returns
    -------
    numpy.ndarray of int
        Group id of each path (0 .. number of groups - 1).
    """
    from brim.fusion.public_data import image_hash
    from brim.io import read_image

    paths = [Path(p) for p in paths]
    parent = list(range(len(paths)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i, j):
        parent[find(i)] = find(j)

    seen: dict[str, int] = {}
    phash = np.zeros(len(paths), dtype=np.uint64)
    for i, p in enumerate(paths):
        with read_image(p, what="image") as im:
            phash[i] = perceptual_hash(np.asarray(im.convert("L")))
        key = image_hash(p)
        if key in seen:
            union(i, seen[key])
        else:
            seen[key] = i
    for i in range(len(paths)):
        close = np.bitwise_count(phash[i] ^ phash[i + 1 :]) <= near_duplicate_bits
        for j in np.flatnonzero(close):
            union(i, i + 1 + int(j))
    roots = [find(i) for i in range(len(paths))]
    _, ids = np.unique(roots, return_inverse=True)
    return ids.ravel()


_BUSI_CLASSES = {"normal": 0, "benign": 1, "malignant": 2}


def busi_class_labels(names) -> np.ndarray:
    """Integer class of BUSI images from their label or file name (used to stratify splits).

    ``normal`` -> 0, ``benign`` -> 1, ``malignant`` -> 2 (the word before the first space or
    parenthesis, as in ``"benign (12).png"``); other names -> 0.

    Parameters
    ----------
    names : sequence of str
        Labels or file names.

    Returns
    -------
    numpy.ndarray of int
        One class per name.
    """
    out = []
    for n in names:
        word = Path(str(n)).name.split(" ")[0].split("(")[0].strip().lower()
        out.append(_BUSI_CLASSES.get(word, 0))
    return np.asarray(out, dtype=np.int64)


def _learn():
    from brim.errors import require

    require("torch", "dl")
    import brim.learn

    return brim.learn


@positional_options
def build_unet(*, base: int = 8, depth: int = 3):
    """The segmentation network: :class:`brim.learn.UNet2d` (1 channel in, 1 logit out).

    Parameters
    ----------
    base : int
        Channels of the first level (doubled per level).
    depth : int
        Number of down-sampling levels.

    Returns
    -------
    brim.learn.UNet2d
        An untrained network.
    """
    return _learn().UNet2d(1, 1, base_channels=base, depth=depth)


def _load_set(pairs, size):
    from brim.fusion.public_data import read_busi

    imgs, masks = [], []
    for img, msk, _ in pairs:
        ds = read_busi(img, msk, size=size)
        imgs.append(ds.image.values)
        masks.append(ds["mask"].values)
    return np.stack(imgs).astype(np.float32), np.stack(masks).astype(np.float32)


@dataclass
class SegmentationResult:
    """Evaluation of a segmenter on a grouped test split."""

    dice_mean: float
    ci_low: float
    ci_high: float
    per_image: list[float] = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0
    size: int = 64
    epochs: int = 0
    baseline_dice: float = float("nan")

    def to_json(self) -> str:
        """The fields as a JSON object.

        Returns
        -------
        str
        """
        return json.dumps(self.__dict__)


def train_segmenter(
    images: np.ndarray,
    masks: np.ndarray,
    groups=None,
    *,
    epochs: int = 30,
    batch: int = 8,
    lr: float = 3e-3,
    base: int = 8,
    seed: int = 0,
    progress: bool = False,
):
    """Train the U-Net on (N, H, W) images in 0..1 and binary masks with :func:`brim.learn.fit`.

    Pixel-wise BCE with inverse-frequency weighting (brim.learn's loss), horizontal flips, all
    epochs (no early stopping: there is no validation split at this data size).

    Parameters
    ----------
    images : numpy.ndarray, (N, H, W)
        Images in 0..1.
    masks : numpy.ndarray, (N, H, W)
        Binary lesion masks.
    groups : array_like, (N,), optional
        Group of each image (kept with the data for brim.learn's checks).
    epochs : int
        Training epochs.
    batch : int
        Batch size.
    lr : float
        Learning rate.
    base : int
        Channels of the U-Net's first level.
    seed : int
        Seed of the initialisation, shuffling and flips.
    progress : bool
        Show a progress bar.

    Returns
    -------
    brim.learn.UNet2d
        The trained network.
    """
    learn = _learn()
    model = learn.build_model(
        {"class": "UNet2d", "kwargs": {"base_channels": base, "depth": 3}}, seed=seed
    )
    data = learn.ArrayDataset(
        np.asarray(images, np.float32),
        np.asarray(masks, np.float32),
        groups,
        transform=learn.RandomFlip((-1,)),
        seed=seed,
    )
    cfg = learn.TrainConfig(
        epochs=epochs, lr=lr, batch_size=batch, seed=seed, patience=None, device="cpu",
        progress=progress, num_threads=1,
    )  # fmt: skip
    return learn.fit(model, data, val_data=None, config=cfg).model


def predict(model, images: np.ndarray) -> np.ndarray:
    """Binary masks (N, H, W) from a trained model (probability > 0.5).

    Parameters
    ----------
    model : brim.learn.UNet2d
        A trained network (:func:`train_segmenter`, :func:`load_model`).
    images : numpy.ndarray, (N, H, W)
        Images in 0..1 at the model's input size.

    Returns
    -------
    numpy.ndarray of uint8, (N, H, W)
        Binary masks.
    """
    learn = _learn()
    data = learn.ArrayDataset(np.asarray(images, np.float32))
    prob = learn.predict(model, data)["probability"].values
    return (prob > 0.5).astype(np.uint8)


def evaluate_segmenter(
    root: str | os.PathLike,
    *,
    size: int = 64,
    epochs: int = 30,
    test_fraction: float = 0.3,
    seed: int = 0,
    limit: int | None = None,
    progress: bool = False,
    model_out: str | os.PathLike | None = None,
) -> SegmentationResult:
    """Train on a hash-grouped split of a BUSI folder and report test Dice with a 95 % CI.

    Parameters
    ----------
    root : path-like
        Folder with ``images/`` and ``masks/`` (e.g. ``$BRIM_EXTERNAL_DATA/fusion/busi_dev``).
    size : int
        Training resolution (square), pixels; reduced so that CPU training is practical.
    test_fraction : float
        Share of the image groups of each class (from the file names) held out for testing
        (:func:`brim.evaluate.grouped_split`, whole groups only).
    limit : int, optional
        Use only the first ``limit`` images (tests).
    model_out : path-like, optional
        Save the trained weights there (safetensors).

    Returns
    -------
    SegmentationResult
        Test Dice (mean, 95 % CI, per image), split sizes, and the classical baseline's Dice.

    Examples
    --------
    Training takes seconds even at 16 x 16 pixels and one epoch, so the call is not run here;
    ``root`` is a BUSI folder such as ``$BRIM_EXTERNAL_DATA/fusion/busi_dev``:

    >>> from brim.fusion import evaluate_segmenter
    >>> res = evaluate_segmenter(root, size=16, epochs=1, limit=40)  # doctest: +SKIP
    >>> res.n_train + res.n_test, res.size, res.epochs  # doctest: +SKIP
    (40, 16, 1)
    """
    from brim.fusion.public_data import busi_pairs

    pairs = busi_pairs(root)
    if limit:
        pairs = pairs[:limit]
    groups = group_images([p[0] for p in pairs])
    labels = busi_class_labels([p[2] for p in pairs])
    train, test = grouped_split(groups, labels, val_fraction=test_fraction, seed=seed)
    xi, yi = _load_set(pairs, size)
    # brim.evaluate's own check: groups, exact duplicates and near duplicates (perceptual hash)
    check_leakage(train, test, groups, inputs=list(xi))
    model = train_segmenter(
        xi[train], yi[train], groups[train], epochs=epochs, seed=seed, progress=progress
    )
    pred = predict(model, xi[test])
    names = [pairs[i][0].name for i in test]
    scores = segmentation_metrics(pred, yi[test], case_ids=names)["dice"].values.tolist()
    base = [dice(threshold_segment(im), t) for im, t in zip(xi[test], yi[test])]
    mean, lo, hi = mean_ci(scores, seed=seed)
    if model_out is not None:
        save_model(model, model_out, size=size)
    return SegmentationResult(
        mean, lo, hi, scores, len(train), len(test), size, epochs, float(np.mean(base))
    )


def save_model(model, path, *, size: int = 64) -> Path:
    """Save the U-Net as a brim.learn checkpoint folder (safetensors + JSON).

    Parameters
    ----------
    model : brim.learn.UNet2d
        The trained network.
    path : path-like
        The checkpoint folder to write.
    size : int
        The input size the network was trained at (stored with the weights).

    Returns
    -------
    pathlib.Path
        The checkpoint folder.
    """
    learn = _learn()
    return learn.save_checkpoint(model, path, config={"input_size": int(size)})


def load_model(path: str | os.PathLike) -> Any:
    """Load a U-Net checkpoint folder written by :func:`save_model` (no pickles).

    Parameters
    ----------
    path : path-like
        A checkpoint folder written by :func:`save_model`.

    Returns
    -------
    brim.learn.UNet2d
        The network, with ``input_size`` set.

    Raises
    ------
    MissingFileError
        No such folder.
    FormatError
        The checkpoint is not a U-Net.

    Examples
    --------
    A round trip of a small untrained network:

    >>> import pathlib, tempfile
    >>> from brim.fusion import load_model
    >>> from brim.fusion.ussegment import build_unet, save_model
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "unet"
    >>> _ = save_model(build_unet(base=4, depth=2), path, size=32)
    >>> model = load_model(path)
    >>> type(model).__name__, model.input_size
    ('UNet2d', 32)
    """
    from brim.errors import MissingFileError

    learn = _learn()
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"no such model checkpoint: {p}")
    model = learn.load_checkpoint(p)
    if type(model).__name__ != "UNet2d":
        raise FormatError(f"{p}: not a U-Net checkpoint ({type(model).__name__})")
    model.input_size = int(model.checkpoint_config.get("input_size", 64))
    return model


def threshold_segment(
    image: np.ndarray, *, spacing: tuple[float, float] | None = None
) -> np.ndarray:
    """Classical baseline: Otsu on the smoothed image, the dark component nearest the centre.

    Parameters
    ----------
    image : numpy.ndarray
        2-D B-mode image (any scale; the lesion is darker than its surroundings).
    spacing : (float, float), optional
        Pixel size along the two axes (one unit). With anisotropic pixels (a beamformed image
        sampled finely in depth, coarsely across lines) the smoothing and the "nearest the
        centre" rule work in physical distance; default square pixels.

    Returns
    -------
    numpy.ndarray
        uint8 mask, 1 = lesion.

    Examples
    --------
    >>> from brim.evaluate import dice
    >>> from brim.fusion import synthetic_ultrasound, threshold_segment
    >>> us = synthetic_ultrasound(pixel=0.5e-3)
    >>> mask = threshold_segment(us["image"].values)
    >>> mask.dtype, mask.shape, round(dice(mask, us["mask"].values), 2)
    (dtype('uint8'), (80, 120), 0.99)
    """
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    image = np.asarray(image, float)
    sigma = max(1.0, image.shape[0] / 64)
    scale = (1.0, 1.0)
    if spacing is not None:
        d0, d1 = (abs(float(v)) for v in spacing)
        if not (np.isfinite(d0) and np.isfinite(d1) and d0 > 0 and d1 > 0):
            raise ConfigError(f"spacing must be two finite numbers > 0, got {spacing}")
        if abs(d0 / d1 - 1.0) > 1e-6:
            scale = (1.0, d1 / d0)  # distances in units of axis-0 pixels
    sigma = (sigma, sigma / scale[1])
    a = ndimage.gaussian_filter(image, sigma)
    dark = a < threshold_otsu(a)
    dark = ndimage.binary_opening(dark, iterations=2)
    lab, n = ndimage.label(dark)
    if n == 0:
        return np.zeros(a.shape, np.uint8)
    cy, cx = (np.array(a.shape) - 1) / 2
    best, score = 0, -np.inf
    for i in range(1, n + 1):
        yy, xx = np.nonzero(lab == i)
        # big, central and not touching the image border (shadows, gel)
        border = yy.min() == 0 or xx.min() == 0 or yy.max() == a.shape[0] - 1
        dist = np.hypot(yy.mean() - cy, (xx.mean() - cx) * scale[1])
        sc = yy.size / (1 + dist) * (0.2 if border else 1)
        if sc > score:
            best, score = i, sc
    return ndimage.binary_fill_holes(lab == best).astype(np.uint8)


def _spacing(img: xr.DataArray):
    """Pixel size (axis 0, axis 1) in m when both coordinates have length units, else None."""
    from brim.fusion._units import LENGTH_TO_M

    out = []
    for d in img.dims:
        units = img[d].attrs.get("units") if d in img.coords else None
        if units not in LENGTH_TO_M or img.sizes[d] < 2:
            return None
        out.append(float(np.median(np.abs(np.diff(img[d].values)))) * LENGTH_TO_M[units])
    return tuple(out) if all(v > 0 for v in out) else None


@provenance.step
def segment(us: xr.Dataset, *, model: Any = None) -> xr.Dataset:
    """Segment the lesion of an ultrasound image Dataset (``image``, 2-D).

    With ``model`` (from :func:`load_model`) the U-Net runs at its training resolution and the
    mask is resized back; without it the classical baseline :func:`threshold_segment` is used
    (recorded in ``attrs["segmenter"]``), with the pixel spacing read from the coordinates when
    both carry length units.

    Parameters
    ----------
    us : xarray.Dataset
        ``image`` on brim.fusion's ``(y, x)`` (y = depth), or brim.elasto's B-mode
        (``image`` or ``bmode`` on ``(depth, line)``, dB; a ``frame`` dimension of size 1 is
        dropped).
    model : optional
        A U-Net from :func:`load_model`.

    Returns
    -------
    xarray.Dataset
        ``us`` with ``mask`` (uint8, 1 = lesion) on the image's dims; stamped ``mask`` when
        the dims are ``(y, x)``.

    Raises
    ------
    FormatError
        No 2-D finite, non-constant ``image``.

    Examples
    --------
    Without a model the classical baseline segments a synthetic hypoechoic lesion:

    >>> from brim.evaluate import dice
    >>> from brim.fusion import segment, synthetic_ultrasound
    >>> us = synthetic_ultrasound(pixel=0.5e-3)
    >>> out = segment(us)
    >>> out.attrs["segmenter"], bool(dice(out["mask"].values, us["mask"].values) > 0.8)
    ('otsu-baseline', True)
    """
    from PIL import Image

    from brim.schema import stamp

    if "image" not in us and "bmode" in us:  # brim.elasto's B-mode
        us = us.rename({"bmode": "image"})
    if "image" not in us:
        raise FormatError("the ultrasound Dataset needs an 'image' variable on (y, x)")
    for d in us.image.dims:
        if d == "frame" and us.sizes[d] == 1:
            us = us.isel(frame=0, drop=True)
    img = np.asarray(us.image.values, dtype=np.float32)
    if img.ndim != 2:
        raise FormatError(f"'image' must be 2-D, got {img.shape}")
    if not np.isfinite(img).all():
        raise FormatError(
            f"'image' holds {int(np.sum(~np.isfinite(img)))} non-finite pixels; "
            "fill or crop them before segmenting"
        )
    if img.min() == img.max():
        raise FormatError("'image' is constant: there is no lesion to segment")
    if model is None:
        mask = threshold_segment(img, spacing=_spacing(us.image))
        how = "otsu-baseline"
    else:
        size = int(getattr(model, "input_size", 64))
        small = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))
        m = predict(model, small[None])[0]
        mask = np.asarray(
            Image.fromarray(m * 255).resize(img.shape[::-1], Image.Resampling.NEAREST),
            dtype=np.uint8,
        )
        mask = (mask > 127).astype(np.uint8)
        how = "unet"
    out = us.copy()
    out["mask"] = (us.image.dims, mask, {"labels": json.dumps({"1": "lesion"})})
    out.attrs["segmenter"] = how
    if us.image.dims == ("y", "x"):
        out = stamp(out, "mask")
    provenance.note(segmenter=how)
    return out
