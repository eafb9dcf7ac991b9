"""FLIR overrides typed in the wrong unit are one-line errors, never a silently wrong thermogram.

``--reflected-temp 300`` (kelvin typed where degC is asked) used to convert the AX8 file to skin
at -15 degC without a word; ``--distance 800`` (mm or cm for metres) was taken as 800 m.
"""

from __future__ import annotations

import pytest

from brim.cli import main


@pytest.mark.parametrize(
    ("option", "value", "word"),
    [
        ("--reflected-temp", "300", "kelvin"),
        ("--atmospheric-temp", "293.15", "kelvin"),
        ("--reflected-temp", "-300", "degC"),
        ("--distance", "800", "metres"),
    ],
)
def test_flir_overrides_in_the_wrong_unit_are_refused(
    external_data, tmp_path, capsys, option, value, word
):
    flir = external_data / "thermo" / "flir" / "ax8.jpg"
    out = tmp_path / "ax8.nc"
    assert main(["thermo", "convert", str(flir), "-o", str(out), option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and option in err and word in err, err
    assert not out.exists()


def test_plausible_flir_overrides_still_convert(external_data, tmp_path):
    flir = external_data / "thermo" / "flir" / "ax8.jpg"
    out = tmp_path / "ax8.nc"
    argv = ["thermo", "convert", str(flir), "-o", str(out), "--reflected-temp", "22"]
    assert main([*argv, "--atmospheric-temp", "21", "--distance", "0.8"]) == 0
    assert out.exists()


def test_labels_that_are_not_text_are_a_format_error(tmp_path, capsys):
    # a PNG given as --labels used to end in a UnicodeDecodeError traceback
    import numpy as np
    from PIL import Image

    png = tmp_path / "labels.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png)
    data = tmp_path / "data"
    data.mkdir()
    argv = ["thermo", "train", str(data), "--labels", str(png), "-o", str(tmp_path / "m")]
    assert main([*argv, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("brim: error:") and "ID,Diagnosis" in err and "Traceback" not in err


def _grey_png(path):
    """An 8-bit grey 'thermogram' (uncalibrated): a warm body on a cold background."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:120, 0:160]
    body = ((x - 80) / 70.0) ** 2 + ((y - 70) / 60.0) ** 2 < 1
    img = np.where(body, 180 + 20 * np.cos(x / 9.0), 20).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


def test_features_of_grey_images_are_not_labelled_degc(tmp_path, capsys):
    # the units file said degC / K for grey levels (mean_right 184 'degC')
    png = _grey_png(tmp_path / "grey.png")
    out = tmp_path / "f.csv"
    assert main(["thermo", "features", str(png), "-o", str(out), "--no-progress"]) == 0
    units = dict(
        line.split(",", 1) for line in (tmp_path / "f.units.csv").read_text().splitlines()[1:]
    )
    assert units["mean_right"] == "grey level" and units["delta_mean"] == "grey level"
    assert units["breast_area_ratio"] == "1"


def test_features_refuse_to_mix_grey_images_and_thermograms(tmp_path, capsys):
    import brim.data

    png = _grey_png(tmp_path / "grey.png")
    nc = brim.data.sample_path("thermo_phantom_tumour")
    out = tmp_path / "f.csv"
    assert main(["thermo", "features", str(png), str(nc), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "grey.png" in err and "different units" in err
    assert not out.exists() and not (tmp_path / "f.units.csv").exists()
