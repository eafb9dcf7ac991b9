"""Figures: B-mode, colour-scale elastogram, displacement, shear-wave modulus map.

All functions follow ``plot_*(obj, *, ax=None, **kw) -> Axes``; matplotlib is imported lazily.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["plot_bmode", "plot_displacement", "plot_elastogram", "plot_modulus_map"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 5))
    return ax


def _extent(obj):
    x = obj["line"].values * 1e3
    z = obj["depth"].values * 1e3
    return [x[0], x[-1], z[-1], z[0]]


def plot_bmode(rf: xr.Dataset, *, ax=None, frame: int = 0, dynamic_range: float = 50.0, **kw):
    """Log-compressed B-mode of one frame of an ``rf_frames`` Dataset (axes in mm)."""
    from .beamform import bmode

    ax = _axes(ax)
    img = bmode(rf.isel(frame=[frame]), dynamic_range=dynamic_range).values[0]
    ax.imshow(
        img, cmap="gray", extent=_extent(rf), aspect="auto", vmin=-dynamic_range, vmax=0, **kw
    )
    ax.set_xlabel("lateral (mm)")
    ax.set_ylabel("depth (mm)")
    ax.set_title(f"B-mode ({dynamic_range:g} dB)")
    return ax


def plot_elastogram(strain: xr.Dataset, *, ax=None, vmax: float | None = None, colorbar=True, **kw):
    """Colour-scale elastogram: compressive strain in %, red = soft (high strain), blue = stiff.

    This follows the clinical convention used by Itoh et al. 2006 (blue = no strain).
    """
    ax = _axes(ax)
    e = -100 * strain["strain"].values
    if vmax is None:
        vmax = float(np.nanpercentile(np.abs(e), 98)) if np.isfinite(e).any() else 1.0
    im = ax.imshow(e, cmap="jet", extent=_extent(strain), aspect="auto", vmin=0, vmax=vmax, **kw)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="compressive strain (%)")
    ax.set_xlabel("lateral (mm)")
    ax.set_ylabel("depth (mm)")
    ax.set_title(f"elastogram ({strain.attrs.get('method', '')})")
    return ax


def plot_displacement(disp: xr.Dataset, *, ax=None, component: str = "axial", **kw):
    """Axial or lateral displacement map in micrometres."""
    ax = _axes(ax)
    v = disp[component].values * 1e6
    im = ax.imshow(v, cmap="viridis", extent=_extent(disp), aspect="auto", **kw)
    ax.figure.colorbar(im, ax=ax, label=f"{component} displacement (um)")
    ax.set_xlabel("lateral (mm)")
    ax.set_ylabel("depth (mm)")
    return ax


def plot_modulus_map(maps: xr.Dataset, *, ax=None, **kw):
    """Shear-wave Young's modulus map in kPa."""
    ax = _axes(ax)
    im = ax.imshow(
        maps["youngs_modulus"].values / 1e3, cmap="jet", extent=_extent(maps), aspect="auto", **kw
    )
    ax.figure.colorbar(im, ax=ax, label="E (kPa)")
    ax.set_xlabel("lateral (mm)")
    ax.set_ylabel("depth (mm)")
    ax.set_title("shear-wave elastography")
    return ax
