"""Training, prediction and checkpoints.

:func:`fit` is seeded and deterministic on the CPU (same seed, same data -> bit-identical
weights), stops early on the validation loss, weights classes, and shows a tqdm bar.
:func:`predict` returns an xarray Dataset aligned with the inputs (``index``/``group`` coords).
Checkpoints are a safetensors weight file plus a JSON spec of the model; nothing is pickled.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import numbers
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError, MissingFileError, first_line, require

if TYPE_CHECKING:
    import xarray as xr

torch = require("torch", "dl")

from brim.learn.data import ArrayDataset, _Base  # noqa: E402
from brim.learn.models import build_model  # noqa: E402

F = torch.nn.functional

__all__ = [
    "TrainConfig",
    "TrainResult",
    "fit",
    "load_checkpoint",
    "make_fit_predict",
    "predict",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "brim-checkpoint/1"
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "brim_model.json"


@dataclass
class TrainConfig:
    """Settings of :func:`fit`.

    Attributes
    ----------
    epochs : int
        Maximum number of epochs.
    lr : float
        AdamW learning rate.
    batch_size : int
    seed : int
        Seeds shuffling, augmentation and any randomness inside training.
    patience : int or None
        Stop after this many epochs without a lower validation loss (best weights restored);
        None trains all epochs.
    class_weighting : bool
        Weight the loss by inverse class frequency of the training data.
    weight_decay : float
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    num_workers : int
        DataLoader worker processes (files are opened inside each worker).
    progress : bool
        Show a tqdm progress bar over epochs.
    num_threads : int or None
        torch CPU threads during training (restored afterwards); None keeps torch's setting.
        1 is often fastest for these small models on a busy machine.
    input_stats : bool
        Set the model's fixed input centring/scaling buffers from the training data before the
        first epoch (when not set yet). The data are never rescaled; the model carries the
        statistics, and they are saved in checkpoints.
    """

    epochs: int = 20
    lr: float = 1e-3
    batch_size: int = 16
    seed: int = 0
    patience: int | None = 5
    class_weighting: bool = True
    weight_decay: float = 0.0
    device: str = "auto"
    num_workers: int = 0
    progress: bool = False
    num_threads: int | None = None
    input_stats: bool = True

    def __post_init__(self):
        checks = (("epochs", True), ("batch_size", True), ("lr", False), ("patience", True))
        for name, whole in checks:
            v = getattr(self, name)
            if name == "patience" and v is None:
                continue
            if (
                isinstance(v, bool)
                or not isinstance(v, numbers.Real)
                or not math.isfinite(v)
                or (whole and v != int(v))
            ):
                kind = "a whole number" if whole else "a finite number"
                raise ConfigError(f"TrainConfig {name} must be {kind}, got {v!r}")
            if whole and not isinstance(v, numbers.Integral):
                setattr(self, name, int(v))  # 10.0 from a config file
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError("TrainConfig needs epochs >= 1, batch_size >= 1 and lr > 0")
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', not {self.device!r}")

    def to_dict(self) -> dict:
        """Every setting as a plain dict (recorded with checkpoints and reports).

        Returns
        -------
        dict
            The dataclass fields by name.

        Examples
        --------
        >>> from brim.learn import TrainConfig
        >>> d = TrainConfig(epochs=3).to_dict()
        >>> d["epochs"], d["lr"], d["device"]
        (3, 0.001, 'auto')
        """
        return asdict(self)


@dataclass
class TrainResult:
    """Outcome of :func:`fit`: the trained model (best validation epoch) and its history.

    Attributes
    ----------
    model : torch.nn.Module
        The model with the weights of the best validation epoch.
    history : list of dict
        One record per epoch (losses, learning rate, seconds).
    best_epoch : int
        The epoch whose weights were kept.
    best_val_loss : float
        Its validation loss (NaN without validation data).
    stopped_early : bool
        Whether early stopping ended the training.
    seconds : float
        Wall time of the training.
    device : str
        The device it ran on (``"cpu"``, ``"cuda"``...).
    """

    model: Any
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = float("nan")
    stopped_early: bool = False
    seconds: float = 0.0
    device: str = "cpu"


def _device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        from brim.errors import BackendError

        raise BackendError("device='cuda' was asked for but torch sees no CUDA GPU")
    return torch.device(name)


def _to(x, dev):
    if isinstance(x, tuple | list):
        return tuple(t.to(dev) for t in x)
    return x.to(dev)


def _forward(model, x):
    return model(*x) if isinstance(x, tuple) else model(x)


def _dataset(data, what="training data"):
    if isinstance(data, torch.utils.data.Dataset):
        return data
    raise ConfigError(
        f"{what} must be a torch Dataset (e.g. brim.learn.ArrayDataset(images, labels, "
        f"groups)); got {type(data).__name__}"
    )


def _labels_of(ds) -> np.ndarray:
    base = ds
    idx = None
    if isinstance(ds, torch.utils.data.Subset):
        base, idx = ds.dataset, np.asarray(ds.indices)
    if isinstance(base, _Base) and base.labels is not None:
        lab = np.asarray(base.labels)
        return lab if idx is None else lab[idx]
    return np.stack([np.asarray(ds[i]["y"]) for i in range(len(ds))])


class _Loss:
    """Binary (BCE with logits) or multi-class (cross-entropy) loss, per image or per pixel,
    with optional inverse-frequency class weights from the training labels."""

    def __init__(self, labels: np.ndarray, n_out: int, weighting: bool, dev):
        self.n_out = n_out
        self.pos_weight = None
        self.class_weight = None
        if not weighting:
            return
        lab = np.asarray(labels)
        if n_out == 1:
            n_pos = float((lab > 0.5).sum())
            n_neg = float(lab.size - n_pos)
            if n_pos > 0 and n_neg > 0:
                self.pos_weight = torch.tensor([n_neg / n_pos], device=dev)
        else:
            counts = np.bincount(lab.astype(np.int64).ravel(), minlength=n_out).astype(float)
            w = np.where(counts > 0, counts.sum() / (n_out * np.maximum(counts, 1)), 0.0)
            self.class_weight = torch.tensor(w, dtype=torch.float32, device=dev)

    def __call__(self, out, y):
        if self.n_out == 1:
            out = out.reshape(y.shape) if out.numel() == y.numel() else out
            return F.binary_cross_entropy_with_logits(out, y.float(), pos_weight=self.pos_weight)
        return F.cross_entropy(out, y.long(), weight=self.class_weight)


def _n_outputs(model, batch, dev) -> int:
    with torch.no_grad():
        was = model.training
        model.eval()
        out = _forward(model, _to(batch["x"], dev))
        model.train(was)
    return int(out.shape[1]) if out.ndim >= 2 else 1


def _loader(ds, batch_size, shuffle, seed, num_workers):
    g = torch.Generator()
    g.manual_seed(int(seed))
    return torch.utils.data.DataLoader(
        ds,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=g,
        num_workers=num_workers,
        persistent_workers=False,
    )


def _set_epoch(ds, epoch):
    base = ds.dataset if isinstance(ds, torch.utils.data.Subset) else ds
    if hasattr(base, "set_epoch"):
        base.set_epoch(epoch)


class _NoAugment:
    """Context: switch augmentation off for a dataset (validation / prediction)."""

    def __init__(self, ds):
        self.base = ds.dataset if isinstance(ds, torch.utils.data.Subset) else ds
        self.old = getattr(self.base, "augment", None)

    def __enter__(self):
        if self.old is not None:
            self.base.augment = False

    def __exit__(self, *exc):
        if self.old is not None:
            self.base.augment = self.old


@positional_options
def fit(
    model: Any, train_data: Any, *, val_data: Any = None, config: TrainConfig | None = None
) -> TrainResult:
    """Train ``model`` on ``train_data``, early-stopping on the loss of ``val_data``.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits: ``(batch, 1)`` binary, ``(batch, C)`` classes, ``(batch, C, y, x)``
        segmentation.
    train_data, val_data : torch Dataset
        Samples as dicts with ``x`` and ``y`` (e.g. :class:`brim.learn.ArrayDataset`). Use a
        *grouped* validation split (:func:`brim.evaluate.grouped_split`).
    config : TrainConfig

    Returns
    -------
    TrainResult
        The model (on the training device, in eval mode, best-validation weights restored).

    Examples
    --------
    A small MLP learns a linear rule; training, validation (early stopping) and test samples
    are disjoint (one sample per patient here):

    >>> import numpy as np
    >>> from brim.evaluate import auroc
    >>> from brim.learn import ArrayDataset, TrainConfig, build_model, fit, predict
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2)).astype(np.float32)
    >>> y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    >>> patient = np.arange(200)
    >>> train, val, test = (ArrayDataset(x[s], y[s], patient[s])
    ...                     for s in (slice(0, 120), slice(120, 160), slice(160, 200)))
    >>> cfg = TrainConfig(epochs=10, lr=1e-2, seed=0)
    >>> model = build_model("MLP", kwargs={"in_features": 2, "hidden": (8,)}, seed=0)
    >>> result = fit(model, train, val_data=val, config=cfg)
    >>> scores = predict(result.model, test)  # an xarray Dataset on dim "sample"
    >>> bool(auroc(y[160:], scores["score"].values) > 0.95)
    True
    """
    cfg = config or TrainConfig()
    if cfg.num_threads is None:
        return _fit(model, train_data, val_data, cfg)
    old = torch.get_num_threads()
    torch.set_num_threads(int(cfg.num_threads))
    try:
        return _fit(model, train_data, val_data, cfg)
    finally:
        torch.set_num_threads(old)


def _fit(model, train_data, val_data, cfg: TrainConfig) -> TrainResult:
    train_ds = _dataset(train_data)
    val_ds = _dataset(val_data) if val_data is not None else None
    if len(train_ds) == 0:
        raise ConfigError("the training data are empty")
    dev = _device(cfg.device)
    t0 = time.perf_counter()
    model.to(dev)
    history: list[dict] = []
    best_state = None
    best_loss = float("inf")
    best_epoch = 0
    stale = 0
    stopped = False
    with torch.random.fork_rng(devices=[dev.index or 0] if dev.type == "cuda" else []):
        torch.manual_seed(int(cfg.seed))
        first = next(iter(_loader(train_ds, min(cfg.batch_size, len(train_ds)), False, 0, 0)))
        try:
            if cfg.input_stats:
                _fit_input_stats(model, train_ds, cfg)
            n_out = _n_outputs(model, first, dev)
        except torch.OutOfMemoryError:
            raise
        except RuntimeError as exc:  # a shape mismatch between the model and the data
            spec = getattr(model, "spec", type(model).__name__)
            x = first["x"]
            xs = x if isinstance(x, tuple | list) else (x,)
            shapes = ", ".join(str(tuple(a.shape[1:])) for a in xs)
            raise ConfigError(
                f"model {spec} does not accept samples of shape {shapes}: "
                f"{first_line(exc)}; check its kwargs (in_features, in_channels)"
            ) from None
        loss_fn = _Loss(_labels_of(train_ds), n_out, cfg.class_weighting, dev)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        epochs = range(cfg.epochs)
        bar = None
        if cfg.progress:
            from tqdm.auto import tqdm

            bar = tqdm(epochs, desc="training", unit="epoch")
            epochs = bar
        # drop a last batch of one sample (BatchNorm cannot train on it)
        drop_last = len(train_ds) % cfg.batch_size == 1 and len(train_ds) > cfg.batch_size
        for epoch in epochs:
            _set_epoch(train_ds, epoch)
            model.train()
            loader = _loader(train_ds, cfg.batch_size, True, cfg.seed + epoch, cfg.num_workers)
            total, count = 0.0, 0
            n_batches = len(loader)
            for b, batch in enumerate(loader):
                if drop_last and b == n_batches - 1:
                    break
                x, y = _to(batch["x"], dev), batch["y"].to(dev)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(_forward(model, x), y)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(y)
                count += len(y)
            row = {"epoch": epoch, "train_loss": total / max(count, 1)}
            if val_ds is not None and len(val_ds):
                _recalibrate_batchnorm(model, train_ds, cfg, dev)
                row["val_loss"] = _eval_loss(model, val_ds, loss_fn, cfg, dev)
                if row["val_loss"] < best_loss - 1e-12:
                    best_loss, best_epoch, stale = row["val_loss"], epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    stale += 1
            history.append(row)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k != "epoch"})
            if cfg.patience is not None and val_ds is not None and stale >= cfg.patience:
                stopped = True
                break
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = len(history) - 1
        _recalibrate_batchnorm(model, train_ds, cfg, dev)
    model.eval()
    return TrainResult(
        model, history, best_epoch, best_loss, stopped, time.perf_counter() - t0, str(dev)
    )


def _input_modules(model):
    """(input position, _InputStats module) pairs of a brim model (fusion: one per branch)."""
    from brim.learn.models import TwoBranchFusion

    if isinstance(model, TwoBranchFusion):
        return [(0, m) for _, m in _input_modules(model.branch_a)] + [
            (1, m) for _, m in _input_modules(model.branch_b)
        ]
    m = getattr(model, "input_stats", None)
    return [] if m is None else [(0, m)]


def _fit_input_stats(model, ds, cfg) -> None:
    """Per-channel mean/std of the (un-augmented) training inputs into the model's buffers."""
    mods = [(k, m) for k, m in _input_modules(model) if not bool(m.fitted)]
    if not mods:
        return
    sums: dict[int, list] = {}
    with torch.no_grad(), _NoAugment(ds):
        for batch in _loader(ds, 256, False, 0, cfg.num_workers):
            xs = batch["x"] if isinstance(batch["x"], tuple | list) else (batch["x"],)
            for k, _ in mods:
                x = xs[k].double()
                x = x.flatten(1) if x.ndim == 2 else x.transpose(0, 1).flatten(1).T
                acc = sums.setdefault(k, [0, 0.0, 0.0])
                acc[0] += x.shape[0]
                acc[1] = acc[1] + x.sum(0)
                acc[2] = acc[2] + (x * x).sum(0)
    for k, m in mods:
        n, s1, s2 = sums[k]
        mean = s1 / n
        std = torch.sqrt(torch.clamp(s2 / n - mean * mean, min=0.0))
        m.set(mean.float(), std.float())


def _recalibrate_batchnorm(model, ds, cfg, dev) -> None:
    """Re-estimate BatchNorm population statistics on the un-augmented training data.

    During training the running statistics are an exponential average (momentum 0.1) over
    batches seen while the weights were still changing, so after a short training they lag the
    final weights and evaluation-mode outputs drift (on 40 thermograms, 30 epochs, healthy
    training images scored 0.6-0.95 in eval mode but 0.0-0.2 with batch statistics). Here
    every BatchNorm layer's statistics are reset and replaced by the plain average over one
    pass of the training set with the final weights ("precise BN", Wu & Johnson 2021,
    arXiv:2105.07576). Weights are not changed; models without BatchNorm are untouched.
    """
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    was_training = model.training
    try:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average = plain mean over batches
        model.train()
        with torch.no_grad(), _NoAugment(ds):
            for batch in _loader(ds, cfg.batch_size, False, 0, cfg.num_workers):
                if len(batch["y"]) < 2:  # a batch of one has no batch variance
                    continue
                _forward(model, _to(batch["x"], dev))
    finally:
        for m, mom in zip(bns, momenta):
            m.momentum = mom
        model.train(was_training)


def _eval_loss(model, ds, loss_fn, cfg, dev) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), _NoAugment(ds):
        for batch in _loader(ds, max(cfg.batch_size, 64), False, 0, cfg.num_workers):
            y = batch["y"].to(dev)
            total += float(loss_fn(_forward(model, _to(batch["x"], dev)), y)) * len(y)
            count += len(y)
    return total / max(count, 1)


def _sigmoid(logit: np.ndarray) -> np.ndarray:
    """Probability of class 1 from a one-logit output."""
    return 1.0 / (1.0 + np.exp(-logit))


def _softmax(out: np.ndarray) -> np.ndarray:
    """Class probabilities from logits along axis 1 (the class axis)."""
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def predict(
    model: Any,
    data: Any,
    *,
    batch_size: int = 64,
    device: str | None = None,
    like: Any = None,
    num_workers: int = 0,
) -> xr.Dataset:
    """Scores of a trained model on every sample, as a Dataset aligned with the inputs.

    Parameters
    ----------
    model : torch.nn.Module
    data : torch Dataset
        Samples as dicts (``x``, optional ``y``, ``group``, ``index``); augmentation is switched
        off while predicting.
    like : xarray.DataArray or Dataset, optional
        The input array: its first dim name and coords along it (and ``y``/``x`` coords for
        segmentation) are copied onto the result.

    Returns
    -------
    xarray.Dataset
        Binary: ``score`` (sigmoid probability, units "1") and ``logit`` on dim ``sample`` with
        coords ``index`` and ``group`` (and ``label`` when the data have labels). Classes:
        ``score`` on (sample, class) (softmax). Segmentation: ``probability`` on
        (sample, [class,] y, x).

    Examples
    --------
    An untrained binary model on three samples (with labels):

    >>> import numpy as np
    >>> from brim.learn import MLP, ArrayDataset, predict
    >>> data = ArrayDataset(np.zeros((3, 2), np.float32), [0, 1, 0])
    >>> scores = predict(MLP(2, hidden=(4,)), data)
    >>> sorted(scores.data_vars), dict(scores.sizes), scores["score"].attrs["units"]
    (['label', 'logit', 'score'], {'sample': 3}, '1')
    """
    import xarray as xr

    ds = _dataset(data, "data to predict")
    param = next(model.parameters(), None)
    dev = _device(device) if device else (param.device if param is not None else "cpu")
    model.to(dev)
    model.eval()
    outs, idx, grp, lab = [], [], [], []
    with torch.no_grad(), _NoAugment(ds):
        for batch in _loader(ds, batch_size, False, 0, num_workers):
            outs.append(_forward(model, _to(batch["x"], dev)).float().cpu())
            idx.append(np.asarray(batch["index"]))
            grp.extend(batch["group"])
            if "y" in batch:
                lab.append(batch["y"].numpy())
    out = torch.cat(outs).numpy()
    index = np.concatenate(idx)
    aligned = like is not None and hasattr(like, "dims") and like.sizes[like.dims[0]] == len(index)
    sdim = like.dims[0] if aligned else "sample"
    coords: dict[str, Any] = {"index": (sdim, index), "group": (sdim, np.asarray(grp))}
    if aligned:
        coords.update({k: c for k, c in like.coords.items() if c.dims == (sdim,)})
    data_vars: dict[str, Any] = {}
    if out.ndim == 2 and out.shape[1] == 1:
        logit = out[:, 0]
        data_vars["logit"] = (sdim, logit, {"units": "1"})
        data_vars["score"] = (
            sdim,
            _sigmoid(logit),
            {"units": "1", "long_name": "probability of class 1"},
        )
    elif out.ndim == 2:
        data_vars["score"] = ((sdim, "class"), _softmax(out), {"units": "1"})
    elif out.ndim == 4:
        dims: tuple[str, ...] = (sdim, "y", "x")
        if out.shape[1] == 1:
            prob = _sigmoid(out[:, 0])
        else:
            prob, dims = _softmax(out), (sdim, "class", "y", "x")
        data_vars["probability"] = (dims, prob, {"units": "1"})
        if like is not None and hasattr(like, "coords"):
            for d in ("y", "x"):
                if d in like.coords and like.sizes.get(d) == prob.shape[-1 if d == "x" else -2]:
                    coords[d] = like.coords[d]
    else:
        raise ConfigError(f"model output of shape {out.shape} is not understood")
    if lab:
        y = np.concatenate(lab)
        if y.ndim == 1:
            data_vars["label"] = (sdim, y)
    return xr.Dataset(data_vars, coords=coords, attrs={"model": type(model).__name__})


# ----------------------------------------------------------------------------- checkpoints


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(
    model: Any,
    directory: str | os.PathLike,
    *,
    config: Mapping | TrainConfig | None = None,
) -> Path:
    """Write ``model.safetensors`` (weights) and ``brim_model.json`` (model spec, training config,
    versions, weight checksum) into ``directory``. Nothing is pickled.

    Parameters
    ----------
    model : brim.learn model
        Must carry ``model.spec`` (every brim.learn model does).
    directory : path-like
        Created if missing; files are written atomically (temporary name, then rename).
    config : mapping or TrainConfig, optional
        Training settings to record (a TrainConfig is recorded as ``TrainConfig.to_dict()``);
        must be JSON-serialisable.

    Returns
    -------
    pathlib.Path
        The directory.

    Examples
    --------
    >>> import tempfile, torch
    >>> from brim.learn import build_model, load_checkpoint, save_checkpoint
    >>> model = build_model("MLP", kwargs={"in_features": 3}, seed=0)
    >>> folder = save_checkpoint(model, tempfile.mkdtemp())
    >>> again = load_checkpoint(folder)
    >>> x = torch.ones(2, 3)
    >>> bool(torch.equal(model.eval()(x), again(x)))
    True
    """
    st = require("safetensors.torch", "dl")
    import brim

    spec = getattr(model, "spec", None)
    if spec is None:
        raise ConfigError(
            "only brim.learn models (which record their spec) can be checkpointed; "
            f"{type(model).__name__} has no .spec"
        )
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp_w = d / (WEIGHTS_FILE + ".tmp")
    st.save_file(state, str(tmp_w))
    meta = {
        "format": CHECKPOINT_FORMAT,
        "model": spec,
        "config": dict(config.to_dict() if isinstance(config, TrainConfig) else config or {}),
        "weights_sha256": _sha256(tmp_w),
        "brim_version": brim.__version__,
        "torch_version": torch.__version__,
    }
    try:
        text = json.dumps(meta, indent=2, sort_keys=True)
    except TypeError as exc:
        tmp_w.unlink(missing_ok=True)
        raise ConfigError(f"checkpoint config must be JSON-serialisable: {exc}") from exc
    tmp_j = d / (SPEC_FILE + ".tmp")
    tmp_j.write_text(text)
    os.replace(tmp_w, d / WEIGHTS_FILE)
    os.replace(tmp_j, d / SPEC_FILE)
    return d


def load_checkpoint(directory: str | os.PathLike, *, device: str = "cpu") -> Any:
    """Rebuild a model saved by :func:`save_checkpoint` (weights checked against their SHA-256).

    Parameters
    ----------
    directory : path-like
        The checkpoint folder (spec JSON and safetensors weights).
    device : str
        Where to put the model (``"cpu"``, ``"cuda"``...).

    Returns
    -------
    torch.nn.Module
        In eval mode; ``model.checkpoint_config`` holds the recorded config.

    Examples
    --------
    >>> from brim.learn import TrainConfig, build_model, load_checkpoint, save_checkpoint
    >>> model = build_model("MLP", kwargs={"in_features": 3}, seed=0)
    >>> folder = save_checkpoint(model, "ckpt", config=TrainConfig(epochs=3).to_dict())
    >>> again = load_checkpoint(folder)
    >>> again.spec["class"], again.training, again.checkpoint_config["epochs"]
    ('MLP', False, 3)
    """
    st = require("safetensors.torch", "dl")
    d = Path(directory)
    spec_path, w_path = d / SPEC_FILE, d / WEIGHTS_FILE
    for p in (spec_path, w_path):
        if not p.is_file():
            raise MissingFileError(f"checkpoint file missing: {p}")
    try:
        meta = json.loads(spec_path.read_text())
    except json.JSONDecodeError as exc:
        raise FormatError(f"{spec_path} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise FormatError(f"{spec_path}: not a {CHECKPOINT_FORMAT} checkpoint")
    if "model" not in meta:
        raise FormatError(f"{spec_path}: no 'model' spec recorded; the checkpoint is incomplete")
    if _sha256(w_path) != meta.get("weights_sha256"):
        raise FormatError(f"{w_path} does not match the checksum recorded in {spec_path}")
    model = build_model(meta["model"])
    state = st.load_file(str(w_path))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise FormatError(f"weights in {w_path} do not fit the model spec: {exc}") from exc
    model.checkpoint_config = meta.get("config", {})
    return model.to(_device(device)).eval()


# ----------------------------------------------------------------------------- CV bridge


def _as_dataset(X, y, transform, seed):
    if isinstance(X, _Base):
        ds = copy.copy(X)
        ds.labels = np.asarray(y)
        if transform is not None:
            ds.transform = transform
        return ds
    return ArrayDataset(X, np.asarray(y), None, transform=transform, seed=seed)


class _KeepsLastResult(Protocol):
    """A ``fit_predict`` that keeps the TrainResult of its last call."""

    last_result: TrainResult | None

    def __call__(self, X_train, y_train, X_val, y_val, X_test) -> tuple[Any, Any]: ...


@positional_options
def make_fit_predict(
    model: Callable[[], Any] | Mapping,
    *,
    config: TrainConfig | None = None,
    transform: Callable | None = None,
) -> Callable:
    """A ``fit_predict`` for :func:`brim.evaluate.cross_validate` that trains a brim model.

    Parameters
    ----------
    model : mapping or callable
        A model spec ``{"class": "ResNetClassifier", "kwargs": {...}}`` (built with the config's
        seed on every fold) or a zero-argument factory returning a fresh model.
    config : TrainConfig
    transform : callable, optional
        Augmentation of the training samples only.

    Returns
    -------
    callable
        ``fit_predict(X_train, y_train, X_val, y_val, X_test) -> (val_scores, test_scores)``
        where scores are class-1 probabilities. The last TrainResult is kept on
        ``fit_predict.last_result``.

    Examples
    --------
    Two epochs of a small MLP on one split (``cross_validate`` calls it once per fold):

    >>> import numpy as np
    >>> from brim.learn import TrainConfig, make_fit_predict
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> spec = {"class": "MLP", "kwargs": {"in_features": 2, "hidden": (4,)}}
    >>> fit_predict = make_fit_predict(spec, config=TrainConfig(epochs=2, device="cpu"))
    >>> val, test = fit_predict(X[:20], y[:20], X[20:30], y[20:30], X[30:])
    >>> val.shape, test.shape, bool(((test >= 0) & (test <= 1)).all())
    ((10,), (10,), True)
    >>> len(fit_predict.last_result.history)
    2
    """
    cfg = config or TrainConfig()

    def fit_predict(X_train, y_train, X_val, y_val, X_test):
        m = build_model(model, seed=cfg.seed) if isinstance(model, Mapping) else model()
        tr = _as_dataset(X_train, y_train, transform, cfg.seed)
        va = _as_dataset(X_val, y_val, None, cfg.seed)
        if isinstance(va, _Base):
            va.transform = None
        te = _as_dataset(X_test, np.zeros(_len(X_test)), None, cfg.seed)
        if isinstance(te, _Base):
            te.transform = None
        res = fit(m, tr, val_data=va, config=cfg)
        keeping.last_result = res
        return (predict(res.model, va)["score"].values, predict(res.model, te)["score"].values)

    keeping = cast(_KeepsLastResult, fit_predict)  # the function itself, typed with its attribute
    keeping.last_result = None
    return keeping


def _len(X):
    if isinstance(X, tuple):
        return _len(X[0])
    return len(X)
