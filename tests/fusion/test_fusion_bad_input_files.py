"""Damaged and special input files for ``brim fusion`` (issue 19, items 3, 6 and 7).

Each case runs the real CLI and expects exit status 2 with a one-line message; before the fixes
these were IsADirectoryError/OSError tracebacks (folders and symlink loops), a
DecompressionBombError traceback (a PNG declaring > 178 million pixels) and unnamed lines.
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import brim
from brim.cli import main
from brim.data import sample_path
from brim.fusion.extinction import DEFAULT_EXTINCTION
from brim.fusion.measurement import write_measurement_csv


def _run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip()


def _specials(tmp_path: Path) -> dict[str, str]:
    """Paths that are not regular files, with the words their refusal must contain."""
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "loop_a.csv").symlink_to(tmp_path / "loop_b.csv")
    (tmp_path / "loop_b.csv").symlink_to(tmp_path / "loop_a.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    return {
        str(tmp_path / "folder.csv"): "is a folder",
        str(tmp_path / "loop_a.csv"): "symbolic link loop",
        str(tmp_path / "pipe.csv"): "FIFO",
        "/dev/zero": "is a device",
    }


@pytest.mark.timeout(180)  # a reader that opened the FIFO or /dev/zero would never return
def test_background_and_extinction_refuse_folders_loops_fifos_devices(tmp_path, capsys):
    recon = sample_path("fusion_measurement")  # the extinction table is read before the map
    for path, text in _specials(tmp_path).items():
        code, err = _run(capsys, "fusion", "background", path, "-o", tmp_path / "bg.nc")
        assert code == 2 and text in err, (path, err)
        code, err = _run(
            capsys, "fusion", "hemoglobin", recon, "--extinction", path, "-o", tmp_path / "hb.nc"
        )
        assert code == 2 and text in err, (path, err)
        assert "\n" not in err
    assert not (tmp_path / "bg.nc").exists() and not (tmp_path / "hb.nc").exists()


def test_csv_inputs_with_a_non_utf8_byte_name_the_line(tmp_path, capsys):
    meas = tmp_path / "meas.csv"
    write_measurement_csv(brim.data.sample("fusion_measurement"), meas)
    lines = meas.read_bytes().split(b"\n")
    lines[5] = lines[5][:3] + b"\xe9" + lines[5][4:]  # a Latin-1 byte inside a number
    meas.write_bytes(b"\n".join(lines))
    code, err = _run(capsys, "fusion", "background", meas, "-o", tmp_path / "bg.nc")
    assert code == 2
    assert "meas.csv: line 6, column 4: byte 0xe9 is not valid UTF-8" in err

    ext = tmp_path / "prahl.csv"
    lines = DEFAULT_EXTINCTION.read_bytes().split(b"\n")
    k = next(i for i, ln in enumerate(lines) if ln[:1].isdigit())
    lines[k] = b"\xff" + lines[k]
    ext.write_bytes(b"\n".join(lines))
    recon = sample_path("fusion_measurement")
    code, err = _run(
        capsys, "fusion", "hemoglobin", recon, "--extinction", ext, "-o", tmp_path / "x.nc"
    )
    assert code == 2 and f"prahl.csv: line {k + 1}, column 1: byte 0xff" in err


# -- item 7: images whose header declares a huge size -----------------------------------------


def _declared_png(path: Path, width: int, height: int) -> Path:
    """A valid 64 x 64 grey PNG whose IHDR then claims ``width x height`` (CRC fixed)."""
    Image.fromarray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)).save(path)
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "width,height",
    [(20_000, 10_000), (10_000, 10_000)],  # 200 MP: PIL's error; 100 MP: only a PIL warning
    ids=["200MP", "100MP"],
)
def test_segment_us_and_thermo_refuse_a_png_declaring_a_huge_image(tmp_path, capsys, width, height):
    png = _declared_png(tmp_path / "scan.png", width, height)
    t0 = time.perf_counter()
    code, err = _run(capsys, "fusion", "segment-us", png, "-o", tmp_path / "mask.nc")
    assert code == 2 and err.startswith("brim: error: scan.png: the image"), err
    assert "too large" in err or "million" in err
    fusion_err = err
    code, err = _run(capsys, "thermo", "convert", png, "-o", tmp_path / "t.nc")
    assert code == 2 and err == fusion_err  # one shared reader: the same message
    assert time.perf_counter() - t0 < 30  # refused from the header, nothing decoded
    assert not (tmp_path / "mask.nc").exists() and not (tmp_path / "t.nc").exists()
