"""Best-of-N wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/X.py``,
so this folder is on ``sys.path``)."""

from __future__ import annotations

import time


def best_with_result(fn, repeat: int = 5, *, warmup: bool = False):
    """Shortest of ``repeat`` calls of ``fn()`` in seconds, and the last call's result.

    ``warmup`` makes one untimed call first (Numba compilation, caches).
    """
    if warmup:
        fn()
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def best_seconds(fn, repeat: int = 5, *, warmup: bool = False) -> float:
    """Shortest of ``repeat`` calls of ``fn()`` in seconds."""
    return best_with_result(fn, repeat, warmup=warmup)[0]


def fp64_peak(*, cores: int | None = None, fma_units: int = 2) -> tuple[float, str]:
    """Theoretical FP64 peak in GFLOP/s of this CPU and how it was computed.

    ``cores x GHz x (doubles per vector) x 2 (fused multiply-add) x fma_units``: the frequency is
    the largest ``cpu MHz`` of ``/proc/cpuinfo`` (a VM reports its nominal clock), the vector
    width 8 doubles with ``avx512f``, 4 with ``avx2``/``avx``, else 2; without the ``fma`` flag a
    multiply and an add count as two instructions (same flops per cycle per port pair halves).
    The number of FMA units per core cannot be read from the flags: Intel Xeon Scalable cores
    have two 512-bit FMA units (``fma_units=2``).
    """
    import os

    mhz, flags = 0.0, set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, val = line.partition(":")
                if key.strip() == "cpu MHz":
                    mhz = max(mhz, float(val))
                elif key.strip() == "flags" and not flags:
                    flags = set(val.split())
    except OSError:
        pass
    lanes = 8 if "avx512f" in flags else 4 if flags & {"avx2", "avx"} else 2
    fma = 2 if "fma" in flags else 1
    n = cores or os.cpu_count() or 1
    peak = n * mhz / 1e3 * lanes * fma * fma_units
    how = (
        f"{n} cores x {mhz / 1e3:.2f} GHz x {lanes} doubles ({'AVX-512' if lanes == 8 else 'AVX'})"
        f" x {fma} (FMA) x {fma_units} FMA units = {peak:.1f} GFLOP/s"
    )
    return peak, how


def copy_bandwidth(n: int = 2**24, repeat: int = 5) -> float:
    """STREAM-like copy bandwidth in GB/s: ``y[:] = x`` of ``n`` doubles, counting the bytes read
    and written (``2 * 8 * n``, no write-allocate traffic)."""
    import numpy as np

    x = np.random.default_rng(0).random(n)
    y = np.empty_like(x)
    return 2.0 * x.nbytes / best_seconds(lambda: np.copyto(y, x), repeat, warmup=True) / 1e9
