"""Field II RF ``.mat`` files and pybf channel files that the development copies are not.

The variants are the real ``fieldii_dp`` pre/post pair (1041 samples x 250 lines) and the real
pybf file re-saved the ways other exports store them: transposed, int16, MATLAB v7.3 (HDF5),
under another name beside scalars, frames stacked MATLAB's way (depth, line, frame); pybf with
other shot counts, without ``correction_time_shift`` or ``sim_params``, angles in degrees. The
CLI with its defaults must give the original's numbers or one ``brim: error:`` line and no
output. Before the fixes: a transposed pair failed with "window of 291 samples exceeds 250
samples", a MATLAB-stacked pair gave a median strain of -0.03 % instead of -0.97 % without a
word, ``rf`` beside ``fs``/``c`` needed ``--var``, a pybf file without its time shift was read
2.8 mm deep, and degrees were taken for radians.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

import brim
from brim.cli import main
from brim.elasto.readers import read_channel

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402

RAW = ["--fs", "40e6", "--fc", "6.7e6", "--pitch", "0.2e-3"]  # the data set's acquisition


@pytest.fixture
def pair(external_data) -> tuple[np.ndarray, np.ndarray]:
    d = external_data / "elasto" / "fieldii_dp" / "Data"
    return scipy.io.loadmat(d / "Im0.mat")["Im0"], scipy.io.loadmat(d / "Im1.mat")["Im1"]


@pytest.fixture
def pybf(external_data) -> Path:
    return external_data / "elasto" / "pybf_channel" / "rf_dataset.hdf5"


def _strain(capsys, out: Path, *files) -> tuple[int, str, np.ndarray | None]:
    capsys.readouterr()
    code = main(["elasto", "strain", *map(str, files), *RAW, "-o", str(out)])
    err = capsys.readouterr().err.strip()
    return code, err, (brim.open(out)["strain"].values if code == 0 else None)


def test_exports_of_the_pair_give_the_original_strain(tmp_path, pair, capsys):
    pre, post = pair
    for k, a in enumerate(pair):
        scipy.io.savemat(tmp_path / f"o{k}.mat", {f"Im{k}": a})
        savemat73(tmp_path / f"v{k}.mat", {f"Im{k}": a})
        # a Field II script's save('rf.mat', 'rf', 'fs', 'c', 'tstart')
        scipy.io.savemat(tmp_path / f"m{k}.mat", {"rf": a, "fs": 40e6, "c": 1540.0, "tstart": 1e-6})
    code, err, ref = _strain(capsys, tmp_path / "o.nc", tmp_path / "o0.mat", tmp_path / "o1.mat")
    assert code == 0, err
    assert np.nanmedian(ref) == pytest.approx(-0.0097, abs=5e-4)  # the phantom's ~1 % compression
    scipy.io.savemat(tmp_path / "matlab_stack.mat", {"rf": np.stack(pair, axis=-1)})
    scipy.io.savemat(tmp_path / "brim_stack.mat", {"rf": np.stack(pair, axis=0)})
    savemat73(tmp_path / "v73_stack.mat", {"rf": np.stack(pair, axis=-1)})
    for name, files in {
        "v73": ("v0.mat", "v1.mat"),
        "beside_scalars": ("m0.mat", "m1.mat"),
        "matlab_stack": ("matlab_stack.mat",),
        "brim_stack": ("brim_stack.mat",),
        "v73_stack": ("v73_stack.mat",),
    }.items():
        code, err, s = _strain(capsys, tmp_path / f"{name}.nc", *(tmp_path / f for f in files))
        assert code == 0, (name, err)
        np.testing.assert_array_equal(s, ref, err_msg=name)
    # int16 (a scanner's ADC words): the strain of the quantised pair
    scale = 32767 / max(np.abs(pre).max(), np.abs(post).max())
    for k, a in enumerate(pair):
        scipy.io.savemat(tmp_path / f"i{k}.mat", {"rf": np.round(a * scale).astype(np.int16)})
    code, err, s = _strain(capsys, tmp_path / "i.nc", tmp_path / "i0.mat", tmp_path / "i1.mat")
    assert code == 0, err
    assert np.nanmedian(s) == pytest.approx(np.nanmedian(ref), abs=1e-5)


def test_transposed_pair_is_refused_in_one_line(tmp_path, pair, capsys):
    for k, a in enumerate(pair):
        scipy.io.savemat(tmp_path / f"t{k}.mat", {f"Im{k}": a.T})  # 250 lines x 1041 samples
    out = tmp_path / "t.nc"
    code, err, _ = _strain(capsys, out, tmp_path / "t0.mat", tmp_path / "t1.mat")
    assert code == 2 and "\n" not in err, err
    assert (
        err.startswith("brim: error: t0.mat: as 250 samples x 1041 lines") and "transposed" in err
    )
    assert not out.exists()


def _pybf_variant(src: Path, dst: Path, edit) -> Path:
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return dst


def test_pybf_other_shot_counts_and_missing_parameters(tmp_path, pybf, capsys):
    ref = read_channel(pybf)

    def five_shots(f):
        g = f["data/rf_data/frame_1"]
        g["shot_4"], g["shot_5"] = g["shot_1"][()], g["shot_2"][()]
        del f["data/tx_mode/PW_3_12"]
        f["data/tx_mode/PW_5_12"] = np.radians([[-12.0, -6.0, 0.0, 6.0, 12.0]])

    ch = read_channel(_pybf_variant(pybf, tmp_path / "five.h5", five_shots))
    assert ch["channel"].shape == (1, 5, 192, 2313)
    np.testing.assert_array_equal(ch["channel"].values[0, 3], ref["channel"].values[0, 0])

    # without data/correction_time_shift: computed from sim_params, within 5 ns of the stored
    nocorr = _pybf_variant(
        pybf, tmp_path / "nocorr.h5", lambda f: f.__delitem__("data/correction_time_shift")
    )
    assert abs(float(read_channel(nocorr).time[0] - ref.time[0])) < 5e-9

    def bare(f):
        del f["data/correction_time_shift"], f["sim_params"]

    with pytest.warns(UserWarning, match="no data/correction_time_shift nor the sim_params"):
        ch = read_channel(_pybf_variant(pybf, tmp_path / "bare.h5", bare))
    assert float(ch.time[0]) == 0.0

    def degrees(f):
        f["data/tx_mode/PW_3_12"][...] = [[-12.0, 0.0, 12.0]]

    def shot_missing(f):
        del f["data/rf_data/frame_1/shot_3"]

    for name, edit, text in (
        ("deg.h5", degrees, "are these degrees?"),
        (
            "two.h5",
            shot_missing,
            "lists 3 plane-wave angles but data/rf_data/frame_1 holds 2 shots",
        ),
    ):
        out = tmp_path / f"{name}.nc"
        capsys.readouterr()
        code = main(
            ["elasto", "beamform", str(_pybf_variant(pybf, tmp_path / name, edit)), "-o", str(out)]
        )
        err = capsys.readouterr().err.strip()
        assert code == 2 and text in err and "\n" not in err, err
        assert not out.exists()
