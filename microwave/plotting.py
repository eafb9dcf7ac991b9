"""Plots for microwave scans and radar images (matplotlib imported lazily, never shown)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim.deprecation import positional_options

__all__ = ["plot_image_slice", "plot_permittivity", "plot_scan_channel"]


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


@positional_options
def plot_image_slice(
    img: xr.Dataset | xr.DataArray,
    *,
    var: str = "das",
    z: float | None = None,
    target: Any = None,
    ax: Any = None,
    db: bool = True,
    **kw,
) -> Any:
    """Show a radar image in the plane ``z`` (m; default the plane of the maximum).

    Parameters
    ----------
    img : xarray.Dataset
        A beamforming result (``reconstruction``).
    var : str
        ``das``, ``dmas`` or ``cf_das``.
    target : (3,) m, optional
        Known target, drawn as a cross.
    z : float, optional
        The plane shown, in m (nearest node); default: the plane of the image maximum.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.
    db : bool
        Show ``10 log10(I / max I)`` (dB) instead of the linear intensity.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.pcolormesh`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from matplotlib.figure import Figure
    >>> from brim.microwave import plot_image_slice
    >>> c = [0.0, 0.01, 0.02]
    >>> img = xr.DataArray(np.arange(18.0).reshape(2, 3, 3), dims=("z", "y", "x"),
    ...                    coords={"x": c, "y": c, "z": [0.0, 0.01]})
    >>> ax = plot_image_slice(img, target=(0.01, 0.01, 0.0), ax=Figure().subplots())
    >>> ax.get_title(), ax.get_xlabel(), len(ax.lines)  # the target is the one line
    ('DAS', 'x (mm)', 1)
    """
    ax = _ax(ax)
    da = img[var] if isinstance(img, xr.Dataset) else img
    if "z" in da.dims:
        if z is None:
            iz = np.unravel_index(np.nanargmax(da.values), da.shape)[0]
            da = da.isel(z=int(iz))
        else:
            da = da.sel(z=z, method="nearest")
    v = np.asarray(da.values, dtype=float)
    if db:
        v = 10 * np.log10(np.clip(v / np.nanmax(v), 1e-6, None))
    x, y = da["x"].values * 1e3, da["y"].values * 1e3
    kw.setdefault("cmap", "inferno")
    if db:
        kw.setdefault("vmin", -20)
    m = ax.pcolormesh(x, y, v, shading="nearest", **kw)
    ax.figure.colorbar(m, ax=ax, label="intensity (dB)" if db else "intensity")
    if target is not None:
        ax.plot(target[0] * 1e3, target[1] * 1e3, "c+", ms=14, mew=2, label="target")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_aspect("equal")
    ax.set_title(var.upper().replace("_", "-"))
    return ax


@positional_options
def plot_scan_channel(scan: xr.Dataset, *, channel: int = 0, ax: Any = None, **kw) -> Any:
    """Magnitude (dB) of one channel over frequency (GHz), with its reference if present.

    Parameters
    ----------
    scan : xarray.Dataset
        A ``sparameter_scan``.
    channel : int
        Index of the channel shown.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import brim.data
    >>> from matplotlib.figure import Figure
    >>> from brim.microwave import plot_scan_channel
    >>> scan = brim.data.sample("microwave_radar_scan")
    >>> ax = plot_scan_channel(scan, channel=3, ax=Figure().subplots())
    >>> [line.get_label() for line in ax.lines], ax.get_ylabel()
    (['scan', 'reference', 'difference'], '|S| (dB)')
    """
    ax = _ax(ax)
    f = scan["freq"].values / 1e9
    s = scan["s"].isel(channel=channel).values
    ax.plot(f, 20 * np.log10(np.abs(s)), label="scan", **kw)
    if "s_reference" in scan:
        r = scan["s_reference"].isel(channel=channel).values
        ax.plot(f, 20 * np.log10(np.abs(r)), label="reference", **kw)
        ax.plot(f, 20 * np.log10(np.abs(s - r) + 1e-30), label="difference", **kw)
    ax.set_xlabel("frequency (GHz)")
    ax.set_ylabel("|S| (dB)")
    ax.legend()
    return ax


@positional_options
def plot_permittivity(
    freq_hz: ArrayLike,
    *,
    tissues: Sequence[str] = ("adipose", "fibroglandular", "malignant"),
    ax: Any = None,
    **kw,
) -> Any:
    """Lazebnik et al. 2007 median relative permittivity and conductivity over frequency.

    Parameters
    ----------
    freq_hz : array_like
        Frequencies in Hz (shown in GHz).
    tissues : sequence of str
        Tissue names of :func:`brim.microwave.lazebnik_permittivity`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (permittivity; the conductivity on a twin y axis).

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from brim.microwave import plot_permittivity
    >>> ax = plot_permittivity(np.linspace(1e9, 10e9, 5), ax=Figure().subplots())
    >>> [line.get_label() for line in ax.lines], ax.get_xlabel()
    (['adipose', 'fibroglandular', 'malignant'], 'frequency (GHz)')
    """
    from brim.microwave.tissue import conductivity, lazebnik_permittivity

    ax = _ax(ax)
    f = np.asarray(freq_hz, dtype=float)
    ax2 = ax.twinx()
    for t in tissues:
        (line,) = ax.plot(f / 1e9, lazebnik_permittivity(t, f).real, label=t, **kw)
        ax2.plot(f / 1e9, conductivity(t, f), "--", color=line.get_color())
    ax.set_xlabel("frequency (GHz)")
    ax.set_ylabel("relative permittivity (solid)")
    ax2.set_ylabel("conductivity S/m (dashed)")
    ax.legend()
    return ax
