"""Benchmark: plane-wave DAS + 3-angle compounding, brim.elasto (Numba) vs plain NumPy.

Input: the pybf Field II channel data (3 plane waves x 192 elements x 2313 samples,
``$BRIM_EXTERNAL_DATA/elasto/pybf_channel``), beamformed to 192 lines x N depths (f-number 1.5).
The NumPy reference computes the same sum (vectorised over pixels, looping over transmits and
elements); both run in the same process on the same input and the outputs are compared.

Run: ``BRIM_EXTERNAL_DATA=... python benchmarks/elasto_beamform.py``
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from brim.elasto.beamforming import beamform, das_reference
from brim.elasto.readers import read_channel_pybf


def main() -> None:
    from brim.data import external_data

    ch = read_channel_pybf(external_data("elasto/pybf_channel/rf_dataset.hdf5", required=True))
    import numba

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"numba threads {numba.get_num_threads()}"
    )
    lines = ch.element_x.values
    print(
        "| image (depth x lines) | brim Numba [s/frame] | frames/s | NumPy ref [s/frame] "
        "| speed-up | max rel. diff |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for nz in (512, 1024):
        depths = np.linspace(2e-3, 50e-3, nz)
        beamform(ch, depths=depths[:8], lines=lines[:4])  # compile / cache warm-up
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            ours = beamform(ch, depths=depths, lines=lines)["rf"].values[0]
            ts.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = das_reference(ch, depths, lines)
        tref = time.perf_counter() - t
        diff = np.abs(ours - ref).max() / np.abs(ref).max()
        tb = min(ts)
        print(
            f"| {nz} x {lines.size} | {tb:.3f} | {1 / tb:.1f} | {tref:.2f} | "
            f"{tref / tb:.0f}x | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
