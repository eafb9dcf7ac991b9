"""Outputs never collide, never replace an input, and output-side errors are one brim line.

Every case runs the real command line (``brim.cli.main``) and then checks that nothing was
written: no output file, no output folder, inputs byte for byte unchanged. Issue 19 items 12
(data loss) and 13 (output-side tracebacks).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import brim
from brim.cli import main, output_file, output_folder, output_paths


def _tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes (folders as empty markers)."""
    out = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() else b"<dir>"
    return out


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("brim: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def _pair(tmp_path: Path, name: str, payload: bytes = b"never read") -> list[str]:
    """Two inputs with the same file name in two folders."""
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir(exist_ok=True)
        p = tmp_path / folder / name
        p.write_bytes(payload + folder.encode())
        paths.append(str(p))
    return paths


# --- collisions: two inputs, one output name -----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["thermo", "convert"], ["T0001.txt", "T0001.txt"]),
        (["thermo", "segment"], ["T0001.nc", "T0001.nc"]),
        (["microwave", "convert"], ["scan.npz", "scan.s2p"]),
        (["fusion", "segment-us"], ["x.png", "x.png"]),
        (["elasto", "convert"], ["rf.npy", "rf.npy"]),
        (["batch", "validate"], ["T0001.nc", "T0001.nc"]),
    ],
)
def test_colliding_outputs_are_refused_before_writing(tmp_path, capsys, argv, names):
    if names[0] == names[1]:
        inputs = _pair(tmp_path, names[0])
    else:  # same stem, different formats, same folder
        inputs = []
        for n in names:
            (tmp_path / n).write_bytes(b"never read")
            inputs.append(str(tmp_path / n))
    before = _tree(tmp_path)
    out = tmp_path / "out"
    assert main([*argv, *inputs, "-o", str(out)]) == 2
    _one_error_line(capsys, "outputs collide", Path(inputs[0]).name)
    assert not out.exists()
    assert _tree(tmp_path) == before


def test_batch_never_replaces_its_input(tmp_path, capsys):
    """``brim batch thermo.segment d/T0001.nc -o d`` used to replace the thermogram by a mask."""
    d = tmp_path / "d"
    d.mkdir()
    src = d / "T0001.nc"
    shutil.copy(brim.data.sample_path("thermo_phantom_tumour"), src)
    before = _tree(tmp_path)
    assert main(["batch", "thermo.segment", str(src), "-o", str(d), "--no-progress"]) == 2
    _one_error_line(capsys, "would overwrite the input", "T0001.nc")
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["thermo", "convert", "{x}", "-o", "{x}"],
        ["thermo", "segment", "{x}", "-o", "{d}/../{d_name}/x.nc"],
        ["microwave", "calibrate", "{x}", "--average", "-o", "{x}"],
        ["elasto", "strain", "{x}", "-o", "{x}"],
        ["fusion", "hemoglobin", "{x}", "-o", "{x}"],
        ["thermo", "features", "{x}", "-o", "{x}"],
    ],
)
def test_an_output_that_is_an_input_is_refused(tmp_path, capsys, argv):
    d = tmp_path / "data"
    d.mkdir()
    x = d / "x.nc"
    x.write_bytes(b"precious input")
    argv = [a.format(x=x, d=d, d_name=d.name) for a in argv]
    assert main(argv) == 2
    _one_error_line(capsys, "would overwrite the input")
    assert x.read_bytes() == b"precious input" and sorted(os.listdir(d)) == ["x.nc"]


def test_a_hard_link_to_an_input_is_the_input(tmp_path):
    x = tmp_path / "x.nc"
    x.write_bytes(b"input")
    os.link(x, tmp_path / "alias.nc")
    with pytest.raises(brim.ConfigError, match="overwrite the input"):
        output_file(tmp_path / "alias.nc", inputs=[x])


# --- the one rule ---------------------------------------------------------------------------


def test_one_rule_for_one_and_several_inputs(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    # one input: -o is the file (suffix added when missing), created folders included
    assert output_paths([a], tmp_path / "new" / "one") == [tmp_path / "new" / "one.nc"]
    assert (tmp_path / "new").is_dir() and not (tmp_path / "new" / "one.nc").exists()
    assert output_paths([a], tmp_path / "t.h5") == [tmp_path / "t.h5"]
    # ... or, when -o is an existing folder or ends with '/', the file inside it
    assert output_paths([a], tmp_path, tag="_seg") == [tmp_path / "a_seg.nc"]
    assert output_paths([a], f"{tmp_path}/fresh/") == [tmp_path / "fresh" / "a.nc"]
    # several inputs: -o is a folder (created)
    assert output_paths([a, b], tmp_path / "many") == [
        tmp_path / "many" / n for n in ("a.nc", "b.nc")
    ]
    assert (tmp_path / "many").is_dir()
    # a file where a folder is needed
    (tmp_path / "f.nc").write_bytes(b"")
    with pytest.raises(brim.ConfigError, match="is a file; with 2 inputs it must be a folder"):
        output_paths([a, b], tmp_path / "f.nc")
    # brim batch: always a folder, and no output may take the report's name
    with pytest.raises(brim.ConfigError, match="report file"):
        output_paths([tmp_path / "rep.txt"], tmp_path / "o", folder=True, reserved=["rep.nc"])


def test_output_paths_in_every_group_use_the_shared_helper(tmp_path, capsys):
    """Two real thermograms through ``thermo convert``: one input -> file, two -> folder."""
    t = brim.data.sample_path("thermo_phantom_tumour")
    h = brim.data.sample_path("thermo_phantom_healthy")
    assert main(["thermo", "convert", str(t), "-o", str(tmp_path / "one"), "--no-progress"]) == 0
    assert brim.open(tmp_path / "one.nc")["temperature"].attrs["units"] == "degC"
    assert main(["thermo", "convert", str(t), str(h), "-o", str(tmp_path / "two")]) == 0
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "thermo_phantom_healthy.nc",
        "thermo_phantom_tumour.nc",
    ]
    capsys.readouterr()


# --- output-side errors ---------------------------------------------------------------------


def _blocked(tmp_path: Path) -> Path:
    """A regular file: nothing can be created below it, even by root."""
    f = tmp_path / "file.txt"
    f.write_text("a regular file")
    return f


@pytest.mark.parametrize(
    "argv",
    [
        ["thermo", "convert", "{a}", "{b}", "-o", "{blocked}/sub"],
        ["thermo", "features", "{a}", "-o", "{blocked}/sub/f.csv"],
        ["thermo", "simulate", "-o", "{blocked}/cohort"],
        ["microwave", "calibrate", "{a}", "--average", "-o", "{blocked}/cal.nc"],
        ["elasto", "simulate", "-o", "{blocked}/sim"],
        ["fusion", "simulate", "-o", "{blocked}/sim"],
        ["fusion", "background", "{a}", "-o", "{blocked}/bg.nc"],
        ["demo", "-o", "{blocked}/demo", "--only", "thermo"],
        ["batch", "validate", "{a}", "-o", "{blocked}/out"],
    ],
)
def test_an_uncreatable_output_folder_is_one_brim_line(tmp_path, capsys, argv):
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    a.write_bytes(b"never read"), b.write_bytes(b"never read")
    blocked = _blocked(tmp_path)
    before = _tree(tmp_path)
    argv = [x.format(a=a, b=b, blocked=blocked) for x in argv]
    assert main(argv) == 2
    _one_error_line(capsys, "cannot create the output folder", "is a file, not a folder")
    assert _tree(tmp_path) == before


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into a 0o500 folder anyway (the regular-file case covers root)",
)
def test_a_read_only_output_folder_is_one_brim_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        a = tmp_path / "a.nc"
        a.write_bytes(b"never read")
        assert main(["thermo", "convert", str(a), str(a), "-o", str(ro / "out")]) == 2
        _one_error_line(capsys, "permission denied")
        assert main(["batch", "validate", str(a), "-o", str(ro)]) == 2
        _one_error_line(capsys, "permission denied")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize(
    "argv",
    [
        ["microwave", "calibrate", "{a}", "--average", "-o", "{dir}"],
        ["fusion", "background", "{a}", "-o", "{dir}"],
        ["elasto", "strain", "{a}", "-o", "{dir}"],
        ["thermo", "features", "{a}", "-o", "{dir}"],
        ["microwave", "simulate", "breast", "-o", "{dir}/"],
    ],
)
def test_an_output_file_that_is_a_folder_is_one_brim_line(tmp_path, capsys, argv):
    a = tmp_path / "a.nc"
    a.write_bytes(b"never read")
    folder = tmp_path / "existing"
    folder.mkdir()
    argv = [x.format(a=a, dir=folder) for x in argv]
    assert main(argv) == 2
    _one_error_line(capsys, "is a folder; this command writes one file")
    assert list(folder.iterdir()) == []


def test_a_folder_output_that_is_a_file_is_one_brim_line(tmp_path, capsys):
    f = tmp_path / "cohort"
    f.write_text("a file")
    assert main(["thermo", "simulate", "-o", str(f)]) == 2
    _one_error_line(capsys, "is a file; this command writes a folder")
    with pytest.raises(brim.ConfigError):
        output_folder(f)


def test_batch_survives_a_report_it_cannot_write(tmp_path, capsys):
    """The outputs are kept and the summary printed when the report cannot be written."""
    src = tmp_path / "T0001.nc"
    shutil.copy(brim.data.sample_path("thermo_phantom_tumour"), src)
    out = tmp_path / "out"
    (out / "brim_batch_report.json").mkdir(parents=True)  # a folder where the report goes
    argv = ["batch", "validate", str(src), "-o", str(out), "--scheduler", "threads"]
    assert main([*argv, "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "1 of 1 files processed" in captured.out
    assert "report: not written" in captured.err and "Traceback" not in captured.err
    assert brim.open(out / "T0001.nc").attrs["brim_schema"].startswith("thermogram")


@pytest.mark.parametrize(
    "argv",
    [
        ["thermo", "convert", "{dmr}", "-o", "{out}/"],
        ["thermo", "features", "{dmr}", "-o", "{out}/features.csv"],
        ["fusion", "segment-us", "{junk}.png", "-o", "{out}/"],
        ["fusion", "convert", "{junk}.mat", "-o", "{out}/"],
    ],
    ids=["thermo-convert", "thermo-features", "fusion-segment-us", "fusion-convert"],
)
def test_a_failed_run_leaves_no_empty_output_folder(tmp_path, capsys, argv):
    import numpy as np

    dmr = tmp_path / "T9999.txt"  # refused: 35 degC written in degF
    np.savetxt(dmr, np.full((480, 640), 95.0), fmt="%.2f")
    for suffix in (".png", ".mat"):
        (tmp_path / f"junk{suffix}").write_text("not a picture, not MATLAB")
    out = tmp_path / "new" / "out"
    fill = {"dmr": dmr, "junk": tmp_path / "junk", "out": out}
    assert main([a.format(**fill) for a in argv]) == 2
    assert capsys.readouterr().err.startswith("brim: error:")
    assert not out.exists() and not out.parent.exists()
    keep = tmp_path / "existing"  # a folder the user made stays, empty
    keep.mkdir()
    assert main([a.format(**{**fill, "out": keep}) for a in argv]) == 2
    assert keep.is_dir() and not any(keep.iterdir())
