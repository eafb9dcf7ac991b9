"""Batch runs over many files, and the core CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import brim
from brim.cli import main
from brim.parallel import map_files

sys.path.insert(0, str(Path(__file__).parent))
import factories  # noqa: E402

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def twenty_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(20):
        p = brim.save(factories.thermogram(rng), folder / f"scan_{i:02d}.nc")
        paths.append(p)
    data = paths[7].read_bytes()
    paths[7].write_bytes(data[: len(data) // 3])  # one corrupt (truncated) file
    return paths


def test_map_files_reports_the_bad_file_and_finishes_the_rest(twenty_files, tmp_path):
    report = map_files(
        "validate", twenty_files, tmp_path / "out", scheduler="threads", n_workers=2, progress=False
    )
    assert report.n_ok == 19
    assert [Path(r.input).name for r in report.failed] == ["scan_07.nc"]
    assert "FormatError" in report.failed[0].error
    outputs = sorted(p.name for p in (tmp_path / "out").glob("scan_*.nc"))
    assert len(outputs) == 19 and "scan_07.nc" not in outputs
    saved = json.loads(report.report_path.read_text())
    assert saved["n_ok"] == 19 and len(saved["files"]) == 20
    out = brim.open(tmp_path / "out" / "scan_00.nc")
    assert out.brim.provenance[-2]["step"] == "brim.validate"
    assert out.brim.provenance[-2]["parameters"] == {"path": "scan_00.nc"}
    assert out.brim.provenance[-1]["step"] == "brim.map_files"
    assert len(out.brim.provenance[-2]["inputs"][0]["sha256"]) == 64
    assert out.brim.provenance[-1]["parameters"] == {"pipeline": "validate"}


def test_cli_batch_with_process_cluster(twenty_files, tmp_path, capsys):
    code = main(
        [
            "batch",
            "validate",
            *map(str, twenty_files[:4]),
            "-o",
            str(tmp_path),
            "--workers",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "4 of 4 files processed" in capsys.readouterr().out
    assert len(list(tmp_path.glob("scan_*.nc"))) == 4


def test_cli_batch_nonzero_exit_on_failure(twenty_files, tmp_path, capsys):
    code = main(
        [
            "batch",
            "validate",
            *map(str, twenty_files[6:9]),
            "-o",
            str(tmp_path),
            "--scheduler",
            "threads",
            "--no-progress",
        ]
    )
    assert code == 1
    assert "FAILED" in capsys.readouterr().out


def test_batch_input_errors(tmp_path):
    with pytest.raises(brim.ConfigError, match="unknown pipeline"):
        map_files("no-such-pipeline", [__file__], tmp_path)
    with pytest.raises(brim.MissingFileError):
        map_files("validate", [tmp_path / "missing.nc"], tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x.nc").touch(), (b / "x.nc").touch()
    with pytest.raises(brim.ConfigError, match="outputs collide"):
        map_files("validate", [a / "x.nc", b / "x.nc"], tmp_path / "out")
    # a folder (or "", the current folder) is not an input file; it used to be run and fail
    # deep inside the pipeline
    with pytest.raises(brim.ConfigError, match="not folders"):
        map_files("validate", [a / "x.nc", ""], tmp_path / "out")
    # a negative worker count used to hang the local cluster forever
    for n in (0, -3, 1.5):
        with pytest.raises(brim.ConfigError, match="n_workers"):
            map_files("validate", [a / "x.nc"], tmp_path / "out", n_workers=n)


@pytest.mark.parametrize(
    ("option", "value"), [("--workers", "0"), ("--workers", "-2"), ("--timeout", "-1")]
)
def test_cli_batch_errors_name_the_flag(option, value, tmp_path, capsys):
    # from the command line the message used to name map_files' parameter (n_workers, timeout)
    src = tmp_path / "x.nc"
    src.touch()
    code = main(["batch", "validate", str(src), "-o", str(tmp_path / "out"), option, value])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{option} must be" in err, err
    assert "n_workers" not in err and "error: timeout" not in err
    assert not (tmp_path / "out").exists()


def test_cli_info(tmp_path, capsys):
    ds = brim.record_provenance(
        factories.field_set(np.random.default_rng(1)), "tests", params={"k": 1}
    )
    path = brim.save(ds, tmp_path / "f.nc")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "field_set/1 (valid)" in out
    assert "total_field" in out and "V/m" in out and "tests" in out


def test_cli_bad_input_is_one_line_and_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.nc"
    bad.write_text("not a netcdf file")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("brim: error:")


def test_console_script_and_module_entry():
    out = subprocess.run(
        [sys.executable, "-m", "brim", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"brim {brim.__version__}"


def test_params_file_is_validated(tmp_path):
    from brim.config import load_params

    p = tmp_path / "p.yaml"
    p.write_text("emissivity: 0.98\ndistance: 1.0\n")
    assert load_params(p, allowed={"emissivity", "distance"}) == {
        "emissivity": 0.98,
        "distance": 1.0,
    }
    p.write_text("emisivity: 0.98\n")
    with pytest.raises(brim.ConfigError, match="unknown parameter"):
        load_params(p, allowed={"emissivity"})
    p.write_text("- a\n- b\n")
    with pytest.raises(brim.ConfigError, match="mapping"):
        load_params(p)
