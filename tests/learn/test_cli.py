"""`brim learn cv CONFIG.yaml`: a whole grouped cross-validation from a config file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("torch")

import brim  # noqa: E402
from brim.cli import main  # noqa: E402


def _write_cohort(tmp_path, make_hot_spots):
    X, y, g = make_hot_spots(n_groups=16, per_group=2, amplitude=3.0, seed=4)
    rows = ["file,label,patient,camera"]
    for i in range(len(y)):
        ds = xr.Dataset({"temperature": (("y", "x"), X[i], {"units": "degC"})})
        brim.save(ds, tmp_path / f"scan_{i:02d}.nc")
        rows.append(f"scan_{i:02d}.nc,{y[i]},{g[i]},{'A' if y[i] else 'B'}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return y


CONFIG = """
name: hot-spot test
data: {files: "scan_*.nc", var: temperature}
labels: {csv: labels.csv, key_column: file, label_column: label, group_column: patient}
model:
  class: ResNetClassifier
  kwargs: {in_channels: 1, widths: [8, 16]}
train: {epochs: 12, lr: 0.003, batch_size: 8, patience: 4, seed: 0}
augment: {flip: true}
protocol: {n_splits: 3, aggregate: mean, threshold_rule: youden, n_bootstrap: 100,
           prevalence: 0.05}
audit: {nuisance: [order, median, camera], permutation: false}
output: out
"""


def test_cv_from_yaml_writes_report(tmp_path, make_hot_spots, capsys):
    y = _write_cohort(tmp_path, make_hot_spots)
    cfg = tmp_path / "cv.yaml"
    cfg.write_text(CONFIG)
    assert main(["learn", "cv", str(cfg), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "AUROC" in printed and "report:" in printed
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["name"] == "hot-spot test"
    assert len(data["units"]["unit"]) == 16  # 16 patients evaluated
    assert sorted(data["units"]["label"]) == sorted(np.unique(np.c_[y[::2]]).tolist() * 8)
    assert data["pooled"]["auroc"]["auroc"] > 0.8
    rows = {r["name"]: r for r in data["confound_audit"]["rows"]}
    assert rows["camera"]["flagged"]  # camera A was used for every positive: a confound
    assert (tmp_path / "out" / "index.html").is_file()


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "data: {files: x, var: t}\nlabels: {csv: l.csv}\nmodel: {class: MLP}\nepochs: 3\n",
            "unknown key",
        ),
        ("data: {files: x}\nlabels: {csv: l.csv}\nmodel: {class: MLP}\n", "missing key"),
        ("data: {files: x, var: t}\nlabels: {csv: l.csv}\nmodel: {class: GPT}\n", "unknown"),
        (
            "data: {files: x, var: t}\nlabels: {csv: l.csv}\nmodel: {class: MLP}\n"
            "train: {epoch: 3}\n",
            "section 'train'",
        ),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, capsys, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    assert main(["learn", "cv", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and message in err


# --- the config's key sets follow the signatures of the functions they configure -------------

_BASE = "data: {file: s.nc, var: t}\nlabels: {label_coord: label}\nmodel: {class: logistic}\n"


def _cv_options():
    import inspect

    from brim.evaluate import cross_validate

    params = inspect.signature(cross_validate).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_unknown_protocol_key_names_the_valid_keys(tmp_path, capsys):
    from brim.learn.cli import validate_config

    cfg = {
        "data": {"file": "s.nc", "var": "t"},
        "labels": {"label_coord": "label"},
        "model": {"class": "logistic"},
        "protocol": {"n_split": 3},  # typo of n_splits
    }
    with pytest.raises(brim.ConfigError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert "section 'protocol'" in msg and "'n_split'" in msg
    for key in set(_cv_options()) - {"name", "progress", "folds"}:
        assert repr(key) in msg  # every valid key is named
    # through the command line too, and for the audit section
    (tmp_path / "bad.yaml").write_text(_BASE + "audit: {flag_aurc: 0.7}\n")
    assert main(["learn", "cv", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    for key in ("nuisance", "flag_auroc", "permutation", "permutation_tolerance"):
        assert repr(key) in err


def test_every_cross_validate_option_runs_from_a_config(tmp_path, make_hot_spots):
    """Each keyword of cross_validate is a 'protocol' key that reaches it (and the audit), except
    name (top level), progress (a flag) and folds (objects), which the config sets elsewhere."""
    import yaml

    from brim.learn.cli import run_cv_config

    opts = _cv_options()
    assert {"name", "progress", "folds"} <= set(opts)
    protocol = {k: v for k, v in opts.items() if k not in {"name", "progress", "folds"}}
    assert {"n_splits", "seed", "check_inputs", "near_duplicate_bits"} <= set(protocol)
    protocol.update(n_splits=3, n_bootstrap=20, prevalence=0.1, seed=3)  # small and quick
    X, y, g = make_hot_spots(n_groups=12, per_group=2, size=16, amplitude=4.0, seed=1)
    ds = xr.Dataset(
        {"t": (("sample", "y", "x"), X)},
        coords={"label": ("sample", y), "group": ("sample", g)},
    )
    brim.save(ds, tmp_path / "s.nc")
    cfg = {
        "name": "every option",
        "data": {"file": "s.nc", "var": "t"},
        "labels": {"label_coord": "label", "group_coord": "group"},
        "model": {"class": "logistic"},
        "protocol": protocol,
        "audit": {"nuisance": ["mean"], "permutation": False, "flag_auroc": 0.9},
        "output": "rep",
    }
    (tmp_path / "cv.yaml").write_text(yaml.safe_dump(cfg))
    result, page = run_cv_config(tmp_path / "cv.yaml")
    assert page.is_file()
    assert len(result.folds) == 3  # n_splits reached cross_validate
    assert result.audit is not None and result.audit.permutation is None  # permutation: false
    assert result.audit.rows[0]["flagged"] == (result.audit.rows[0]["auroc"] > 0.9)
