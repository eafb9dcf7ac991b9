"""Damaged and special input files for ``brim elasto`` (issue 19, items 5 and 6).

Each case runs the real CLI and expects exit status 2 with a one-line message; before the fixes
a truncated or damaged MATLAB v7.3 file, a folder named like an HDF5 file and a symlink loop
gave h5py/OSError tracebacks.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

import brim
from brim.cli import main

RAW = ["--fs", "40e6", "--fc", "5e6", "--pitch", "3e-4"]


def _convert(capsys, src, out, *extra) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["elasto", "convert", str(src), "-o", str(out), *extra])
    return code, capsys.readouterr().err.strip()


def _v73(path: Path, name: str, data: np.ndarray, **kw) -> Path:
    """A MATLAB v7.3 file: a 512-byte MATLAB header as HDF5 user block, then HDF5."""
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset(name, data=data.T, **kw)  # MATLAB is column-major
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 00:00:00 2026 HDF5"
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    return path


def _rf() -> np.ndarray:
    """RF-like lines: a 5 MHz pulse train sampled at 40 MHz with speckle amplitudes."""
    rng = np.random.default_rng(3)
    t = np.arange(1024) / 40e6
    return (rng.normal(size=(1, 64)) * np.sin(2 * np.pi * 5e6 * t)[:, None]).astype(np.float64)


def test_truncated_and_damaged_v73_rf_files_are_format_errors(tmp_path, capsys):
    whole = _v73(tmp_path / "rf.mat", "rf", _rf(), chunks=(16, 256), compression="gzip")
    code, err = _convert(capsys, whole, tmp_path / "ok.nc", *RAW)
    assert code == 0, err  # the intact v7.3 file converts
    assert brim.open(tmp_path / "ok.nc")["rf"].shape[-2:] == (1024, 64)
    raw = whole.read_bytes()
    for frac in (0.3, 0.6, 0.95):
        cut = tmp_path / f"cut{frac}.mat"
        cut.write_bytes(raw[: int(len(raw) * frac)])
        code, err = _convert(capsys, cut, tmp_path / "cut.nc", *RAW)
        assert code == 2 and f"cut{frac}.mat" in err, err
    # compressed chunks overwritten: the file opens, h5py fails while reading the data
    with h5py.File(whole, "r") as f:
        offsets = [f["rf"].id.get_chunk_info(i).byte_offset for i in range(4)]
    data = bytearray(raw)
    for off in offsets:
        data[off + 8 : off + 40] = b"\xff" * 32
    bad = tmp_path / "bad.mat"
    bad.write_bytes(bytes(data))
    code, err = _convert(capsys, bad, tmp_path / "bad.nc", *RAW)
    assert code == 2 and "bad.mat" in err and "truncated or corrupt" in err, err
    assert not (tmp_path / "bad.nc").exists() and not (tmp_path / "cut.nc").exists()


@pytest.mark.timeout(120)  # a reader that opened the FIFO would block forever
def test_folders_symlink_loops_and_fifos_are_refused(tmp_path, capsys):
    (tmp_path / "channels.h5").mkdir()
    (tmp_path / "frames.mat").mkdir()
    (tmp_path / "a.h5").symlink_to(tmp_path / "b.h5")
    (tmp_path / "b.h5").symlink_to(tmp_path / "a.h5")
    os.mkfifo(tmp_path / "pipe.mat")
    cases = {
        "channels.h5": "is a folder",
        "frames.mat": "is a folder",
        "a.h5": "symbolic link loop",
        "pipe.mat": "FIFO",
    }
    for name, text in cases.items():
        code, err = _convert(capsys, tmp_path / name, tmp_path / "x.nc", *RAW)
        assert code == 2 and text in err, (name, err)
        assert err.count("\n") == 0
