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
from dataclasses import dataclass

import numpy as np
from scipy import fft, ndimage

from brim.deprecation import positional_options
from brim.errors import ConfigError, LeakageError

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
    """One outer fold: sample indices for training and testing."""

    index: int
    train: np.ndarray
    test: np.ndarray


def group_labels(groups, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique groups, the label of each group, and each sample's group number.

    A group's label is the maximum of its samples' labels (a patient with any positive image is
    positive).

    Returns
    -------
    unique_groups, group_label, inverse
    """
    g = np.asarray(groups)
    y = np.asarray(labels)
    if g.ndim != 1 or y.ndim != 1 or g.size != y.size:
        raise ConfigError(
            f"groups and labels must be 1-D of the same length, got {g.shape} and {y.shape}"
        )
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
def grouped_kfold(groups, labels, *, n_splits: int = 5, seed: int = 0) -> list[Fold]:
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
    """
    uniq, gl, inv = group_labels(groups, labels)
    if n_splits < 2:
        raise ConfigError(f"n_splits must be >= 2, got {n_splits}")
    if uniq.size < n_splits:
        raise ConfigError(f"{uniq.size} groups cannot fill {n_splits} folds; use fewer folds")
    sizes = np.bincount(inv, minlength=uniq.size)
    fold_of = _assign(gl, sizes, n_splits, np.random.default_rng(seed))
    sample_fold = fold_of[inv]
    idx = np.arange(inv.size)
    return [Fold(k, idx[sample_fold != k], idx[sample_fold == k]) for k in range(n_splits)]


@positional_options
def grouped_split(groups, labels, *, val_fraction: float = 0.2, seed: int = 0):
    """One grouped, stratified train/validation split (inner split of a training fold).

    Returns
    -------
    train_idx, val_idx : ndarray
        Positions into ``groups``. The validation part holds about ``val_fraction`` of the groups
        of each class (at least one of each class when the class has >= 2 groups).
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


def perceptual_hash(image, *, hash_size: int = 8, highfreq_factor: int = 4) -> int:
    """64-bit DCT perceptual hash of an image (robust to rescaling, small noise, re-encoding).

    The image is resized (area average / spline) to ``hash_size * highfreq_factor`` squared, a 2-D
    DCT-II is taken, and the lowest ``hash_size x hash_size`` frequencies are compared to their
    median (the DC term excluded from the median). Invariant to affine intensity changes
    (e.g. the same thermogram exported in K and degC).

    Returns
    -------
    int
        The hash bits packed into an unsigned 64-bit integer (for hash_size=8).
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


def input_hashes(inputs) -> tuple[list[str], np.ndarray]:
    """SHA-256 of each input's values (as float64, C order) and its perceptual hash."""
    exact, ph = [], []
    for i in range(len(inputs)):
        a = np.ascontiguousarray(np.asarray(inputs[i], dtype=np.float64))
        exact.append(hashlib.sha256(a.tobytes() + str(a.shape).encode()).hexdigest())
        ph.append(perceptual_hash(a) if a.size >= 4 else 0)
    return exact, np.array(ph, dtype=np.uint64)


@positional_options
def check_leakage(
    train_idx,
    test_idx,
    groups,
    *,
    inputs=None,
    near_duplicate_bits: int | None = 4,
    hashes=None,
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
    """
    train_idx = np.asarray(train_idx, dtype=np.int64)
    test_idx = np.asarray(test_idx, dtype=np.int64)
    g = np.asarray(groups)
    shared = np.intersect1d(g[train_idx], g[test_idx])
    if shared.size:
        raise LeakageError(
            f"{shared.size} group(s) appear in both training and test data, e.g. "
            f"{[str(s) for s in shared[:5]]}; split by group (brim.evaluate.grouped_kfold)"
        )
    if inputs is None and hashes is None:
        return
    exact, ph = hashes if hashes is not None else input_hashes(inputs)
    exact = np.asarray(exact)
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
