"""Small networks that train on a CPU in minutes and run unchanged on CUDA.

Every model records the keyword arguments it was built with (``model.spec``), so a checkpoint
is weights + a JSON spec and can be rebuilt without pickle (:func:`build_model`).

References
----------
He K et al. (2016). Deep residual learning for image recognition. CVPR (residual blocks).
Wu Y, He K (2018). Group normalization. ECCV.
Hu J, Shen L, Sun G (2018). Squeeze-and-excitation networks. CVPR (channel attention).
Ronneberger O, Fischer P, Brox T (2015). U-Net: convolutional networks for biomedical image
segmentation. MICCAI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from brim.deprecation import positional_options
from brim.errors import ConfigError, require

if TYPE_CHECKING:  # the checker sees torch's own types; at run time torch is an optional extra
    import torch
    from torch import nn
else:
    torch = require("torch", "dl")
    nn = torch.nn
F = torch.nn.functional

__all__ = [
    "MLP",
    "MODELS",
    "ResNetClassifier",
    "TwoBranchFusion",
    "UNet2d",
    "build_model",
]


class _Spec:
    """Mixin: remembers the class name and JSON-able kwargs the model was built with."""

    spec: dict

    def _record(self, **kwargs):
        self.spec = {"class": type(self).__name__, "kwargs": kwargs}


class _LinearHead:
    """Mixin for classifiers whose scores are a linear ``head`` on their ``features``."""

    def forward(self, x):
        """Scores of a batch: the linear ``head`` applied to :meth:`features`.

        Parameters
        ----------
        x : torch.Tensor
            A batch as :meth:`features` takes it, in the input's physical units (standardised
            inside the model).

        Returns
        -------
        torch.Tensor
            Logits, shape (batch, n_outputs).

        Examples
        --------
        >>> import torch
        >>> from brim.learn import MLP, ResNetClassifier
        >>> tuple(ResNetClassifier(widths=(4, 8))(torch.zeros(2, 1, 8, 8)).shape)
        (2, 1)
        >>> tuple(MLP(3, hidden=(5, 4), n_outputs=3)(torch.zeros(2, 3)).shape)
        (2, 3)
        """
        return self.head(self.features(x))


class _InputStats(nn.Module):
    """Fixed per-channel (or per-feature) centring and scaling of the model's input.

    The statistics are *buffers* set once from the training data by :func:`brim.learn.fit`
    (training fold only, so nothing leaks) and saved with the weights; the data themselves stay
    in physical units (e.g. degC). Without it, a 30 degC offset dominates the first layer.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def set(self, mean, std):
        std = torch.as_tensor(std, dtype=self.std.dtype)
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.where(std > 0, std, torch.ones_like(std)))
        self.fitted.fill_(True)

    def forward(self, x):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (x - self.mean.view(shape)) / self.std.view(shape)


NORMS = ("group", "batch")
DOWNSAMPLES = ("stride", "avgpool")


def _norm(channels: int, kind: str = "group") -> nn.Module:
    """Normalisation layer.

    ``"group"``: group normalisation (Wu & He 2018): batch-independent, so training and
    evaluation behave the same even after few steps and with tiny batches (BatchNorm's running
    statistics do not). With few channels per group on a coarse grid it acts like instance
    normalisation: every image's feature maps are rescaled to unit variance, so how *strong* a
    local response is relative to other images is lost (noise in a negative image is blown up
    to the size of a lesion in a positive one). Classification may still work (from the shape
    of the distribution), but class-activation maps then need not point at the evidence.

    ``"batch"``: batch normalisation (Ioffe & Szegedy 2015): one scale for all images, so a
    response keeps its amplitude across images and Grad-CAM follows it; needs batches of
    >= 2 samples while training (:func:`brim.learn.fit` drops a last batch of one).
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(_groups(channels), channels)
    raise ConfigError(f"norm must be one of {NORMS}, not {kind!r}")


def _groups(channels: int) -> int:
    for g in (8, 4, 2):
        if channels % g == 0 and channels // g >= 2:
            return g
    return 1


class _SE(nn.Module):
    """Squeeze-and-excitation channel attention (Hu et al. 2018)."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x):
        w = x.mean(dim=(2, 3))
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(w))))
        return x * w[:, :, None, None]


def _pool2(x):
    return F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False)


class _ResBlock(nn.Module):
    """Residual block. ``downsample="stride"``: the first conv (and the 1x1 skip) has stride 2;
    ``"avgpool"``: a 2x2 average pool first, then stride-1 convs (as ResNet-D's skip, He T et
    al. 2019). A stride-2 conv with padding 1 centres output pixel i on input pixel 2i, half an
    input pixel off the centre (2i + 0.5) of the 2x2 block it stands for; over the stages the
    shift adds up (1.5 px at 1/4 resolution), so upsampled class-activation maps land beside
    the evidence. Average pooling keeps every coarse pixel centred on its block."""

    def __init__(
        self,
        cin: int,
        cout: int,
        stride: int,
        attention: bool,
        norm: str = "group",
        downsample: str = "stride",
    ):
        super().__init__()
        self.pool = stride != 1 and downsample == "avgpool"
        cstride = 1 if self.pool else stride
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=cstride, padding=1, bias=False)
        self.bn1 = _norm(cout, norm)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = _norm(cout, norm)
        self.se = _SE(cout) if attention else None
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=cstride, bias=False), _norm(cout, norm)
            )

    def forward(self, x):
        h = self.conv1(x)
        if self.pool:
            h = _pool2(h)
        h = F.relu(self.bn1(h))
        h = self.bn2(self.conv2(h))
        if self.se is not None:
            h = self.se(h)
        s = x if self.skip is None else self.skip(_pool2(x) if self.pool else x)
        return F.relu(h + s)


class ResNetClassifier(_LinearHead, nn.Module, _Spec):
    """ResNet-style 2-D classifier: a stem, stages of residual blocks (stride 2 between stages),
    global average pooling and a linear head.

    Parameters
    ----------
    in_channels : int
        Input channels (1 for a thermogram).
    n_outputs : int
        1 for a binary task (one logit), C for C classes.
    widths : sequence of int
        Channels of each stage.
    blocks_per_stage : int
        Residual blocks per stage.
    attention : bool
        Add squeeze-and-excitation channel attention to every block.
    norm : {"group", "batch"}
        Normalisation layers (see :func:`_norm`). ``"batch"`` when Grad-CAM must localise
        small, faint evidence (e.g. a warm spot in a thermogram).
    downsample : {"stride", "avgpool"}
        Stride-2 convolutions, or 2x2 average pooling before stride-1 convolutions (coarse
        pixels stay centred on their blocks, so upsampled Grad-CAM maps are not shifted).

    Notes
    -----
    Input: ``(batch, in_channels, y, x)`` with y, x >= 2**(len(widths) - 1). Output logits
    ``(batch, n_outputs)``. ``features(x)`` gives the pooled feature vector (``n_features``).
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_outputs: int = 1,
        widths: Sequence[int] = (16, 32, 64),
        blocks_per_stage: int = 1,
        attention: bool = False,
        norm: str = "group",
        downsample: str = "stride",
    ):
        super().__init__()
        widths = [int(w) for w in widths]
        if norm not in NORMS:
            raise ConfigError(f"norm must be one of {NORMS}, not {norm!r}")
        if downsample not in DOWNSAMPLES:
            raise ConfigError(f"downsample must be one of {DOWNSAMPLES}, not {downsample!r}")
        if not widths or blocks_per_stage < 1 or in_channels < 1 or n_outputs < 1:
            raise ConfigError(
                "ResNetClassifier needs widths, blocks_per_stage, in_channels, n_outputs >= 1"
            )
        self._record(
            in_channels=int(in_channels),
            n_outputs=int(n_outputs),
            widths=widths,
            blocks_per_stage=int(blocks_per_stage),
            attention=bool(attention),
            norm=str(norm),
            downsample=str(downsample),
        )
        self.input_stats = _InputStats(in_channels)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
            _norm(widths[0], norm),
            nn.ReLU(),
        )
        stages = []
        cin = widths[0]
        for k, w in enumerate(widths):
            blocks = []
            for b in range(blocks_per_stage):
                stride = 2 if (k > 0 and b == 0) else 1
                blocks.append(_ResBlock(cin, w, stride, attention, norm, downsample))
                cin = w
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.n_features = widths[-1]
        self.head = nn.Linear(widths[-1], n_outputs)

    @property
    def cam_layer(self) -> nn.Module:
        """Default Grad-CAM layer: the last residual stage.

        Returns
        -------
        torch.nn.Module
            ``stages[-1]``.

        Examples
        --------
        >>> from brim.learn import ResNetClassifier
        >>> net = ResNetClassifier(widths=(4, 8))
        >>> net.cam_layer is net.stages[-1]
        True
        """
        return self.stages[-1]

    def features(self, x):
        """The pooled feature vector of a batch (the input of the last layer): the output of
        the last residual stage, averaged over y and x.

        Parameters
        ----------
        x : torch.Tensor
            A batch (batch, channel, y, x).

        Returns
        -------
        torch.Tensor
            Shape (batch, n_features), ``n_features = widths[-1]``.

        Examples
        --------
        >>> import torch
        >>> from brim.learn import ResNetClassifier
        >>> net = ResNetClassifier(widths=(4, 8))
        >>> tuple(net.features(torch.zeros(2, 1, 8, 8)).shape)
        (2, 8)
        """
        return self.stages(self.stem(self.input_stats(x))).mean(dim=(2, 3))


def _double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        _norm(cout),
        nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        _norm(cout),
        nn.ReLU(),
    )


class UNet2d(nn.Module, _Spec):
    """U-Net 2-D segmenter (Ronneberger et al. 2015), reduced in width for CPU training.

    Parameters
    ----------
    in_channels : int
    n_classes : int
        1 for binary segmentation (one logit map), C for C classes.
    base_channels : int
        Channels of the first level; doubled at each level down.
    depth : int
        Number of down-sampling steps.

    Notes
    -----
    Input ``(batch, in_channels, y, x)``, any y, x (padding handles odd sizes); output logits
    ``(batch, n_classes, y, x)`` on the same grid.
    """

    def __init__(
        self, in_channels: int = 1, n_classes: int = 1, base_channels: int = 16, depth: int = 3
    ):
        super().__init__()
        if depth < 1 or base_channels < 1:
            raise ConfigError("UNet2d needs depth >= 1 and base_channels >= 1")
        self._record(
            in_channels=int(in_channels),
            n_classes=int(n_classes),
            base_channels=int(base_channels),
            depth=int(depth),
        )
        self.input_stats = _InputStats(in_channels)
        ch = [base_channels * 2**k for k in range(depth + 1)]
        self.down = nn.ModuleList([_double_conv(in_channels, ch[0])])
        for k in range(1, depth + 1):
            self.down.append(_double_conv(ch[k - 1], ch[k]))
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for k in range(depth, 0, -1):
            self.up.append(nn.ConvTranspose2d(ch[k], ch[k - 1], 2, stride=2))
            self.dec.append(_double_conv(2 * ch[k - 1], ch[k - 1]))
        self.out = nn.Conv2d(ch[0], n_classes, 1)

    @property
    def cam_layer(self) -> nn.Module:
        """Default Grad-CAM layer: the last decoder block (full resolution).

        Returns
        -------
        torch.nn.Module
            ``dec[-1]``.

        Examples
        --------
        >>> from brim.learn import UNet2d
        >>> net = UNet2d(base_channels=2, depth=1)
        >>> net.cam_layer is net.dec[-1]
        True
        """
        return self.dec[-1]

    def forward(self, x):
        """Scores of a batch.

        Parameters
        ----------
        x : torch.Tensor
            A batch (batch, channel, y, x), y and x divisible by 2**depth, in the input's
            physical units (standardised inside the model).

        Returns
        -------
        torch.Tensor
            Per-pixel logits, shape (batch, n_classes, y, x).

        Examples
        --------
        >>> import torch
        >>> from brim.learn import UNet2d
        >>> net = UNet2d(n_classes=2, base_channels=2, depth=2)
        >>> tuple(net(torch.zeros(1, 1, 8, 8)).shape)
        (1, 2, 8, 8)
        """
        skips = []
        h = self.input_stats(x)
        for k, block in enumerate(self.down):
            if k > 0:
                h = F.max_pool2d(h, 2, ceil_mode=True)
            h = block(h)
            skips.append(h)
        skips.pop()
        for up, dec in zip(self.up, self.dec):
            h = up(h)
            s = skips.pop()
            h = h[..., : s.shape[-2], : s.shape[-1]]
            dy, dx = s.shape[-2] - h.shape[-2], s.shape[-1] - h.shape[-1]
            if dy or dx:
                h = F.pad(h, (0, dx, 0, dy), mode="replicate")
            h = dec(torch.cat([s, h], dim=1))
        return self.out(h)


class MLP(_LinearHead, nn.Module, _Spec):
    """Multi-layer perceptron for tabular features (e.g. S-parameter or radiomic features).

    Parameters
    ----------
    in_features : int
    hidden : sequence of int
        Width of each hidden layer (ReLU).
    n_outputs : int
    dropout : float
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (64, 32),
        n_outputs: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        hidden = [int(h) for h in hidden]
        self._record(
            in_features=int(in_features),
            hidden=hidden,
            n_outputs=int(n_outputs),
            dropout=float(dropout),
        )
        self.input_stats = _InputStats(int(in_features))
        layers: list[nn.Module] = []
        cin = int(in_features)
        for h in hidden:
            layers += [nn.Linear(cin, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin = h
        self.body = nn.Sequential(*layers)
        self.n_features = cin
        self.head = nn.Linear(cin, n_outputs)

    def features(self, x):
        """The activations of the last hidden layer for a batch (the input of the last layer).

        Parameters
        ----------
        x : torch.Tensor
            A batch (batch, in_features); trailing axes are flattened.

        Returns
        -------
        torch.Tensor
            Shape (batch, n_features), ``n_features = hidden[-1]`` (``in_features`` without
            hidden layers).

        Examples
        --------
        >>> import torch
        >>> from brim.learn import MLP
        >>> net = MLP(3, hidden=(5, 4))
        >>> tuple(net.features(torch.zeros(2, 3)).shape)
        (2, 4)
        """
        return self.body(self.input_stats(x.flatten(1)))


class TwoBranchFusion(nn.Module, _Spec):
    """Late fusion of two branches (image + image, or image + features).

    Each branch maps its input to a feature vector (``branch.features``); the concatenated
    vector goes through a small head.

    Parameters
    ----------
    branch_a, branch_b : nn.Module or dict
        Models with ``features(x)`` and ``n_features`` (e.g. :class:`ResNetClassifier`,
        :class:`MLP`), or their specs ``{"class": ..., "kwargs": {...}}``.
    n_outputs : int
    hidden : int
        Width of the fusion head's hidden layer.

    Notes
    -----
    ``forward(xa, xb)`` with inputs for branch a and branch b.
    """

    def __init__(
        self,
        branch_a: nn.Module | Mapping,
        branch_b: nn.Module | Mapping,
        n_outputs: int = 1,
        hidden: int = 32,
    ):
        super().__init__()
        # brim models, duck-typed: features(x), n_features and spec (checked below)
        a: Any = build_model(branch_a) if isinstance(branch_a, Mapping) else branch_a
        b: Any = build_model(branch_b) if isinstance(branch_b, Mapping) else branch_b
        for name, m in (("branch_a", a), ("branch_b", b)):
            if not hasattr(m, "features") or not hasattr(m, "n_features"):
                raise ConfigError(f"{name} must have features(x) and n_features (a brim model)")
            if not hasattr(m, "spec"):
                raise ConfigError(f"{name} must be a brim.learn model (for checkpointing)")
        self._record(branch_a=a.spec, branch_b=b.spec, n_outputs=int(n_outputs), hidden=int(hidden))
        self.branch_a = a
        self.branch_b = b
        self.head = nn.Sequential(
            nn.Linear(a.n_features + b.n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs)
        )

    @property
    def cam_layer(self) -> nn.Module | None:
        """Default Grad-CAM layer: that of branch a (None when branch a has none).

        Returns
        -------
        torch.nn.Module or None
            ``branch_a.cam_layer``.

        Examples
        --------
        >>> from brim.learn import MLP, ResNetClassifier, TwoBranchFusion
        >>> net = TwoBranchFusion(ResNetClassifier(widths=(4,)), MLP(3, hidden=(4,)))
        >>> net.cam_layer is net.branch_a.cam_layer
        True
        """
        return getattr(self.branch_a, "cam_layer", None)

    def forward(self, xa, xb):
        """Scores of a batch of paired inputs.

        Parameters
        ----------
        xa, xb : torch.Tensor
            The batches for branch a and branch b (same batch size).

        Returns
        -------
        torch.Tensor
            Logits, shape (batch, n_outputs), from the concatenated branch features.

        Examples
        --------
        >>> import torch
        >>> from brim.learn import MLP, ResNetClassifier, TwoBranchFusion
        >>> net = TwoBranchFusion(ResNetClassifier(widths=(4,)), MLP(3, hidden=(4,)))
        >>> tuple(net(torch.zeros(2, 1, 8, 8), torch.zeros(2, 3)).shape)
        (2, 1)
        """
        return self.head(torch.cat([self.branch_a.features(xa), self.branch_b.features(xb)], 1))


MODELS: dict[str, type] = {
    "ResNetClassifier": ResNetClassifier,
    "UNet2d": UNet2d,
    "MLP": MLP,
    "TwoBranchFusion": TwoBranchFusion,
}


#: The most trainable parameters :func:`build_model` builds (400 MB of float32 weights). The
#: brim models have 0.1-2 million at their defaults; a U-Net with 64 base channels and depth
#: 4 has 31 million. A spec asking for more (a typo such as 4096 base channels: 31 billion)
#: is refused before any memory is allocated.
MAX_PARAMETERS = 100_000_000
_MAX_INT_ARG = 65_536  # channels, widths, features
_MAX_DEPTH_ARG = 12  # depth / blocks_per_stage: each step adds layers (and halves the image)
_MAX_SEQUENCE = 64  # stages, hidden layers


def _check_size(name: str, cls, kw: dict) -> None:
    """Refuse out-of-range sizes, then count the parameters on the meta device (no memory)."""

    def bad(key, value, why):
        raise ConfigError(f"{name} argument {key}={value!r}: {why}")

    def check_int(key, v):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not math.isfinite(v)
            or v != int(v)
        ):
            bad(key, v, "must be a whole number")
        limit = _MAX_DEPTH_ARG if key in ("depth", "blocks_per_stage") else _MAX_INT_ARG
        if not 0 <= v <= limit:
            bad(key, v, f"must be between 0 and {limit}")

    for key, v in kw.items():
        if isinstance(v, (list, tuple)):
            if len(v) > _MAX_SEQUENCE:
                bad(key, f"<{len(v)} values>", f"at most {_MAX_SEQUENCE} values")
            for e in v:
                check_int(key, e)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and key != "dropout":
            check_int(key, v)
    if name == "TwoBranchFusion":
        return  # its branches are specs built (and checked) by build_model themselves
    try:
        with torch.device("meta"):
            n = sum(p.numel() for p in cls(**kw).parameters())
    except TypeError as exc:
        raise ConfigError(f"bad arguments for {name}: {exc}") from exc
    except (ValueError, RuntimeError):
        return  # left to the real build, which reports it
    if n > MAX_PARAMETERS:
        raise ConfigError(
            f"{name} with {kw} would have {n / 1e6:,.0f} million parameters "
            f"({4 * n / 2**30:,.1f} GiB of float32 weights), more than brim's limit of "
            f"{MAX_PARAMETERS / 1e6:.0f} million (brim.learn.models.MAX_PARAMETERS); check the spec"
        )


@positional_options
def build_model(
    spec: Mapping[str, Any] | str, *, kwargs: Mapping | None = None, seed: int | None = None
) -> nn.Module:
    """Build a brim model from its spec ``{"class": name, "kwargs": {...}}`` (or name + kwargs).

    Only the classes in :data:`MODELS` can be built: a spec never names arbitrary code.

    Parameters
    ----------
    spec : mapping or str
        ``{"class": name, "kwargs": {...}}`` (as recorded in ``model.spec`` and checkpoints),
        or a class name from :data:`MODELS`.
    kwargs : mapping, optional
        The constructor's arguments when ``spec`` is a name.
    seed : int, optional
        Seed of the weight initialisation (the global torch RNG is left untouched).

    Returns
    -------
    torch.nn.Module
        A fresh model whose ``spec`` rebuilds it.

    Raises
    ------
    ConfigError
        Unknown class, bad or out-of-range arguments.

    Examples
    --------
    >>> from brim.learn import build_model
    >>> m = build_model("MLP", kwargs={"in_features": 4, "hidden": (8,)}, seed=0)
    >>> m.spec["class"], sum(p.numel() for p in m.parameters())
    ('MLP', 49)
    """
    if isinstance(spec, str):
        spec = {"class": spec, "kwargs": dict(kwargs or {})}
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"a model spec is a mapping {{'class': name, 'kwargs': {{...}}}}, not a "
            f"{type(spec).__name__}"
        )
    name = spec.get("class")
    if not isinstance(name, str) or name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    raw_kw = spec.get("kwargs") or {}
    if not isinstance(raw_kw, Mapping):
        raise ConfigError(
            f"the kwargs of a {name} spec are a mapping of argument: value, not a "
            f"{type(raw_kw).__name__}"
        )
    kw = dict(raw_kw)
    cls = MODELS[name]
    _check_size(name, cls, kw)
    try:
        if seed is None:
            return cls(**kw)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return cls(**kw)
    except TypeError as exc:
        raise ConfigError(f"bad arguments for {name}: {exc}") from exc
