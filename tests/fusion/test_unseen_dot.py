"""Zhu-lab DOT_filtering volumes re-saved the ways a MATLAB user may save other cases.

Made from the real ``twotars.mat``: one case as a 3-D volume with a logical mask (MATLAB's
``squeeze`` and ``logical``) must convert to the same numbers, and so must a v7.3 (HDF5)
re-save laid out as MATLAB writes it (transposed datasets with ``MATLAB_class`` attributes).
``brim fusion convert`` on the v7.3 file first printed scipy's "Please use HDF reader for
matlab v7.3 files, e.g. h5py", then refused it asking for a '-v7' re-save; brim.io.read_mat
now reads it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import scipy.io

import brim
from brim.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402


def _run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip()


def test_single_case_and_v73_resaves(tmp_path, external_data, capsys):
    src = external_data / "fusion" / "dot_filtering" / "twotars.mat"
    m = scipy.io.loadmat(src)
    code, err = _run(capsys, "fusion", "convert", src, "-o", tmp_path / "ref.nc")
    assert code == 0, err
    ref = brim.open(tmp_path / "ref.nc")

    one = tmp_path / "onecase.mat"
    scipy.io.savemat(one, {"volume7all": m["volume7all"][0], "maskall": m["maskall"][0] > 0})
    code, err = _run(capsys, "fusion", "convert", one, "-o", tmp_path / "one.nc")
    assert code == 0, err
    got = brim.open(tmp_path / "one.nc")
    np.testing.assert_array_equal(got.mua.values, ref.mua.values)
    np.testing.assert_array_equal(got.target_mask.values, ref.target_mask.values)

    v73 = savemat73(tmp_path / "v73.mat", {"volume7all": m["volume7all"], "maskall": m["maskall"]})
    with h5py.File(v73) as f:  # stored as MATLAB stores it: column-major
        assert f["volume7all"].shape == m["volume7all"].shape[::-1]
    code, err = _run(capsys, "fusion", "convert", v73, "-o", tmp_path / "v73.nc")
    assert code == 0, err
    got = brim.open(tmp_path / "v73.nc")
    np.testing.assert_array_equal(got.mua.values, ref.mua.values)
    np.testing.assert_array_equal(got.target_mask.values, ref.target_mask.values)


def test_both_real_files_read_the_same_from_v73(tmp_path, external_data):
    for name in ("twotars.mat", "threetars.mat"):
        src = external_data / "fusion" / "dot_filtering" / name
        m = scipy.io.loadmat(src)
        v73 = savemat73(tmp_path / name, {k: m[k] for k in ("volume7all", "maskall")})
        a, b = brim.fusion.read_dot_filtering(src), brim.fusion.read_dot_filtering(v73)
        assert float(a.mua.sum()) > 0 and int(a.target_mask.sum()) > 0
        np.testing.assert_array_equal(b.mua.values, a.mua.values)
        np.testing.assert_array_equal(b.target_mask.values, a.target_mask.values)
        assert b.target_mask.dtype == a.target_mask.dtype == np.uint8
