"""The CNN on the left-right difference image (issue 24): Grad-CAM must fall on the breasts of
Pennes phantoms with a known tumour."""

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")

from brim.errors import BrimWarning, ConfigError  # noqa: E402
from brim.thermo.classify import (  # noqa: E402
    Cohort,
    _block_mean,
    difference_map,
    grad_cam,
    train,
    train_cnn,
)
from brim.thermo.phantom import PhantomSpec, TumourSpec  # noqa: E402
from brim.thermo.segmentation import segmentation_from_masks  # noqa: E402
from brim.thermo.simulate import simulate_thermogram  # noqa: E402

FACTOR = 2
#: Grad-CAM mass inside the breast masks, mean over the tumour phantoms (the breasts cover about
#: a quarter of the map; measured 0.76 with this set-up).
MIN_BREAST_FRACTION = 0.6
#: Grad-CAM mass on the tumour's breast, relative to that breast's share of the map (measured
#: about 2.9x: the difference image holds the tumour on its own side and, with the opposite
#: sign, on the mirror side, so the other breast gets a similar share).
MIN_TUMOUR_SIDE_ENRICHMENT = 2.0


@pytest.fixture(scope="module")
def phantoms():
    """24 small Pennes phantoms, every second one with a 2 cm tumour at a random place."""
    rng = np.random.default_rng(0)
    maps, y, breast, side = [], [], [], []
    for i in range(24):
        spec = PhantomSpec(voxel=6e-3, heterogeneity=0.1, vessels=(1, 1))
        if i % 2:
            tumour = TumourSpec(
                side=str(rng.choice(["left", "right"])),
                diameter=0.02,
                depth=0.013,
                polar=rng.uniform(0, 0.6),
                azimuth=rng.uniform(0, 2 * np.pi),
            )
            spec = replace(spec, tumour=tumour)
        ds = simulate_thermogram(seed=i, spec=spec, pixel_pitch=3e-3, netd=0.03)
        seg = segmentation_from_masks(ds)
        m = seg["mask"].values
        t = ds["temperature"].values
        maps.append(difference_map(t, m, midline_x=float(seg["midline_x"]), factor=FACTOR))
        has = bool(ds["tumour_mask"].values.any())
        y.append(int(has))
        breast.append(_block_mean((m >= 2).astype(float), FACTOR) > 0.5)
        lab = np.bincount(m[ds["tumour_mask"].values > 0]).argmax() if has else -1
        side.append(_block_mean((m == lab).astype(float), FACTOR) > 0.5)
    return np.stack(maps), np.array(y), breast, side


def test_the_difference_map_is_antisymmetric_and_blind_to_offset_and_gain():
    rng = np.random.default_rng(1)
    t = 30 + rng.normal(0, 0.5, (6, 10))
    mask = np.ones((6, 10), int)
    d = difference_map(t, mask, midline_x=4.5, factor=1)
    np.testing.assert_allclose(d, -d[:, ::-1], atol=1e-6)
    np.testing.assert_allclose(difference_map(3 * t + 7, mask, midline_x=4.5, factor=1), d,
                               atol=1e-5)  # fmt: skip
    mask[:, 0] = 0  # a pixel whose mirror image is off the body is 0, and so is its mirror
    d = difference_map(t, mask, midline_x=4.5, factor=1)
    assert np.all(d[:, 0] == 0) and np.all(d[:, 9] == 0) and np.any(d[:, 8] != 0)


def test_grad_cam_of_the_difference_cnn_falls_on_the_breasts(phantoms):
    maps, y, breast, side = phantoms
    model = train_cnn(maps, y, epochs=15, width=4, seed=0, num_threads=1, factor=FACTOR)
    p = model.predict(maps)
    assert p[y == 1].mean() > p[y == 0].mean() + 0.1  # it learnt something
    sick = np.flatnonzero(y)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny maps: thread start-up would dominate
    try:
        cams = dict(zip(sick, grad_cam(model, maps[sick]), strict=True))
    finally:
        torch.set_num_threads(threads)
    in_breast = [cams[i][breast[i]].sum() / cams[i].sum() for i in sick]
    on_side = [cams[i][side[i]].sum() / cams[i].sum() for i in sick]
    side_area = [side[i].mean() for i in sick]
    assert np.mean(in_breast) > MIN_BREAST_FRACTION
    assert min(in_breast) > 0.4
    assert np.mean(on_side) / np.mean(side_area) > MIN_TUMOUR_SIDE_ENRICHMENT
    assert np.mean(in_breast) > 2 * np.mean([breast[i].mean() for i in sick])


def test_train_refuses_an_unknown_input_and_a_cohort_without_difference_maps(tmp_path):
    n = 4
    c = Cohort([f"T{i}" for i in range(n)], np.arange(n), np.array([0, 1, 0, 1]),
               np.zeros((n, 8, 8), np.float32), np.zeros((n, 1)), ["rel_x"])  # fmt: skip
    with pytest.raises(ConfigError, match="unknown CNN input"):
        train(tmp_path, tmp_path / "l.csv", tmp_path / "m", method="cnn", cnn_input="mirror",
              cohort=c)  # fmt: skip
    with pytest.raises(ConfigError, match="no difference maps"), pytest.warns(BrimWarning):
        train(tmp_path, tmp_path / "l.csv", tmp_path / "m", method="cnn",
              cnn_input="difference", cohort=c, epochs=1)  # fmt: skip


def test_evaluate_cohort_cross_validates_the_difference_cnn():
    from brim.thermo.classify import evaluate_cohort

    n = 12
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    diff = rng.normal(0, 0.1, (n, 8, 8)).astype(np.float32)
    diff[y == 1, 2:4, 5:7] += 1.0  # a warm patch on one side of the sick maps
    c = Cohort([f"T{i}" for i in range(n)], np.arange(n), y, np.zeros((n, 8, 8), np.float32),
               np.zeros((n, 1)), ["rel_x"], [{"text_format": "", "background_median": 21.0}] * n,
               difference=diff)  # fmt: skip
    with pytest.warns(BrimWarning, match="fewer than"):
        ev = evaluate_cohort(c, models=("cnn_difference",), n_splits=3, cnn_epochs=2,
                             cnn_width=4, n_bootstrap=20, num_threads=1)  # fmt: skip
    res = ev.results["cnn_difference"]
    assert res.name == "CNN on the left-right difference image"
    assert 0.0 <= res.pooled.auroc.auroc <= 1.0
