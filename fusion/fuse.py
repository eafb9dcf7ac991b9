"""Multimodal fusion: image registration and feature/decision-level fusion.

Registration brings any two brim 2-D images (dims ``(y, x)`` with length coordinates) onto one
grid: translation by phase correlation (Kuglin & Hines 1975; ``skimage.registration``), rigid or
affine by maximising Mattes-style mutual information (Viola & Wells, IJCV 24:137, 1997; Maes et
al., IEEE TMI 16:187, 1997) with a derivative-free optimiser. The result stores the 3x3
homogeneous transform (pixel index space of the fixed image -> moving image) as the data
variable ``affine``.

Fusion of ultrasound and optical information follows the two usual levels: feature level
(concatenate per-case features, one classifier) and decision level (one classifier per modality,
probabilities averaged or combined by a logistic stacker), as in the US + DOT studies of the Zhu
lab (e.g. Zhu et al., Radiology 2005; Xu et al., 2016). Classifiers here are plain L2-regularised
logistic regressions (:func:`brim.evaluate.logistic_fit`), so fusion needs no extra dependencies;
score them with :func:`brim.evaluate.auroc` / :func:`brim.evaluate.auroc_ci`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, FormatError, SchemaError, check_positive
from brim.evaluate import CVResult, logistic_fit

__all__ = [
    "register_images",
    "apply_affine",
    "mutual_information",
    "feature_fusion",
    "decision_fusion",
    "us_features",
    "optical_features",
    "two_branch_cv",
]


def _image2d(ds, var):
    if not isinstance(ds, xr.DataArray):
        from brim.schema import expect_dataset

        expect_dataset(ds, "mask", builder="brim.fusion.synthetic_ultrasound")
    if isinstance(ds, xr.DataArray):
        da = ds
    else:
        if var is None:
            cand = [v for v in ds.data_vars if ds[v].dims == ("y", "x")]
            if not cand:
                raise SchemaError("no (y, x) image variable found; pass var=")
            var = "image" if "image" in cand else cand[0]
        if var not in ds.data_vars:
            raise SchemaError(f"no image variable {var!r}; the file holds {list(ds.data_vars)}")
        da = ds[var]
    if da.dims != ("y", "x"):
        raise SchemaError(f"registration needs a (y, x) image, got dims {da.dims}")
    return da


def _pixels(da: xr.DataArray, name: str) -> np.ndarray:
    """The image's values with NaN/inf set to 0, or FormatError if nothing is left to register.

    Parameters
    ----------
    da : xarray.DataArray
        A (y, x) image.
    name : str
        ``"fixed"`` or ``"moving"``, used in the message.
    """
    a = np.asarray(da.values, float)
    ok = np.isfinite(a)
    if not ok.any():
        raise FormatError(f"the {name} image has no finite pixels (all NaN or infinite)")
    if np.ptp(a[ok]) == 0:
        raise FormatError(
            f"the {name} image has no contrast (every finite pixel equals {a[ok][0]:g}); "
            "it cannot be registered"
        )
    return np.where(ok, a, 0.0)


def mutual_information(a: np.ndarray, b: np.ndarray, *, bins: int = 32, mask=None) -> float:
    """Mutual information (nats) of two equally shaped images from their joint histogram.

    Parameters
    ----------
    a, b : numpy.ndarray
        Two images of the same shape (any real values).
    bins : int
        Histogram bins per image.
    mask : numpy.ndarray of bool, optional
        Pixels to use (default: all).

    Returns
    -------
    float
        Mutual information in nats (0 for independent images).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.fusion.fuse import mutual_information
    >>> a = np.random.default_rng(0).random((32, 32))
    >>> mutual_information(a, a) > mutual_information(a, a[::-1].copy())
    True
    """
    a = np.asarray(a, float).ravel()
    b = np.asarray(b, float).ravel()
    if mask is not None:
        m = np.asarray(mask, bool).ravel()
        a, b = a[m], b[m]
    h, _, _ = np.histogram2d(a, b, bins=bins)
    p = h / max(h.sum(), 1.0)
    px = p.sum(1, keepdims=True)
    py = p.sum(0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / (px @ py)[nz])))


def apply_affine(
    image: np.ndarray, matrix: np.ndarray, *, order: int = 1, cval: float = np.nan
) -> np.ndarray:
    """Resample ``image`` so that output pixel ``(r, c)`` takes the value at ``M @ (r, c, 1)``.

    Parameters
    ----------
    image : numpy.ndarray
        A 2-D image.
    matrix : numpy.ndarray, shape (3, 3)
        Homogeneous affine map from output to input pixel coordinates (row, column), as
        :func:`register_images` returns.
    order : int
        Spline order of the interpolation (1: bilinear).
    cval : float
        Value of output pixels that map outside ``image``.

    Returns
    -------
    numpy.ndarray
        The resampled image, the shape of ``image``, float.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.fusion import apply_affine
    >>> shift = np.array([[1.0, 0, 0], [0, 1, 2], [0, 0, 1]])  # sample 2 columns to the right
    >>> apply_affine(np.arange(5.0)[None].repeat(2, 0), shift)[0].tolist()
    [2.0, 3.0, 4.0, nan, nan]
    """
    from scipy import ndimage

    m = np.asarray(matrix, float)
    if m.shape != (3, 3):
        raise ConfigError(f"matrix must be a 3 x 3 homogeneous affine matrix, got shape {m.shape}")
    if isinstance(image, xr.Dataset):
        raise ConfigError("image must be a 2-D array, not a Dataset: pass us['image'].values")
    image = np.asarray(image)
    if image.ndim != 2:
        raise ConfigError(
            f"image must be a 2-D array (e.g. us['image'].values), got {image.ndim}-D"
        )
    return ndimage.affine_transform(
        np.asarray(image, float), m[:2, :2], offset=m[:2, 2], order=order, cval=cval
    )


def _params_to_matrix(p, kind, center):
    if kind == "translation":
        a = np.eye(2)
        t = p[:2]
    elif kind == "rigid":
        th = p[2]
        a = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        t = p[:2]
    else:
        a = np.array([[1 + p[2], p[3]], [p[4], 1 + p[5]]])
        t = p[:2]
    c = np.asarray(center)
    m = np.eye(3)
    m[:2, :2] = a
    m[:2, 2] = c + t - a @ c  # rotate/scale about the image centre
    return m


@provenance.step
def register_images(
    fixed: xr.Dataset | xr.DataArray,
    moving: xr.Dataset | xr.DataArray,
    *,
    transform: str = "rigid",
    fixed_var: str | None = None,
    moving_var: str | None = None,
    bins: int = 32,
) -> xr.Dataset:
    """Register ``moving`` to ``fixed`` (2-D images on the same pixel grid size).

    Parameters
    ----------
    transform : {"translation", "rigid", "affine"}
        ``translation`` uses phase correlation only (sub-pixel, upsampling 10); ``rigid`` and
        ``affine`` start from it and maximise mutual information (Powell).
    fixed_var, moving_var : str, optional
        The image variable of a Dataset (default ``"image"`` or the first (y, x) variable).
    bins : int
        Histogram bins per axis of the mutual information.

    Returns
    -------
    xarray.Dataset
        ``registered`` (moving resampled on the fixed grid, NaN outside), ``affine`` (3x3,
        dims ``(affine_row, affine_col)``, fixed pixel (row, col, 1) -> moving pixel) and the
        0-d ``mutual_information`` before/after.

    Raises
    ------
    FormatError
        If either image has no finite pixels or no contrast (NaN and infinite pixels count as 0
        otherwise).

    Examples
    --------
    A B-mode image shifted by 3 columns is registered back:

    >>> import numpy as np
    >>> from brim.fusion import register_images, synthetic_ultrasound
    >>> us = synthetic_ultrasound(pixel=0.5e-3)
    >>> reg = register_images(us, us.roll(x=3, roll_coords=False))
    >>> (np.round(reg.affine.values[:2, 2], 1) + 0.0).tolist()  # (row, column) offset, px
    [0.0, 3.0]
    >>> bool(reg.mutual_information_after > reg.mutual_information_before)
    True
    """
    from scipy.optimize import minimize
    from skimage.registration import phase_cross_correlation

    f = _image2d(fixed, fixed_var)
    m = _image2d(moving, moving_var)
    bins = check_positive("bins", bins, integer=True)
    fa = _pixels(f, "fixed")
    ma = _pixels(m, "moving")
    if fa.shape != ma.shape:
        raise ConfigError(
            f"fixed {fa.shape} and moving {ma.shape} differ in shape; resample one first"
        )
    if transform not in ("translation", "rigid", "affine"):
        raise ConfigError(f"transform must be translation, rigid or affine, got {transform!r}")
    shift, _, _ = phase_cross_correlation(fa, ma, upsample_factor=10)
    # phase_cross_correlation gives the shift that moves `moving` onto `fixed`: the fixed pixel
    # p takes the moving value at p - shift
    p0 = np.array([-shift[0], -shift[1]], float)
    center = (np.array(fa.shape) - 1) / 2
    mi0 = mutual_information(fa, ma, bins=bins)
    if transform == "translation":
        params = p0
    else:
        extra = [0.0] if transform == "rigid" else [0.0] * 4
        x0 = np.concatenate([p0, extra])

        def cost(p):
            warped = apply_affine(ma, _params_to_matrix(p, transform, center), cval=np.nan)
            ok = np.isfinite(warped)
            if ok.mean() < 0.3:
                return 0.0
            return -mutual_information(fa, np.where(ok, warped, 0), bins=bins, mask=ok)

        scale = np.concatenate([[1.0, 1.0], [0.05] * len(extra)])
        res = minimize(
            lambda q: cost(q * scale), x0 / scale, method="Powell", options={"xtol": 1e-3}
        )
        params = res.x * scale
    mat = _params_to_matrix(params, transform, center)
    reg = apply_affine(ma, mat)
    ok = np.isfinite(reg)
    mi1 = mutual_information(fa, np.where(ok, reg, 0), bins=bins, mask=ok)
    out = xr.Dataset(
        {
            "registered": (("y", "x"), reg, dict(m.attrs)),
            "affine": (
                ("affine_row", "affine_col"),
                mat,
                {"long_name": "fixed pixel (row, col, 1) -> moving pixel", "units": "px"},
            ),
            "mutual_information_before": ((), mi0, {"units": "nat"}),
            "mutual_information_after": ((), mi1, {"units": "nat"}),
        },
        coords={c: f[c] for c in ("y", "x") if c in f.coords},
        attrs={"transform": transform},
    )
    return out


# ------------------------------------------------------------------------------------- fusion


def _modalities(features: dict[str, np.ndarray], labels, train, test):
    """Each modality's (n, f) feature matrix and the labels, checked for fitting.

    Raises
    ------
    ConfigError
        If there are no features, a feature's case count differs from the labels', a feature
        holds NaN or infinite values in the training or test cases, or the training labels hold
        one class only.
    """
    if not isinstance(features, dict) or not features:
        raise ConfigError(
            "features must be a non-empty dict of modality name -> (cases, features) array, "
            f"e.g. {{'us': x_us, 'optical': x_opt}}, got {type(features).__name__}"
        )
    y = np.asarray(labels)
    for what, idx in (("train", train), ("test", test)):
        i = np.asarray(idx)
        ok = i.size > 0 and (
            (i.dtype == bool and i.shape == y.shape)
            or (i.dtype.kind in "iu" and i.ndim == 1 and -len(y) <= i.min() and i.max() < len(y))
        )
        if not ok:
            raise ConfigError(
                f"{what} must select cases: integer indices in [0, {len(y)}) or a boolean mask "
                f"of {len(y)} cases, not empty"
            )
    xs = {}
    for name, v in features.items():
        x = np.atleast_2d(np.asarray(v, float).T).T
        if len(x) != len(y):
            raise ConfigError(f"feature {name!r} has {len(x)} cases but labels has {len(y)}")
        if not (np.isfinite(x[train]).all() and np.isfinite(x[test]).all()):
            raise ConfigError(
                f"feature {name!r} holds NaN or infinite values in the training or test cases; "
                "drop or impute them first"
            )
        xs[name] = x
    classes = np.unique(y[train])
    if classes.size < 2:
        raise ConfigError(
            f"training labels hold one class only ({classes.tolist()}); a classifier needs both"
        )
    return xs, y


def feature_fusion(
    features: dict[str, np.ndarray],
    labels: ArrayLike,
    train: ArrayLike,
    test: ArrayLike,
    *,
    l2: float = 1.0,
) -> dict[str, Any]:
    """Feature-level fusion: concatenate each modality's features; one logistic model.

    Parameters
    ----------
    features : dict of str to array_like
        Per modality, the features of every case, (n,) or (n, f); all finite.
    labels : array_like, (n,)
        0/1 labels; the training cases must hold both.
    train, test : array_like
        Indices or boolean masks of the training and test cases.
    l2 : float
        Penalty of the logistic regression.

    Returns
    -------
    dict
        ``{"proba": test probabilities, "model": brim.evaluate.LogisticModel}``.

    Examples
    --------
    Two synthetic modalities that both carry the label:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 20)
    >>> features = {"us": labels + rng.normal(0, 0.7, 40),
    ...             "optical": np.stack([labels + rng.normal(0, 0.7, 40), rng.normal(size=40)], 1)}
    >>> test = np.arange(40) % 4 == 0
    >>> from brim.fusion import feature_fusion
    >>> out = feature_fusion(features, labels, ~test, test)
    >>> out["proba"].shape, type(out["model"]).__name__
    ((10,), 'LogisticModel')
    >>> bool(out["proba"][labels[test] == 1].mean() > out["proba"][labels[test] == 0].mean())
    True
    """
    train, test = np.asarray(train), np.asarray(test)  # indices or boolean masks
    xs, y = _modalities(features, labels, train, test)
    x = np.concatenate(list(xs.values()), 1)
    model = logistic_fit(x[train], y[train], l2=l2)
    return {"proba": model.predict_proba(x[test]), "model": model}


def decision_fusion(
    features: dict[str, np.ndarray],
    labels: ArrayLike,
    train: ArrayLike,
    test: ArrayLike,
    *,
    rule: str = "mean",
    l2: float = 1.0,
) -> dict[str, Any]:
    """Decision-level fusion: one logistic model per modality, probabilities combined.

    ``rule="mean"`` averages probabilities; ``"product"`` multiplies odds (naive Bayes);
    ``"max"`` takes the most suspicious.

    Parameters
    ----------
    features, labels, train, test
        As in :func:`feature_fusion`.
    rule : {"mean", "product", "max"}
        How the per-modality probabilities are combined.
    l2 : float
        Penalty of each logistic regression.

    Returns
    -------
    dict
        ``{"proba": fused test probabilities, "per_modality": {name: test probabilities}}``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 20)
    >>> features = {"us": labels + rng.normal(0, 0.7, 40),
    ...             "optical": np.stack([labels + rng.normal(0, 0.7, 40), rng.normal(size=40)], 1)}
    >>> test = np.arange(40) % 4 == 0
    >>> from brim.fusion import decision_fusion
    >>> out = decision_fusion(features, labels, ~test, test, rule="product")
    >>> sorted(out["per_modality"]), out["proba"].shape
    (['optical', 'us'], (10,))
    >>> bool(out["proba"][labels[test] == 1].mean() > out["proba"][labels[test] == 0].mean())
    True
    """
    train, test = np.asarray(train), np.asarray(test)  # indices or boolean masks
    xs, y = _modalities(features, labels, train, test)
    per = {}
    for name, x in xs.items():
        per[name] = logistic_fit(x[train], y[train], l2=l2).predict_proba(x[test])
    p = np.stack(list(per.values()))
    if rule == "mean":
        fused = p.mean(0)
    elif rule == "max":
        fused = p.max(0)
    elif rule == "product":
        lo = np.sum(np.log(np.clip(p, 1e-12, 1)) - np.log(np.clip(1 - p, 1e-12, 1)), 0)
        fused = 1 / (1 + np.exp(-lo))
    else:
        raise ConfigError(f"rule must be mean, product or max, got {rule!r}")
    return {"proba": fused, "per_modality": per}


def us_features(us: xr.Dataset) -> dict[str, float]:
    """Shape and echo features of an ultrasound lesion mask (BI-RADS-like descriptors).

    area (px), aspect ratio depth/width ("taller than wide" is suspicious), solidity, contour
    irregularity (perimeter^2 / (4 pi area)), mean echo inside relative to a ring around it.

    Parameters
    ----------
    us : xarray.Dataset
        ``image`` and a non-empty lesion ``mask`` on the same 2-D grid.

    Returns
    -------
    dict of str to float
        ``area`` (px), ``aspect``, ``solidity``, ``irregularity`` (1 for a disc, larger for
        irregular contours) and ``echo_ratio``.

    Raises
    ------
    ConfigError
        The mask is empty.

    Examples
    --------
    >>> from brim.fusion import synthetic_ultrasound, us_features
    >>> f = us_features(synthetic_ultrasound(pixel=0.5e-3))
    >>> f["echo_ratio"] < 1, round(f["aspect"], 1)  # a dark, round lesion
    (True, 1.0)
    """
    from scipy import ndimage
    from skimage.measure import perimeter, regionprops

    from brim.schema import expect_dataset

    expect_dataset(us, "mask", builder="brim.fusion.segment")
    missing = [v for v in ("image", "mask") if v not in us.data_vars]
    if missing:
        raise SchemaError(
            f"us_features needs a B-mode Dataset with 'image' and a lesion 'mask' (brim.fusion."
            f"segment adds it); this one lacks {missing} (it holds {list(us.data_vars)})"
        )
    m = np.asarray(us["mask"].values) > 0
    if not m.any():
        raise ConfigError("empty lesion mask: no ultrasound features")
    img = np.asarray(us["image"].values, float)
    props = max(regionprops(m.astype(int)), key=lambda r: r.area)
    h = props.bbox[2] - props.bbox[0]
    w = props.bbox[3] - props.bbox[1]
    ring = ndimage.binary_dilation(m, iterations=5) & ~m
    return {
        "area": float(props.area),
        "aspect": float(h / max(w, 1)),
        "solidity": float(props.solidity),
        "irregularity": float(perimeter(m) ** 2 / (4 * np.pi * m.sum())),
        "echo_ratio": float(img[m].mean() / max(img[ring].mean(), 1e-6)),
    }


def optical_features(hb: xr.Dataset) -> dict[str, float]:
    """Optical features of a haemoglobin map: lesion HbT, max HbT, saturation, HbT contrast.

    Parameters
    ----------
    hb : xarray.Dataset
        The output of :func:`brim.fusion.hemoglobin` (``hbt`` map; ``lesion_hbt``,
        ``lesion_so2`` and ``background_hbt`` when the reconstruction had an ROI).

    Returns
    -------
    dict of str to float
        ``max_hbt`` (uM), and when available ``lesion_hbt`` (uM), ``lesion_so2`` (1) and
        ``hbt_contrast`` (lesion over background HbT).

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from brim.fusion import optical_features
    >>> hb = xr.Dataset({"hbt": (("y", "x"), np.array([[20.0, 40.0], [25.0, 60.0]])),
    ...                  "lesion_hbt": 50.0, "lesion_so2": 0.72, "background_hbt": 20.0})
    >>> optical_features(hb)
    {'lesion_hbt': 50.0, 'lesion_so2': 0.72, 'max_hbt': 60.0, 'hbt_contrast': 2.5}
    >>> optical_features(hb[["hbt"]])  # no ROI
    {'max_hbt': 60.0}
    """
    from brim.fusion.reconstruction import _map_var

    _map_var(hb, "hbt", builder="brim.fusion.hemoglobin")  # hbt: hemoglobin's output
    feats = {}
    if "lesion_hbt" in hb:
        feats["lesion_hbt"] = float(hb["lesion_hbt"])
        feats["lesion_so2"] = float(hb["lesion_so2"])
    feats["max_hbt"] = float(np.nanmax(hb["hbt"].values))
    if "background_hbt" in hb:
        feats["hbt_contrast"] = feats.get("lesion_hbt", feats["max_hbt"]) / float(
            hb["background_hbt"]
        )
    return feats


def to_json(d) -> str:
    """JSON for feature dictionaries (floats).

    Parameters
    ----------
    d : dict of str to float
        Feature values (NumPy scalars are converted).

    Returns
    -------
    str
        A JSON object.
    """
    return json.dumps({k: float(v) for k, v in d.items()})


def two_branch_cv(
    us_images: ArrayLike,
    optical_features: ArrayLike,
    labels: ArrayLike,
    groups: ArrayLike,
    *,
    n_splits: int = 5,
    epochs: int = 20,
    lr: float = 3e-3,
    widths: tuple[int, int] = (8, 16),
    seed: int = 0,
    progress: bool = False,
) -> CVResult:
    """Cross-validated two-branch network: US image branch + optical-feature branch.

    :class:`brim.learn.TwoBranchFusion` of a :class:`brim.learn.ResNetClassifier` on the
    ultrasound images (n, y, x) and an :class:`brim.learn.MLP` on the optical features
    (n, f) (e.g. :func:`optical_features`: lesion HbT, sO2, contrast), trained per fold by
    :func:`brim.learn.make_fit_predict` and evaluated with :func:`brim.evaluate.cross_validate`
    (grouped K-fold, nested validation split for early stopping and the threshold, leakage
    checks, AUROC with a group-bootstrap CI).

    Parameters
    ----------
    us_images : array_like, (n, y, x)
        Ultrasound images of the cases (standardised here).
    optical_features : array_like, (n, f)
        Optical features of the same cases.
    labels : array_like, (n,)
        0/1 labels.
    groups : array_like, (n,)
        Patient (or duplicate-image) group of each case: folds never split a group.
    n_splits : int
        Folds of the grouped K-fold.
    epochs : int
        Training epochs per fold (early stopping on the nested validation split).
    lr : float
        Learning rate.
    widths : tuple of int
        Channel widths of the image branch.
    seed : int
        Seed of the splits and of the networks' initialisation.
    progress : bool
        Show progress bars.

    Returns
    -------
    brim.evaluate.CVResult

    Examples
    --------
    Training a network per fold takes seconds even on 16 x 16 images, so the call is not run
    here:

    >>> import numpy as np
    >>> from brim.fusion import two_branch_cv
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 12)
    >>> images = rng.normal(size=(24, 16, 16)).astype(np.float32)
    >>> images[labels == 1, 6:10, 6:10] -= 2  # a dark lesion
    >>> optical = (labels + rng.normal(0, 0.5, 24))[:, None]
    >>> res = two_branch_cv(images, optical, labels, np.arange(24),
    ...                     n_splits=3, epochs=2)  # doctest: +SKIP
    >>> res.protocol["n_splits"], res.protocol["n_samples"]  # doctest: +SKIP
    (3, 24)
    """
    from brim.errors import require

    require("torch", "dl")
    from brim.evaluate import cross_validate
    from brim.learn import TrainConfig, make_fit_predict

    imgs = np.asarray(us_images, np.float32)
    feats = np.asarray(optical_features, np.float32)
    if feats.ndim == 1:
        feats = feats[:, None]
    if imgs.ndim != 3 or len(imgs) != len(feats):
        raise ConfigError("us_images must be (n, y, x) and optical_features (n, f) with equal n")
    spec = {
        "class": "TwoBranchFusion",
        "kwargs": {
            "branch_a": {"class": "ResNetClassifier", "kwargs": {"widths": list(widths)}},
            "branch_b": {"class": "MLP", "kwargs": {"in_features": int(feats.shape[1])}},
            "hidden": 16,
        },
    }
    # input_stats=False: brim.learn's TwoBranchFusion input-statistics hook fails at the time
    # of writing (nested (position, module) tuples); inputs are standardised here instead
    imgs = (imgs - imgs.mean()) / (imgs.std() or 1.0)
    feats = (feats - feats.mean(0)) / np.where(feats.std(0) > 0, feats.std(0), 1.0)
    cfg = TrainConfig(epochs=epochs, lr=lr, batch_size=8, seed=seed, patience=5, device="cpu",
                      num_threads=1, input_stats=False)  # fmt: skip
    fp = make_fit_predict(spec, config=cfg)
    return cross_validate(
        fp,
        (imgs[:, None], feats),
        np.asarray(labels),
        np.asarray(groups),
        n_splits=n_splits,
        aggregate=None,
        seed=seed,
        name="two-branch US + optical",
        progress=progress,
        near_duplicate_bits=None,
    )
