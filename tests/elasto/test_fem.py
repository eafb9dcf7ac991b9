"""FE oracles: uniform compression (exact for Q4), mesh convergence, Eshelby inclusion."""

import numpy as np
import pytest

from brim.elasto.fem import (
    Inclusion,
    eshelby_circular_strain,
    solve_compression,
    uniform_compression_exact,
)
from brim.errors import ConfigError

W, H = 0.04, 0.03


@pytest.mark.parametrize("nu", [0.3, 0.495])
def test_uniform_compression_exact_to_round_off(nu):
    fe = solve_compression(W, H, 13, 9, poisson=nu, compression=0.02)
    X, Z = np.meshgrid(fe.x.values, fe.z.values)
    ux, uz = uniform_compression_exact(X, Z, width=W, height=H, poisson=nu, compression=0.02)
    scale = 0.02 * H
    assert np.abs(fe.ux.values - ux).max() < 1e-10 * scale
    assert np.abs(fe.uz.values - uz).max() < 1e-10 * scale
    np.testing.assert_allclose(fe.eps_zz.values, -0.02, rtol=1e-10)
    np.testing.assert_allclose(fe.eps_xx.values, nu / (1 - nu) * 0.02, rtol=1e-9)
    # reaction force = sigma_zz * width, sigma_zz = E eps_zz / (1 - nu^2) in plane strain
    e = float(fe.youngs_modulus.values[0, 0])
    np.testing.assert_allclose(fe.reaction_force.item(), e / (1 - nu**2) * 0.02 * W, rtol=1e-9)


def test_mesh_convergence_observed_order():
    # smooth (tanh, 1 mm) inclusion: the solution is smooth, so the Q4 energy (and the reaction
    # force, a compliance) converges as O(h^2). Richardson's observed order from 3 meshes:
    inc = Inclusion(W / 2, H / 2, 3e-3, 60e3, edge_width=1e-3)
    f = [
        solve_compression(W, H, n, n * 3 // 4, inclusions=[inc]).reaction_force.item()
        for n in (32, 64, 128)
    ]
    p = np.log2(abs(f[0] - f[1]) / abs(f[1] - f[2]))
    assert 1.8 < p < 2.2, p  # measured 2.01


def test_circular_inclusion_matches_eshelby():
    nu = 0.495
    inc = Inclusion(0.03, 0.03, 2e-3, 60e3)  # radius 1/30 of the block: near infinite matrix
    fe = solve_compression(0.06, 0.06, 120, 120, poisson=nu, inclusions=[inc], compression=0.01)
    r = np.hypot(fe.xc.values[None, :] - inc.x, fe.zc.values[:, None] - inc.z)
    inside = r < 0.6 * inc.radius
    far = np.array([nu / (1 - nu) * 0.01, -0.01, 0.0])
    expect = eshelby_circular_strain(20e3, 60e3, nu, far)
    got_zz = fe.eps_zz.values[inside].mean()
    got_xx = fe.eps_xx.values[inside].mean()
    # stated tolerance 3 %: finite block (R/W = 1/30) and interface discretisation
    assert got_zz == pytest.approx(expect[1], rel=0.03)
    assert got_xx == pytest.approx(expect[0], rel=0.03)
    # a stiff inclusion strains less than the far field
    assert abs(got_zz) < 0.01


def test_eshelby_limits():
    far = np.array([0.0, -0.01, 0.0])
    np.testing.assert_allclose(eshelby_circular_strain(1.0, 1.0, 0.3, far), far, atol=1e-15)


def test_bad_input():
    with pytest.raises(ConfigError):
        solve_compression(W, H, 4, 4, poisson=0.5)
    with pytest.raises(ConfigError):
        solve_compression(W, H, 0, 4)
