"""Segmentation: classical pipeline against real and simulated references; U-Net."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from brim.evaluate import dice
from brim.thermo.segmentation import (
    LABELS,
    body_mask,
    find_midline,
    load_colombia,
    segment,
    segment_classical,
    train_unet,
)


def _thermogram(t):
    h, w = t.shape
    return xr.Dataset(
        {"temperature": (("y", "x"), t, {"units": "degC"})},
        coords={
            "y": ("y", np.arange(h, dtype=float), {"units": "px"}),
            "x": ("x", np.arange(w, dtype=float), {"units": "px"}),
        },
    )


def test_midline_of_a_mirror_symmetric_field():
    # oracle: a field symmetric about column 137 exactly (plus an off-centre body outline)
    rng = np.random.default_rng(0)
    h, w, c0 = 120, 300, 137
    x = np.arange(w)
    base = rng.standard_normal((h, w))
    prof = np.exp(-(((x - c0) / 60.0) ** 2))
    t = 22 + 12 * prof[None, :] + 0.3 * (base + base[:, np.clip(2 * c0 - x, 0, w - 1)])
    body = np.abs(x - c0)[None, :].repeat(h, 0) < 90
    assert abs(find_midline(t, body) - c0) <= 1


def test_classical_on_real_dmr_against_reference_mask(external_data):
    # the DMR dynamic folder ships an expert crop of the patient's left breast ("-esq")
    from brim.thermo.readers import read

    root = external_data / "thermo" / "dmr_dynamic"
    ds = read(root / "PAC_64_DN0.txt")
    seg = segment_classical(ds)
    ref = read(root / "PAC_64_DN0-esq.png")["intensity"].values > 0
    m = seg["mask"].values
    assert dice(m == LABELS["left_breast"], ref) > 0.85  # measured 0.91
    assert dice(m == LABELS["right_breast"], ref) < 0.05  # sides not swapped
    assert 280 < float(seg["midline_x"]) < 360
    # midline of the mirrored image is the mirrored midline
    flipped = ds.isel(x=slice(None, None, -1)).assign_coords(x=ds["x"].values)
    mid_f = float(segment_classical(flipped)["midline_x"])
    assert abs(mid_f - (639 - float(seg["midline_x"]))) <= 3


def test_classical_on_simulated_phantom():
    from brim.thermo.simulate import simulate_thermogram

    ds = simulate_thermogram(seed=11, tumour=False, pixel_pitch=2e-3)
    seg = segment_classical(ds)
    m = seg["mask"].values
    body = body_mask(ds["temperature"].values)
    assert dice(body, ds["body_mask"].values > 0) > 0.95
    truth = ds["breast_mask"].values  # 1 = patient's right, 2 = left
    # each detected breast overlaps its own side far more than the other
    for ours, same, other in ((2, 1, 2), (3, 2, 1)):
        assert dice(m == ours, truth == same) > dice(m == ours, truth == other) + 0.2
    assert seg.attrs["brim_schema"].startswith("mask/")


def test_unet_learns_colombian_masks(external_data):
    # tiny, downsampled run (the full-size run is in benchmarks/RESULTS.md (thermography section));
    # background is filled with a random field so the zeroed-background leak cannot be used
    d = load_colombia(external_data / "thermo" / "colombia", size=32, limit=40, seed=0)
    ids = np.array(d.ids)
    test_ids = np.unique(ids)[::4]  # grouped: both breasts of a patient on the same side
    te = np.isin(ids, test_ids)
    model = train_unet(
        d.images[~te], d.masks[~te], epochs=15, base=8, depth=2, lr=3e-3, num_threads=1
    )
    pred = model.predict(d.images[te]) > 0.5
    ours = np.mean([dice(p, r) for p, r in zip(pred, d.masks[te])])
    everything = np.mean([dice(np.ones_like(r), r) for r in d.masks[te]])
    leak = np.mean([dice(x > 0, r) for x, r in zip(d.images[te], d.masks[te])])
    assert leak < 0.95  # the leak is really removed by the filled background
    assert ours > everything + 0.02, (ours, everything)


def test_unet_save_load_and_segment(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.uniform(0, 1, (4, 16, 16)).astype(np.float32)
    masks = (imgs > 0.5).astype(np.uint8)
    model = train_unet(imgs, masks, epochs=1, base=2, depth=2, num_threads=1)
    model.save(tmp_path / "unet")
    ds = _thermogram(30 + rng.standard_normal((20, 24)))
    out = segment(ds, method="unet", model=tmp_path / "unet")
    assert out["mask"].shape == (20, 24) and out.attrs["method"] == "unet"
    from brim.errors import ConfigError

    with pytest.raises(ConfigError):
        segment(ds, method="unet")
    with pytest.raises(ConfigError):
        segment(ds, method="magic")


def test_uniform_image_has_no_body():
    """One temperature everywhere: Otsu has no two classes, so no body (not the whole frame)."""
    from brim.errors import FormatError

    flat = np.full((60, 80), 30.0)
    assert not body_mask(flat).any()
    ds = xr.Dataset({"temperature": (("y", "x"), flat, {"units": "degC"})})
    with pytest.raises(FormatError, match="body covers"):
        segment_classical(ds)


def test_colombian_labels_read_for_both_sides(external_data):
    """The right sheet names its crops ``IIR0001_right`` while the files are ``IIR0001.png``:
    both sides' labels must still be found (they were lost for every right crop before)."""
    d = load_colombia(external_data / "thermo" / "colombia", size=8, fill_background=False)
    for side in ("left", "right"):
        labels = [lab for s, lab in zip(d.sides, d.labels, strict=True) if s == side]
        assert len(labels) > 100
        assert set(labels) == {"N", "PB", "PM"}, (side, set(labels))


def test_a_per_breast_crop_with_its_own_mask_is_flagged(external_data):
    """A Colombian crop (one breast, alpha channel = its mask) used to be split silently into a
    'right' and a 'left' breast; the classical segmentation now says what happened and what to
    use. A frontal thermogram without a mask of its own gets no such warning."""
    import warnings

    import brim.data
    from brim.errors import BrimWarning
    from brim.thermo import read

    crop = read(external_data / "thermo" / "colombia" / "left" / "IIR0001.png")
    with pytest.warns(BrimWarning, match="its own mask .* use the file's mask"):
        segment_classical(crop)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BrimWarning)
        segment_classical(brim.data.sample("thermo_phantom_tumour"))
