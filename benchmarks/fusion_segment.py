"""Benchmark: BUSI ultrasound segmentation - grouped-CV Dice with a CI, and throughput.

By default it reads the grouped 5-fold CV recorded in brim's shipped model
(``brim/fusion/us_unet.safetensors``, made by ``scripts/train_us_model.py``), re-segments
``--n`` development images with the fold member that did not see them (checking the recorded
Dice), and times, on the same full-resolution images in the same run, the shipped ensemble
(5 members x flip TTA), one member, and the classical Otsu baseline. ``--train`` re-runs the
whole cross-validation instead (minutes on 2 cores).

    BRIM_EXTERNAL_DATA=/work/shared/data python benchmarks/fusion_segment.py [--n 12]
        [--train --epochs 60 --size 128 --threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12, help="images re-segmented and timed")
    ap.add_argument("--train", action="store_true", help="re-run the grouped CV (slow)")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch

    from brim.data import external_data
    from brim.evaluate import dice
    from brim.fusion import ussegment as seg
    from brim.fusion.public_data import read_busi

    torch.set_num_threads(args.threads)
    root = external_data("fusion/busi_dev", required=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared, loaded)")
    if args.train:
        cv = seg.cross_validate_segmenter(
            root, size=args.size, epochs=args.epochs, threads=args.threads, seed=args.seed
        )
        print(cv.fold_table())
        print(f"training: {cv.train_seconds:.0f} s on {args.threads} thread(s)")
        return
    ens = seg.load_model()
    cv, meta = ens.metadata["cv"], ens.metadata
    print(f"shipped model: {meta['file']} (sha256 {meta['sha256'][:12]}), {len(ens)} members")
    print(seg.cv_table(cv))
    tr = meta.get("training", {})
    if tr:
        print(f"training (recorded): {tr.get('train_seconds')} s, {tr.get('threads')} thread(s)")
    idx = np.linspace(0, len(cv["names"]) - 1, args.n).round().astype(int)
    data = []
    for i in idx:
        name = cv["names"][i]
        ds = read_busi(root / "images" / name, root / "masks" / name)
        data.append((i, ds.image.values, ds["mask"].values))
    t0 = time.perf_counter()
    got = [dice(ens.member(cv["fold"][i]).segment_array(im), m) for i, im, m in data]
    t_member = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _, im, _ in data:
        ens.segment_array(im)
    t_ens = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _, im, _ in data:
        seg.threshold_segment(im)
    t_otsu = time.perf_counter() - t0
    rec = np.asarray([cv["per_image"][i] for i, _, _ in data])
    print(
        f"re-segmented {len(data)} held-out images: Dice {np.mean(got):.3f} "
        f"(recorded {rec.mean():.3f}, max difference {np.abs(np.asarray(got) - rec).max():.4f})"
    )
    n = len(data)
    print("| segmenter (full-resolution BUSI images) | images/s (CPU) | time vs Otsu |")
    print("|---|---|---|")
    print(f"| U-Net ensemble ({len(ens)} x flip TTA) | {n / t_ens:.1f} | {t_ens / t_otsu:.2f} |")
    print(f"| one fold member (flip TTA) | {n / t_member:.1f} | {t_member / t_otsu:.2f} |")
    print(f"| Otsu baseline | {n / t_otsu:.1f} | 1.00 |")


if __name__ == "__main__":
    main()
