"""CLI: image a simulated scan end to end and read its metrics; bad input -> clear error."""

import json

from brim.cli import main
from brim.io import save
from brim.microwave import samples


def test_cli_image_and_metrics(tmp_path, capsys):
    scan = tmp_path / "scan.nc"
    save(samples.simulate_scan(target=(0.015, 0.0, 0.035)), scan)
    img = tmp_path / "img.nc"
    rc = main(
        [
            "microwave",
            "image",
            str(scan),
            "-o",
            str(img),
            "--beamformer",
            "all",
            "--grid",
            "plane:0.05,0.0025,0.035",
            "--no-progress",
        ]
    )
    assert rc == 0 and img.is_file()
    capsys.readouterr()
    assert main(["microwave", "metrics", str(img), "--target", "0.015,0,0.035"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"das", "dmas", "cf_das", "capon"}
    assert out["das"]["localisation_error_m"] <= 0.0025 + 1e-9
    cal = tmp_path / "cal.nc"
    assert main(["microwave", "calibrate", str(scan), "--average", "-o", str(cal)]) == 0
    assert main(["microwave", "info", str(scan)]) == 0


def test_cli_bad_input(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("hello")
    assert main(["microwave", "info", str(tmp_path / "x.txt")]) == 2
    assert "unknown scan format" in capsys.readouterr().err
    assert main(["microwave", "metrics", str(tmp_path / "none.nc"), "--target", "1,2"]) != 0


def test_cli_bad_settings_name_the_problem_and_write_nothing(tmp_path, capsys):
    scan = tmp_path / "scan.nc"
    save(samples.simulate_scan(), scan)
    img = tmp_path / "img.nc"
    for extra, says in (
        (["--grid", "plane:0.05,0,0.03"], "resolution"),
        (["--grid", "0.05,nan"], "resolution"),
        (["--eps-r", "nan"], "--eps-r"),
        # no upper bound used to image at eps_r 8000 (breast tissue <= ~70, water ~80)
        (["--eps-r", "8000"], "--eps-r must be in [1, 100]"),
    ):
        assert main(["microwave", "beamform", str(scan), "-o", str(img), *extra]) == 2
        err = capsys.readouterr().err
        assert "brim: error" in err and says in err
        assert not img.exists()
    argv = ["microwave", "estimate-propagation", str(scan), "-o", str(img), "--eps-max", "500"]
    assert main(argv) == 2
    assert "--eps-min/--eps-max must be in [1, 100]" in capsys.readouterr().err
    assert not img.exists()


def test_cli_estimate_propagation_and_beamform_default(tmp_path, capsys):
    import xarray as xr

    scan = tmp_path / "scan.nc"
    save(samples.simulate_scan(target=(0.015, 0.0, 0.035), noise=1e-5), scan)
    cal = tmp_path / "cal.nc"
    assert main(["microwave", "calibrate", str(scan), "--average", "-o", str(cal)]) == 0
    est = tmp_path / "est.nc"
    capsys.readouterr()
    assert main(["microwave", "estimate-propagation", str(cal), "-o", str(est)]) == 0
    assert "eps_r" in capsys.readouterr().out
    with xr.open_dataset(est) as ds:
        assert ds["curve"].dims == ("eps_r",) and 3 <= ds.attrs["propagation_eps_r"] <= 20
    img = tmp_path / "img.nc"
    grid = ["--grid", "plane:0.04,0.005,0.035", "--no-progress"]
    assert main(["microwave", "beamform", str(cal), "-o", str(img), *grid]) == 0
    with xr.open_dataset(img) as ds:  # the default eps_r is the estimate, kept in the attrs
        assert ds.attrs["eps_r"] == ds.attrs["propagation_eps_r"]
        assert len(ds.attrs["propagation_curve"]) > 3
    assert (
        main(
            ["microwave", "beamform", str(cal), "-o", str(tmp_path / "b.nc"), "--eps-r", "8", *grid]
        )
        == 0
    )
    with xr.open_dataset(tmp_path / "b.nc") as ds:
        assert ds.attrs["eps_r"] == 8.0 and "propagation_eps_r" not in ds.attrs


def test_cli_calibrate_without_option_uses_the_scans_own_reference(tmp_path, capsys):
    """No option: the reference the scan carries is subtracted (and stderr says so); a scan
    without one gets a clear error and no output file."""
    import numpy as np

    import brim
    from brim.microwave.radar import calibration as cal

    scan = brim.data.sample_path("microwave_radar_scan")
    out = tmp_path / "cal.nc"
    assert main(["microwave", "calibrate", str(scan), "-o", str(out)]) == 0
    assert "own" in capsys.readouterr().err
    expected = cal.reference_subtraction(brim.open(scan))
    np.testing.assert_allclose(brim.open(out)["s"].values, expected["s"].values, rtol=1e-12)
    again = tmp_path / "again.nc"
    assert main(["microwave", "calibrate", str(out), "-o", str(again)]) == 2
    assert "no reference of its own" in capsys.readouterr().err
    assert not again.exists()


def test_convert_a_folder_of_scans_names_a_file_to_give(tmp_path, capsys):
    """``brim microwave convert merit/`` said only "is a folder; give a regular file"."""
    folder = tmp_path / "merit"
    folder.mkdir()
    for name in ("B0_P3_p000.csv", "antenna_locations.csv", "frequencies.csv"):
        (folder / name).write_text("0\n")
    assert main(["microwave", "convert", str(folder), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and err.count("\n") == 1
    assert f"e.g. {folder / 'B0_P3_p000.csv'}" in err
    assert not (tmp_path / "out").exists()
