"""A folder of DMR segmented crops (``PAC_64_DN<k>-esq.png``: each dynamic frame's left breast
on black) read as a series keeps each frame's breast mask, as one crop read alone does."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import brim
from brim.errors import BrimWarning
from brim.thermo.readers import read_frames

SHIFTS = (0, 4, 9)  # rows the breast moves down from frame to frame (breathing, posture)


@pytest.fixture(scope="module")
def grey(external_data):
    path = external_data / "thermo" / "dmr_dynamic" / "PAC_64_DN0-esq.png"
    return np.asarray(Image.open(path))[..., 0]


def _shifted(grey, rows):
    out = np.zeros_like(grey)
    out[rows:] = grey[: grey.shape[0] - rows]
    return out


@pytest.fixture()
def crops(grey, tmp_path):
    folder = tmp_path / "pac64_esq"
    folder.mkdir()
    for k, rows in enumerate(SHIFTS):
        Image.fromarray(_shifted(grey, rows)).save(folder / f"PAC_64_DN{k}-esq.png")
    return folder


def test_each_frame_keeps_its_own_breast_mask(crops, grey, tmp_path):
    ds = read_frames(crops)
    expected = np.stack([_shifted(grey, r) > 0 for r in SHIFTS]).astype(np.uint8)
    assert ds["mask"].dims == ("time", "y", "x")
    np.testing.assert_array_equal(ds["mask"].values, expected)  # were dropped
    assert not np.array_equal(ds["mask"].values[0], ds["mask"].values[2])  # not one repeated
    assert ds.attrs["side"] == "left" and ds.brim.kind == "thermal_intensity"
    back = brim.open(brim.save(ds, tmp_path / "series.nc"))  # the schema takes (time, y, x)
    np.testing.assert_array_equal(back["mask"].values, expected)


def test_frames_of_which_only_some_carry_a_mask_warn_and_keep_none(crops, grey):
    (crops / "PAC_64_DN2-esq.png").unlink()
    Image.fromarray(grey).save(crops / "PAC_64_DN2.png")  # a plain frame: no mask
    with pytest.warns(BrimWarning, match=r"2 of 3 frames carry a mask, PAC_64_DN2\.png none"):
        ds = read_frames(crops)
    assert "mask" not in ds and ds["intensity"].shape == (3, *grey.shape)


def test_frames_without_masks_get_none(grey, tmp_path):
    for k in range(2):
        Image.fromarray(grey).save(tmp_path / f"PAC_64_DN{k}.png")
    assert "mask" not in read_frames(tmp_path)
