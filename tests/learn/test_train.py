"""Training: known signal vs permutation, determinism, checkpoints, predict alignment."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

torch = pytest.importorskip("torch")

import brim  # noqa: E402
from brim.evaluate import cross_validate, dice, permute_labels_by_group  # noqa: E402
from brim.learn import (  # noqa: E402
    ArrayDataset,
    RandomFlip,
    ResNetClassifier,
    TrainConfig,
    UNet2d,
    fit,
    load_checkpoint,
    make_fit_predict,
    predict,
    save_checkpoint,
)

SPEC = {"class": "ResNetClassifier", "kwargs": {"in_channels": 1, "widths": [8, 16]}}
CFG = TrainConfig(epochs=15, lr=3e-3, batch_size=16, patience=5, seed=0)


def test_cnn_finds_known_signal_and_permuted_labels_stay_at_chance(make_hot_spots):
    X, y, g = make_hot_spots(n_groups=40, per_group=2, amplitude=2.5, seed=0)
    fp = make_fit_predict(SPEC, config=CFG, transform=RandomFlip((-1,)))
    res = cross_validate(fp, X, y, g, n_splits=3, n_bootstrap=200)
    # a warm 8x8 spot of +2.5 degC on unit noise is easy: demand a clear margin over chance
    assert res.auroc > 0.85, res.summary()
    perm = cross_validate(
        fp, X, permute_labels_by_group(y, g, seed=5), g, n_splits=3, n_bootstrap=200
    )
    assert perm.auroc < 0.75 and perm.auroc < res.auroc - 0.2, perm.summary()


def _split(make_hot_spots):
    X, y, g = make_hot_spots(n_groups=12, per_group=2, seed=1)
    ds = ArrayDataset(X, y, g, transform=RandomFlip((-1, -2)))
    return ds.subset(np.arange(16)), ds.subset(np.arange(16, 24))


def test_training_is_deterministic_on_cpu(make_hot_spots):
    tr, va = _split(make_hot_spots)
    cfg = TrainConfig(epochs=3, batch_size=4, seed=7, patience=None, device="cpu")
    runs = []
    for _ in range(2):
        torch.manual_seed(123)  # a different global state must not matter...
        model = ResNetClassifier(1, widths=(4, 8))
        torch.manual_seed(0)  # ...only the (identical) initial weights and the config seed
        runs.append(fit(model, tr, val_data=va, config=cfg))
    a, b = (r.model.state_dict() for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert runs[0].history == runs[1].history
    p1, p2 = predict(runs[0].model, va), predict(runs[1].model, va)
    np.testing.assert_array_equal(p1["score"].values, p2["score"].values)


def test_checkpoint_round_trip_gives_identical_predictions(make_hot_spots, tmp_path):
    tr, va = _split(make_hot_spots)
    model = ResNetClassifier(1, widths=(4, 8), attention=True)
    res = fit(model, tr, val_data=va, config=TrainConfig(epochs=2, batch_size=8, device="cpu"))
    d = save_checkpoint(res.model, tmp_path / "ckpt", config=TrainConfig().to_dict())
    meta = json.loads((d / "brim_model.json").read_text())
    assert meta["model"]["class"] == "ResNetClassifier" and meta["model"]["kwargs"]["attention"]
    assert sorted(p.name for p in d.iterdir()) == ["brim_model.json", "model.safetensors"]
    loaded = load_checkpoint(d)
    np.testing.assert_array_equal(
        predict(loaded, va)["logit"].values, predict(res.model, va)["logit"].values
    )
    assert loaded.checkpoint_config["epochs"] == 20
    # a tampered weight file is refused
    raw = bytearray((d / "model.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (d / "model.safetensors").write_bytes(bytes(raw))
    with pytest.raises(brim.FormatError, match="checksum"):
        load_checkpoint(d)
    with pytest.raises(brim.MissingFileError):
        load_checkpoint(tmp_path / "nothing")


def test_predict_is_aligned_with_inputs(make_hot_spots):
    X, y, g = make_hot_spots(n_groups=5, per_group=2, seed=2)
    da = xr.DataArray(X, dims=("scan", "y", "x"), coords={"scan": [f"s{i}" for i in range(10)]})
    ds = ArrayDataset(da, y, g)
    model = ResNetClassifier(1, widths=(4,)).eval()
    out = predict(model, ds.subset([7, 2, 5]))
    assert out["index"].values.tolist() == [7, 2, 5]
    assert out["group"].values.tolist() == [g[7], g[2], g[5]]
    assert out["label"].values.tolist() == [y[7], y[2], y[5]]
    full = predict(model, ds, like=da)
    assert full["score"].dims == ("scan",) and full["scan"].values[3] == "s3"
    with torch.no_grad():
        direct = torch.sigmoid(model(torch.from_numpy(X[3:4, None]))).item()
    assert full["score"].values[3] == pytest.approx(direct, rel=1e-5)


def test_class_weighting_and_early_stopping(make_hot_spots):
    X, y, g = make_hot_spots(n_groups=12, per_group=1, seed=3)
    y = np.zeros_like(y)
    y[:3] = 1  # 3 positives, 9 negatives
    ds = ArrayDataset(X, y, g)
    from brim.learn.train import _Loss

    loss = _Loss(y, 1, True, torch.device("cpu"))
    assert loss.pos_weight.item() == pytest.approx(9 / 3)
    res = fit(
        ResNetClassifier(1, widths=(4,)),
        ds.subset(range(8)),
        val_data=ds.subset(range(8, 12)),
        config=TrainConfig(epochs=30, lr=5e-2, patience=2, batch_size=4),
    )
    assert res.stopped_early and len(res.history) < 30
    assert res.best_epoch == int(np.argmin([h["val_loss"] for h in res.history]))


def test_unet_learns_a_threshold_segmentation():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:24, :24]
    X, M = [], []
    for _ in range(24):
        cy, cx, r = rng.uniform(7, 17), rng.uniform(7, 17), rng.uniform(3, 6)
        m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        X.append(30 + 2.0 * m + 0.3 * rng.normal(size=m.shape))
        M.append(m)
    X, M = np.array(X, np.float32), np.array(M, np.float32)
    ds = ArrayDataset(X, M)
    torch.manual_seed(0)
    res = fit(
        UNet2d(1, 1, base_channels=8, depth=2),
        ds.subset(range(18)),
        val_data=ds.subset(range(18, 24)),
        config=TrainConfig(epochs=25, lr=1e-2, batch_size=6, patience=8),
    )
    prob = predict(res.model, ds.subset(range(18, 24)))["probability"].values
    d = [dice(p > 0.5, m) for p, m in zip(prob, M[18:])]
    assert np.mean(d) > 0.8, d


def test_two_branch_fusion_trains_on_image_plus_features(make_hot_spots, tmp_path):
    from brim.learn import MLP, TwoBranchFusion

    X, y, g = make_hot_spots(n_groups=12, per_group=2, seed=6)
    feats = np.c_[y + 0.3 * np.random.default_rng(0).normal(size=y.size), np.ones(y.size)]
    ds = ArrayDataset((X, feats.astype(np.float32)), y, g)
    torch.manual_seed(0)
    model = TwoBranchFusion(ResNetClassifier(1, widths=(4,)), MLP(2, hidden=(8,)))
    res = fit(
        model,
        ds.subset(range(16)),
        val_data=ds.subset(range(16, 24)),
        config=TrainConfig(epochs=15, lr=1e-2, batch_size=8, patience=None, device="cpu"),
    )
    # the feature branch's input statistics were set from the training fold only
    mean = res.model.branch_b.input_stats.mean.numpy()
    np.testing.assert_allclose(mean, feats[:16].mean(0), rtol=1e-5)
    out = predict(res.model, ds.subset(range(16, 24)))
    assert out["score"].shape == (8,)
    from brim.evaluate import auroc

    assert auroc(y[16:], out["score"].values) > 0.9  # feature 0 nearly equals the label
    d = save_checkpoint(res.model, tmp_path / "fusion")
    np.testing.assert_array_equal(
        predict(load_checkpoint(d), ds.subset(range(16, 24)))["logit"].values,
        out["logit"].values,
    )


def test_multiclass_training_predicts_probabilities_with_progress_bar(make_hot_spots, capsys):
    X, _, g = make_hot_spots(n_groups=9, per_group=1, seed=7)
    y = np.arange(9) % 3
    ds = ArrayDataset(X, y, g)
    res = fit(
        ResNetClassifier(1, n_outputs=3, widths=(4,)),
        ds,
        val_data=None,
        config=TrainConfig(epochs=2, batch_size=4, progress=True, num_threads=1),
    )
    assert len(res.history) == 2 and "val_loss" not in res.history[0]
    out = predict(res.model, ds)
    assert out["score"].dims == ("sample", "class")
    np.testing.assert_allclose(out["score"].sum("class").values, 1.0, rtol=1e-5)
    assert "training" in capsys.readouterr().err  # the tqdm bar
    from brim.learn.train import _Loss

    w = _Loss(np.array([0, 0, 0, 0, 1, 1, 2, 2]), 3, True, torch.device("cpu")).class_weight
    np.testing.assert_allclose(w.numpy(), [8 / 12, 8 / 6, 8 / 6], rtol=1e-6)


def test_batchnorm_statistics_are_those_of_the_final_weights(make_hot_spots):
    # oracle: after fit, the first BatchNorm's running mean/var equal the channel mean/variance of
    # its input (the stem convolution's output) over the un-augmented training set, computed here
    # with the final weights; the lagging momentum-0.1 average of training would not match
    X, y, g = make_hot_spots(n_groups=12, per_group=2, seed=3)
    ds = ArrayDataset(X, y, g, transform=RandomFlip((-1,)))
    model = ResNetClassifier(1, widths=(4, 8), norm="batch")
    cfg = TrainConfig(epochs=4, lr=1e-2, batch_size=8, patience=None, seed=0)
    fit(model, ds, val_data=None, config=cfg)
    bn = model.stem[1]
    with torch.no_grad():
        x = model.input_stats(torch.from_numpy(np.asarray(X, np.float32))[:, None])
        h = model.stem[0](x)
    batches = h.split(8)  # 24 samples: three equal batches, as recalibration saw them
    mean = torch.stack([b.mean((0, 2, 3)) for b in batches]).mean(0)
    var = torch.stack([b.var((0, 2, 3), unbiased=True) for b in batches]).mean(0)
    torch.testing.assert_close(bn.running_mean, mean, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(bn.running_var, var, rtol=1e-4, atol=1e-5)
    assert not model.training
