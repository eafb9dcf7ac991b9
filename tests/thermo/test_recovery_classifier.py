"""Recovery features of dynamic sequences in the classifier (issue 24): where sequences exist,
with a missing-indicator for the other patients."""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from brim.errors import BrimWarning, MissingFileError
from brim.thermo import simulate_dynamic
from brim.thermo.classify import (
    HAS_SEQUENCE,
    Cohort,
    add_recovery_features,
    feature_columns,
    load_model,
    train,
)
from brim.thermo.recovery import RECOVERY_FEATURE_UNITS

FAST = dict(voxel=6e-3, pixel_pitch=3e-3, n_frames=5, dt=5.0, netd=0.02, t_ambient=21.0)


@pytest.fixture(scope="module")
def sequences():
    from brim.thermo.phantom import PhantomSpec, TumourSpec

    base = PhantomSpec(heterogeneity=0.0, vessels=(0, 0))
    sick = replace(base, tumour=TumourSpec(side="left", diameter=0.02, depth=0.015))
    out = {}
    for k, pid in enumerate((1, 2, 3, 4)):
        out[pid] = simulate_dynamic(seed=k, spec=sick if pid % 2 else base, **FAST)
    return out


def _cohort(n=12):
    rng = np.random.default_rng(0)
    y = np.arange(1, n + 1) % 2  # odd ids sick
    meta = [{"file": f"T{i}.txt", "patient": i} for i in range(1, n + 1)]
    return Cohort(
        files=[m["file"] for m in meta],
        patients=np.arange(1, n + 1),
        labels=y,
        maps=np.zeros((n, 2, 2), np.float32),
        features=np.c_[rng.normal(size=n), rng.normal(size=n)],
        feature_names=["mean_left", "rel_abs_delta_mean"],
        meta=meta,
    )


def test_patients_with_a_sequence_get_recovery_features_the_others_an_indicator(sequences):
    c = add_recovery_features(_cohort(), sequences)
    names = [f"rel_{k}" for k in RECOVERY_FEATURE_UNITS]
    assert c.feature_names == ["mean_left", "rel_abs_delta_mean", *names, HAS_SEQUENCE]
    ind = c.features[:, c.feature_names.index(HAS_SEQUENCE)]
    np.testing.assert_array_equal(ind, (c.patients <= 4).astype(float))
    rec = c.features[:, 2:-1]
    assert np.all(np.isfinite(rec[:4])) and np.all(np.isnan(rec[4:]))
    delta = c.features[:4, c.feature_names.index("rel_recovery_rate_abs_delta")]
    assert delta[[0, 2]].min() > 3 * delta[[1, 3]].max()  # the tumour side re-warms faster
    assert [m["has_sequence"] for m in c.meta[:5]] == [True] * 4 + [False]
    # the recovery columns are relative features: the default features model uses them
    assert set(names) <= {c.feature_names[i] for i in feature_columns(c.feature_names)}
    # adding twice does not duplicate columns
    assert add_recovery_features(c, sequences).feature_names == c.feature_names


def test_an_unusable_sequence_warns_and_counts_as_missing(sequences):
    one = {1: sequences[1].isel(time=[0])}
    with pytest.warns(BrimWarning, match="patient 1: no recovery features"):
        c = add_recovery_features(_cohort(4), one)
    assert c.features[0, -1] == 0.0 and np.isnan(c.features[0, 2])
    with pytest.raises(MissingFileError):
        add_recovery_features(_cohort(4), "/no/such/folder")


def test_a_model_trained_with_recovery_features_scores_patients_without_sequences(
    sequences, tmp_path
):
    c = add_recovery_features(_cohort(), sequences)
    with pytest.warns(BrimWarning, match="fewer than 10 per class"):
        out = train(tmp_path, tmp_path / "x.csv", tmp_path / "m", cohort=c)
    model = load_model(out)
    assert HAS_SEQUENCE in model.names and "rel_recovery_rate_abs_delta" in model.names
    cols = [c.feature_names.index(n) for n in model.names]
    p = model.predict(c.features[:, cols])
    assert p.shape == (12,) and np.all(np.isfinite(p))


@pytest.mark.skipif(not os.environ.get("BRIM_EXTERNAL_DATA"), reason="needs BRIM_EXTERNAL_DATA")
def test_the_shared_dynamic_sample_has_one_frame_and_counts_as_missing():
    folder = Path(os.environ["BRIM_EXTERNAL_DATA"]) / "thermo" / "dmr_dynamic"
    c = _cohort(4)
    c.patients[0] = 64
    with pytest.warns(BrimWarning, match="patient 64"):
        out = add_recovery_features(c, folder)
    assert out.features[:, -1].tolist() == [0.0, 0.0, 0.0, 0.0]
