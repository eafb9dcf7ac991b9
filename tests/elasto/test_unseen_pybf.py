"""The real pybf channel file (Field II, 192 elements, 3 plane waves) re-saved the ways other labs
and tools store it, through ``read_channel`` and ``brim elasto beamform`` with its defaults.

Same data, other storage -> the same channel samples, times and angles (and, through the CLI,
the same beamformed RF): shots stored (sample, element), float32 / float64, optional
``trans_params`` dropped, a second frame, the time shift in pybf's ``hardware_params`` (its
layout for measured data), the structs saved as MATLAB v7.3, Field II's (N, 3) scatterers.
Anything else -> one ``brim: error:`` line naming the entry and the fix, and no output file.

Before the fixes: transposed shots were refused as "2313 channels but x_num_of_elements = 192";
angles of 1 degree stored as degrees (PW_3_1) were read as 57 degrees, and a name PW_3_12 over
angles 0, 0, 0 beamformed 3 copies of the 0-degree shot, both without a word; 20 (MHz), 5.2083
(MHz) and 0.23 (mm) failed only after beamforming, with "[rf_frames/1] variable ... the file is
corrupt or not a rf_frames file"; NaN samples likewise ("variable 'rf' contains NaN"); a second
frame with fewer shots was a ValueError traceback; a measured-data file (hardware_params) was
imaged 2.8 mm too deep, with a warning; a missing trans_params entry quoted h5py; a half pybf
file or a .mat said "holds no channel_data Dataset" (or pointed a v5 .mat at read_rf).
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
from brim.elasto.readers import read_channel, read_rf

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402


@pytest.fixture(scope="module")
def pybf(request) -> Path:
    path = request.getfixturevalue("external_data") / "elasto" / "pybf_channel" / "rf_dataset.hdf5"
    if not path.is_file():
        pytest.skip("pybf channel data not in $BRIM_EXTERNAL_DATA")
    return path


@pytest.fixture(scope="module")
def ref(pybf):
    return read_channel(pybf)


def _variant(src: Path, dst: Path, edit) -> Path:
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return dst


def _shots(f, fn, **options) -> None:
    for g in (f["data/rf_data"][k] for k in f["data/rf_data"]):
        for s in list(g):
            a = g[s][()]
            del g[s]
            g.create_dataset(s, data=fn(a), **options)


def _transposed(f):
    _shots(f, lambda a: a.T)  # (2313 samples, 192 elements): Field II's and MATLAB's order


def _hardware(f):
    # pybf's measured-data layout: no correction_time_shift nor sim_params; the pybf reader
    # samples a delay t at (t - start_time + correction_time) fs
    start, shift = f["sim_params/start_time"][()], f["data/correction_time_shift"][()]
    del f["data/correction_time_shift"], f["sim_params"]
    f["hardware_params/f_sampling_hz"] = f["data/f_sampling"][()]
    f["hardware_params/start_time"] = start
    f["hardware_params/correction_time"] = shift + start


def _optional_gone(f):
    for k in ("bandwidth", "x_width", "y_num_of_elements", "y_pitch", "y_width"):
        del f[f"trans_params/{k}"]
    del f["data/fps"]


def _fieldii_scatterers(f):
    scat = f["sim_params/scatters_data"][()]
    del f["sim_params/scatters_data"]
    f["sim_params/scatters_data"] = scat.T  # Field II's positions: (N, 3)


def _extra_entries(f):
    f["data/rf_data/frame_1/timestamps"] = np.arange(3.0)  # what some exports add
    f["data/rf_data/notes"] = np.bytes_("phantom 3, probe L12-5")
    f["data/tx_mode/comment"] = np.bytes_("3 angles")


SAME = {
    "extra_entries": _extra_entries,
    "gzip_chunked": lambda f: _shots(
        f, np.asarray, compression="gzip", shuffle=True, chunks=(16, 256)
    ),
    "big_endian": lambda f: _shots(f, lambda a: a.astype(">i2")),
    "transposed": _transposed,
    "float32": lambda f: _shots(f, lambda a: a.astype(np.float32)),
    "float64": lambda f: _shots(f, lambda a: a.astype(np.float64)),
    "optional_gone": _optional_gone,
    "hardware_params": _hardware,
    "fieldii_scatterers": _fieldii_scatterers,
}


@pytest.mark.parametrize("name", SAME)
def test_same_data_stored_otherwise_reads_the_same(tmp_path, pybf, ref, name):
    ch = read_channel(_variant(pybf, tmp_path / f"{name}.h5", SAME[name]))
    np.testing.assert_array_equal(ch["channel"].values, ref["channel"].values)
    for c in ("time", "angle", "element_x"):
        np.testing.assert_allclose(ch[c].values, ref[c].values, rtol=0, atol=1e-15, err_msg=c)
    if name != "hardware_params":  # measured data carry no scatterers
        np.testing.assert_array_equal(ch["scatterer_z"].values, ref["scatterer_z"].values)
    assert ("source_order" in ch.attrs) == (name == "transposed")


def test_one_shot_and_two_frames(tmp_path, pybf, ref):
    def one_shot(f):
        g = f["data/rf_data/frame_1"]
        a = g["shot_2"][()]
        del g["shot_1"], g["shot_2"], g["shot_3"]
        g["shot_1"] = a
        del f["data/tx_mode/PW_3_12"]
        f["data/tx_mode/PW_1_0"] = np.zeros((1, 1))

    ch = read_channel(_variant(pybf, tmp_path / "one.h5", one_shot))
    np.testing.assert_array_equal(ch["channel"].values, ref["channel"].values[:, 1:2])
    assert ch["angle"].values.tolist() == [0.0]

    two = _variant(
        pybf, tmp_path / "two.h5", lambda f: f.copy("data/rf_data/frame_1", "data/rf_data/frame_2")
    )
    ch = read_channel(two)
    assert ch["channel"].shape == (2, 3, 192, 2313)
    np.testing.assert_array_equal(ch["channel"].values[1], ref["channel"].values[0])


@pytest.mark.parametrize("save", ["v73", "v5", "v5_transposed"])
def test_pybf_structs_saved_by_matlab_read_the_same(tmp_path, pybf, ref, save):
    # the structs data, trans_params, sim_params loaded in MATLAB with h5read (which shows
    # every array transposed) and saved again: -v7.3 turns them back; the default -v7 keeps
    # MATLAB's shapes; or the v5 file written from Python with pybf's own shapes
    def tree(g, turn):
        return {
            k: tree(v, turn) if isinstance(v, h5py.Group) else (v[()].T if turn else v[()])
            for k, v in g.items()
        }

    with h5py.File(pybf) as f:
        structs = tree(f, turn=save != "v5")
    path = tmp_path / "pybf.mat"
    if save == "v73":
        savemat73(path, structs)
    else:  # electroacoustic_impulse_response is 32 characters: MATLAB >= 7.6's long names
        scipy.io.savemat(path, structs, long_field_names=True)
    ch = read_channel(path)
    np.testing.assert_array_equal(ch["channel"].values, ref["channel"].values)
    for c in ("time", "angle", "element_x", "scatterer_x", "scatterer_z"):
        np.testing.assert_array_equal(ch[c].values, ref[c].values, err_msg=c)
    # brim elasto convert FILE.mat: the channel data, unbeamformed (it used to try RF frames)
    out = tmp_path / "channels.nc"
    assert main(["elasto", "convert", str(path), "-o", str(out)]) == 0
    np.testing.assert_array_equal(brim.open(out)["channel"].values, ref["channel"].values)
    # given as RF frames (brim elasto strain FILE.mat): sent to beamforming, not "0 numeric
    # variables"
    with pytest.raises(brim.FormatError, match="channel data .* read it with read_channel"):
        read_rf(path, sampling_frequency=20e6, center_frequency=5.2e6, pitch=0.23e-3)


def _beamform(capsys, src: Path, out: Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["elasto", "beamform", str(src), "-o", str(out), "--no-progress"])
    return code, capsys.readouterr().err.strip()


def test_cli_defaults_beamform_transposed_shots_as_the_original(tmp_path, pybf, capsys):
    code, err = _beamform(capsys, pybf, tmp_path / "ref.nc")
    assert code == 0, err
    code, err = _beamform(capsys, _variant(pybf, tmp_path / "t.h5", _transposed), tmp_path / "t.nc")
    assert code == 0, err
    a, b = brim.open(tmp_path / "ref.nc")["rf"].values, brim.open(tmp_path / "t.nc")["rf"].values
    assert a.shape == b.shape == (1, 2213, 192)
    assert np.abs(a).max() > 0
    np.testing.assert_array_equal(b, a)


def _nan(f):
    def gap(a):
        a = a.astype(np.float32)
        a[50:60, 1000:1100] = np.nan  # 10 channels x 100 samples of a dropped packet
        return a

    _shots(f, gap)


def _shot_missing_in_frame_2(f):
    f.copy("data/rf_data/frame_1", "data/rf_data/frame_2")
    del f["data/rf_data/frame_2/shot_3"]


def _neither_axis(f):
    _shots(f, lambda a: a[:190])  # 190 channels for x_num_of_elements = 192


def _not_pybf(f):
    for k in list(f):
        del f[k]
    f["scan/rf"] = np.zeros((4, 3))


def _deg_unnamed(f):
    del f["data/tx_mode/PW_3_12"]
    f["data/tx_mode/angles"] = [[-1.0, 0.0, 1.0]]  # degrees under a name that gives none


def _deg_small(f):
    del f["data/tx_mode/PW_3_12"]
    f["data/tx_mode/PW_3_1"] = [[-1.0, 0.0, 1.0]]  # degrees: under pi/2, so not caught by size


def _as(dtype):
    return lambda f: _shots(f, lambda a: (a.astype(np.int32) + 32768).astype(dtype))


REFUSED = {
    "offset_binary": (_as(np.uint16), "shot_1 holds uint16 samples", "subtract the ADC offset"),
    "complex": (_as(np.complex64), "shot_1 holds complex64 samples", "store the real RF"),
    "no_tx_mode": (
        lambda f: f.__delitem__("data/tx_mode/PW_3_12"),
        "data/tx_mode holds 0 transmit modes",
        "PW_<count>_<max degrees>",
    ),
    "deg_small": (_deg_small, "PW_3_1 stores [-1.0, 0.0, 1.0]", "are these degrees?"),
    "deg_unnamed": (
        _deg_unnamed,
        "plane-wave angles up to 57.3 degrees (1 rad) in data/tx_mode/angles",
        "are these degrees?",
    ),
    "name_disagrees": (
        lambda f: f["data/tx_mode/PW_3_12"].__setitem__(Ellipsis, [[0.0, 0.0, 0.0]]),
        "PW_3_12 names 3 plane waves from -12 to 12 degrees",
        "correct the name or the angles",
    ),
    "fs_mhz": (
        lambda f: f["data/f_sampling"].__setitem__(Ellipsis, 20.0),
        "data/f_sampling = 20 Hz",
        "is it in MHz?",
    ),
    "fc_mhz": (
        lambda f: f["trans_params/f_central"].__setitem__(Ellipsis, 5.2083),
        "trans_params/f_central = 5.2083 Hz",
        "is it in MHz?",
    ),
    "pitch_mm": (
        lambda f: f["trans_params/x_pitch"].__setitem__(Ellipsis, 0.23),
        "trans_params/x_pitch = 0.23 m",
        "is it in mm?",
    ),
    "no_pitch": (
        lambda f: f.__delitem__("trans_params/x_pitch"),
        "it lacks trans_params/x_pitch",
        "are optional",
    ),
    "no_trans_params": (
        lambda f: f.__delitem__("trans_params"),
        "lacks trans_params/x_num_of_elements, trans_params/x_pitch, trans_params/f_central",
        "not a complete pybf channel file",
    ),
    "frame_2_short": (
        _shot_missing_in_frame_2,
        "data/rf_data/frame_2 holds 2 shots",
        "every frame needs the same shots",
    ),
    "nan": (_nan, "3000 NaN or infinite samples", "data/rf_data/frame_1/shot_1"),
    "neither_axis": (_neither_axis, "shape (190, 2313)", "x_num_of_elements = 192"),
    "not_pybf": (_not_pybf, "is HDF5 but neither the pybf channel layout", "it holds scan"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_cli_refuses_in_one_line_without_output(tmp_path, pybf, capsys, name):
    edit, *texts = REFUSED[name]
    out = tmp_path / "out.nc"
    code, err = _beamform(capsys, _variant(pybf, tmp_path / f"{name}.h5", edit), out)
    assert code == 2 and err.startswith("brim: error: ") and "\n" not in err, err
    assert all(t in err for t in texts), err
    assert not out.exists()


def test_mat_files_are_refused_naming_the_pybf_layout(tmp_path, pybf, capsys):
    with h5py.File(pybf) as f:
        shot = f["data/rf_data/frame_1/shot_1"][()]
    scipy.io.savemat(tmp_path / "v5.mat", {"rf_data": shot, "f_sampling": 20e6})
    savemat73(tmp_path / "v73.mat", {"rf_data": shot, "f_sampling": 20e6})
    for name, text in (
        ("v5.mat", "MATLAB file without the pybf structs (data.rf_data.frame_k.shot_j"),
        ("v73.mat", "is HDF5 but neither the pybf channel layout"),
    ):
        out = tmp_path / f"{name}.nc"
        code, err = _beamform(capsys, tmp_path / name, out)
        assert code == 2 and "\n" not in err and text in err, err
        assert "it holds f_sampling, rf_data" in err and "make_channel_data" in err
        assert not out.exists()
        with pytest.raises(brim.FormatError, match="pybf layout"):
            read_channel(tmp_path / name)
