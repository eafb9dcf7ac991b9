"""Bad input at the I/O layer (issue 19): file names, attributes, temporaries, NumPy headers.

Each test reproduces one reported defect through the real entry point (the ``brim`` CLI or
``brim.save``/``brim.open``) and fails on the code before the fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import brim
from brim.cli import main
from brim.errors import ConfigError, FormatError, MissingFileError

TEMP_MARK = ".brim-tmp-"


def _thermogram(tmp_path: Path, name: str, **attrs) -> Path:
    ds = brim.data.sample("thermo_phantom_tumour")
    ds.attrs.update(attrs)
    return brim.save(ds, tmp_path / name)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if TEMP_MARK in p.name]


# -- item 1: long stems --------------------------------------------------------------------------


def test_convert_of_an_input_with_a_250_character_stem_succeeds(tmp_path, capsys):
    # 250 + ".nc" = 253 bytes: legal, but the old temporary ".<name>.<8 random>.tmp" was 267.
    stem = "s" * 250
    src = _thermogram(tmp_path, f"{stem}.nc")
    out = tmp_path / "out"
    out.mkdir()  # an existing folder: the output keeps the input's stem
    assert main(["thermo", "convert", str(src), "-o", str(out)]) == 0
    written = out / f"{stem}.nc"
    assert written.is_file()
    assert float(brim.open(written)["temperature"].max()) > 30
    assert _temporaries(out) == []
    assert capsys.readouterr().out.strip() == str(written)


def test_temporary_names_fit_name_max_and_name_brim(tmp_path):
    from brim.io import _create_temporary

    for stem in ("a" * 252, "é" * 126, "x"):
        tmp = Path(_create_temporary(tmp_path, tmp_path / f"{stem}.nc"))
        assert len(os.fsencode(tmp.name)) <= 255
        assert tmp.name.startswith("." + stem[:4]) and TEMP_MARK in tmp.name
        assert f"-{os.getpid()}-" in tmp.name and tmp.suffix == ".nc"
        tmp.unlink()


def test_an_output_name_longer_than_name_max_is_a_config_error(tmp_path):
    ds = brim.data.sample("thermo_phantom_tumour")
    with pytest.raises(ConfigError, match="256 bytes"):
        brim.save(ds, tmp_path / ("n" * 253 + ".nc"))
    assert list(tmp_path.iterdir()) == []


# -- item 2: file names that are not UTF-8 -------------------------------------------------------


def _undecodable(tmp_path: Path, raw: bytes) -> str:
    name = os.fsdecode(raw)
    try:
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).unlink()
    except (OSError, UnicodeEncodeError):  # pragma: no cover - e.g. a UTF-8-only file system
        pytest.skip("this file system refuses non-UTF-8 file names")
    return name


def _dmr_text(path: Path) -> Path:
    """A DMR-IR text matrix (480 x 640, space-separated, 2 decimals) of the phantom sample."""
    t = brim.data.sample("thermo_phantom_tumour")["temperature"].values
    rows = np.linspace(0, t.shape[0] - 1, 480).round().astype(int)
    cols = np.linspace(0, t.shape[1] - 1, 640).round().astype(int)
    np.savetxt(path, t[rows][:, cols], fmt="%.2f")
    return path


def test_convert_of_a_non_utf8_file_name_records_the_name_escaped(tmp_path):
    name = _undecodable(tmp_path, b"T\xff\xfe.txt")
    src = _dmr_text(tmp_path / name)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["thermo", "convert", str(src), "-o", str(out)]) == 0
    (written,) = out.iterdir()
    assert os.fsencode(written.name) == b"T\xff\xfe.nc"  # the output keeps the real bytes
    ds = brim.open(written)
    assert ds.attrs["source_file"] == "T\\xff\\xfe.txt"
    step = json.loads(ds.attrs["brim_provenance"])[-1]
    assert step["step"].endswith("read_dmr")
    assert step["inputs"][0]["path"] == "T\\xff\\xfe.txt"


def test_an_undecodable_name_in_any_attribute_or_label_is_saved_escaped(tmp_path):
    name = os.fsdecode(b"scan_\xe9.csv")  # Latin-1 'e acute': a lone surrogate in Python
    ds = xr.Dataset(
        {"v": (("f",), [1.0, 2.0], {"source_file": name})},
        coords={"f": [name, "b"]},
        attrs={"source_file": name, "files": [name, "x"]},
    )
    back = brim.open(brim.save(ds, tmp_path / "d.nc"))
    assert back.attrs["source_file"] == "scan_\\xe9.csv"
    assert back["v"].attrs["source_file"] == "scan_\\xe9.csv"
    assert list(back["f"].values) == ["scan_\\xe9.csv", "b"]
    assert json.loads(back.attrs["files"]) == ["scan_\\xe9.csv", "x"]


# -- item 4: a NetCDF attribute that is not valid UTF-8 ------------------------------------------


def _flip_in_attribute(path: Path, marker: bytes) -> None:
    data = bytearray(path.read_bytes())
    assert data.count(marker) == 1, "the marker must be stored once, uncompressed"
    data[data.index(marker) + 3] = 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("group", ["thermo", "microwave"])
def test_convert_of_a_file_with_an_invalid_utf8_attribute_warns_and_keeps_the_bytes(
    tmp_path, group
):
    sample = "thermo_phantom_tumour" if group == "thermo" else "microwave_radar_scan"
    ds = brim.data.sample(sample)
    ds.attrs["comment"] = "marker-QWERTYUIOP"
    src = brim.save(ds, tmp_path / "in.nc")
    _flip_in_attribute(src, b"marker-QWERTYUIOP")
    out = tmp_path / "out.nc"
    with pytest.warns(UserWarning, match="comment .*not valid UTF-8"):
        assert main([group, "convert", str(src), "-o", str(out)]) == 0
    assert brim.open(out).attrs["comment"] == "mar\\xffer-QWERTYUIOP"


def test_a_damaged_schema_attribute_is_still_refused(tmp_path):
    ds = brim.data.sample("thermo_phantom_tumour")
    src = brim.save(ds, tmp_path / "in.nc")
    data = bytearray(src.read_bytes())
    i = data.index(b"thermogram/")
    data[i + 2] = 0xFF
    src.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="brim_schema"):
        assert main(["thermo", "convert", str(src), "-o", str(tmp_path / "out.nc")]) == 2


# -- item 15: temporaries of killed saves --------------------------------------------------------

_WRITER = """
import sys, numpy as np, xarray as xr, brim
ds = xr.Dataset({"v": (("a", "b"), np.random.default_rng(0).random((6000, 4000)))})
print("ready", flush=True)
while True:
    brim.save(ds, sys.argv[1])
"""


def _kill_during_save(folder: Path) -> Path:
    """Start a process that saves a 190 MB Dataset into ``folder``; SIGKILL it mid-save."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(folder / "big.nc")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 300
        while True:
            tmp = _temporaries(folder)
            try:
                if tmp and tmp[0].stat().st_size > 1 << 20:
                    break
            except FileNotFoundError:  # that save finished meanwhile; the next one starts
                pass
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the writer never started a save"
            time.sleep(0.002)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    (left,) = _temporaries(folder)
    assert f"-{proc.pid}-" in left.name and left.name.startswith(".big.brim-tmp-")
    return left


def test_the_next_save_removes_the_temporary_of_a_killed_save(tmp_path):
    from brim import io

    left = _kill_during_save(tmp_path)
    # Files that must survive: another live process's save (this one's PID), a look-alike name
    # that brim never makes, and a symbolic link that matches the pattern.
    live = Path(io._create_temporary(tmp_path, tmp_path / "other.nc"))
    lookalike = tmp_path / ".notes.brim-tmp-keep.nc"
    lookalike.write_text("user data")
    link = tmp_path / left.name.replace("big", "link")
    link.symlink_to(lookalike)
    io._scanned.clear()  # this test process may have saved into tmp_path's parent before
    (tmp_path / "in").mkdir()
    src = _thermogram(tmp_path / "in", "t.nc")
    assert main(["thermo", "convert", str(src), "-o", str(tmp_path / "t_out.nc")]) == 0
    assert not left.exists(), "the killed save's temporary is still there"
    assert live.exists() and lookalike.read_text() == "user data" and link.is_symlink()
    live.unlink()


def test_old_temporaries_of_other_machines_are_removed_young_ones_kept(tmp_path):
    from brim import io

    old = tmp_path / f".scan{TEMP_MARK}0123abcd-{os.getpid()}-00ff00ff.nc"
    young = tmp_path / f".scan{TEMP_MARK}0123abcd-1-0a0b0c0d.nc"
    for p in (old, young):
        p.write_bytes(b"\x89HDF partial")
    stale = time.time() - io.STALE_TEMP_AGE_S - 60
    os.utime(old, (stale, stale))
    removed = io.remove_stale_temporaries(tmp_path, force=True)
    assert removed == [old] and young.exists()


# -- item 6: the shared input check ---------------------------------------------------------------


def test_check_input_file_refuses_what_is_not_a_regular_file(tmp_path):
    from brim.io import check_input_file

    (tmp_path / "dir").mkdir()
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    (tmp_path / "dangling").symlink_to(tmp_path / "nothing")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "ok.txt").write_text("1")
    assert check_input_file(tmp_path / "ok.txt") == tmp_path / "ok.txt"
    cases = {
        "dir": (FormatError, "is a folder"),
        "loop_a": (FormatError, "symbolic link loop"),
        "dangling": (MissingFileError, "does not exist"),
        "missing": (MissingFileError, "not found"),
        "fifo": (FormatError, "FIFO"),
    }
    for name, (exc, text) in cases.items():
        with pytest.raises(exc, match=text):
            check_input_file(tmp_path / name, what="scan")
    with pytest.raises(FormatError, match="extinction table file /dev/zero is a device"):
        check_input_file("/dev/zero", what="extinction table")


# -- item 8: NumPy headers ----------------------------------------------------------------------


def _break_quote(path: Path) -> None:
    """Turn ``'<f8'`` into ``'''f8`` in the header: an unclosed triple quote, same length."""
    raw = path.read_bytes()
    assert raw.count(b"'<f8'") == 1
    path.write_bytes(raw.replace(b"'<f8'", b"'''f8"))


def test_load_numpy_with_a_broken_header_quote_is_a_format_error(tmp_path):
    from brim.io import load_numpy

    bad = tmp_path / "bad.npy"
    np.save(bad, np.arange(6.0))
    _break_quote(bad)
    with pytest.raises(FormatError, match=r"bad\.npy: truncated or corrupt NumPy file"):
        load_numpy(bad)
    # Through the CLI: a microwave scan given as .npz is read with load_numpy.
    scan = tmp_path / "scan.npz"
    np.savez(scan, s=np.ones(3))
    _break_quote(scan)
    assert main(["microwave", "convert", str(scan), "-o", str(tmp_path / "x.nc")]) == 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1"])
def test_read_text_follows_a_byte_order_mark(tmp_path, encoding):
    # Windows editors save CSVs with a UTF-8 mark, Notepad's "Unicode" is UTF-16: every text
    # reader (DMR matrices, MERIT tables, label files) gets the same text back
    from brim.io import read_text

    text = "ID,Diagnosis\n1,Sick\n"
    for name, data in [
        ("utf16le.csv", text.encode("utf-16")),
        ("utf16be.csv", b"\xfe\xff" + text.encode("utf-16-be")),
        ("utf8bom.csv", b"\xef\xbb\xbf" + text.encode()),
    ]:
        (tmp_path / name).write_bytes(data)
        assert read_text(tmp_path / name, encoding=encoding) == text, name


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("map.npy", ["brim.elasto.read_rf", "brim.fusion.read_dot_pat_map"]),
        ("table.csv", ["brim.microwave.read_merit", "brim.fusion.read_measurement"]),
        ("frame.bin", ["the modality's reader"]),
    ],
)
def test_open_of_a_vendor_file_names_the_readers_and_brim_info(tmp_path, name, names):
    """brim.open on a raw file points at the reader of its kind and at ``brim info``."""
    import brim

    p = tmp_path / name
    p.write_bytes(b"\x93NUMPY not really" if name.endswith(".npy") else b"1,2\n3,4\n")
    with pytest.raises(brim.FormatError) as err:
        brim.open(p)
    text = str(err.value)
    assert "not a NetCDF4/HDF5 file" in text and "`brim info FILE`" in text
    assert all(n in text for n in names), text
