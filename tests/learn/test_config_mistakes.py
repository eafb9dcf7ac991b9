"""`brim learn cv` configurations with the mistakes a researcher makes: each is a ConfigError that
names the key or the file, never a traceback from pandas, xarray or torch deep inside."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("torch")

import brim  # noqa: E402
from brim.errors import ConfigError  # noqa: E402
from brim.learn import TrainConfig  # noqa: E402
from brim.learn.cli import run_cv_config, validate_config  # noqa: E402

N_PATIENTS = 12


def _write_files(folder, make_hot_spots, *, blank_group=None, labels=None):
    """One thermogram file per image and a labels CSV (file, label, patient, camera)."""
    X, y, g = make_hot_spots(n_groups=N_PATIENTS, per_group=2, size=16, amplitude=3.0, seed=4)
    if labels is not None:
        y = labels
    rows = ["file,label,patient,camera"]
    for i in range(len(y)):
        ds = xr.Dataset({"temperature": (("y", "x"), X[i], {"units": "degC"})})
        brim.save(ds, folder / f"scan_{i:02d}.nc")
        patient = "" if i == blank_group else g[i]
        rows.append(f"scan_{i:02d}.nc,{y[i]},{patient},{'A' if y[i] else 'B'}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return X, y, g


def _config(folder, **sections):
    cfg = {
        "data": {"files": "scan_*.nc", "var": "temperature"},
        "labels": {"csv": "labels.csv", "group_column": "patient"},
        "model": {"class": "logistic"},
        "protocol": {"n_splits": 3, "n_bootstrap": 20},
        "output": "out",
        **sections,
    }
    path = folder / "cv.json"
    path.write_text(json.dumps(cfg))
    return path


def test_image_statistics_nuisance_with_the_logistic_model(tmp_path, make_hot_spots):
    # the help's example audits 'median'; with model 'logistic' on per-file data this was an
    # AttributeError ('numpy.ndarray' object has no attribute 'inputs_for_hashing')
    X, _, _ = _write_files(tmp_path, make_hot_spots)
    cfg = _config(tmp_path, audit={"nuisance": ["median"], "permutation": False})
    result, _ = run_cv_config(cfg)
    assert [r["name"] for r in result.audit.rows] == ["median"]
    assert (tmp_path / "out" / "index.html").is_file()


def test_a_patient_id_missing_from_the_csv(tmp_path, make_hot_spots):
    _write_files(tmp_path, make_hot_spots, blank_group=2)
    with pytest.raises(ConfigError, match=r"column 'patient' \(groups\) is empty in 1 row"):
        run_cv_config(_config(tmp_path))


def test_labels_of_one_class(tmp_path, make_hot_spots):
    _write_files(tmp_path, make_hot_spots, labels=np.zeros(2 * N_PATIENTS, int))
    with pytest.raises(ConfigError, match="one class only"):
        run_cv_config(_config(tmp_path))


@pytest.mark.parametrize(
    "train, key",
    [
        ({"epochs": "ten"}, "epochs"),
        ({"lr": "1e-3"}, "lr"),
        ({"batch_size": 8.5}, "batch_size"),
        ({"patience": "five"}, "patience"),
    ],
)
def test_train_values_of_the_wrong_type(train, key):
    with pytest.raises(ConfigError, match=f"TrainConfig {key} must be"):
        TrainConfig(**train)


def test_a_whole_number_written_as_a_float_is_an_int():
    cfg = TrainConfig(epochs=10.0, batch_size=8.0)
    assert cfg.epochs == 10 and isinstance(cfg.epochs, int)
    assert cfg.batch_size == 8 and isinstance(cfg.batch_size, int)


def test_a_stack_without_the_named_coordinates(tmp_path, make_hot_spots):
    X, y, g = make_hot_spots(n_groups=N_PATIENTS, per_group=2, size=16, seed=4)
    xr.Dataset(
        {"img": (("sample", "y", "x"), X)},
        coords={"label": ("sample", y), "patient": ("sample", g)},
    ).to_netcdf(tmp_path / "stack.nc")
    data = {"file": "stack.nc", "var": "img"}
    with pytest.raises(ConfigError, match="'group'"):  # group_coord defaults to 'group'
        run_cv_config(_config(tmp_path, data=data, labels={"label_coord": "label"}))
    labels = {"label_coord": "lab", "group_coord": "patient"}
    with pytest.raises(ConfigError, match="'lab'"):
        run_cv_config(_config(tmp_path, data=data, labels=labels))
    with pytest.raises(ConfigError, match="isel"):
        run_cv_config(
            _config(
                tmp_path,
                data={**data, "isel": {"time": 0}},
                labels={"label_coord": "label", "group_coord": "patient"},
            )
        )


def test_isel_of_a_dim_the_files_lack(tmp_path, make_hot_spots):
    _write_files(tmp_path, make_hot_spots)
    data = {"files": "scan_*.nc", "var": "temperature", "isel": {"time": 0}}
    with pytest.raises(ConfigError, match="isel"):
        run_cv_config(_config(tmp_path, data=data))


@pytest.mark.parametrize(
    "section, match",
    [
        ({"model": {"class": "MLP", "kwargs": [256]}}, "kwargs"),
        ({"augment": {"shift": "two"}}, "shift"),
    ],
)
def test_sections_of_the_wrong_shape(section, match):
    cfg = {
        "data": {"files": "x", "var": "t"},
        "labels": {"csv": "l.csv"},
        "model": {"class": "MLP"},
        **section,
    }
    with pytest.raises(ConfigError, match=match):
        validate_config(cfg)


def test_model_kwargs_that_do_not_fit_the_images(tmp_path, make_hot_spots):
    # 16 x 16 images are 256 features; in_features 10 was a RuntimeError from inside torch
    _write_files(tmp_path, make_hot_spots)
    model = {"class": "MLP", "kwargs": {"in_features": 10}}
    with pytest.raises(ConfigError, match=r"does not accept samples of shape \(1, 16, 16\)"):
        run_cv_config(_config(tmp_path, model=model, train={"epochs": 1}))


def test_checkpoint_config_given_as_the_trainconfig_itself(tmp_path):
    from brim.learn import build_model, load_checkpoint, save_checkpoint

    model = build_model("MLP", kwargs={"in_features": 3}, seed=0)
    folder = save_checkpoint(model, tmp_path / "ckpt", config=TrainConfig(epochs=3))
    assert load_checkpoint(folder).checkpoint_config["epochs"] == 3


def test_a_checkpoint_without_its_model_spec(tmp_path):
    from brim.errors import FormatError
    from brim.learn import build_model, load_checkpoint, save_checkpoint

    folder = save_checkpoint(build_model("MLP", kwargs={"in_features": 3}, seed=0), tmp_path)
    spec = folder / "brim_model.json"
    meta = json.loads(spec.read_text())
    del meta["model"]
    spec.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="no 'model' spec"):
        load_checkpoint(folder)


def test_predict_on_a_bare_array_names_predict_not_training():
    from brim.learn import build_model, predict

    model = build_model("MLP", kwargs={"in_features": 3}, seed=0)
    with pytest.raises(ConfigError, match="data to predict must be a torch Dataset"):
        predict(model, np.zeros((2, 3), np.float32))


def test_paths_from_the_home_folder(tmp_path, make_hot_spots, monkeypatch):
    # '~/...' in a config is the home folder, not a folder named '~' beside the config
    home = tmp_path / "home"
    (home / "cohort").mkdir(parents=True)
    _write_files(home / "cohort", make_hot_spots)
    monkeypatch.setenv("HOME", str(home))
    elsewhere = tmp_path / "configs"
    elsewhere.mkdir()
    cfg = _config(
        elsewhere,
        data={"files": "~/cohort/scan_*.nc", "var": "temperature"},
        labels={"csv": "~/cohort/labels.csv", "group_column": "patient"},
    )
    result, page = run_cv_config(cfg)
    assert len(result.scores["unit"]) == N_PATIENTS
    assert page.parent == elsewhere / "out"  # 'output' stays relative to the config's folder
