"""brim.learn: deep learning on brim Datasets (torch; install the extra ``dl``).

Datasets that carry the patient group with every sample and open files lazily per worker,
augmentations that never rescale physical values, small CNN / U-Net / MLP / fusion models that
train on a CPU, seeded deterministic training with early stopping and class weighting,
predictions as xarray Datasets, and pickle-free checkpoints (safetensors + JSON).

Evaluation (grouped cross-validation, leakage checks, metrics, confound audit, report) is in
:mod:`brim.evaluate`; :func:`make_fit_predict` connects the two.

Examples
--------
>>> from brim.learn import ArrayDataset, ResNetClassifier, TrainConfig, fit, predict
>>> ds = ArrayDataset(images, labels, groups)  # images (n, y, x) in degC  # doctest: +SKIP
>>> cfg = TrainConfig(epochs=10)  # doctest: +SKIP
>>> res = fit(ResNetClassifier(1), train, val_data=val, config=cfg)  # doctest: +SKIP
>>> scores = predict(res.model, test)  # xr.Dataset: score on dim sample  # doctest: +SKIP

Public API
----------
Data
    ``ArrayDataset(images, labels=None, groups=None, *, transform=None, seed=0,
    add_channel=None)`` (images: array / DataArray / tuple of them for two-input models),
    ``ArrayDataset.from_dataset(ds, var, *, label=None, group=None, sample_dim=None, ...)``,
    ``FileDataset(paths, *, var, labels=None, groups=None, loader=None, dims=None, isel=None,
    transform=None, seed=0, cache=False)`` (one file per sample, opened inside ``__getitem__``),
    ``RandomFlip(axes=(-1,), p=0.5)``, ``RandomShift(max_shift=2)``, ``Normalize(mean, std)``,
    ``Compose(transforms)``. Each sample is ``{"x", "y", "group", "index"}``.
Models
    ``ResNetClassifier(in_channels=1, n_outputs=1, widths=(16, 32, 64), blocks_per_stage=1,
    attention=False, norm="group", downsample="stride")`` (``norm="batch",
    downsample="avgpool"`` when Grad-CAM must localise small faint evidence),
    ``UNet2d(in_channels=1, n_classes=1, base_channels=16, depth=3)``,
    ``MLP(in_features, hidden=(64, 32), n_outputs=1, dropout=0.0)``,
    ``TwoBranchFusion(branch_a, branch_b, n_outputs=1, hidden=32)`` (``forward(xa, xb)``),
    ``build_model(spec | name, *, kwargs=None, seed=None)``, ``MODELS``. Every model has
    ``.spec`` (class + kwargs, JSON) and fixed input-statistics buffers set by ``fit`` from the
    training fold.
Training
    ``TrainConfig(epochs=20, lr=1e-3, batch_size=16, seed=0, patience=5, class_weighting=True,
    weight_decay=0.0, device="auto", num_workers=0, progress=False, num_threads=None,
    input_stats=True)``,
    ``fit(model, train_data, *, val_data=None, config=None) -> TrainResult``
    (``model, history, best_epoch, best_val_loss, stopped_early, seconds, device``),
    ``predict(model, data, *, batch_size=64, device=None, like=None, num_workers=0)
    -> xr.Dataset``,
    ``save_checkpoint(model, directory, *, config=None) -> Path``,
    ``load_checkpoint(directory, *, device="cpu") -> nn.Module``,
    ``make_fit_predict(model_spec_or_factory, *, config=None, transform=None)`` -> the
    ``fit_predict`` callable of :func:`brim.evaluate.cross_validate`.
CLI
    ``brim learn cv CONFIG.yaml [--out DIR]`` (:mod:`brim.learn.cli`).
"""

from brim.errors import require as _require

_require("torch", "dl")

from brim.learn.data import (  # noqa: E402
    ArrayDataset,
    Compose,
    FileDataset,
    Normalize,
    RandomFlip,
    RandomShift,
)
from brim.learn.models import (  # noqa: E402
    MLP,
    MODELS,
    ResNetClassifier,
    TwoBranchFusion,
    UNet2d,
    build_model,
)
from brim.learn.train import (  # noqa: E402
    TrainConfig,
    TrainResult,
    fit,
    load_checkpoint,
    make_fit_predict,
    predict,
    save_checkpoint,
)

__all__ = [
    "MLP",
    "MODELS",
    "ArrayDataset",
    "Compose",
    "FileDataset",
    "Normalize",
    "RandomFlip",
    "RandomShift",
    "ResNetClassifier",
    "TrainConfig",
    "TrainResult",
    "TwoBranchFusion",
    "UNet2d",
    "build_model",
    "fit",
    "load_checkpoint",
    "make_fit_predict",
    "predict",
    "save_checkpoint",
]
