"""The data bridge: torch Datasets over in-memory arrays or brim files, with the group (patient)
carried by every sample, and augmentations that respect physics.

Each sample is a dict ``{"x": Tensor, "y": Tensor, "group": str, "index": int}``; for two-input
models ``x`` is a tuple of tensors. Augmentations are geometric only (flips, small integer
shifts): they never rescale values, so temperatures (degC) and permittivities stay physical.
Intensity normalisation happens only when :class:`Normalize` is asked for explicitly.

Randomness is deterministic: sample ``i`` in epoch ``e`` is augmented with a generator seeded by
``(seed, e, i)``, whatever the number of DataLoader workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from brim.errors import ConfigError, MissingFileError, SchemaError, first_line, require

if TYPE_CHECKING:  # the checker sees torch's own types; at run time torch is an optional extra
    import torch
    import torch.utils.data
else:
    torch = require("torch", "dl")

__all__ = [
    "ArrayDataset",
    "Compose",
    "FileDataset",
    "Normalize",
    "RandomFlip",
    "RandomShift",
]


# ----------------------------------------------------------------------------- transforms


def _spatial(a) -> bool:
    return isinstance(a, np.ndarray) and a.ndim >= 2


class RandomFlip:
    """Flip images (and masks) along the last axis (``axes=(-1,)``, left-right) and/or others.

    Parameters
    ----------
    axes : sequence of int
        Spatial axes counted from the end (-1 = x, -2 = y); each flipped with probability ``p``.
    p : float
        Probability of each flip.
    """

    def __init__(self, axes: Sequence[int] = (-1,), p: float = 0.5):
        if any(a >= 0 for a in axes):
            raise ConfigError("RandomFlip axes count from the end: use -1 (x) or -2 (y)")
        self.axes = tuple(int(a) for a in axes)
        self.p = float(p)

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        for ax in self.axes:
            if rng.random() < self.p:
                sample = _apply(sample, lambda a, ax=ax: np.flip(a, axis=ax))
        return sample

    def __repr__(self):
        return f"RandomFlip(axes={self.axes}, p={self.p})"


class RandomShift:
    """Shift images (and masks) by a random whole number of pixels, edge values replicated.

    Integer shifts keep every value as measured (no interpolation, no rescaling).

    Parameters
    ----------
    max_shift : int
        Largest shift in pixels along y and x.
    """

    def __init__(self, max_shift: int = 2):
        if max_shift < 0:
            raise ConfigError("max_shift must be >= 0")
        self.max_shift = int(max_shift)

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        dy, dx = rng.integers(-self.max_shift, self.max_shift + 1, size=2)
        return _apply(sample, lambda a: _shift(a, int(dy), int(dx)))

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


def _shift(a, dy, dx):
    pad = [(0, 0)] * (a.ndim - 2) + [(abs(dy), abs(dy)), (abs(dx), abs(dx))]
    p = np.pad(a, pad, mode="edge")
    h, w = a.shape[-2:]
    y0 = abs(dy) - dy
    x0 = abs(dx) - dx
    return p[..., y0 : y0 + h, x0 : x0 + w]


class Normalize:
    """Explicit intensity standardisation ``(x - mean) / std`` of the image input.

    Not applied unless asked: brim keeps physical values by default. Use fixed numbers (e.g.
    computed on the training fold), never per-image statistics, so that temperatures keep their
    meaning across images.

    Parameters
    ----------
    mean : float or sequence of float
        Subtracted (per channel when a sequence), in the input's units (e.g. degC).
    std : float or sequence of float
        Divided by (> 0), in the input's units.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.learn import Normalize
    >>> out = Normalize(34.0, 2.0)({"x": np.full((1, 2, 2), 36.0)}, np.random.default_rng(0))
    >>> out["x"].ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if np.any(self.std <= 0):
            raise ConfigError("Normalize std must be > 0")

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        def norm(a):
            m = self.mean.reshape(-1, *([1] * (a.ndim - 1))) if self.mean.ndim else self.mean
            s = self.std.reshape(-1, *([1] * (a.ndim - 1))) if self.std.ndim else self.std
            return (a - m) / s

        x = sample["x"]
        if isinstance(x, tuple):
            sample["x"] = (norm(x[0]),) + tuple(x[1:])
        else:
            sample["x"] = norm(x)
        return sample

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Compose:
    """Apply transforms in order.

    Parameters
    ----------
    transforms : sequence of callable
        Each ``transform(sample, rng) -> sample`` (e.g. :class:`RandomFlip`, :class:`RandomShift`,
        :class:`Normalize`).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.learn import Compose, Normalize, RandomFlip
    >>> t = Compose([RandomFlip((-1,), p=1.0), Normalize(0.0, 2.0)])
    >>> t({"x": np.array([[[2.0, 4.0]]])}, np.random.default_rng(0))["x"].tolist()
    [[[2.0, 1.0]]]
    """

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        for t in self.transforms:
            sample = t(sample, rng)
        return sample

    def __repr__(self):
        return f"Compose({self.transforms!r})"


def _apply(sample, fn):
    """Apply a geometric fn to every spatial array of the sample (image inputs and masks)."""
    x = sample["x"]
    if isinstance(x, tuple):
        sample["x"] = tuple(fn(a) if _spatial(a) else a for a in x)
    elif _spatial(x):
        sample["x"] = fn(x)
    y = sample.get("y")
    if _spatial(y):
        sample["y"] = fn(y)
    return sample


# ----------------------------------------------------------------------------- datasets


def _values(a) -> np.ndarray:
    if hasattr(a, "dims") and hasattr(a, "values"):  # xarray
        return np.asarray(a.values)
    return np.asarray(a)


def _to_tensor(a: np.ndarray):
    a = np.asarray(a)
    if not a.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d labels into 1-d)
        a = np.ascontiguousarray(a)
    if a.dtype.kind == "f":
        a = a.astype(np.float32, copy=False)
    elif a.dtype.kind == "b":
        a = a.astype(np.float32)
    return torch.from_numpy(a.copy() if not a.flags.writeable else a)


class _Base(torch.utils.data.Dataset):
    def __init__(self, labels, groups, transform, seed, n):
        self.n = n
        if groups is None:
            groups = np.arange(n)
        self.groups = np.asarray([str(g) for g in groups])
        if self.groups.shape != (n,):
            raise ConfigError(f"groups must have one entry per sample ({n}), got {len(groups)}")
        self.labels = None if labels is None else _values(labels)
        if self.labels is not None and len(self.labels) != n:
            raise ConfigError(f"labels must have one entry per sample ({n}), got {len(labels)}")
        self.transform = transform
        self.seed = int(seed)
        self.epoch = 0
        self.augment = True
        self.source_index = np.arange(n)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        i = int(i)
        if i < 0 or i >= self.n:
            raise IndexError(i)
        return self._finish(self._input(i), i)

    def _input(self, i):
        """The input of sample ``i`` as stored (before augmentation)."""
        raise NotImplementedError

    def _subset_base(self, cls, idx):
        """A ``cls`` (made without ``__init__``) holding this dataset's labels, groups, transform,
        seed and source positions of samples ``idx``; the caller adds the inputs."""
        out = cls.__new__(cls)
        _Base.__init__(
            out,
            None if self.labels is None else self.labels[idx],
            self.groups[idx],
            self.transform,
            self.seed,
            idx.size,
        )
        out.source_index = self.source_index[idx]
        return out

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation stream (called by :func:`brim.learn.fit` every epoch)."""
        self.epoch = int(epoch)

    def _finish(self, x, i):
        y = None if self.labels is None else np.asarray(self.labels[i])
        sample = {"x": x, "y": y}
        src = int(self.source_index[i])
        if self.transform is not None and self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, src])
            sample = self.transform(sample, rng)
        x = sample["x"]
        out = {
            "x": tuple(_to_tensor(a) for a in x) if isinstance(x, tuple) else _to_tensor(x),
            "group": str(self.groups[i]),
            "index": src,
        }
        if sample["y"] is not None:
            yv = np.asarray(sample["y"])
            out["y"] = _to_tensor(yv.astype(np.float32) if yv.ndim == 0 else yv)
        return out

    @property
    def group_ids(self) -> np.ndarray:
        """Group id (as str) of every sample."""
        return self.groups


class ArrayDataset(_Base):
    """In-memory samples: an array (or DataArray, or a tuple of them for two-input models).

    Parameters
    ----------
    images : ndarray, xarray.DataArray, or tuple of these
        First axis = sample: ``(n, y, x)`` (a channel axis is added), ``(n, c, y, x)``, or
        ``(n, features)`` for tabular inputs. Values are used as they are (no rescaling).
    labels : array, optional
        ``(n,)`` class labels, or ``(n, y, x)`` masks for segmentation.
    groups : array, optional
        ``(n,)`` patient / phantom ids; default: each sample its own group.
    transform : callable, optional
        ``transform(sample: dict, rng) -> dict``, e.g. ``Compose([RandomFlip(), RandomShift(2)])``.
    seed : int
        Augmentation seed.
    add_channel : bool or None
        Add a channel axis to 3-D ``(n, y, x)`` inputs (default: yes for 3-D arrays).
    """

    def __init__(
        self,
        images,
        labels=None,
        groups=None,
        *,
        transform=None,
        seed: int = 0,
        add_channel: bool | None = None,
    ):
        multi = isinstance(images, tuple | list)
        arrays = [_values(a) for a in (images if multi else (images,))]
        for k, a in enumerate(arrays):
            if a.dtype.kind not in "biuf":
                raise SchemaError(f"input {k} has dtype {a.dtype}; expected real numbers")
            if add_channel is None and a.ndim == 3 or add_channel:
                arrays[k] = a[:, None]
        ns = {len(a) for a in arrays}
        if len(ns) != 1:
            raise ConfigError(f"the inputs have different numbers of samples: {sorted(ns)}")
        self.arrays = arrays
        self.multi = multi
        super().__init__(labels, groups, transform, seed, ns.pop())

    @classmethod
    def from_dataset(
        cls,
        ds,
        var: str,
        *,
        label: str | None = None,
        group: str | None = None,
        sample_dim: str | None = None,
        transform=None,
        seed: int = 0,
    ) -> ArrayDataset:
        """Samples from a brim Dataset holding a stack along one dimension.

        Parameters
        ----------
        ds : xarray.Dataset
            E.g. thermograms with dims ``(scan, y, x)``.
        var : str
            The input variable (values used as they are, e.g. degC).
        label, group : str, optional
            Names of variables / coordinates along the sample dim holding the labels and the
            patient ids.
        sample_dim : str, optional
            Default: the variable's first dim.
        transform : callable, optional
            Augmentation applied to each sample (``transform(sample, rng)``).
        seed : int
            Seed of the per-sample augmentation generators.

        Returns
        -------
        ArrayDataset
            One sample per position along ``sample_dim``.

        Examples
        --------
        >>> import numpy as np
        >>> import xarray as xr
        >>> from brim.learn import ArrayDataset
        >>> ds = xr.Dataset(
        ...     {"temperature": (("scan", "y", "x"), np.zeros((4, 8, 8)))},
        ...     coords={"label": ("scan", [0, 1, 0, 1]), "patient": ("scan", ["a", "a", "b", "b"])},
        ... )
        >>> data = ArrayDataset.from_dataset(ds, "temperature", label="label", group="patient")
        >>> len(data), tuple(data[0]["x"].shape), data.group_ids.tolist()
        (4, (1, 8, 8), ['a', 'a', 'b', 'b'])
        """
        if var not in ds.data_vars:
            raise SchemaError(f"no variable {var!r}; have {sorted(map(str, ds.data_vars))}")
        da = ds[var]
        sd = sample_dim or da.dims[0]
        if sd not in da.dims:
            raise ConfigError(f"{var!r} has no dim {sd!r} (dims {da.dims})")
        da = da.transpose(sd, ...)

        def along(name, what):
            if name is None:
                return None
            if name not in ds.variables:
                raise ConfigError(f"no variable or coordinate {name!r} for the {what}")
            v = ds[name]
            if v.dims != (sd,):
                raise ConfigError(f"{what} {name!r} must lie along {sd!r}, has dims {v.dims}")
            return np.asarray(v.values)

        return cls(
            da, along(label, "labels"), along(group, "groups"), transform=transform, seed=seed
        )

    def _input(self, i):
        return tuple(a[i] for a in self.arrays) if self.multi else self.arrays[0][i]

    def subset(self, idx) -> ArrayDataset:
        """A new ArrayDataset with samples ``idx`` (labels, groups, transform carried).

        Parameters
        ----------
        idx : array of int
            Sample positions, in the order wanted; a position may repeat (a bootstrap sample).

        Returns
        -------
        ArrayDataset
            The selected samples; ``source_index`` maps them back to the original positions.

        Examples
        --------
        >>> import numpy as np
        >>> from brim.learn import ArrayDataset
        >>> images = np.arange(5.0)[:, None, None] * np.ones((5, 4, 4))
        >>> data = ArrayDataset(images, labels=[0, 1, 0, 1, 1])
        >>> part = data.subset([4, 1])
        >>> len(part), part.source_index.tolist(), part.labels.tolist()
        (2, [4, 1], [1, 1])
        """
        idx = np.asarray(idx, dtype=np.int64)
        out = self._subset_base(ArrayDataset, idx)
        out.arrays = [a[idx] for a in self.arrays]
        out.multi = self.multi
        return out

    def inputs_for_hashing(self) -> np.ndarray:
        """The first input's arrays (for duplicate / near-duplicate leakage checks); of a
        two-input dataset the second input (e.g. tabular features) is not hashed.

        Returns
        -------
        ndarray
            Shape (n, ...): one array per sample.

        Examples
        --------
        >>> import numpy as np
        >>> from brim.learn import ArrayDataset
        >>> images, features = np.zeros((5, 4, 4)), np.ones((5, 3))
        >>> ArrayDataset((images, features), labels=[0, 1, 0, 1, 1]).inputs_for_hashing().shape
        (5, 1, 4, 4)
        """
        return self.arrays[0]


class FileDataset(_Base):
    """Samples stored one per brim file, opened lazily inside ``__getitem__``.

    Nothing is opened in ``__init__``: with DataLoader workers each process opens what it reads
    (no HDF5 handle is ever shared across a fork).

    Parameters
    ----------
    paths : sequence of path-like
        One file per sample.
    var : str
        Data variable to read (e.g. ``"temperature"``).
    labels : sequence or callable, optional
        Per-file labels, or ``label_fn(path) -> label``.
    groups : sequence or callable, optional
        Per-file group ids, or ``group_fn(path) -> id``; default: the file stem.
    loader : callable, optional
        ``loader(path) -> xarray.Dataset``; default :func:`brim.open`.
    dims : sequence of str, optional
        Order of the variable's dims in the tensor (e.g. ``("y", "x")``).
    isel : dict, optional
        Index selection applied before reading (e.g. ``{"time": 0}``).
    transform, seed
        As in :class:`ArrayDataset`.
    cache : bool
        Keep each array in memory after its first read (per process: every worker fills its own
        cache after the fork). For data that fit in memory; saves re-opening files each epoch.

    Examples
    --------
    Three saved thermograms, one per sample; a subset opens nothing, the leakage check reads
    every file:

    >>> import numpy as np
    >>> import xarray as xr
    >>> import brim
    >>> from brim.learn import FileDataset
    >>> for k in range(3):
    ...     ds = xr.Dataset({"temperature": (("y", "x"), np.full((4, 4), 30.0 + k))})
    ...     _ = brim.save(ds, f"s{k}.nc")
    >>> files = FileDataset(["s0.nc", "s1.nc", "s2.nc"], var="temperature", labels=[0, 1, 0])
    >>> part = files.subset([2, 0])
    >>> len(part), part.group_ids.tolist(), part.labels.tolist()
    (2, ['s2', 's0'], [0, 0])
    >>> [float(a.mean()) for a in files.inputs_for_hashing()]
    [30.0, 31.0, 32.0]
    """

    def __init__(
        self,
        paths,
        *,
        var: str,
        labels=None,
        groups=None,
        loader=None,
        dims: Sequence[str] | None = None,
        isel: dict | None = None,
        transform=None,
        seed: int = 0,
        cache: bool = False,
    ):
        self.paths = [Path(p) for p in paths]
        missing = [str(p) for p in self.paths if not p.is_file()]
        if missing:
            raise MissingFileError(f"{len(missing)} input file(s) not found, e.g. {missing[:3]}")
        if callable(labels):
            labels = [labels(p) for p in self.paths]
        if groups is None:
            groups = [p.stem for p in self.paths]
        elif callable(groups):
            groups = [groups(p) for p in self.paths]
        self.var = var
        self.loader = loader
        self.dims = tuple(dims) if dims is not None else None
        self.isel = dict(isel or {})
        self.cache = bool(cache)
        self._cache: dict = {}
        self._cache_pid = os.getpid()
        super().__init__(labels, groups, transform, seed, len(self.paths))

    def _input(self, i) -> np.ndarray:
        if not self.cache:
            return self._load(i)
        if self._cache_pid != os.getpid():  # a fresh process (worker): never reuse the parent's
            self._cache, self._cache_pid = {}, os.getpid()
        key = str(self.paths[i])
        if key not in self._cache:
            self._cache[key] = self._load(i)
        return self._cache[key].copy()

    def _load(self, i) -> np.ndarray:
        path = self.paths[i]
        if self.loader is None:
            from brim.io import open as brim_open

            ds = brim_open(path)
        else:
            ds = self.loader(path)
        try:
            if self.var not in ds.data_vars:
                raise SchemaError(
                    f"{path}: no variable {self.var!r}; has {sorted(map(str, ds.data_vars))}"
                )
            da = ds[self.var]
            try:
                if self.isel:
                    da = da.isel(self.isel)
                if self.dims is not None:
                    da = da.transpose(*self.dims)
            except (ValueError, KeyError, IndexError) as exc:
                raise ConfigError(
                    f"{path}: isel={self.isel} / dims={self.dims} do not fit variable "
                    f"{self.var!r} of sizes {dict(ds[self.var].sizes)}: {first_line(exc)}"
                ) from None
            a = np.array(da.values, dtype=np.float32)
        finally:
            close = getattr(ds, "close", None)
            if close is not None:
                close()
        if a.ndim == 2:
            a = a[None]
        return a

    def subset(self, idx) -> FileDataset:
        """A new FileDataset with samples ``idx`` (labels, groups, transform and cache carried).

        Parameters
        ----------
        idx : array of int
            Sample positions; in one process the subset shares this dataset's cache of the
            arrays already read.

        Returns
        -------
        FileDataset
            The selected samples; nothing is opened (see the class example).
        """
        idx = np.asarray(idx, dtype=np.int64)
        out = self._subset_base(FileDataset, idx)
        out.paths = [self.paths[k] for k in idx]
        out.var, out.loader, out.dims, out.isel = self.var, self.loader, self.dims, self.isel
        out.cache, out._cache, out._cache_pid = self.cache, self._cache, self._cache_pid
        return out

    def inputs_for_hashing(self) -> list[np.ndarray]:
        """Reads every file (once) for leakage checks.

        Returns
        -------
        list of ndarray
            Each sample's input values (see the class example).
        """
        return [self._input(i) for i in range(self.n)]


def worker_info() -> dict[str, Any]:  # pragma: no cover - diagnostic helper
    """PID and torch worker id of the current process (to verify per-worker opening).

    Returns
    -------
    dict
        ``pid`` (int) and ``worker`` (the DataLoader worker id, None in the main process).
    """
    info = torch.utils.data.get_worker_info()
    return {"pid": os.getpid(), "worker": None if info is None else info.id}
