"""``brim demo`` section of brim.fusion: measurement -> background -> US-guided map -> Hb."""

from __future__ import annotations

import time
from pathlib import Path


def _samples(outdir: Path) -> list:
    """The target and reference measurements and the ultrasound image, bundled or simulated."""
    import brim
    from brim._demo import bundled_or_simulated
    from brim.fusion.samples import make_samples

    names = ("fusion_measurement", "fusion_reference", "fusion_ultrasound")
    datasets, _ = bundled_or_simulated(
        names, lambda: [brim.open(p) for p in make_samples(outdir / "samples")]
    )
    return datasets


def run(outdir: Path, *, progress: bool = False):
    """Run brim.fusion end to end on the bundled samples; write PNG figures into ``outdir``.

    Fits the background to the reference measurement, reconstructs the lesion on the
    ultrasound-guided dual mesh and converts the absorption to haemoglobin.

    Parameters
    ----------
    outdir : pathlib.Path
        Folder (created) for ``fusion_overview.png`` and ``fusion_hbt_slices.png``; samples
        that are not bundled are simulated into ``outdir/samples``.
    progress : bool
        Unused (the reconstruction takes seconds); accepted for the ``brim.demos`` interface.

    Returns
    -------
    brim.demo.DemoSection
        The two figures and the summary: the background fit, the reconstruction's size and
        time, and the lesion's HbT, sO2 and centre against the simulated truth.
    """
    import json

    import numpy as np
    from matplotlib.figure import Figure

    from brim.demo import DemoSection, save_figure
    from brim.fusion import plotting
    from brim.fusion.background import fit_background
    from brim.fusion.reconstruction import hemoglobin, lesion_summary, reconstruct, roi_from_mask

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
    wavelengths = ", ".join(f"{w:g}" for w in target.wavelength.values)
    hbt_units = hb.hbt.attrs.get("units", "uM")

    fig = Figure(figsize=(15, 4.6), layout="constrained")
    axs = fig.subplots(1, 3)
    plotting.plot_measurement(reference, ax=axs[0])
    axs[0].set_title(f"reference measurement, {float(reference.wavelength[0]):g} nm")
    plotting.plot_ultrasound(us, ax=axs[1])
    axs[1].set_title("ultrasound B-mode with the lesion mask (red)")
    iz = int(np.argmin(np.abs(hb.z.values - roi.center[2])))
    plotting.plot_map(hb.hbt.isel(z=iz), ax=axs[2], cmap="magma")
    axs[2].set_title(f"total haemoglobin at depth z = {float(hb.z[iz]) * 1e3:.1f} mm")
    cap1 = (
        "Simulated US-guided diffuse optical tomography (bundled samples: "
        f"{target.sizes['source']} sources x {target.sizes['detector']} detectors on a hand-held "
        f"probe, wavelengths {wavelengths} nm). Left: the reference "
        "(lesion-free) measurement at the first wavelength, ln(ρ²A) against source-detector "
        "distance ρ in mm (A: the measured amplitude, arbitrary units); the slope of this line "
        "gives the background absorption and scattering. Middle: the co-registered ultrasound "
        "image (lateral x and depth in mm) with the lesion mask that places the fine "
        "reconstruction grid. Right: the reconstructed total haemoglobin concentration HbT "
        f"({hbt_units}) in the x–y plane at the lesion's depth; axes x and y in mm."
    )
    fig1 = save_figure(fig, out / "fusion_overview.png", caption=cap1)

    fig = Figure(figsize=(8.5, 5.8), layout="constrained")
    ax = fig.subplots()
    slices = hb.sel(z=slice(5e-3, 35e-3))
    plotting.plot_depth_slices(slices, var="hbt", ax=ax)
    # grey lines between the tiles of the mosaic (one tile per depth, row by row)
    ncol = int(np.ceil(np.sqrt(slices.sizes["z"])))
    nrow = int(np.ceil(slices.sizes["z"] / ncol))
    for c in range(1, ncol):
        ax.axvline(c * slices.sizes["x"] - 0.5, color="0.6", lw=0.8)
    for r in range(1, nrow):
        ax.axhline(r * slices.sizes["y"] - 0.5, color="0.6", lw=0.8)
    ax.set_title(f"total haemoglobin HbT ({hbt_units}), depth slices 5–35 mm")
    cap2 = (
        f"Reconstructed total haemoglobin HbT ({hbt_units}) as x–y slices every "
        f"{abs(float(hb.z[1] - hb.z[0])) * 1e3:g} mm in depth (label in each tile: depth z), "
        "shallowest top left, the usual display of US-guided DOT. The lesion appears in the "
        "tiles near its true depth of "
        f"{truth['center'][2] * 1e3:.0f} mm."
    )
    fig2 = save_figure(fig, out / "fusion_hbt_slices.png", caption=cap2)

    true_hbt = truth["hbo2"] + truth["hb"]
    summary = [
        f"background fit (reference): μa {bg.mua.values.round(4).tolist()} mm⁻¹, "
        f"μs′ {bg.musp.values.round(3).tolist()} mm⁻¹ at {bg.wavelength.values.tolist()} nm",
        f"US-guided dual-mesh reconstruction: {recon.attrs['n_unknowns']} unknowns "
        f"({recon.attrs['n_fine']} fine), {target.sizes['wavelength']} wavelengths, "
        f"{t_rec:.2f} s",
        f"lesion HbT {float(hb.lesion_hbt):.1f} {hbt_units} (truth {true_hbt:.1f}), sO2 "
        f"{float(hb.lesion_so2):.2f} (truth {truth['hbo2'] / true_hbt:.2f})",
        f"lesion centre {[round(c, 1) for c in centre]} mm (truth "
        f"{[round(c * 1e3, 1) for c in truth['center']]} mm)",
    ]
    return DemoSection(
        title="Optical–ultrasound fusion (US-guided diffuse optical tomography)",
        summary=summary,
        figures=[fig1, fig2],
    )
