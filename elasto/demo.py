"""``brim demo`` section for elastography, run on the bundled sample pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brim.demo import DemoSection
from brim.errors import BrimError

__all__ = ["run"]


def run(outdir: Path, *, progress: bool = False) -> DemoSection:
    """Strain imaging of the sample pair (NCC, phase, DP), strain ratio, and a shear-wave case."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import brim.data

    from .displacement import estimate_displacement
    from .plotting import plot_bmode, plot_elastogram, plot_modulus_map
    from .rfsim import simulate_shear_wave_rf
    from .shearwave import shear_wave_elastography
    from .strain import Roi, elasticity_score, strain_image, strain_ratio

    outdir = Path(outdir)
    try:
        pair = brim.data.sample("elasto_phantom_pair")
    except BrimError:  # samples not generated yet: simulate the same pair
        from .samples import phantom_pair

        pair = phantom_pair()
    summary = [
        f"sample pair: {pair.sizes['depth']} x {pair.sizes['line']} RF, "
        f"{pair.attrs.get('applied_compression', 0.01):.1%} compression"
    ]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
    plot_bmode(pair, ax=axes[0])
    lesion = Roi((12e-3, 18e-3, 7e-3, 13e-3))
    ref = Roi((4.5e-3, 7.5e-3, 3.5e-3, 6.5e-3))
    for ax, method in zip(axes[1:], ("ncc", "phase", "dp")):
        s = strain_image(estimate_displacement(pair, method=method))
        plot_elastogram(s, ax=ax, vmax=1.6)
        r = strain_ratio(s, lesion, ref)
        summary.append(
            f"{method}: median strain {np.nanmedian(s['strain'].values):+.3%}, strain ratio "
            f"(fat/lesion) {r.ratio:.2f}, elasticity score {elasticity_score(s, lesion)}"
        )
    fig.tight_layout()
    f1 = outdir / "elasto_strain.png"
    fig.savefig(f1, dpi=80)
    plt.close(fig)

    sw = simulate_shear_wave_rf(speed=2.5, n_frames=30, n_lines=48, n_samples=160)
    res = shear_wave_elastography(sw, roi=Roi((15.5e-3, 17.5e-3, 2e-3, 7e-3)))
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_modulus_map(res.maps, ax=ax)
    f2 = outdir / "elasto_swe.png"
    fig.savefig(f2, dpi=80)
    plt.close(fig)
    summary.append(
        f"shear wave (true 2.5 m/s, E = 18.75 kPa): group speed {res.speed:.3f} m/s, "
        f"E = {res.youngs_modulus / 1e3:.2f} kPa, ROI Emean {res.e_mean / 1e3:.2f} kPa, "
        f"Emax {res.e_max / 1e3:.2f} kPa"
    )
    return DemoSection(
        title="elasto: strain and shear-wave elastography", summary=summary, figures=[f1, f2]
    )
