"""Benchmark: BUSI ultrasound segmentation - grouped-split Dice with a CI, and throughput.

Trains brim.fusion's U-Net (brim.learn.UNet2d, base 8 channels, depth 3) on a hash-grouped
70/30 split of ``$BRIM_EXTERNAL_DATA/fusion/busi_dev`` (60 images) at a reduced resolution on
the CPU, reports test Dice (mean, 95 % percentile-bootstrap CI over test images) next to the
classical Otsu baseline on the same test images, and the inference throughput (images/s) of
the U-Net against the baseline in the same run.

    BRIM_EXTERNAL_DATA=/work/shared/data python benchmarks/fusion_segment.py [--size 64]
        [--epochs 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from brim.data import external_data

    root = external_data("fusion/busi_dev", required=True)

    from brim.fusion import ussegment as seg
    from brim.fusion.public_data import busi_pairs

    groups = seg.group_images([p[0] for p in busi_pairs(root)])
    t0 = time.perf_counter()
    res = seg.evaluate_segmenter(
        root, size=args.size, epochs=args.epochs, seed=args.seed, model_out="/tmp/brim_unet"
    )
    t_train = time.perf_counter() - t0
    model = seg.load_model("/tmp/brim_unet")
    x, _ = seg._load_set(busi_pairs(root), args.size)
    t0 = time.perf_counter()
    seg.predict(model, x)
    t_unet = time.perf_counter() - t0
    t0 = time.perf_counter()
    for im in x:
        seg.threshold_segment(im)
    t_base = time.perf_counter() - t0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared, loaded)")
    print(f"images: {len(groups)}, groups after hash grouping: {len(np.unique(groups))}")
    print(
        f"U-Net at {res.size}x{res.size}, {res.epochs} epochs on {res.n_train} images "
        f"({t_train:.0f} s incl. loading): test Dice {res.dice_mean:.3f} "
        f"(95% CI {res.ci_low:.3f}-{res.ci_high:.3f}, n={res.n_test}); "
        f"Otsu baseline Dice {res.baseline_dice:.3f}"
    )
    print("| segmenter | images/s (CPU) | ratio |")
    print("|---|---|---|")
    print(f"| brim U-Net ({res.size} px) | {len(x) / t_unet:.1f} | 1.00 |")
    print(f"| Otsu baseline ({res.size} px) | {len(x) / t_base:.1f} | {t_unet / t_base:.2f} |")


if __name__ == "__main__":
    main()
