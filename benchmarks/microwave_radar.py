"""Benchmark: brim's Numba DAS/DMAS/CF-DAS kernel vs a plain vectorised NumPy implementation.

Same input for both (a MERIT-sized simulated scan: 96 channels x 76 frequencies, or the sample
scan), same image points; prints time, throughput in (points x channels x frequencies) per second,
the ratio, the agreement, and the fraction of the machine's double-precision peak. Then forms a
10**6-point 3-D image through the chunked ``beamform`` and reports time and peak memory. With a
CUDA GPU and CuPy it also times the CuPy kernel on the same input.

Run: python benchmarks/microwave_radar.py [--points 20000] [--big 1000000]
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np
from _timing import best_with_result

from brim.backend import cupy_available
from brim.microwave import radar, samples
from brim.microwave.radar import kernels as rk

FLOPS_PER_MAC = 14  # complex multiply-add (8) + phasor recursion step (6) per (point, ch, freq)


def _merit_like_scan():
    ant = samples.hemisphere_antennas(radius=0.07, rings=((0.011, 10), (0.037, 10), (0.057, 4)))
    # MERIT's channel table: all pairs within each ring (45 + 45 + 6 = 96 channels)
    tx, rx = [], []
    for lo, n in ((0, 10), (10, 10), (20, 4)):
        i, j = np.triu_indices(n, k=1)
        tx += list(i + lo)
        rx += list(j + lo)
    tx, rx = np.asarray(tx), np.asarray(rx)
    f = np.linspace(1.5e9, 4.5e9, 76)
    s = samples.simulate_point_scatterers(ant, tx, rx, f, [((0.015, 0, 0.035), 1.0)])
    return np.ascontiguousarray(s.T), f, tx, rx, ant


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument(
        "--peak-gflops",
        type=float,
        default=2 * 2.6 * 32,
        help="machine double-precision peak (default: 2 cores x 2.6 GHz x 32 "
        "flop/cycle, AVX-512 with two FMA units)",
    )
    ap.add_argument(
        "--gpu-peak-gflops",
        type=float,
        default=33_500.0,
        help="GPU double-precision peak without tensor cores (default: NVIDIA H100 SXM, 33.5 "
        "TFLOP/s; H200 is the same)",
    )
    a = ap.parse_args()
    sig, f, tx, rx, ant = _merit_like_scan()
    rng = np.random.default_rng(0)
    pts = rng.uniform([-0.06, -0.06, 0.0], [0.06, 0.06, 0.06], (a.points, 3))
    t = radar.homogeneous_delays(pts, ant, 8.0)
    work = a.points * len(tx) * f.size
    out = np.empty((a.points, 3))
    rk.fd_beamform_numba(sig, f, True, t[:10], tx, rx, out[:10])  # compile / load cache

    t_nb, _ = best_with_result(lambda: rk.fd_beamform_numba(sig, f, True, t, tx, rx, out), 3)

    def numpy_ref():
        res = []
        for i in range(0, a.points, 500):  # chunks keep the [P, C, F] array at ~58 MB
            res.append(rk.fd_beamform_numpy(sig, f, t[i : i + 500], tx, rx))
        return np.concatenate(res)

    t_np, ref = best_with_result(numpy_ref, 1)
    err = np.max(np.abs(out - ref) / ref.max(axis=0))
    print(
        f"machine: {platform.processor() or platform.machine()}, numba threads "
        f"{__import__('numba').get_num_threads()}"
    )
    print(
        f"input: {len(tx)} channels x {f.size} frequencies, {a.points} points "
        f"({work:.3g} point-channel-frequency terms)"
    )
    print("| kernel | time (s) | throughput (terms/s) | GFLOP/s | % of peak |")
    print("|---|---|---|---|---|")
    for name, tt in (("NumPy vectorised (reference)", t_np), ("Numba fd_beamform", t_nb)):
        gf = work * FLOPS_PER_MAC / tt / 1e9
        print(
            f"| {name} | {tt:.3f} | {work / tt:.3g} | {gf:.2f} | {100 * gf / a.peak_gflops:.1f} |"
        )
    print(f"speed-up Numba / NumPy: {t_np / t_nb:.1f}x; max relative difference {err:.2e}")
    if cupy_available():
        import cupy as cp

        rk.fd_beamform_cupy(sig, f, t[:10], tx, rx)
        cp.cuda.Device().synchronize()

        def gpu():
            r = rk.fd_beamform_cupy(sig, f, t, tx, rx)
            cp.cuda.Device().synchronize()
            return r

        t_gpu, r = best_with_result(gpu, 3)
        gf = work * FLOPS_PER_MAC / t_gpu / 1e9
        print(
            f"| CuPy fd_beamform ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}) | "
            f"{t_gpu:.3f} | {work / t_gpu:.3g} | {gf:.1f} | {100 * gf / a.gpu_peak_gflops:.1f} "
            f"of GPU FP64 |"
        )
        print(
            f"speed-up CuPy / Numba: {t_nb / t_gpu:.1f}x, CuPy / NumPy: {t_np / t_gpu:.1f}x; "
            f"max relative difference to Numba "
            f"{float(np.max(np.abs(cp.asnumpy(r) - out) / out.max(axis=0))):.2e} (GFLOP/s counts "
            f"the same {FLOPS_PER_MAC} flop per term as the CPU rows; the vectorised CuPy path "
            "evaluates every phasor with exp and streams it through memory)"
        )
    else:
        print("CuPy: no CUDA GPU here, GPU row skipped")

    # 10**6-point 3-D image, chunked
    n = round(a.big ** (1 / 3))
    ax = np.linspace(-0.05, 0.05, n)
    grid = radar.box_grid(ax, ax, np.linspace(0.0, 0.06, n))
    scan = samples.simulate_scan()
    scan["s"] = scan["s"] - scan["s_reference"]
    t0 = time.perf_counter()
    img = radar.beamform(scan, grid=grid, max_memory_mb=64, progress=False)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"3-D image of {grid.mask.sum()} points ({scan.sizes['channel']} ch x "
        f"{scan.sizes['freq']} f), max_memory_mb=64: {dt:.1f} s, peak RSS {rss:.0f} MB, "
        f"image {img['das'].nbytes / 2**20:.0f} MB per method"
    )
    if cupy_available():
        radar.beamform(scan, grid=grid, max_memory_mb=1024, backend="cupy")  # warm-up
        t0 = time.perf_counter()
        img_gpu = radar.beamform(scan, grid=grid, max_memory_mb=1024, backend="cupy")
        dt_gpu = time.perf_counter() - t0
        diff = max(
            float(np.nanmax(np.abs(img_gpu[m].values - img[m].values)) / np.nanmax(img[m].values))
            for m in img.data_vars
        )
        print(
            f"same image with backend='cupy', max_memory_mb=1024: {dt_gpu:.2f} s "
            f"({dt / dt_gpu:.1f}x the Numba time); max difference / image peak {diff:.1e}"
        )


if __name__ == "__main__":
    main()
