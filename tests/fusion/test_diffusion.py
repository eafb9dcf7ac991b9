"""Forward physics of brim.fusion against analytic oracles."""

import numpy as np
import pytest

from brim.errors import ConfigError
from brim.fusion import diffusion as dif
from brim.fusion import simulate as sim


def _sphere_quadrature(center, a, n=10):
    """Gauss-Legendre (radius, cos theta) x trapezoid (phi) nodes and weights of a ball."""
    xr_, wr = np.polynomial.legendre.leggauss(n)
    r = (xr_ + 1) * a / 2
    wr = wr * a / 2
    mu, wm = np.polynomial.legendre.leggauss(n)
    phi = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    R, M, P = np.meshgrid(r, mu, phi, indexing="ij")
    W = wr[:, None, None] * wm[None, :, None] * (np.pi / n) * R**2
    s = np.sqrt(1 - M**2)
    pts = np.stack([R * s * np.cos(P), R * s * np.sin(P), R * M], -1).reshape(-1, 3)
    return pts + np.asarray(center, float), W.ravel()


@pytest.mark.parametrize("freq", [0.0, 140e6])
def test_born_matches_exact_sphere_for_small_contrast(freq):
    # Boas et al. 1994 exact multipole solution vs the Born integral, numerically integrated
    # with born_weights on quadrature nodes (infinite medium). Born's error is first order in
    # the contrast: it must halve when the contrast halves and be < 0.5 % at 2 % contrast.
    props = dif.OpticalProperties(0.005, 1.0, frequency=freq)
    a, c = 5.0, np.zeros(3)
    pts, w = _sphere_quadrature(c, a)
    assert w.sum() == pytest.approx(4 / 3 * np.pi * a**3, rel=1e-10)
    # born_weights puts surface sources at depth z0: give the exact solution the same point
    src_surface = np.array([[-15.0, 0.0, 5.0 - props.z0]])
    det = np.array([[15.0, 0.0, 5.0], [10.0, 10.0, -3.0], [0.0, 20.0, 0.0]])
    wts = dif.born_weights(src_surface, det, pts, w, props, boundary="infinite")[0]
    errs = []
    for dm in (1e-4, 2e-4, 4e-4):
        exact = dif.sphere_exact(src_surface[0] + [0, 0, props.z0], det, c, a, props, 0.005 + dm)
        born = wts.sum(-1) * dm
        errs.append(np.max(np.abs(born - exact) / np.abs(exact)))
    assert errs[0] < 5e-3
    assert 1.7 < errs[1] / errs[0] < 2.3
    assert 1.7 < errs[2] / errs[1] < 2.3


def test_exact_sphere_without_contrast_vanishes_and_scattering_contrast_counts():
    props = dif.OpticalProperties(0.005, 1.0, frequency=140e6)
    det = np.array([[15.0, 0, 0], [0, 12.0, 3.0]])
    out = dif.sphere_exact([-12.0, 0, 0], det, [0, 0, 0], 4.0, props, 0.005)
    assert np.all(out == 0)
    # a scattering-only contrast (musp inside) gives a non-zero field
    out = dif.sphere_exact([-12.0, 0, 0], det, [0, 0, 0], 4.0, props, 0.005, musp_inside=2.0)
    assert np.all(np.abs(out) > 0)


@pytest.mark.parametrize("freq", [0.0, 140e6])
def test_green_function_solves_the_diffusion_equation(freq):
    # -D lap G + (mua + j omega / v) G = 0 away from the source (finite differences, h = 0.05 mm)
    props = dif.OpticalProperties(0.01, 0.8, frequency=freq)
    src = np.array([0.0, 0.0, 10.0])
    p = np.array([7.0, -4.0, 16.0])
    h = 0.05
    g = lambda q: dif.green_semi_infinite(q, src, props)  # noqa: E731
    lap = sum((g(p + h * e) - 2 * g(p) + g(p - h * e)) / h**2 for e in np.eye(3))
    omega = 2 * np.pi * freq
    resid = -props.D * lap + (props.mua + 1j * omega / props.v) * g(p)
    assert abs(resid) < 1e-4 * abs((props.mua + 1j * omega / props.v) * g(p))


def test_semi_infinite_tends_to_infinite_far_from_boundary():
    props = dif.OpticalProperties(0.005, 1.0, frequency=140e6)
    a = np.array([[0.0, 0.0, 400.0], [3.0, 1.0, 500.0]])
    b = np.array([[20.0, 0.0, 400.0], [-10.0, 5.0, 490.0]])
    semi = dif.green_semi_infinite(a, b, props)
    inf = dif.green_semi_infinite(a, b, props, boundary="infinite")
    np.testing.assert_allclose(semi, inf, rtol=1e-12)
    # infinite-medium value from its definition
    r = np.linalg.norm(a - b, axis=1)
    np.testing.assert_allclose(inf, np.exp(-props.k * r) / (4 * np.pi * props.D * r), rtol=1e-14)


def test_reciprocity_and_boundary_value():
    rng = np.random.default_rng(1)
    props = dif.OpticalProperties(0.006, 0.9, frequency=100e6)
    a = rng.uniform([-30, -30, 0], [30, 30, 40], (50, 3))
    b = rng.uniform([-30, -30, 0], [30, 30, 40], (50, 3))
    np.testing.assert_allclose(
        dif.green_semi_infinite(a, b, props), dif.green_semi_infinite(b, a, props), rtol=1e-12
    )
    # the fluence vanishes on the extrapolated boundary z = -zb
    on = a.copy()
    on[:, 2] = -props.zb
    assert np.max(np.abs(dif.green_semi_infinite(on, b, props))) < 1e-15


def test_haskell_constants():
    # Haskell et al. 1994 (Fresnel integration): R_eff = 0.493 at n = 1.4 (A = 2.95); the
    # Groenhuis empirical fit gives 0.529 there (A = 3.25, the value of Farrell et al. 1992)
    assert dif.effective_reflection(1.4) == pytest.approx(0.493, abs=2e-3)
    assert dif.effective_reflection(1.4, "groenhuis") == pytest.approx(0.5295, abs=1e-3)
    p = dif.OpticalProperties(0.01, 1.0, n=1.4)
    assert p.zb == pytest.approx(2 * (1.493 / 0.507) * p.D, rel=5e-3)
    assert p.z0 == pytest.approx(1 / 1.01)


def test_integer_positions_are_converted_to_float():
    props = dif.OpticalProperties(0.005, 0.7, frequency=140e6)
    si = np.array([[-20, 3]], dtype=np.int32)
    di = np.array([[17, -2], [31, 5]], dtype=np.int64)
    a = dif.fluence_semi_infinite(si, di, props)
    b = dif.fluence_semi_infinite(si.astype(float), di.astype(float), props)
    np.testing.assert_array_equal(a, b)
    vox = np.array([[1, 2, 15]])
    np.testing.assert_array_equal(
        dif.born_weights(si, di, vox, 8, props),
        dif.born_weights(si * 1.0, di * 1.0, vox * 1.0, 8.0, props),
    )


def test_far_field_slopes_match_wavenumber():
    props = dif.OpticalProperties(0.004, 0.8, frequency=140e6)
    rho = np.linspace(50, 90, 9)
    det = np.stack([rho, np.zeros_like(rho)], 1)
    phi = dif.fluence_semi_infinite([[0.0, 0.0]], det, props)[0]
    sa = np.polyfit(rho, np.log(rho**2 * np.abs(phi)), 1)[0]
    sp = np.polyfit(rho, np.unwrap(np.angle(phi)), 1)[0]
    assert -sa == pytest.approx(props.k.real, rel=0.02)
    assert -sp == pytest.approx(props.k.imag, rel=0.02)


def test_volume_integral_simulator_matches_exact_sphere():
    # the simulator's full (non-Born) model, infinite medium, strong contrast (4x background):
    # voxelised sphere (1 mm voxels, radius 6 mm) within 3 % of the exact multipole solution
    props = dif.OpticalProperties(0.004, 0.8, frequency=140e6)
    c = np.array([0.0, 0.0, 20.0])
    a = 6.0
    vox = sim.sphere_voxels(c, a, 1.0)
    # volume of the voxelised sphere differs from 4/3 pi a^3: use the equal-volume radius
    a_eq = (3 * vox.shape[0] / (4 * np.pi)) ** (1 / 3)
    src = np.array([[-20.0, 0.0]])
    det = np.array([[20.0, 0.0], [10.0, 12.0]])
    dm = 0.012
    ls = sim.lesion_scattered_field(src, det, vox, 1.0, dm, props, boundary="infinite")[0]
    d3 = np.c_[det, np.zeros(2)]
    exact = dif.sphere_exact([-20.0, 0.0, props.z0], d3, c, a_eq, props, 0.004 + dm)
    np.testing.assert_allclose(ls, exact, rtol=0.03)
    wts = dif.born_weights(src, det, vox, 1.0, props, boundary="infinite")[0]
    born = wts.sum(-1) * dm
    # Born misses the shadowing at this contrast by clearly more than the full model
    assert np.min(np.abs(born - exact) / np.abs(exact)) > 0.1


def test_bad_inputs():
    with pytest.raises(ConfigError):
        dif.OpticalProperties(-0.1, 1.0)
    with pytest.raises(ConfigError):
        dif.OpticalProperties(0.01, 0.0)
    props = dif.OpticalProperties(0.01, 1.0)
    with pytest.raises(ConfigError):
        dif.green_semi_infinite([[0, 0]], [[1, 1, 1]], props)
    with pytest.raises(ConfigError):
        dif.green_semi_infinite([[0, 0, np.nan]], [[1, 1, 1]], props)
    with pytest.raises(ConfigError):
        dif.sphere_exact([0, 0, 0], [[10, 0, 0]], [0, 0, 0], 2.0, props, 0.02)


def test_sources_and_detectors_take_surface_or_3d_positions_alike():
    props = dif.OpticalProperties(0.005, 0.7, frequency=140e6)
    src2, det2 = [[-20.0, 3.0]], [[17.0, -2.0], [31.0, 5.0]]
    src3, det3 = [[-20.0, 3.0, 0.0]], [[17.0, -2.0, 0.0], [31.0, 5.0, 0.0]]
    np.testing.assert_array_equal(
        dif.fluence_semi_infinite(src2, det2, props), dif.fluence_semi_infinite(src3, det3, props)
    )
    # a source is moved to the isotropic-equivalent depth z0, a detector stays where it is
    direct = dif.green_semi_infinite(
        np.array([-20.0, 3.0, props.z0]), np.array([17.0, -2.0, 0.0]), props
    )
    assert dif.fluence_semi_infinite(src2, det2, props)[0, 0] == pytest.approx(direct, rel=1e-12)
    with pytest.raises(ConfigError, match="source positions must be numbers"):
        dif.fluence_semi_infinite([["a", "b"]], det2, props)
    with pytest.raises(ConfigError, match="detector positions must be numbers"):
        dif.fluence_semi_infinite(src2, [["a", "b"]], props)
    with pytest.raises(ConfigError, match=r"detectors must have shape \(\.\.\., 3\)"):
        dif.fluence_semi_infinite(src2, [[1.0, 2.0, 3.0, 4.0]], props)
