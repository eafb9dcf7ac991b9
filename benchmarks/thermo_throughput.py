"""brim.thermo benchmarks: throughput (images/s) and the full-size evaluation figures.

Usage::

    BRIM_EXTERNAL_DATA=../shared/data python benchmarks/thermo_throughput.py throughput
    BRIM_EXTERNAL_DATA=../shared/data python benchmarks/thermo_throughput.py unet [--size 32]
    BRIM_EXTERNAL_DATA=../shared/data python benchmarks/thermo_throughput.py dmr [--epochs 30]

``throughput`` times ours against a reference on the same input in the same run and prints
the ratio: FLIR conversion vs ``flyr``; DMR text parsing vs ``numpy.loadtxt``; body
segmentation vs scikit-image's Otsu + largest component (a subset of our pipeline, so the
ratio states the cost of the midline / fold / breast steps); features; CNN inference.
``unet`` trains the U-Net on the Colombian masks with a patient-grouped split and prints Dice
per breast side with bootstrap CIs. ``dmr`` runs the grouped cross-validation of the feature
model, the CNN and the ΔT rule on DMR-IR with the confound audit.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from _timing import best_seconds


def _root() -> Path:
    from brim.data import external_data

    return external_data("thermo", required=True)


def throughput() -> None:
    import flyr
    from skimage.filters import threshold_otsu
    from skimage.measure import label

    from brim.thermo.classify import normalise_map, train_cnn
    from brim.thermo.features import extract_features
    from brim.thermo.flir import read_flir
    from brim.thermo.readers import read_dmr
    from brim.thermo.segmentation import body_mask, segment_classical

    root = _root()
    rows = []
    flir_files = sorted((root / "flir").glob("*.jpg"))
    ours = best_seconds(lambda: [read_flir(f) for f in flir_files], 3)
    ref = best_seconds(lambda: [flyr.unpack(str(f)).celsius for f in flir_files], 3)
    rows.append(("FLIR JPEG -> degC (4 files)", len(flir_files), ours, "flyr", ref))

    dmr_files = sorted((root / "dmr_ir_dev").glob("*.txt"))[:8]
    ours = best_seconds(lambda: [read_dmr(f) for f in dmr_files], 1)
    ref = best_seconds(
        lambda: [
            np.loadtxt(
                f, delimiter=";" if b";" in f.read_bytes()[:200] else None, usecols=range(640)
            )
            for f in dmr_files
        ],
        1,
    )
    rows.append(("DMR text -> degC (480x640)", len(dmr_files), ours, "numpy.loadtxt", ref))

    thermos = [read_dmr(f) for f in dmr_files]

    def ref_body():
        for ds in thermos:
            t = ds["temperature"].values
            lab = label(t > threshold_otsu(t))
            np.bincount(lab.ravel())

    ours = best_seconds(lambda: [segment_classical(ds) for ds in thermos], 1)
    ref = best_seconds(ref_body, 1)
    rows.append(
        ("classical segmentation", len(thermos), ours, "skimage Otsu+label (body only)", ref)
    )
    segs = [segment_classical(ds) for ds in thermos]
    ours = best_seconds(lambda: [extract_features(ds, s) for ds, s in zip(thermos, segs)], 1)
    rows.append(("features (asym, hot spot, Frangi, GLCM, hist)", len(thermos), ours, "-", np.nan))

    maps = np.stack(
        [
            normalise_map(ds["temperature"].values, body_mask(ds["temperature"].values))
            for ds in thermos
        ]
    )
    model = train_cnn(maps, np.arange(len(maps)) % 2, epochs=1, num_threads=1)
    big = np.repeat(maps, 8, axis=0)
    ours = best_seconds(lambda: model.predict(big), 3)
    rows.append(("CNN inference (60x80 maps)", len(big), ours, "-", np.nan))

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("| step | images | ours (img/s) | reference | ref (img/s) | ratio ours/ref time |")
    print("|---|---|---|---|---|---|")
    for name, n, t, rname, rt in rows:
        rr = f"{n / rt:.1f}" if np.isfinite(rt) else "-"
        ratio = f"{t / rt:.2f}" if np.isfinite(rt) else "-"
        print(f"| {name} | {n} | {n / t:.1f} | {rname} | {rr} | {ratio} |")


def _ci(values, groups=None) -> str:
    """Mean Dice [95 % bootstrap CI] (n), resampling patients when ``groups`` is given."""
    from brim.evaluate import mean_ci

    m, lo, hi = mean_ci(values, groups=groups)
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}] (n={len(values)})"


def unet(size: int = 32, epochs: int = 25, folds: int = 4, base: int = 8, depth: int = 2) -> None:
    from brim.evaluate import dice, grouped_kfold
    from brim.thermo.segmentation import load_colombia, train_unet

    d = load_colombia(_root() / "colombia", size=size, fill_background=True, seed=0)
    ids = np.array(d.ids)
    sides = np.array(d.sides)
    per_case = np.full(len(ids), np.nan)
    allfg = np.full(len(ids), np.nan)
    t0 = time.perf_counter()
    for fold in grouped_kfold(ids, (sides == "left").astype(int), n_splits=folds, seed=0):
        tr, te = np.asarray(fold.train), np.asarray(fold.test)
        assert not set(ids[tr]) & set(ids[te])
        m = train_unet(
            d.images[tr], d.masks[tr], epochs=epochs, base=base, depth=depth, lr=3e-3, num_threads=2
        )
        pred = m.predict(d.images[te]) > 0.5
        per_case[te] = [dice(p, r) for p, r in zip(pred, d.masks[te])]
        allfg[te] = [dice(np.ones_like(r), r) for r in d.masks[te]]
    dt = time.perf_counter() - t0
    print(
        f"U-Net {size}x{size} (base {base}, depth {depth}), {epochs} epochs, {folds}-fold grouped "
        f"by patient, background filled: {dt:.0f} s"
    )
    print("| breast | n | U-Net Dice [95 % CI] | all-foreground baseline Dice |")
    print("|---|---|---|---|")
    for side in ("left", "right"):
        sel = sides == side
        s = _ci(per_case[sel], ids[sel])
        print(f"| {side} | {sel.sum()} | {s} | {allfg[sel].mean():.3f} |")
    s = _ci(per_case, ids)
    print(f"| both | {len(ids)} | {s} | {allfg.mean():.3f} |")


def dmr(epochs: int = 30, report_dir: str | None = None) -> None:
    from brim.thermo.classify import evaluate_cohort, load_cohort

    root = _root() / "dmr_ir_dev"
    t0 = time.perf_counter()
    cohort = load_cohort(root, labels=root / "id_diagnosis.csv")
    t1 = time.perf_counter()
    ev = evaluate_cohort(cohort, cnn_epochs=epochs, n_bootstrap=1000, num_threads=2)
    t2 = time.perf_counter()
    print(
        f"DMR-IR dev subset: {len(cohort.files)} patients; load+segment+features {t1 - t0:.0f} s,"
        f" evaluation {t2 - t1:.0f} s (5-fold grouped CV, nested validation, mean per patient)"
    )
    print(ev.table())
    print()
    print(ev.confound_table())
    if report_dir:
        from brim.thermo.classify import train_cnn, write_report

        model = train_cnn(cohort.maps, cohort.labels, epochs=epochs, num_threads=2)
        print("report:", write_report(ev, report_dir, cnn_model=model))


def phantom(n: int = 16, seed: int = 7) -> None:
    from brim.evaluate import auroc_ci, dice
    from brim.thermo.cohort import simulate_cohort
    from brim.thermo.features import delta_t_rule, extract_features
    from brim.thermo.segmentation import segment_classical

    t0 = time.perf_counter()
    cohort = simulate_cohort(n, seed=seed, pixel_pitch=2e-3)
    t1 = time.perf_counter()
    d_r, d_l, scores, y = [], [], [], []
    for ds in cohort:
        seg = segment_classical(ds)
        m, truth = seg["mask"].values, ds["breast_mask"].values
        d_r.append(dice(m == 2, truth == 1))
        d_l.append(dice(m == 3, truth == 2))
        f = extract_features(ds, seg)
        scores.append(delta_t_rule(f, feature="asym_abs_p95")[0])
        y.append(int(ds.attrs["diagnosis"] == "Sick"))
    t2 = time.perf_counter()
    print(
        f"simulated cohort n={n} seed={seed} (2 mm pixels): simulate {t1 - t0:.0f} s, "
        f"segment+features {t2 - t1:.0f} s"
    )
    print("| breast | classical Dice vs phantom truth [95 % CI] |")
    print("|---|---|")
    print(f"| right | {_ci(d_r)} |")
    print(f"| left | {_ci(d_l)} |")
    a = auroc_ci(np.array(y), np.array(scores), groups=np.arange(n), n_bootstrap=1000, seed=0)
    print(
        f"p95 |ΔT| rule (no training) on the simulated cohort: AUROC {a.auroc:.3f} "
        f"[{a.low:.3f}, {a.high:.3f}] ({sum(y)} sick / {n - sum(y)} healthy)"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("throughput", "unet", "dmr", "phantom"))
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--report", help="folder for the HTML report + Grad-CAM overlays (dmr)")
    a = ap.parse_args()
    if a.what == "throughput":
        throughput()
    elif a.what == "unet":
        unet(a.size, a.epochs or 25)
    elif a.what == "phantom":
        phantom()
    else:
        dmr(a.epochs or 30, a.report)
