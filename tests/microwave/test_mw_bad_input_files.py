"""Damaged and special input files for ``brim microwave`` (issue 19, items 3, 5 and 6).

Each case runs the real CLI and expects exit status 2 with a one-line message; before the fixes
these were UnicodeDecodeError, OSError or h5py tracebacks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from brim.cli import main


def _convert(capsys, src, out) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["microwave", "convert", str(src), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.fixture
def merit(external_data, tmp_path) -> Path:
    src = external_data / "microwave" / "merit"
    if not src.is_dir():
        pytest.skip("microwave/merit is not in BRIM_EXTERNAL_DATA")
    dst = tmp_path / "merit"
    shutil.copytree(src, dst)
    return dst


def test_merit_scans_with_one_non_utf8_byte_name_the_file_and_line(merit, tmp_path, capsys):
    good = merit / "B0_P3_p000.csv"
    raw = good.read_bytes()
    assert _convert(capsys, good, tmp_path / "ok.nc")[0] == 0  # the intact scan converts
    rng = np.random.default_rng(19)
    positions = sorted(rng.choice(len(raw), size=12, replace=False))
    for k, pos in enumerate(positions):
        bad = merit / f"flip{k}.csv"
        data = bytearray(raw)
        data[pos] = 0xFF  # never valid in UTF-8
        bad.write_bytes(bytes(data))
        line = raw.count(b"\n", 0, pos) + 1
        code, err = _convert(capsys, bad, tmp_path / f"flip{k}.nc")
        assert code == 2, err
        assert err.startswith(f"brim: error: flip{k}.csv: line {line}, column ") and "0xff" in err
        assert "\n" not in err
        bad.unlink()


def test_a_merit_table_with_a_latin1_byte_is_a_format_error(merit, tmp_path, capsys):
    table = merit / "frequencies.csv"
    lines = table.read_bytes().split(b"\n")
    lines[3] = lines[3] + b" \xb0"  # a Latin-1 degree sign
    table.write_bytes(b"\n".join(lines))
    code, err = _convert(capsys, merit / "B0_P3_p000.csv", tmp_path / "x.nc")
    assert code == 2
    assert "frequencies.csv: line 4" in err and "0xb0" in err


def test_a_merit_scan_without_its_companions_names_them_all(tmp_path, capsys):
    # the message used to be "input file not found: frequencies.csv" only, so users fixed one
    # file at a time; it names every file that must sit next to the scan, and what is missing
    scan = tmp_path / "scan.csv"
    scan.write_text("1+2i,3-1i,0.5i\n2,1i,-1\n")
    (tmp_path / "channel_names.csv").write_text("1,2\n1,3\n2,3\n")
    code, err = _convert(capsys, scan, tmp_path / "x.nc")
    assert code == 2
    assert "frequencies.csv, channel_names.csv, antenna_locations.csv" in err, err
    assert "missing: frequencies.csv, antenna_locations.csv" in err, err
    assert not (tmp_path / "x.nc").exists()
    # with the companions written the same scan converts
    (tmp_path / "frequencies.csv").write_text("1e9\n2e9\n")
    (tmp_path / "antenna_locations.csv").write_text("0.07,0,0\n0,0.07,0\n-0.07,0,0\n")
    assert _convert(capsys, scan, tmp_path / "x.nc")[0] == 0


# -- item 5: MATLAB v7.3 (HDF5) files ---------------------------------------------------------


def _v73(path: Path, **datasets) -> Path:
    """A MATLAB v7.3 file: a 512-byte MATLAB header as HDF5 user block, then HDF5."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, (data, kw) in datasets.items():
            f.create_dataset(name, data=np.asarray(data).T, **kw)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 00:00:00 2026 HDF5"
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    return path


def test_truncated_or_damaged_v73_mat_files_are_format_errors(tmp_path, capsys):
    rng = np.random.default_rng(0)
    s = rng.normal(size=(40, 72)) + 1j * rng.normal(size=(40, 72))
    comp = np.zeros(s.shape, dtype=[("real", "<f8"), ("imag", "<f8")])
    comp["real"], comp["imag"] = s.real, s.imag
    whole = _v73(tmp_path / "scan.mat", fd_data=(comp, {"chunks": True, "compression": "gzip"}))
    raw = whole.read_bytes()
    cut = tmp_path / "cut.mat"
    cut.write_bytes(raw[: len(raw) // 2])
    code, err = _convert(capsys, cut, tmp_path / "cut.nc")
    assert code == 2 and "cut.mat" in err, err
    # damaged compressed chunks: the file opens, reading the data fails inside h5py
    with h5py.File(whole, "r") as f:
        offset = f["fd_data"].id.get_chunk_info(0).byte_offset
    data = bytearray(raw)
    data[offset + 20 : offset + 60] = b"\x00" * 40
    bad = tmp_path / "bad.mat"
    bad.write_bytes(bytes(data))
    code, err = _convert(capsys, bad, tmp_path / "bad.nc")
    assert code == 2 and "bad.mat" in err and "corrupt" in err, err


# -- item 6: inputs that are not regular files --------------------------------------------------


@pytest.mark.timeout(120)  # a reader that opened the FIFO would block forever
def test_folders_loops_fifos_and_devices_are_refused(tmp_path, capsys):
    (tmp_path / "scan.csv").mkdir()
    (tmp_path / "a.s2p").symlink_to(tmp_path / "b.s2p")
    (tmp_path / "b.s2p").symlink_to(tmp_path / "a.s2p")
    os.mkfifo(tmp_path / "pipe.npz")
    cases = {
        "scan.csv": "is a folder",
        "a.s2p": "symbolic link loop",
        "pipe.npz": "FIFO",
        "/dev/zero": "is a device",
    }
    for name, text in cases.items():
        code, err = _convert(capsys, tmp_path / name, tmp_path / "x.nc")
        assert code == 2 and text in err, (name, err)
    assert not (tmp_path / "x.nc").exists()
