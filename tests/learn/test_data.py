"""The data bridge: sample layout, physics-respecting augmentation, lazy per-worker file opening."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr

torch = pytest.importorskip("torch")

import brim  # noqa: E402
from brim.learn import (  # noqa: E402
    ArrayDataset,
    Compose,
    FileDataset,
    Normalize,
    RandomFlip,
    RandomShift,
)


def test_array_dataset_sample_layout_and_values_kept():
    X = 30.0 + np.arange(2 * 5 * 6, dtype=np.float64).reshape(2, 5, 6)
    ds = ArrayDataset(X, [0, 1], ["pA", "pB"])
    s = ds[1]
    assert set(s) == {"x", "y", "group", "index"}
    assert s["x"].shape == (1, 5, 6) and s["x"].dtype == torch.float32
    np.testing.assert_array_equal(s["x"][0].numpy(), X[1].astype(np.float32))  # degC kept
    assert s["group"] == "pB" and s["index"] == 1 and float(s["y"]) == 1.0
    sub = ds.subset([1])
    assert sub[0]["index"] == 1 and sub[0]["group"] == "pB"  # original index carried


def test_augmentations_never_rescale_and_move_masks_with_images():
    rng = np.random.default_rng(0)
    X = (30 + rng.normal(size=(4, 16, 16))).astype(np.float32)
    masks = (X > 30.5).astype(np.float32)
    ds = ArrayDataset(
        X, masks, None, transform=Compose([RandomFlip((-1, -2), p=0.5), RandomShift(3)]), seed=4
    )
    changed = 0
    for epoch in range(3):
        ds.set_epoch(epoch)
        for i in range(4):
            s = ds[i]
            x, m = s["x"][0].numpy(), s["y"].numpy()
            assert np.isin(x, X[i]).all()  # only measured values, none rescaled/interpolated
            np.testing.assert_array_equal(m, (x > 30.5).astype(np.float32))  # same geometry
            changed += not np.array_equal(x, X[i])
    assert changed > 0
    # reproducible: (seed, epoch, index) fixes the draw
    ds.set_epoch(1)
    np.testing.assert_array_equal(ds[2]["x"].numpy(), ds[2]["x"].numpy())


def test_flip_is_an_exact_mirror():
    X = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    ds = ArrayDataset(X, [0], transform=RandomFlip((-1,), p=1.0))
    np.testing.assert_array_equal(ds[0]["x"][0].numpy(), X[0, :, ::-1])


def test_normalize_only_when_asked():
    X = np.full((1, 4, 4), 34.0, np.float32)
    assert float(ArrayDataset(X, [0])[0]["x"].mean()) == 34.0
    ds = ArrayDataset(X, [0], transform=Normalize(30.0, 2.0))
    assert float(ds[0]["x"].mean()) == pytest.approx(2.0)
    with pytest.raises(brim.ConfigError):
        Normalize(0.0, 0.0)


def test_two_input_samples():
    a = np.zeros((3, 8, 8), np.float32)
    f = np.ones((3, 5), np.float32)
    s = ArrayDataset((a, f), [0, 1, 0], ["a", "b", "c"])[2]
    assert isinstance(s["x"], tuple) and s["x"][0].shape == (1, 8, 8) and s["x"][1].shape == (5,)


def _pid_loader(path):
    """A loader that records which process opened the file (the value is that process's id)."""
    n = int(path.stem.split("_")[1])
    return xr.Dataset(
        {"temperature": (("y", "x"), np.full((4, 4), float(os.getpid())))}, attrs={"n": n}
    )


def test_file_dataset_opens_lazily_inside_each_worker(tmp_path):
    paths = []
    for k in range(4):
        p = tmp_path / f"scan_{k}.nc"
        brim.save(xr.Dataset({"temperature": (("y", "x"), np.full((4, 4), 30.0 + k))}), p)
        paths.append(p)
    opened = []

    def counting_loader(path):
        opened.append(path)
        return brim.open(path)

    ds = FileDataset(
        paths,
        var="temperature",
        labels=[0, 1, 0, 1],
        groups=lambda p: p.stem,
        loader=counting_loader,
    )
    assert opened == []  # nothing opened before use (so nothing is shared across a fork)
    s = ds[2]
    assert float(s["x"].mean()) == 32.0 and s["group"] == "scan_2" and len(opened) == 1
    default = FileDataset(paths, var="temperature", labels=[0, 1, 0, 1])
    assert float(default[3]["x"].mean()) == 33.0
    # with worker processes, each file is opened in the worker that reads it
    wds = FileDataset(paths, var="temperature", labels=[0, 1, 0, 1], loader=_pid_loader)
    loader = torch.utils.data.DataLoader(wds, batch_size=1, num_workers=2)
    pids = {float(b["x"].flatten()[0]) for b in loader}
    assert float(os.getpid()) not in pids and len(pids) >= 1
    with pytest.raises(brim.MissingFileError):
        FileDataset([tmp_path / "nope.nc"], var="temperature")
    with pytest.raises(brim.SchemaError, match="no variable"):
        FileDataset(paths, var="intensity")[0]


def test_array_dataset_from_a_brim_dataset():
    ds = xr.Dataset(
        {"temperature": (("scan", "y", "x"), 30 + np.arange(48.0).reshape(3, 4, 4))},
        coords={"patient": ("scan", ["a", "a", "b"]), "label": ("scan", [0, 0, 1])},
    )
    d = ArrayDataset.from_dataset(ds, "temperature", label="label", group="patient")
    s = d[2]
    assert s["group"] == "b" and float(s["y"]) == 1.0 and float(s["x"][0, 0, 0]) == 62.0
    with pytest.raises(brim.ConfigError, match="no variable or coordinate"):
        ArrayDataset.from_dataset(ds, "temperature", label="diagnosis")
