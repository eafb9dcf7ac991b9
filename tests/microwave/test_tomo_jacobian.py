"""The matrix-free Gauss-Newton step of brim.microwave tomography (issue 21).

Oracles: the dense Jacobian (explicit M x N matrix, exact SVD) for the operator's products and
for the inversions, and the uncompressed adjoint solve for the compressed one.
"""

from __future__ import annotations

import numpy as np
import pytest

from brim.backend import to_numpy
from brim.errors import ConfigError
from brim.microwave.tomography import TomographyGrid, add_noise, ring_positions, simulate
from brim.microwave.tomography import inverse as inv
from brim.microwave.tomography.phantoms import disk_fraction


@pytest.fixture(scope="module")
def data():
    grid = TomographyGrid.centered(20, 0.1)
    eps = 1 + (0.5 - 0.05j) * disk_fraction(grid, 0.01, 0.0, 0.015)
    tx = ring_positions(12, 0.2)
    rx = ring_positions(16, 0.22)
    mask = np.ones((12, 16), bool)
    mask[np.arange(12), np.arange(12)] = False  # some unmeasured pairs
    ds = add_noise(simulate(eps, grid, [2e9, 3e9], tx, rx, mask=mask), 0.01, seed=0)
    return ds, grid, eps


def test_jacobian_operator_products_match_the_dense_matrix(data):
    ds, grid, eps = data
    p = inv._setup(ds, grid, [2e9], None, "numpy", None)[0]
    chi = (eps / p.eps_b - 1).ravel()
    e = to_numpy(inv._forward(p, grid, chi, 1e-8)[0]).reshape(12, -1)
    adj = inv._forward_adjoint(p, grid, chi, 1e-8)
    rows = np.nonzero(p.mask.ravel())[0]
    jop = inv._JacobianOperator(e, adj, rows, p.mask.shape)
    a = jop.dense()
    assert a.shape == (rows.size, grid.nx * grid.ny) == jop.shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal(a.shape[1]) + 1j * rng.standard_normal(a.shape[1])
    y = rng.standard_normal(a.shape[0]) + 1j * rng.standard_normal(a.shape[0])
    np.testing.assert_allclose(jop.matvec(x), a @ x, rtol=1e-12, atol=0)
    np.testing.assert_allclose(jop.rmatvec(y), a.conj().T @ y, rtol=1e-12, atol=0)


def test_compressed_adjoint_fields_match_the_full_solve(data):
    """The receiver-basis compression keeps the adjoint fields to 1e-6 (solver tol 1e-8)."""
    ds, grid, eps = data
    p = inv._setup(ds, grid, [3e9], None, "numpy", None)[0]
    chi = (eps / p.eps_b - 1).ravel()
    full = inv._forward_adjoint(p, grid, chi, 1e-8)
    small = inv._forward_adjoint(p, grid, chi, 1e-8, compress=True)
    assert p.rbasis is not None and p.rbasis[1].shape[0] <= full.shape[0]
    assert np.linalg.norm(small - full) <= 1e-6 * np.linalg.norm(full)


@pytest.mark.parametrize(
    "kw",
    [
        {"method": "dbim", "noise_level": 0.01},  # measured 1.9e-8
        {"method": "dbim"},  # GCV weight with its floor: measured 1.9e-8
        {"method": "born"},  # measured 2.6e-13
        {"method": "bim", "iterations": 3},  # measured 1.7e-7
        {"method": "dbim", "iterations": 2, "weight": 1e-3},  # fixed weight
    ],
)
def test_operator_path_reproduces_the_dense_path(data, kw):
    """Same maps (relative difference <= 1e-5 of the contrast), same stopping, same weights."""
    ds, grid, _ = data
    dense = inv.invert(ds, grid, jacobian="dense", **kw)
    op = inv.invert(ds, grid, jacobian="operator", **kw)
    diff = np.linalg.norm(op.permittivity - dense.permittivity)
    assert diff <= 1e-5 * np.linalg.norm(dense.permittivity - 1), diff
    assert op.stopping == dense.stopping
    wd = np.array([h["weight"] for h in dense.history], float)
    wo = np.array([h["weight"] for h in op.history], float)
    np.testing.assert_allclose(wo, wd, rtol=1e-3)
    assert op.parameters["jacobian"] == "operator"


def test_operator_path_tv_close_to_dense(data):
    """TV (lagged diffusivity): CG on the normal equations against the dense solve, 1e-4."""
    ds, grid, _ = data
    kw = {"method": "dbim", "iterations": 2, "noise_level": 0.01, "regularization": "tv"}
    dense = inv.invert(ds, grid, jacobian="dense", **kw)
    op = inv.invert(ds, grid, jacobian="operator", **kw)
    diff = np.linalg.norm(op.permittivity - dense.permittivity)
    assert diff <= 1e-4 * np.linalg.norm(dense.permittivity - 1), diff  # measured 2.5e-6


def test_auto_chooses_the_operator_above_the_dense_limit():
    assert not inv._use_operator("auto", 192, 400)
    assert inv._use_operator("auto", 4338, 2500)
    assert inv._use_operator("operator", 10, 10)
    assert not inv._use_operator("dense", 4338, 2500)
    with pytest.raises(ConfigError, match="jacobian"):
        inv._use_operator("lsqr", 1, 1)


def test_invert_refuses_an_unknown_jacobian(data):
    ds, grid, _ = data
    with pytest.raises(ConfigError, match="jacobian"):
        inv.invert(ds, grid, method="born", jacobian="sparse")
