"""Generic plots of brim Datasets. matplotlib is imported lazily (extra ``viz``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from brim.errors import ConfigError, require


def _axes(ax):
    if ax is not None:
        return ax
    require("matplotlib", "viz")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _label(da: xr.DataArray) -> str:
    units = da.attrs.get("units")
    name = da.attrs.get("long_name", da.name)
    return f"{name} [{units}]" if units else str(name)


def plot_variable(ds: xr.Dataset | xr.DataArray, var: str | None = None, *, ax=None, **kw):
    """Plot a variable: an image for 2-D data (the middle slice of leading dims), a line for 1-D.

    Complex data are shown as magnitude. Returns the matplotlib Axes.
    """
    if isinstance(ds, xr.Dataset):
        if var is None:
            names = [n for n in ds.data_vars if ds[n].ndim >= 1]
            if not names:
                raise ConfigError("nothing to plot: the Dataset has no array variables")
            var = names[0]
        if var not in ds.data_vars:
            raise ConfigError(f"no data variable {var!r}; have {sorted(map(str, ds.data_vars))}")
        da = ds[var]
    else:
        da = ds
    if np.iscomplexobj(da.values):
        da = abs(da).assign_attrs(da.attrs).rename(f"|{da.name}|")
    while da.ndim > 2:
        da = da.isel({da.dims[0]: da.sizes[da.dims[0]] // 2})
    ax = _axes(ax)
    if da.ndim == 2:
        ydim, xdim = da.dims
        x = da[xdim].values if xdim in da.coords else np.arange(da.sizes[xdim])
        y = da[ydim].values if ydim in da.coords else np.arange(da.sizes[ydim])
        kw.setdefault("cmap", "inferno")
        im = ax.imshow(
            da.values,
            extent=(x[0], x[-1], y[-1], y[0]) if len(x) > 1 and len(y) > 1 else None,
            aspect="equal",
            **kw,
        )
        ax.figure.colorbar(im, ax=ax, label=_label(da))
        for dim, setter in ((xdim, ax.set_xlabel), (ydim, ax.set_ylabel)):
            units = da[dim].attrs.get("units", "") if dim in da.coords else "index"
            setter(f"{dim} [{units}]")
    elif da.ndim == 1:
        (dim,) = da.dims
        x = da[dim].values if dim in da.coords else np.arange(da.sizes[dim])
        ax.plot(x, da.values, **kw)
        ax.set_xlabel(dim)
        ax.set_ylabel(_label(da))
    else:
        raise ConfigError(f"cannot plot a 0-d variable {da.name!r}")
    return ax
