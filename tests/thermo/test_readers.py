"""Readers: DMR text formats, naming convention, grey PNG + alpha, frame series, backends."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import brim.schema
from brim.errors import FormatError, MissingFileError
from brim.thermo.readers import parse_dmr_name, read, read_dmr, read_frames, read_grey


def _write_space(path, arr, nl="\r\r\n"):
    np.savetxt(path, arr, fmt="%.2f", delimiter=" ", newline=nl)


def _write_semicolon(path, arr, trailing=True):
    end = ";" if trailing else ""
    path.write_text("\r\n".join(";".join(f"{v:.5f}" for v in row) + end for row in arr) + "\r\n")


@pytest.fixture
def matrix():
    rng = np.random.default_rng(3)
    return 30.0 + rng.standard_normal((480, 640))


@pytest.mark.parametrize("fmt", ["space", "semicolon-trailing", "semicolon-bare"])
def test_dmr_formats_roundtrip(tmp_path, matrix, fmt):
    p = tmp_path / "PAC_12_DN3.txt"
    if fmt == "space":
        _write_space(p, matrix)
        tol = 0.005
    else:
        _write_semicolon(p, matrix, trailing=fmt.endswith("trailing"))
        tol = 5e-6
    ds = read_dmr(p)
    brim.schema.validate(ds)
    assert ds["temperature"].dims == ("y", "x")
    assert ds["temperature"].attrs["units"] == "degC"
    np.testing.assert_allclose(ds["temperature"].values, matrix, atol=tol + 1e-5)
    assert ds.attrs["dmr_text_format"] == ("space" if fmt == "space" else "semicolon")
    assert ds.attrs["patient"] == 12 and ds.attrs["protocol"] == "dynamic"
    assert ds.attrs["frame"] == 3


def test_dmr_bad_files(tmp_path, matrix):
    ragged = tmp_path / "T0001.txt"
    _write_space(ragged, matrix)
    lines = ragged.read_bytes().split(b"\r\r\n")
    lines[10] = b" ".join(lines[10].split()[:-3])
    ragged.write_bytes(b"\r\r\n".join(lines))
    with pytest.raises(FormatError, match="line 11"):
        read_dmr(ragged)
    small = tmp_path / "small.txt"
    _write_space(small, matrix[:10, :10])
    with pytest.raises(FormatError, match="480 x 640"):
        read_dmr(small)
    assert read_dmr(small, shape=None)["temperature"].shape == (10, 10)
    text = tmp_path / "word.txt"
    text.write_text("30.1 abc 30.2\n30.1 30.2 30.3\n")
    with pytest.raises(FormatError, match="non-numeric"):
        read_dmr(text, shape=None)
    counts = tmp_path / "counts.txt"
    _write_space(counts, matrix[:5, :5] * 300)
    with pytest.raises(FormatError, match="not skin temperatures"):
        read_dmr(counts, shape=None)
    with pytest.raises(MissingFileError):
        read_dmr(tmp_path / "none.txt")


def test_parse_names():
    assert parse_dmr_name("PAC_64_DN0-esq.png") == {
        "patient": 64,
        "protocol": "dynamic",
        "frame": 0,
        "side": "left",
        "view": "frontal",
    }
    m = parse_dmr_name("T0012.txt")
    assert m["patient"] == 12 and m["view"] == "frontal" and m["protocol"] == "static"
    m = parse_dmr_name("12_frontal_static_20130410.txt")
    assert m == {"patient": 12, "view": "frontal", "protocol": "static", "date": "2013-04-10"}
    assert parse_dmr_name("random.txt") == {}


def test_real_dmr_both_formats(external_data):
    root = external_data / "thermo" / "dmr_ir_dev"
    a = read(root / "T0001.txt")
    b = read(root / "T0312.txt")
    assert a.attrs["dmr_text_format"] == "space" and b.attrs["dmr_text_format"] == "semicolon"
    for ds in (a, b):
        brim.schema.validate(ds)
        t = ds["temperature"].values
        assert t.shape == (480, 640)
        # skin 30-37 degC on the body, room air below it
        assert 30 < np.percentile(t, 90) < 37.5 and np.percentile(t, 5) < 30
    # the engine by its registered name (the classes: tests/core/test_xarray_backends.py)
    x = xr.open_dataset(root / "T0001.txt", engine="brim_dmr")
    np.testing.assert_array_equal(x["temperature"].values, a["temperature"].values)
    # drop_variables drops the named variable and ignores names the file does not have
    y = xr.open_dataset(
        root / "T0001.txt", engine="brim_dmr", drop_variables=["temperature", "nope"]
    )
    assert "temperature" not in y and "temperature" in x


def test_grey_png_alpha_mask(tmp_path, external_data):
    f = external_data / "thermo" / "colombia" / "left" / "IIR0001.png"
    ds = read(f)
    assert ds.attrs["brim_schema"].startswith("thermal_intensity/")
    assert "temperature" not in ds and ds["intensity"].attrs["units"] == "1"
    from PIL import Image

    rgba = np.asarray(Image.open(f))
    np.testing.assert_array_equal(ds["intensity"].values, rgba[..., 0])
    np.testing.assert_array_equal(ds["mask"].values, rgba[..., 3] > 127)
    brim.schema.validate(ds)
    # a colour picture is refused (palette colours are not temperatures)
    col = np.zeros((4, 4, 3), np.uint8)
    col[..., 0] = 200
    Image.fromarray(col).save(tmp_path / "colour.png")
    with pytest.raises(FormatError, match="colour"):
        read_grey(tmp_path / "colour.png")
    Image.fromarray(np.full((4, 4), 7, np.uint8)).save(tmp_path / "g.png")
    g = read_grey(tmp_path / "g.png")
    assert "mask" not in g and float(g["intensity"].max()) == 7.0


def test_frame_series(tmp_path, matrix):
    for k in (2, 0, 10, 1):  # written out of order; DN10 must come last, not after DN1
        _write_space(tmp_path / f"PAC_7_DN{k}.txt", matrix + k)
    ds = read_frames(tmp_path, interval=15.0)
    brim.schema.validate(ds)
    assert ds["temperature"].dims == ("time", "y", "x")
    np.testing.assert_allclose(ds["time"].values, [0, 15, 30, 150])  # DN10: 10 x 15 s
    assert list(ds["frame_file"].values) == [f"PAC_7_DN{k}.txt" for k in (0, 1, 2, 10)]
    np.testing.assert_allclose(
        ds["temperature"].values[:, 0, 0] - matrix[0, 0], [0, 1, 2, 10], atol=0.006
    )
    d2 = read(tmp_path)  # a folder reads as a series; DMR dynamic frames 15 s apart by default
    np.testing.assert_allclose(d2["time"].values, [0, 15, 30, 150])
    assert "15 s" in d2["time"].attrs["note"]
    _write_space(tmp_path / "PAC_7_DN11.txt", matrix[:, :600], nl="\n")
    with pytest.raises(FormatError, match="480 x 640"):  # a frame of another size is refused
        read_frames(tmp_path)


def test_real_dynamic_folder(external_data):
    # the folder holds a DMR dynamic frame and a mask PNG: the series takes the frame only
    ds = read_frames(external_data / "thermo" / "dmr_dynamic", interval=15.0)
    assert ds["temperature"].shape == (1, 480, 640)
    assert list(ds["frame_file"].values) == ["PAC_64_DN0.txt"]
    assert ds.attrs["patient"] == 64 and ds.attrs["protocol"] == "dynamic"
