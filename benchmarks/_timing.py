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
