"""Forward solver of brim.microwave tomography: analytic series, dense MoM, masks, backends."""

from __future__ import annotations

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.microwave.forward import (
    C0,
    Grid,
    VIEOperator,
    background_wavenumber,
    cylinder_scattered_field_analytic,
    dense_richmond_matrix,
    line_source_field,
    receiver_matrix,
    ring_positions,
    simulate,
)
from brim.microwave.tomo_phantoms import disk_fraction


def _cylinder(n, width, radius, eps, eps_b=1.0):
    g = Grid.centered(n, width)
    return g, eps_b + (eps - eps_b) * disk_fraction(g, 0.0, 0.0, radius, supersample=16)


def test_fft_operator_equals_dense_matrix():
    g = Grid.centered((10, 13), 0.039)
    k = background_wavenumber([1e9, 2.5e9], [4 - 0.3j, 2.0])
    op = VIEOperator(g, k)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 3, 10, 13)) + 1j * rng.standard_normal((2, 3, 10, 13))
    got = op.apply_g(w)
    for i in range(2):
        ref = (dense_richmond_matrix(g, k[i]) @ w[i].reshape(3, -1).T).T.reshape(3, 10, 13)
        assert np.abs(got[i] - ref).max() <= 1e-12 * np.abs(ref).max()


def test_batched_bicgstab_matches_dense_mom_solve():
    """FFT + batched BiCGSTAB against a direct solve of the full Richmond system (<= 1e-5)."""
    g = Grid.centered(14, 0.05)
    freqs = [1e9, 2e9]
    eps_b = 3 - 0.5j
    xx, yy = np.meshgrid(g.x, g.y)
    eps = np.where(np.hypot(xx - 0.004, yy) < 0.015, 12 - 4j, eps_b)
    eps[2:5, 3:6] = 6 - 1j
    tx = ring_positions(5, 0.09)
    rx = ring_positions(7, 0.08, offset=0.3)
    ds, e_fft, info = simulate(eps, g, freqs, tx, rx, eps_b=eps_b, tol=1e-10, return_fields=True)
    assert info.residual.max() <= 1e-10
    k = background_wavenumber(freqs, eps_b)
    px, py = g.points()
    chi = (eps / eps_b - 1).ravel()
    for i in range(2):
        a = np.eye(chi.size) - dense_richmond_matrix(g, k[i]) * chi[None, :]
        einc = line_source_field(px, py, *tx, freqs[i], k[i])[0]
        e_dense = np.linalg.solve(a, einc.T).T
        got = e_fft[i].reshape(5, -1)
        assert np.linalg.norm(got - e_dense) / np.linalg.norm(e_dense) <= 1e-5
        es = (chi * e_dense) @ receiver_matrix(g, *rx, k[i])[0].T
        sim = ds["scattered_field"].values[i]
        assert np.linalg.norm(sim - es) / np.linalg.norm(es) <= 1e-5


def test_cylinder_line_source_matches_series():
    """Dielectric cylinder, 1 A line sources: relative error <= 1e-3 at 60 cells/wavelength.

    Measured: 5.4e-4 (60 cells per wavelength in the object, anti-aliased boundary cells).
    """
    f, eps, radius = 1e9, 4 - 0.5j, 0.04
    g, epsmap = _cylinder(40, 0.1, radius, eps)
    lam_obj = C0 / f / np.sqrt(eps.real)
    assert lam_obj / g.d >= 20
    tx = ring_positions(4, 0.2)
    rx = ring_positions(16, 0.15)
    es = simulate(epsmap, g, f, tx, rx, tol=1e-10)["scattered_field"].values[0]
    ref = np.stack(
        [
            cylinder_scattered_field_analytic(radius, eps, 1.0, f, *rx, source=(tx[0][i], tx[1][i]))
            for i in range(4)
        ]
    )
    err = np.linalg.norm(es - ref) / np.linalg.norm(ref)
    assert err <= 1e-3, err


def test_cylinder_plane_wave_far_field_lossy_background():
    """Plane waves, lossy background, receivers 3 m away (far field): <= 1e-3."""
    f, eps, eps_b, radius = 1e9, 6 - 1j, 2 - 0.05j, 0.03
    g, epsmap = _cylinder(44, 0.08, radius, eps, eps_b)
    lam_obj = C0 / f / np.sqrt(eps.real)
    assert lam_obj / g.d >= 20
    ang = np.array([0.0, 1.0, 2.5])
    rx = ring_positions(12, 3.0)
    es = simulate(epsmap, g, f, ang, rx, eps_b=eps_b, source="plane", tol=1e-10)
    es = es["scattered_field"].values[0]
    ref = np.stack(
        [cylinder_scattered_field_analytic(radius, eps, eps_b, f, *rx, angle=a) for a in ang]
    )
    err = np.linalg.norm(es - ref) / np.linalg.norm(ref)
    assert err <= 1e-3, err


def test_discretisation_error_at_20_cells_per_wavelength_and_convergence():
    """At 20 cells per wavelength the error is a few 1e-3 and falls with refinement."""
    f, eps, radius = 3e9, 4 - 0.4j, 0.02
    lam = C0 / f / 2
    tx = ring_positions(2, 0.12)
    rx = ring_positions(12, 0.1)
    errs = []
    for cpl in (20, 40):
        d = lam / cpl
        n = int(np.ceil(2 * radius / d)) + 2
        g, epsmap = _cylinder(n, n * d, radius, eps)
        es = simulate(epsmap, g, f, tx, rx, tol=1e-10)["scattered_field"].values[0]
        ref = np.stack(
            [
                cylinder_scattered_field_analytic(radius, eps, 1, f, *rx, source=(x, y))
                for x, y in zip(*tx)
            ]
        )
        errs.append(np.linalg.norm(es - ref) / np.linalg.norm(ref))
    assert errs[0] <= 1e-2
    assert errs[1] <= 0.5 * errs[0]


def test_mask_is_honoured_and_coincident_pairs_are_masked():
    g = Grid.centered(12, 0.04)
    eps = np.full(g.shape, 2 - 0.1j)
    tx = ring_positions(4, 0.06)
    rx = ring_positions(4, 0.06)  # receivers on the transmitters: singular pairs
    mask = np.ones((4, 4), bool)
    mask[0, 1] = False
    ds = simulate(eps, g, 1e9, tx, rx, mask=mask)
    m = ds["mask"].values
    assert m.shape[-2:] == (4, 4)
    mm = np.broadcast_to(m, ds["total_field"].shape)[0]
    assert not mm[0, 1] and not mm[2, 2] and mm[0, 2]
    assert np.all(ds["total_field"].values[0][~mm] == 0)
    full = simulate(eps, g, 1e9, tx, ring_positions(4, 0.07))
    assert np.all(np.isfinite(full["total_field"].values))


def test_measured_incident_field_input_matches_source_model():
    g = Grid.centered(16, 0.05)
    eps = 1 + 2 * disk_fraction(g, 0.0, 0.005, 0.015) * (1 - 0.1j)
    tx = ring_positions(4, 0.08)
    rx = ring_positions(6, 0.08, offset=0.2)
    ref = simulate(eps, g, [1e9, 2e9], tx, rx, tol=1e-10)
    k = background_wavenumber([1e9, 2e9], 1.0)
    px, py = g.points()
    inc_grid = line_source_field(px, py, *tx, [1e9, 2e9], k).reshape(2, 4, 16, 16)
    inc_rx = line_source_field(*rx, *tx, [1e9, 2e9], k)
    got = simulate(eps, g, [1e9, 2e9], tx, rx, incident=(inc_grid, inc_rx), tol=1e-10)
    assert got.attrs["source_model"] == "measured"
    np.testing.assert_allclose(
        got["total_field"].values, ref["total_field"].values, rtol=1e-12, atol=0
    )


def test_backends_agree(xp):
    g = Grid.centered(16, 0.05)
    eps = np.full(g.shape, 1.0 + 0j)
    eps[4:10, 5:12] = 5 - 1j
    tx = ring_positions(3, 0.08)
    rx = ring_positions(5, 0.08, offset=0.2)
    ref = simulate(eps, g, [1e9, 2e9], tx, rx, tol=1e-10)["scattered_field"].values
    got = simulate(xp.asarray(eps), g, [1e9, 2e9], tx, rx, tol=1e-10)["scattered_field"].values
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) <= 1e-8


@pytest.mark.gpu
def test_cupy_forward_matches_cpu():
    from brim.backend import cupy_available

    if not cupy_available():
        pytest.skip("no CUDA GPU with CuPy here")
    g = Grid.centered(48, 0.1)
    eps = 1 + 4 * disk_fraction(g, 0.01, 0.0, 0.03) * (1 - 0.2j)
    tx = ring_positions(8, 0.12)
    rx = ring_positions(16, 0.12, offset=0.1)
    cpu = simulate(eps, g, [1e9, 2e9], tx, rx, tol=1e-10, backend="numpy")
    gpu = simulate(eps, g, [1e9, 2e9], tx, rx, tol=1e-10, backend="cupy")
    a, b = gpu["scattered_field"].values, cpu["scattered_field"].values
    assert np.linalg.norm(a - b) / np.linalg.norm(b) <= 1e-8


def test_bad_inputs_raise():
    g = Grid.centered(8, 0.04)
    with pytest.raises(ConfigError):
        simulate(np.full(g.shape, 2 + 0.5j), g, 1e9, ring_positions(2, 0.1), ring_positions(2, 0.1))
    with pytest.raises(ConfigError):
        simulate(np.full((4, 4), 2.0), g, 1e9, ring_positions(2, 0.1), ring_positions(2, 0.1))
    with pytest.raises(ConfigError):
        Grid.from_spec("banana")
