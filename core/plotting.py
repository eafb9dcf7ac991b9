"""Pictures of brim Datasets, built on xarray's plotting (matplotlib imported lazily).

:func:`plot_variable` (also ``ds.brim.plot``) draws any brim Dataset the way its kind asks:

- ``thermogram``: temperature in °C with the contours of its masks (body, breast, tumour);
- ``reconstruction`` volumes ``(z, y, x)``: three orthogonal slices through the peak (radar
  images, in dB by default when the variable is an intensity), or labelled depth slices when
  ``z`` is a depth (diffuse-optical maps); 2-D maps as one image; complex maps as their real and
  imaginary parts, each labelled with what it is (``Re(ε) = ε′``, ``Im(ε) = −ε″``);
- ``mask``: categories in discrete colours with a legend of the label names (the JSON
  attribute ``labels``), over the image when the Dataset holds one;
- ``optical_measurement``: amplitude (or phase) against source–detector distance;
- ``sparameter_scan`` / ``field_set``: magnitude (dB) over frequency and channel, or tx × rx;
- other kinds through plotters that modalities register in the ``brim.plot`` entry-point group
  (B-mode of ``rf_frames`` by :mod:`brim.elasto`), else a generic image or line.

Conventions: lengths are displayed in mm and frequencies in GHz/MHz (the data keep their SI
units); physical x–y planes have y pointing up, image-like planes (thermograms, masks,
ultrasound depth) have rows going down; only perceptual colour maps (viridis, magma, cividis,
gray); every picture's title names the slice it shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from brim.errors import ConfigError, require
from brim.units import LENGTH_TO_M

__all__ = [
    "DEFAULT_VARIABLE",
    "complex_part",
    "display_units",
    "parse_selection",
    "plot_image",
    "plot_mask",
    "plot_variable",
    "select",
    "to_db",
]

#: The variable shown by default for each brim kind.
DEFAULT_VARIABLE = {
    "thermogram": "temperature",
    "thermal_intensity": "intensity",
    "sparameter_scan": "s",
    "field_set": "scattered_field",
    "rf_frames": "rf",
    "channel_data": "channel",
    "optical_measurement": "amplitude",
    "mask": "mask",
    "strain_image": "strain",
}

#: Maps shown first when a reconstruction holds several (total haemoglobin before its parts).
_PREFERRED_MAPS = ("hbt", "mua", "das", "dmas", "cf_das", "permittivity")
#: Kinds whose (y, x) plane is an image: row 0 at the top.
_IMAGE_KINDS = ("thermogram", "thermal_intensity", "mask")
_DEPTH_DIMS = ("depth", "zc", "row", "sample")
_LENGTH_TO_MM = {units: to_m * 1e3 for units, to_m in LENGTH_TO_M.items()}
_FREQ_HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}
_TIME_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_UNIT_TEXT = {
    "degC": "°C",
    "uM": "µM",
    "um": "µm",
    "us": "µs",
    "mm-1": "mm⁻¹",
    "cm-1": "cm⁻¹",
    "m-1": "m⁻¹",
    "1": "1",
}
_PERMITTIVITY_FORMULA = re.compile(r"\s*(eps'\s*-\s*j\s*eps''|ε′\s*−\s*jε″)\s*$")
_POWER_WORDS = ("intensity", "energy", "power")
_DIM_NAMES = {"line": "lateral position", "freq": "frequency", "zc": "depth", "xc": "lateral"}


def _plt():
    require("matplotlib", "viz")
    import matplotlib.pyplot as plt

    return plt


def display_units(units: str | None) -> str:
    """The printable form of a unit string (``degC`` → ``°C``, ``mm-1`` → ``mm⁻¹``).

    Parameters
    ----------
    units : str or None
        A ``units`` attribute as brim stores it.

    Returns
    -------
    str
        Text for an axis or colour-bar label (empty when ``units`` is None).

    Examples
    --------
    >>> display_units("degC")
    '°C'
    """
    if not units:
        return ""
    return _UNIT_TEXT.get(str(units), str(units))


def _name(da: xr.DataArray) -> str:
    return str(da.attrs.get("long_name") or da.name or "value")


def _label(name: str, units: str | None) -> str:
    u = display_units(units)
    return f"{name} [{u}]" if u else name


# --------------------------------------------------------------------------- display coords
def _display_factor(units: str | None, values: np.ndarray) -> tuple[float, str] | None:
    """(multiplier, new units) to display a coordinate, or None to keep it."""
    if units in _LENGTH_TO_MM:
        return _LENGTH_TO_MM[units], "mm"
    if units == "Hz" and values.size:
        top = float(np.nanmax(np.abs(values)))
        if top >= 1e9:
            return 1e-9, "GHz"
        if top >= 1e6:
            return 1e-6, "MHz"
        if top >= 1e3:
            return 1e-3, "kHz"
    if units == "s" and values.size:
        top = float(np.nanmax(np.abs(values)))
        if 0 < top < 1e-9:  # antenna delays: -100..300 ps, not 0.0003 µs
            return 1e12, "ps"
        if 0 < top < 1e-6:
            return 1e9, "ns"
        if 0 < top < 1e-3:
            return 1e6, "µs"
        if 0 < top < 1:
            return 1e3, "ms"
    return None


def _length_values(da: xr.DataArray) -> xr.DataArray:
    """Real values that are lengths (a displacement in m) in mm, or µm below 1 mm: a colour bar
    of -0.00025 m reads as 250 µm."""
    units = da.attrs.get("units")
    if units not in _LENGTH_TO_MM or units == "mm" or np.iscomplexobj(da.values):
        return da
    mm = da * _LENGTH_TO_MM[units]
    finite = np.asarray(mm.values, float)
    finite = finite[np.isfinite(finite)]
    small = finite.size and float(np.abs(finite).max()) < 1.0
    out = mm * 1e3 if small else mm
    out.attrs = dict(da.attrs, units="µm" if small else "mm")
    out.name = da.name
    return out


def _for_display(da: xr.DataArray) -> xr.DataArray:
    """``da`` with its dimension coordinates in display units (lengths in mm...)."""
    new = {}
    for dim in da.dims:
        if dim not in da.coords or da[dim].dtype.kind not in "fiu":
            continue
        c = da[dim]
        f = _display_factor(c.attrs.get("units"), np.asarray(c.values, dtype=float))
        if f is None:
            continue
        attrs = dict(c.attrs, units=f[1])
        attrs.setdefault("long_name", _DIM_NAMES.get(str(dim), str(dim)))
        new[dim] = (dim, np.asarray(c.values, dtype=float) * f[0], attrs)
    return da.assign_coords(new) if new else da


def _coord_text(da: xr.DataArray, dim: str, value: Any) -> str:
    """``"z = 35.0 mm"``: a coordinate value in display units."""
    if dim not in da.coords:
        return f"{dim} = {value}"
    c = da.coords[dim]
    if c.dtype.kind not in "fiu":
        return f"{dim} = {value}"
    units = c.attrs.get("units")
    f = _display_factor(units, np.asarray(c.values, dtype=float))
    v = float(value) * (f[0] if f else 1.0)
    u = f[1] if f else display_units(units)
    return f"{dim} = {v:.4g} {u}".rstrip()


# --------------------------------------------------------------------------- selection
def parse_selection(items: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse ``["z=35mm", "wavelength=780"]`` into ``{"z": "35mm", "wavelength": "780"}``.

    Parameters
    ----------
    items : sequence of str, mapping or None
        ``dim=value`` strings (the CLI's ``--sel``), or an already parsed mapping.

    Returns
    -------
    dict
        Dimension name to value (still text; :func:`select` converts it).

    Raises
    ------
    ConfigError
        An item is not of the form ``dim=value``, or names a dimension twice.

    Examples
    --------
    >>> parse_selection(["z=35mm", "frame=1"])
    {'z': '35mm', 'frame': '1'}
    """
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        dim, sep, value = str(item).partition("=")
        dim, value = dim.strip(), value.strip()
        if not sep or not dim or not value:
            raise ConfigError(f"--sel {item!r}: expected DIM=VALUE, e.g. z=35mm or frame=0")
        if dim in out:
            raise ConfigError(f"--sel names dimension {dim!r} twice")
        out[dim] = value
    return out


_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]*)\s*$")


def _to_coord_units(text: Any, dim: str, units: str | None) -> float:
    """A ``--sel`` value as a number in the coordinate's units (``35mm`` → 0.035 for m)."""
    if isinstance(text, (int, float, np.integer, np.floating)):
        return float(text)
    m = _NUMBER_UNIT.match(str(text))
    if not m:
        raise ConfigError(f"--sel {dim}={text}: not a number (optionally with a unit, e.g. 35mm)")
    value, unit = float(m.group(1)), m.group(2)
    if not unit or unit == units:
        return value
    for table in (_LENGTH_TO_MM, _FREQ_HZ, _TIME_S):
        if unit in table and units in table:
            scale = table[unit] / table[units]
            return value * scale
    raise ConfigError(
        f"--sel {dim}={text}: unit {unit!r} does not convert to the coordinate's units "
        f"{units or 'none'!r}"
    )


def select(da: xr.DataArray, sel: Mapping[str, Any]) -> tuple[xr.DataArray, list[str]]:
    """Select one position along dimensions: nearest coordinate value, or an index.

    Parameters
    ----------
    da : xarray.DataArray
        The variable.
    sel : mapping
        Dimension → value. On a numeric coordinate the value is a number in the coordinate's
        units or with a unit (``35mm``, ``2.5GHz``), and the nearest position is taken; on a
        text coordinate it must be one of its values; on a dimension without a coordinate it is
        an integer index.

    Returns
    -------
    (xarray.DataArray, list of str)
        The selection and one description per selected dimension (``"z = 35 mm"``).

    Raises
    ------
    ConfigError
        The dimension does not exist (the message lists those that do), the value is outside
        the coordinate's range, or not an index of it.
    """
    texts = []
    for dim, value in sel.items():
        if dim not in da.dims:
            have = ", ".join(f"{d} ({da.sizes[d]})" for d in da.dims) or "none (0-d)"
            raise ConfigError(
                f"--sel: {da.name!r} has no dimension {dim!r}; its dimensions: {have}"
            )
        if dim in da.coords and da[dim].dtype.kind in "fiu":
            c = np.asarray(da[dim].values, dtype=float)
            units = da[dim].attrs.get("units")
            v = _to_coord_units(value, dim, units)
            step = float(np.nanmax(np.abs(np.diff(c)))) if c.size > 1 else 0.0
            lo, hi = float(np.nanmin(c)), float(np.nanmax(c))
            if not (lo - step - 1e-12 * abs(lo) <= v <= hi + step + 1e-12 * abs(hi)):
                raise ConfigError(
                    f"--sel {dim}={value}: outside {dim}'s range {lo:.6g} to {hi:.6g} "
                    f"{units or ''}; give a value in {units or 'its units'} or with a unit "
                    f"(e.g. {dim}={_example(lo, hi, units)})".replace("  ", " ")
                )
            da = da.sel({dim: v}, method="nearest")
            texts.append(_coord_text(da, dim, da[dim].values))
        elif dim in da.coords:
            values = [str(x) for x in np.asarray(da[dim].values).tolist()]
            if str(value) not in values:
                raise ConfigError(f"--sel {dim}={value}: not one of {values}")
            da = da.isel({dim: values.index(str(value))})
            texts.append(f"{dim} = {value}")
        else:
            try:
                i = int(str(value))
            except ValueError:
                raise ConfigError(
                    f"--sel {dim}={value}: {dim!r} has no coordinate; give an index 0 to "
                    f"{da.sizes[dim] - 1}"
                ) from None
            if not -da.sizes[dim] <= i < da.sizes[dim]:
                raise ConfigError(
                    f"--sel {dim}={value}: index out of range 0 to {da.sizes[dim] - 1}"
                )
            da = da.isel({dim: i})
            texts.append(f"{dim} = {i}")
    return da, texts


def _example(lo: float, hi: float, units: str | None) -> str:
    mid = (lo + hi) / 2
    if units in _LENGTH_TO_MM:
        return f"{mid * _LENGTH_TO_MM[units]:.3g}mm"
    return f"{mid:.3g}"


# --------------------------------------------------------------------------- values
def complex_part(da: xr.DataArray, part: str) -> xr.DataArray:
    """One real part of complex data, named for what it is.

    Parameters
    ----------
    da : xarray.DataArray
        Complex values.
    part : {"real", "imag", "abs", "phase"}
        Which part. A permittivity stored as ``ε = ε′ − jε″`` (its ``long_name`` says so) gets
        the labels ``Re(ε) = ε′``, ``Im(ε) = −ε″``, ``|ε|``, ``arg(ε)``: a magnitude is never
        labelled as the complex quantity itself.

    Returns
    -------
    xarray.DataArray
        Real values; ``long_name`` names the part, ``units`` are kept (``rad`` for the phase).

    Raises
    ------
    ConfigError
        Unknown ``part``.
    """
    funcs: dict[str, Callable[..., Any]] = {
        "real": np.real,
        "imag": np.imag,
        "abs": np.abs,
        "phase": np.angle,
    }
    if part not in funcs:
        raise ConfigError(f"part must be one of {sorted(funcs)}, got {part!r}")
    name = _name(da)
    perm = bool(_PERMITTIVITY_FORMULA.search(name))
    base = _PERMITTIVITY_FORMULA.sub("", name)
    if base.startswith("complex "):
        base = base[len("complex ") :]
    text = {
        "real": f"Re({base})" + (" = ε′" if perm else ""),
        "imag": f"Im({base})" + (" = −ε″" if perm else ""),
        "abs": f"|{base}|",
        "phase": f"arg({base})",
    }[part]
    out = xr.apply_ufunc(funcs[part], da, keep_attrs=True)
    out.attrs["long_name"] = text
    if part == "phase":
        out.attrs["units"] = "rad"
    out.name = f"{da.name}_{part}"
    return out


def _fraction_limits(d: xr.DataArray, kw: dict) -> None:
    """Colour limits 0..1 for a saturation (sO2, a fraction) holding values outside them:
    noise in a haemoglobin fit gives sO2 of -1.3 or 1.6, and limits stretched to those drew
    the map on a signed grey scale as if a saturation could be negative. Values inside 0..1,
    or limits the caller gave, are left alone."""
    if "vmin" in kw or "vmax" in kw or "norm" in kw:
        return
    if "saturation" not in str(d.attrs.get("long_name", "")).lower():
        return
    if d.attrs.get("units") not in ("1", "", None):
        return
    v = np.asarray(d.values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size and (v.min() < 0.0 or v.max() > 1.0):
        kw.update(vmin=0.0, vmax=1.0)
        kw.setdefault("cmap", "magma")


def _is_power(da: xr.DataArray) -> bool:
    return any(w in _name(da).lower() for w in _POWER_WORDS)


def to_db(da: xr.DataArray, *, power: bool | None = None) -> tuple[xr.DataArray, str]:
    """Values in decibels, and how they were computed (for the label).

    Parameters
    ----------
    da : xarray.DataArray
        Real or complex values.
    power : bool, optional
        ``10·log10`` of a power-like quantity (intensity, energy) relative to its maximum;
        otherwise ``20·log10`` of the magnitude: absolute for a dimensionless complex amplitude
        (S-parameters: ``|S|`` in dB), relative to the maximum for anything else. Default: a
        power when the name says intensity, energy or power.

    Returns
    -------
    (xarray.DataArray, str)
        The dB values (``-inf`` where zero made finite at 300 dB under the reference) and the
        label's unit text (``"dB"`` or ``"dB re max"``).
    """
    if power is None:
        power = _is_power(da) and not np.iscomplexobj(da.values)
    mag = np.abs(np.asarray(da.values))
    magnitude = np.iscomplexobj(da.values) or _name(da).startswith("|")
    absolute = not power and magnitude and da.attrs.get("units") == "1"
    ref = 1.0 if absolute else (float(np.nanmax(mag)) if np.isfinite(mag).any() else 1.0)
    ref = ref if ref > 0 else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(mag / ref, 1e-30)
        v = (10.0 if power else 20.0) * np.log10(ratio)
    v = np.where(np.isnan(mag), np.nan, v)
    name = _name(da)
    if np.iscomplexobj(da.values) and not name.startswith("|"):
        name = f"|{name}|"
    out = xr.DataArray(v, dims=da.dims, coords=da.coords, name=da.name)
    out.attrs = {"long_name": name, "units": "dB" if absolute else "dB re max"}
    return out, ("10·log10" if power else "20·log10")


# --------------------------------------------------------------------------- layout helpers
def _is_depth(da: xr.DataArray, dim: str) -> bool:
    if dim in _DEPTH_DIMS:
        return True
    return dim in da.coords and str(da[dim].attrs.get("long_name", "")).lower() == "depth"


def _is_length(da: xr.DataArray, dim: str) -> bool:
    return dim in da.coords and da[dim].attrs.get("units") in ("mm", *_LENGTH_TO_MM)


def _equal_aspect(da: xr.DataArray, ydim: str, xdim: str) -> bool:
    """Draw the plane at equal aspect: both axes lengths, or the rows and columns (y, x) of a
    picture in pixels (a thermal camera's or a PNG's pixels are square: a 106 x 139 breast
    crop stretched to the axes' 4:3 box looks like another breast)."""
    if _is_length(da, xdim) and _is_length(da, ydim):
        return True
    return {ydim, xdim} == {"y", "x"} and all(
        d in da.coords and da[d].attrs.get("units") == "px" for d in (ydim, xdim)
    )


def _figsize(da: xr.DataArray, panels: int = 1) -> tuple[float, float]:
    """Figure size for ``panels`` images of ``da`` side by side: at equal aspect (both axes
    lengths, or pixels) the height follows the image's shape, so that a wide, shallow image
    (a B-mode 12 mm deep and 44 mm wide) does not float in a tall figure beside a colour bar
    twice its height; else matplotlib's 6.4 x 4.8 inches per panel."""
    ydim, xdim = _plane_dims(da)
    if not _equal_aspect(da, ydim, xdim):
        return 6.4 * panels, 4.8
    span = [float(np.ptp(np.asarray(da[d].values, float))) for d in (ydim, xdim)]
    if not all(np.isfinite(span)) or min(span) <= 0:
        return 6.4 * panels, 4.8
    height = float(np.clip(4.6 * span[0] / span[1], 2.0, 7.0))  # axes 4.6 inches wide
    # a tall image (a breast crop, a deep B-mode) is narrower than 4.6 inches at that height:
    # a narrower figure keeps its colour bar beside it, not across an empty gap
    width = min(6.4, height * span[1] / span[0] + 1.8)  # colour bar, labels
    return width * panels, height + 1.2  # title, labels


def _plane_dims(da: xr.DataArray) -> tuple[str, str]:
    """(row dim, column dim) of a 2-D array: x, line, freq or the last dim across."""
    d0, d1 = (str(d) for d in da.dims)
    for across in ("x", "line", "xc", "freq", "sample", "detector", "rx"):
        if d0 == across and d1 != across:
            return d1, d0
        if d1 == across:
            return d0, d1
    return d0, d1


def _legend(ax, handles: list, title: str, *, loc: str, size: float, alpha: float) -> None:
    """A legend of ``handles`` over the image (none when there are none), its title as small as
    its entries and the frame ``alpha`` opaque."""
    if handles:
        ax.legend(
            handles=handles,
            loc=loc,
            fontsize=size,
            title=title,
            title_fontsize=size,
            framealpha=alpha,
        )


def _evenly_spaced(da: xr.DataArray, dim: str) -> bool:
    if dim not in da.coords:
        return True
    c = np.asarray(da[dim].values, dtype=float)
    if c.size < 3:
        return True
    d = np.diff(c)
    return bool(np.allclose(d, d[0], rtol=1e-3, atol=0))


def plot_image(
    da: xr.DataArray,
    *,
    ax=None,
    title: str | None = None,
    cmap: str | Any = "viridis",
    label: str | None = None,
    yincrease: bool | None = None,
    add_colorbar: bool = True,
    **kw,
):
    """One 2-D variable as an image with physical axes (mm) and a labelled colour bar.

    Parameters
    ----------
    da : xarray.DataArray
        2-D real values; dimension coordinates in SI units (displayed in mm, GHz...).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        The title (default: the variable's name).
    cmap : str or Colormap
        A perceptual colour map.
    label : str, optional
        Colour-bar label (default: ``long_name [units]``).
    yincrease : bool, optional
        ``True``: the row axis points up (physical x–y planes); ``False``: down (images,
        depth). Default: down for depth-like rows, up otherwise.
    add_colorbar : bool
        Draw the colour bar.
    **kw
        Passed to :meth:`xarray.DataArray.plot.imshow` (``vmin``, ``vmax``, ``norm``...).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in.
    """
    if da.ndim != 2:
        raise ConfigError(f"plot_image needs 2-D data, got dims {tuple(da.dims)}")
    if ax is None:
        ax = _plt().subplots(figsize=_figsize(da), constrained_layout=True)[1]
    ydim, xdim = _plane_dims(da)
    if yincrease is None:
        yincrease = not _is_depth(da, ydim)
    equal = _equal_aspect(da, ydim, xdim)
    shown = _for_display(da.transpose(ydim, xdim))
    for d in (ydim, xdim):
        if d in shown.coords and shown[d].attrs.get("units"):
            shown[d].attrs["units"] = display_units(shown[d].attrs["units"])
    cbar = {"label": label or _label(_name(da), da.attrs.get("units"))} if add_colorbar else None
    method = (
        shown.plot.imshow
        if _evenly_spaced(shown, xdim) and _evenly_spaced(shown, ydim)
        else shown.plot.pcolormesh
    )
    method(
        ax=ax,
        x=xdim,
        y=ydim,
        cmap=cmap,
        yincrease=yincrease,
        add_colorbar=add_colorbar,
        cbar_kwargs=cbar,
        **kw,
    )
    if equal:
        ax.set_aspect("equal")
    ax.set_title(title if title is not None else _name(da), fontsize=10)
    return ax


def _line(da: xr.DataArray, *, ax, title: str, **kw):
    shown = _for_display(da)
    (dim,) = shown.dims
    if dim in shown.coords and shown[dim].attrs.get("units"):
        shown[dim].attrs["units"] = display_units(shown[dim].attrs["units"])
    shown.plot.line(ax=ax, **kw)
    ax.set_ylabel(_label(_name(da), da.attrs.get("units")))
    ax.set_title(title, fontsize=10)
    return ax


# --------------------------------------------------------------------------- masks
def _label_names(ds: xr.Dataset | None, da: xr.DataArray) -> dict[int, str]:
    """Label value → name, from a JSON ``labels`` attribute (either orientation)."""
    raw = da.attrs.get("labels") or (ds.attrs.get("labels") if ds is not None else None)
    names: dict[int, str] = {}
    if raw:
        try:
            obj = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except (ValueError, TypeError):
            obj = {}
        for k, v in obj.items():
            try:
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    names[int(v)] = str(k)
                else:
                    names[int(k)] = str(v)
            except (TypeError, ValueError):
                continue
    flags = da.attrs.get("flag_meanings")
    if flags and not names:
        for item in str(flags).split(","):
            parts = item.strip().split(None, 1)
            if len(parts) == 2 and parts[0].lstrip("-").isdigit():
                names[int(parts[0])] = parts[1]
    return names


def _category_colours(n: int):
    plt = _plt()
    base = plt.get_cmap("tab10" if n <= 10 else "tab20").colors
    return [base[i % len(base)] for i in range(n)]


def plot_mask(
    ds: xr.Dataset | xr.DataArray,
    var: Hashable = "mask",
    *,
    image: Hashable | None = None,
    ax=None,
    title: str | None = None,
    yincrease: bool | None = False,
):
    """A label mask as categories: one discrete colour per label and a legend of their names.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        A ``mask`` Dataset (labels named by its JSON attribute ``labels``) or the mask itself.
    var : str
        The mask variable.
    image : str, optional
        A variable drawn in grey under the mask (the mask's labels then are translucent and
        the background transparent).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    title : str, optional
        The title.
    yincrease : bool or None
        Row direction (default: rows go down, as in an image).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in.
    """
    plt = _plt()
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    dset = ds if isinstance(ds, xr.Dataset) else None
    da = ds[var] if isinstance(ds, xr.Dataset) else ds
    if da.ndim != 2:
        raise ConfigError(f"plot_mask needs a 2-D mask, got dims {tuple(da.dims)}")
    ax = ax if ax is not None else plt.subplots(constrained_layout=True)[1]
    values = np.asarray(da.values)
    labels = np.unique(values[np.isfinite(values)] if values.dtype.kind == "f" else values)
    labels = labels.astype(int)
    names = _label_names(dset, da)
    colours = _category_colours(len(labels))
    background = (0.85, 0.85, 0.85, 1.0) if image is None else (0, 0, 0, 0)
    rgba = [
        background if v == 0 else (*colours[i][:3], 1.0 if image is None else 0.45)
        for i, v in enumerate(labels)
    ]
    bounds = np.concatenate([labels - 0.5, [labels[-1] + 0.5]]) if labels.size else [0, 1]
    cmap, norm = (
        ListedColormap(rgba, name="brim_categories"),
        BoundaryNorm(bounds, max(len(rgba), 1)),
    )
    if image is not None:
        plot_image(ds[image], ax=ax, cmap="gray", yincrease=yincrease, add_colorbar=True)
    plot_image(
        da.astype(float),
        ax=ax,
        cmap=cmap,
        norm=norm,
        yincrease=yincrease,
        add_colorbar=False,
        interpolation="nearest",
    )
    handles = [
        Patch(
            facecolor=rgba[i][:3] if image is None or v != 0 else "none",
            edgecolor="k",
            label=f"{v}: {names.get(int(v), 'background' if v == 0 else f'class {v}')}",
        )
        for i, v in enumerate(labels)
        if image is None or v != 0
    ]
    _legend(ax, handles, "labels", loc="upper right", size=8, alpha=0.8)
    ax.set_title(title or f"{_name(da)} ({len(labels)} labels)", fontsize=10)
    return ax


# --------------------------------------------------------------------------- kinds
def _thermogram(ds: xr.Dataset, da: xr.DataArray, ax, title: str, kw):
    from matplotlib.lines import Line2D

    kw.setdefault("cmap", "magma")
    if "vmin" not in kw and "vmax" not in kw and "norm" not in kw:
        # colour limits from the body (the cold background would flatten the breasts' contrast)
        v = np.asarray(da.values, dtype=float)
        body = ds.get("body_mask")
        inside = v[np.asarray(body.values) > 0] if body is not None and body.dims == da.dims else v
        inside = inside[np.isfinite(inside)]
        if inside.size:
            kw["vmin"], kw["vmax"] = (float(q) for q in np.percentile(inside, [0.5, 99.5]))
    plot_image(da, ax=ax, title=title, yincrease=False, **kw)
    shown = _for_display(da)
    ydim, xdim = _plane_dims(da)
    handles = []
    colours = iter(["#00e5ff", "#7CFC00", "#1e40ff", "#ff4fd8", "#ffffff"])
    for name in ds.data_vars:
        m = ds[name]
        if name == da.name or m.dims != da.dims or not str(name).endswith("mask"):
            continue
        mv = np.asarray(m.values)
        if mv.dtype.kind not in "biuf" or not np.any(mv):
            continue
        colour = next(colours, "#ffffff")
        for value in np.unique(mv[mv != 0]):
            ax.contour(
                shown[xdim].values if xdim in shown.coords else np.arange(mv.shape[1]),
                shown[ydim].values if ydim in shown.coords else np.arange(mv.shape[0]),
                (mv == value).astype(float).T if m.dims != (ydim, xdim) else (mv == value),
                levels=[0.5],
                colors=[colour],
                linewidths=1.0,
            )
        handles.append(Line2D([], [], color=colour, label=str(name).removesuffix("_mask")))
    _legend(ax, handles, "mask contours", loc="lower left", size=7, alpha=0.6)
    return ax


def _distances_mm(ds: xr.Dataset) -> np.ndarray | None:
    try:
        out: Any = 0.0  # a sum of (source, detector) arrays
        for axis in ("x", "y", "z"):
            s, d = ds.get(f"source_{axis}"), ds.get(f"detector_{axis}")
            if s is None and d is None:
                continue
            if s is None or d is None:
                return None
            fs = _LENGTH_TO_MM.get(s.attrs.get("units", "mm"), 1.0)
            fd = _LENGTH_TO_MM.get(d.attrs.get("units", "mm"), 1.0)
            out = (
                out
                + (
                    np.asarray(s.values, float)[:, None] * fs
                    - np.asarray(d.values, float)[None, :] * fd
                )
                ** 2
            )
        return np.sqrt(out) if np.ndim(out) == 2 else None
    except (KeyError, ValueError):
        return None


def _optical(ds: xr.Dataset, da: xr.DataArray, ax, sel_text: list[str]):
    rho = _distances_mm(ds)
    if rho is None or set(da.dims) - {"wavelength", "source", "detector"}:
        return None
    da = da.transpose(..., "source", "detector")
    series = (
        [da]
        if "wavelength" not in da.dims
        else [da.isel(wavelength=i) for i in range(da.sizes["wavelength"])]
    )
    colours = _plt().get_cmap("viridis")(np.linspace(0, 0.9, max(len(series), 1)))
    for s, c in zip(series, colours, strict=False):
        wl = s.coords.get("wavelength")
        lab = _coord_text(s, "wavelength", wl.values).split("= ")[-1] if wl is not None else None
        ax.plot(rho.ravel(), np.asarray(s.values).ravel(), "o", ms=3, color=c, label=lab)
    if da.attrs.get("units") != "rad" and np.nanmin(np.asarray(da.values)) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("source–detector distance [mm]")
    ax.set_ylabel(_label(_name(da), da.attrs.get("units")))
    if len(series) > 1 or series[0].coords.get("wavelength") is not None:
        ax.legend(title="wavelength", fontsize=8)
    which = "; ".join(sel_text) if sel_text else f"all {len(series)} wavelengths"
    ax.set_title(f"{_name(da)} vs source–detector distance ({which})", fontsize=10)
    return ax


def _registered_plotter(kind: str | None):
    if not kind:
        return None
    from importlib.metadata import entry_points

    for ep in entry_points(group="brim.plot"):
        if ep.name == kind:
            return ep.load()
    return None


# --------------------------------------------------------------------------- volumes
def _volume_outline(ds: xr.Dataset, d: xr.DataArray, picked: dict[str, int]):
    """The (z, y, x) mask of ``ds`` (a lesion ROI, DOT targets) on the volume ``d`` drawn, at
    the positions ``picked`` along the dims the volume was reduced over (a file's first scan),
    or None."""
    for n in ds.data_vars:
        m = ds[n]
        if not str(n).endswith("mask") or not {"z", "y", "x"} <= set(map(str, m.dims)):
            continue
        extra = [str(e) for e in m.dims if str(e) not in ("z", "y", "x")]
        if any(e not in picked for e in extra):
            continue
        m = m.isel({e: picked[e] for e in extra}).transpose(*d.dims)
        if dict(m.sizes) == dict(d.sizes):
            return m
    return None


def _contour(ax, s: xr.DataArray, m: xr.DataArray, xdim: str, ydim: str) -> None:
    """The outline of mask ``m`` over the image ``s`` (a 2-D slice) drawn in ``ax``."""
    mv = np.asarray(m.transpose(ydim, xdim).values) > 0
    if mv.any() and not mv.all():
        shown = _for_display(s)
        ax.contour(
            shown[xdim].values,
            shown[ydim].values,
            mv.astype(float),
            levels=[0.5],
            colors=["#00e5ff"],
            linewidths=0.8,
        )


def _volume_orthogonal(
    da: xr.DataArray, fig, title: str, label: str, kw, outline: xr.DataArray | None = None
):
    """Three orthogonal slices of a (z, y, x) volume through its maximum; ``outline`` (a
    (z, y, x) mask) drawn as a contour on each."""
    v = np.asarray(da.values, dtype=float)
    if not np.isfinite(v).any():
        raise ConfigError(f"{da.name!r} holds no finite value to plot")
    iz, iy, ix = np.unravel_index(int(np.nanargmax(v)), v.shape)
    finite = v[np.isfinite(v)]
    kw.setdefault("vmin", float(finite.min()))
    kw.setdefault("vmax", float(finite.max()))
    kw.setdefault("cmap", "magma")
    z_down = _is_depth(da, "z")
    axes = fig.subplots(1, 3)
    slices = (
        (da.isel(z=iz), "z", iz, None),
        (da.isel(y=iy).transpose("z", "x"), "y", iy, not z_down),
        (da.isel(x=ix).transpose("z", "y"), "x", ix, not z_down),
    )
    for ax, (s, dim, i, yinc) in zip(axes, slices, strict=True):
        t = f"{_coord_text(da, dim, da[dim].values[i])} (through the peak)"
        plot_image(s, ax=ax, title=t, add_colorbar=False, yincrease=yinc, **kw)
        if outline is not None:
            _contour(ax, s, outline.isel({dim: i}), *reversed(_plane_dims(s)))
    mappable = axes[0].images[0] if axes[0].images else axes[0].collections[0]
    fig.colorbar(mappable, ax=list(axes), label=label, shrink=0.8)
    if outline is not None:
        fig.text(0.01, 0.0, f"cyan contour: {outline.name}", fontsize=8, va="top")
    fig.suptitle(title, fontsize=11)
    return axes[0]


def _volume_depth_slices(
    da: xr.DataArray, title: str, label: str, kw, outline: xr.DataArray | None = None
):
    """One labelled panel per depth (z) of a (z, y, x) volume, on shared colour limits;
    ``outline`` (a (z, y, x) mask, e.g. the ultrasound lesion ROI) is drawn as a contour."""
    shown = _for_display(da)
    for d in ("x", "y"):
        shown[d].attrs["units"] = display_units(shown[d].attrs.get("units"))
    ncol = int(np.ceil(np.sqrt(da.sizes["z"])))
    kw.setdefault("cmap", "magma")
    # panels of the slices' shape (a 65 x 33 voxel slice in a square panel left a band of
    # white above and below each)
    span = [float(np.ptp(np.asarray(da[d].values, float))) for d in ("x", "y")]
    aspect = span[0] / span[1] if min(span) > 0 and np.isfinite(span).all() else 1.0
    g = shown.plot.imshow(
        x="x",
        y="y",
        col="z",
        col_wrap=ncol,
        size=2.2 / max(aspect, 1.0) ** 0.5,
        aspect=float(np.clip(aspect, 0.25, 4.0)),
        yincrease=True,
        cbar_kwargs={"label": label, "shrink": 0.8},
        **kw,
    )
    for i, (ax, zval) in enumerate(zip(g.axs.flat, da["z"].values, strict=False)):
        ax.set_title(_coord_text(da, "z", zval), fontsize=8)
        ax.set_aspect("equal")
        if outline is not None:
            _contour(ax, da.isel(z=i), outline.isel(z=i), "x", "y")
    if outline is not None:
        g.axs.flat[0].figure.text(0.01, 0.0, f"cyan contour: {outline.name}", fontsize=8, va="top")
    g.fig.suptitle(title, fontsize=11, y=1.0, va="bottom")
    return g.axs.flat[0]


# --------------------------------------------------------------------------- entry point
def _default_var(ds: xr.Dataset, kind: str | None) -> str:
    want = DEFAULT_VARIABLE.get(kind or "")
    if want and want in ds.data_vars:
        return want
    if kind == "field_set" and "total_field" in ds.data_vars:
        return "total_field"
    arrays = [n for n in ds.data_vars if ds[n].ndim >= 1]
    if not arrays:
        raise ConfigError("nothing to plot: the Dataset has no array variables")
    spatial = [n for n in arrays if {"y", "x"} <= set(map(str, ds[n].dims))]
    pool = spatial or arrays
    for name in _PREFERRED_MAPS:  # the headline quantity of a multi-map result
        if name in pool and ds[name].ndim == max(ds[n].ndim for n in pool):
            return name
    return str(max(pool, key=lambda n: (ds[n].ndim, -pool.index(n))))


def plot_variable(
    ds: xr.Dataset | xr.DataArray,
    var: Hashable | None = None,
    *,
    sel: Mapping[str, Any] | Sequence[str] | None = None,
    part: str | None = None,
    db: bool | None = None,
    layout: str = "auto",
    ax=None,
    **kw,
):
    """Draw one variable of a brim Dataset the way its kind asks (see the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        The data; ``attrs["brim_schema"]`` chooses the picture.
    var : str, optional
        Variable to show (default: the kind's main variable, e.g. ``temperature``).
    sel : mapping or sequence of ``"dim=value"``, optional
        Positions to select first (nearest coordinate value; see :func:`select`).
    part : {"real", "imag", "abs", "phase"}, optional
        Part of complex data (default: real and imaginary side by side for a complex map, the
        magnitude otherwise).
    db : bool, optional
        Show decibels (see :func:`to_db`). Default: on for radar intensity volumes,
        S-parameters and B-mode, off otherwise.
    layout : {"auto", "orthogonal", "slices"}
        For a 3-D (z, y, x) volume: three orthogonal slices through the peak, or one panel per
        depth (default: slices when ``z`` is a depth, orthogonal otherwise).
    ax : matplotlib.axes.Axes, optional
        Draw one panel into these axes (a volume then shows its slice through the peak, a
        complex map one part). Default: a new figure with as many panels as needed.
    **kw
        Passed on to xarray's plotting (``vmin``, ``vmax``, ``cmap``...).

    Returns
    -------
    matplotlib.axes.Axes
        The (first) axes; every panel is in ``ax.figure.axes``.

    Raises
    ------
    ConfigError
        Unknown variable or dimension (the message lists those that exist), a bad selection.

    Examples
    --------
    >>> import brim.data
    >>> ds = brim.data.sample("thermo_phantom_tumour")  # doctest: +SKIP
    >>> ax = ds.brim.plot("temperature")  # doctest: +SKIP
    """
    plt = _plt()
    if layout not in ("auto", "orthogonal", "slices"):
        raise ConfigError(f"layout must be auto, orthogonal or slices, got {layout!r}")
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "value")
        var = var or next(iter(ds.data_vars))
    from brim.schema import kind_of

    kind = kind_of(ds)
    if var is None:
        var = _default_var(ds, kind)
    if var not in ds.data_vars:
        have = ", ".join(f"{n} {tuple(ds[n].dims)}" for n in ds.data_vars) or "none"
        raise ConfigError(f"no data variable {var!r} to plot; the file has: {have}")
    sel = parse_selection(sel)
    plotter = _registered_plotter(kind)
    volume = {"z", "y", "x"} <= set(map(str, ds[var].dims))
    if plotter is not None and not (volume and layout != "auto"):
        # a modality's own picture (a radar image's peak slice) knows no volume layout: an
        # asked-for one (--layout orthogonal/slices) is drawn here, not silently ignored
        out = plotter(ds, var, sel=sel, part=part, db=db, ax=ax, **kw)
        if out is not None:
            return out
    da, sel_text = select(ds[var], sel)
    if da.ndim == 0:
        raise ConfigError(
            f"{var!r} is a single value ({da.values!r}) after the selection; nothing to plot"
        )
    if da.dtype.kind in "fc" and not np.isfinite(np.asarray(da.values)).any():
        raise ConfigError(
            f"{var!r} holds no finite value{' at ' + ', '.join(sel_text) if sel_text else ''} "
            f"(all NaN or inf); nothing to plot"
        )
    if da.dtype.kind not in "biufc":
        raise ConfigError(f"{var!r} holds {da.dtype} values, not numbers; nothing to plot")

    if kind == "optical_measurement" and var in ("amplitude", "phase"):
        ax = ax if ax is not None else plt.subplots(constrained_layout=True)[1]
        done = _optical(ds, da, ax, sel_text)
        if done is not None:
            return done

    # complex values: the part(s) to show, named honestly
    parts: list[str | None] | None = [part] if part else None
    if np.iscomplexobj(da.values):
        if parts is None:
            spatial = {"y", "x"} <= set(map(str, da.dims)) and da.ndim == 2
            parts = ["real", "imag"] if spatial and not db and ax is None else ["abs"]
    elif part not in (None, "real"):
        raise ConfigError(f"--part {part}: {var!r} is real-valued; only 'real' applies")
    if db is None:
        db = (kind == "sparameter_scan") or (
            kind == "reconstruction" and _is_power(da) and not np.iscomplexobj(da.values)
        )

    # reduce leading dims to one position (named in the title)
    auto_text = []
    picked: dict[str, int] = {}  # the first position taken along each reduced dim
    keep = {"z", "y", "x"} if {"z", "y", "x"} <= set(map(str, da.dims)) else set()
    while da.ndim > (3 if keep else 2):
        # reduce first what is a single position, then what has no coordinate (tx, antenna
        # index...), keeping physical axes (frequency, depth) on the picture
        dim = min(
            (str(d) for d in da.dims if str(d) not in keep),
            key=lambda d: (da.sizes[d] > 1, d in da.coords, list(da.dims).index(d)),
        )
        value = da[dim].values[0] if dim in da.coords else 0
        auto_text.append(
            (_coord_text(da, dim, value) if dim in da.coords else f"{dim} = 0")
            + f" (first of {da.sizes[dim]})"
        )
        picked[dim] = 0
        da = da.isel({dim: 0})
    # a plane one position thick (a curve stored on two dims, e.g. the focus criterion at one
    # antenna delay) is drawn as that curve, not as an empty image
    while da.ndim == 2 and not keep and 1 in da.shape:
        dim = next(str(d) for d in da.dims if da.sizes[d] == 1)
        auto_text.append(_coord_text(da, dim, da[dim].values[0]) if dim in da.coords else dim)
        da = da.isel({dim: 0})
    where = "; ".join(sel_text + auto_text)

    def values(d: xr.DataArray, p: str | None) -> tuple[xr.DataArray, str]:
        if p is not None and np.iscomplexobj(d.values):
            d = complex_part(d, p)
        if not db:
            d = _length_values(d)
        if db:
            d, how = to_db(d)
            return d, f"{_name(d)} [{d.attrs['units']}, {how}]"
        return d, _label(_name(d), d.attrs.get("units"))

    if da.ndim == 3:
        d, label = values(da, (parts or [None])[0])
        if db:
            kw.setdefault("vmin", -20.0 if _is_power(da) else -50.0)
        else:
            _fraction_limits(d, kw)
        title = f"{_name(d)}" + (f" — {where}" if where else "")
        if ax is not None:
            iz = np.unravel_index(int(np.nanargmax(np.asarray(d.values))), d.shape)[0]
            t = f"{title}; {_coord_text(d, 'z', d['z'].values[iz])} (through the peak)"
            kw.setdefault("cmap", "magma")
            return plot_image(d.isel(z=iz), ax=ax, title=t, label=label, **kw)
        use = layout
        if use == "auto":
            use = "slices" if _is_depth(da, "z") and da.sizes["z"] <= 36 else "orthogonal"
        if use == "slices":
            outline = _volume_outline(ds, d, picked)
            return _volume_depth_slices(d, f"{title} — depth slices", label, kw, outline)
        fig = plt.figure(figsize=(14, 4.6), constrained_layout=True)
        return _volume_orthogonal(d, fig, title, label, kw, _volume_outline(ds, d, picked))

    if da.ndim == 1:
        d, label = values(da, (parts or [None])[0])
        ax = ax if ax is not None else plt.subplots(constrained_layout=True)[1]
        return _line(d, ax=ax, title=_name(d) + (f" — {where}" if where else ""), **kw)

    # 2-D
    ydim, xdim = _plane_dims(da)
    plane = where or f"whole {ydim} × {xdim} plane"
    image_like = kind in _IMAGE_KINDS and not _is_depth(da, ydim)
    yinc = False if image_like or _is_depth(da, ydim) else True
    if kind in ("thermogram", "thermal_intensity") and var == DEFAULT_VARIABLE[kind]:
        size = _figsize(da) if _equal_aspect(da, *_plane_dims(da)) else (7, 4.6)
        ax = ax if ax is not None else plt.subplots(figsize=size, constrained_layout=True)[1]
        who = ", ".join(
            f"{k} {ds.attrs[k]}" for k in ("patient", "view", "date") if ds.attrs.get(k)
        )
        title = f"{_name(da)} — {plane}" + (f"\n{who}" if who else "")
        if kind == "thermal_intensity":
            kw.setdefault("cmap", "gray")
        d, label = values(da, None)
        kw.setdefault("label", label)
        return _thermogram(ds, d, ax, title, kw)
    if kind == "mask" and var == "mask" and da.dtype.kind in "biu":
        image = next(
            (
                n
                for n in ds.data_vars
                if n != var and ds[n].dims == ds[var].dims and ds[n].dtype.kind == "f"
            ),
            None,
        )
        size = _figsize(da) if _equal_aspect(da, *_plane_dims(da)) else (7, 4.6)
        ax = ax if ax is not None else plt.subplots(figsize=size, constrained_layout=True)[1]
        title = f"{_name(da)} — {plane}" + (f" over {image}" if image else "")
        return plot_mask(
            ds if not sel_text else da,
            var,
            image=image if not sel_text else None,
            ax=ax,
            title=title,
            yincrease=yinc,
        )
    if da.dtype.kind in "biu" and str(var).endswith("mask"):
        ax = ax if ax is not None else plt.subplots(constrained_layout=True)[1]
        return plot_mask(da, ax=ax, title=f"{_name(da)} — {plane}", yincrease=yinc)

    if kind == "strain_image" and var == "strain" and not db:
        pct = da * 100.0
        pct.attrs = dict(da.attrs, units="%")
        pct.attrs["long_name"] = f"{_name(da)} (negative = compression)"
        da = pct
        kw.setdefault("cmap", "cividis")

    panels = parts or [None]
    if ax is None:
        fig, axes = plt.subplots(
            1,
            len(panels),
            figsize=_figsize(da, len(panels)),
            constrained_layout=True,
            squeeze=False,
        )
        axes = list(axes.ravel())
    else:
        axes = [ax]
        panels = panels[:1]
    signed = lambda v: np.nanmin(v) < 0 < np.nanmax(v)  # noqa: E731
    for a, p in zip(axes, panels, strict=True):
        d, label = values(da, p)
        kwp = dict(kw)
        if not db:
            _fraction_limits(d, kwp)
        if "cmap" not in kwp:
            kwp["cmap"] = "gray" if signed(np.asarray(d.values, float)) and not db else "viridis"
            if "b-mode" in str(d.attrs.get("long_name", "")).lower():
                kwp["cmap"] = "gray"  # an ultrasound image (a registered B-mode...) is grey
            if kind == "reconstruction" and not signed(np.asarray(d.values, float)):
                kwp["cmap"] = "magma"
        if db and "vmin" not in kwp and d.attrs.get("units") == "dB re max":
            kwp["vmin"] = -20.0 if _is_power(da) else -50.0
        plot_image(d, ax=a, title=f"{_name(d)} — {plane}", label=label, yincrease=yinc, **kwp)
    return axes[0]
