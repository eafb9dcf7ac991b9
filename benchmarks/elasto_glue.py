"""Benchmark: GLUE-style regularised displacement vs brim's default NCC, frames/s and CNRe.

Input: a simulated 2304 x 384 pre/post pair (40 MHz sampling, 6.7 MHz, 38.4 x 45 mm, a 5 mm
radius inclusion three times stiffer than the background, 1 % compression) with realistic
decorrelation (:func:`brim.elasto.glue.simulate_decorrelated_pair`: out-of-plane RF correlation
0.9, 0.05 mm lateral motion, 5 um RMS scatterer jitter, noise 25 dB below the RF). In the same
process and on the same pair, each estimator + :func:`brim.elasto.strain_image` is timed (best
of ``--repeat`` after a warm-up):

* ``ncc``: :func:`brim.elasto.estimate_displacement` (default options);
* ``glue``: :func:`brim.elasto.glue.glue_displacement` seeded by that NCC (a first frame);
* ``glue warm``: the same, warm-started from the previous result (``initial=``), which skips
  the NCC seed: the steady state of a frame sequence.

CNRe (Varghese & Ophir 1998) of the inclusion (disc of 0.7 radius) against the background beside
it at the same depths, in dB, the contrast (mean strain beside over mean strain in the inclusion,
with the FE truth for comparison: smoothing lowers it) and the median background strain are
printed beside frames/s.

Run: ``python benchmarks/elasto_glue.py [--repeat N]`` (the load average printed before and
after says how busy the machine was; on a shared machine timings are noisy).
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings

import numpy as np
from _timing import best_with_result

from brim.elasto import estimate_displacement, strain_image
from brim.elasto.fem import Inclusion
from brim.elasto.glue import glue_displacement, simulate_decorrelated_pair
from brim.elasto.strain import cnr_e


def cnr_db(pair, strain) -> float:
    """CNRe in dB of the inclusion vs the lateral background at its depth."""
    inc = pair.attrs["inclusions"][0]
    z = strain["depth"].values[:, None]
    x = strain["line"].values[None, :]
    eps = strain["strain"].values
    target = eps[np.hypot(z - inc["z"], x - inc["x"]) < 0.7 * inc["radius"]]
    beside = (np.abs(z - inc["z"]) < 0.7 * inc["radius"]) & (
        np.abs(x - inc["x"]) > 1.5 * inc["radius"]
    )
    return cnr_e(target, eps[beside], db=True)


def contrast(pair, strain, *, truth: bool = False) -> float:
    """Mean strain beside the inclusion over mean strain in it (the FE truth with truth=True)."""
    inc = pair.attrs["inclusions"][0]
    if truth:
        z, x = pair["zc"].values[:, None], pair["xc"].values[None, :]
        eps = pair["true_strain"].values
    else:
        z, x = strain["depth"].values[:, None], strain["line"].values[None, :]
        eps = strain["strain"].values
    target = np.hypot(z - inc["z"], x - inc["x"]) < 0.7 * inc["radius"]
    beside = (np.abs(z - inc["z"]) < 0.7 * inc["radius"]) & (
        np.abs(x - inc["x"]) > 1.5 * inc["radius"]
    )
    return float(np.nanmean(eps[beside]) / np.nanmean(eps[target]))


def background_median(pair, strain) -> float:
    """Median strain outside 1.5 inclusion radii."""
    inc = pair.attrs["inclusions"][0]
    z = strain["depth"].values[:, None]
    x = strain["line"].values[None, :]
    far = np.hypot(z - inc["z"], x - inc["x"]) > 1.5 * inc["radius"]
    return float(np.nanmedian(strain["strain"].values[far]))


def make_pair():
    return simulate_decorrelated_pair(
        width=38.4e-3,
        height=45e-3,
        n_samples=2304,
        n_lines=384,
        sampling_frequency=40e6,
        center_frequency=6.7e6,
        fe_elements=(48, 56),
        inclusions=(Inclusion(19.2e-3, 22e-3, 5e-3, 60e3),),
        correlation=0.9,
        noise_db=25.0,
        lateral_shift=0.05e-3,
        jitter=5e-6,
        seed=1,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="timed calls per estimator (best of)")
    args = ap.parse_args()
    import numba

    warnings.simplefilter("ignore")  # unreliable-strain warnings of the decorrelated NCC
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"numba threads {numba.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    pair = make_pair()
    prev = glue_displacement(pair)
    runs = {
        "ncc (estimate_displacement default)": lambda: estimate_displacement(pair),
        "glue, NCC seed (first frame)": lambda: glue_displacement(pair),
        "glue, warm start (sequence)": lambda: glue_displacement(pair, initial=prev),
        "glue, warm start, 2 passes": lambda: glue_displacement(pair, initial=prev, passes=2),
    }
    rows = []
    for name, run in runs.items():
        t, strain = best_with_result(lambda run=run: strain_image(run()), args.repeat, warmup=True)
        rows.append(
            (name, t, cnr_db(pair, strain), contrast(pair, strain), background_median(pair, strain))
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    t_ncc = rows[0][1]
    print(f"\ntrue contrast (FE, mean strain beside / in the inclusion): "
          f"{contrast(pair, None, truth=True):.2f}")  # fmt: skip
    print("\n| 2304 x 384, decorrelated | ms/frame | frames/s | time / NCC | CNRe [dB] | "
          "contrast | background strain [%] |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, t, c, k, m in rows:
        print(f"| {name} | {t * 1e3:.1f} | {1 / t:.1f} | {t / t_ncc:.2f} | {c:.2f} | {k:.2f} | "
              f"{100 * m:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
