"""A DMR-IR temperature matrix reads the database's segmented crops of the same frame lying
beside it (``PAC_64_DN0-esq.png``: the left breast on black; ``-dir``: the right) as a breast
``mask``; they were ignored, while the crops read alone already gave it."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import xarray as xr
from PIL import Image

import brim
from brim.errors import BrimWarning
from brim.thermo.readers import read, read_frames, read_grey
from brim.thermo.segmentation import segment_classical

MATRIX = "PAC_64_DN0.txt"
CROP = "PAC_64_DN0-esq.png"


@pytest.fixture(scope="module")
def source(external_data):
    return external_data / "thermo" / "dmr_dynamic"


@pytest.fixture(scope="module")
def grey(source):
    """The crop's grey levels (stored as grey + an opaque alpha channel)."""
    return np.asarray(Image.open(source / CROP))[..., 0]


@pytest.fixture()
def frame(source, tmp_path):
    folder = tmp_path / "frame"
    folder.mkdir()
    shutil.copy(source / MATRIX, folder / MATRIX)
    shutil.copy(source / CROP, folder / CROP)
    return folder


def _shifted(grey, rows):
    out = np.zeros_like(grey)
    out[rows:] = grey[: grey.shape[0] - rows]
    return out


def _without_provenance(ds):
    return ds.assign_attrs(brim_provenance="")


def test_matrix_reads_its_crop_as_the_breast_mask(frame, source, grey):
    ds = read(frame / MATRIX)
    assert ds.brim.kind == "thermogram"
    assert "mask" in ds and ds["mask"].dims == ("y", "x") and ds["mask"].dtype == np.uint8
    own = read_grey(source / CROP)["mask"].values
    np.testing.assert_array_equal(ds["mask"].values, own)
    np.testing.assert_array_equal(ds["mask"].values, (grey > 0).astype(np.uint8))
    assert ds["mask"].attrs["mask_source"] == CROP and ds["mask"].attrs["units"] == "1"
    # physics: the breast is skin, warmer than the room around the patient (the frame's border)
    t = ds["temperature"].values
    border = np.concatenate(
        [t[:10].ravel(), t[-10:].ravel(), t[:, :10].ravel(), t[:, -10:].ravel()]
    )
    inside = t[ds["mask"].values > 0]
    assert inside.size == int(own.sum()) > 0.1 * t.size
    assert np.all(inside > np.median(border))


def test_left_and_right_crops_give_their_union(frame, grey):
    right = np.zeros_like(grey)  # the left crop mirrored onto the other half of the frame
    right[:, :320] = grey[:, ::-1][:, :320]
    Image.fromarray(right).save(frame / "PAC_64_DN0-dir.png")
    ds = read(frame / MATRIX)
    np.testing.assert_array_equal(ds["mask"].values, ((grey > 0) | (right > 0)).astype(np.uint8))
    assert ds["mask"].attrs["mask_source"] == "PAC_64_DN0-dir.png, PAC_64_DN0-esq.png"


def test_only_the_frames_own_crops_and_nothing_else_changes(frame, grey, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(frame / MATRIX, alone / MATRIX)
    # another frame's crop beside the matrix is not this frame's
    Image.fromarray(_shifted(grey, 30)).save(frame / "PAC_64_DN1-esq.png")
    Image.fromarray(_shifted(grey, 30)).save(frame / "PAC_65_DN0-esq.png")
    with_crop = read(frame / MATRIX)
    np.testing.assert_array_equal(with_crop["mask"].values, (grey > 0).astype(np.uint8))
    bare = read(alone / MATRIX)
    assert "mask" not in bare
    xr.testing.assert_identical(
        _without_provenance(with_crop.drop_vars("mask")), _without_provenance(bare)
    )


def test_a_crop_of_another_size_warns_and_gives_no_mask(frame, grey):
    Image.fromarray(grey[:240]).save(frame / CROP)
    with pytest.warns(BrimWarning, match=rf"{CROP} is 240 x 640, the matrix 480 x 640"):
        ds = read(frame / MATRIX)
    assert "mask" not in ds


def test_a_folder_of_frames_with_crops_keeps_a_mask_per_frame(frame, grey):
    shutil.copy(frame / MATRIX, frame / "PAC_64_DN1.txt")
    Image.fromarray(_shifted(grey, 9)).save(frame / "PAC_64_DN1-esq.png")
    ds = read_frames(frame)
    assert ds["temperature"].dims == ("time", "y", "x") and ds.sizes["time"] == 2
    assert ds["mask"].dims == ("time", "y", "x")
    expected = np.stack([grey > 0, _shifted(grey, 9) > 0]).astype(np.uint8)
    np.testing.assert_array_equal(ds["mask"].values, expected)
    assert ds["mask"].attrs["mask_source"] == f"{CROP}, PAC_64_DN1-esq.png"


def test_a_folder_of_which_only_some_frames_have_crops_warns_and_keeps_none(frame):
    shutil.copy(frame / MATRIX, frame / "PAC_64_DN1.txt")
    with pytest.warns(BrimWarning, match=r"1 of 2 frames carry a mask, PAC_64_DN1\.txt none"):
        ds = read_frames(frame)
    assert "mask" not in ds and ds["temperature"].shape == (2, 480, 640)


def test_the_mask_survives_save_and_open(frame, tmp_path):
    ds = read(frame / MATRIX)
    back = brim.open(brim.save(ds, tmp_path / "pac64.nc"))
    assert back.brim.kind == "thermogram"
    np.testing.assert_array_equal(back["mask"].values, ds["mask"].values)
    assert back["mask"].attrs["mask_source"] == CROP


def test_segmentation_of_a_frame_with_crops_is_unchanged_and_quiet(frame, tmp_path):
    ds = read(frame / MATRIX)
    assert "mask" in ds
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(frame / MATRIX, alone / MATRIX)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BrimWarning)  # no "a per-breast crop" warning
        seg = segment_classical(ds)
    np.testing.assert_array_equal(
        seg["mask"].values, segment_classical(read(alone / MATRIX))["mask"].values
    )
