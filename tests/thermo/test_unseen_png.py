"""Grey thermal PNGs in variants the Colombian development crops do not show.

The development crops are RGBA with R = G = B and the breast mask in alpha. Other exports of
the same images are palette PNGs (an index per pixel, not a grey level), RGB or grey without
alpha, an alpha channel that is opaque everywhere (no mask) or transparent everywhere (an
empty mask), or 16-bit grey. Each must give the stored grey levels or a one-line refusal.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from brim.cli import main
from brim.errors import FormatError
from brim.thermo.readers import read


@pytest.fixture
def crop():
    """(grey, alpha) of a breast crop: the real IIR0001 when available, else a synthetic one."""
    from brim.data import external_data

    root = external_data()
    if root is not None:
        rgba = np.asarray(Image.open(root / "thermo" / "colombia" / "left" / "IIR0001.png"))
        return rgba[..., 0].copy(), rgba[..., 3].copy()
    yy, xx = np.mgrid[:120, :100]
    grey = (60 + 150 * np.exp(-((yy - 60) ** 2 + (xx - 50) ** 2) / 1500.0)).astype(np.uint8)
    alpha = np.where((yy - 60) ** 2 + (xx - 50) ** 2 < 45**2, 255, 0).astype(np.uint8)
    return grey, alpha


def test_palette_png_gives_the_palette_grey_levels_not_indices(tmp_path, crop):
    grey, _ = crop
    im = Image.fromarray(grey, "L").convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    path = tmp_path / "IIR9001.png"
    im.save(path)
    expected = np.asarray(Image.open(path).convert("L")).astype(np.float32)
    ds = read(path)
    np.testing.assert_array_equal(ds["intensity"].values, expected)
    assert ds["intensity"].values.max() > 64  # indices of a 64-colour palette never exceed 63


def test_palette_png_with_transparency_keeps_its_mask(tmp_path, crop):
    grey, alpha = crop
    rgba = np.dstack([grey, grey, grey, alpha])
    path = tmp_path / "IIR9002.png"
    Image.fromarray(rgba, "RGBA").quantize(128).save(path)
    expected = np.asarray(Image.open(path).convert("RGBA"))
    ds = read(path)
    np.testing.assert_array_equal(ds["intensity"].values, expected[..., 0])
    np.testing.assert_array_equal(ds["mask"].values, (expected[..., 3] > 127).astype(np.uint8))


def test_colour_palette_png_is_refused(tmp_path, crop):
    grey, _ = crop
    rgb = np.dstack([grey, 255 - grey, grey // 2])
    path = tmp_path / "IIR9003.png"
    Image.fromarray(rgb, "RGB").quantize(64).save(path)
    with pytest.raises(FormatError, match="colour"):
        read(path)


def test_opaque_alpha_is_no_mask_and_rgb_without_alpha_reads(tmp_path, crop):
    grey, _ = crop
    opaque = tmp_path / "IIR9004.png"
    Image.fromarray(np.dstack([grey, grey, grey, np.full_like(grey, 255)]), "RGBA").save(opaque)
    plain = tmp_path / "IIR9005.png"
    Image.fromarray(np.dstack([grey, grey, grey]), "RGB").save(plain)
    for path in (opaque, plain):
        ds = read(path)
        np.testing.assert_array_equal(ds["intensity"].values, grey.astype(np.float32))
        assert "mask" not in ds  # an opaque alpha says nothing about where the breast is


def test_transparent_alpha_and_16_bit_grey_are_one_line_cli_errors(tmp_path, crop, capsys):
    grey, _ = crop
    clear = tmp_path / "IIR9006.png"
    Image.fromarray(np.dstack([grey, np.zeros_like(grey)]), "LA").save(clear)
    deep = tmp_path / "IIR9007.png"
    Image.fromarray(grey.astype(np.uint16) * 257).save(deep)
    for path, phrase in ((clear, "transparent everywhere"), (deep, "8-bit")):
        with pytest.raises(FormatError, match=phrase):
            read(path)
        out = tmp_path / (path.stem + ".nc")
        capsys.readouterr()
        assert main(["thermo", "convert", str(path), "-o", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("brim: error:") and phrase in err and "\n" not in err
        assert not out.exists()


def test_a_folder_of_crops_of_many_sizes_is_a_short_error(tmp_path, crop, capsys):
    grey, alpha = crop
    for k in range(6):  # breast crops: one image per breast, each of its own size
        sub = np.ascontiguousarray(np.dstack([grey, grey, grey, alpha])[k:, : grey.shape[1] - k])
        Image.fromarray(sub, "RGBA").save(tmp_path / f"IIR000{k}.png")
    out = tmp_path / "out.nc"
    assert main(["thermo", "convert", str(tmp_path), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("brim: error: frames have 6 different sizes") and "*.png" in err
    assert len(err) < 300 and not out.exists()


def test_grey_png_with_a_transparent_grey_level_gives_that_mask(tmp_path, crop):
    grey, alpha = crop
    masked = np.where(alpha > 127, np.maximum(grey, 1), 0).astype(np.uint8)
    path = tmp_path / "IIR9008.png"
    Image.fromarray(masked, "L").save(path, transparency=0)  # tRNS: grey level 0 is transparent
    ds = read(path)
    np.testing.assert_array_equal(ds["intensity"].values, masked.astype(np.float32))
    np.testing.assert_array_equal(ds["mask"].values, (masked != 0).astype(np.uint8))
