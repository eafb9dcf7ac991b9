"""Fixtures for brim.learn tests: one torch thread (small models are fastest so on 2 cores)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def hot_spot_images(n_groups=40, per_group=2, size=32, amplitude=2.5, seed=0):
    """Synthetic 'thermograms' in degC: 30 degC background + unit noise; images of positive
    patients carry an 8x8 hot spot of +amplitude degC at a random place (the known signal)."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"p{i:03d}" for i in range(n_groups)], per_group)
    y = np.repeat(rng.permutation(np.arange(n_groups) % 2), per_group)
    X = (30.0 + rng.normal(size=(y.size, size, size))).astype(np.float32)
    for i in np.nonzero(y)[0]:
        cy, cx = rng.integers(6, size - 6, 2)
        X[i, cy - 4 : cy + 4, cx - 4 : cx + 4] += amplitude
    return X, y, groups


@pytest.fixture
def hot_spots():
    return hot_spot_images()


@pytest.fixture
def make_hot_spots():
    return hot_spot_images
