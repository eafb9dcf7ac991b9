"""Classification: labels, confound audit on DMR-IR, CNN + Grad-CAM oracle, features model."""

from __future__ import annotations

import numpy as np
import pytest

from brim.errors import FormatError
from brim.evaluate import cross_validate
from brim.thermo.classify import (
    audit_files,
    cnn_fit_predict,
    features_fit_predict,
    grad_cam,
    read_labels,
    train_cnn,
)


def test_read_labels(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("ID,Diagnosis\n1,Healthy\nT0012,Sick\n7,sick\n")
    assert read_labels(p) == {1: 0, 12: 1, 7: 1}
    p.write_text("ID,Diagnosis\n1,Maybe\n")
    with pytest.raises(FormatError, match="neither"):
        read_labels(p)
    p.write_text("name,result\n1,Healthy\n")
    with pytest.raises(FormatError, match="ID,Diagnosis"):
        read_labels(p)


def test_dmr_confound_audit_flags_id_order(external_data):
    # known trap: on the DMR-IR subset, sick patients have the later IDs (and some the ';'
    # export format); a nuisance-only model on the ID order must be flagged
    root = external_data / "thermo" / "dmr_ir_dev"
    audit = audit_files(root, root / "id_diagnosis.csv", n_splits=5, n_bootstrap=200)
    rows = {r["name"]: r for r in audit.rows}
    assert "patient_id_order" in audit.flagged
    assert rows["patient_id_order"]["auroc"] > 0.9
    # the semicolon format occurs only in sick patients: better than chance
    assert rows["text_format_semicolon"]["auroc"] > 0.55


def _blob_maps(n, rng, size=16):
    """Noise maps; positives carry a +2 K blob at a fixed place (rows 2-6, cols 2-6)."""
    y = np.arange(n) % 2
    maps = rng.standard_normal((n, size, size)).astype(np.float32) * 0.5
    maps[y == 1, 2:7, 2:7] += 2.0
    return maps, y


def test_cnn_learns_and_grad_cam_points_at_the_lesion():
    rng = np.random.default_rng(0)
    maps, y = _blob_maps(48, rng)
    model = train_cnn(maps[:32], y[:32], epochs=15, width=4, lr=5e-3, num_threads=1)
    s = model.predict(maps[32:])
    from brim.evaluate import auroc

    assert auroc(y[32:], s) > 0.9
    cams = grad_cam(model, maps[32:][y[32:] == 1])
    inside = np.zeros((16, 16), bool)
    inside[2:7, 2:7] = True
    assert cams.shape == (8, 16, 16)
    # layer3 is 4 x 4 for a 16 x 16 input, so the map is coarse: test where it peaks and
    # that it is clearly higher on the blob than elsewhere (a uniform map gives ratio 1)
    assert cams[:, inside].mean() > 1.5 * cams[:, ~inside].mean()
    peak = np.unravel_index(np.argmax(cams.mean(axis=0)), (16, 16))
    assert peak[0] <= 8 and peak[1] <= 8


def test_grouped_protocol_with_both_models():
    rng = np.random.default_rng(1)
    n = 40
    groups = np.repeat(np.arange(20), 2)  # two images per patient
    y = (groups % 2).astype(int)
    X = rng.standard_normal((n, 5))
    X[:, 0] += 1.5 * y  # one informative feature
    res = cross_validate(features_fit_predict, X, y, groups, n_splits=4, n_bootstrap=200)
    assert res.auroc > 0.8 and res.protocol["unit"] == "patient"
    maps2 = rng.standard_normal((n, 16, 16)).astype(np.float32) * 0.5
    maps2[y == 1, 2:7, 2:7] += 2.0
    cnn = cross_validate(
        cnn_fit_predict(epochs=6, width=4, num_threads=1),
        maps2,
        y,
        groups,
        n_splits=4,
        n_bootstrap=200,
        check_inputs=False,
    )
    assert cnn.auroc > 0.8


def test_report_with_grad_cam(tmp_path):
    from brim.thermo.classify import Cohort, evaluate_cohort, write_report

    rng = np.random.default_rng(2)
    n = 24
    y = np.arange(n) % 2
    maps = (rng.standard_normal((n, 16, 16)) * 0.5).astype(np.float32)
    maps[y == 1, 2:7, 2:7] += 2.0
    names = ["abs_delta_mean", "other"]
    X = np.c_[np.abs(rng.standard_normal(n)) + y, rng.standard_normal(n)]
    meta = [
        {"text_format": "space", "background_median": 20.0 + rng.standard_normal()}
        for _ in range(n)
    ]
    cohort = Cohort([f"T{i:04d}.txt" for i in range(n)], np.arange(n), y, maps, X, names, meta)
    ev = evaluate_cohort(cohort, models=("delta_t_rule",), n_splits=3, n_bootstrap=50)
    assert ev.results["delta_t_rule"].auroc > 0.6
    model = train_cnn(maps, y, epochs=3, width=4, num_threads=1)
    summary = write_report(ev, tmp_path, cnn_model=model)
    text = summary.read_text()
    assert "patient_id_order" in text and "AUROC" in text
    assert (tmp_path / "delta_t_rule" / "index.html").is_file()
    assert (tmp_path / "grad_cam.png").stat().st_size > 1000
