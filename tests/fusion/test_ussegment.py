"""Ultrasound segmentation: grouping by hash, leakage check, Dice with a CI (tiny run), the
shipped U-Net ensemble on held-out BUSI images, letterboxing, TTA, post-processing, fallback."""

import shutil
import warnings

import numpy as np
import pytest

from brim.errors import LeakageError
from brim.evaluate import check_leakage, dice, grouped_split, mean_ci
from brim.fusion import ussegment as seg

pytest.importorskip("torch")


def test_dice_and_bootstrap_oracles():
    a = np.zeros((10, 10), int)
    b = np.zeros((10, 10), int)
    a[2:6, 2:6] = 1  # 16 px
    b[4:8, 2:6] = 1  # 16 px, 8 overlap
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(a, a) == pytest.approx(1.0)
    assert dice(a * 0, b * 0) == 1.0
    mean, lo, hi = mean_ci([0.2, 0.4, 0.6, 0.8] * 10)
    assert mean == pytest.approx(0.5)
    assert lo < 0.5 < hi and hi - lo < 0.3


def test_duplicates_are_grouped_and_leakage_raises(external_data, tmp_path):
    src = sorted((external_data / "fusion/busi_dev/images").glob("*.png"))[:6]
    for p in src:
        shutil.copy(p, tmp_path / p.name)
    # an exact duplicate under the other class's name, and a resized near-duplicate
    shutil.copy(src[0], tmp_path / "malignant (9999).png")
    from PIL import Image

    with Image.open(src[1]) as im:
        im.resize((im.width // 2, im.height // 2)).save(tmp_path / "benign (9998).png")
    paths = sorted(tmp_path.glob("*.png"))
    groups = seg.group_images(paths)
    name = {p.name: g for p, g in zip(paths, groups)}
    assert name["malignant (9999).png"] == name[src[0].name]
    assert name["benign (9998).png"] == name[src[1].name]
    assert len(set(groups)) == 6
    train, test = grouped_split(groups, seg.busi_class_labels(paths), val_fraction=0.5, seed=0)
    assert not set(groups[train]) & set(groups[test])
    with pytest.raises(LeakageError):
        check_leakage(np.arange(len(paths)), np.arange(2), groups)


def test_real_busi_near_duplicate_pair_is_grouped(external_data):
    # benign (204) and benign (249) of busi_dev are the same scan at two sizes (pixel
    # correlation 0.997 after resizing both to 64 px); benign (107) is a different lesion
    root = external_data / "fusion/busi_dev/images"
    names = ["benign (204).png", "benign (249).png", "benign (107).png"]
    groups = seg.group_images([root / n for n in names])
    assert groups[0] == groups[1] != groups[2]


def test_tiny_training_reports_dice_with_ci(external_data, tmp_path):
    # tiny on purpose (12 images, 32 px, 3 epochs, 1 thread): the full number comes from
    # scripts/train_us_model.py and is recorded in the shipped model
    res = seg.evaluate_segmenter(
        external_data / "fusion/busi_dev", size=32, epochs=3, limit=12, seed=0,
        model_out=tmp_path / "unet", threads=1,
    )  # fmt: skip
    assert res.n_train + res.n_test == 12 and res.n_test >= 1
    assert 0.0 <= res.ci_low <= res.dice_mean <= res.ci_high <= 1.0
    model = seg.load_model(tmp_path / "unet")
    assert model.input_size == 32 and len(model) == 1
    from brim.fusion.public_data import busi_pairs, read_busi

    img, msk, _ = busi_pairs(external_data / "fusion/busi_dev")[0]
    out = seg.segment(read_busi(img, msk), model=model)
    assert out["mask"].shape == out.image.shape and out.attrs["segmenter"] == "unet"
    assert out.attrs["segmenter_model"].startswith("us_unet.safetensors")


# ---------------------------------------------------------------- the shipped default model


@pytest.fixture(scope="module")
def shipped():
    return seg.load_model()


def test_shipped_model_loads_with_its_metadata(shipped):
    meta = shipped.metadata
    assert seg.default_model_path().is_file()
    assert shipped.input_size == 128 and shipped.letterbox and len(shipped) == 5
    assert meta["file"] == "us_unet.safetensors" and len(meta["sha256"]) == 64
    cv = meta["cv"]
    assert len(cv["names"]) == len(cv["per_image"]) == len(cv["fold"]) == 60
    assert cv["ci_low"] <= cv["dice_mean"] <= cv["ci_high"]
    assert cv["dice_mean"] > cv["baseline_dice"] + 0.3
    n_params = sum(p.numel() for p in shipped.models[0].parameters())
    assert 100_000 < n_params < 1_000_000  # a small U-Net
    assert seg.default_model_path().stat().st_size < 6_000_000


def _held_out_images(cv):
    """Per fold, the held-out image with the median CV Dice of that fold (not cherry-picked)."""
    out = []
    for k in range(5):
        idx = [i for i, f in enumerate(cv["fold"]) if f == k]
        idx.sort(key=lambda i: cv["per_image"][i])
        out.append((k, idx[len(idx) // 2]))
    return out


def test_shipped_members_segment_held_out_busi_images(shipped, external_data):
    # each image is segmented by the fold member that never saw it (the full ensemble has seen
    # every development image in 4 of its 5 members): the CV numbers recorded in the file are
    # reproduced, and the U-Net clears a floor the Otsu baseline does not reach
    from brim.fusion.public_data import read_busi

    cv = shipped.metadata["cv"]
    root = external_data / "fusion/busi_dev"
    unet, otsu = [], []
    for k, i in _held_out_images(cv):
        name = cv["names"][i]
        ds = read_busi(root / "images" / name, root / "masks" / name)
        img, ref = ds.image.values, ds["mask"].values
        d = dice(shipped.member(k).segment_array(img), ref)
        assert d == pytest.approx(cv["per_image"][i], abs=0.02), name
        unet.append(d)
        otsu.append(dice(seg.threshold_segment(img), ref))
    assert np.mean(unet) > 0.65 > np.mean(otsu) + 0.2


def test_default_segment_runs_the_shipped_unet(shipped, external_data):
    from brim.fusion.public_data import read_busi

    root = external_data / "fusion/busi_dev"
    name = shipped.metadata["cv"]["names"][0]
    out = seg.segment(read_busi(root / "images" / name), model="default")
    assert out.attrs["segmenter"] == "unet"
    assert out.attrs["segmenter_model"].startswith("us_unet.safetensors (sha256 ")
    rec = out.brim.provenance[-1]
    assert rec["parameters"]["model"] == "default" and rec["parameters"]["segmenter"] == "unet"
    assert rec["parameters"]["model_file"] == "us_unet.safetensors"
    assert rec["parameters"]["model_sha256"] == shipped.metadata["sha256"]
    assert out["mask"].values.any()


def test_without_torch_default_falls_back_to_otsu_with_a_warning():
    # torch_available=False takes the code path of an installation without the dl extra
    with pytest.warns(UserWarning, match="torch is not installed.*Otsu baseline"):
        assert seg.resolve_model("default", torch_available=False) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert seg.resolve_model("otsu") is None and seg.resolve_model(None) is None


def test_without_torch_the_cli_says_it_ran_otsu(external_data, tmp_path):
    # a real interpreter in which `import torch` fails (a blocking import hook, set up before
    # brim is imported): the CLI warns, segments with Otsu and says so
    import subprocess
    import sys

    import brim

    src = sorted((external_data / "fusion/busi_dev/images").glob("*.png"))[0]
    args = ["fusion", "segment-us", str(src), "-o", str(tmp_path / "m.nc")]
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'safetensors'):\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from brim.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "torch is not installed" in r.stderr
    assert "segmenter: Otsu baseline" in r.stdout and "otsu-baseline" in r.stdout
    assert brim.open(tmp_path / "m.nc").attrs["segmenter"] == "otsu-baseline"


# ---------------------------------------------------------------- letterbox, TTA, post-processing


def test_letterbox_keeps_the_aspect_and_the_skin_on_top():
    img = np.zeros((60, 120), np.float32)
    img[:5] = 1.0  # the skin line
    img[20:40, 50:70] = 0.5  # a square lesion stays square
    sq, box = seg.to_square(img, size=64)
    assert box == (0, 0, 32, 64, 60, 120)
    assert sq[:2].mean() > 0.9 and sq[40:].max() == 0.0  # padding below, never above
    ys, xs = np.nonzero((sq[5:] > 0.2) & (sq[5:] < 0.8))  # below the skin line
    assert abs(np.ptp(ys) - np.ptp(xs)) <= 1
    mask = (img == 0.5).astype(np.float32)
    back = seg.from_square(seg.to_square(mask, size=64)[0], box) > 0.5
    assert back.shape == img.shape and dice(back, mask) > 0.9


def test_flip_tta_makes_the_prediction_flip_equivariant():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ens = seg.SegmenterEnsemble([seg.build_unet(base=4, depth=2).eval()], input_size=32)
    x = np.random.default_rng(0).random((2, 32, 32)).astype(np.float32)
    flipped = x[..., ::-1].copy()
    with_tta = ens.predict_proba(flipped)
    np.testing.assert_allclose(with_tta, ens.predict_proba(x)[..., ::-1], atol=1e-6)
    plain = ens.predict_proba(flipped, tta=False)
    assert np.abs(plain - ens.predict_proba(x, tta=False)[..., ::-1]).max() > 1e-4


def test_postprocess_keeps_the_most_probable_component_and_fills_holes():
    p = np.zeros((40, 40))
    p[5:25, 5:25] = 0.9
    p[12:16, 12:16] = 0.2  # a hole (a bright core inside a dark lesion)
    p[30:38, 30:38] = 0.95  # smaller, brighter false positive: less summed probability
    m = seg.postprocess(p)
    assert m.sum() == 400 and m[14, 14] == 1 and m[34, 34] == 0
    faint = np.zeros((40, 40))
    faint[10:20, 10:20] = 0.3  # nothing above 0.5: the component around the peak
    assert seg.postprocess(faint).sum() == 100
    assert not seg.postprocess(faint * 0.2).any()  # below 0.1: no lesion


def test_hypoechoic_prior_keeps_the_dark_component():
    # two candidate blobs; the slightly more probable one is as bright as its surroundings,
    # the other is dark (a lesion is hypoechoic): with the image, the dark one is kept
    rng = np.random.default_rng(0)
    img = 0.6 + 0.05 * rng.standard_normal((60, 60))
    img[35:50, 35:50] = 0.15
    p = np.zeros((60, 60))
    p[8:23, 8:23] = 0.95
    p[35:50, 35:50] = 0.9
    assert seg.postprocess(p)[15, 15] == 1  # summed probability alone: the bright blob
    m = seg.postprocess(p, image=img)
    assert m[42, 42] == 1 and m[15, 15] == 0 and m.sum() == 225


def test_augmentation_keeps_image_and_mask_aligned_and_never_flips_vertically():
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    y = torch.zeros(64, 1, 64, 64)
    y[:, :, 20:44, 12:36] = 1.0  # an off-centre lesion
    x = y * 0.8
    x[:, :, :6] = 1.0  # a bright skin line at the top
    xa, ya = seg._augment(x, y, gen)
    lesion = (xa[:, :, 8:] > 0.05) & (ya[:, :, 8:] > 0)
    d = 2 * lesion.sum() / ((xa[:, :, 8:] > 0.05).sum() + ya[:, :, 8:].sum())
    assert float(d) > 0.9
    top, bottom = xa[:, 0, :12].mean((1, 2)), xa[:, 0, -12:].mean((1, 2))
    assert bool((top > bottom).all())  # the skin stays on top in every sample
    left = ya[:, 0, :, :32].sum((1, 2)) > ya[:, 0, :, 32:].sum((1, 2))
    assert 10 < int(left.sum()) < 54  # horizontal flips do happen


def test_threshold_baseline_finds_a_synthetic_lesion():
    from brim.fusion import simulate as sim

    us = sim.synthetic_ultrasound(sim.Lesion((0, 0, 20e-3), 7.5e-3), pixel=0.5e-3, seed=3)
    out = seg.segment(us.drop_vars("mask"), model="otsu")
    assert dice(out["mask"].values, us["mask"].values) > 0.7


@pytest.mark.parametrize("spoil", ["nan", "constant"])
def test_segment_refuses_non_finite_or_blank_images(spoil):
    """A NaN pixel used to crash Otsu's threshold with a bare ValueError."""
    from brim.errors import FormatError
    from brim.fusion import simulate as sim

    us = sim.synthetic_ultrasound(sim.Lesion(center=(0.0, 0.0, 20e-3), radius=7.5e-3), seed=0)
    img = us.image.values.astype(float)
    if spoil == "nan":
        img[10, 10] = np.nan
    else:
        img[:] = 0.5
    bad = us.assign(image=(us.image.dims, img, us.image.attrs))
    with pytest.raises(FormatError, match="non-finite|constant"):
        seg.segment(bad)
    assert seg.segment(us)["mask"].values.any()
