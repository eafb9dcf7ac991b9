"""``brim demo`` section for thermography: phantom thermograms -> segmentation -> features."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SAMPLES = ("thermo_phantom_healthy", "thermo_phantom_tumour")


def _open_sample(name: str, outdir: Path):
    """The bundled sample, or (in a source tree without generated samples) a fresh copy."""
    import brim.data
    from brim.errors import ConfigError

    try:
        return brim.data.sample(name)
    except ConfigError:
        from brim.io import open as brim_open
        from brim.thermo.samples import make_samples

        tmp = outdir / "_samples"
        if not (tmp / f"{name}.nc").is_file():
            make_samples(tmp)
        return brim_open(tmp / f"{name}.nc")


def run(outdir: Path, *, progress: bool = False):
    """Segment the two phantom samples, map their bilateral ΔT and score the ΔT rule.

    Returns
    -------
    brim.demo.DemoSection
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brim.demo import DemoSection
    from brim.evaluate import dice
    from brim.thermo.features import asymmetry_map, delta_t_rule, extract_features
    from brim.thermo.segmentation import segment_classical

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    summary = []
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    for row, name in enumerate(SAMPLES):
        ds = _open_sample(name, outdir)
        seg = segment_classical(ds)
        feats = extract_features(ds, seg)
        dmap = asymmetry_map(ds, seg)["delta_t"].values
        score = float(delta_t_rule(feats, threshold=0.5)[0])
        t = ds["temperature"].values
        ax = axes[row, 0]
        im = ax.imshow(t, cmap="inferno")
        m = seg["mask"].values
        ax.contour(m == 2, levels=[0.5], colors="c", linewidths=1)
        ax.contour(m == 3, levels=[0.5], colors="lime", linewidths=1)
        ax.axvline(float(seg["midline_x"]), color="w", lw=0.8, ls="--")
        if "tumour_mask" in ds and ds["tumour_mask"].values.any():
            ax.contour(ds["tumour_mask"].values > 0, levels=[0.5], colors="w", linewidths=1.5)
        ax.set_title(f"{name}: temperature (degC)")
        fig.colorbar(im, ax=ax, fraction=0.04)
        ax = axes[row, 1]
        lim = max(0.5, float(np.nanmax(np.abs(dmap))) if np.isfinite(dmap).any() else 0.5)
        im = ax.imshow(dmap, cmap="coolwarm", vmin=-lim, vmax=lim)
        ax.set_title("ΔT = T_left(mirrored) - T_right (K)")
        fig.colorbar(im, ax=ax, fraction=0.04)
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
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    path = outdir / "thermo_segmentation_asymmetry.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    summary.append(f"thermo demo ran in {time.perf_counter() - t0:.1f} s")
    return DemoSection(title="Thermography (brim.thermo)", summary=summary, figures=[path])
