"""Benchmark: steady Pennes solve time versus grid size.

Ours: ``brim.thermo.steady.solve_steady`` with ``method="mg"`` (CG preconditioned by one V-cycle
of pyamg's aggregation algebraic multigrid, ``pyamg.smoothed_aggregation_solver``; setup included
in its time) and ``method="cg"`` (Jacobi-preconditioned CG), rtol 1e-10; when a CUDA GPU with
CuPy is present, also the Jacobi CG on the GPU (``backend="cupy"``).
References on the SAME assembled system in the same run:

* ``scipy.sparse.linalg.spsolve`` (SuperLU direct, SciPy's default ordering) — skipped above
  ``--max-direct`` unknowns, where its fill-in makes it take minutes;
* ``scipy.sparse.linalg.cg`` without preconditioner (same tolerance).

Two families of grids: the two-breast phantom of :mod:`brim.thermo.phantom` at several voxel
sizes, and an n^3 cube of heterogeneous tissue (Dirichlet bottom, Robin top) up to 100^3.
Times are the best of ``--repeat`` runs (assembly excluded). Prints a table with ratios
``reference / ours`` (> 1: ours is faster) and the largest temperature difference between
solvers.

Run: ``python benchmarks/thermo_pennes.py [--quick] [--repeat 3] [--max-direct N] [--hard]``
(``--max-direct 0`` skips the slow direct reference; ``--hard`` adds cubes without perfusion and
with a high-contrast inclusion, the systems on which ``method="auto"`` was decided).
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import scipy.sparse.linalg as spla
from _timing import best_with_result as best_time

from brim.backend import cupy_available
from brim.thermo.pennes import assemble
from brim.thermo.phantom import PhantomSpec, build_phantom
from brim.thermo.skin import staircase_correction
from brim.thermo.steady import solve_steady


def cube_problem(n: int, seed: int = 0, *, perfusion: float = 1.0, contrast: float = 1.0):
    """An n^3 cube of heterogeneous tissue; ``perfusion`` scales the blood perfusion (0: pure
    conduction, the hardest system for CG) and ``contrast`` multiplies the conductivity of a
    block of a sixteenth of the cube's cross-section (a high-contrast inclusion)."""
    rng = np.random.default_rng(seed)
    shape = (n + 2, n, n)
    dom = np.zeros(shape, bool)
    dom[1:-1] = True
    fixed = np.full(shape, np.nan)
    fixed[0] = 37.0
    k = rng.uniform(0.2, 0.5, shape)
    k[:, n // 4 : n // 2, n // 4 : n // 2] *= contrast
    w = rng.uniform(2e-4, 1e-3, shape) * perfusion
    q = rng.uniform(300.0, 700.0, shape)
    return assemble(k, w, q, dom, spacing=0.1 / n, fixed=fixed, h=10.0)


def phantom_problem(voxel: float):
    ph = build_phantom(spec=PhantomSpec(voxel=voxel), seed=0)
    h = 10.0 * staircase_correction(ph.domain | ~np.isnan(ph.fixed))
    return assemble(
        ph.conductivity, ph.perfusion, ph.metabolic_heat, ph.domain, spacing=voxel,
        fixed=ph.fixed, h=h,
    )  # fmt: skip


def run_case(name, prob, args):
    A = prob.matrix
    b = prob.rhs + prob.robin * 21.0
    n = A.shape[0]
    t_ours, ours = best_time(lambda: solve_steady(prob, 21.0, method="mg"), args.repeat)
    x_ours = ours.temperature[prob.index >= 0]
    t_j, jac = best_time(lambda: solve_steady(prob, 21.0, method="cg"), args.repeat)
    row = {"case": name, "n": n, "ours": t_ours, "it": ours.iterations, "jacobi": t_j,
           "it_j": jac.iterations,
           "diff_j": float(np.abs(jac.temperature[prob.index >= 0] - x_ours).max())}  # fmt: skip
    if n <= args.max_direct:
        t_d, x_d = best_time(lambda: spla.spsolve(A.tocsc(), b), 1)
        row["spsolve"] = t_d
        row["diff_d"] = float(np.abs(x_d - x_ours).max())
    x0 = np.full(n, 37.0)
    t_cg, (x_cg, info) = best_time(
        lambda: spla.cg(A, b, x0=x0, rtol=1e-10, atol=0.0, maxiter=100_000), 1
    )
    row["cg_plain"] = t_cg
    row["diff_cg"] = float(np.abs(x_cg - x_ours).max())
    if cupy_available():
        solve_steady(prob, 21.0, method="cg", backend="cupy")  # warm-up
        t_g, g = best_time(
            lambda: solve_steady(prob, 21.0, method="cg", backend="cupy"), args.repeat
        )
        row["gpu"] = t_g
        row["diff_g"] = float(np.abs(g.temperature[prob.index >= 0] - x_ours).max())
    return row


def fmt(v, spec="{:.3f}"):
    return "—" if v is None else spec.format(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small grids only")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-direct", type=int, default=60_000)
    ap.add_argument(
        "--hard",
        action="store_true",
        help="also cubes without perfusion and with a 20x conductivity inclusion at 1 %% "
        "perfusion (the systems that decide method='auto')",
    )
    args = ap.parse_args(argv)
    voxels = [5e-3, 4e-3] if args.quick else [5e-3, 4e-3, 3e-3, 2.5e-3, 2e-3]
    cubes = [24, 32] if args.quick else [24, 32, 48, 64, 100]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
          f"numpy {np.__version__}; GPU: {'yes' if cupy_available() else 'no'}")  # fmt: skip
    head = ("| case | unknowns | ours MG-CG (s) | iters | ours Jacobi-CG (s) | iters | "
            "spsolve (s) | spsolve/MG | plain CG (s) | plain CG/MG | Jacobi/MG | GPU CG (s) | "
            "Jacobi CPU/GPU | max dT (K) |")  # fmt: skip
    print(head)
    print("|" + "---|" * 14)
    cases = [(f"phantom {v * 1e3:g} mm", lambda v=v: phantom_problem(v)) for v in voxels]
    cases += [(f"cube {n}^3", lambda n=n: cube_problem(n)) for n in cubes]
    if args.hard:
        cases += [
            (f"cube {n}^3, {label}", lambda n=n, kw=kw: cube_problem(n, **kw))
            for n in cubes[2:] or cubes
            for label, kw in (
                ("no perfusion", {"perfusion": 0.0}),
                ("1 % perfusion, 20x k block", {"perfusion": 0.01, "contrast": 20.0}),
            )
        ]
    for name, make in cases:
        r = run_case(name, make(), args)
        sp_ = r.get("spsolve")
        gpu = r.get("gpu")
        diffs = [
            r.get(k) for k in ("diff_d", "diff_cg", "diff_g", "diff_j") if r.get(k) is not None
        ]
        print(
            f"| {name} | {r['n']} | {r['ours']:.3f} | {r['it']} | {r['jacobi']:.3f} | "
            f"{r['it_j']} | {fmt(sp_)} | {fmt(sp_ / r['ours'] if sp_ else None, '{:.1f}x')} | "
            f"{r['cg_plain']:.3f} | {r['cg_plain'] / r['ours']:.1f}x | "
            f"{r['jacobi'] / r['ours']:.1f}x | {fmt(gpu)} | "
            f"{fmt(r['jacobi'] / gpu if gpu else None, '{:.1f}x')} | {max(diffs):.1e} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
