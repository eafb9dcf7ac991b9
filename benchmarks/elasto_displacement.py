"""Benchmark: displacement + strain frames/s, brim.elasto (Numba) vs a plain NumPy reference.

Inputs: the Field II pair (1041 x 250, ``$BRIM_EXTERNAL_DATA/elasto/fieldii_dp``, 1 % compression)
and a simulated 2304 x 384 pair (brim.elasto.rfsim, 1 % compression). Both implementations run the
same coarse-to-fine NCC algorithm (same windows, search ranges and sub-sample fit) in the same
process; the reference loops over windows in Python with vectorised NumPy per window. brim is
timed with 1 and with all Numba threads (best of 5 after a warm-up), and the NCC time is split
into coarse pass, fine pass and the rest (guidance, strain, Dataset bookkeeping). With a CUDA GPU
and CuPy the three estimators are also timed with ``backend="cupy"`` on the same pairs.

Run: ``BRIM_EXTERNAL_DATA=... python benchmarks/elasto_displacement.py [--quick]``
(the load average printed before and after says how busy the machine was).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from _elasto_inputs import LARGE_PAIR, fieldii_pair
from _timing import best_seconds

from brim.backend import cupy_available
from brim.elasto.displacement import estimate_displacement, estimate_displacement_reference
from brim.elasto.rfsim import simulate_pair
from brim.elasto.strain import least_squares_strain, strain_image


def _split(pair, window, step):
    """Best times of the coarse and the fine NCC pass alone (same inputs as the pipeline)."""
    from brim.elasto import displacement as disp
    from brim.elasto.displacement_kernels import ncc_numba

    a, b = pair["rf"].values[0], pair["rf"].values[1]
    nd, nl = a.shape
    hw, dmax = window // 2, int(np.ceil(0.05 * nd)) + 2
    fine = disp.window_centers(nd, hw, step)
    cc, cax, clat, cols = disp._coarse("numpy", a, b, hw, step, dmax)
    gax, glat = disp._guide(cc, cax, clat, fine, nl, cols)
    tc = best_seconds(lambda: disp._coarse("numpy", a, b, hw, step, dmax), warmup=True)
    tf = best_seconds(lambda: ncc_numba(a, b, fine, hw, gax, glat, 2, 1), warmup=True)
    return tc, tf


def _pairs():
    out = []
    field = fieldii_pair()
    if field is not None:
        out.append(("Field II 1041x250", field))
    out.append(("simulated 2304x384", simulate_pair(**LARGE_PAIR, seed=1)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one repeat, skip the slow reference")
    args = ap.parse_args()
    import numba

    max_threads = numba.get_num_threads()
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, numba threads up to {max_threads}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    rows = []
    split = []
    repeat = 1 if args.quick else 5
    for name, pair in _pairs():
        window, step = 61, 15
        pre = pair["rf"].values[0].astype(float)
        post = pair["rf"].values[1].astype(float)
        for threads in sorted({1, max_threads}):
            numba.set_num_threads(threads)
            for method in ("ncc", "phase", "dp"):
                if method == "dp" and threads != max_threads:
                    continue

                def ours(method=method, pair=pair, window=window, step=step):
                    return strain_image(
                        estimate_displacement(pair, method=method, window=window, step=step)
                    )

                t = best_seconds(ours, repeat, warmup=True)
                rows.append((name, f"brim {method} (Numba, {threads} thr) + LSQ strain", t))
                if method == "ncc":
                    tc, tf = _split(pair, window, step)
                    split.append((name, threads, t, tc, tf))
        numba.set_num_threads(max_threads)
        if cupy_available():
            import cupy as cp

            gpu = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
            for method in ("ncc", "phase", "dp"):

                def on_gpu(method=method, pair=pair, window=window, step=step):
                    d = estimate_displacement(
                        pair, method=method, window=window, step=step, backend="cupy"
                    )
                    cp.cuda.Device().synchronize()
                    return strain_image(d)

                t = best_seconds(on_gpu, repeat, warmup=True)
                rows.append((name, f"brim {method} (CuPy, {gpu}) + LSQ strain", t))
        if not args.quick:

            def ref(pre=pre, post=post, window=window, step=step):
                ax = estimate_displacement_reference(pre, post, window=window, step=step)
                return least_squares_strain(ax, kernel=9, spacing=step)

            t0 = time.perf_counter()
            ref()
            rows.append((name, "NumPy reference ncc + LSQ strain", time.perf_counter() - t0))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("\n| input | implementation | s/frame | frames/s | speed-up vs NumPy |")
    print("|---|---|---|---|---|")
    refs = {r[0]: r[2] for r in rows if r[1].startswith("NumPy")}
    for name, impl, t in rows:
        ratio = f"{refs[name] / t:.0f}x" if name in refs else "-"
        print(f"| {name} | {impl} | {t:.4f} | {1 / t:.1f} | {ratio} |")
    print(
        "\n| input | threads | ncc + strain [ms] | coarse pass [ms] | fine pass [ms] | rest [ms] |"
    )
    print("|---|---|---|---|---|---|")
    for name, threads, t, tc, tf in split:
        rest = t - tc - tf
        print(
            f"| {name} | {threads} | {t * 1e3:.1f} | {tc * 1e3:.1f} | {tf * 1e3:.1f} | "
            f"{rest * 1e3:.1f} |"
        )


if __name__ == "__main__":
    main()
