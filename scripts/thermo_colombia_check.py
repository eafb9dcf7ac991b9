"""External check of the bilateral-asymmetry hypothesis on the Colombian thermography cohort.

Protocol (fixed before looking at the labels, nothing trained on this cohort):

* Data: the "Breast Thermography" cohort of Rodriguez-Guerrero et al. (Data in Brief 54:110503,
  2024), as kept under ``$BRIM_EXTERNAL_DATA/thermo/colombia``: per-breast crops ``left/`` and
  ``right/`` (8-bit grey, **not radiometric**; alpha channel = breast mask) with per-breast labels
  N / PB / PM (normal / possibly benign / possibly malignant: a clinical reading, not histology).
* Because the grey levels are uncalibrated, only **within-patient, relative** quantities are used:
  for each breast the median, 90th percentile, standard deviation and hot-spot fraction (pixels
  above the patient's pooled 90th percentile) inside its mask, and their left-right differences.
  This is the same principle as brim's confound-robust features
  (:mod:`brim.thermo.body_relative`): nothing absolute, nothing about the file.
* The cohort has no patient with two normal breasts: 114 of the 116 patients with both crops
  have exactly one abnormal breast (PM or PB) and one N breast (2 are PB/PB). So the questions
  this cohort can answer are:

  - **Side**: in a patient with one abnormal and one N breast, is the abnormal breast the
    warmer / more heterogeneous one? Per feature, how often (sign test, two-sided binomial
    p-value), separately for PM/N and PB/N patients. The nuisance baseline is "always the left
    breast" (the abnormal side is not balanced).
  - **Grade**: does the asymmetry magnitude ``abs(L - R)`` separate PM patients from PB patients?
    AUROC with a 95 % bootstrap CI, for each feature and for their mean rank, next to nuisance
    baselines: patient-ID order and the crop area of the two breasts (acquisition and cropping
    properties) — an asymmetry result is only interesting if it beats them.

Run::

    python scripts/thermo_colombia_check.py            # needs $BRIM_EXTERNAL_DATA

It prints the tables (Markdown); the numbers are reported in the README's thermography section.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import stats

from brim.evaluate import auroc_ci
from brim.thermo.segmentation import colombia_labels

FEATURES = ("median", "p90", "std", "hot_fraction")


def breast_pixels(path: Path) -> np.ndarray:
    """Grey levels inside the alpha mask of one RGBA crop."""
    rgba = np.asarray(Image.open(path).convert("RGBA"))
    return rgba[..., 0][rgba[..., 3] > 127].astype(float)


def patient_table(root: Path) -> list[dict]:
    """One row per patient with both crops and both labels."""
    labels = colombia_labels(root)
    rows = []
    for left in sorted((root / "left").glob("*.png")):
        right = root / "right" / left.name
        stem = left.stem
        if not right.is_file() or ("left", stem) not in labels or ("right", stem) not in labels:
            continue
        px = {"left": breast_pixels(left), "right": breast_pixels(right)}
        if min(v.size for v in px.values()) < 50:
            continue
        hot = np.percentile(np.concatenate(list(px.values())), 90)
        row: dict = {"id": stem, "area": px["left"].size + px["right"].size}
        for side, v in px.items():
            row[f"{side}_label"] = labels[(side, stem)]
            row[f"{side}_median"] = np.median(v)
            row[f"{side}_p90"] = np.percentile(v, 90)
            row[f"{side}_std"] = v.std()
            row[f"{side}_hot_fraction"] = float(np.mean(v > hot))
        rows.append(row)
    return rows


def asymmetry(rows: list[dict], feature: str) -> np.ndarray:
    """``abs(left - right)`` of a feature, per patient."""
    return np.array([abs(r[f"left_{feature}"] - r[f"right_{feature}"]) for r in rows])


def auroc_table(rows: list[dict], y: np.ndarray, *, title: str, seed: int) -> list[str]:
    """Markdown rows: AUROC (95 % CI) of each asymmetry score and of the nuisance baselines."""
    scores = {f"abs(L - R) {f}": asymmetry(rows, f) for f in FEATURES}
    ranks = np.mean([stats.rankdata(s) for s in scores.values()], axis=0)
    scores["mean rank of the four"] = ranks
    scores["nuisance: patient-ID order"] = np.arange(len(rows), dtype=float)
    scores["nuisance: crop area"] = np.array([r["area"] for r in rows], float)
    out = [f"\n{title} (n = {y.size}, {int(y.sum())} positive)\n", "| score | AUROC (95 % CI) |"]
    out.append("|---|---|")
    for name, s in scores.items():
        res = auroc_ci(y, s, n_bootstrap=2000, seed=seed)
        out.append(f"| {name} | {res.auroc:.2f} ({res.low:.2f}-{res.high:.2f}) |")
    return out


def side_table(rows: list[dict], abnormal: str) -> list[str]:
    """Sign test: is the ``abnormal`` breast of an (abnormal / N) patient the higher one?"""
    pairs = [r for r in rows if {r["left_label"], r["right_label"]} == {abnormal, "N"}]
    left = sum(r["left_label"] == abnormal for r in pairs)
    out = [f"\nSide, patients with one {abnormal} and one N breast (n = {len(pairs)})\n"]
    out += [f"| feature | {abnormal} breast higher | two-sided p |", "|---|---|---|"]
    for f in FEATURES:
        higher = sum(
            (r[f"left_{f}"] > r[f"right_{f}"]) == (r["left_label"] == abnormal) for r in pairs
        )
        p = stats.binomtest(higher, len(pairs), 0.5).pvalue if pairs else float("nan")
        out.append(f"| {f} | {higher}/{len(pairs)} | {p:.2f} |")
    out.append(f"| nuisance: always the left breast | {left}/{len(pairs)} | |")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the check and print the tables.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", help="cohort folder (default $BRIM_EXTERNAL_DATA/thermo/colombia)")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = ap.parse_args(argv)
    root = Path(args.root or Path(os.environ.get("BRIM_EXTERNAL_DATA", "")) / "thermo/colombia")
    if not (root / "left").is_dir():
        print(f"no Colombian cohort at {root}: set $BRIM_EXTERNAL_DATA or --root", file=sys.stderr)
        return 2
    rows = patient_table(root)
    labels = [{r["left_label"], r["right_label"]} for r in rows]
    lines = [f"Colombian cohort: {len(rows)} patients with both breasts labelled"]
    lines += side_table(rows, "PM") + side_table(rows, "PB")
    graded = [r for r, lab in zip(rows, labels, strict=True) if lab in ({"PM", "N"}, {"PB", "N"})]
    y = np.array([r["left_label"] == "PM" or r["right_label"] == "PM" for r in graded], int)
    lines += auroc_table(graded, y, title="Grade: PM/N patients vs PB/N patients", seed=args.seed)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
