"""Readers: MATLAB v5 (real Field II frames), v7.3 (HDF5), NPY (no pickle), pybf channel data."""

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import xarray as xr

from brim import schema
from brim.elasto.readers import read_channel, read_mat_variable, read_rf
from brim.errors import ConfigError, FormatError, MissingFileError

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402

KW = dict(sampling_frequency=40e6, center_frequency=6.7e6, pitch=0.2e-3)


def test_fieldii_mat_v5(external_data):
    path = external_data / "elasto/fieldii_dp/Data/Im0.mat"
    ds = read_rf(path, **KW)
    schema.validate(ds, "rf_frames")
    assert ds["rf"].shape == (1, 1041, 250)
    raw = scipy.io.loadmat(path)["Im0"]
    np.testing.assert_array_equal(ds["rf"].values[0], raw)
    assert ds.depth.attrs["units"] == "m"
    assert ds.depth.values[1] - ds.depth.values[0] == pytest.approx(1540 / 80e6)
    assert float(ds.sampling_frequency) == 40e6 and ds.sampling_frequency.attrs["units"] == "Hz"


def test_mat_v73_and_variable_choice(tmp_path):
    a = np.arange(12.0).reshape(3, 4)
    p = tmp_path / "v73.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f["rf"] = a.T  # MATLAB writes column-major: h5py sees the transpose
        f["other"] = np.ones((2, 2))
    np.testing.assert_array_equal(read_mat_variable(p, var="rf"), a)
    with pytest.warns(DeprecationWarning, match="var="):  # the old positional call, one release
        np.testing.assert_array_equal(read_mat_variable(p, "rf"), a)
    with pytest.raises(FormatError, match="choose one"):
        read_mat_variable(p)
    with pytest.raises(FormatError, match="no numeric variable 'nope'"):
        read_mat_variable(p, var="nope")
    # MATLAB's own layout: a char variable beside the frames is text, not numbers (h5py shows
    # it as a uint16 dataset, which was returned as RF samples when named)
    p = savemat73(tmp_path / "matlab73.mat", {"rf": a, "probe": "L11-4v"})
    np.testing.assert_array_equal(read_mat_variable(p), a)
    with pytest.raises(FormatError, match="no numeric variable 'probe'; it has: rf"):
        read_mat_variable(p, var="probe")


def test_npy_never_unpickles(tmp_path):
    good = tmp_path / "rf.npy"
    np.save(good, np.zeros((2, 50, 8)))
    ds = read_rf(good, **KW)
    assert ds["rf"].shape == (2, 50, 8)
    bad = tmp_path / "obj.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="never unpickles"):
        read_rf(bad, **KW)


def test_raw_array_needs_parameters(tmp_path):
    p = tmp_path / "rf.npy"
    np.save(p, np.zeros((50, 8)))
    with pytest.raises(ConfigError, match="sampling_frequency"):
        read_rf(p)
    with pytest.raises(MissingFileError):
        read_rf(tmp_path / "missing.mat", **KW)


def test_netcdf_roundtrip(tmp_path):
    from brim.io import save

    p = tmp_path / "rf.npy"
    np.save(p, np.random.default_rng(0).standard_normal((60, 8)))
    ds = read_rf(p, **KW)
    out = save(ds, tmp_path / "rf.nc")
    back = read_rf(out)
    np.testing.assert_array_equal(back["rf"].values, ds["rf"].values)


def test_pybf_channel_layout(external_data):
    path = external_data / "elasto/pybf_channel/rf_dataset.hdf5"
    ds = read_channel(path)
    schema.validate(ds, "channel_data")
    assert ds["channel"].shape == (1, 3, 192, 2313)
    np.testing.assert_allclose(np.degrees(ds.angle.values), [-12, 0, 12], atol=1e-6)
    assert ds.element_x.values[1] - ds.element_x.values[0] == pytest.approx(0.23e-3)
    assert ds.element_x.values.mean() == pytest.approx(0, abs=1e-12)
    # steering delays: linear across the aperture, total (N-1) pitch sin(12 deg) / c
    span = ds.tx_delay.values[2, -1] - ds.tx_delay.values[2, 0]
    assert span == pytest.approx(191 * 0.23e-3 * np.sin(np.radians(12)) / 1540, rel=1e-6)
    np.testing.assert_allclose(ds.tx_delay.values[1], 0, atol=1e-15)
    with h5py.File(path) as f:
        np.testing.assert_array_equal(
            ds["channel"].values[0, 2], f["data/rf_data/frame_1/shot_3"][()]
        )
    # the xarray engine, by its registered name, gives the same Dataset
    from xarray.backends.plugins import list_engines

    assert list_engines()["brim_elasto_pybf"].guess_can_open(str(path))
    via = xr.open_dataset(path, engine="brim_elasto_pybf")
    np.testing.assert_array_equal(via["channel"].values, ds["channel"].values)


def test_read_rf_refuses_channel_data(external_data):
    with pytest.raises(FormatError, match="beamform"):
        read_rf(external_data / "elasto/pybf_channel/rf_dataset.hdf5", **KW)
