"""Plots for microwave scans and radar images (matplotlib imported lazily, never shown)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim.deprecation import positional_options
from brim.errors import ConfigError

__all__ = [
    "plot_image_slice",
    "plot_permittivity",
    "plot_propagation",
    "plot_radar_image",
    "plot_scan_channel",
]


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
        Passed to :meth:`matplotlib.axes.Axes.pcolormesh` (defaults ``cmap="inferno"`` and, in
        dB, ``vmin=-20``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, with a colour bar.

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
    ('DAS — z = 10 mm (through the peak)', 'x (mm)', 1)
    """
    if isinstance(img, xr.Dataset):
        if var not in img.data_vars:
            raise ConfigError(
                f"image Dataset has no variable {var!r}; it holds {[str(n) for n in img.data_vars]}"
                f" (pass var=...)"
            )
        da = img[var]
    else:
        da = img
    if not isinstance(da, xr.DataArray) or not {"x", "y"} <= set(da.dims):
        raise ConfigError(
            f"img must be a beamformed image (a Dataset from brim.microwave.beamform, or a "
            f"DataArray on y, x and optionally z), got {type(img).__name__}"
        )
    ax = _ax(ax)
    plane = ""  # the title names the plane shown, as every brim picture does
    if "z" in da.dims:
        if z is None:
            iz = np.unravel_index(np.nanargmax(da.values), da.shape)[0]
            da = da.isel(z=int(iz))
            how = " (through the peak)"
        else:
            da = da.sel(z=z, method="nearest")
            how = ""
        plane = f" — z = {float(da['z']) * 1e3:.3g} mm{how}"
    elif "z" in da.coords and da["z"].size == 1:
        plane = f" — z = {float(da['z']) * 1e3:.3g} mm"
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
    ax.set_title(var.upper().replace("_", "-") + plane)
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
        Passed to :meth:`matplotlib.axes.Axes.plot` for each curve.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, with a legend of the curves.

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
    from brim.microwave.radar.beamforming import _expect_scan

    _expect_scan(scan)
    if "channel" not in scan["s"].dims:
        raise ConfigError(
            f"plot_scan_channel needs a scan on (freq, channel), got {scan['s'].dims}"
        )
    n = scan.sizes["channel"]
    if not isinstance(channel, (int, np.integer)) or not -n <= channel < n:
        raise ConfigError(f"channel must be an index in [0, {n}) of the scan, got {channel!r}")
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
        Passed to :meth:`matplotlib.axes.Axes.plot` for the permittivity curves; the dashed
        conductivity curves take their colours.

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


def _propagation_curve(obj) -> tuple[np.ndarray, np.ndarray, float, str]:
    """``(eps_grid, curve, eps_r, label)`` of a PropagationEstimate or an image's attributes."""
    if isinstance(obj, (xr.Dataset, xr.DataArray)):
        a = obj.attrs
        if "propagation_curve" not in a:
            from brim.errors import ConfigError

            raise ConfigError(
                "no propagation estimate in the attributes: beamform without eps_r stores one"
            )
        eps, curve = np.atleast_1d(a["propagation_eps_grid"]), np.atleast_1d(a["propagation_curve"])
        return (
            eps,
            curve,
            float(a["propagation_eps_r"]),
            (
                f"{a.get('propagation_criterion', 'peak')}, delay "
                f"{1e12 * float(a.get('propagation_delay_s', 0.0)):.0f} ps"
            ),
        )
    return (
        np.asarray(obj.eps_grid),
        np.asarray(obj.curve),
        float(obj.eps_r),
        f"{obj.criterion}, delay {obj.delay_s * 1e12:.0f} ps",
    )


@positional_options
def plot_propagation(est: Any, *, ax: Any = None, **kw) -> Any:
    """The focus criterion over the effective permittivity, with the estimate marked.

    Parameters
    ----------
    est : PropagationEstimate or xarray.Dataset
        The result of :func:`brim.microwave.radar.estimate_propagation`, or an image whose
        attributes hold one (``propagation_*``, written by ``beamform`` without ``eps_r``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.
    **kw
        Passed to :meth:`matplotlib.axes.Axes.plot` for the criterion curve.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: the curve and a dashed vertical line at the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from brim.microwave.plotting import plot_propagation
    >>> from brim.microwave.radar import PropagationEstimate
    >>> est = PropagationEstimate(6.0, 0.0, "peak", "none", np.array([4.0, 6, 9]),
    ...                           np.array([0.5, 1.0, 0.7]))
    >>> ax = plot_propagation(est, ax=Figure().subplots())
    >>> ax.get_xlabel(), len(ax.lines)
    ('effective relative permittivity', 2)
    """
    ax = _ax(ax)
    eps, curve, best, label = _propagation_curve(est)
    ax.plot(eps, curve, "o-", ms=3, label=f"focus criterion ({label})", **kw)
    ax.axvline(best, color="k", ls="--", lw=1, label=f"estimate {best:.2f}")
    ax.set_xlabel("effective relative permittivity")
    ax.set_ylabel("criterion (1 = best)")
    ax.legend(fontsize=8)
    return ax


def plot_radar_image(
    img: xr.Dataset,
    var: str | None = None,
    *,
    sel: Any = None,
    part: Any = None,
    db: bool | None = None,
    ax: Any = None,
    **kw,
) -> Any:
    """``brim plot`` picture of a radar image: the slice through the maximum and, when the
    permittivity was estimated, the focus-criterion curve beside it.

    Meant for the ``brim.plot`` entry-point group (kind ``reconstruction``): returns None (the
    generic picture is used) for a reconstruction that is not a radar image, a selection or a
    complex part.

    Parameters
    ----------
    img : xarray.Dataset
        A radar image from :func:`brim.microwave.radar.beamform`.
    var : str, optional
        The image variable (default: the first of das, dmas, cf_das, capon present).
    sel, part : optional
        Not handled here (None is returned for them).
    db : bool, optional
        Intensity in dB (default True).
    ax : matplotlib.axes.Axes, optional
        Where to draw the slice; the curve then goes into an inset.
    **kw
        Passed to :func:`plot_image_slice`.

    Returns
    -------
    matplotlib.axes.Axes or None
        The axes of the slice, or None when this is not a radar image.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from matplotlib.figure import Figure
    >>> from brim.microwave.plotting import plot_radar_image
    >>> c = [0.0, 0.01, 0.02]
    >>> img = xr.Dataset({"das": (("z", "y", "x"), np.arange(18.0).reshape(2, 3, 3))},
    ...                  coords={"x": c, "y": c, "z": [0.0, 0.01]},
    ...                  attrs={"delay_model": "homogeneous", "propagation_eps_r": 6.0,
    ...                         "propagation_eps_grid": [4.0, 6, 9],
    ...                         "propagation_curve": [0.5, 1.0, 0.7]})
    >>> ax = plot_radar_image(img, ax=Figure().subplots())
    >>> ax.get_title(), len(ax.child_axes)  # the criterion curve is an inset
    ('DAS — z = 10 mm (through the peak)', 1)
    """
    if "delay_model" not in img.attrs or sel or part not in (None, "abs"):
        return None
    names = [v for v in ("das", "dmas", "cf_das", "capon") if v in img.data_vars]
    var = var or (names[0] if names else None)
    if var not in names:
        return None
    has_curve = "propagation_curve" in img.attrs
    if ax is None:
        import matplotlib.pyplot as plt

        if has_curve:
            # constrained layout leaves room for the figure title that brim plot adds
            fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
        else:
            fig, ax = plt.subplots(constrained_layout=True)
            ax2 = None
        inset = False
    else:
        ax2 = ax.inset_axes((0.02, 0.02, 0.35, 0.3)) if has_curve else None
        inset = True
    plot_image_slice(img, var=var, ax=ax, db=True if db is None else db, **kw)
    if ax2 is not None:
        plot_propagation(img, ax=ax2)
        if inset:
            ax2.tick_params(labelsize=6)
            ax2.xaxis.label.set_fontsize(7)
            ax2.yaxis.label.set_fontsize(7)
        else:
            ax2.set_title(
                f"effective permittivity from the scan: {img.attrs['propagation_eps_r']:.2f}"
            )
    return ax
