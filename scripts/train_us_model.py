"""Reproduce brim's default ultrasound lesion segmenter, ``brim/fusion/us_unet.safetensors``.

Grouped 5-fold cross-validation of the U-Net recipe of :mod:`brim.fusion.ussegment` on the 60
BUSI development images (``$BRIM_EXTERNAL_DATA/fusion/busi_dev``; images grouped by exact and
perceptual-hash near duplicates, folds from :func:`brim.evaluate.grouped_kfold`). The five fold
models, each trained with a fixed seed (``seed + fold``), are the shipped ensemble; the script
prints the per-fold Dice table (every image segmented by the model that did not see it, at full
resolution, flip TTA and post-processing included), the mean Dice with its 95 % bootstrap CI
over image groups, the Otsu baseline on the same images, and the training time.

    BRIM_EXTERNAL_DATA=/work/shared/data python scripts/train_us_model.py \
        [--out fusion/us_unet.safetensors] [--epochs 60] [--size 128] [--threads 2]

Weights depend slightly on the torch version and the number of threads (floating-point
summation order); the CV numbers printed are those recorded in the file's metadata.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="BUSI folder (default: $BRIM_EXTERNAL_DATA/fusion/busi_dev)")
    ap.add_argument("--out", default="fusion/us_unet.safetensors", help="model file to write")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the CV numbers there")
    args = ap.parse_args()

    from brim.data import external_data
    from brim.fusion import ussegment as seg

    root = Path(args.root) if args.root else external_data("fusion/busi_dev", required=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    cv = seg.cross_validate_segmenter(
        root, size=args.size, epochs=args.epochs, n_splits=args.folds, seed=args.seed,
        threads=args.threads, progress=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    ens = cv.ensemble
    ens.metadata.update(
        training={
            "script": "scripts/train_us_model.py",
            "epochs": args.epochs,
            "seed": args.seed,
            "threads": args.threads,
            "train_seconds": round(cv.train_seconds, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_average_at_start": round(load, 1),
        }
    )
    path = seg.save_model(ens, args.out)
    print(cv.fold_table())
    print(
        f"\nU-Net {ens.metadata['architecture']} at {cv.size} px, {cv.epochs} epochs x "
        f"{cv.n_splits} folds: grouped-CV Dice {cv.dice_mean:.3f} "
        f"(95% CI {cv.ci_low:.3f}-{cv.ci_high:.3f}, median {cv.summary()['median']:.3f}); "
        f"Otsu baseline {cv.baseline_dice:.3f}"
    )
    print(
        f"training {cv.train_seconds:.0f} s ({wall:.0f} s with loading and evaluation) on "
        f"{args.threads} torch thread(s), {platform.machine()} with {os.cpu_count()} cores, "
        f"load average {load:.1f} at start (shared machine)"
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    if args.json:
        Path(args.json).write_text(json.dumps(cv.summary(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
