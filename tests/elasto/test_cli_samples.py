"""CLI end to end (simulate -> strain -> ratio -> swe), errors, and deterministic samples."""

import hashlib
import json

import numpy as np
import pytest

from brim.cli import main
from brim.elasto.samples import make_samples


@pytest.fixture(scope="module")
def simdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert main(["elasto", "simulate", "-o", str(out)]) == 0
    return out


def test_cli_strain_and_ratio(simdir, capsys):
    strain = simdir / "strain.nc"
    pair = simdir / "elasto_phantom_pair.nc"
    assert main(["elasto", "strain", str(pair), "-o", str(strain), "--method", "dp"]) == 0
    capsys.readouterr()
    rc = main(
        [
            "elasto", "ratio", str(strain),
            "--lesion", "rect:12,18,7,13", "--reference", "rect:4.5,7.5,3.5,6.5",
        ]
    )  # fmt: skip
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    # 60 kPa lesion vs 6 kPa fat-like reference: fat strains several times more
    assert out["strain_ratio"] > 2.5
    assert out["elasticity_score"] in range(1, 6)


def test_cli_swe(simdir, capsys):
    rc = main(["elasto", "swe", str(simdir / "elasto_shear_wave.nc"), "-o", str(simdir / "s.nc")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["group_speed_m_s"] == pytest.approx(2.5, rel=0.03)


def test_cli_convert_and_errors(tmp_path, capsys):
    p = tmp_path / "rf.npy"
    np.save(p, np.random.default_rng(0).standard_normal((2, 300, 16)))
    args = ["--fs", "20e6", "--fc", "5e6", "--pitch", "2e-4"]
    assert main(["elasto", "convert", str(p), "-o", str(tmp_path / "rf.nc"), *args]) == 0
    assert (
        main(["elasto", "displacement", str(tmp_path / "rf.nc"), "-o", str(tmp_path / "d.nc")]) == 0
    )
    capsys.readouterr()
    # raw array without parameters: one-line error, non-zero status, no output written
    assert main(["elasto", "strain", str(p), "-o", str(tmp_path / "x.nc")]) == 2
    assert "brim: error:" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_samples_small_and_deterministic(tmp_path):
    a = make_samples(tmp_path / "a")
    b = make_samples(tmp_path / "b")
    assert [p.name for p in a] == ["elasto_phantom_pair.nc"]
    for p, q in zip(a, b):
        assert p.stat().st_size < 800_000
        assert hashlib.sha256(p.read_bytes()).digest() == hashlib.sha256(q.read_bytes()).digest()


def test_cli_convert_and_beamform_pybf(external_data, tmp_path):
    import brim.io

    src = external_data / "elasto/pybf_channel/rf_dataset.hdf5"
    assert main(["elasto", "convert", str(src), "-o", str(tmp_path / "ch.nc")]) == 0
    ch = brim.io.open(tmp_path / "ch.nc")
    assert ch.attrs["brim_schema"].startswith("channel_data")
    out = tmp_path / "rf.nc"
    assert (
        main(
            [
                "elasto",
                "beamform",
                str(tmp_path / "ch.nc"),
                "-o",
                str(out),
                "--zmax",
                "12",
                "--no-progress",
            ]
        )
        == 0
    )
    rf = brim.io.open(out)
    assert rf["rf"].shape[0] == 1 and rf.sizes["line"] == 192


def test_batch_pipeline(simdir):
    from brim.elasto.pipelines import strain_from_file

    s = strain_from_file(str(simdir / "elasto_phantom_pair.nc"), method="ncc")
    assert abs(np.nanmedian(s["strain"].values) + 0.01) < 0.001
