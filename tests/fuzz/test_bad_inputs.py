"""Defects of issue 19 items 9-11 found by the fuzz harness, one test each.

Memory bombs (declared sizes in MATLAB v5/v7.3 and pybf HDF5), silent garbage (FLIR Planck
constants, all-NaN DMR matrices, inf in DOT maps, a PNG declaring 65535 x 1 pixels, a scan or
a reconstruction converted as a thermogram) and the per-file timeout of ``brim batch``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import brim
from brim.errors import CalibrationError, FormatError, ResourceError

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"


# ----------------------------------------------------------------------------- memory bombs
def test_matlab_v73_declaring_terabytes_is_refused(tmp_path):
    import h5py

    from brim.elasto.readers import read_mat_variable

    p = tmp_path / "rf.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("rf", shape=(1 << 20, 1 << 18), dtype="f8")  # 2 TiB, nothing stored
    t0 = time.perf_counter()
    with pytest.raises(ResourceError, match="'rf' declares 2.0 TiB"):
        read_mat_variable(p)
    assert time.perf_counter() - t0 < 10


def test_matlab_v5_header_declaring_more_than_compression_allows(tmp_path, monkeypatch):
    import scipy.io

    from brim.elasto.readers import read_mat_variable

    p = tmp_path / "rf.mat"
    scipy.io.savemat(p, {"rf": np.zeros((200, 300))}, do_compression=False)
    data = bytearray(p.read_bytes())
    dims = np.array([200, 300], dtype="<i4").tobytes()
    at = data.index(dims)
    data[at : at + 8] = np.array([200_000, 300_000], dtype="<i4").tobytes()  # 447 GiB
    p.write_bytes(bytes(data))
    with pytest.raises(ResourceError, match="'rf'"):
        read_mat_variable(p)
    monkeypatch.setenv("BRIM_MAX_ARRAY_BYTES", "1TiB")  # under the limit: still impossible
    with pytest.raises(FormatError, match="compression"):
        read_mat_variable(p)


def test_pybf_file_declaring_a_huge_shot_is_refused(tmp_path):
    import h5py

    from brim.elasto.readers import read_channel_pybf

    p = tmp_path / "rf.hdf5"
    with h5py.File(p, "w") as f:
        f.create_dataset("data/rf_data/frame_1/shot_1", shape=(192, 1 << 32), dtype="i2")
        f["data/f_sampling"] = [40e6]
    with pytest.raises(ResourceError, match="shot_1"):
        read_channel_pybf(p)


# ----------------------------------------------------------------------------- garbage
def _flir_parameters(**changes):
    from dataclasses import replace

    from brim.thermo.flir import FlirParameters

    # constants of a FLIR camera as stored in its JPEGs (Planck R1, R2, B, F, O and the
    # atmospheric model); the tests change one of them as a corrupt file would
    p = FlirParameters(
        emissivity=0.98,
        object_distance=1.0,
        reflected_temperature=20.0,
        atmospheric_temperature=20.0,
        relative_humidity=0.5,
        ir_window_temperature=20.0,
        ir_window_transmission=1.0,
        planck_r1=21106.77,
        planck_r2=0.012545258,
        planck_b=1501.0,
        planck_f=1.0,
        planck_o=-7340.0,
        atm_alpha1=0.006569,
        atm_alpha2=0.01262,
        atm_beta1=-0.002276,
        atm_beta2=-0.00667,
        atm_x=1.9,
    )
    return replace(p, **changes)


def test_flir_corrupt_planck_constants_raise_instead_of_nan_or_below_absolute_zero():
    from brim.thermo.flir import raw_to_celsius

    counts = np.full((4, 5), 17000, dtype=np.uint16)
    t = raw_to_celsius(counts, _flir_parameters())
    assert np.isfinite(t).all() and 0 < t.mean() < 60  # the intact constants work
    for bad in ({"planck_r1": 0.0}, {"planck_b": -1400.0}, {"planck_r2": float("nan")}):
        with pytest.raises(CalibrationError, match="Planck constant"):
            raw_to_celsius(counts, _flir_parameters(**bad))
    # counts off the calibration curve are NaN pixels (an all-NaN image is refused by
    # read_flir and by the thermogram schema)
    assert np.isnan(raw_to_celsius(counts, _flir_parameters(planck_o=-1e9))).all()


def test_dmr_matrix_of_nan_is_refused(tmp_path):
    from brim.thermo.readers import read_dmr

    p = tmp_path / "T0001.txt"
    p.write_text("\n".join(" ".join(["nan"] * 640) for _ in range(480)))
    with pytest.raises(FormatError, match="no finite temperature"):
        read_dmr(p)


def test_converting_a_scan_or_reconstruction_as_a_thermogram_is_refused(tmp_path):
    from brim.thermo.readers import read

    with pytest.raises(FormatError, match="'sparameter_scan' file, not thermogram"):
        read(SAMPLES / "microwave_radar_scan.nc")
    recon = brim.schema.stamp(
        brim.open(SAMPLES / "thermo_phantom_tumour.nc")[["temperature"]].rename(
            temperature="permittivity"
        ),
        "reconstruction",
    )
    recon["permittivity"].attrs["units"] = "1"
    brim.save(recon, tmp_path / "recon.nc")
    with pytest.raises(FormatError, match="'reconstruction' file"):
        read(tmp_path / "recon.nc")
    assert "temperature" in read(SAMPLES / "thermo_phantom_tumour.nc")


def test_dot_maps_with_inf_are_refused(tmp_path):
    import scipy.io

    from brim.fusion import read_dot_filtering, read_dot_pat_map

    m = np.full((62, 66), 0.05, dtype=np.float32)
    np.save(tmp_path / "mua-770.npy", m)
    assert float(read_dot_pat_map(tmp_path / "mua-770.npy").max()) == pytest.approx(0.05)
    m[3, 4] = np.inf
    np.save(tmp_path / "mua-770.npy", m)
    with pytest.raises(FormatError, match="infinite"):
        read_dot_pat_map(tmp_path / "mua-770.npy")
    m[3, 4] = 1e30  # finite but no absorption coefficient
    np.save(tmp_path / "mua-770.npy", m)
    with pytest.raises(brim.SchemaError, match="plausible range"):
        read_dot_pat_map(tmp_path / "mua-770.npy")
    vol = np.full((1, 33, 65, 7), 0.05)
    vol[0, 1, 2, 3] = np.inf
    scipy.io.savemat(
        tmp_path / "v.mat", {"volume7all": vol, "maskall": np.zeros(vol.shape, np.uint8)}
    )
    with pytest.raises(FormatError, match="infinite"):
        read_dot_filtering(tmp_path / "v.mat")


def test_png_declaring_65535_by_1_is_not_an_ultrasound_image(tmp_path):
    from PIL import Image

    from brim.fusion import read_busi

    Image.fromarray(np.zeros((1, 2000), dtype=np.uint8)).save(tmp_path / "wide.png")
    with pytest.raises(FormatError, match="not an ultrasound image"):
        read_busi(tmp_path / "wide.png")
    Image.fromarray(np.zeros((300, 400), dtype=np.uint8)).save(tmp_path / "ok.png")
    assert read_busi(tmp_path / "ok.png")["image"].shape == (300, 400)


# ----------------------------------------------------------------------------- batch timeout
def _sleeps(path):
    time.sleep(120)


def _quick(path):
    import xarray as xr

    return xr.Dataset({"a": ("x", np.arange(3.0))})


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the timeout forks (POSIX)")
def test_batch_per_file_timeout_reports_the_file_as_failed(tmp_path):
    from brim.parallel import _run_one

    t0 = time.perf_counter()
    rec = _run_one(
        _sleeps, str(SAMPLES / "thermo_phantom_tumour.nc"), str(tmp_path / "o.nc"), {}, 3.0
    )
    assert time.perf_counter() - t0 < 60
    assert rec.status == "error" and "TimeoutError" in rec.error and "3 s" in rec.error
    assert not (tmp_path / "o.nc").exists()
    rec = _run_one(
        _quick, str(SAMPLES / "thermo_phantom_tumour.nc"), str(tmp_path / "o.nc"), {}, 60.0
    )
    assert rec.status == "ok", rec.error
    assert brim.open(tmp_path / "o.nc")["a"].size == 3


def test_batch_cli_has_a_timeout_option():
    from brim.cli import build_parser

    args = build_parser().parse_args(["batch", "validate", "f.nc", "-o", "o"])
    assert args.timeout == 600.0
    args = build_parser().parse_args(["batch", "validate", "f.nc", "-o", "o", "--timeout", "5"])
    assert args.timeout == 5.0


_STUCK_FILE_RUN = """
import json, sys, time
import brim
from brim.parallel import map_files

def hangs_on_healthy(path):
    if "healthy" in str(path):
        time.sleep(300)
    return brim.open(path)

files, out = sys.argv[1:3], sys.argv[3]
t0 = time.perf_counter()
rep = map_files(hangs_on_healthy, files, out, scheduler="threads", timeout=20, progress=False)
print(json.dumps({
    "seconds": time.perf_counter() - t0,
    "report": rep.report_path is not None and rep.report_path.is_file(),
    "records": {r.input.rsplit("/", 1)[-1]: [r.status, r.error] for r in rep.records},
}))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the timeout forks (POSIX)")
def test_map_files_reports_a_stuck_file_and_finishes_the_others(tmp_path):
    """One file hangs in its pipeline: it is reported as timed out, the other finishes.

    Run in a fresh interpreter, as ``brim batch`` runs its workers: the per-file timeout forks,
    and a fork from inside this long test process (with the thread pools that earlier tests
    started) is not what the batch command does.
    """
    import json
    import subprocess
    import sys

    pytest.importorskip("distributed")
    files = [SAMPLES / "thermo_phantom_tumour.nc", SAMPLES / "thermo_phantom_healthy.nc"]
    run = subprocess.run(
        [sys.executable, "-c", _STUCK_FILE_RUN, *map(str, files), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["seconds"] < 200
    status = result["records"]
    assert status["thermo_phantom_tumour.nc"][0] == "ok", status
    assert "TimeoutError" in status["thermo_phantom_healthy.nc"][1], status
    assert result["report"]


def test_pybf_scatterer_positions_of_nan_are_refused(tmp_path, external_data):
    import shutil

    import h5py

    from brim.elasto.readers import read_channel_pybf

    src = external_data / "elasto" / "pybf_channel" / "rf_dataset.hdf5"
    if not src.is_file():
        pytest.skip("pybf channel data not in $BRIM_EXTERNAL_DATA")
    p = tmp_path / "rf.hdf5"
    shutil.copyfile(src, p)
    with h5py.File(p, "r+") as f:
        d = f["sim_params/scatters_data"]
        d[...] = np.full(d.shape, np.nan)
    with pytest.raises(FormatError, match="scatters_data"):
        read_channel_pybf(p)


def test_background_fit_refuses_zero_amplitudes():
    """A zeroed block in a measurement gave log(0) residuals and a bare scipy ValueError."""
    from brim.fusion.background import fit_background

    meas = brim.open(SAMPLES / "fusion_measurement.nc")
    fit_background(meas)  # the intact sample fits
    a = meas["amplitude"].values.copy()
    a.flat[5] = 0.0  # one pair, as a zeroed block of the file leaves it
    meas["amplitude"].values = a
    with pytest.raises(CalibrationError, match="amplitudes"):
        fit_background(meas)
