"""Image-quality metrics for radar images, as MERIT defines them.

Definitions (O'Loughlin et al., MERIT toolbox, EuCAP 2018; the metrics of O'Loughlin et al. 2018,
Biomed. Phys. Eng. Express 4, 025036):

* **FWHM** of the tumour response: along each axis through the image maximum, the width (m) of
  the contiguous run of nodes whose intensity is at least half the maximum;
* the **tumour region** is the ellipsoid centred on the tumour location (the image maximum, or a
  given location) with the three FWHM widths as semi-axes;
* **signal-to-clutter ratio** SCR = 10 log10(max inside the tumour region / max outside), dB;
* **signal-to-mean ratio** SMR = 10 log10(max inside the tumour region / mean of the image), dB;
* **localisation error**: distance (m) from the image maximum to the known tumour centre.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim.deprecation import positional_options
from brim.errors import ConfigError

__all__ = ["ImageMetrics", "fwhm", "image_metrics", "localisation_error", "peak", "scr", "smr"]


def _image(img, var: str | None):
    if isinstance(img, xr.Dataset):
        if var is None:
            names = [str(n) for n in img.data_vars if {"x", "y"} <= set(img[n].dims)]
            if not names:
                raise ConfigError("image Dataset has no (y, x) or (z, y, x) variable")
            var = names[0]
        if var not in img.data_vars:
            have = [str(n) for n in img.data_vars]
            raise ConfigError(f"image Dataset has no variable {var!r}; it holds {have}")
        img = img[var]
    if not isinstance(img, xr.DataArray) or not {"x", "y"} <= set(img.dims):
        raise ConfigError("expected an image DataArray with x and y (and z) coordinates")
    if "z" not in img.dims:
        z = float(img.coords["z"]) if "z" in img.coords else float(img.attrs.get("plane_z_m", 0))
        img = img.expand_dims(z=[z])
    img = img.transpose("z", "y", "x")
    v = np.asarray(img.values, dtype=float)
    if not np.any(np.isfinite(v)):
        raise ConfigError("image has no finite values")
    axes = (img["x"].values, img["y"].values, img["z"].values)
    return v, axes


@positional_options
def peak(img, *, var: str | None = None) -> np.ndarray:
    """Position ``(x, y, z)`` in m of the image maximum.

    Parameters
    ----------
    img : xarray.DataArray or xarray.Dataset
        An image with ``x``, ``y`` (and ``z``) coordinates in m.
    var : str, optional
        The variable of a Dataset image; default: the first one with x and y dims.

    Returns
    -------
    ndarray (3,)
        ``(x, y, z)`` in m.
    """
    v, (x, y, z) = _image(img, var)
    iz, iy, ix = np.unravel_index(np.nanargmax(v), v.shape)
    return np.array([x[ix], y[iy], z[iz]], dtype=float)


def _run_width(line: np.ndarray, i: int) -> int:
    half = line[i] / 2
    lo = i
    while lo - 1 >= 0 and np.isfinite(line[lo - 1]) and line[lo - 1] >= half:
        lo -= 1
    hi = i
    while hi + 1 < line.size and np.isfinite(line[hi + 1]) and line[hi + 1] >= half:
        hi += 1
    return hi - lo + 1


@positional_options
def fwhm(img: xr.DataArray | xr.Dataset, *, var: str | None = None) -> np.ndarray:
    """Full widths at half maximum (m) along x, y, z through the image maximum.

    A width is the number of contiguous nodes >= half the maximum times the grid step (0 along an
    axis of length 1).

    Parameters
    ----------
    img, var
        As in :func:`peak` (the image, the variable of a Dataset).

    Returns
    -------
    ndarray (3,)
        Widths along x, y and z in m.

    Examples
    --------
    >>> from brim.microwave import fwhm
    >>> import numpy as np
    >>> import xarray as xr
    >>> x = np.arange(7) * 0.005  # 7 nodes, 5 mm apart
    >>> p = np.array([0, 1, 3, 4, 3, 1, 0.0])  # a separable peak at the centre
    >>> img = xr.DataArray(np.outer(p, p), dims=("y", "x"), coords={"x": x, "y": x})
    >>> fwhm(img).round(4).tolist()  # 3 nodes >= half maximum along x and y; a 2-D image
    [0.015, 0.015, 0.0]
    """
    v, axes = _image(img, var)
    iz, iy, ix = np.unravel_index(np.nanargmax(v), v.shape)
    lines = (v[iz, iy, :], v[iz, :, ix], v[:, iy, ix])
    idx = (ix, iy, iz)
    out = []
    for line, i, ax in zip(lines, idx, axes, strict=True):
        if ax.size < 2:
            out.append(0.0)
            continue
        out.append(_run_width(line, int(i)) * float(np.abs(ax[1] - ax[0])))
    return np.array(out)


def _region(v, axes, loc, widths):
    x, y, z = axes
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    d = np.zeros(v.shape)
    for c, w, k in zip((xx, yy, zz), widths, range(3), strict=True):
        if w > 0:
            d += ((c - loc[k]) / w) ** 2
        else:
            d += np.where(np.isclose(c, loc[k]), 0.0, np.inf)
    return (d <= 1) & np.isfinite(v)


def _tumour_region(img, location, var):
    """The image values ``(z, y, x)`` and the mask of MERIT's tumour region (the FWHM ellipsoid
    around ``location``, default the image maximum)."""
    v, axes = _image(img, var)
    loc = peak(img, var=var) if location is None else target_position(location)
    return v, _region(v, axes, loc, fwhm(img, var=var))


@positional_options
def scr(
    img: xr.DataArray | xr.Dataset, *, location: ArrayLike | None = None, var: str | None = None
) -> float:
    """Signal-to-clutter ratio in dB (MERIT): tumour-region max over the max outside it.

    The tumour region is the FWHM box around ``location`` (O'Loughlin et al. 2018, MERIT).

    Parameters
    ----------
    img : xarray.DataArray or xarray.Dataset
        An image with ``x``, ``y`` (and ``z``) coordinates in m.
    location : (3,) array, optional
        Centre of the tumour region ``(x, y, z)`` in m; default: the image maximum.
    var : str, optional
        The variable of a Dataset image; default: the first one with x and y dims.

    Returns
    -------
    float
        SCR in dB (0 when the region or its outside is empty).

    Examples
    --------
    >>> from brim.microwave import scr
    >>> import numpy as np
    >>> import xarray as xr
    >>> x = np.round(np.arange(-5, 6) * 0.005, 3)  # 11 nodes, 5 mm apart
    >>> xx, yy = np.meshgrid(x, x)
    >>> v = np.exp(-(xx**2 + yy**2) / (2 * 0.005**2))  # a blob at the centre
    >>> v[0, 0] = 0.1  # clutter, 10 dB below the peak
    >>> img = xr.DataArray(v, dims=("y", "x"), coords={"x": x, "y": x})
    >>> round(scr(img), 2)
    10.0
    """
    v, reg = _tumour_region(img, location, var)
    outside = ~reg & np.isfinite(v)
    if not reg.any() or not outside.any():
        return 0.0
    return float(10 * np.log10(np.nanmax(v[reg]) / np.nanmax(v[outside])))


@positional_options
def smr(
    img: xr.DataArray | xr.Dataset, *, location: ArrayLike | None = None, var: str | None = None
) -> float:
    """Signal-to-mean ratio in dB (MERIT): tumour-region max over the mean of the image.

    Parameters
    ----------
    img, location, var
        As in :func:`scr` (the image, the centre of the tumour region, the variable).

    Returns
    -------
    float
        SMR in dB (0 when the region is empty).

    Examples
    --------
    >>> from brim.microwave import smr
    >>> import numpy as np
    >>> import xarray as xr
    >>> v = np.ones((5, 5))
    >>> v[2, 2] = 10.0  # one bright node over a flat background: mean 34 / 25
    >>> x = np.arange(5) * 0.005
    >>> round(smr(xr.DataArray(v, dims=("y", "x"), coords={"x": x, "y": x})), 2)  # 10 / 1.36
    8.66
    """
    v, reg = _tumour_region(img, location, var)
    if not reg.any():
        return 0.0
    return float(10 * np.log10(np.nanmax(v[reg]) / np.nanmean(v)))


@positional_options
def localisation_error(img, target, *, var: str | None = None) -> float:
    """Distance (m) between the image maximum and the known target position ``(x, y, z)`` m.

    Parameters
    ----------
    img : xarray.DataArray or xarray.Dataset
        An image with ``x``, ``y`` (and ``z``) coordinates in m.
    target : (3,) array
        The true target position ``(x, y, z)`` in m.
    var : str, optional
        The variable of a Dataset image; default: the first one with x and y dims.

    Returns
    -------
    float
        The distance in m.
    """
    return float(np.linalg.norm(peak(img, var=var) - target_position(target)))


def target_position(target) -> np.ndarray:
    """A known target position as a float array ``(x, y, z)`` m, or ConfigError.

    Parameters
    ----------
    target : sequence of 3 floats
        ``(x, y, z)`` in m.

    Returns
    -------
    ndarray (3,)
        The position, float.
    """
    try:
        t = np.asarray(target, dtype=float)
    except (TypeError, ValueError):
        t = np.full(1, np.nan)  # a string such as "0.015,0,0.035" or another object
    if t.shape != (3,) or not np.all(np.isfinite(t)):
        raise ConfigError(f"target must be three finite coordinates (x, y, z) in m, got {target!r}")
    return t


@dataclass
class ImageMetrics:
    """Metrics of one image (lengths in m, ratios in dB).

    Attributes
    ----------
    peak_m : tuple of 3 floats
        Position of the image maximum ``(x, y, z)`` in m.
    fwhm_m : tuple of 3 floats
        Full widths at half maximum along x, y, z in m.
    scr_db, smr_db : float
        Signal-to-clutter and signal-to-mean ratios in dB.
    localisation_error_m : float or None
        Distance from the maximum to the known target in m (None without a target).
    """

    peak_m: tuple
    fwhm_m: tuple
    scr_db: float
    smr_db: float
    localisation_error_m: float | None = None

    def as_dict(self) -> dict:
        """The metrics as a plain dict (field name -> value).

        Returns
        -------
        dict
            ``peak_m`` and ``fwhm_m`` as 3-tuples in m, the two ratios in dB and
            ``localisation_error_m`` in m (or None).
        """
        return asdict(self)


@positional_options
def image_metrics(
    img: xr.DataArray | xr.Dataset, *, target: ArrayLike | None = None, var: str | None = None
) -> ImageMetrics:
    """All MERIT metrics of an image: SCR, SMR, FWHM and localisation error (MERIT toolbox).

    The tumour region is centred on the image maximum (as in MERIT when no location is given);
    ``target`` only sets the localisation error.

    Parameters
    ----------
    img, var
        As in :func:`peak` (the image, the variable of a Dataset).
    target : (3,) array, optional
        The true target position ``(x, y, z)`` in m.

    Returns
    -------
    ImageMetrics
        Peak, FWHM, SCR, SMR and (with ``target``) localisation error.

    References
    ----------
    O'Loughlin D et al. (2018). The MERIT toolbox for microwave radar-based imaging. Proc. 12th
    European Conference on Antennas and Propagation (EuCAP).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brim.microwave.radar import image_metrics
    >>> x = np.linspace(-0.02, 0.02, 41)
    >>> v = np.exp(-((x[None, :] - 0.005) ** 2 + x[:, None] ** 2) / 2e-5)[None]
    >>> img = xr.DataArray(v, dims=("z", "y", "x"), coords={"z": [0.0], "y": x, "x": x})
    >>> m = image_metrics(img, target=(0.005, 0.0, 0.0))
    >>> [round(c, 4) for c in m.peak_m], round(m.localisation_error_m, 6)
    ([0.005, 0.0, 0.0], 0.0)
    """
    p = peak(img, var=var)
    return ImageMetrics(
        peak_m=tuple(float(a) for a in p),
        fwhm_m=tuple(float(a) for a in fwhm(img, var=var)),
        scr_db=scr(img, var=var),
        smr_db=smr(img, var=var),
        localisation_error_m=(None if target is None else localisation_error(img, target, var=var)),
    )
