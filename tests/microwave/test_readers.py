"""Readers: the real MERIT files, Touchstone round trip, UM-BMID .mat, NPZ, and bad files."""

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from brim.errors import FormatError, MissingFileError
from brim.microwave import radar, readers
from brim.microwave.radar import calibration as cal
from brim.microwave.radar import metrics
from brim.schema import validate

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402


@pytest.fixture(scope="module")
def merit(external_data):
    return external_data / "microwave" / "merit"


def test_read_merit_real(merit):
    ds = readers.read_merit(merit / "B0_P3_p000.csv", reference=merit / "B0_P3_p036.csv")
    validate(ds, "sparameter_scan")
    assert ds["s"].dims == ("freq", "channel") and ds["s"].shape == (76, 96)
    assert ds.freq.values[0] == 1.5e9 and ds.freq.values[-1] == 4.5e9
    assert ds.sizes["antenna"] == 24 and ds["antenna_x"].attrs["units"] == "m"
    # first cell of the file, as written: -0.025697-0.0043991i ; channel 1 is antennas (1, 2)
    assert ds["s"].values[0, 0] == pytest.approx(-0.025697 - 0.0043991j)
    assert (int(ds.tx[0]), int(ds.rx[0])) == (0, 1)
    assert ds["s_reference"].attrs["reference_kind"] == "rotation"
    assert ds.attrs["antenna_position_kind"] == "geometric"


@pytest.mark.parametrize(
    "phantom, target, bounds",
    [
        # measured (brim 2.5 mm hemisphere, eps_r 8, geometric antenna positions, no phase-centre
        # correction): P3 DAS 7.9 mm / SCR 5.8 dB, DMAS 10.6 mm / 7.3 dB, CF-DAS 10.3 mm / 6.4 dB;
        # P5 all 8.3 mm, SCR DAS 4.7, DMAS 2.8, CF 2.7 dB. Bounds: error <= 12 mm (about the
        # tumour diameter plus one voxel), SCR >= 2 dB (tumour is the brightest structure).
        ("P3", (0.015, 0.0, 0.035), {"err": 0.012, "scr": 2.0}),
        ("P5", (0.015, 0.0, 0.030), {"err": 0.012, "scr": 2.0}),
    ],
)
def test_merit_rotation_subtraction_finds_tumour(merit, phantom, target, bounds):
    ds = readers.read_merit(
        merit / f"B0_{phantom}_p000.csv", reference=merit / f"B0_{phantom}_p036.csv"
    )
    img = radar.beamform(cal.rotation_subtraction(ds), eps_r=8.0, resolution=2.5e-3)
    for var in ("das", "dmas", "cf_das"):
        m = metrics.image_metrics(img, target=target, var=var)
        assert m.localisation_error_m <= bounds["err"], (var, m)
        assert m.scr_db >= bounds["scr"], (var, m)


def _copy_merit(merit, tmp_path):
    for n in ("frequencies.csv", "channel_names.csv", "antenna_locations.csv", "B0_P3_p000.csv"):
        shutil.copy(merit / n, tmp_path / n)
    return tmp_path


def test_merit_bad_files(merit, tmp_path):
    d = _copy_merit(merit, tmp_path)
    scan = d / "B0_P3_p000.csv"
    lines = scan.read_text().splitlines()
    (d / "trunc.csv").write_text("\n".join(lines[:40]) + "\n")
    with pytest.raises(FormatError, match="truncated"):
        readers.read_merit(d / "trunc.csv")
    (d / "short_row.csv").write_text("\n".join(lines[:10] + [lines[10][:200]] + lines[11:]))
    with pytest.raises(FormatError, match="row 11"):
        readers.read_merit(d / "short_row.csv")
    bad = lines.copy()
    bad[3] = bad[3].replace(bad[3].split(",")[5], "NaN", 1)
    (d / "nan.csv").write_text("\n".join(bad))
    with pytest.raises(FormatError, match="non-finite"):
        readers.read_merit(d / "nan.csv")
    bad[3] = lines[3].replace(lines[3].split(",")[5], "abc", 1)
    (d / "junk.csv").write_text("\n".join(bad))
    with pytest.raises(FormatError, match="column 6"):
        readers.read_merit(d / "junk.csv")
    # channel table that refers to an antenna that does not exist
    ch = (d / "channel_names.csv").read_text().replace("21,24", "21,25")
    (d / "channel_names.csv").write_text(ch)
    with pytest.raises(FormatError, match="channel table does not match"):
        readers.read_merit(scan)
    with pytest.raises(MissingFileError):
        readers.read_merit(d / "absent.csv")


def test_touchstone_round_trip(tmp_path):
    skrf = pytest.importorskip("skrf")
    rng = np.random.default_rng(0)
    f = skrf.Frequency(1, 3, 5, unit="GHz")
    s = rng.normal(size=(5, 3, 3)) + 1j * rng.normal(size=(5, 3, 3))
    skrf.Network(frequency=f, s=s, z0=50).write_touchstone(str(tmp_path / "a"))
    ds = readers.open_scan(tmp_path / "a.s3p", antenna_positions=np.eye(3) * 0.07)
    validate(ds, "sparameter_scan")
    # s[f, tx=j, rx=i] == S[f, i, j]
    np.testing.assert_allclose(ds["s"].values[:, 0, 2], s[:, 2, 0], rtol=1e-6)
    assert float(ds["z0"]) == 50.0 and ds.freq.values[-1] == 3e9
    (tmp_path / "bad.s2p").write_text("! nothing\n# GHz S RI R 50\n1 2 3\n")
    with pytest.raises(FormatError):
        readers.read_touchstone(tmp_path / "bad.s2p")


def test_umbmid_mat_and_npz(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(3, 11, 8)) + 1j * rng.normal(size=(3, 11, 8))
    freqs = np.linspace(1e9, 8e9, 11)
    md = np.zeros(3, dtype=[("tum_diam", float), ("phant_id", "U8")])
    md["tum_diam"] = [0, 2.0, 3.0]
    md["phant_id"] = ["A2F1", "A2F2", "A3F1"]
    scipy.io.savemat(tmp_path / "um.mat", {"fd_data": data, "freqs": freqs, "metadata": md})
    ds = readers.read_umbmid(tmp_path / "um.mat", antenna_radius_m=0.21)
    validate(ds, "sparameter_scan")
    assert ds["s"].dims == ("scan", "freq", "position")
    np.testing.assert_allclose(ds["s"].values, data)
    np.testing.assert_allclose(ds["meta_tum_diam"].values, [0, 2, 3])
    with pytest.raises(FormatError, match="frequencies"):
        readers.read_umbmid(tmp_path / "um.mat", freq=freqs[:5])
    # the same scans saved as MATLAB v7.3 (HDF5, column-major, complex as a real/imag compound)
    v73 = readers.read_umbmid(savemat73(tmp_path / "um73.mat", {"fd_data": data, "freqs": freqs}))
    np.testing.assert_array_equal(v73["s"].values, ds["s"].values)
    np.testing.assert_array_equal(v73["freq"].values, ds["freq"].values)
    (tmp_path / "x.pickle").write_bytes(b"\x80\x04N.")
    with pytest.raises(FormatError, match="never unpickles"):
        readers.read_umbmid(tmp_path / "x.pickle")

    np.savez(tmp_path / "scan.npz", s=data[0], freq=freqs, layout=np.array("monostatic"))
    ds2 = readers.read_npz(tmp_path / "scan.npz")
    assert ds2["s"].dims == ("freq", "position")
    np.savez(tmp_path / "obj.npz", s=np.array([{"a": 1}], dtype=object), freq=freqs)
    with pytest.raises(FormatError, match="pickled"):
        readers.read_npz(tmp_path / "obj.npz")
    bad = data[0].copy()
    bad[2, 3] = np.inf
    np.savez(tmp_path / "inf.npz", s=bad, freq=freqs, layout=np.array("monostatic"))
    with pytest.raises(FormatError, match="non-finite"):
        readers.read_npz(tmp_path / "inf.npz")
    whole = (tmp_path / "scan.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FormatError, match="truncated"):
        readers.read_npz(tmp_path / "cut.npz")


def test_xarray_backend_engines(merit, tmp_path):
    import xarray as xr
    from xarray.backends.plugins import list_engines

    ds = xr.open_dataset(
        merit / "B0_P5_p000.csv", engine="brim_merit", reference=merit / "B0_P5_p036.csv"
    )
    assert ds["s"].shape == (76, 96) and "s_reference" in ds
    assert list_engines()["brim_touchstone"].guess_can_open("x.s4p")
    assert not list_engines()["brim_touchstone"].guess_can_open("x.csv")
