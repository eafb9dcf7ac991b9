"""Backend resolution: the backend follows the input; CuPy only with a usable GPU."""

from __future__ import annotations

import numpy as np
import pytest

import brim
from brim import backend


def test_resolution_follows_input(xp):
    a = xp.asarray(np.arange(4.0))
    assert backend.resolve_backend(None, a) == xp.name
    assert backend.backend_of(a) == xp.name
    np.testing.assert_array_equal(backend.to_numpy(a), np.arange(4.0))
    ns = backend.namespace(a)
    assert float(backend.to_numpy(ns.sum(a))) == 6.0


def test_asarray_like(xp):
    like = xp.asarray(np.zeros(2))
    out = backend.asarray_like(np.array([1.0, 2.0]), like)
    assert backend.backend_of(out) == xp.name


def test_unknown_backend_and_missing_gpu():
    with pytest.raises(brim.ConfigError, match="unknown backend"):
        backend.resolve_backend("tpu")
    if not backend.cupy_available():
        with pytest.raises(brim.BackendError, match="no CUDA GPU"):
            backend.resolve_backend("cupy")
        with pytest.raises(brim.BackendError):
            backend.to_device(np.zeros(3), "cuda")


def test_mixed_inputs_and_bad_device_are_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(brim.BackendError, match="different backends"):
        backend.resolve_backend(None, np.zeros(2), torch.zeros(2))
    assert backend.resolve_backend(None, np.zeros(2), None, 3.0, np.ones(1)) == "numpy"
    with pytest.raises(brim.ConfigError, match="unknown device"):
        backend.to_device(np.zeros(2), "torch")


def test_to_numpy_resolves_lazy_torch_views():
    torch = pytest.importorskip("torch")
    z = torch.tensor([1 + 2j, 3 - 4j])
    np.testing.assert_array_equal(backend.to_numpy(z.conj().imag), [-2.0, 4.0])
    np.testing.assert_array_equal(backend.to_numpy(z.conj()), [1 - 2j, 3 + 4j])


def test_to_device_cpu_is_numpy(xp):
    out = backend.to_device(xp.asarray(np.ones(3)), "cpu")
    if xp.name == "torch":
        assert backend.backend_of(out) == "torch" and out.device.type == "cpu"
    else:
        assert isinstance(out, np.ndarray)


@pytest.mark.gpu
def test_dataset_to_device_round_trip_on_gpu():
    import xarray as xr

    ds = xr.Dataset({"v": (("x",), np.arange(5.0))})
    gpu = ds.brim.to_device("cuda")
    assert backend.backend_of(gpu.v.data) == "cupy"
    back = gpu.brim.to_device("cpu")
    np.testing.assert_array_equal(back.v.values, ds.v.values)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        t = gpu.brim.to_torch()
        assert t.device.type == "cuda"
        np.testing.assert_array_equal(t.cpu().numpy(), ds.v.values)
    else:  # a CPU-only torch cannot take GPU memory: a clear error, not an AssertionError
        with pytest.raises(brim.BackendError, match="no CUDA"):
            gpu.brim.to_torch()
