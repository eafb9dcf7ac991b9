"""Benchmark: brim.microwave tomography forward solver.

1. Against eispy2d's ``MoM_CG_FFT`` (CG on the normal equations with FFTs), on the same dielectric
   cylinder under plane waves, both compared with the analytic series. eispy2d is GPL: it is run
   only as a separate process inside a throwaway virtual environment (``--eispy2d-python``,
   default ``/tmp/bench-venv/bin/python``), never imported by brim.
2. Our forward time from 64^2 to 512^2 cells, 16 plane waves, against a dense direct solve of
   the same Richmond system where that fits (the unaccelerated reference).

Run:  python benchmarks/microwave_tomography.py [--quick] [--backend numpy|cupy]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from brim.microwave.forward import (
    Grid,
    background_wavenumber,
    cylinder_scattered_field_analytic,
    dense_richmond_matrix,
    plane_wave_field,
    receiver_matrix,
    ring_positions,
    simulate,
    simulate_extrapolated,
)
from brim.microwave.tomo_phantoms import disk_fraction

DRIVER = r"""
import json, sys, time
import numpy as np
import eispy2d as eis
p = json.loads(sys.argv[1])
cfg = eis.Configuration(name="bench", number_measurements=p["NM"], number_sources=p["NS"],
                        observation_radius=p["Ro"], frequency=p["f"],
                        background_permittivity=1.0, image_size=[p["L"], p["L"]],
                        wavelength_unit=False)
eps = np.load(p["eps"])
data = eis.InputData(name="cyl", configuration=cfg, resolution=eps.shape, rel_permittivity=eps,
                     conductivity=np.zeros(eps.shape))
solver = eis.MoM_CG_FFT(tolerance=p["tol"], maximum_iterations=5000)
t = time.perf_counter()
solver.solve(data)
dt = time.perf_counter() - t
np.save(p["out"], np.asarray(data.scattered_field))
print(json.dumps({"time": dt}))
"""


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def vs_eispy2d(py: str, sizes, *, eps=2.0, radius=0.03, width=0.1, f=1e9, ns=8, nm=16, ro=0.2):
    rows = []
    ang = 2 * np.pi * np.arange(ns) / ns
    rx = ring_positions(nm, ro)
    ref = np.stack(
        [cylinder_scattered_field_analytic(radius, eps, 1.0, f, *rx, angle=a) for a in ang]
    )
    with tempfile.TemporaryDirectory() as tmp:
        drv = Path(tmp) / "driver.py"
        drv.write_text(DRIVER)
        for n in sizes:
            g = Grid.centered(n, width)
            epsmap = 1 + (eps - 1) * disk_fraction(g, 0.0, 0.0, radius, exact=True)
            simulate(epsmap, g, f, ang, rx, source="plane", tol=1e-6)  # warm-up
            times, errs = {}, {}
            for solver, tol in [("bicgstab", 1e-6), ("gmres", 1e-6), ("gmres", 1e-3)]:
                best = np.inf
                for _ in range(3):  # best of 3: the machine is shared
                    t = time.perf_counter()
                    out = simulate(epsmap, g, f, ang, rx, source="plane", tol=tol, solver=solver)
                    best = min(best, time.perf_counter() - t)
                times[solver, tol] = best
                errs[solver, tol] = _rel(out["scattered_field"].values[0], ref)
            np.save(Path(tmp) / "eps.npy", epsmap.real)
            p = {
                "NM": nm,
                "NS": ns,
                "Ro": ro,
                "f": f,
                "L": width,
                "tol": 1e-3,
                "eps": str(Path(tmp) / "eps.npy"),
                "out": str(Path(tmp) / "es.npy"),
            }
            try:
                t_eis = np.inf
                for _ in range(3):  # best of 3 for eispy2d too (the machine is shared)
                    out = subprocess.run(
                        [py, str(drv), json.dumps(p)],
                        capture_output=True,
                        text=True,
                        timeout=1800,
                        check=True,
                    )
                    t_eis = min(t_eis, json.loads(out.stdout.strip().splitlines()[-1])["time"])
                es_eis = np.load(Path(tmp) / "es.npy").T  # (NS, NM)
                # eispy2d returns exp(-i w t) fields: compare in either convention
                err_eis = min(_rel(es_eis, ref), _rel(np.conj(es_eis), ref))
            except (subprocess.SubprocessError, OSError, ValueError) as exc:
                t_eis, err_eis = float("nan"), float("nan")
                print(f"eispy2d failed at {n}^2: {exc}")
            rows.append((n, times, errs, t_eis, err_eis))
            cells = " | ".join(
                f"brim {sv} tol {tl:g} {times[sv, tl]:7.3f} s err {errs[sv, tl]:.2e} "
                f"(x{t_eis / times[sv, tl]:.0f})"
                for sv, tl in times
            )
            print(
                f"{n:4d}^2  {cells} | eispy2d 1e-3 {t_eis:7.3f} s (best of 3), err {err_eis:.2e}",
                flush=True,
            )
    return rows


def scaling(sizes, *, backend="numpy", ns=16, f=2e9, width=0.15):
    rows = []
    ang = 2 * np.pi * np.arange(ns) / ns
    rx = ring_positions(32, 0.15)
    for n in sizes:
        g = Grid.centered(n, width)
        epsmap = 1 + (4 - 1j - 1) * disk_fraction(g, 0.01, 0.0, 0.05, supersample=4)
        simulate(epsmap, g, f, ang, rx, source="plane", tol=1e-6, backend=backend)  # warm-up
        times, its = {}, {}
        for solver in ("bicgstab", "gmres"):
            best = np.inf
            for _ in range(2 if n >= 512 else 3):  # best of: the machine is shared
                t = time.perf_counter()
                ds, _, info = simulate(
                    epsmap,
                    g,
                    f,
                    ang,
                    rx,
                    source="plane",
                    tol=1e-6,
                    backend=backend,
                    return_fields=True,
                    solver=solver,
                )
                best = min(best, time.perf_counter() - t)
            times[solver], its[solver] = best, info.iterations
        t_dense = err = float("nan")
        if n <= 48:
            k = background_wavenumber(f, 1.0)
            t = time.perf_counter()
            gm = dense_richmond_matrix(g, k[0])
            chi = (epsmap - 1).ravel()
            px, py = g.points()
            einc = plane_wave_field(px, py, ang, k)[0]
            e = np.linalg.solve(np.eye(chi.size) - gm * chi[None], einc.T).T
            es = (chi * e) @ receiver_matrix(g, *rx, k)[0].T
            t_dense = time.perf_counter() - t
            err = _rel(ds["scattered_field"].values[0], es)
        rows.append((n, times, its, t_dense, err))
        print(
            f"{n:4d}^2  brim BiCGSTAB {times['bicgstab']:8.3f} s ({its['bicgstab']} its, "
            f"{2 * its['bicgstab']} matvecs) | GMRES(30) {times['gmres']:8.3f} s "
            f"({its['gmres']} matvecs) | dense {t_dense:8.3f} s | rel diff {err:.1e}",
            flush=True,
        )
    return rows


ACCURACY_CASES = [
    # (eps_r, eps_b, freq Hz, radius m, source, centre offset m)
    (4 - 0.5j, 1.0, 1e9, 0.04, "line", (0.0, 0.0)),
    (2 - 0.2j, 1.0, 2e9, 0.03, "plane", (0.0013, -0.0021)),
    (8 - 1j, 1.0, 1e9, 0.03, "line", (0.001, 0.0)),
    (6 - 1j, 2 - 0.05j, 1e9, 0.03, "plane", (0.0, 0.0)),
    (4 - 0.5j, 1.0, 2e9, 0.05, "plane", (0.0007, 0.0011)),
    (4 - 0.4j, 1.0, 3e9, 0.02, "line", (0.0, 0.0)),
]


def cylinder_error(eps, eps_b, f, radius, src, offset, cpl, *, extrapolate, solver="bicgstab"):
    """Relative L2 error of the scattered field against the analytic series (exact fractions).

    The grid is placed with its centre ``offset`` away from the cylinder axis (so boundary cells
    are not symmetric) at ``cpl`` cells per wavelength in the object.
    """
    lam = 2.99792458e8 / f / np.sqrt((eps).real)
    d = lam / cpl
    n = int(np.ceil(2 * radius / d)) + 4
    grid = Grid.centered(n, n * d, center=offset)

    def rasterise(g):
        return eps_b + (eps - eps_b) * disk_fraction(g, 0.0, 0.0, radius, exact=True)

    if src == "line":
        tx = ring_positions(4, 3 * radius + 0.05)
        rx = ring_positions(16, 2.5 * radius + 0.03, offset=0.1)
        kw = {}
        ref = [
            cylinder_scattered_field_analytic(radius, eps, eps_b, f, *rx, source=(x, y))
            for x, y in zip(*tx, strict=True)
        ]
    else:
        tx = np.linspace(0, 2 * np.pi, 4, endpoint=False) + 0.2
        rx = ring_positions(16, 3.0)  # far field
        kw = {"source": "plane"}
        ref = [cylinder_scattered_field_analytic(radius, eps, eps_b, f, *rx, angle=a) for a in tx]
    kw.update(eps_b=eps_b, tol=1e-11, solver=solver)
    if extrapolate:
        ds = simulate_extrapolated(rasterise, grid, f, tx, rx, **kw)
    else:
        ds = simulate(rasterise(grid), grid, f, tx, rx, **kw)
    return _rel(ds["scattered_field"].values[0], np.stack(ref)), n


def accuracy_table(cpls=(20, 30, 40, 60)):
    rows = []
    for eps, eps_b, f, radius, src, off in ACCURACY_CASES:
        ka = 2 * np.pi * f / 2.99792458e8 * np.sqrt(eps.real) * radius
        for cpl in cpls:
            e1, n = cylinder_error(eps, eps_b, f, radius, src, off, cpl, extrapolate=False)
            e2, _ = cylinder_error(eps, eps_b, f, radius, src, off, cpl, extrapolate=True)
            rows.append((eps, eps_b, f, radius, src, ka, cpl, n, e1, e2))
            print(
                f"eps {eps} in {eps_b} {f / 1e9:.0f} GHz r {radius * 100:.0f} cm {src:5s} "
                f"k1a {ka:.2f} | {cpl} cells/lambda ({n}^2): single grid {e1:.2e}, "
                f"Richardson d,d/2 {e2:.2e}",
                flush=True,
            )
    return rows


def inverse_table(*, n_inv=32, backend="numpy"):
    """Our inversions on one noisy data set (fixed iteration counts): time and error."""
    from brim.microwave.inverse import invert

    gf = Grid.centered(2 * n_inv, 0.12)
    eps_obj = 1.5 - 0.1j
    eps = 1 + (eps_obj - 1) * disk_fraction(gf, 0.01, 0.0, 0.025)
    tx = ring_positions(16, 0.15)
    rx = ring_positions(16, 0.15, offset=0.2)
    ds = simulate(eps, gf, [1e9, 1.5e9], tx, rx)
    rng = np.random.default_rng(0)
    es = ds["scattered_field"].values
    ds["total_field"] = ds["total_field"] + 0.01 * np.abs(es).mean() / np.sqrt(2) * (
        rng.standard_normal(es.shape) + 1j * rng.standard_normal(es.shape)
    )
    gi = Grid.centered(n_inv, 0.12)
    ref = 1 + (eps_obj - 1) * disk_fraction(gi, 0.01, 0.0, 0.025)
    rows = []
    for method, its, reg in [
        ("born", 1, "tikhonov"),
        ("bim", 6, "tikhonov"),
        ("dbim", 6, "tikhonov"),
        ("dbim", 6, "tv"),
        ("csi", 60, "tikhonov"),
        ("mr-csi", 60, "tikhonov"),
    ]:
        t = time.perf_counter()
        r = invert(
            ds,
            gi,
            method=method,
            iterations=its,
            regularization=reg,
            noise_level=0.01,
            backend=backend,
        )
        dt = time.perf_counter() - t
        err = _rel(r.permittivity, ref)
        rows.append((method, reg, its, dt, err, r.history[-1]["final_misfit"]))
        print(
            f"{method:7s} {reg:9s} {its:3d} its/freq  {dt:7.2f} s  rel err {err:.3f}  "
            f"misfit {rows[-1][5]:.3f}",
            flush=True,
        )
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--eispy2d-python", default="/tmp/bench-venv/bin/python")
    ap.add_argument("--only-inverse", action="store_true")
    ap.add_argument("--only-accuracy", action="store_true")
    ap.add_argument("--only-forward", action="store_true")
    args = ap.parse_args()
    if args.only_accuracy:
        print("== cylinder oracle: error vs cells per wavelength in the object ==")
        accuracy_table()
        return
    if args.only_inverse:
        print("== inversions: cylinder 1.5-0.1j, 16x16 line sources, 1 + 1.5 GHz, 1 % noise ==")
        inverse_table(backend=args.backend)
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus")
    if args.only_forward:
        if Path(args.eispy2d_python).exists():
            vs_eispy2d(args.eispy2d_python, [32] if args.quick else [32, 64, 128, 256])
        scaling([32, 48, 64] if args.quick else [32, 48, 64, 128, 256, 512], backend=args.backend)
        return
    if Path(args.eispy2d_python).exists():
        print("== forward vs eispy2d MoM_CG_FFT (cylinder eps=2, 8 plane waves, 16 rx) ==")
        vs_eispy2d(args.eispy2d_python, [32] if args.quick else [32, 64, 128, 256])
    else:
        print("eispy2d venv not found: skipping the eispy2d comparison")
    print(f"== forward scaling, 16 plane waves, 2 GHz, backend {args.backend} ==")
    scaling([32, 48, 64] if args.quick else [32, 48, 64, 128, 256, 512], backend=args.backend)
    print("== inversions: cylinder 1.5-0.1j, 16x16 line sources, 1 + 1.5 GHz, 1 % noise ==")
    inverse_table(backend=args.backend)


if __name__ == "__main__":
    main()
