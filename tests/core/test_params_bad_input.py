"""Bad parameter and model files (issue 19, item 14).

Before the fixes: a non-UTF-8 ``--params`` file was a UnicodeDecodeError traceback, a
self-referencing YAML alias a RecursionError inside dask, an unknown key failed every file of a
batch one by one, a U-Net spec given as a JSON list an AttributeError, 4096 base channels
allocated gigabytes before any check, and a truncated or incomplete thermo ``model.json`` a
JSONDecodeError or KeyError.
"""

from __future__ import annotations

import json
import resource
import time

import numpy as np
import pytest

from brim.cli import main
from brim.config import load_params
from brim.data import sample_path
from brim.errors import ConfigError, FormatError


def _batch(capsys, tmp_path, params_file, pipeline="fusion.background") -> tuple[int, str]:
    capsys.readouterr()
    code = main(
        [
            "batch",
            pipeline,
            str(sample_path("fusion_measurement")),
            str(sample_path("fusion_reference")),
            "--params",
            str(params_file),
            "-o",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    return code, capsys.readouterr().err.strip()


def test_batch_refuses_a_non_utf8_params_file_naming_the_line(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_bytes(b"# refractive index\nn: 1.4\xb0\n")  # a Latin-1 degree sign
    code, err = _batch(capsys, tmp_path, params)
    assert code == 2 and "p.yaml: line 2, column 7: byte 0xb0" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(120)
def test_batch_refuses_recursive_yaml_aliases_and_alias_bombs(tmp_path, capsys):
    rec = tmp_path / "rec.yaml"
    rec.write_text("n: &x [1.4, *x]\n")
    code, err = _batch(capsys, tmp_path, rec)
    assert code == 2 and "recursive structure" in err
    # ten levels of ten aliases: 10**10 values once expanded
    lines = ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="alias bomb"):
        load_params(bomb)
    assert time.perf_counter() - t0 < 10
    deep = tmp_path / "deep.json"
    deep.write_text('{"n": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(ConfigError, match="deep"):
        load_params(deep)


def test_batch_refuses_unknown_or_missing_keys_before_any_file(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_text("n: 1.4\nmusp_typo: 1.0\n")
    code, err = _batch(capsys, tmp_path, params)
    assert code == 2
    assert "unknown parameter(s) ['musp_typo'] for pipeline 'fusion.background'" in err
    assert "musp, n" in err
    assert not (tmp_path / "out").exists()  # refused before the cluster or any output
    # a pipeline parameter without a default must be given
    from brim.config import check_params

    def needs_grid(path, *, grid, method="das"):
        return path

    with pytest.raises(ConfigError, match=r"needs the parameter\(s\) \['grid'\]"):
        check_params(needs_grid, {"method": "das"}, what="needs_grid")
    check_params(needs_grid, {"grid": 1})  # complete: no error
    check_params(lambda path, **kw: path, {"anything": 1})  # **kwargs: cannot be checked


def test_params_with_non_text_keys_are_refused(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("1.4: n\n")
    with pytest.raises(ConfigError, match="parameter names must be text"):
        load_params(p)


# -- U-Net and other model specs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "p.yaml",
            "epochs: 10\nlr: 0.1\nepochs: 20\n",
            r"'epochs' is written twice \(again on line 3\)",
        ),
        (
            "p.yaml",
            "model:\n  depth: 2\n  depth: 3\n",
            r"'depth' is written twice \(again on line 3\)",
        ),
        ("p.json", '{"epochs": 10, "epochs": 20}', "'epochs' is written twice"),
    ],
)
def test_a_key_written_twice_is_refused(tmp_path, name, text, where):
    # YAML and JSON readers keep the last of two equal keys: a parameter edited by adding a
    # line below the old one ran with whichever came last, without a word
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=where):
        load_params(path)


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nrun:\n  <<: *b\n  x: 3\n")
    assert load_params(path)["run"] == {"x": 3, "y": 2}


def test_a_model_spec_that_is_a_list_or_has_list_kwargs_is_a_config_error():
    from brim.learn.models import build_model

    with pytest.raises(ConfigError, match="mapping .* not a list"):
        build_model(json.loads('[{"class": "UNet2d"}]'))
    with pytest.raises(ConfigError, match="kwargs .* not a list"):
        build_model({"class": "UNet2d", "kwargs": [16, 3]})
    with pytest.raises(ConfigError, match="depth=1000000.0: must be between 0 and 12"):
        build_model({"class": "UNet2d", "kwargs": {"depth": 1e6}})
    with pytest.raises(ConfigError, match="whole number"):
        build_model({"class": "UNet2d", "kwargs": {"base_channels": float("nan")}})


def test_a_huge_unet_is_refused_before_allocating():
    from brim.learn.models import MAX_PARAMETERS, build_model

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"31,508 million parameters"):
        build_model({"class": "UNet2d", "kwargs": {"base_channels": 4096}})
    assert time.perf_counter() - t0 < 10
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 500  # 31.5 billion float32 weights are 117 GiB; nothing was allocated
    # the count is the true one: a default U-Net, built for real, has what the check counts
    net = build_model({"class": "UNet2d", "kwargs": {}})
    n = sum(p.numel() for p in net.parameters())
    # double 3x3 convs 1-16-16, 16-32-32, 32-64-64, 64-128-128 with biases ...
    assert 400_000 < n < MAX_PARAMETERS


# -- thermo model.json ---------------------------------------------------------------------


def _model_dir(tmp_path, text: str | bytes):
    d = tmp_path / "model"
    d.mkdir(exist_ok=True)
    (d / "model.json").write_bytes(text.encode() if isinstance(text, str) else text)
    return d


def _predict(capsys, model_dir, tmp_path) -> tuple[int, str]:
    capsys.readouterr()
    code = main(
        [
            "thermo",
            "predict",
            str(model_dir),
            str(sample_path("thermo_phantom_tumour")),
            "-o",
            str(tmp_path / "scores.csv"),
        ]
    )
    return code, capsys.readouterr().err.strip()


GOOD = {
    "method": "features",
    "n_train": 4,
    "seed": 0,
    "names": ["delta_mean", "delta_max"],
    "mean": [0.1, 0.5],
    "std": [0.3, 0.8],
    "weights": [0.0, 1.0, -0.5],
}


def test_truncated_or_incomplete_thermo_model_json_names_file_and_key(tmp_path, capsys):
    whole = json.dumps(GOOD, indent=1)
    code, err = _predict(capsys, _model_dir(tmp_path, whole[: len(whole) // 2]), tmp_path)
    assert code == 2 and "model.json is not valid JSON" in err and "truncated" in err
    for key in ("weights", "names"):
        cfg = {k: v for k, v in GOOD.items() if k != key}
        code, err = _predict(capsys, _model_dir(tmp_path, json.dumps(cfg)), tmp_path)
        assert code == 2 and f"missing key(s) ['{key}'] of a features model" in err
    cnn = {"method": "cnn", "attention": False, "width": 16, "factor": 8}
    code, err = _predict(capsys, _model_dir(tmp_path, json.dumps(cnn)), tmp_path)
    assert code == 2 and "missing key(s) ['shape'] of a cnn model" in err
    bad = dict(GOOD, weights=[0.0, 1.0])
    code, err = _predict(capsys, _model_dir(tmp_path, json.dumps(bad)), tmp_path)
    assert code == 2 and "'weights' has 2 values for 2 features (expected 3)" in err
    code, err = _predict(capsys, _model_dir(tmp_path, b'{"method": "feat\xffures"}'), tmp_path)
    assert code == 2 and "line 1, column 17: byte 0xff" in err
    code, err = _predict(capsys, _model_dir(tmp_path, "[1, 2]"), tmp_path)
    assert code == 2 and "holds a JSON list" in err


def test_a_complete_model_json_loads(tmp_path):
    from brim.thermo.classify import load_model

    m = load_model(_model_dir(tmp_path, json.dumps(GOOD)))
    np.testing.assert_allclose(m.weights, [0.0, 1.0, -0.5])
    with pytest.raises(FormatError, match="unknown method 'svm'"):
        load_model(_model_dir(tmp_path, json.dumps(dict(GOOD, method="svm"))))
