"""Ultrasound segmentation: grouping by hash, leakage check, Dice with a CI (tiny run)."""

import shutil

import numpy as np
import pytest

from brim.errors import LeakageError
from brim.evaluate import check_leakage, dice, grouped_split, mean_ci
from brim.fusion import ussegment as seg

pytest.importorskip("torch")


def test_dice_and_bootstrap_oracles():
    a = np.zeros((10, 10), int)
    b = np.zeros((10, 10), int)
    a[2:6, 2:6] = 1  # 16 px
    b[4:8, 2:6] = 1  # 16 px, 8 overlap
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(a, a) == pytest.approx(1.0)
    assert dice(a * 0, b * 0) == 1.0
    mean, lo, hi = mean_ci([0.2, 0.4, 0.6, 0.8] * 10)
    assert mean == pytest.approx(0.5)
    assert lo < 0.5 < hi and hi - lo < 0.3


def test_duplicates_are_grouped_and_leakage_raises(external_data, tmp_path):
    src = sorted((external_data / "fusion/busi_dev/images").glob("*.png"))[:6]
    for p in src:
        shutil.copy(p, tmp_path / p.name)
    # an exact duplicate under the other class's name, and a resized near-duplicate
    shutil.copy(src[0], tmp_path / "malignant (9999).png")
    from PIL import Image

    with Image.open(src[1]) as im:
        im.resize((im.width // 2, im.height // 2)).save(tmp_path / "benign (9998).png")
    paths = sorted(tmp_path.glob("*.png"))
    groups = seg.group_images(paths)
    name = {p.name: g for p, g in zip(paths, groups)}
    assert name["malignant (9999).png"] == name[src[0].name]
    assert name["benign (9998).png"] == name[src[1].name]
    assert len(set(groups)) == 6
    train, test = grouped_split(groups, seg.busi_class_labels(paths), val_fraction=0.5, seed=0)
    assert not set(groups[train]) & set(groups[test])
    with pytest.raises(LeakageError):
        check_leakage(np.arange(len(paths)), np.arange(2), groups)


def test_real_busi_near_duplicate_pair_is_grouped(external_data):
    # benign (204) and benign (249) of busi_dev are the same scan at two sizes (pixel
    # correlation 0.997 after resizing both to 64 px); benign (107) is a different lesion
    root = external_data / "fusion/busi_dev/images"
    names = ["benign (204).png", "benign (249).png", "benign (107).png"]
    groups = seg.group_images([root / n for n in names])
    assert groups[0] == groups[1] != groups[2]


def test_tiny_training_reports_dice_with_ci(external_data, tmp_path):
    # tiny on purpose (12 images, 32 px, 5 epochs): the full number is in benchmarks/RESULTS.md
    res = seg.evaluate_segmenter(
        external_data / "fusion/busi_dev", size=32, epochs=5, limit=12, seed=0,
        model_out=tmp_path / "unet",
    )  # fmt: skip
    assert res.n_train + res.n_test == 12 and res.n_test >= 1
    assert 0.0 <= res.ci_low <= res.dice_mean <= res.ci_high <= 1.0
    model = seg.load_model(tmp_path / "unet")
    from brim.fusion.public_data import busi_pairs, read_busi

    img, msk, _ = busi_pairs(external_data / "fusion/busi_dev")[0]
    out = seg.segment(read_busi(img, msk), model=model)
    assert out["mask"].shape == out.image.shape and out.attrs["segmenter"] == "unet"


def test_threshold_baseline_finds_a_synthetic_lesion():
    from brim.fusion import simulate as sim

    us = sim.synthetic_ultrasound(sim.Lesion((0, 0, 20e-3), 7.5e-3), pixel=0.5e-3, seed=3)
    out = seg.segment(us.drop_vars("mask"))
    assert dice(out["mask"].values, us["mask"].values) > 0.7


@pytest.mark.parametrize("spoil", ["nan", "constant"])
def test_segment_refuses_non_finite_or_blank_images(spoil):
    """A NaN pixel used to crash Otsu's threshold with a bare ValueError."""
    from brim.errors import FormatError
    from brim.fusion import simulate as sim

    us = sim.synthetic_ultrasound(sim.Lesion(center=(0.0, 0.0, 20e-3), radius=7.5e-3), seed=0)
    img = us.image.values.astype(float)
    if spoil == "nan":
        img[10, 10] = np.nan
    else:
        img[:] = 0.5
    bad = us.assign(image=(us.image.dims, img, us.image.attrs))
    with pytest.raises(FormatError, match="non-finite|constant"):
        seg.segment(bad)
    assert seg.segment(us)["mask"].values.any()
