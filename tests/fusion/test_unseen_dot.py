"""Zhu-lab DOT_filtering volumes re-saved the ways a MATLAB user may save other cases.

Made from the real ``twotars.mat``: one case as a 3-D volume with a logical mask (MATLAB's
``squeeze`` and ``logical``) must convert to the same numbers; a v7.3 (HDF5) re-save must be
refused in one line that says how to re-save it. Before the fix ``brim fusion convert`` on the
v7.3 file printed scipy's "Please use HDF reader for matlab v7.3 files, e.g. h5py".
"""

from __future__ import annotations

import h5py
import numpy as np
import scipy.io

import brim
from brim.cli import main


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

    v73 = tmp_path / "v73.mat"
    with h5py.File(v73, "w", userblock_size=512) as f:
        f["volume7all"], f["maskall"] = m["volume7all"].T, m["maskall"].T  # column-major
    with open(v73, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5".ljust(116) + b"\0" * 8 + b"\0\2IM")
    out = tmp_path / "v73.nc"
    code, err = _run(capsys, "fusion", "convert", v73, "-o", out)
    assert code == 2 and "\n" not in err, err
    assert err.startswith("brim: error: v73.mat: a MATLAB v7.3 (HDF5) .mat file") and "'-v7'" in err
    assert not out.exists()
