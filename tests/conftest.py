"""Shared pytest fixtures: array backends, real external data, the ``gpu`` marker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brim.backend import cupy_available


def _backends():
    params = [pytest.param("numpy", id="numpy")]
    try:
        import torch  # noqa: F401

        params.append(pytest.param("torch", id="torch-cpu"))
    except ImportError:
        params.append(
            pytest.param("torch", id="torch-cpu", marks=pytest.mark.skip(reason="torch missing"))
        )
    params.append(
        pytest.param(
            "cupy",
            id="cupy",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not cupy_available(), reason="no CUDA GPU with CuPy here"),
            ],
        )
    )
    return params


class ArrayNamespace:
    """A test helper wrapping one array library: ``xp.asarray`` makes arrays of that backend."""

    def __init__(self, name: str):
        self.name = name
        if name == "numpy":
            self.module = np
        elif name == "torch":
            import torch

            self.module = torch
        else:
            import cupy

            self.module = cupy

    def asarray(self, a, dtype=None):
        a = np.asarray(a, dtype=dtype)
        if self.name == "numpy":
            return a
        if self.name == "torch":
            import torch

            return torch.from_numpy(np.ascontiguousarray(a))
        return self.module.asarray(a)

    def __repr__(self):
        return f"ArrayNamespace({self.name!r})"


@pytest.fixture(params=_backends())
def xp(request) -> ArrayNamespace:
    """Run a test once per array backend: NumPy, torch on the CPU, and CuPy when a GPU exists."""
    return ArrayNamespace(request.param)


@pytest.fixture(scope="session")
def external_data() -> Path:
    """Root of the real public data (``$BRIM_EXTERNAL_DATA``); skips the test when unset.

    A set but wrong path is an error (brim.MissingFileError naming it), not a silent skip.
    """
    from brim.data import external_data

    path = external_data()
    if path is None:
        pytest.skip("BRIM_EXTERNAL_DATA is not set: real-data test skipped")
    return path


def pytest_collection_modifyitems(config, items):
    if cupy_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU with CuPy; none is available here")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
