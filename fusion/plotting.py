"""Plots for brim.fusion (matplotlib imported lazily; never shows a window).

Lengths are stored in m and shown in mm (the display unit): axes whose coordinate has a length
unit are rescaled for the plot only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from brim.deprecation import positional_options
from brim.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_measurement",
    "plot_map",
    "plot_depth_slices",
    "plot_ultrasound",
    "plot_volume_mip",
]


def _display(da: xr.DataArray, dim: str) -> tuple[np.ndarray, str]:
    """Values and unit label of coordinate ``dim`` for display: lengths in mm, others as stored."""
    from brim.units import LENGTH_TO_M

    if dim not in da.coords:
        return np.arange(da.sizes[dim], dtype=float), "px"
    units = da[dim].attrs.get("units", "")
    vals = np.asarray(da[dim].values, dtype=float)
    if units in LENGTH_TO_M:
        return vals * LENGTH_TO_M[units] * 1e3, "mm"
    return vals, units


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_measurement(
    meas: xr.Dataset, *, wavelength: int = 0, ax: Axes | None = None, **kw
) -> Axes:
    """``ln(rho^2 A)`` against source-detector distance (the background-fit view).

    Parameters
    ----------
    meas : xarray.Dataset
        ``optical_measurement``.
    wavelength : int
        Index of the wavelength shown.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    **kw
        Style of the points (``color``, ``alpha``, ...), passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        One point per source-detector pair; the title is the wavelength.

    Examples
    --------
    >>> import brim.data
    >>> from matplotlib.figure import Figure
    >>> from brim.fusion import plot_measurement
    >>> meas = brim.data.sample("fusion_measurement")
    >>> ax = plot_measurement(meas, ax=Figure().subplots())
    >>> ax.get_xlabel(), ax.get_title(), len(ax.lines[0].get_xdata())  # 9 x 14 pairs
    ('source-detector distance (mm)', '740 nm', 126)
    """
    from brim.fusion.background import pair_distances

    rho = pair_distances(meas).ravel() * 1e3  # m -> mm for display (checks meas)
    _wavelength_index(meas, wavelength)
    ax = _ax(ax)
    a = meas.amplitude.isel(wavelength=wavelength).values.ravel()
    ax.plot(rho, np.log(rho**2 * a), "o", ms=3, **kw)
    ax.set_xlabel("source-detector distance (mm)")
    ax.set_ylabel(r"ln($\rho^2$ A)")
    ax.set_title(f"{float(meas.wavelength[wavelength]):g} nm")
    return ax


def _wavelength_index(ds: xr.Dataset, wavelength: object) -> None:
    """ConfigError unless ``wavelength`` indexes ``ds.wavelength`` (an index, not nm)."""
    n = ds.sizes.get("wavelength", 0)
    if not isinstance(wavelength, (int, np.integer)) or not -n <= wavelength < n:
        nm = [float(v) for v in ds["wavelength"].values] if "wavelength" in ds.coords else []
        raise ConfigError(
            f"wavelength is an index into the {n} wavelengths {nm} nm (0 to {n - 1}), "
            f"got {wavelength!r}"
        )


def plot_map(da: xr.DataArray, *, ax: Axes | None = None, cmap: str = "magma", **kw) -> Axes:
    """A 2-D map with physical axes and a colour bar labelled with its units.

    Parameters
    ----------
    da : xarray.DataArray
        A 2-D map; coordinates in length units are shown in mm, others as stored.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    cmap : str
        Colour map (perceptual).
    **kw
        Passed to ``Axes.pcolormesh`` (``vmin``, ``vmax``, ...).

    Returns
    -------
    matplotlib.axes.Axes
        The map at equal aspect; its colour bar is a second Axes of the same figure.

    Raises
    ------
    ValueError
        ``da`` is not 2-D.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from brim.fusion import plot_map, synthetic_ultrasound
    >>> us = synthetic_ultrasound(pixel=0.5e-3)  # coordinates in m
    >>> ax = plot_map(us.image, ax=Figure().subplots())
    >>> ax.get_xlabel(), ax.get_ylabel(), len(ax.figure.axes)  # map and colour bar
    ('x (mm)', 'y (mm)', 2)
    """
    if not isinstance(da, xr.DataArray):
        raise ConfigError(
            f"plot_map needs a 2-D xarray.DataArray with coordinates (e.g. ds['hbt'].isel(z=0)),"
            f" got {type(da).__name__}"
        )
    if da.ndim != 2:
        raise ConfigError(
            f"plot_map needs a 2-D map, got dims {da.dims}: select one plane, e.g. "
            f"da.isel({', '.join(f'{d}=0' for d in da.dims[:-2])})"
        )
    ax = _ax(ax)
    ydim, xdim = (str(d) for d in da.dims)
    x, xu = _display(da, xdim)
    y, yu = _display(da, ydim)
    im = ax.pcolormesh(x, y, np.asarray(da.values), cmap=cmap, shading="auto", **kw)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{xdim} ({xu})")
    ax.set_ylabel(f"{ydim} ({yu})")
    ax.figure.colorbar(im, ax=ax, label=f"{da.name or ''} ({da.attrs.get('units', '')})")
    return ax


@positional_options
def plot_depth_slices(
    ds: xr.Dataset, *, var: str = "hbt", wavelength: int | None = None, ax: Axes | None = None, **kw
) -> Axes:
    """Depth slices (z) of a 3-D map side by side in one Axes, the Zhu-lab display.

    Parameters
    ----------
    ds : xarray.Dataset
        A reconstruction with ``var`` on ``(z, y, x)`` (or with a leading ``wavelength``).
    var : str
        The variable shown, e.g. ``"hbt"``, ``"mua"``.
    wavelength : int, optional
        Index of the wavelength shown when ``var`` has a wavelength dimension (default: 0).
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    **kw
        Passed to ``Axes.imshow`` (``cmap``, ``vmin``, ``vmax``, ...).

    Returns
    -------
    matplotlib.axes.Axes
        The mosaic, one tile per depth (row by row, labelled with its depth; axis hidden), and
        its colour bar as a second Axes.

    Examples
    --------
    Four depth layers 5 mm apart:

    >>> import numpy as np
    >>> import xarray as xr
    >>> from matplotlib.figure import Figure
    >>> z, xy = np.arange(4) * 5e-3, np.arange(6) * 1e-3  # m
    >>> hbt = np.random.default_rng(0).uniform(20, 40, (4, 6, 6))
    >>> ds = xr.Dataset({"hbt": (("z", "y", "x"), hbt, {"units": "uM"})},
    ...                 coords={"z": ("z", z, {"units": "m"}), "y": ("y", xy, {"units": "m"}),
    ...                         "x": ("x", xy, {"units": "m"})})
    >>> from brim.fusion import plot_depth_slices
    >>> ax = plot_depth_slices(ds, var="hbt", ax=Figure().subplots())
    >>> [t.get_text() for t in ax.texts]
    ['z=0.0 mm', 'z=5.0 mm', 'z=10.0 mm', 'z=15.0 mm']
    >>> ax.figure.axes[1].get_ylabel()
    'hbt (uM)'
    """
    from brim.fusion.reconstruction import _map_var

    da = _map_var(ds, var)
    if wavelength is not None and "wavelength" in da.dims:
        _wavelength_index(ds, wavelength)
    ax = _ax(ax)
    if "wavelength" in da.dims:
        da = da.isel(wavelength=0 if wavelength is None else wavelength)
    da = da.transpose("z", "y", "x")
    nz = da.sizes["z"]
    tiles = [np.asarray(da.isel(z=i).values) for i in range(nz)]
    ncol = int(np.ceil(np.sqrt(nz)))
    nrow = int(np.ceil(nz / ncol))
    h, w = tiles[0].shape
    mosaic = np.full((nrow * h, ncol * w), np.nan)
    for i, t in enumerate(tiles):
        r, c = divmod(i, ncol)
        mosaic[r * h : (r + 1) * h, c * w : (c + 1) * w] = t
    im = ax.imshow(mosaic, cmap=kw.pop("cmap", "magma"), origin="upper", **kw)
    zs, zu = _display(da, "z")
    for i in range(nz):
        r, c = divmod(i, ncol)
        ax.text(c * w + 1, r * h + 3, f"z={zs[i]:.1f} {zu}", color="w", fontsize=6)
    ax.set_axis_off()
    ax.figure.colorbar(im, ax=ax, label=f"{var} ({ds[var].attrs.get('units', '')})")
    return ax


def plot_volume_mip(ds: xr.Dataset, var: str, *, ax: Axes | None = None, **kw) -> Axes:
    """Maximum-intensity projection over ``z`` (first index of any leading dims).

    Parameters
    ----------
    ds : xarray.Dataset
        A reconstruction with ``var`` over ``z``.
    var : str
        The variable projected.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    **kw
        Passed to :func:`plot_map` (``cmap``) and on to ``Axes.pcolormesh``.

    Returns
    -------
    matplotlib.axes.Axes
        The :func:`plot_map` of the projection; its colour bar reads ``<var> (max over z)``.

    Examples
    --------
    A hot voxel 10 mm deep shows in the projection at its (x, y):

    >>> import numpy as np
    >>> import xarray as xr
    >>> from matplotlib.figure import Figure
    >>> z, xy = np.arange(4) * 5e-3, np.arange(6) * 1e-3  # m
    >>> hbt = np.full((4, 6, 6), 20.0)
    >>> hbt[2, 1, 3] = 60.0  # z = 10 mm, y = 1 mm, x = 3 mm
    >>> ds = xr.Dataset({"hbt": (("z", "y", "x"), hbt, {"units": "uM"})},
    ...                 coords={"z": ("z", z, {"units": "m"}), "y": ("y", xy, {"units": "m"}),
    ...                         "x": ("x", xy, {"units": "m"})})
    >>> from brim.fusion import plot_volume_mip
    >>> ax = plot_volume_mip(ds, "hbt", ax=Figure().subplots())
    >>> mip = ax.collections[0].get_array()  # (y, x)
    >>> np.argwhere(mip == mip.max()).tolist(), float(mip.max())
    ([[1, 3]], 60.0)
    >>> ax.get_xlabel(), ax.figure.axes[1].get_ylabel()
    ('x (mm)', 'hbt (max over z) (uM)')
    """
    from brim.fusion.reconstruction import _map_var

    da = _map_var(ds, var)
    for d in list(da.dims):
        if d not in ("z", "y", "x"):
            da = da.isel({d: 0})
    mip = da.max("z")
    mip.name = f"{var} (max over z)"
    mip.attrs = dict(ds[var].attrs)
    return plot_map(mip, ax=ax, **kw)


def plot_ultrasound(us: xr.Dataset, *, ax: Axes | None = None, contour: bool = True) -> Axes:
    """B-mode image (grey) with the lesion mask contour.

    Parameters
    ----------
    us : xarray.Dataset
        ``image`` (0..1) and optionally ``mask`` on ``(y, x)``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    contour : bool
        Draw the outline of ``mask``.

    Returns
    -------
    matplotlib.axes.Axes
        The B-mode in grey at equal aspect, depth growing downwards; with ``contour``, the
        mask outlined in red.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from brim.fusion import plot_ultrasound, synthetic_ultrasound
    >>> ax = plot_ultrasound(synthetic_ultrasound(pixel=0.5e-3), ax=Figure().subplots())
    >>> ax.get_xlabel(), ax.get_ylabel(), bool(ax.yaxis_inverted())  # depth grows downwards
    ('x (mm)', 'depth (mm)', True)
    """
    from brim.schema import expect_dataset

    expect_dataset(us, "mask", builder="brim.fusion.synthetic_ultrasound")
    if "image" not in us.data_vars or set(us["image"].dims) != {"y", "x"}:
        raise ConfigError(
            "plot_ultrasound needs a B-mode Dataset with 'image' on (y, x) (y = depth), got "
            f"variables {[str(v) for v in us.data_vars]}"
            + (f" with image dims {us['image'].dims}" if "image" in us.data_vars else "")
        )
    us = us.transpose("y", "x", ...)
    ax = _ax(ax)
    x, xu = _display(us.image, "x")
    y, yu = _display(us.image, "y")
    ax.pcolormesh(x, y, us.image.values, cmap="gray", shading="auto")
    if contour and "mask" in us and np.any(us["mask"].values):
        ax.contour(x, y, us["mask"].values, levels=[0.5], colors="r", linewidths=1)
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.set_xlabel(f"x ({xu})")
    ax.set_ylabel(f"depth ({yu})")
    return ax
