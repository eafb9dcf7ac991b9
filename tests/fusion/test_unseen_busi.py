"""BUSI files that ``busi_dev`` does not hold but the published set does.

The published BUSI set (``Dataset_BUSI_with_GT/{benign,malignant,normal}/``) keeps each mask
beside its image as ``NAME_mask.png``, draws a second or third lesion in ``NAME_mask_1.png`` /
``NAME_mask_2.png``, gives 'normal' images an empty mask, and stores images in several colour
modes. Each variant here is made from a real ``busi_dev`` image and mask (re-saved, renamed,
redrawn) and must read correctly or be refused in one line. Before the fixes: the second lesion
was dropped, a 0/1 mask read as empty, a 16-bit image read white, a mask of another size raised
xarray's ValueError, ``busi_pairs`` found no image in the published layout, and
``segment-us folder/*.png`` segmented the mask files too and wrote ``NAME_mask_mask.nc``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from brim.cli import main
from brim.errors import FormatError
from brim.fusion import busi_pairs, read_busi

NAME = "benign (107)"  # a busi_dev case: 759 x 616 pixels, RGB image, L mask, one lesion


@pytest.fixture
def busi(external_data) -> tuple[Path, Path]:
    root = external_data / "fusion" / "busi_dev"
    return root / "images" / f"{NAME}.png", root / "masks" / f"{NAME}.png"


def _published_layout(tmp_path: Path, image: Path, mask: Path) -> Path:
    """``Dataset_BUSI_with_GT`` with the real case as benign (RGBA image, RGB mask, plus a second
    lesion mask) and a 'normal' image with an empty mask."""
    root = tmp_path / "Dataset_BUSI_with_GT"
    for cls in ("benign", "malignant", "normal"):
        (root / cls).mkdir(parents=True)
    Image.open(image).convert("RGBA").save(root / "benign" / f"{NAME}.png")
    Image.open(mask).convert("RGB").save(root / "benign" / f"{NAME}_mask.png")
    second = np.zeros(np.asarray(Image.open(mask)).shape, np.uint8)
    second[10:40, 10:40] = 255  # far from the lesion of the first mask
    Image.fromarray(second).save(root / "benign" / f"{NAME}_mask_1.png")
    shutil.copy(image, root / "normal" / "normal (1).png")
    Image.fromarray(np.zeros_like(second)).save(root / "normal" / "normal (1)_mask.png")
    return root


def test_second_lesion_mask_joins_the_first(tmp_path, busi):
    image, mask = busi
    first = np.asarray(Image.open(mask)) > 127
    root = _published_layout(tmp_path, image, mask)
    ds = read_busi(root / "benign" / f"{NAME}.png", root / "benign" / f"{NAME}_mask.png")
    assert int(ds["mask"].sum()) == int(first.sum()) + 30 * 30
    assert ds["mask"].values[10:40, 10:40].all()
    # the image is the same grey whether stored RGB (busi_dev) or RGBA (re-saved)
    np.testing.assert_allclose(ds.image.values, read_busi(image).image.values)
    # two masks named explicitly: the same union
    both = read_busi(
        root / "benign" / f"{NAME}.png",
        [root / "benign" / f"{NAME}_mask.png", root / "benign" / f"{NAME}_mask_1.png"],
    )
    np.testing.assert_array_equal(both["mask"].values, ds["mask"].values)


def test_zero_one_mask_and_16_bit_image(tmp_path, busi):
    image, mask = busi
    first = np.asarray(Image.open(mask)) > 127
    Image.fromarray(first.astype(np.uint8)).save(tmp_path / "m01.png")  # values 0 and 1
    assert int(read_busi(image, tmp_path / "m01.png")["mask"].sum()) == int(first.sum())
    grey = np.asarray(Image.open(image).convert("L")).astype(np.uint16)
    Image.fromarray(grey * 257).save(tmp_path / "i16.png")  # 16-bit grey PNG
    assert Image.open(tmp_path / "i16.png").mode.startswith("I")
    np.testing.assert_allclose(
        read_busi(tmp_path / "i16.png").image.values, grey / 255.0, atol=1e-6
    )


def test_mask_of_another_size_is_refused(tmp_path, busi):
    image, mask = busi
    Image.open(mask).resize((300, 200)).save(tmp_path / "small.png")
    with pytest.raises(FormatError, match="300 x 200 pixels but the image"):
        read_busi(image, tmp_path / "small.png")


def test_busi_pairs_reads_the_published_layout(tmp_path, busi):
    root = _published_layout(tmp_path, *busi)
    pairs = busi_pairs(root)
    assert [(i.name, m.name, label) for i, m, label in pairs] == [
        (f"{NAME}.png", f"{NAME}_mask.png", "benign"),
        ("normal (1).png", "normal (1)_mask.png", "normal"),
    ]
    assert int(read_busi(*pairs[1][:2])["mask"].sum()) == 0  # a normal image: no lesion
    # images/ + masks/NAME_mask.png
    flat = tmp_path / "flat"
    (flat / "images").mkdir(parents=True)
    (flat / "masks").mkdir()
    shutil.copy(busi[0], flat / "images" / f"{NAME}.png")
    shutil.copy(busi[1], flat / "masks" / f"{NAME}_mask.png")
    assert [m.name for _, m, _ in busi_pairs(flat)] == [f"{NAME}_mask.png"]


def test_segment_us_on_a_published_class_folder_skips_the_masks(tmp_path, busi, capsys):
    root = _published_layout(tmp_path, *busi)
    files = sorted(str(p) for p in root.glob("*/*.png"))  # what the shell's */*.png gives
    out = tmp_path / "masks"
    with pytest.warns(UserWarning, match="skipped 3 BUSI lesion mask"):
        code = main(["fusion", "segment-us", *files, "-o", str(out), "--model", "otsu"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [f"{NAME}_mask.nc", "normal (1)_mask.nc"]
    only_masks = [f for f in files if "_mask" in f]
    with pytest.warns(UserWarning, match="skipped 3"):
        code = main(["fusion", "segment-us", *only_masks, "-o", str(tmp_path / "m2")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("brim: error: no image to segment")
    assert not (tmp_path / "m2").exists()
