"""Benchmark: US-guided DOT reconstruction time per case, brim.fusion vs dense references.

One simulated case (1.5 cm lesion at 2 cm depth, HbT 70 uM; 4 wavelengths, 9 x 14 = 126
source-detector pairs, 140 MHz). Same input, same process:

* ours, dual mesh + data-space Tikhonov, first Born (``nonlinear_iterations=0``) and with one
  distorted-Born step (the default);
* reference A: the same dual-mesh weight matrices solved by ``numpy.linalg.lstsq`` (dense,
  minimum norm, unregularised);
* reference B: a uniform fine grid (2.5 mm everywhere, no dual mesh) solved by
  ``numpy.linalg.lstsq`` - what a plain dense implementation does.

Reported: best-of-N wall time per case (all 4 wavelengths, background fit excluded and shared),
the ratio reference/ours, lesion HbT and sO2 with their errors, and the lesion-centre error
(brim works in metres; the table shows mm).

    python benchmarks/fusion_reconstruct.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform

import numpy as np
from _timing import best_with_result as best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from brim.fusion import reconstruction as rc
    from brim.fusion import simulate as sim
    from brim.fusion.background import fit_background

    lesion = sim.Lesion((5e-3, 0.0, 20e-3), 7.5e-3, 45.0, 25.0)  # m
    target, reference = sim.simulate_pair(lesion, voxel=1e-3, seed=7)
    us = sim.synthetic_ultrasound(lesion, pixel=0.5e-3, seed=7)
    bg = fit_background(reference)
    truth = lesion.hbo2 + lesion.hb
    truth_so2 = lesion.hbo2 / truth

    def run(**kw):
        return rc.reconstruct(target, reference, us=us, background=bg, **kw)

    cases = [
        ("brim dual mesh, Tikhonov, Born", dict(nonlinear_iterations=0)),
        ("brim dual mesh, Tikhonov, Born + 1 distorted-Born step", dict(nonlinear_iterations=1)),
        ("brim dual mesh, CGLS (20 it), Born", dict(nonlinear_iterations=0, solver="cgls")),
        ("ref A: dual mesh, numpy lstsq", dict(nonlinear_iterations=0, solver="lstsq")),
        (
            "ref B: uniform 2.5 mm grid, numpy lstsq",
            dict(nonlinear_iterations=0, solver="lstsq", fine_factor=100.0),
        ),
    ]
    rows = []
    for name, kw in cases:
        t, rec = best(lambda kw=kw: run(**kw), args.repeat)
        hb = rc.hemoglobin(rec)
        c = rc.lesion_summary(rec)["center"]
        err = 1e3 * float(np.linalg.norm(np.subtract(c, lesion.center)))  # mm
        rows.append(
            (name, t, rec.attrs["n_unknowns"], float(hb.lesion_hbt), float(hb.lesion_so2), err)
        )
    t_ours = rows[0][1]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    centre_mm = [round(v * 1e3, 3) for v in lesion.center]
    print(f"truth: HbT {truth:.1f} uM, sO2 {truth_so2:.3f}, centre {centre_mm} mm")
    print("| method | unknowns | time/case (s) | time / ours(Born) | lesion HbT (uM) | HbT error |"
          " lesion sO2 | sO2 error | centre error (mm) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, t, n, hbt, so2, err in rows:
        print(
            f"| {name} | {n} | {t:.3f} | {t / t_ours:.2f} | {hbt:.1f} | "
            f"{100 * (hbt - truth) / truth:+.0f} % | {so2:.3f} | {so2 - truth_so2:+.3f} | "
            f"{err:.1f} |"
        )
    print(json.dumps({r[0]: round(r[1], 4) for r in rows}))


if __name__ == "__main__":
    main()
