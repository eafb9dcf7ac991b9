"""Run the thermography detectability study and write its table and figure for the docs.

    python scripts/thermo_detectability.py            # the default grid, a few minutes
    python scripts/thermo_detectability.py --quick    # a small grid, to try the script

Writes ``docs/guide/thermo_detectability.csv`` (every cell, every feature),
``docs/guide/thermo_detectability_table.md`` (the primary feature as a Markdown table, included
by the docs page) and ``docs/_static/thermo_detectability.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRIMARY = "abs_delta_mean"


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
        f"{elapsed / 60:.1f} min on this machine.",
    ]
    (out / "thermo_detectability_table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    feats = list(res["feature"].values)
    fig, axes = plt.subplots(1, len(feats), figsize=(4.2 * len(feats), 3.6), sharey=True)
    for ax, f in zip(axes, feats, strict=True):
        for d in res["diameter"].values:
            for z in res["depth"].values:
                y = res["detection_probability"].sel(feature=f, diameter=d, depth=z).values
                if (y == y).any():
                    ax.plot([n * 1e3 for n in netds], y, marker="o",
                            label=f"{d * 1e3:.0f} mm at {z * 1e3:.0f} mm")  # fmt: skip
        ax.axhline(res.attrs["false_positive_rate"], color="0.5", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("camera NETD (mK)")
        ax.set_title(f)
    axes[0].set_ylabel("detection probability")
    axes[-1].legend(fontsize=7, title="diameter at depth", title_fontsize=7)
    fig.suptitle(f"Tumour detectability at {res.attrs['false_positive_rate']:.0%} false positives")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "_static" / "thermo_detectability.png", dpi=110)
    print("wrote", out / "thermo_detectability_table.md")


if __name__ == "__main__":
    main()
