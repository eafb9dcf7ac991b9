"""CLI end to end, samples (deterministic, small) and the Numba Green's kernel.

The demo itself runs in tests/core/test_demo_plot.py (every modality's demo).
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

import brim
import brim.data
from brim.cli import main
from brim.fusion import diffusion as dif


def test_green_matrix_equals_broadcast_formula():
    rng = np.random.default_rng(0)
    props = dif.OpticalProperties(0.004, 0.8, frequency=140e6)
    a = rng.uniform([-40, -40, 0], [40, 40, 40], (37, 3))
    b = rng.uniform([-40, -40, 0], [40, 40, 40], (23, 3))
    for bnd in ("extrapolated", "infinite"):
        np.testing.assert_allclose(
            dif.green_matrix(a, b, props, boundary=bnd),
            dif.green_semi_infinite(a[:, None], b[None], props, boundary=bnd),
            rtol=1e-12,
        )


def test_cli_pipeline(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["fusion", "simulate", "-o", str(out), "--seed", "3", "--voxel", "2"]) == 0
    meas, ref, us = out / "measurement.nc", out / "reference.nc", out / "ultrasound.nc"
    assert main(["fusion", "background", str(ref), "-o", str(tmp_path / "bg.nc")]) == 0
    bg = brim.open(tmp_path / "bg.nc")
    assert np.all(bg.musp.values == pytest.approx(0.7, rel=0.02))
    m1, m2 = tmp_path / "m1.nc", tmp_path / "m2.nc"
    args = ["fusion", "reconstruct", str(meas), "--reference", str(ref)]
    assert main(args + ["--roi", "0,0,20,7.5", "-o", str(m1), "--nonlinear-iterations", "0"]) == 0
    assert main(args + ["--us", str(us), "-o", str(m2), "--nonlinear-iterations", "0"]) == 0
    assert main(["fusion", "hemoglobin", str(m2), "-o", str(tmp_path / "hb.nc")]) == 0
    hb = brim.open(tmp_path / "hb.nc")
    assert 40 < float(hb.lesion_hbt) < 90 and "hbt" in hb
    # bad input: a clear one-line error and exit status 2, no output written
    assert main(args + ["-o", str(tmp_path / "x.nc")]) == 2
    assert "exactly one of --us" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()
    assert main(["fusion", "register", str(us), str(us), "-o", str(tmp_path / "r.nc")]) == 0
    reg = brim.open(tmp_path / "r.nc")
    np.testing.assert_allclose(reg.affine.values, np.eye(3), atol=0.05)


def test_cli_reconstruct_segments_an_unmasked_us_with_the_shipped_unet(tmp_path, capsys):
    """--us without a mask: the default segmenter (the shipped U-Net) places the ROI, says so,
    and the lesion comes out as with the simulator's true mask (within 15 %)."""
    pytest.importorskip("torch")
    out = tmp_path / "sim"
    assert main(["fusion", "simulate", "-o", str(out), "--seed", "3", "--voxel", "2"]) == 0
    meas, ref, us = out / "measurement.nc", out / "reference.nc", out / "ultrasound.nc"
    bare = brim.save(brim.open(us)[["image"]].drop_attrs(deep=False), tmp_path / "bare.nc")
    args = ["fusion", "reconstruct", str(meas), "--reference", str(ref)]
    hbt = {}
    for name, src in (("true", us), ("unet", bare)):
        capsys.readouterr()
        assert main(args + ["--us", str(src), "-o", str(tmp_path / f"{name}.nc")]) == 0
        said = capsys.readouterr().out
        assert ("segmenter: U-Net ensemble" in said) == (name == "unet"), said
        assert main(["fusion", "hemoglobin", str(tmp_path / f"{name}.nc"), "-o",
                     str(tmp_path / f"hb_{name}.nc")]) == 0  # fmt: skip
        hbt[name] = float(brim.open(tmp_path / f"hb_{name}.nc").lesion_hbt)
    assert hbt["unet"] == pytest.approx(hbt["true"], rel=0.15), hbt


def test_cli_reconstruct_weighting(tmp_path, capsys):
    """Files with per-pair standard errors (the Monte Carlo data) are weighted by them and the
    command says so; ``--weighting equal`` gives another answer; ``--weighting noise`` on files
    without errors is a clear error (exit 2), with no output file."""
    mc = Path(__file__).resolve().parents[2] / "data_samples" / "fusion_mmc"
    if not (mc / "d15_z20.nc").exists():
        pytest.skip("the Monte Carlo files are not in this checkout")
    args = ["fusion", "reconstruct", str(mc / "d15_z20.nc"), "--reference",
            str(mc / "reference.nc"), "--roi", "0,0,20,7.5",
            "--nonlinear-iterations", "0"]  # fmt: skip
    lesion = {}
    for weighting in ("auto", "equal"):
        capsys.readouterr()
        out = tmp_path / f"{weighting}.nc"
        assert main(args + ["--weighting", weighting, "-o", str(out)]) == 0
        said = capsys.readouterr().out
        assert ("standard errors" in said) == (weighting == "auto"), said
        assert ("misfit per value" in said) == (weighting == "auto"), said
        rec = brim.open(out)
        assert rec.attrs["data_weighting"] == ("noise" if weighting == "auto" else "equal")
        lesion[weighting] = rec.lesion_delta_mua.values
    assert not np.allclose(lesion["auto"], lesion["equal"], rtol=1e-3)
    sample = brim.data.sample_dir()
    bad = tmp_path / "bad.nc"
    code = main(["fusion", "reconstruct", str(sample / "fusion_measurement.nc"), "--reference",
                 str(sample / "fusion_reference.nc"), "--roi", "5,0,20,7.5", "--weighting",
                 "noise", "-o", str(bad)])  # fmt: skip
    assert code == 2
    assert "needs the standard errors" in capsys.readouterr().err
    assert not bad.exists()


def test_cli_simulated_shot_noise_is_weighted_and_fits_to_its_noise(tmp_path, capsys):
    """``fusion simulate --noise shot`` states its errors; ``reconstruct`` weighs by them and
    the lesion fit explains the data to that noise (misfit per value near 1, measured
    0.85-1.00), with the lesion's HbT within 10 %."""
    out = tmp_path / "shot"
    assert main(["fusion", "simulate", "-o", str(out), "--noise", "shot", "--voxel", "2"]) == 0
    args = ["fusion", "reconstruct", str(out / "measurement.nc"), "--reference",
            str(out / "reference.nc"), "--us", str(out / "ultrasound.nc")]  # fmt: skip
    capsys.readouterr()
    assert main(args + ["-o", str(tmp_path / "map.nc")]) == 0
    assert "standard errors" in capsys.readouterr().out
    rec = brim.open(tmp_path / "map.nc")
    assert np.all((rec.lesion_fit_chi2.values > 0.6) & (rec.lesion_fit_chi2.values < 1.5))
    assert main(["fusion", "hemoglobin", str(tmp_path / "map.nc"), "-o",
                 str(tmp_path / "hb.nc")]) == 0  # fmt: skip
    assert float(brim.open(tmp_path / "hb.nc").lesion_hbt) == pytest.approx(70.0, rel=0.10)


def test_cli_segment_png(external_data, tmp_path, capsys):
    pytest.importorskip("torch")
    img = sorted((external_data / "fusion/busi_dev/images").glob("*.png"))[0]
    # without --model: the U-Net ensemble shipped with brim, named in the output and the file
    assert main(["fusion", "segment-us", str(img), "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "segmenter: U-Net ensemble of 5 from us_unet.safetensors" in out and "unet)" in out
    res = brim.open(tmp_path / f"{img.stem}_mask.nc")
    assert res["mask"].values.any() and res.attrs["segmenter"] == "unet"
    assert res.attrs["segmenter_model"].startswith("us_unet.safetensors")
    # --model otsu: the classical baseline, also named
    dst = tmp_path / "otsu.nc"
    assert main(["fusion", "segment-us", str(img), "-o", str(dst), "--model", "otsu"]) == 0
    assert "segmenter: Otsu baseline" in capsys.readouterr().out
    assert brim.open(dst).attrs["segmenter"] == "otsu-baseline"


def test_samples_small_and_deterministic(tmp_path, monkeypatch):
    from brim.fusion.samples import make_samples

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = make_samples(tmp_path / "a")
    b = make_samples(tmp_path / "b")
    assert sum(p.stat().st_size for p in a) < 500_000
    for p, q in zip(a, b):
        assert hashlib.sha256(p.read_bytes()).digest() == hashlib.sha256(q.read_bytes()).digest()
        brim.open(p).brim.validate()
    assert {p.name for p in a} == {
        "fusion_measurement.nc", "fusion_reference.nc", "fusion_ultrasound.nc"
    }  # fmt: skip


def test_green_matrix_backends(xp):
    # NumPy (Numba), torch-CPU and CuPy (gpu marker) give the same numbers
    rng = np.random.default_rng(3)
    props = dif.OpticalProperties(0.004, 0.8, frequency=140e6)
    a = rng.uniform([-40, -40, 0], [40, 40, 40], (17, 3))
    b = rng.uniform([-40, -40, 0], [40, 40, 40], (11, 3))
    ref = dif.green_matrix(a, b, props)
    out = dif.green_matrix(xp.asarray(a), xp.asarray(b), props)
    from brim.backend import backend_of, to_numpy

    assert backend_of(out) == xp.name
    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-12)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["hemoglobin", "{thermo}", "-o", "{out}"], ["thermo_phantom_tumour.nc:", "'mua'"]),
        (["segment-us", "{thermo}", "-o", "{out}"], ["thermo_phantom_tumour.nc:", "B-mode"]),
        (
            ["reconstruct", "{meas}", "--reference", "{ref}", "--us", "{ref}", "-o", "{out}"],
            ["fusion_reference.nc:", "B-mode"],
        ),
    ],
)
def test_a_file_of_another_kind_is_named_in_one_line(tmp_path, capsys, argv, words):
    """A thermogram given to hemoglobin or segment-us, a measurement given as --us: the error
    named no file ("need a 'mua' map...", "the ultrasound Dataset needs an 'image'..."), and
    segment-us / reconstruct printed which U-Net runs before failing."""
    paths = {
        "thermo": brim.data.sample_path("thermo_phantom_tumour"),
        "meas": brim.data.sample_path("fusion_measurement"),
        "ref": brim.data.sample_path("fusion_reference"),
        "out": tmp_path / "out.nc",
    }
    argv = ["fusion", *(a.format(**paths) for a in argv)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("brim: error:")
    assert captured.err.count("\n") == 1 and all(w in captured.err for w in words), captured.err
    assert not (tmp_path / "out.nc").exists()


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("simulate", ["--depth MM", "--diameter MM", "--hbt UM", "--so2 FRACTION", "--voxel MM"]),
        (
            "reconstruct",
            ["--reference MEASUREMENT", "--us IMAGE", "--roi X,Y,Z,R", "--musp PER_MM"],
        ),
        ("background", ["--min-distance MM", "MEASUREMENT"]),
    ],
)
def test_usage_line_names_the_units(capsys, command, shown):
    """The usage line said ``--depth DEPTH``, ``--roi ROI``, ``--reference REFERENCE``: what to
    give, and in which unit, only further down (or nowhere, for --roi's order)."""
    assert main(["fusion", command, "--help"]) == 0
    usage = capsys.readouterr().out.partition("\n\n")[0]
    assert all(s in usage for s in shown), usage
