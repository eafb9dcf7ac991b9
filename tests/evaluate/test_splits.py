"""Grouped splits and leakage checks that must raise."""

from __future__ import annotations

import numpy as np
import pytest

import brim
from brim.evaluate import (
    check_leakage,
    cross_validate,
    grouped_kfold,
    grouped_split,
    logistic_fit_predict,
    perceptual_hash,
)


def _cohort(n_groups=30, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, n_groups)
    groups = np.repeat([f"g{i}" for i in range(n_groups)], sizes)
    y = np.repeat(rng.permutation(np.arange(n_groups) % 3 == 0).astype(int), sizes)
    return groups, y


def test_grouped_kfold_partitions_groups_and_stratifies():
    groups, y = _cohort()
    folds = grouped_kfold(groups, y, n_splits=5, seed=3)
    seen = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(seen), np.arange(groups.size))
    for f in folds:
        assert not set(groups[f.train]) & set(groups[f.test])
        assert np.array_equal(np.sort(np.r_[f.train, f.test]), np.arange(groups.size))
    pos_groups = [len(set(groups[f.test][y[f.test] == 1])) for f in folds]
    assert max(pos_groups) - min(pos_groups) <= 1
    again = grouped_kfold(groups, y, n_splits=5, seed=3)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(folds, again))
    with pytest.raises(brim.ConfigError):
        grouped_kfold(groups[:6], y[:6], n_splits=10)


def test_grouped_split_keeps_groups_apart_and_both_classes():
    groups, y = _cohort(seed=1)
    tr, va = grouped_split(groups, y, val_fraction=0.25, seed=0)
    assert not set(groups[tr]) & set(groups[va])
    assert set(y[va]) == {0, 1}
    assert tr.size + va.size == groups.size


def test_group_in_two_folds_raises():
    groups = np.array(["a", "a", "b", "c"])
    with pytest.raises(brim.LeakageError, match="both training and test"):
        check_leakage([0, 2], [1, 3], groups)
    check_leakage([0, 1], [2, 3], groups)  # clean split passes


def test_exact_duplicate_under_two_ids_raises():
    rng = np.random.default_rng(0)
    imgs = rng.normal(size=(6, 24, 24))
    imgs[5] = imgs[1]  # the same image filed under another patient
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    with pytest.raises(brim.LeakageError, match="identically"):
        check_leakage([0, 1, 2, 3], [4, 5], groups, inputs=imgs)


def test_near_duplicate_raises_and_distinct_images_pass():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:48, :48]
    imgs = []
    for _ in range(8):
        cy, cx = rng.uniform(10, 38, 2)
        imgs.append(
            30
            + 3 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 40.0)
            + rng.normal(scale=0.5, size=(48, 48)).cumsum(0) / 10
        )
    imgs = np.array(imgs)
    groups = np.array([f"p{k}" for k in range(8)])
    check_leakage(np.arange(6), [6, 7], groups, inputs=imgs)  # all different: no error
    # the same thermogram re-exported in kelvin with a little noise, under another id
    imgs[7] = imgs[2] + 273.15 + rng.normal(scale=0.01, size=(48, 48))
    with pytest.raises(brim.LeakageError, match="near-duplicate"):
        check_leakage(np.arange(6), [6, 7], groups, inputs=imgs)
    # the check can be switched off explicitly
    check_leakage(np.arange(6), [6, 7], groups, inputs=imgs, near_duplicate_bits=None)


def test_perceptual_hash_invariance():
    rng = np.random.default_rng(2)
    img = rng.normal(size=(40, 40)).cumsum(0).cumsum(1)
    h = perceptual_hash(img)
    assert perceptual_hash(2.0 * img + 5.0) == h  # affine intensity change
    other = rng.normal(size=(40, 40)).cumsum(0).cumsum(1)
    assert np.bitwise_count(np.uint64(h) ^ np.uint64(perceptual_hash(other))) > 8


def test_cross_validate_refuses_leaky_inputs():
    rng = np.random.default_rng(0)
    n = 30
    imgs = rng.normal(size=(n, 16, 16))
    y = np.arange(n) % 2
    groups = np.array([f"p{i}" for i in range(n)])
    folds = grouped_kfold(groups, y, n_splits=3, seed=0)
    a, b = folds[0].test[0], folds[1].test[0]
    imgs[b] = imgs[a]  # one image filed under two patient ids, in two different folds
    with pytest.raises(brim.LeakageError, match="identically"):
        cross_validate(logistic_fit_predict, imgs, y, groups, n_splits=3, n_bootstrap=10)


def test_real_thermograms_of_different_patients_are_not_near_duplicates(external_data):
    # real DMR-IR thermograms (480x640 degC): distinct patients must pass the perceptual check,
    # and the same thermogram re-exported (kelvin + noise) under a new id must be caught
    read_dmr = pytest.importorskip("brim.thermo.readers").read_dmr
    files = sorted((external_data / "thermo" / "dmr_ir_dev").glob("T*.txt"))[:12]
    if len(files) < 4:
        pytest.skip("DMR-IR development subset not found")
    imgs = np.array([np.asarray(read_dmr(f)["temperature"].values) for f in files])
    groups = np.array([f.stem for f in files])
    n = len(files)
    check_leakage(np.arange(n // 2), np.arange(n // 2, n), groups, inputs=imgs)
    noise = np.random.default_rng(0).normal(scale=0.05, size=imgs[0].shape)
    leaky = np.concatenate([imgs, (imgs[0] + 273.15 + noise)[None]])
    with pytest.raises(brim.LeakageError, match="near-duplicate"):
        check_leakage(np.arange(n), [n], np.append(groups, "new-id"), inputs=leaky)
