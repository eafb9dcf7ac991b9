"""Radar options typed in the wrong unit are one-line errors, never a silent wrong image or number.

``--grid``, ``--target`` are in metres and ``--antenna-delay`` in seconds: millimetres and
picoseconds typed there used to run and give a 70 m image, a 38 m "localisation error" or a 50 s
delay. ``metrics`` on a scan (no image in it) used to print ``{}`` and succeed.
"""

from __future__ import annotations

import json

import pytest

import brim.data
from brim.cli import main


@pytest.fixture(scope="module")
def scan():
    return str(brim.data.sample_path("microwave_radar_scan"))


@pytest.fixture(scope="module")
def image(tmp_path_factory, scan):
    out = tmp_path_factory.mktemp("img") / "image.nc"
    grid = "plane:0.05,0.005,0.035"
    argv = ["microwave", "image", scan, "-o", str(out), "--eps-r", "8", "--grid", grid]
    assert main([*argv, "--no-progress"]) == 0
    return str(out)


def _refused(capsys, argv, *words, out=None):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("brim: error:"), err
    for w in words:
        assert w in err, err
    if out is not None:
        assert not out.exists()


@pytest.mark.parametrize("grid", ["70,2.5", "plane:50,2.5,35"])
def test_grid_in_millimetres_is_refused(tmp_path, capsys, scan, grid):
    out = tmp_path / "i.nc"
    argv = ["microwave", "beamform", scan, "-o", str(out), "--eps-r", "8", "--grid", grid]
    _refused(capsys, argv, "--grid", "metres", out=out)


@pytest.mark.parametrize("delay", ["50", "-1"])
def test_antenna_delay_not_in_seconds_is_refused(tmp_path, capsys, scan, delay):
    out = tmp_path / "c.nc"
    argv = ["microwave", "calibrate", scan, "-o", str(out), "--antenna-delay", delay]
    _refused(capsys, argv, "--antenna-delay", "seconds", out=out)
    out = tmp_path / "p.nc"
    argv = ["microwave", "estimate-propagation", scan, "-o", str(out), "--antenna-delay", delay]
    _refused(capsys, argv, "--antenna-delay", out=out)


def test_antenna_delay_in_seconds_still_runs(tmp_path, capsys, scan):
    out = tmp_path / "c.nc"
    assert main(["microwave", "calibrate", scan, "-o", str(out), "--antenna-delay", "50e-12"]) == 0
    assert out.exists()


def test_target_in_millimetres_is_refused(capsys, image):
    _refused(capsys, ["microwave", "metrics", image, "--target", "15,0,35"], "--target", "metres")
    capsys.readouterr()
    assert main(["microwave", "metrics", image, "--target", "0.015,0,0.035"]) == 0
    err = json.loads(capsys.readouterr().out)["das"]["localisation_error_m"]
    assert 0 <= err < 0.05


def test_metrics_of_a_scan_is_an_error_not_an_empty_result(capsys, scan):
    _refused(capsys, ["microwave", "metrics", scan], "no radar image")


@pytest.mark.parametrize(
    ("extra", "word"), [(["--freq", "1"], "give a unit"), (["--radius", "75"], "millimetres")]
)
def test_simulate_refuses_unitless_values_before_solving(tmp_path, capsys, extra, word):
    # these used to run the whole forward solve, then fail at save with "the file is corrupt"
    out = tmp_path / "f.nc"
    argv = ["microwave", "simulate", "breast", "-o", str(out), "--tx", "4", "--rx", "4", *extra]
    _refused(capsys, argv, word, out=out)
    assert "corrupt" not in capsys.readouterr().err


def test_simulate_help_lists_every_phantom_its_examples_use(capsys):
    assert main(["microwave", "simulate", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "random-healthy:SEED" in text.replace("random- healthy", "random-healthy")


def test_train_and_predict_refuse_a_scan_that_is_not_a_field_set(tmp_path, capsys, scan):
    # a radar scan (sparameter_scan) used to end in a KeyError traceback ('total_field')
    out = tmp_path / "model"
    _refused(capsys, ["microwave", "train", scan, "-o", str(out)], "not a field set", out=out)
    _refused(capsys, ["microwave", "predict", str(tmp_path), scan], "not a field set")


@pytest.mark.parametrize("sample", ["thermo_phantom_tumour", "fusion_ultrasound"])
def test_metrics_of_a_non_radar_map_is_an_error(capsys, sample):
    # a thermogram (temperature on y, x) used to get SCR/SMR and a "localisation error"
    path = str(brim.data.sample_path(sample))
    _refused(capsys, ["microwave", "metrics", path], "no radar image")
