"""Benchmark: brim's Numba DAS/DMAS/CF-DAS kernel vs a plain vectorised NumPy implementation.

Same input for both: a MERIT-like simulated scan, 72 channels (24 antennas on three rings of 8,
each with its three nearest ring neighbours) x 750 frequencies (1-9 GHz) x ``--points`` random
image points. Prints, from one run:

* time, throughput (point-channel-frequency terms per second), GFLOP/s and % of the theoretical
  2-core FP64 peak (from ``/proc/cpuinfo``: clock, AVX-512/AVX2 and FMA flags) of the Numba kernel
  and of the NumPy reference (``exp`` of a [P, C, F] array and ``einsum``, in 100-point chunks),
  their ratio and their agreement;
* a dgemm rate (NumPy ``@``) measured alternately with the kernel, and the kernel's fraction of
  it: the machine is shared, and that ratio is robust to the load where % of peak is not;
* roofline numbers: bytes that must come from memory per flop, a STREAM-like copy bandwidth
  measured in the same run, and the memory roof they give.

FLOP count: 8 per point-channel-frequency term, the complex multiply-add ``y = y z + S`` of Horner's
rule (4 fused multiply-adds) that the kernel executes; the per point-channel work (two sine/cosine
pairs, the phase rotation and the DMAS/CF sums, ~100 flops per point and channel, i.e. ~0.13 per
term at 750 frequencies) is not counted. The NumPy row is given at the same count (useful work).

Then forms a 10**6-point 3-D image through the chunked ``beamform`` (``--big 0`` skips it) and, with
a CUDA GPU and CuPy, times the CuPy kernel on the same input.

Run: python benchmarks/microwave_radar.py [--points 4000] [--big 1000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np
from _timing import best_seconds, best_with_result, copy_bandwidth, fp64_peak

from brim.backend import cupy_available
from brim.microwave import radar, samples
from brim.microwave.radar import kernels as rk

FLOPS_PER_TERM = 8  # Horner step y = y z + S: complex multiply (6) + complex add (2) = 4 FMAs


def _merit_like_scan(n_points, n_freq=750, seed=0):
    """72-channel, ``n_freq``-frequency noisy point-scatterer scan and random image points."""
    rng = np.random.default_rng(seed)
    ant = samples.hemisphere_antennas(radius=0.07, rings=((0.011, 8), (0.037, 8), (0.057, 8)))
    pairs = [
        (8 * r + i, 8 * r + (i + d) % 8) for r in range(3) for i in range(8) for d in (1, 2, 3)
    ]
    tx, rx = (np.asarray(v, dtype=np.int64) for v in zip(*pairs))
    f = np.linspace(1e9, 9e9, n_freq)
    s = samples.simulate_point_scatterers(ant, tx, rx, f, [((0.015, 0, 0.035), 1.0)]).T
    s = s + 0.05 * np.abs(s).max() * (
        rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape)
    )
    pts = rng.uniform([-0.06, -0.06, 0.0], [0.06, 0.06, 0.06], (n_points, 3))
    t = np.ascontiguousarray(radar.homogeneous_delays(pts, ant, 8.0))
    return np.ascontiguousarray(s), f, t, tx, rx


def _kernel_and_dgemm(sig, f, t, tx, rx, flops, repeat=7, window=0.1):
    """Best kernel time (s) and best dgemm rate (GFLOP/s), measured alternately.

    Each kernel sample is several calls lasting about ``window`` s and the dgemm has the same
    flop count (``2 n**3``), so that on a shared machine both see the same kind of time slice.
    """
    out = np.empty((len(t), 3))

    def kernel():
        rk.fd_beamform_numba(sig, f, True, t, tx, rx, out)

    calls = max(1, round(window / best_seconds(kernel, 3, warmup=True)))  # warm-up compiles
    n = max(256, round((calls * flops / 2) ** (1 / 3)))
    gemm = np.random.default_rng(0).random((n, n))
    gemm @ gemm
    t_k, t_d = float("inf"), float("inf")
    for _ in range(repeat):
        t_k = min(t_k, best_seconds(lambda: [kernel() for _ in range(calls)], 1) / calls)
        t_d = min(t_d, best_seconds(lambda: gemm @ gemm, 1))
    return t_k, 2 * n**3 / t_d / 1e9, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=4000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--fma-units", type=int, default=2, help="FMA units per core (Xeon: 2)")
    ap.add_argument(
        "--gpu-peak-gflops",
        type=float,
        default=33_500.0,
        help="GPU double-precision peak without tensor cores (default: NVIDIA H100 SXM, 33.5 "
        "TFLOP/s; H200 is the same)",
    )
    a = ap.parse_args()
    sig, f, t, tx, rx = _merit_like_scan(a.points)
    terms = t.shape[0] * sig.size
    flops = FLOPS_PER_TERM * terms
    import numba

    peak, how = fp64_peak(fma_units=a.fma_units)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, numba "
        f"threads {numba.get_num_threads()}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"theoretical FP64 peak: {how}")
    print(
        f"input: {len(tx)} channels x {f.size} frequencies, {a.points} points "
        f"({terms:.3g} point-channel-frequency terms, {flops:.3g} flops at {FLOPS_PER_TERM}/term)"
    )
    t_nb, gd, out = _kernel_and_dgemm(sig, f, t, tx, rx, flops)

    def numpy_ref():
        return np.concatenate(
            [rk.fd_beamform_numpy(sig, f, t[i : i + 100], tx, rx) for i in range(0, len(t), 100)]
        )

    t_np, ref = best_with_result(numpy_ref, 1)
    err = float(np.max(np.abs(out - ref) / ref.max(axis=0)))
    bw = copy_bandwidth()

    print("| kernel | time (s) | terms/s | GFLOP/s | % of peak | / dgemm in the same run |")
    print("|---|---|---|---|---|---|")
    rows = [("NumPy vectorised (reference)", t_np, gd), ("Numba fd_beamform_numba", t_nb, gd)]
    for name, tt, g_d in rows:
        gf = flops / tt / 1e9
        print(
            f"| {name} | {tt:.4f} | {terms / tt:.3g} | {gf:.2f} | {100 * gf / peak:.1f} | "
            f"{gf / g_d:.2f} (dgemm {g_d:.1f} GFLOP/s, {100 * g_d / peak:.0f} % of peak) |"
        )
    print(f"speed-up Numba / NumPy: {t_np / t_nb:.0f}x; max difference / image maximum {err:.1e}")
    # roofline: what must come from memory (L2 and beyond) per flop. One channel's reversed
    # spectrum is re-read per block of rk._PB points; delays and outputs once.
    n_blocks = -(-len(t) // rk._PB)
    n_fp = -(-f.size // rk._KB) * rk._KB
    bytes_mem = n_blocks * len(tx) * n_fp * 16 + t.nbytes + out.nbytes
    per_flop = bytes_mem / flops
    l1 = 6 * 8 / rk._KB / FLOPS_PER_TERM  # y, z loads + y stores per lane per _KB frequencies
    print(
        f"roofline: {per_flop:.4f} bytes from L2/memory per flop ({1 / per_flop:.0f} flop/byte), "
        f"STREAM-like copy {bw:.1f} GB/s in this run -> memory roof "
        f"{bw / per_flop:.0f} GFLOP/s ({bw / per_flop / peak:.0f}x the peak); L1 traffic "
        f"{l1:.2f} bytes/flop."
    )
    if bw / per_flop > peak:
        print(
            "bound: compute (the memory roof is above the peak): the limit is the FMA throughput; "
            "dgemm in the same run shows how much of the peak the shared machine gives."
        )
    else:
        print("bound: memory bandwidth (the memory roof is below the peak).")

    if cupy_available():
        import cupy as cp

        rk.fd_beamform_cupy(sig, f, t[:10], tx, rx)
        cp.cuda.Device().synchronize()

        def gpu():
            r = rk.fd_beamform_cupy(sig, f, t, tx, rx)
            cp.cuda.Device().synchronize()
            return r

        t_gpu, r = best_with_result(gpu, 3)
        gf = flops / t_gpu / 1e9
        print(
            f"| CuPy fd_beamform ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}) | "
            f"{t_gpu:.4f} | {terms / t_gpu:.3g} | {gf:.1f} | {100 * gf / a.gpu_peak_gflops:.1f} "
            f"of GPU FP64 | |"
        )
        print(
            f"speed-up CuPy / Numba: {t_nb / t_gpu:.1f}x, CuPy / NumPy: {t_np / t_gpu:.1f}x; "
            f"max difference / image maximum "
            f"{float(np.max(np.abs(cp.asnumpy(r) - out) / out.max(axis=0))):.2e} (GFLOP/s at the "
            f"same {FLOPS_PER_TERM} flop per term as the CPU rows)"
        )
    else:
        print("CuPy: no CUDA GPU here, GPU row skipped")

    if a.big <= 0:
        return
    # 10**6-point 3-D image, chunked
    n = round(a.big ** (1 / 3))
    ax = np.linspace(-0.05, 0.05, n)
    grid = radar.box_grid(ax, ax, np.linspace(0.0, 0.06, n))
    scan = samples.simulate_scan()
    scan["s"] = scan["s"] - scan["s_reference"]
    t0 = time.perf_counter()
    img = radar.beamform(scan, grid=grid, max_memory_mb=64, eps_r=8.0, progress=False)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"3-D image of {grid.mask.sum()} points ({scan.sizes['channel']} ch x "
        f"{scan.sizes['freq']} f), max_memory_mb=64: {dt:.1f} s, peak RSS {rss:.0f} MB, "
        f"image {img['das'].nbytes / 2**20:.0f} MB per method"
    )
    if cupy_available():
        radar.beamform(scan, grid=grid, max_memory_mb=1024, eps_r=8.0, backend="cupy")  # warm-up
        t0 = time.perf_counter()
        img_gpu = radar.beamform(scan, grid=grid, max_memory_mb=1024, eps_r=8.0, backend="cupy")
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
