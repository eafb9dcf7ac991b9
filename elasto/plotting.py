"""Figures: B-mode, colour-scale elastogram, displacement, shear-wave modulus map.

All functions follow ``plot_*(obj, *, ax=None, **kw) -> Axes``; matplotlib is imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from brim.errors import ConfigError

from ._checks import image_var

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .shearwave import ShearWaveResult

__all__ = [
    "plot_bmode",
    "plot_displacement",
    "plot_elastogram",
    "plot_modulus_map",
    "plot_rf_frames",
]


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 5))
    return ax


def _draw(
    ax: Axes, values, obj, *, colorbar: str | None = None, title: str | None = None, **kw: Any
) -> Axes:
    """``imshow`` of a (depth, line) image with depth down and both axes in mm, the colour bar
    labelled ``colorbar`` (none if None) and the title."""
    x = obj["line"].values * 1e3
    z = obj["depth"].values * 1e3
    extent = (float(x[0]), float(x[-1]), float(z[-1]), float(z[0]))
    im = ax.imshow(values, extent=extent, aspect="auto", **kw)
    if colorbar is not None:
        ax.figure.colorbar(im, ax=ax, label=colorbar)
    ax.set_xlabel("lateral (mm)")
    ax.set_ylabel("depth (mm)")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_bmode(
    rf: xr.Dataset,
    *,
    ax: Axes | None = None,
    frame: int = 0,
    dynamic_range: float = 50.0,
    **kw: Any,
) -> Axes:
    """Log-compressed B-mode of one frame of an ``rf_frames`` Dataset (axes in mm).

    Parameters
    ----------
    rf : xarray.Dataset
        ``rf_frames`` (real RF or IQ); coordinates in m.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure's.
    frame : int
        Frame shown.
    dynamic_range : float
        Grey scale from ``-dynamic_range`` dB to 0 dB.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.imshow`, but for ``cmap``, ``vmin`` and ``vmax``
        (grey, set by ``dynamic_range``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the B-mode (dB) titled ``B-mode (<dynamic_range> dB)``.

    Examples
    --------
    >>> import brim.data
    >>> ax = plot_bmode(brim.data.sample("elasto_phantom_pair"))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('lateral (mm)', 'depth (mm)')
    """
    from .beamforming import _rf, bmode

    n = _rf(rf).sizes["frame"]
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or not -n <= frame < n:
        raise ConfigError(f"frame must be an integer index in [-{n}, {n}), got {frame!r}")
    img = bmode(rf.isel(frame=[frame]), dynamic_range=dynamic_range).values[0]
    return _draw(
        _axes(ax), img, rf, title=f"B-mode ({dynamic_range:g} dB)", cmap="gray",
        vmin=-dynamic_range, vmax=0, **kw,
    )  # fmt: skip


def plot_elastogram(
    strain: xr.Dataset,
    *,
    ax: Axes | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    **kw: Any,
) -> Axes:
    """Colour-scale elastogram: compressive strain in %, bright = soft (high strain).

    Clinical scanners (Itoh et al. 2006) colour soft tissue red and stiff tissue blue with a
    rainbow map; brim uses the perceptually uniform ``cividis`` instead (dark = stiff, no
    strain; bright = soft), so equal steps of strain look like equal steps of colour.

    Parameters
    ----------
    strain : xarray.Dataset
        Output of :func:`~brim.elasto.strain_image` (``strain`` on depth, line in m).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure's.
    vmax : float, optional
        Top of the colour scale in % strain; default the 98th percentile.
    colorbar : bool
        Add a colour bar.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``cmap``), but for ``vmin`` and
        ``vmax`` (from 0 % to ``vmax``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the compressive strain (%) titled ``elastogram (<method>)`` (the
        ``method`` attribute of ``strain``) and, with ``colorbar``, its colour bar.

    Examples
    --------
    >>> from brim.elasto import estimate_displacement, simulate_pair, strain_image
    >>> pair = simulate_pair(width=10e-3, height=12e-3, n_samples=256, n_lines=20,
    ...                      fe_elements=(10, 12))
    >>> ax = plot_elastogram(strain_image(estimate_displacement(pair)))
    >>> ax.get_title(), ax.figure.axes[-1].get_ylabel()
    ('elastogram (ncc)', 'compressive strain (%)')
    """
    from .strain import _strain

    e = -100 * _strain(strain).values
    if vmax is None:
        vmax = float(np.nanpercentile(np.abs(e), 98)) if np.isfinite(e).any() else 1.0
    kw.setdefault("cmap", "cividis")
    return _draw(
        _axes(ax), e, strain, vmin=0, vmax=vmax,
        colorbar="compressive strain (%)" if colorbar else None,
        title=f"elastogram ({strain.attrs.get('method', '')})", **kw,
    )  # fmt: skip


def plot_displacement(
    disp: xr.Dataset, *, ax: Axes | None = None, component: str = "axial", **kw: Any
) -> Axes:
    """Axial or lateral displacement map in micrometres.

    Parameters
    ----------
    disp : xarray.Dataset
        Output of :func:`~brim.elasto.estimate_displacement` for an ``rf_frames`` input
        (displacements in m).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure's.
    component : {"axial", "lateral"}
        Displacement shown.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.imshow`, but for ``cmap`` (viridis).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the displacement (um) and its colour bar, labelled
        ``<component> displacement (um)``.

    Examples
    --------
    >>> from brim.elasto import estimate_displacement, simulate_pair
    >>> pair = simulate_pair(width=10e-3, height=12e-3, n_samples=256, n_lines=20,
    ...                      fe_elements=(10, 12))
    >>> ax = plot_displacement(estimate_displacement(pair), component="lateral")
    >>> ax.get_ylabel(), ax.figure.axes[-1].get_ylabel()
    ('depth (mm)', 'lateral displacement (um)')
    """
    if component not in ("axial", "lateral"):
        raise ConfigError(f"component must be 'axial' or 'lateral', got {component!r}")
    v = image_var(
        disp, component, ("depth", "line"), arg="disp", kind="displacement",
        builder="brim.elasto.estimate_displacement",
    ).values * 1e6  # fmt: skip
    return _draw(
        _axes(ax), v, disp, cmap="viridis", colorbar=f"{component} displacement (um)", **kw
    )


def plot_modulus_map(
    maps: xr.Dataset | ShearWaveResult, *, ax: Axes | None = None, **kw: Any
) -> Axes:
    """Shear-wave Young's modulus map in kPa.

    Parameters
    ----------
    maps : xarray.Dataset or ShearWaveResult
        ``maps`` of a :class:`~brim.elasto.shearwave.ShearWaveResult` (``youngs_modulus`` in Pa),
        or the result itself.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure's.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``cmap``; default viridis).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with E (kPa) titled ``shear-wave elastography`` and its colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> maps = xr.Dataset(
    ...     {"youngs_modulus": (("depth", "line"), np.full((4, 5), 12e3), {"units": "Pa"})},
    ...     coords={"depth": np.linspace(5e-3, 20e-3, 4), "line": np.linspace(-5e-3, 5e-3, 5)},
    ... )
    >>> ax = plot_modulus_map(maps)
    >>> float(ax.images[0].get_array().max()), ax.figure.axes[-1].get_ylabel()  # in kPa
    (12.0, 'E (kPa)')
    >>> [float(v) for v in ax.get_ylim()]  # depth in mm, increasing downwards
    [20.0, 5.0]
    """
    from .shearwave import ShearWaveResult

    if isinstance(maps, ShearWaveResult):  # the result itself: its maps are meant
        maps = maps.maps
    kw.setdefault("cmap", "viridis")
    e_kpa = image_var(
        maps, "youngs_modulus", ("depth", "line"), arg="maps", kind="shear-wave maps",
        builder="brim.elasto.shear_wave_elastography",
    ).values / 1e3  # fmt: skip
    return _draw(_axes(ax), e_kpa, maps, colorbar="E (kPa)", title="shear-wave elastography", **kw)


def plot_rf_frames(
    rf: xr.Dataset,
    var: str = "rf",
    *,
    sel=None,
    part=None,
    db: bool | None = None,
    ax=None,
    dynamic_range: float = 50.0,
    **kw,
):
    """B-mode picture of an ``rf_frames`` Dataset for ``brim plot`` / ``ds.brim.plot``.

    Registered in the ``brim.plot`` entry-point group for the kind ``rf_frames``. Draws the
    log-compressed envelope (0 dB at the maximum, ``dynamic_range`` dB shown) of one frame,
    depth down and lateral across, both in mm.

    Parameters
    ----------
    rf : xarray.Dataset
        An ``rf_frames`` Dataset.
    var : str
        The variable asked for; only ``rf`` is drawn here (anything else: None, and the
        generic picture is used).
    sel : mapping, optional
        ``{"frame": value}`` picks the frame (default: the first); a selection along other
        dimensions falls back to the generic picture.
    part : str, optional
        Part of complex (IQ) data: a B-mode uses the magnitude, so any other part falls back
        to the generic picture.
    db : bool, optional
        ``False`` shows the raw RF instead (generic picture).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    dynamic_range : float
        Displayed range in dB.
    **kw
        Passed to :func:`brim.plotting.plot_image`.

    Returns
    -------
    matplotlib.axes.Axes or None
        The axes, or None when the generic picture should be used instead.
    """
    from brim.plotting import plot_image, select

    from .beamforming import bmode

    sel = dict(sel or {})
    if var != "rf" or db is False or part not in (None, "abs") or set(sel) - {"frame"}:
        return None
    frames, texts = select(rf["rf"], sel)
    if "frame" in frames.dims:
        index, where = 0, f"frame = {frames['frame'].values[0]} (first of {frames.sizes['frame']})"
    else:
        index = int(np.flatnonzero(rf["frame"].values == frames["frame"].values)[0])
        where = texts[0]
    img = bmode(rf.isel(frame=[index]), dynamic_range=dynamic_range).isel(frame=0)
    img.attrs["long_name"] = "B-mode"
    kw.setdefault("vmin", -dynamic_range)
    kw.setdefault("vmax", 0.0)
    return plot_image(
        img,
        ax=ax,
        cmap="gray",
        yincrease=False,
        title=f"B-mode ({dynamic_range:g} dB dynamic range) — {where}",
        label="B-mode [dB re max, 20·log10 of the envelope]",
        **kw,
    )
