"""The torch bridge: DLPack hazards, zero-copy where safe, and the way back."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import brim
from brim.torch_bridge import array_to_torch, needs_copy

torch = pytest.importorskip("torch")


def _ds(values, dims=("y", "x")):
    coords = {d: (d, np.arange(n) * 1e-3, {"units": "m"}) for d, n in zip(dims, values.shape)}
    return xr.Dataset({"v": (dims, values, {"units": "degC"})}, coords=coords)


def test_zero_copy_when_safe():
    a = np.arange(12.0).reshape(3, 4)
    t = _ds(a).brim.to_torch()
    a[0, 0] = 99.0  # shares memory: the tensor sees the change
    assert t[0, 0].item() == 99.0


def test_negative_strides_are_copied_with_correct_values():
    a = np.arange(12.0).reshape(3, 4)[::-1, ::-1]
    assert needs_copy(a) == "negative strides"
    t = array_to_torch(a)
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.numpy().base is not a


def test_big_endian_values_are_not_garbled():
    a = (np.arange(6.0) * 1.5).astype(">f8").reshape(2, 3)
    assert needs_copy(a) == "non-native byte order"
    t = _ds(a).brim.to_torch()
    np.testing.assert_array_equal(t.numpy(), a.astype("<f8"))
    assert t.dtype == torch.float64


def test_read_only_buffers_are_protected():
    a = np.arange(6.0).reshape(2, 3)
    a.flags.writeable = False
    t = array_to_torch(a)
    t[0, 0] = -1.0  # writing into the tensor must not touch the read-only source
    assert a[0, 0] == 0.0


def test_read_only_from_file(tmp_path):
    ds = _ds(np.arange(6.0).reshape(2, 3))
    brim.save(ds, tmp_path / "a.nc")
    back = brim.open(tmp_path / "a.nc")
    t = back.brim.to_torch("v")
    np.testing.assert_array_equal(t.numpy(), ds.v.values)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_dtypes(dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(dtype)
    t = _ds(a).brim.to_torch()
    assert t.is_complex()
    np.testing.assert_array_equal(t.numpy(), a)
    back = brim.from_torch(t.conj(), like=_ds(a))  # conjugate view is resolved on the way back
    np.testing.assert_array_equal(back.v.values, a.conj())


def test_dims_order_and_round_trip():
    rng = np.random.default_rng(1)
    ds = _ds(rng.standard_normal((2, 3, 4)), dims=("time", "y", "x"))
    t = ds.brim.to_torch(dims=("y", "x", "time"))
    assert tuple(t.shape) == (3, 4, 2)
    back = brim.from_torch(t * 2, like=ds, dims=("y", "x", "time"))
    np.testing.assert_allclose(back.v.transpose("time", "y", "x").values, 2 * ds.v.values)
    assert back.v.attrs["units"] == "degC"
    assert back.x.attrs["units"] == "m"


def test_from_torch_checks_shape_and_names():
    ds = _ds(np.zeros((3, 4)))
    with pytest.raises(brim.SchemaError, match="does not match"):
        brim.from_torch(torch.zeros(4, 3), like=ds)
    with pytest.raises(brim.ConfigError):
        ds.brim.to_torch(dims=("y", "z"))
    with pytest.raises(brim.SchemaError):
        array_to_torch(np.array(["a", "b"]))


def test_gradients_are_detached():
    ds = _ds(np.ones((2, 2)))
    t = ds.brim.to_torch().clone().requires_grad_(True)
    out = brim.from_torch(t * 3, like=ds)
    np.testing.assert_array_equal(out.v.values, 3.0)
