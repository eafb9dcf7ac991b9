"""``brim demo`` section for thermography: phantom thermograms -> segmentation -> features."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLES = ("thermo_phantom_healthy", "thermo_phantom_tumour")


def run(outdir: Path, *, progress: bool = False):
    """Segment the two phantom samples, map their bilateral ΔT and score the ΔT rule.

    Parameters
    ----------
    outdir : pathlib.Path
        Folder (created) for ``thermo_segmentation_asymmetry.png``; samples that are not
        bundled are regenerated into ``outdir/_samples``.
    progress : bool
        Unused (the steps are fast); accepted for the ``brim.demos`` interface.

    Returns
    -------
    brim.demo.DemoSection
        The figure (per phantom: temperature with the segmentation, and the ΔT map) and a
        summary line per phantom (ΔT features, ΔT-rule score, Dice against the phantom's
        truth), then how to read the rule.
    """
    from matplotlib.figure import Figure

    from brim.demo import DemoSection, save_figure
    from brim.evaluate import dice
    from brim.thermo.features import asymmetry_map, delta_t_rule, extract_features
    from brim.thermo.samples import open_sample
    from brim.thermo.segmentation import segment_classical

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    summary = []
    fig = Figure(figsize=(13, 7.2), layout="constrained")
    axes = fig.subplots(2, 2)
    for row, name in enumerate(SAMPLES):
        ds = open_sample(name, cache_dir=outdir / "_samples")
        seg = segment_classical(ds)
        feats = extract_features(ds, seg)
        dmap = asymmetry_map(ds, seg)["delta_t"].values
        score = float(delta_t_rule(feats, threshold=0.5)[0])
        t = ds["temperature"].values
        x_mm, y_mm = ds["x"].values * 1e3, ds["y"].values * 1e3
        extent = [x_mm[0], x_mm[-1], y_mm[-1], y_mm[0]]  # camera rows run downwards
        ax = axes[row, 0]
        im = ax.imshow(t, cmap="inferno", extent=extent)
        m = seg["mask"].values
        ax.contour(x_mm, y_mm, m == 2, levels=[0.5], colors="c", linewidths=1)
        ax.contour(x_mm, y_mm, m == 3, levels=[0.5], colors="lime", linewidths=1)
        mid = x_mm[0] + float(seg["midline_x"]) * (x_mm[1] - x_mm[0])
        ax.axvline(mid, color="w", lw=0.8, ls="--")
        if "tumour_mask" in ds and ds["tumour_mask"].values.any():
            ax.contour(
                x_mm, y_mm, ds["tumour_mask"].values > 0, levels=[0.5], colors="w", linewidths=1.5
            )
        ax.set_title(f"{name}: temperature")
        fig.colorbar(im, ax=ax, shrink=0.9, label="temperature (°C)")
        ax = axes[row, 1]
        lim = max(0.5, float(np.nanmax(np.abs(dmap))) if np.isfinite(dmap).any() else 0.5)
        im = ax.imshow(dmap, cmap="RdBu_r", vmin=-lim, vmax=lim, extent=extent)
        ax.set_title(f"{name}: ΔT, left mirrored − right")
        fig.colorbar(im, ax=ax, shrink=0.9, label="ΔT (K)")
        for ax in axes[row]:
            ax.set_xlabel("x (mm)")
            ax.set_ylabel("y (mm)")
        max_dt = float(np.nanmax(dmap)) if np.isfinite(dmap).any() else float("nan")
        line = (
            f"{name}: mean ΔT {feats['delta_mean']:+.2f} K, max ΔT {max_dt:+.2f} K, |ΔT| p95 "
            f"{feats['asym_abs_p95']:.2f} K, hot-spot area L/R {feats['hotspot_area_left']:.3f}/"
            f"{feats['hotspot_area_right']:.3f}; ΔT-rule score {score:+.2f} K "
            f"({'positive' if score > 0 else 'negative'})"
        )
        if "breast_mask" in ds:
            truth = ds["breast_mask"].values
            d_r = dice(m == 2, truth == 1)
            d_l = dice(m == 3, truth == 2)
            line += f"; classical Dice vs phantom truth R {d_r:.2f} / L {d_l:.2f}"
        summary.append(line)
    summary.append(
        "reading: the tumour raises the largest local ΔT (see the maps) but barely moves the "
        "breast-mean ΔT that the simple 0.5 K rule thresholds, and vein asymmetry gives the "
        "healthy phantom local ΔT of the same order: the rule is a baseline, not a detector"
    )
    pitch_mm = float(ds.attrs.get("pixel_pitch_m", abs(x_mm[1] - x_mm[0]) / 1e3)) * 1e3
    caption = (
        f"Simulated frontal thermograms (bioheat phantom, {pitch_mm:g} mm pixels) of a healthy "
        "subject (top) and one with a tumour in the left breast (bottom). Left: skin temperature "
        "(°C) with the classical segmentation: right breast cyan, left breast green (the "
        "patient's right is on the image's left), thermal midline dashed, true tumour outline "
        "white. Right: bilateral asymmetry ΔT (K) on the right breast's pixels: the left breast "
        "mirrored about the midline minus the right breast; red = left warmer. Axes: x and y in "
        "mm on the image plane."
    )
    return DemoSection(
        title="Thermography",
        summary=summary,
        figures=[save_figure(fig, outdir / "thermo_segmentation_asymmetry.png", caption=caption)],
    )
