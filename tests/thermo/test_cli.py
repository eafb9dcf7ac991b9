"""The `brim thermo` CLI contract: convert, segment, features, train, predict, simulate."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import brim
from brim.cli import main


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert main(["thermo", "simulate", "-o", str(out), "--n", "4", "--seed", "3"]) == 0
    return out


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_simulate_writes_labelled_cohort(cohort):
    files = sorted(cohort.glob("*.nc"))
    assert len(files) == 4
    labels = _rows(cohort / "labels.csv")
    assert [r["Diagnosis"] for r in labels].count("Sick") == 2
    ds = brim.open(files[0])
    assert ds["temperature"].attrs["units"] == "degC"


def test_train_predict_features_and_cnn(cohort, tmp_path, capsys):
    runs = (
        ("features", "features", []),
        ("cnn", "cnn", ["--epochs", "1"]),
        ("cnn_difference", "cnn", ["--epochs", "1", "--cnn-input", "difference"]),
    )
    for name, method, extra in runs:
        mdir = tmp_path / name
        rc = main(
            [
                "thermo",
                "train",
                str(cohort),
                "--labels",
                str(cohort / "labels.csv"),
                "-o",
                str(mdir),
                "--method",
                method,
                "--no-progress",
                *extra,
            ]
        )
        assert rc == 0 and (mdir / "model.json").is_file()
        if method == "features":  # the default features are the period-robust relative ones
            import json

            saved = json.loads((mdir / "model.json").read_text())
            assert saved["feature_set"] == "relative"
            assert saved["names"] and all(n.startswith("rel_") for n in saved["names"])
            assert "within periods" in capsys.readouterr().out
        if name == "cnn_difference":
            import json

            assert json.loads((mdir / "model.json").read_text())["input"] == "difference"
        scores = tmp_path / f"{name}.csv"
        files = [str(f) for f in sorted(cohort.glob("*.nc"))[:2]]
        assert main(["thermo", "predict", str(mdir), *files, "-o", str(scores)]) == 0
        rows = _rows(scores)
        assert list(rows[0]) == ["file", "patient", "score"]
        assert [r["file"] for r in rows] == ["SIM0001.nc", "SIM0002.nc"]
        assert [r["patient"] for r in rows] == ["1", "2"]
        assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)


def test_features_and_segment(cohort, tmp_path):
    f = str(sorted(cohort.glob("*.nc"))[0])
    out = tmp_path / "feat.csv"
    assert main(["thermo", "features", f, "-o", str(out), "--no-progress"]) == 0
    rows = _rows(out)
    assert rows[0]["file"] == "SIM0001.nc" and abs(float(rows[0]["delta_mean"])) < 2
    units = {r["feature"]: r["units"] for r in _rows(tmp_path / "feat.units.csv")}
    assert units["delta_mean"] == "K" and units["mean_left"] == "degC"
    # one input: -o is the output file (".nc" added); an existing folder gets <stem>_seg.nc
    assert main(["thermo", "segment", f, "-o", str(tmp_path / "seg"), "--no-progress"]) == 0
    seg = brim.open(tmp_path / "seg.nc")
    assert main(["thermo", "segment", f, "-o", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "SIM0001_seg.nc").is_file()
    assert set(np.unique(seg["mask"].values)) <= {0, 1, 2, 3}


def test_convert_raw_files(external_data, tmp_path):
    flir = external_data / "thermo" / "flir" / "ax8.jpg"
    dmr = external_data / "thermo" / "dmr_ir_dev" / "T0312.txt"
    overrides = ["--emissivity", "0.98", "--reflected-temp", "22", "--humidity", "0.4"]
    options = ["-o", str(tmp_path), *overrides, "--distance", "0.8", "--no-progress"]
    # FLIR overrides do not apply to a DMR matrix already in degC: a clear error, exit 2
    assert main(["thermo", "convert", str(flir), str(dmr), *options]) == 2
    assert main(["thermo", "convert", str(flir), *options]) == 0
    ds = brim.open(tmp_path / "ax8.nc")
    assert ds.attrs["flir_emissivity"] == pytest.approx(0.98)
    assert ds.attrs["flir_reflected_temperature"] == pytest.approx(22.0)
    assert ds.attrs["flir_object_distance"] == pytest.approx(0.8)
    assert main(["thermo", "convert", str(dmr), "-o", str(tmp_path), "--no-progress"]) == 0
    d2 = brim.open(tmp_path / "T0312.nc")
    assert d2.attrs["dmr_text_format"] == "semicolon" and d2.attrs["patient"] == 312


def test_bad_input_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xd9")
    assert main(["thermo", "convert", str(bad), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and "radiometric" in err
    assert not list((tmp_path / "o").glob("*.nc"))
    assert main(["thermo", "convert", str(tmp_path / "missing.txt"), "-o", str(tmp_path)]) == 2
    assert main(["thermo", "segment", str(bad), "-o", str(tmp_path), "--method", "unet"]) == 2
    assert main(["thermo", "simulate", "-o", str(tmp_path / "s"), "--n", "0"]) == 2


def test_flir_settings_on_converted_files_are_an_error(cohort, tmp_path, capsys):
    """--emissivity on a brim .nc used to be ignored silently (any value, 1.5 or nan, passed)."""
    nc = sorted(cohort.glob("*.nc"))[0]
    argv = ["thermo", "convert", str(nc), "-o", str(tmp_path / "out"), "--emissivity", "0.95"]
    assert main(argv) == 2
    assert "do not apply to a brim file" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.nc"))


def _train(data, labels, out, *extra):
    return main(["thermo", "train", str(data), "--labels", str(labels), "-o", str(out), *extra])


def test_train_checks_every_input_before_creating_the_model_folder(cohort, tmp_path, capsys):
    # a labels file without the ID,Diagnosis columns used to leave an empty model folder
    bad = tmp_path / "labels.csv"
    bad.write_text("name,result\n1,Sick\n")
    assert _train(cohort, bad, tmp_path / "m1", "--no-progress") == 2
    assert "ID,Diagnosis" in capsys.readouterr().err
    assert not (tmp_path / "m1").exists()
    # no labelled thermogram in DATA_DIR: refused, and no empty folder left behind either
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _train(empty, cohort / "labels.csv", tmp_path / "m2", "--no-progress") == 2
    assert "no labelled thermogram" in capsys.readouterr().err
    assert not (tmp_path / "m2").exists()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--epochs", "0", "--epochs must be a positive integer"),
        ("--epochs", "-3", "--epochs must be a positive integer"),
        ("--seed", "-1", "--seed must be a whole number >= 0"),
    ],
)
def test_train_refuses_bad_numbers_before_reading_thermograms(
    option, value, says, tmp_path, capsys
):
    # --epochs 0 used to load every thermogram, then say "TrainConfig needs epochs >= 1"; an
    # empty DATA_DIR shows the order: the flag is refused before any thermogram is looked for
    data = tmp_path / "data"
    data.mkdir()
    labels = data / "labels.csv"
    labels.write_text("ID,Diagnosis\n1,Sick\n2,Healthy\n")
    code = _train(data, labels, tmp_path / "m", "--method", "cnn", option, value)
    err = capsys.readouterr().err
    assert code == 2
    assert says in err, err
    assert not (tmp_path / "m").exists()


def test_dmr_of_another_size_error_gives_command_line_advice(tmp_path, capsys):
    # the reader's refusal used to say only "pass shape=None", which no command accepts
    small = tmp_path / "PAC_7_ST.txt"
    rows = 34.0 + np.arange(12 * 16).reshape(12, 16) / 100
    np.savetxt(small, rows, fmt="%.2f")
    out = tmp_path / "PAC_7_ST.nc"
    assert main(["thermo", "convert", str(small), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "12 x 16" in err and "--any-shape" in err, err
    # the advice works: the matrix is read as it is
    args = ["thermo", "convert", str(small), "--any-shape", "-o", str(out), "--no-progress"]
    assert main(args) == 0
    ds = brim.open(out)
    assert ds["temperature"].shape == (12, 16)
    np.testing.assert_allclose(ds["temperature"].values, rows, atol=1e-9)
