"""Registration and fusion."""

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from brim.errors import ConfigError
from brim.evaluate import auroc
from brim.fusion import fuse
from brim.fusion import simulate as sim


@pytest.fixture(scope="module")
def image():
    us = sim.synthetic_ultrasound(sim.Lesion((5e-3, 0, 20e-3), 7.5e-3), seed=1, pixel=0.5e-3)
    return ndimage.gaussian_filter(us.image.values.astype(float), 1.5)


def _warp(img, shift, angle_deg):
    th = np.deg2rad(angle_deg)
    c = (np.array(img.shape) - 1) / 2
    a = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    m = np.eye(3)
    m[:2, :2] = a
    m[:2, 2] = c + np.asarray(shift) - a @ c
    # moving is built so that fixed(p) = moving(M p)
    return fuse.apply_affine(img, np.linalg.inv(m), cval=0.0), m


def test_phase_correlation_recovers_translation(image):
    mov, m = _warp(image, (3.0, -5.0), 0.0)
    out = fuse.register_images(
        xr.DataArray(image, dims=("y", "x")), xr.DataArray(mov, dims=("y", "x")),
        transform="translation",
    )  # fmt: skip
    np.testing.assert_allclose(out.affine.values, m, atol=0.15)
    assert out.affine.dims == ("affine_row", "affine_col")


def test_mutual_information_recovers_rigid_transform(image):
    mov, m = _warp(image, (3.0, -5.0), 4.0)
    out = fuse.register_images(
        xr.DataArray(image, dims=("y", "x")), xr.DataArray(mov, dims=("y", "x")), transform="rigid"
    )
    np.testing.assert_allclose(out.affine.values[:2, :2], m[:2, :2], atol=0.01)
    np.testing.assert_allclose(out.affine.values[:2, 2], m[:2, 2], atol=0.5)
    assert float(out.mutual_information_after) > 2 * float(out.mutual_information_before)
    # the registered image matches the fixed one where defined
    ok = np.isfinite(out.registered.values)
    ok[:10], ok[-10:], ok[:, :10], ok[:, -10:] = False, False, False, False
    assert np.corrcoef(out.registered.values[ok], image[ok])[0, 1] > 0.98


def test_mutual_information_oracle():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 20000).astype(float)
    # identical images: MI = entropy of a uniform 4-level image = ln 4
    assert fuse.mutual_information(a, a, bins=4) == pytest.approx(np.log(4), rel=1e-2)
    b = rng.integers(0, 4, 20000).astype(float)
    assert fuse.mutual_information(a, b, bins=4) < 1e-2


def test_auc_against_brute_force():
    rng = np.random.default_rng(1)
    s = rng.standard_normal(50)
    lab = rng.integers(0, 2, 50)
    pos, neg = s[lab == 1], s[lab == 0]
    brute = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert auroc(lab, s) == pytest.approx(brute)


def test_fusion_beats_single_modalities_on_complementary_features():
    # two modalities each carrying half of the signal: fusion must do better than either
    rng = np.random.default_rng(2)
    n = 600
    y = rng.integers(0, 2, n)
    us_f = (y + rng.normal(0, 1.0, n))[:, None]
    opt_f = (y + rng.normal(0, 1.0, n))[:, None]
    tr, te = np.arange(300), np.arange(300, n)
    feats = {"us": us_f, "optical": opt_f}
    a_us = auroc(y[te], fuse.feature_fusion({"us": us_f}, y, tr, te)["proba"])
    a_op = auroc(y[te], fuse.feature_fusion({"optical": opt_f}, y, tr, te)["proba"])
    a_ff = auroc(y[te], fuse.feature_fusion(feats, y, tr, te)["proba"])
    a_df = auroc(y[te], fuse.decision_fusion(feats, y, tr, te)["proba"])
    assert a_ff > max(a_us, a_op) + 0.03
    assert a_df > max(a_us, a_op) + 0.03
    with pytest.raises(ConfigError):
        fuse.decision_fusion(feats, y, tr, te, rule="vote")


def test_feature_extractors():
    les = sim.Lesion((0, 0, 20e-3), 7.5e-3, 45, 25)
    us = sim.synthetic_ultrasound(les, pixel=0.5e-3)
    f = fuse.us_features(us)
    # a disc: aspect ~1, solidity ~1, irregularity ~1, hypoechoic (echo ratio < 1)
    assert f["aspect"] == pytest.approx(1.0, abs=0.1)
    assert f["solidity"] > 0.95 and f["echo_ratio"] < 0.8
    assert f["area"] == pytest.approx(np.pi * 15**2, rel=0.05)  # radius 15 px at 0.5 mm


def test_two_branch_network_cross_validated():
    pytest.importorskip("torch")
    # the optical branch carries a strong signal: the fused network must find it (AUROC > 0.75)
    rng = np.random.default_rng(0)
    n = 24
    y = np.tile([0, 1], n // 2)
    imgs = rng.normal(0, 1, (n, 12, 12)).astype(np.float32)
    feat = (2.5 * y + rng.normal(0, 0.5, n))[:, None]
    groups = np.arange(n) // 2
    res = fuse.two_branch_cv(imgs, feat, y, groups, n_splits=2, epochs=6)
    a = res.pooled.auroc
    assert a.auroc > 0.75 and a.low <= a.auroc <= a.high
