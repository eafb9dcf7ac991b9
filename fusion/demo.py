"""``brim demo`` section of brim.fusion: measurement -> background -> US-guided map -> Hb."""

from __future__ import annotations

import time
from pathlib import Path


def _samples(outdir: Path):
    import brim
    from brim.errors import BrimError

    names = ("fusion_measurement", "fusion_reference", "fusion_ultrasound")
    try:
        return [brim.data.sample(n) for n in names]
    except BrimError:  # samples not bundled yet: make them with the simulators
        from brim.fusion.samples import make_samples

        paths = make_samples(outdir / "samples")
        return [brim.open(p) for p in paths]


def run(outdir: Path, *, progress: bool = False):
    """Run brim.fusion end to end on the bundled samples; write PNG figures into ``outdir``."""
    import json

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brim.demo import DemoSection
    from brim.fusion import plotting
    from brim.fusion.background import fit_background
    from brim.fusion.reconstruct import hemoglobin, lesion_summary, reconstruct, roi_from_mask

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    target, reference, us = _samples(out)
    bg = fit_background(reference)
    t0 = time.perf_counter()
    recon = reconstruct(target, reference, us=us, background=bg)
    t_rec = time.perf_counter() - t0
    hb = hemoglobin(recon)
    roi = roi_from_mask(us)
    centre = lesion_summary(recon)["center_mm"]
    truth = json.loads(target.attrs["brim_truth"])["lesion"]

    fig, axs = plt.subplots(1, 3, figsize=(13, 3.8))
    plotting.plot_measurement(reference, ax=axs[0])
    axs[0].set_title("reference: ln(rho^2 A) vs distance")
    plotting.plot_ultrasound(us, ax=axs[1])
    axs[1].set_title("ultrasound with lesion mask")
    iz = int(np.argmin(np.abs(hb.z.values - roi.center[2])))
    plotting.plot_map(hb.hbt.isel(z=iz), ax=axs[2], cmap="magma")
    axs[2].set_title(f"HbT at z = {float(hb.z[iz]):.1f} mm")
    fig.tight_layout()
    f1 = out / "fusion_overview.png"
    fig.savefig(f1, dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 6))
    plotting.plot_depth_slices(hb.sel(z=slice(5, 35)), "hbt", ax=ax)
    ax.set_title("total haemoglobin, depth slices (uM)")
    f2 = out / "fusion_hbt_slices.png"
    fig.savefig(f2, dpi=90)
    plt.close(fig)

    true_hbt = truth["hbo2"] + truth["hb"]
    summary = [
        f"background fit (reference): mua {bg.mua.values.round(4).tolist()} /mm, "
        f"musp {bg.musp.values.round(3).tolist()} /mm at {bg.wavelength.values.tolist()} nm",
        f"US-guided dual-mesh reconstruction: {recon.attrs['n_unknowns']} unknowns "
        f"({recon.attrs['n_fine']} fine), 4 wavelengths, {t_rec:.2f} s",
        f"lesion HbT {float(hb.lesion_hbt):.1f} uM (truth {true_hbt:.1f}), sO2 "
        f"{float(hb.lesion_so2):.2f} (truth {truth['hbo2'] / true_hbt:.2f})",
        f"lesion centre {[round(c, 1) for c in centre]} mm (truth {truth['center']})",
    ]
    return DemoSection(title="Fusion: US-guided diffuse optical tomography", summary=summary,
                       figures=[f1, f2])  # fmt: skip
