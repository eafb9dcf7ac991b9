"""brim.io.read_mat, the one MATLAB loader: a v7.3 (HDF5) file written the way MATLAB lays it out
reads to the same arrays as the v5 file SciPy writes from the same variables; damaged, foreign
and oversized files are one FormatError/ResourceError naming the file."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from brim.errors import FormatError, ResourceError
from brim.io import read_mat

sys.path.insert(0, str(Path(__file__).parent))
from matlab73 import savemat73  # noqa: E402


def _variables():
    rng = np.random.default_rng(7)
    return {
        "rf": rng.normal(size=(4, 3, 2)),
        "s": rng.normal(size=(2, 5)) + 1j * rng.normal(size=(2, 5)),
        "single": np.arange(6, dtype=np.float32).reshape(3, 2),
        "counts": np.arange(5, dtype=np.int16),
        "scalar": 140e6,
        "mask": np.array([[True, False, True]]),
        "units": "mm",
        "meta": {"id": "A2F1", "diam": np.array([[2.5]]), "v": np.arange(3.0)},
    }


def _same(a, b):
    """Equal values, dtypes and shapes, recursing into struct fields."""
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    if a.dtype.names:
        for field in a.dtype.names:
            for idx in np.ndindex(a.shape):
                _same(np.asarray(a[field][idx]), np.asarray(b[field][idx]))
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("squeeze", [False, True])
def test_v73_reads_as_the_v5_original(tmp_path, squeeze):
    v = _variables()
    scipy.io.savemat(tmp_path / "v5.mat", v)
    savemat73(tmp_path / "v73.mat", v)
    v5 = read_mat(tmp_path / "v5.mat", squeeze=squeeze)
    v73 = read_mat(tmp_path / "v73.mat", squeeze=squeeze)
    assert sorted(v5) == sorted(v73) == sorted(v)
    for name in v5:
        assert isinstance(v73[name], np.ndarray), name
        _same(v5[name], v73[name])
    # independent of the loader: MATLAB's shape and values, as written
    np.testing.assert_array_equal(v73["rf"], v["rf"])
    assert v73["s"].dtype == complex and v73["units"].tolist() == ("mm" if squeeze else ["mm"])
    if not squeeze:
        assert v73["counts"].shape == (1, 5) and v73["scalar"].shape == (1, 1)


def test_cells_compressed_and_sparse(tmp_path):
    savemat73(
        tmp_path / "c.mat",
        {"c": [np.array([[1.0, 2.0]]), "ab"], "big": np.ones((64, 32))},
        chunks=True,
        compression="gzip",
    )
    m = read_mat(tmp_path / "c.mat")
    assert m["c"].shape == (1, 2) and m["c"].dtype == object
    np.testing.assert_array_equal(m["c"][0, 0], [[1.0, 2.0]])
    assert m["c"][0, 1].tolist() == ["ab"] and m["big"].shape == (64, 32)
    sparse = scipy.sparse.csc_matrix(np.array([[0.0, 2.0], [3.0, 0.0], [0.0, 0.0]]))
    scipy.io.savemat(tmp_path / "sp.mat", {"sp": sparse})
    np.testing.assert_array_equal(read_mat(tmp_path / "sp.mat")["sp"], sparse.toarray())


def test_damaged_foreign_and_oversized_files(tmp_path, monkeypatch):
    whole = savemat73(
        tmp_path / "whole.mat", {"rf": np.random.default_rng(0).normal(size=(400, 64))}
    )
    cut = tmp_path / "cut.mat"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(FormatError, match=r"cut\.mat: .*corrupt"):
        read_mat(cut)
    fake = tmp_path / "fake73.mat"  # a v7.3 header and nothing behind it
    fake.write_bytes(b"MATLAB 7.3 MAT-file".ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    with pytest.raises(FormatError, match=r"fake73\.mat: .*truncated or corrupt"):
        read_mat(fake)
    foreign = tmp_path / "notes.mat"
    foreign.write_text("x,y\n1,2\n")
    with pytest.raises(FormatError, match=r"notes\.mat: not a readable MATLAB file"):
        read_mat(foreign)
    monkeypatch.setenv("BRIM_MAX_ARRAY_BYTES", "1000")
    with pytest.raises(ResourceError, match="rf"):
        read_mat(whole)  # 400 x 64 doubles declared: refused before h5py reads them


def test_empty_and_self_holding_v73_variables(tmp_path):
    import h5py

    p = savemat73(tmp_path / "e.mat", {"x": np.ones((2, 2))})
    with h5py.File(p, "r+") as f:
        e = f.create_dataset("e", data=np.array([3, 0], np.uint64))  # MATLAB's zeros(0, 3)
        e.attrs["MATLAB_class"], e.attrs["MATLAB_empty"] = np.bytes_("double"), np.uint8(1)
    m = read_mat(p)
    assert m["e"].size == 0 and m["e"].dtype == np.float64 and m["x"].shape == (2, 2)
    with h5py.File(p, "r+") as f:
        f["e"][...] = [10**6, 10**6]  # an "empty" variable of 10^12 values
    with pytest.raises(FormatError, match=r"e\.mat: variable 'e' is marked empty"):
        read_mat(p)
    loop = savemat73(tmp_path / "loop.mat", {"c": [np.ones(2)]})
    with h5py.File(loop, "r+") as f:  # the cell's one element is the cell itself
        f["c"][0, 0] = f["c"].ref
    with pytest.raises(FormatError, match=r"loop\.mat: .*corrupt"):
        read_mat(loop)


def test_v73_struct_array_reads_as_scipy_reads_v5(tmp_path):
    """A 1x3 struct array (UM-BMID's per-scan metadata): in v7.3 a group holding, per field, a
    3x1 dataset of references to each element's value."""
    import h5py

    md = np.zeros(3, dtype=[("tum_diam", float), ("phant_id", "U4")])
    md["tum_diam"], md["phant_id"] = [0.0, 2.0, 3.0], ["A2F1", "A2F2", "A3F1"]
    scipy.io.savemat(tmp_path / "md5.mat", {"metadata": md})
    p = savemat73(tmp_path / "md73.mat", {"x": np.ones(2)})
    with h5py.File(p, "r+") as f:
        g = f.create_group("metadata")
        g.attrs["MATLAB_class"] = np.bytes_("struct")
        names = np.empty(2, dtype=h5py.vlen_dtype(np.dtype("S1")))
        names[:] = [np.array(list(k), dtype="S1") for k in ("tum_diam", "phant_id")]
        g.attrs["MATLAB_fields"] = names
        refs = f.create_group("#refs#")
        for field in ("tum_diam", "phant_id"):
            cells = []
            for i, value in enumerate(md[field]):
                if field == "phant_id":  # char: UTF-16 code units, column-major
                    d = refs.create_dataset(
                        f"{field}{i}", data=[[ord(c)] for c in value], dtype=np.uint16
                    )
                    d.attrs["MATLAB_class"] = np.bytes_("char")
                else:
                    d = refs.create_dataset(f"{field}{i}", data=[[value]])
                    d.attrs["MATLAB_class"] = np.bytes_("double")
                cells.append(d.ref)
            g.create_dataset(field, data=np.array([cells], dtype=h5py.ref_dtype).T)
    for squeeze in (False, True):
        a = read_mat(tmp_path / "md5.mat", squeeze=squeeze)["metadata"]
        b = read_mat(p, squeeze=squeeze)["metadata"]
        _same(a, b)
    assert b["phant_id"].tolist() == ["A2F1", "A2F2", "A3F1"]
