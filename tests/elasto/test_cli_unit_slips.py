"""Values typed in the wrong unit or sign are one-line errors, never a silent wrong result.

Each case is a mistake a new user makes (MHz for Hz, mm for m, g/cm^3 for kg/m^3, 1 for 1 %);
the command must exit 2 with ``brim: error:`` naming the option, and write nothing.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from brim.cli import main

RAW = ["--fs", "20e6", "--fc", "5e6", "--pitch", "2e-4"]


@pytest.fixture(scope="module")
def simdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert main(["elasto", "simulate", "-o", str(out)]) == 0
    return out


@pytest.fixture
def raw_rf(tmp_path):
    p = tmp_path / "rf.npy"
    np.save(p, np.random.default_rng(0).standard_normal((2, 300, 16)))
    return p


def _refused(capsys, argv, out, *words):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--fs", "20"), ("--fc", "5"), ("--pitch", "0.2"), ("--c", "1.54"), ("--c", "-1540")],
)
def test_acquisition_values_in_the_wrong_unit_are_refused(raw_rf, tmp_path, capsys, option, value):
    argv = ["elasto", "strain", str(raw_rf), "-o", str(tmp_path / "s.nc"), *RAW, option, value]
    _refused(capsys, argv, tmp_path / "s.nc", option)


def test_beamform_zmax_in_metres_is_refused(raw_rf, tmp_path, capsys):
    # --zmax is in mm: 0.04 (metres) used to give "depths must be a non-empty 1-D array"
    out = tmp_path / "b.nc"
    _refused(capsys, ["elasto", "beamform", str(raw_rf), "-o", str(out), "--zmax", "0.04"], out,
             "--zmax", "mm")  # fmt: skip


@pytest.mark.parametrize(
    "extra", [["--compression", "1"], ["--compression", "-0.01"], ["--shear-speed", "0"]]
)
def test_simulate_refuses_bad_values_before_writing(tmp_path, capsys, extra):
    # --shear-speed 0 used to write elasto_phantom_pair.nc and then fail: a half-written folder
    out = tmp_path / "sim"
    _refused(capsys, ["elasto", "simulate", "-o", str(out), *extra], out, extra[0])


def test_swe_density_in_g_per_cm3_is_refused(simdir, tmp_path, capsys):
    out = tmp_path / "swe.nc"
    argv = ["elasto", "swe", str(simdir / "elasto_shear_wave.nc"), "-o", str(out)]
    _refused(capsys, [*argv, "--density", "1.0"], out, "--density", "kg/m^3")


def test_swe_without_roi_prints_strict_json(simdir, tmp_path, capsys):
    capsys.readouterr()
    argv = ["elasto", "swe", str(simdir / "elasto_shear_wave.nc"), "-o", str(tmp_path / "s.nc")]
    assert main(argv) == 0

    def no_nan(name):
        raise AssertionError(f"{name} is not JSON")

    out = json.loads(capsys.readouterr().out, parse_constant=no_nan)
    assert out["Emax_kPa"] is None and out["Emean_kPa"] is None
    assert out["youngs_modulus_kPa"] > 0


def test_ratio_roi_errors_name_the_problem(simdir, tmp_path, capsys):
    strain = tmp_path / "strain.nc"
    pair = simdir / "elasto_phantom_pair.nc"
    assert main(["elasto", "strain", str(pair), "-o", str(strain)]) == 0
    ref = ["--reference", "rect:4.5,7.5,3.5,6.5"]
    capsys.readouterr()
    # a negative radius used to pass (r*r) and give an elasticity score
    assert main(["elasto", "ratio", str(strain), "--lesion", "circle:15,10,-2", *ref]) == 2
    assert "radius must be > 0" in capsys.readouterr().err
    # outside the image: the message gives the image's extent, not a dataclass repr
    assert main(["elasto", "ratio", str(strain), "--lesion", "rect:120,180,7,13", *ref]) == 2
    err = capsys.readouterr().err
    assert "StrainRoi(" not in err and "spans depth" in err


def test_simulate_default_compression_is_the_bundled_sample(simdir, tmp_path):
    # --compression 0.01 ("default 0.01" in the help) used to switch to another phantom
    # (one central inclusion, no fat-like ROI for 'ratio'); now it is the sample's pair
    import brim
    import brim.data

    out = tmp_path / "c"
    assert main(["elasto", "simulate", "-o", str(out), "--compression", "0.01"]) == 0
    sample = brim.data.sample("elasto_phantom_pair")
    made = brim.open(out / "elasto_phantom_pair.nc")
    # the same phantom to float32 rounding, not bit for bit: another CPU's vector maths (AVX2
    # instead of AVX-512) moves a few samples by ~1e-9 (tests/core/test_samples.py's tolerance);
    # the other phantom differs by the order of the RF's peak
    old = sample["rf"].values
    peak = float(np.abs(old).max())
    np.testing.assert_allclose(made["rf"].values, old, rtol=0, atol=1e-6 * peak)


def test_simulate_seed_changes_the_speckle(simdir, tmp_path):
    # --seed without --compression used to be ignored for the pair
    import brim

    out = tmp_path / "s"
    assert main(["elasto", "simulate", "-o", str(out), "--seed", "1"]) == 0
    a = brim.open(simdir / "elasto_phantom_pair.nc")["rf"].values
    b = brim.open(out / "elasto_phantom_pair.nc")["rf"].values
    assert a.shape == b.shape and not np.allclose(a, b)


def test_beamform_help_examples_run_when_pasted(external_data, tmp_path, monkeypatch, capsys):
    # 'beamform channels.nc' named a file no earlier example made
    import shlex

    monkeypatch.setenv("BRIM_EXTERNAL_DATA", str(external_data))
    monkeypatch.chdir(tmp_path)
    assert main(["elasto", "beamform", "--help"]) == 0
    lines = capsys.readouterr().out.split("Examples:")[1].strip().splitlines()
    for line in lines:
        argv = shlex.split(line.strip().replace("$BRIM_EXTERNAL_DATA", str(external_data)))[1:]
        assert main([*argv, *(["--no-progress"] if argv[1] == "beamform" else [])]) == 0, line
    assert (tmp_path / "bmode_iq.nc").exists()


def test_group_help_states_the_unit_convention(capsys):
    # ROIs, --zmax and --push-x are in mm but --pitch in m: the group's help used to say nothing
    assert main(["elasto", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "in mm (the ROIs --lesion, --reference and --roi, --zmax, --push-x)" in text, text
    assert "--pitch in m," in text
    # and the convention is the commands' own: each option's help gives the same unit
    for command, option, unit in (
        ("beamform", "--zmax", "mm"),
        ("ratio", "--lesion", "mm"),
        ("ratio", "--reference", "mm"),
        ("swe", "--roi", "mm"),
        ("swe", "--push-x", "mm"),
        ("convert", "--pitch", "m"),
    ):
        assert main(["elasto", command, "--help"]) == 0
        out = capsys.readouterr().out
        entry = re.search(rf"^  {option}\b.*?(?=^  -|\Z)", out, re.MULTILINE | re.DOTALL)
        assert entry is not None, (command, option)
        line = " ".join(entry.group().split())
        assert f"({unit}" in line or f"{unit})" in line, (command, option, line)


def _strain_file(tmp_path):
    """A 30 mm x 20 mm strain image (depth, line in m), as 'brim elasto strain' writes it."""
    import xarray as xr

    import brim

    depth = xr.DataArray(np.linspace(1e-3, 29e-3, 29), dims="depth", attrs={"units": "m"})
    line = xr.DataArray(np.linspace(0.5e-3, 19.5e-3, 20), dims="line", attrs={"units": "m"})
    strain = xr.DataArray(np.full((29, 20), -0.01), dims=("depth", "line"))
    p = tmp_path / "strain.nc"
    brim.save(xr.Dataset({"strain": strain}, coords={"depth": depth, "line": line}), p)
    return p


@pytest.mark.parametrize(
    ("option", "roi"),
    [("--lesion", "rect:0.012,0.018,0.007,0.013"), ("--reference", "circle:50,10,3")],
)
def test_ratio_roi_outside_the_image_says_mm(tmp_path, capsys, option, roi):
    """An ROI typed in m was reported as 'rect:1.2e-05,... (m) contains no pixel', in metres the
    user never typed; now the option, the text typed and the image's extent in mm."""
    other = {"--lesion": "rect:12,18,7,13", "--reference": "rect:4,8,3,7"}
    other[option] = roi
    argv = ["elasto", "ratio", str(_strain_file(tmp_path))]
    argv += ["--lesion", other["--lesion"], "--reference", other["--reference"]]
    no_output = tmp_path / "ratio writes no file"
    _refused(capsys, argv, no_output, f"{option} {roi}", "depth 1.0 to 29.0 mm", "in mm")
