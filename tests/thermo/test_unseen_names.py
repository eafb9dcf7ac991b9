"""Thermography file names, frame sequences and the DMR dynamic protocol, on unseen files.

Variants of the real DMR dynamic frame ``PAC_64_DN0.txt``, of its expert left-breast crop
``PAC_64_DN0-esq.png`` and of the Colombian cohort's crops, named as the publishers (or a user's
browser, or a re-save) name them: each reads to the right numbers and metadata, or is refused
with a FormatError naming the problem.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import brim
from brim.errors import BrimWarning, FormatError
from brim.thermo.readers import parse_dmr_name, read, read_frames, read_grey


@pytest.fixture(scope="module")
def dn0(external_data):
    return external_data / "thermo" / "dmr_dynamic" / "PAC_64_DN0.txt"


@pytest.fixture(scope="module")
def matrix(dn0):
    return np.loadtxt(dn0)


@pytest.fixture(scope="module")
def esq(external_data):
    return external_data / "thermo" / "dmr_dynamic" / "PAC_64_DN0-esq.png"


def _write(path, arr):
    np.savetxt(path, arr, fmt="%.2f")


@pytest.fixture(scope="module")
def sequence(tmp_path_factory, matrix):
    """PAC_64_DN0..DN19: the real frame warming by 0.05 degC a frame (a re-warming series)."""
    folder = tmp_path_factory.mktemp("pac64")
    for k in range(20):
        _write(folder / f"PAC_64_DN{k}.txt", matrix + 0.05 * k)
    return folder


def _copy_frames(src, dst, names):
    dst.mkdir()
    for old, new in names:
        shutil.copy(src / old, dst / new)
    return dst


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PAC_64_DN10.TXT", {"patient": 64, "protocol": "dynamic", "frame": 10}),
        ("pac_64_dn3.txt", {"patient": 64, "protocol": "dynamic", "frame": 3}),
        ("PAC 64 DN3.txt", {"patient": 64, "protocol": "dynamic", "frame": 3}),  # spaces
        ("PAC_64_DN3 (1).txt", {"patient": 64, "protocol": "dynamic", "frame": 3}),  # browser
        ("PAC_64_DN0-dir.png", {"patient": 64, "frame": 0, "side": "right"}),
        ("PAC_64.txt", {"patient": 64}),
        ("T0001.TXT", {"patient": 1, "protocol": "static", "view": "frontal"}),
        ("T0012_3.txt", {"patient": 12}),  # the last number, 3, is not the patient
        ("T0001 (1).txt", {"patient": 1, "protocol": "static"}),
        ("12_front_static_20130410.txt", {"patient": 12, "view": "frontal", "date": "2013-04-10"}),
    ],
)
def test_publisher_and_user_names_parse(name, expected):
    got = parse_dmr_name(name)
    assert {k: got.get(k) for k in expected} == expected, got


@pytest.mark.parametrize("name", ["IR_20130410_1.txt", "ir_20130410_12.txt"])
def test_a_date_in_a_camera_name_is_a_date_not_a_patient(name):
    got = parse_dmr_name(name)
    assert "patient" not in got, got  # 20130410 was patient 20 million
    assert got["date"] == "2013-04-10"


@pytest.mark.parametrize("name", ["frame.txt", "image one.txt", "IR_0001.txt", "T0001_b.txt"])
def test_names_without_the_convention_give_no_metadata(name):
    got = parse_dmr_name(name)
    assert "patient" not in got and "frame" not in got, got


# --- sequences -----------------------------------------------------------------------------


def test_twenty_frames_read_in_protocol_order(sequence, matrix):
    ds = read_frames(sequence, interval=15.0)
    names = [f"PAC_64_DN{k}.txt" for k in range(20)]
    assert list(ds["frame_file"].values) == names  # DN2 before DN10
    np.testing.assert_allclose(ds["time"].values, 15.0 * np.arange(20))
    step = ds["temperature"].values[:, 240, 320] - matrix[240, 320]
    np.testing.assert_allclose(step, 0.05 * np.arange(20), atol=0.006)
    assert ds.attrs["patient"] == 64 and ds.attrs["protocol"] == "dynamic"
    assert ds.attrs["n_frames"] == 20 and "frame" not in ds.attrs


def test_cli_convert_folder_writes_one_ordered_sequence(sequence, tmp_path, matrix):
    out = tmp_path / "seq.nc"
    run = subprocess.run(
        [sys.executable, "-m", "brim", "thermo", "convert", str(sequence), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    info = subprocess.run(
        [sys.executable, "-m", "brim", "info", str(out)], capture_output=True, text=True
    )
    assert info.returncode == 0, info.stderr
    assert "patient=64, view=frontal, protocol=dynamic" in info.stdout
    assert "time=20" in info.stdout
    ds = brim.open(out)
    order = [int(str(f).split("DN")[1].split(".")[0]) for f in ds["frame_file"].values]
    assert order == list(range(20))
    # the DMR dynamic protocol's 15 s per frame: the time axis held the frame numbers 0..19
    # labelled in seconds, and the re-warming rate came out 15 x too high (3.0 K/min)
    np.testing.assert_allclose(ds["time"].values, 15.0 * np.arange(20))
    assert "15 s" in ds["time"].attrs["note"]
    last = float(ds["temperature"][19, 240, 320]) - matrix[240, 320]
    assert abs(last - 0.95) < 0.006
    from brim.thermo.recovery import recovery_map

    rate = float(recovery_map(ds)[240, 320])  # 0.05 degC per 15 s frame = 0.2 K/min
    assert rate == pytest.approx(0.2, abs=0.01)


def test_cli_convert_interval_times_the_frames_and_is_refused_for_a_file(sequence, tmp_path):
    out = tmp_path / "seq.nc"
    run = subprocess.run(
        [sys.executable, "-m", "brim", "thermo", "convert", str(sequence), "-o", str(out),
         "--interval", "10"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    np.testing.assert_allclose(brim.open(out)["time"].values, 10.0 * np.arange(20))
    one = subprocess.run(
        [sys.executable, "-m", "brim", "thermo", "convert", str(sequence / "PAC_64_DN0.txt"),
         "-o", str(tmp_path / "one.nc"), "--interval", "10"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert one.returncode == 2 and "--interval applies to a folder" in one.stderr
    assert not (tmp_path / "one.nc").exists()


def test_cli_any_shape_reaches_the_frames_of_a_folder(sequence, tmp_path, matrix):
    """``--any-shape`` was ignored for a folder: cropped frames were refused as 480 x 600."""
    folder = tmp_path / "crops"
    folder.mkdir()
    for k in range(3):
        _write(folder / f"PAC_64_DN{k}.txt", matrix[:, :600] + 0.05 * k)
    out = tmp_path / "crops.nc"
    cmd = [sys.executable, "-m", "brim", "thermo", "convert", str(folder), "-o", str(out)]
    refused = subprocess.run(cmd, capture_output=True, text=True)
    assert refused.returncode == 2 and "480 x 640" in refused.stderr
    run = subprocess.run([*cmd, "--any-shape"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert brim.open(out)["temperature"].shape == (3, 480, 600)


def test_upper_case_frames_beside_macos_hidden_files_read(sequence, tmp_path, matrix):
    names = [(f"PAC_64_DN{k}.txt", f"PAC_64_DN{k}.TXT") for k in (0, 2, 10, 1)]
    folder = _copy_frames(sequence, tmp_path / "usb", names)
    for k in (0, 2, 10, 1):  # what macOS writes beside each file on a FAT/exFAT stick
        (folder / f"._PAC_64_DN{k}.TXT").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    ds = read_frames(folder)
    assert list(ds["frame_file"].values) == [f"PAC_64_DN{k}.TXT" for k in (0, 1, 2, 10)]
    np.testing.assert_allclose(ds["time"].values, np.array([0, 1, 2, 10]) * ds["time"].values[1])
    step = ds["temperature"].values[:, 240, 320] - matrix[240, 320]
    np.testing.assert_allclose(step, [0, 0.05, 0.1, 0.5], atol=0.006)


def test_a_folder_of_csv_resaved_frames_is_a_series(sequence, tmp_path, matrix):
    folder = tmp_path / "csv"
    folder.mkdir()
    for k in (10, 0, 2, 1):  # a spreadsheet's CSV re-save of each frame
        frame = np.loadtxt(sequence / f"PAC_64_DN{k}.txt")
        np.savetxt(folder / f"PAC_64_DN{k}.csv", frame, fmt="%.2f", delimiter=",")
    ds = read_frames(folder)
    assert list(ds["frame_file"].values) == [f"PAC_64_DN{k}.csv" for k in (0, 1, 2, 10)]
    step = ds["temperature"].values[:, 240, 320] - matrix[240, 320]
    np.testing.assert_allclose(step, [0, 0.05, 0.1, 0.5], atol=0.006)


def test_camera_named_frames_sort_by_shot_and_keep_the_date(sequence, tmp_path):
    names = [(f"PAC_64_DN{k}.txt", f"IR_20130410_{k}.txt") for k in (10, 2, 1)]
    ds = read_frames(_copy_frames(sequence, tmp_path / "cam", names))
    assert list(ds["frame_file"].values) == [f"IR_20130410_{k}.txt" for k in (1, 2, 10)]
    assert ds.attrs["date"] == "2013-04-10" and "patient" not in ds.attrs


def test_frames_of_two_sessions_are_refused(sequence, tmp_path):
    names = [
        ("PAC_64_DN0.txt", "IR_20130410_1.txt"),
        ("PAC_64_DN1.txt", "IR_20130410_2.txt"),
        ("PAC_64_DN2.txt", "IR_20130411_3.txt"),  # the next day's shot
    ]
    with pytest.raises(FormatError, match="2 dates"):
        read_frames(_copy_frames(sequence, tmp_path / "days", names))


def test_frames_named_without_numbers_warn_that_the_order_is_by_name(sequence, tmp_path):
    names = [("PAC_64_DN0.txt", "image one.txt"), ("PAC_64_DN1.txt", "image two.txt")]
    folder = _copy_frames(sequence, tmp_path / "words", names)
    with pytest.warns(BrimWarning, match="ordered by name"):
        ds = read_frames(folder)
    assert list(ds["frame_file"].values) == ["image one.txt", "image two.txt"]


def test_missing_frame_keeps_its_time_gap(sequence, tmp_path):
    names = [(f"PAC_64_DN{k}.txt",) * 2 for k in range(20) if k != 7]
    folder = _copy_frames(sequence, tmp_path / "gap", names)
    kept = np.array([k for k in range(20) if k != 7])
    # timed by frame number, DN8 stays after the gap: 15 s by default (the protocol) or the
    # interval given (with an interval, the frames after the gap used to be timed early)
    np.testing.assert_allclose(read_frames(folder)["time"].values, 15.0 * kept)
    np.testing.assert_allclose(read_frames(folder, interval=10.0)["time"].values, 10.0 * kept)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (("PAC_64_DN3.txt", "PAC_65_DN3.txt"), "2 patients"),  # another patient's frame
        (("PAC_64_DN3.txt", "PAC_64_DN3 (1).txt"), "PAC_64_DN3.*frame 3"),  # duplicate
        (("PAC_64_DN3.txt", "PAC_64_DN03.txt"), "frame 3"),
        (("PAC_64_DN3.txt", "PAC_64_ST.txt"), "static"),  # the static image in the folder
        (("PAC_64_DN3.txt", "64_lateral_left_dynamic_20130410.txt"), "lateral_left"),
        (("PAC_64_DN3.txt", "frame.txt"), "frame.txt has no frame number"),  # last, silently
    ],
)
def test_frames_that_are_not_one_series_are_refused(sequence, tmp_path, extra, match):
    names = [(f"PAC_64_DN{k}.txt",) * 2 for k in range(4)] + [extra]
    folder = _copy_frames(sequence, tmp_path / "mixed", names)
    with pytest.raises(FormatError, match=match):
        read_frames(folder)
    out = tmp_path / "out.nc"
    run = subprocess.run(
        [sys.executable, "-m", "brim", "thermo", "convert", str(folder), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert not out.exists()


def test_a_frame_of_another_shape_is_named(sequence, tmp_path, matrix):
    folder = _copy_frames(
        sequence, tmp_path / "odd", [(f"PAC_64_DN{k}.txt",) * 2 for k in range(3)]
    )
    _write(folder / "PAC_64_DN3.txt", matrix[:, :600])
    with pytest.raises(FormatError, match="PAC_64_DN3.txt"):
        read_frames(folder)
    with pytest.raises(FormatError, match=r"PAC_64_DN3\.txt.*480 x 600"):
        read_frames(folder, shape=None)


def test_any_shape_reads_a_folder_of_images_too(esq, tmp_path):
    # brim thermo convert FOLDER --any-shape passes shape=None whatever the frames are
    folder = tmp_path / "pngs"
    folder.mkdir()
    for k in range(3):
        shutil.copy(esq, folder / f"PAC_64_DN{k}-esq.png")
    ds = read_frames(folder, shape=None)
    assert ds["intensity"].shape == (3, 480, 640) and ds.attrs["side"] == "left"


def test_segmented_crops_of_both_sides_are_not_one_series(esq, tmp_path):
    folder = tmp_path / "crops"
    folder.mkdir()
    shutil.copy(esq, folder / "PAC_64_DN0-esq.png")
    shutil.copy(esq, folder / "PAC_64_DN0-dir.png")
    with pytest.raises(FormatError, match="left.*right|right.*left"):
        read_frames(folder)


def test_colombian_crops_of_one_size_are_separate_patients(external_data, tmp_path):
    left = external_data / "thermo" / "colombia" / "left"
    folder = tmp_path / "crops"
    folder.mkdir()
    src = sorted(left.glob("IIR*.png"))[0]
    shutil.copy(src, folder / "IIR0001.png")
    shutil.copy(src, folder / "IIR0002.png")  # two crops that happen to share a size
    with pytest.raises(FormatError, match="separate"):
        read_frames(folder)


# --- the DMR segmented crops (-esq / -dir) -------------------------------------------------


def test_dmr_segmented_crop_reads_with_its_breast_mask(esq):
    ds = read(esq)
    grey = np.asarray(Image.open(esq))[..., 0]
    assert ds.brim.kind == "thermal_intensity" and ds.attrs["side"] == "left"
    np.testing.assert_array_equal(ds["intensity"].values, grey)  # grey levels as stored
    # the crop is black outside the breast: its mask (the alpha channel is opaque everywhere)
    np.testing.assert_array_equal(ds["mask"].values, (grey > 0).astype(np.uint8))
    assert 0.1 < float(ds["mask"].mean()) < 0.3  # one breast of a 480 x 640 frontal image


@pytest.mark.parametrize("mode", ["L", "LA", "RGB"])
def test_segmented_crop_resaved_keeps_the_same_mask(esq, tmp_path, mode):
    grey = np.asarray(Image.open(esq))[..., 0]
    path = tmp_path / "PAC_64_DN0-dir.png"
    Image.fromarray(grey).convert(mode).save(path)
    ds = read_grey(path)
    assert ds.attrs["side"] == "right"
    np.testing.assert_array_equal(ds["mask"].values, (grey > 0).astype(np.uint8))


def test_a_black_pixel_inside_the_breast_stays_in_its_mask(esq, tmp_path):
    grey = np.asarray(Image.open(esq))[..., 0].copy()
    ys, xs = np.nonzero(grey)
    cy, cx = int(np.median(ys)), int(np.median(xs))
    grey[cy - 2 : cy + 3, cx - 2 : cx + 3] = 0  # the coldest level rendered black, inside
    path = tmp_path / "PAC_64_DN0-esq.png"
    Image.fromarray(grey).save(path)
    mask = read_grey(path)["mask"].values
    assert mask[cy, cx] == 1 and int(mask.sum()) == int((grey > 0).sum()) + 25


def test_an_all_black_segmented_crop_is_refused(tmp_path):
    path = tmp_path / "PAC_64_DN0-esq.png"
    Image.fromarray(np.zeros((480, 640), np.uint8)).save(path)
    with pytest.raises(FormatError, match="black"):
        read_grey(path)


def test_a_segmented_matrix_with_a_zero_outside_is_refused(esq, matrix, tmp_path, capsys):
    from brim.cli import main

    inside = np.asarray(Image.open(esq))[..., 0] > 0
    path = tmp_path / "PAC_64_DN0-esq.txt"
    _write(path, np.where(inside, matrix, 0.0))  # one breast in degC, 0.00 around it
    with pytest.raises(FormatError, match="exactly 0.00 degC"):
        read(path)
    out = tmp_path / "esq.nc"
    assert main(["thermo", "convert", str(path), "-o", str(out), "--no-progress"]) == 2
    assert "fill value" in capsys.readouterr().err and not out.exists()


def test_a_plain_grey_image_with_black_pixels_gets_no_mask(esq, tmp_path):
    grey = np.asarray(Image.open(esq))[..., 0]
    path = tmp_path / "export_64.png"  # no -esq/-dir: not a segmented crop
    Image.fromarray(grey).save(path)
    assert "mask" not in read_grey(path)


@pytest.mark.parametrize("alpha", ["opaque", "none"])
def test_colombian_crop_without_a_mask_reads_its_grey_levels(external_data, tmp_path, alpha):
    src = sorted((external_data / "thermo" / "colombia" / "right").glob("IIR*.png"))[0]
    rgba = np.asarray(Image.open(src))
    path = tmp_path / src.name
    if alpha == "opaque":
        out = rgba.copy()
        out[..., 3] = 255
        Image.fromarray(out).save(path)
    else:
        Image.fromarray(rgba[..., :3]).save(path)
    ds = read_grey(path)
    assert "mask" not in ds  # no alpha mask, and IIR crops are not DMR -esq/-dir crops
    np.testing.assert_array_equal(ds["intensity"].values, rgba[..., 0])
