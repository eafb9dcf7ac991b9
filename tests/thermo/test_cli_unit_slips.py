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
