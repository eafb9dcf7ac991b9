"""Patient-grouped splits and the leakage checks that guard them.

References
----------
Roberts DR et al. (2017). Cross-validation strategies for data with temporal, spatial,
hierarchical, or phylogenetic structure. Ecography 40:913-929 (grouped / blocked CV).
Zauner C (2010). Implementation and benchmarking of perceptual image hash functions. Master's
thesis, Upper Austria University of Applied Sciences (DCT perceptual hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import fft, ndimage

from brim.deprecation import positional_options
from brim.errors import ConfigError, LeakageError, check_positive, warn
from brim.evaluate.metrics import _group_ids

__all__ = [
    "Fold",
    "check_leakage",
    "group_labels",
    "grouped_kfold",
    "grouped_split",
    "input_hashes",
    "perceptual_hash",
]


@dataclass(frozen=True)
class Fold:
    """One outer fold: sample indices for training and testing.

    Attributes
    ----------
    index : int
        Fold number, from 0.
    train, test : ndarray of int
        Sample positions of the training and test parts (no group on both sides).
    """

    index: int
    train: np.ndarray
    test: np.ndarray


def group_labels(groups: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique groups, the label of each group, and each sample's group number.

    A group's label is the maximum of its samples' labels (a patient with any positive image is
    positive).

    Parameters
    ----------
    groups : array of shape (n,)
        Group (patient) id of each sample.
    labels : array of shape (n,)
        Integer class label of each sample.

    Returns
    -------
    unique_groups : ndarray
        The sorted distinct group ids.
    group_label : ndarray of int64
        The label of each unique group.
    inverse : ndarray of int
        Each sample's position in ``unique_groups``.

    Examples
    --------
    >>> from brim.evaluate.splits import group_labels
    >>> uniq, gl, inv = group_labels(["b", "a", "a"], [1, 0, 1])
    >>> uniq.tolist(), gl.tolist(), inv.tolist()
    (['a', 'b'], [1, 1], [1, 0, 0])
    """
    g = np.asarray(groups)
    y = np.asarray(labels)
    if g.ndim != 1 or y.ndim != 1 or g.size != y.size:
        raise ConfigError(
            f"groups and labels must be 1-D of the same length, got {g.shape} and {y.shape}"
        )
    if y.dtype.kind not in "biuf" or (
        y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y)))
    ):
        try:
            shown = np.unique(y)[:10]
        except TypeError:
            shown = y[:10]
        raise ConfigError(
            f"labels must be integer class labels (0/1, or bool), got values {shown}; "
            "map them to numbers first (e.g. malignant -> 1, benign -> 0) and drop missing ones"
        )
    g = _group_ids(g, g.size)
    uniq, inv = np.unique(g, return_inverse=True)
    inv = inv.ravel()
    gl = np.zeros(uniq.size, dtype=np.int64)
    np.maximum.at(gl, inv, y.astype(np.int64))
    return uniq, gl, inv


def _assign(gl, sizes, n_splits, rng):
    """Greedy stratified assignment of groups to bins: largest groups first (ties in a seeded
    random order), each into the bin with the fewest groups of its class, then fewest samples."""
    n = gl.size
    perm = rng.permutation(n)
    order = perm[np.argsort(-sizes[perm], kind="stable")]
    counts = np.zeros((n_splits, int(gl.max()) + 1), dtype=np.int64)
    load = np.zeros(n_splits, dtype=np.int64)
    fold_of = np.empty(n, dtype=np.int64)
    for gi in order:
        c = gl[gi]
        key = counts[:, c] * (sizes.sum() + 1) + load
        f = int(np.argmin(key))
        fold_of[gi] = f
        counts[f, c] += 1
        load[f] += sizes[gi]
    return fold_of


@positional_options
def grouped_kfold(
    groups: ArrayLike, labels: ArrayLike, *, n_splits: int = 5, seed: int = 0
) -> list[Fold]:
    """Stratified grouped K-fold: every group (patient) lies in exactly one test fold.

    Groups are assigned to folds so that each fold gets a near-equal share of positive and
    negative groups (stratification at group level).

    Parameters
    ----------
    groups : array of shape (n,)
        Group (patient / phantom) id of each sample.
    labels : array of shape (n,)
        Class label of each sample (integer).
    n_splits : int
        Number of folds (>= 2, <= number of groups of the rarest class for stratification).
    seed : int
        Seed of the assignment order.

    Returns
    -------
    list of Fold
        ``n_splits`` folds whose test parts partition the samples.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import grouped_kfold
    >>> groups = np.repeat(np.arange(10), 3)  # 10 patients, 3 images each
    >>> folds = grouped_kfold(groups, np.repeat(np.arange(10) % 2, 3), n_splits=5)
    >>> [f.test.size for f in folds]
    [6, 6, 6, 6, 6]
    >>> any(set(groups[f.train]) & set(groups[f.test]) for f in folds)
    False
    """
    uniq, gl, inv = group_labels(groups, labels)
    n_splits = check_positive("n_splits", n_splits, integer=True)
    if n_splits < 2:
        raise ConfigError(f"n_splits must be >= 2, got {n_splits}")
    if uniq.size < n_splits:
        raise ConfigError(f"{uniq.size} groups cannot fill {n_splits} folds; use fewer folds")
    per_class = np.bincount(gl)
    rare = int(per_class[per_class > 0].min())
    if rare < n_splits and (per_class > 0).sum() > 1:
        c = int(np.flatnonzero(per_class == rare)[0])
        warn(
            f"only {rare} group(s) have label {c}, fewer than the {n_splits} folds: "
            f"{n_splits - rare} test fold(s) hold no group of label {c} (their AUROC is "
            "undefined); use fewer folds"
        )
    sizes = np.bincount(inv, minlength=uniq.size)
    fold_of = _assign(gl, sizes, n_splits, np.random.default_rng(seed))
    sample_fold = fold_of[inv]
    idx = np.arange(inv.size)
    return [Fold(k, idx[sample_fold != k], idx[sample_fold == k]) for k in range(n_splits)]


@positional_options
def grouped_split(
    groups: ArrayLike, labels: ArrayLike, *, val_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One grouped, stratified train/validation split (inner split of a training fold).

    Parameters
    ----------
    groups : array of shape (n,)
        Group (patient) id of each sample (at least 2 groups).
    labels : array of shape (n,)
        Class label of each sample (integer).
    val_fraction : float
        Fraction of the groups of each class that go to validation, in (0, 1).
    seed : int
        Seed of the choice.

    Returns
    -------
    train_idx, val_idx : ndarray
        Positions into ``groups``. The validation part holds about ``val_fraction`` of the groups
        of each class (at least one of each class when the class has >= 2 groups).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import grouped_split
    >>> groups = np.repeat(np.arange(8), 2)
    >>> tr, va = grouped_split(groups, np.repeat(np.arange(8) % 2, 2), val_fraction=0.25)
    >>> tr.size, va.size, bool(set(groups[tr]) & set(groups[va]))
    (12, 4, False)
    """
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction}")
    uniq, gl, inv = group_labels(groups, labels)
    if uniq.size < 2:
        raise ConfigError("an inner validation split needs at least 2 groups")
    rng = np.random.default_rng(seed)
    is_val = np.zeros(uniq.size, dtype=bool)
    for c in np.unique(gl):
        members = np.nonzero(gl == c)[0]
        members = members[rng.permutation(members.size)]
        k = int(round(val_fraction * members.size))
        if members.size >= 2:
            k = min(max(k, 1), members.size - 1)
        else:
            k = 0
        is_val[members[:k]] = True
    if not is_val.any():
        is_val[rng.integers(uniq.size)] = True
    if is_val.all():
        is_val[np.nonzero(is_val)[0][0]] = False
    idx = np.arange(inv.size)
    return idx[~is_val[inv]], idx[is_val[inv]]


def _as_image(x) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    a = np.squeeze(a)
    if a.ndim > 2:  # channels / frames: average the leading axes
        a = a.reshape(-1, *a.shape[-2:]).mean(axis=0)
    if a.ndim == 1:
        a = a[None, :]
    return a


def perceptual_hash(image: ArrayLike, *, hash_size: int = 8, highfreq_factor: int = 4) -> int:
    """64-bit DCT perceptual hash of an image (robust to rescaling, small noise, re-encoding).

    The image is resized (area average / spline) to ``hash_size * highfreq_factor`` squared, a 2-D
    DCT-II is taken, and the lowest ``hash_size x hash_size`` frequencies are compared to their
    median (the DC term excluded from the median). Invariant to affine intensity changes
    (e.g. the same thermogram exported in K and degC).

    Parameters
    ----------
    image : array
        A 2-D image; leading axes (channels, frames) are averaged, NaN replaced by the mean.
    hash_size : int
        Side of the block of low frequencies compared (8 gives 64 bits).
    highfreq_factor : int
        The image is resized to ``hash_size * highfreq_factor`` pixels square first.

    Returns
    -------
    int
        The hash bits packed into an unsigned 64-bit integer (for hash_size=8).

    References
    ----------
    Zauner C (2010). Implementation and benchmarking of perceptual image hash functions.
    Master's thesis, Upper Austria University of Applied Sciences.

    Examples
    --------
    A warm spot in degrees Celsius and the same image rescaled to kelvin differ in no bit; the
    image mirrored differs in many:

    >>> import numpy as np
    >>> from brim.evaluate import perceptual_hash
    >>> y, x = np.mgrid[0:64, 0:64]
    >>> img = 33 + np.exp(-((x - 20) ** 2 + (y - 30) ** 2) / 200) + np.exp(-((x - 45) ** 2) / 80)
    >>> bits = lambda a, b: bin(perceptual_hash(a) ^ perceptual_hash(b)).count("1")
    >>> bits(img, img + 273.15), bits(img, img[:, ::-1]) > 10
    (0, True)
    """
    a = _as_image(image)
    a = np.nan_to_num(a, nan=float(np.nanmean(a)) if np.isfinite(a).any() else 0.0)
    n = hash_size * highfreq_factor
    small = ndimage.zoom(
        a, (n / a.shape[0], n / a.shape[1]), order=1, grid_mode=True, mode="nearest"
    )
    d = fft.dctn(small, type=2, norm="ortho")[:hash_size, :hash_size]
    flat = d.ravel()
    med = np.median(flat[1:])
    bits = flat > med
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


def input_hashes(inputs: Sequence[ArrayLike] | np.ndarray) -> tuple[list[str], np.ndarray]:
    """SHA-256 of each input's values (as float64, C order) and its perceptual hash.

    Parameters
    ----------
    inputs : sequence of arrays
        ``inputs[i]`` is sample i's input (an image or a feature vector).

    Returns
    -------
    exact : list of str
        Hex SHA-256 of each input's float64 values and shape.
    perceptual : ndarray of uint64
        :func:`perceptual_hash` of each input (0 for inputs with fewer than 4 values).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import input_hashes
    >>> exact, ph = input_hashes(np.zeros((3, 8, 8)))
    >>> len(set(exact)), ph.dtype
    (1, dtype('uint64'))
    """
    exact, ph = [], []
    for i in range(len(inputs)):
        a = np.ascontiguousarray(np.asarray(inputs[i], dtype=np.float64))
        exact.append(hashlib.sha256(a.tobytes() + str(a.shape).encode()).hexdigest())
        ph.append(perceptual_hash(a) if a.size >= 4 else 0)
    return exact, np.array(ph, dtype=np.uint64)


def _positions(idx, n, name) -> np.ndarray:
    """Sample positions ``idx`` as int64 in ``[-n, n)``, or ConfigError (a boolean mask, a
    position past the end)."""
    a = np.asarray(idx)
    if a.dtype == bool:
        raise ConfigError(
            f"{name} is a boolean mask; give sample positions, e.g. np.flatnonzero(mask)"
        )
    a = a.astype(np.int64)
    if a.size and (a.min() < -n or a.max() >= n):
        raise ConfigError(
            f"{name} holds positions {a.min()}..{a.max()} outside the {n} samples of groups"
        )
    return a


@positional_options
def check_leakage(
    train_idx: ArrayLike,
    test_idx: ArrayLike,
    groups: ArrayLike,
    *,
    inputs: Sequence[ArrayLike] | np.ndarray | None = None,
    near_duplicate_bits: int | None = 4,
    hashes: tuple[list[str], np.ndarray] | None = None,
) -> None:
    """Raise :class:`brim.LeakageError` when test data leak into training data.

    Checks, in order:

    1. a group (patient) present on both sides;
    2. (when ``inputs`` are given) an exact duplicate input on both sides (SHA-256 of values);
    3. a near duplicate: perceptual hashes within ``near_duplicate_bits`` bits (Hamming) of each
       other (skip with ``near_duplicate_bits=None``; 2-D images only make sense here).

    Parameters
    ----------
    train_idx, test_idx : array of int
        Sample positions of the two sides.
    groups : array of shape (n,)
        Group id of each sample.
    inputs : sequence of arrays, optional
        ``inputs[i]`` is sample i's input (image or feature vector).
    near_duplicate_bits : int or None
        Hamming distance (of 64 bits) at or under which two images count as near duplicates.
        For scale: a thermogram re-exported with an offset and small noise is 0 bits away; on
        40 DMR-IR thermograms of different patients the smallest distance between two
        patients was 10 bits (median 26).
    hashes : tuple, optional
        Precomputed :func:`input_hashes` of ``inputs`` (saves time across folds).

    Returns
    -------
    None
        Returns only when no leak is found.

    Raises
    ------
    LeakageError
        A group, an identical input or a near-duplicate image on both sides.

    Examples
    --------
    >>> from brim.evaluate import check_leakage
    >>> check_leakage([0, 1], [2, 3], ["p1", "p1", "p2", "p2"])  # clean: returns None
    >>> check_leakage([0, 1], [2, 3], ["p1", "p2", "p2", "p3"])
    Traceback (most recent call last):
    ...
    brim.errors.LeakageError: 1 group(s) appear in both training and test data, e.g. ['p2']; ...
    """
    g = np.asarray(groups)
    train_idx = _positions(train_idx, g.shape[0], "train_idx")
    test_idx = _positions(test_idx, g.shape[0], "test_idx")
    shared = np.intersect1d(g[train_idx], g[test_idx])
    if shared.size:
        raise LeakageError(
            f"{shared.size} group(s) appear in both training and test data, e.g. "
            f"{[str(s) for s in shared[:5]]}; split by group (brim.evaluate.grouped_kfold)"
        )
    if hashes is not None:
        exact_hex, ph = hashes
    elif inputs is not None:
        exact_hex, ph = input_hashes(inputs)
    else:
        return
    exact = np.asarray(exact_hex)
    dup = np.intersect1d(exact[train_idx], exact[test_idx])
    if dup.size:
        i = int(train_idx[np.isin(exact[train_idx], dup)][0])
        j = int(test_idx[np.isin(exact[test_idx], dup)][0])
        raise LeakageError(
            f"{dup.size} input(s) occur identically in training and test data (e.g. sample {i} "
            f"of group {g[i]!s} and sample {j} of group {g[j]!s}); the same image is filed under "
            "two patient ids - fix the group labels or remove the duplicate"
        )
    if near_duplicate_bits is None:
        return
    a = ph[train_idx]
    b = ph[test_idx]
    for start in range(0, b.size, 256):
        d = np.bitwise_count(a[:, None] ^ b[None, start : start + 256])
        hit = np.argwhere(d <= near_duplicate_bits)
        if hit.size:
            i = int(train_idx[hit[0, 0]])
            j = int(test_idx[start + hit[0, 1]])
            raise LeakageError(
                f"near-duplicate inputs across training and test data: sample {i} (group "
                f"{g[i]!s}) and sample {j} (group {g[j]!s}) have perceptual hashes "
                f"{int(d[hit[0, 0], hit[0, 1]])} bits apart (<= {near_duplicate_bits}); "
                "probably the same image under two ids - check the grouping, or relax "
                "near_duplicate_bits if the images truly differ"
            )
