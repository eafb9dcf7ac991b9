"""``brim demo`` section for elastography, run on the bundled sample pair."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from brim.demo import DemoSection

__all__ = ["run"]


def _roi_box(ax, roi, color: str, label: str) -> None:
    """Draw a rectangular strain ROI (bounds in m) on an Axes in mm."""
    from matplotlib.patches import Rectangle

    z0, z1, x0, x1 = (v * 1e3 for v in roi.bounds)
    ax.add_patch(
        Rectangle((x0, z0), x1 - x0, z1 - z0, fill=False, ec=color, lw=1.2, ls="--", label=label)
    )


def _mark_push_region(ax, maps: xr.Dataset, *, push_x: float = 0.0) -> tuple[float, float] | None:
    """Hatch and label the blank band of a shear-wave map around the push (lateral, mm).

    The band is the run of all-NaN map columns containing ``push_x`` (m): no speed is
    estimated there because the wave is not yet formed. Returns its (left, right) edges in
    the map's display coordinates (mm), or None when the push column has an estimate.
    """
    blank = np.all(np.isnan(maps["youngs_modulus"].values), axis=0)
    x = maps["line"].values
    j = int(np.argmin(np.abs(x - push_x)))
    if not blank[j]:
        return None
    j0, j1 = j, j
    while j0 > 0 and blank[j0 - 1]:
        j0 -= 1
    while j1 < len(x) - 1 and blank[j1 + 1]:
        j1 += 1
    # the map is drawn with imshow over extent x[0]..x[-1]: one column is this wide on screen
    w = (x[-1] - x[0]) * 1e3 / len(x)
    left, right = x[0] * 1e3 + j0 * w, x[0] * 1e3 + (j1 + 1) * w
    ax.axvspan(left, right, facecolor="none", edgecolor="0.6", hatch="//", lw=0)
    z = maps["depth"].values * 1e3
    ax.text(
        0.5 * (left + right),
        0.5 * (z[0] + z[-1]),
        "push region:\nno estimate\n(shear wave\nnot yet formed)",
        ha="center",
        va="center",
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": "0.6"},
    )
    return left, right


def run(outdir: Path, *, progress: bool = False) -> DemoSection:
    """Strain imaging of the sample pair (NCC, phase, DP), strain ratio, and a shear-wave case.

    Parameters
    ----------
    outdir : pathlib.Path
        Folder (created) for ``elasto_strain.png`` and ``elasto_swe.png``.
    progress : bool
        Unused (the steps take seconds); accepted for the ``brim.demos`` interface.

    Returns
    -------
    brim.demo.DemoSection
        The two figures and the summary: the input, per displacement estimator the median
        strain, strain ratio and elasticity score, and the shear-wave speed and modulus
        against the truth.
    """
    from matplotlib.figure import Figure

    from brim._demo import bundled_or_simulated
    from brim.demo import save_figure

    from .displacement import estimate_displacement
    from .plotting import plot_bmode, plot_elastogram, plot_modulus_map
    from .rfsim import simulate_shear_wave_rf
    from .samples import phantom_pair
    from .shearwave import shear_wave_elastography
    from .strain import StrainRoi, elasticity_score, strain_image, strain_ratio

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (pair,), origin = bundled_or_simulated(("elasto_phantom_pair",), lambda: [phantom_pair()])
    compression = float(pair.attrs.get("applied_compression", 0.01))
    summary = [
        f"input: {origin}; {pair.sizes['depth']} x {pair.sizes['line']} RF, "
        f"{compression:.1%} compression"
    ]
    vmax = 1.6  # % compressive strain: the same colour scale in every strain panel
    fig = Figure(figsize=(17, 5), layout="constrained")
    axes = fig.subplots(1, 5)
    plot_bmode(pair, ax=axes[0])
    axes[0].set_title("B-mode, pre-compression (dB)")
    lesion = StrainRoi((12e-3, 18e-3, 7e-3, 13e-3))
    ref = StrainRoi((4.5e-3, 7.5e-3, 3.5e-3, 6.5e-3))
    ax = axes[1]
    if "true_strain" in pair:  # on the FE cell centres: shown like an estimated strain image
        truth = xr.Dataset(
            {"strain": (("depth", "line"), pair["true_strain"].values)},
            coords={"depth": pair["zc"].values, "line": pair["xc"].values},
        )
        plot_elastogram(truth, ax=ax, vmax=vmax)
        ax.set_title("true strain (finite elements)")
    else:
        ax.set_axis_off()
    names = {"ncc": "NCC block matching", "phase": "Loupas phase", "dp": "dynamic programming"}
    for ax, method in zip(axes[2:], ("ncc", "phase", "dp"), strict=True):
        s = strain_image(estimate_displacement(pair, method=method))
        plot_elastogram(s, ax=ax, vmax=vmax)
        ax.set_title(f"{names[method]} (estimated)")
        r = strain_ratio(s, lesion, ref)
        summary.append(
            f"{method}: median strain {np.nanmedian(s['strain'].values):+.3%}, strain ratio "
            f"(fat/lesion) {r.ratio:.2f}, elasticity score {elasticity_score(s, lesion)}"
        )
    for ax in axes[1:]:
        _roi_box(ax, lesion, "w", "lesion ROI")
        _roi_box(ax, ref, "m", "fat (reference) ROI")
    axes[-1].legend(loc="lower right", fontsize=8)
    inclusions = json.loads(pair.attrs.get("inclusions", "[]"))
    described = "; ".join(
        f"{i['youngs_modulus'] / 1e3:g} kPa disc of {i['radius'] * 1e3:g} mm radius at "
        f"{i['x'] * 1e3:g} mm lateral, {i['z'] * 1e3:g} mm deep"
        for i in inclusions
    )
    cap1 = (
        f"Quasi-static elastography of the bundled phantom pair: a finite-element block "
        f"compressed by {compression:.0%} ({described or 'inclusions not recorded'}), imaged "
        f"by brim's RF simulator at {float(pair['center_frequency']) / 1e6:g} MHz. From left: "
        "B-mode of the pre-compression frame (dB, 50 dB range); the true axial strain; the "
        "strain estimated from the RF pair by three displacement estimators. Colour: "
        "compressive strain in % (bright = soft, dark = stiff), one scale for all strain "
        "panels. Dashed boxes: the lesion (white) and fat-reference (magenta) "
        "ROIs of the strain ratio. Axes: lateral position and depth in mm."
    )
    fig1 = save_figure(fig, outdir / "elasto_strain.png", caption=cap1)

    sw = simulate_shear_wave_rf(speed=2.5, n_frames=30, n_lines=48, n_samples=160)
    res = shear_wave_elastography(sw, roi=StrainRoi((15.5e-3, 17.5e-3, 2e-3, 7e-3)))
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.subplots()
    plot_modulus_map(res.maps, ax=ax)
    _mark_push_region(ax, res.maps, push_x=0.0)
    ax.set_title("shear-wave Young's modulus (true 18.75 kPa)")
    cap2 = (
        "Shear-wave elastography of simulated RF frames (30 frames at 5 kHz) of tissue carrying "
        "a plane shear wave of 2.5 m/s from a push at 0 mm lateral: local Young's modulus "
        "E = 3ρc² in kPa (ρ = 1000 kg/m³; true value 18.75 kPa everywhere). The hatched band "
        "around the push is left out of the estimate (the wave is not yet formed there). Axes: "
        "lateral position and depth in mm."
    )
    fig2 = save_figure(fig, outdir / "elasto_swe.png", caption=cap2)
    summary.append(
        f"shear wave (true 2.5 m/s, E = 18.75 kPa): group speed {res.speed:.3f} m/s, "
        f"E = {res.youngs_modulus / 1e3:.2f} kPa, ROI Emean {res.e_mean / 1e3:.2f} kPa, "
        f"Emax {res.e_max / 1e3:.2f} kPa"
    )
    return DemoSection(title="Ultrasound elastography", summary=summary, figures=[fig1, fig2])
