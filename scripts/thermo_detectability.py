"""Run the thermography detectability study and write its table and figure for the docs.

    python scripts/thermo_detectability.py            # the default grid, a few minutes
    python scripts/thermo_detectability.py --quick    # a small grid, to try the script

Writes ``docs/guide/thermo_detectability.csv`` (every cell, every feature), the docs page
``docs/guide/thermo_detectability.md`` (design, the primary feature's table, the figure) and
``docs/_static/thermo_detectability.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRIMARY = "abs_delta_mean"

PAGE = """# Thermography: what can a camera see? A detectability study

*Written by `scripts/thermo_detectability.py` from
{{func}}`brim.thermo.detectability.detectability_study`; rerun the script to regenerate.*

How likely is it that bilateral-asymmetry features flag a breast with a tumour of a given
diameter and depth, imaged by a camera of a given NETD, when the decision threshold lets
{false_positive_rate:.0%} of healthy subjects through? The study answers on Pennes bioheat
phantoms ({{mod}}`brim.thermo.phantom`), paired so that the tumour's own effect is isolated:

- {n_healthy} healthy subjects of random anatomy (breast radii 5–6.5 cm differing by up to
  ±6 % between sides, fat 0.6–1.4 cm, 2–4 superficial veins per breast, gland heterogeneity)
  set each feature's threshold; room {t_ambient_degC:.0f} °C, h = {h_W_m2_K:.0f} W/m²/K,
  {voxel_mm:.0f} mm voxels;
- subjects of the same anatomy get one spherical tumour ({n_subjects} per cell) on a random
  side and direction, with Gautherie's metabolic heat for its diameter and **no** extra veins
  (tumour heat alone: the conservative case);
- camera noise is white and Gaussian with standard deviation NETD per pixel on the apparent
  temperature, and the features of {{func}}`brim.thermo.extract_features` are computed in the
  true breast masks;
- intervals are Wilson 95 % intervals over the {n_subjects} subjects of a cell; "—" marks
  tumours that would reach the skin.

## Detection probability, feature `{primary}` (difference of mean breast temperatures)

{table}

## All four asymmetry features

```{{figure}} ../_static/thermo_detectability.png
:alt: detection probability against camera NETD, one panel per asymmetry feature
:width: 100%

Detection probability against camera NETD for each asymmetry feature, one line per tumour
diameter and depth; the dotted line is the false-positive rate.
```

## Reading it

- **The camera is not the limit; the anatomy is.** From 20 mK to 1 K NETD detection barely
  changes: region-mean features average the pixel noise away, and even the 95th percentile of
  the pixel-wise ΔT is dominated by the natural left–right differences of veins and breast
  size (about 1 K in these subjects), not by the camera noise.
- **Only large, shallow tumours stand out** from that anatomical asymmetry at a
  {false_positive_rate:.0%} false-positive rate; small or deep tumours are at the
  false-positive rate, i.e. not detectable by asymmetry alone in this model.
- This is a statement about the physics under stated assumptions (steady state, no
  angiogenic veins, frontal view, true masks), not a clinical sensitivity.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 2 x 1 x 2 grid with 4 subjects")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from brim.thermo.detectability import detectability_study

    kw = {}
    if args.quick:
        kw = dict(diameters=[0.01, 0.03], depths=[0.02], netds=[0.02, 0.2], n_subjects=4,
                  n_healthy=8, false_positive_rate=0.25)  # fmt: skip
    t0 = time.perf_counter()
    res = detectability_study(seed=args.seed, progress=True, **kw)
    elapsed = time.perf_counter() - t0
    print(f"study: {elapsed:.0f} s")

    out = ROOT / "docs" / "guide"
    df = res[["detection_probability", "low", "high"]].to_dataframe().reset_index()
    df["diameter_mm"] = (df.pop("diameter") * 1e3).round(1)
    df["depth_mm"] = (df.pop("depth") * 1e3).round(1)
    df.to_csv(out / "thermo_detectability.csv", index=False, float_format="%.3f")

    p = res["detection_probability"].sel(feature=PRIMARY)
    lo, hi = res["low"].sel(feature=PRIMARY), res["high"].sel(feature=PRIMARY)
    netds = [float(n) for n in res["netd"].values]
    header = "| diameter | depth | " + " | ".join(f"NETD {n * 1e3:.0f} mK" for n in netds) + " |"
    lines = [header, "|---:|---:|" + "---:|" * len(netds)]
    for d in res["diameter"].values:
        for z in res["depth"].values:
            cells = []
            for n in res["netd"].values:
                v = float(p.sel(diameter=d, depth=z, netd=n))
                if v != v:
                    cells.append("—")
                else:
                    a = float(lo.sel(diameter=d, depth=z, netd=n))
                    b = float(hi.sel(diameter=d, depth=z, netd=n))
                    cells.append(f"{v:.2f} [{a:.2f}, {b:.2f}]")
            lines.append(f"| {d * 1e3:.0f} mm | {z * 1e3:.0f} mm | " + " | ".join(cells) + " |")
    thr = res["threshold"].sel(feature=PRIMARY).values
    fpr = res["false_positive_rate_observed"].sel(feature=PRIMARY).values
    lines += [
        "",
        f"Feature `{PRIMARY}` (K); threshold per NETD: "
        + ", ".join(f"{t:.3f} K" for t in thr)
        + f"; observed false-positive rate on {res.attrs['n_healthy']} healthy subjects: "
        + ", ".join(f"{f:.2f}" for f in fpr)
        + f"; {res.attrs['n_subjects']} subjects per cell; seed {args.seed}; "
        f"{elapsed / 60:.1f} min on the (shared, loaded) development machine.",
    ]
    page = PAGE.format(
        table="\n".join(lines), primary=PRIMARY, voxel_mm=res.attrs["voxel_m"] * 1e3, **res.attrs
    )
    (out / "thermo_detectability.md").write_text(page, encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    feats = list(res["feature"].values)
    ncol = 2
    nrow = -(-len(feats) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(9.0, 3.4 * nrow), sharey=True, squeeze=False)
    for ax in axes.flat[len(feats) :]:
        ax.set_visible(False)
    for ax, f in zip(axes.flat, feats, strict=False):
        for d in res["diameter"].values:
            for z in res["depth"].values:
                y = res["detection_probability"].sel(feature=f, diameter=d, depth=z).values
                if (y == y).any():
                    ax.plot([n * 1e3 for n in netds], y, marker="o",
                            label=f"{d * 1e3:.0f} mm at {z * 1e3:.0f} mm")  # fmt: skip
        ax.axhline(res.attrs["false_positive_rate"], color="0.5", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xticks([n * 1e3 for n in netds], [f"{n * 1e3:g}" for n in netds])
        ax.minorticks_off()
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("camera NETD (mK)")
        ax.set_ylabel("detection probability")
        ax.set_title(f"feature {f}", fontsize=10)
    axes.flat[0].legend(fontsize=7, title="diameter at depth", title_fontsize=7, ncol=2)
    fig.suptitle(f"Tumour detectability at {res.attrs['false_positive_rate']:.0%} false positives")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "_static" / "thermo_detectability.png", dpi=110)
    print("wrote", out / "thermo_detectability.md")


if __name__ == "__main__":
    main()
