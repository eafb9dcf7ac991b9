"""Pennes solver against analytic and semi-analytic oracles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from brim.errors import ConfigError, SolverError
from brim.thermo import _solvers, pennes, skin, steady, transient

K, OMEGA, H = 0.48, 5e-4, 10.0
W = OMEGA * pennes.RHO_BLOOD * pennes.C_BLOOD  # W/m^3/K
M = np.sqrt(W / K)
RHOC = 3.6e6


def analytic_slab(z, L, *, q, t_core, t_inf, h=H):
    """Steady 1-D Pennes: T(0) = t_core, -k T'(L) = h (T(L) - t_inf), uniform q.

    theta = T - T_a - q/W solves theta'' = m^2 theta: theta = A cosh(mz) + B sinh(mz).
    """
    th0 = t_core - 37.0 - q / W
    beta = 37.0 + q / W - t_inf
    c, s = np.cosh(M * L), np.sinh(M * L)
    A = th0
    B = -(h * A * c + h * beta + K * M * A * s) / (K * M * c + h * s)
    return A * np.cosh(M * z) + B * np.sinh(M * z) + 37.0 + q / W


def slab(n, axis, *, length=0.03):
    """A slab along ``axis``: fixed voxel at index 0 (centre z=0), n tissue voxels, air above.

    The skin face is at L = (n + 1/2) d.
    """
    d = length / (n + 0.5)
    shape = [3, 3, 3]
    shape[axis] = n + 2
    dom = np.ones(shape, bool)
    fixed = np.full(shape, np.nan)
    sl = [slice(None)] * 3
    sl[axis] = 0
    dom[tuple(sl)] = False
    fixed[tuple(sl)] = 37.0
    sl[axis] = -1
    dom[tuple(sl)] = False
    spacing = [1e-3, 1e-3, 1e-3]
    spacing[axis] = d
    return dom, fixed, tuple(spacing), d


def line(arr, axis):
    idx = [1, 1, 1]
    idx[axis] = slice(None)
    return arr[tuple(idx)]


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("q", [0.0, 450.0])
@pytest.mark.parametrize("method", ["direct", "cg"])
def test_steady_slab_matches_analytic(axis, q, method):
    n, L = 120, 0.03
    dom, fixed, spacing, d = slab(n, axis, length=L)
    sol = steady.solve_pennes(
        K, OMEGA, q, dom, spacing=spacing, fixed=fixed, h=H, t_ambient=21.0, method=method
    )
    z = d * np.arange(n + 1)
    exact = analytic_slab(z, L, q=q, t_core=37.0, t_inf=21.0)
    got = line(sol.temperature, axis)[: n + 1]
    err = np.abs(got - exact).max()
    assert err < 1e-3  # measured ~3e-5 K at n = 120
    # uniform in the two other directions
    full = sol.temperature[dom]
    assert np.ptp(full.reshape(-1)) > 1.0  # it is not a constant field...
    sk = skin.skin_temperature(sol.temperature, K, dom, spacing=spacing, h=H, t_ambient=21.0,
                             fixed=fixed)  # fmt: skip
    surf = line(sk.mean, axis)[n]
    assert abs(surf - analytic_slab(L, L, q=q, t_core=37.0, t_inf=21.0)) < 1e-3


def test_steady_slab_second_order_convergence():
    errs = []
    for n in (40, 80):
        dom, fixed, spacing, d = slab(n, 0)
        sol = steady.solve_pennes(
            K, OMEGA, 450.0, dom, spacing=spacing, fixed=fixed, t_ambient=20.0
        )
        z = d * np.arange(n + 1)
        ex = analytic_slab(z, 0.03, q=450.0, t_core=37.0, t_inf=20.0)
        errs.append(np.abs(line(sol.temperature, 0)[: n + 1] - ex).max())
    assert 3.0 < errs[0] / errs[1] < 5.0  # ~4 for a second-order scheme


def _heterogeneous_3d():
    """A 7 480-unknown heterogeneous box: (k, w, q, domain, fixed), spacing 2 mm."""
    rng = np.random.default_rng(1)
    shape = (20, 24, 26)
    dom = np.zeros(shape, bool)
    dom[1:-2, 2:-2, 2:-2] = True
    fixed = np.full(shape, np.nan)
    fixed[0, 2:-2, 2:-2] = 37.0
    k = rng.uniform(0.2, 0.5, shape)
    w = rng.uniform(2e-4, 2e-3, shape)
    q = rng.uniform(300, 5e4, shape)
    return k, w, q, dom, fixed


@pytest.mark.parametrize("method", ["cg", "mg"])
def test_iterative_and_direct_agree_on_3d_heterogeneous(method):
    k, w, q, dom, fixed = _heterogeneous_3d()
    a = steady.solve_pennes(k, w, q, dom, spacing=2e-3, fixed=fixed, method="direct")
    b = steady.solve_pennes(k, w, q, dom, spacing=2e-3, fixed=fixed, method=method, rtol=1e-12)
    assert np.nanmax(np.abs(a.temperature - b.temperature)) < 1e-7
    assert b.iterations > 0 and b.residual < 1e-10 and b.method == method
    if method == "mg":
        A = pennes.assemble(k, w, q, dom, spacing=2e-3, fixed=fixed).matrix
        hier = _solvers.amg_hierarchy(A)
        assert len(hier.levels) >= 2  # a real multigrid, not just the coarse direct solve
        assert b.iterations < 40


def test_auto_picks_jacobi_cg_and_falls_back_to_multigrid():
    """Above the direct-solve size "auto" runs Jacobi-CG (measured faster than multigrid-CG
    on every system in benchmarks/RESULTS.md); where Jacobi-CG runs out of iterations
    (here 129 needed, 40 allowed) it solves with multigrid-CG (18 iterations) instead of
    failing, to the same temperatures."""
    k, w, q, dom, fixed = _heterogeneous_3d()
    prob = pennes.assemble(k, w, q, dom, spacing=2e-3, fixed=fixed)
    assert prob.matrix.shape[0] > _solvers.DIRECT_MAX
    ref = steady.solve_steady(prob, 21.0, method="direct")
    auto = steady.solve_steady(prob, 21.0, rtol=1e-12)
    assert auto.method == "cg"
    with pytest.raises(SolverError, match="did not converge in 40"):
        steady.solve_steady(prob, 21.0, method="cg", rtol=1e-12, maxiter=40)
    fallback = steady.solve_steady(prob, 21.0, rtol=1e-12, maxiter=40)
    assert fallback.method == "mg" and fallback.iterations <= 40
    for sol in (auto, fallback):
        assert np.nanmax(np.abs(sol.temperature - ref.temperature)) < 1e-7


def face_fluxes(T, k, dom, fixed, spacing, h, t_inf):
    """Independent bookkeeping of the boundary heat flows, W (loop over faces)."""
    air = ~dom & np.isnan(fixed)
    p_skin = 0.0
    p_chest = 0.0
    for axis in range(3):
        d = spacing[axis]
        area = np.prod(spacing) / d
        for s in (1, -1):
            nb_T = np.roll(T, -s, axis)
            nb_k = np.roll(k, -s, axis)
            nb_air = np.roll(air, -s, axis)
            nb_fix = np.roll(~np.isnan(fixed), -s, axis)
            edge = [slice(None)] * 3
            edge[axis] = -1 if s == 1 else 0
            valid = np.ones(T.shape, bool)
            valid[tuple(edge)] = False  # no wrap-around
            sk = dom & nb_air & valid
            ts = (2 * k[sk] / d * T[sk] + h * t_inf) / (2 * k[sk] / d + h)
            p_skin += (h * (ts - t_inf)).sum() * area
            fx = dom & nb_fix & valid
            g = 2 * k[fx] * nb_k[fx] / (k[fx] + nb_k[fx]) / d
            p_chest += (g * (nb_T[fx] - T[fx])).sum() * area
    return p_skin, p_chest


def test_energy_balance_on_phantom():
    from brim.thermo.phantom import PhantomSpec, TumourSpec, build_phantom

    spec = PhantomSpec(
        voxel=5e-3,
        torso_width=0.2,
        torso_height=0.1,
        breast_radius=(0.045, 0.045),
        breast_separation=0.1,
        breast_y=0.0,
        tumour=TumourSpec(side="left", diameter=0.015, depth=0.012),
    )
    ph = build_phantom(spec=spec, seed=0)
    dom = ph.domain
    sol = steady.solve_pennes(ph.conductivity, ph.perfusion, ph.metabolic_heat, dom,
                          spacing=5e-3, fixed=ph.fixed, h=H, t_ambient=21.0, method="cg",
                          rtol=1e-12)  # fmt: skip
    T = sol.temperature
    V = 5e-3**3
    p_met = ph.metabolic_heat[dom].sum() * V
    p_perf = (ph.perfusion[dom] * pennes.RHO_BLOOD * pennes.C_BLOOD * (37.0 - T[dom])).sum() * V
    p_skin, p_chest = face_fluxes(np.nan_to_num(T), ph.conductivity, dom, ph.fixed,
                                  (5e-3,) * 3, H, 21.0)  # fmt: skip
    gained = p_met + p_perf + p_chest
    assert p_skin > 0 and p_met > 0
    rel = abs(gained - p_skin) / p_skin
    assert rel < 1e-6  # measured ~1e-10 (CG rtol 1e-12)


def test_transient_single_fourier_mode_decays_at_analytic_rate():
    # Dirichlet at both ends (fixed voxel centres at z = 0 and z = L), no heat source:
    # T = 37 + sin(pi z / L) exp(-lam t), lam = (k pi^2 / L^2 + W) / (rho c)
    n, L = 100, 0.02
    d = L / (n + 1)
    dom = np.ones((n + 2, 1, 1), bool)
    dom[[0, -1]] = False
    fixed = np.full(dom.shape, np.nan)
    fixed[[0, -1]] = 37.0
    z = d * np.arange(n + 2)
    prob = pennes.assemble(K, OMEGA, 0.0, dom, spacing=d, fixed=fixed, h=0.0, heat_capacity=RHOC)
    t0 = 37.0 + np.sin(np.pi * z / L)[:, None, None]
    lam = (K * np.pi**2 / L**2 + W) / RHOC
    t_end = 0.5 / lam
    sol = transient.solve_transient(prob, t0, 21.0, dt=t_end / 200, t_end=t_end, theta=0.5,
                             startup_steps=0)  # fmt: skip
    got = sol.temperature[-1, 1:-1, 0, 0] - 37.0
    exact = np.sin(np.pi * z[1:-1] / L) * np.exp(-lam * t_end)
    assert np.abs(got - exact).max() < 1e-4  # measured ~2e-5 (of an amplitude 0.61)


def test_transient_cold_stress_matches_eigenfunction_series():
    # slab at steady state with ambient 24 degC; at t = 0 the room drops to 18 degC.
    # theta = T - T_ss(18) obeys rho c theta_t = k theta'' - W theta, theta(0) = 0,
    # -k theta'(L) = h theta(L): theta = sum a_n sin(mu_n z) exp(-(k mu_n^2 + W) t / rho c)
    # with tan(mu L) = -k mu / h.
    n, L, q = 150, 0.03, 450.0
    dom, fixed, spacing, d = slab(n, 0, length=L)
    dom, fixed = dom[:, :1, :1].copy(), fixed[:, :1, :1].copy()
    prob = pennes.assemble(K, OMEGA, q, dom, spacing=d, fixed=fixed, h=H, heat_capacity=RHOC)
    z = d * np.arange(n + 2)
    t_init = analytic_slab(z, L, q=q, t_core=37.0, t_inf=24.0)
    t_init[-1] = np.nan
    times = [30.0, 120.0, 600.0]
    sol = transient.solve_transient(prob, t_init[:, None, None], 18.0, dt=0.5, t_end=600.0,
                             output_times=times)  # fmt: skip

    zq = np.linspace(0, L, 20001)
    theta0 = analytic_slab(zq, L, q=q, t_core=37.0, t_inf=24.0) - analytic_slab(
        zq, L, q=q, t_core=37.0, t_inf=18.0
    )
    mus = []
    for j in range(1, 80):
        lo, hi = (j - 0.5) * np.pi / L + 1e-9, j * np.pi / L - 1e-9
        mus.append(brentq(lambda mu: H * np.sin(mu * L) + K * mu * np.cos(mu * L), lo, hi))
    mus = np.array(mus)
    modes = np.sin(np.outer(mus, zq))
    coef = np.trapezoid(modes * theta0, zq, axis=1) / np.trapezoid(modes**2, zq, axis=1)
    rates = (K * mus**2 + W) / RHOC
    zc = z[: n + 1]
    for ti, t in enumerate(times):
        series = (coef * np.exp(-rates * t)) @ np.sin(np.outer(mus, zc))
        exact = series + analytic_slab(zc, L, q=q, t_core=37.0, t_inf=18.0)
        err = np.abs(sol.temperature[ti, : n + 1, 0, 0] - exact).max()
        assert err < 2e-4, (t, err)  # measured 4.5e-5 K; backward Euler would give 6e-4
    # the skin has cooled, but not yet to the new steady state
    surf = sol.temperature[:, n, 0, 0]
    assert surf[0] > surf[1] > surf[2] > analytic_slab(L, L, q=q, t_core=37.0, t_inf=18.0)


def test_radiative_h_reproduces_grey_body_exchange():
    ts, ta, eps = 33.0, 20.0, 0.97
    hr = pennes.radiative_h(ts, ta, emissivity=eps)
    # sigma = 2 pi^5 k^4 / (15 h^3 c^2) from the exact 2019-SI values of k, h, c
    k, h, c = 1.380649e-23, 6.62607015e-34, 299_792_458.0
    sigma = 2 * np.pi**5 * k**4 / (15 * h**3 * c**2)
    exact = eps * sigma * ((ts + 273.15) ** 4 - (ta + 273.15) ** 4)
    assert hr * (ts - ta) == pytest.approx(exact, rel=1e-12)
    assert 5.0 < hr < 7.0  # the textbook ~6 W/m^2/K near room temperature


def test_bad_input_raises():
    dom = np.ones((4, 4, 4), bool)
    fixed = np.full(dom.shape, np.nan)
    fixed[0] = 37.0
    with pytest.raises(ConfigError, match="overlap"):
        pennes.assemble(K, OMEGA, 0.0, dom, spacing=1e-3, fixed=fixed)
    with pytest.raises(ConfigError, match="spacing"):
        pennes.assemble(K, OMEGA, 0.0, dom, spacing=-1.0)
    with pytest.raises(ConfigError, match="shape"):
        pennes.assemble(np.ones((2, 2, 2)), OMEGA, 0.0, dom, spacing=1e-3)
    with pytest.raises(ConfigError, match="method"):
        steady.solve_pennes(K, OMEGA, 0.0, dom, spacing=1e-3, method="magic")
    with pytest.raises(ConfigError, match="backend"):
        steady.solve_pennes(K, OMEGA, 0.0, dom, spacing=1e-3, backend="tpu")
    # the backend aliases every other module takes: "cpu" is the NumPy path
    a = steady.solve_pennes(K, OMEGA, 0.0, dom, spacing=1e-3, method="cg")
    b = steady.solve_pennes(K, OMEGA, 0.0, dom, spacing=1e-3, method="cg", backend="cpu")
    np.testing.assert_array_equal(a.temperature, b.temperature)
    dom2, fixed2, spacing, _ = slab(200, 0)
    prob = pennes.assemble(K, OMEGA, 0.0, dom2, spacing=spacing, fixed=fixed2)
    with pytest.raises(SolverError, match="converge"):
        steady.solve_steady(prob, 21.0, method="cg", maxiter=3)


@pytest.mark.gpu
def test_cupy_cg_matches_cpu():
    rng = np.random.default_rng(2)
    shape = (20, 24, 24)
    dom = np.zeros(shape, bool)
    dom[1:-2, 2:-2, 2:-2] = True
    fixed = np.full(shape, np.nan)
    fixed[0, 2:-2, 2:-2] = 37.0
    k = rng.uniform(0.2, 0.5, shape)
    a = steady.solve_pennes(k, OMEGA, 450.0, dom, spacing=2e-3, fixed=fixed, method="direct")
    b = steady.solve_pennes(k, OMEGA, 450.0, dom, spacing=2e-3, fixed=fixed, method="cg",
                        backend="cupy", rtol=1e-12)  # fmt: skip
    assert b.method == "cg-cupy"
    assert np.nanmax(np.abs(a.temperature - b.temperature)) < 1e-6
