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
