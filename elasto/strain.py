"""Axial strain from displacement, and the numbers read from a strain image.

Least-squares strain estimation (Kallel & Ophir, "A least-squares strain estimator for
elastography", Ultrasonic Imaging 19:195-208, 1997): the strain at a window is the slope of a
straight line fitted to ``kernel`` consecutive displacement estimates along depth. Before the
fit, :func:`strain_image` takes a 3 x 3 (depth x line) median of the axial displacement by
default: independent block matching (NCC) leaves line-to-line speckle jitter that the axial fit
alone turns into vertical streaks, and the median also rejects isolated peak-hopping outliers.
On decorrelated simulated pairs it raises the CNRe of an inclusion by 3-4 dB (issue 22; see
``benchmarks/RESULTS.md``).

Elastographic signal-to-noise and contrast-to-noise ratios (Varghese & Ophir, "An analysis of
elastographic contrast-to-noise ratio", Ultrasound Med. Biol. 24:915-924, 1998):
``SNRe = m / s`` in a uniform region; ``CNRe = 2 (m_t - m_b)**2 / (s_t**2 + s_b**2)`` between
target and background (also given in dB as 10 log10).

Strain ratio (e.g. Thomas et al., Ultraschall Med. 31:370, 2010): mean ``|strain|`` of a reference
region in fat divided by mean ``|strain|`` of the lesion; > 1 for a lesion stiffer than fat.

Elasticity (Tsukuba) score: Itoh A, Ueno E, Tohno E, et al., "Breast disease: clinical
application of US elastography for diagnosis", Radiology 239(2):341-350, 2006.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy.ndimage import binary_dilation, binary_erosion, convolve1d

from brim import provenance
from brim.deprecation import renamed_names
from brim.errors import ConfigError, SchemaError, warn
from brim.schema import stamp

from ._checks import image_var

logger = logging.getLogger(__name__)

# strain_image warns when more than MAX_UNRELIABLE_FRACTION of the strain estimates are invalid
# (NaN) or rest on a displacement whose correlation (the estimator's NCC peak) is under
# MIN_CORRELATION. At a correlation of 0.7 the speckle decorrelation factor of the time-delay
# jitter, sqrt(1/rho^2 - 1) (Walker & Trahey, IEEE TUFFC 42:301, 1995), reaches 1, and false
# peaks (peak hopping) become frequent. With a fraction f of outlier displacements, a strain
# estimate of the default 9-point least-squares kernel is free of outliers with probability
# (1 - f)^9: 13 % at f = 20 %, so most of such a strain image is made of outliers. (The
# bundled phantom pair has 3 %, the Field II pairs 0.2 % at 1 % and 9-14 % at 2 % compression.)
MIN_CORRELATION = 0.7
MAX_UNRELIABLE_FRACTION = 0.20

__all__ = [
    "StrainRoi",
    "cnr_e",
    "elasticity_score",
    "least_squares_strain",
    "roi_mask",
    "snr_e",
    "strain_image",
    "strain_ratio",
    "StrainRatio",
]


def least_squares_strain(
    displacement: ArrayLike, *, kernel: int = 9, spacing: float = 1.0, axis: int = 0
) -> np.ndarray:
    """Least-squares axial strain: slope of a line fitted over ``kernel`` points along ``axis``.

    Parameters
    ----------
    displacement : array
        Axial displacement, in the same length unit as ``spacing``.
    kernel : int
        Odd number of points per fit (>= 3).
    spacing : float
        Distance between neighbouring displacement estimates (same unit as the displacement).

    Returns
    -------
    numpy.ndarray
        Strain (dimensionless, d u / d z); NaN within ``kernel // 2`` of the ends.

    Examples
    --------
    >>> import numpy as np
    >>> u = -0.02 * np.arange(30.0)  # displacement every 1 sample: 2 % compression
    >>> eps = least_squares_strain(u, kernel=5)
    >>> bool(np.isnan(eps[:2]).all()), float(np.round(eps[10], 12))
    (True, -0.02)
    """
    if (
        isinstance(kernel, bool)
        or not isinstance(kernel, (int, np.integer))
        or kernel < 3
        or kernel % 2 == 0
    ):
        raise ConfigError(f"kernel must be an odd integer >= 3, got {kernel!r}")
    d = np.asarray(displacement, float)
    if d.ndim and not -d.ndim <= axis < d.ndim:
        raise ConfigError(f"axis {axis} is out of range for a {d.ndim}-D displacement")
    if d.ndim and d.shape[axis] < kernel:  # every fit would reach past an end: all NaN
        raise ConfigError(
            f"kernel of {kernel} points is longer than the {d.shape[axis]} displacement "
            "estimates along the axis; use a smaller kernel"
        )
    k = np.arange(kernel) - kernel // 2
    weights = k / (np.sum(k * k) * spacing)
    # convolve1d flips the kernel: pass it reversed so the result is sum(w_k * d[i + k]).
    # A NaN anywhere in the fit window makes the result NaN (w_k * NaN is NaN, also for the
    # centre weight 0); +-inf inputs are rejected so that this holds.
    if np.isinf(d).any():
        raise ConfigError("displacement contains infinite values; use NaN for invalid estimates")
    out = convolve1d(d, weights[::-1], axis=axis, mode="nearest")
    h = kernel // 2
    sl = [slice(None)] * d.ndim
    sl[axis] = slice(0, h)
    out[tuple(sl)] = np.nan
    sl[axis] = slice(d.shape[axis] - h, None)
    out[tuple(sl)] = np.nan
    return out


@provenance.step
def strain_image(
    displacement: xr.Dataset, *, kernel: int = 9, median: int | None = 3
) -> xr.Dataset:
    """Axial strain image from :func:`brim.elasto.displacement.estimate_displacement` output.

    Parameters
    ----------
    displacement : xarray.Dataset
        Output of :func:`~brim.elasto.estimate_displacement` (``axial_samples``, ``row``,
        ``correlation`` on (depth, line)).
    kernel : int
        Length (windows) of the least-squares strain fit (:func:`least_squares_strain`).
    median : int or None
        Size (windows, odd) of the ``median x median`` (depth x line) median filter applied to
        the axial displacement before the fit; None or 1: no filter (the default before issue 22).
        NaN displacements are ignored by the median (and stay NaN).

    Returns
    -------
    xarray.Dataset
        ``strain`` (1, signed d u_z / d z: negative under compression) and ``correlation``
        on ``(depth, line)``; tagged with the ``strain_image`` brim schema when the depth and
        line coordinates are in metres (RF data with acquisition parameters).

    Examples
    --------
    A displacement growing by 1 % of the depth is a uniform strain of -1 %:

    >>> import numpy as np, xarray as xr
    >>> rows = np.arange(20, 400, 10)
    >>> u = -0.01 * rows[:, None] * np.ones((1, 8))  # axial displacement in samples
    >>> disp = xr.Dataset(
    ...     {"axial_samples": (("depth", "line"), u),
    ...      "correlation": (("depth", "line"), np.ones_like(u))},
    ...     coords={"depth": rows.astype(float), "line": np.arange(8.0), "row": ("depth", rows)})
    >>> strain = strain_image(disp, kernel=9)
    >>> strain.strain.dims, float(np.nanmedian(strain.strain))  # NaN within kernel // 2 of the ends
    (('depth', 'line'), -0.01)
    """
    axial, corr = (
        image_var(
            displacement, name, ("depth", "line"), arg="displacement", kind="displacement",
            builder="brim.elasto.estimate_displacement",
        )
        for name in ("axial_samples", "correlation")
    )  # fmt: skip
    if "row" not in displacement.coords:
        raise SchemaError(
            "displacement: no 'row' coordinate (the RF sample of each window centre, on depth); "
            "pass the Dataset brim.elasto.estimate_displacement returned"
        )
    ax = axial.values
    if median is not None:
        if isinstance(median, bool) or not isinstance(median, (int, np.integer)) or median < 1:
            raise ConfigError(f"median must be an odd positive integer or None, got {median!r}")
        if median % 2 == 0:
            raise ConfigError(f"median must be odd (centred window), got {median}")
        if median > 1:
            ax = np.ascontiguousarray(ax, float)
            if median == 3 and np.isfinite(ax).all():
                ax = _median_3x3(ax)
            else:
                ax = _median_finite(ax, int(median), int(median))
    rows = displacement["row"].values
    step = float(rows[1] - rows[0]) if rows.size > 1 else 1.0
    eps = least_squares_strain(ax, kernel=kernel, spacing=step)
    ds = xr.Dataset(
        {
            "strain": (("depth", "line"), eps, {"units": "1", "long_name": "axial strain"}),
            "correlation": corr,
        },
        coords=displacement.coords,
        attrs={"method": displacement.attrs.get("method", "")},
    )
    _warn_unreliable(eps, corr.values, kernel // 2)
    if ds["depth"].attrs.get("units") == "m":  # the brim schema needs physical coordinates
        ds = stamp(ds, "strain_image")
    return ds  # @provenance.step appends this step to the displacement's chain


@numba.njit(cache=True)
def _median_3x3(ax):  # pragma: no cover - jit
    """3 x 3 median of a finite (depth, line) array, edges replicated: each column triple is
    sorted once, and the median of the nine is the median of (the largest minimum, the median
    of the medians, the smallest maximum) of three neighbouring sorted triples (Paeth, Graphics
    Gems, 1990)."""
    nz, nx = ax.shape
    out = np.empty_like(ax)
    lo = np.empty(nx + 2)
    mi = np.empty(nx + 2)
    hi = np.empty(nx + 2)
    for i in range(nz):
        a_row = ax[max(i - 1, 0)]
        b_row = ax[i]
        c_row = ax[min(i + 1, nz - 1)]
        for j in range(nx + 2):
            jj = min(max(j - 1, 0), nx - 1)
            a, b, c = a_row[jj], b_row[jj], c_row[jj]
            if a > b:
                a, b = b, a
            if b > c:
                b, c = c, b
            if a > b:
                a, b = b, a
            lo[j], mi[j], hi[j] = a, b, c
        for j in range(nx):
            p = max(lo[j], max(lo[j + 1], lo[j + 2]))
            r = min(hi[j], min(hi[j + 1], hi[j + 2]))
            x, y, z = mi[j], mi[j + 1], mi[j + 2]
            q = max(min(x, y), min(max(x, y), z))
            out[i, j] = max(min(p, q), min(max(p, q), r))
    return out


@numba.njit(cache=True)
def _median_finite(x, rows, cols):  # pragma: no cover - jit
    """``rows x cols`` median of a (depth, line) array, edges replicated (as scipy's
    ``median_filter(mode="nearest")``); NaNs are left out of their neighbours' medians and
    stay NaN. Also GLUE's seed smoother (:mod:`brim.elasto.glue`)."""
    nz, nx = x.shape
    hz, hx = rows // 2, cols // 2
    out = np.empty_like(x)
    buf = np.empty(rows * cols)
    for i in range(nz):
        for j in range(nx):
            if not np.isfinite(x[i, j]):
                out[i, j] = np.nan
                continue
            n = 0
            for di in range(-hz, hz + 1):
                ii = min(max(i + di, 0), nz - 1)
                for dj in range(-hx, hx + 1):
                    val = x[ii, min(max(j + dj, 0), nx - 1)]
                    if not np.isfinite(val):
                        continue
                    m = n
                    while m > 0 and buf[m - 1] > val:  # insertion sort
                        buf[m] = buf[m - 1]
                        m -= 1
                    buf[m] = val
                    n += 1
            out[i, j] = buf[n // 2] if n % 2 else 0.5 * (buf[n // 2 - 1] + buf[n // 2])
    return out


def _warn_unreliable(strain: np.ndarray, correlation: np.ndarray, edge: int) -> None:
    """Warn (BrimWarning) when too many strain estimates are invalid or poorly correlated."""
    rows = slice(edge, strain.shape[0] - edge)  # the kernel's half-width rows are NaN by design
    eps, cc = strain[rows], np.asarray(correlation, float)[rows]
    if eps.size == 0:
        return
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(eps) | ~(cc >= MIN_CORRELATION)
    frac = float(bad.mean())
    logger.debug("strain_image: %.1f %% unreliable estimates", 100 * frac)
    if frac > MAX_UNRELIABLE_FRACTION:
        warn(
            f"{100 * frac:.0f} % of the strain estimates are invalid or rest on a displacement "
            f"correlation < {MIN_CORRELATION} (more than {100 * MAX_UNRELIABLE_FRACTION:.0f} %): "
            "the frames decorrelate (too much compression, motion, or unrelated frames); try "
            "method='dp' or a smaller compression"
        )


@dataclass(frozen=True)
class StrainRoi:
    """A rectangular or circular region of interest in the image's coordinate units (m).

    (Not to be confused with :class:`brim.fusion.LesionRoi`, the 3-D lesion ellipsoid of
    US-guided optical tomography.)

    Parameters
    ----------
    bounds : tuple of float
        ``shape="rect"``: ``(depth0, depth1, line0, line1)``; ``shape="circle"``:
        ``(depth_centre, line_centre, radius)``; in m for images in m.
    shape : {"rect", "circle"}
        The region's shape.

    Examples
    --------
    >>> StrainRoi((0.012, 0.018, 0.007, 0.013)).shape
    'rect'
    """

    bounds: tuple[float, ...]
    shape: str = "rect"

    def __post_init__(self) -> None:
        n = {"rect": 4, "circle": 3}.get(self.shape)
        if n is None:
            raise ConfigError(f"StrainRoi shape {self.shape!r} unknown; use 'rect' or 'circle'")
        if len(self.bounds) != n:
            raise ConfigError(
                f"a {self.shape} StrainRoi needs {n} bounds "
                f"({'depth0, depth1, line0, line1' if n == 4 else 'depth, line, radius'}), "
                f"got {len(self.bounds)}"
            )

    @classmethod
    def parse(cls, text: str) -> StrainRoi:
        """Parse ``"rect:z0,z1,x0,x1"`` or ``"circle:zc,xc,r"`` (numbers in the image's units).

        Parameters
        ----------
        text : str
            The ROI; without a ``kind:`` prefix it is a rectangle.

        Returns
        -------
        StrainRoi
            The region.

        Examples
        --------
        >>> StrainRoi.parse("circle:0.015,0.01,0.002")
        StrainRoi(bounds=(0.015, 0.01, 0.002), shape='circle')
        """
        kind, _, nums = text.partition(":")
        if not nums:
            kind, nums = "rect", kind
        try:
            vals = tuple(float(v) for v in nums.split(","))
        except ValueError:
            msg = f"cannot parse ROI {text!r}; use rect:z0,z1,x0,x1 or circle:zc,xc,r"
            raise ConfigError(msg) from None
        if (kind == "rect" and len(vals) != 4) or (kind == "circle" and len(vals) != 3):
            raise ConfigError(f"ROI {text!r}: rect needs 4 numbers, circle 3")
        if kind not in ("rect", "circle"):
            raise ConfigError(f"ROI kind {kind!r} unknown; use rect or circle")
        if not all(np.isfinite(vals)):
            raise ConfigError(f"ROI {text!r}: every number must be finite")
        if kind == "circle" and not vals[2] > 0:
            raise ConfigError(f"ROI {text!r}: the circle's radius must be > 0, got {vals[2]:g}")
        return cls(vals, kind)


def roi_mask(image: xr.DataArray | xr.Dataset, roi: StrainRoi, *, arg: str = "roi") -> np.ndarray:
    """Boolean mask (depth, line) of ``roi`` on the image grid.

    Parameters
    ----------
    image : xarray.DataArray or xarray.Dataset
        Anything with ``depth`` and ``line`` coordinates (in the ROI's units).
    roi : StrainRoi
        The region.
    arg : str
        The ROI's argument name, for the messages.

    Returns
    -------
    numpy.ndarray
        Boolean (depth, line).

    Raises
    ------
    ConfigError
        ``roi`` is not a StrainRoi, or holds no pixel of the image.
    """
    if not isinstance(roi, StrainRoi):
        raise ConfigError(
            f"{arg} must be a StrainRoi, e.g. StrainRoi((depth0, depth1, line0, line1)) in m "
            f"or StrainRoi.parse('rect:z0,z1,x0,x1'); got {type(roi).__name__}"
        )
    z = image["depth"].values[:, None]
    x = image["line"].values[None, :]
    if roi.shape == "rect":
        z0, z1, x0, x1 = roi.bounds
        m = (z >= min(z0, z1)) & (z <= max(z0, z1)) & (x >= min(x0, x1)) & (x <= max(x0, x1))
    else:
        zc, xc, r = roi.bounds
        m = (z - zc) ** 2 + (x - xc) ** 2 <= r * r
    if not m.any():
        units = image["depth"].attrs.get("units", "")
        raise ConfigError(
            f"ROI {roi.shape}:{','.join(f'{v:g}' for v in roi.bounds)} ({units or 'image units'}) "
            f"contains no pixel of the image, which spans depth {z.min():g} to {z.max():g} and "
            f"line {x.min():g} to {x.max():g} {units}".rstrip()
        )
    return m


# renamed: one release of grace (warned at the user's line, also through brim.elasto's lazy
# __getattr__)
__getattr__ = renamed_names(
    __name__,
    {
        "Roi": (
            StrainRoi,
            "brim.elasto.strain.Roi is renamed StrainRoi; the old name will be removed in the "
            "next release",
        )
    },
)


@dataclass(frozen=True)
class StrainRatio:
    """Strain ratio and the statistics it came from."""

    ratio: float
    lesion_mean: float
    reference_mean: float
    lesion_pixels: int
    reference_pixels: int


def _strain(strain: xr.Dataset) -> xr.DataArray:
    """The ``strain`` of a strain image on (depth, line), or SchemaError (see image_var)."""
    return image_var(
        strain, "strain", ("depth", "line"), arg="strain", kind="strain_image",
        builder="brim.elasto.strain_image",
    )  # fmt: skip


def strain_ratio(strain: xr.Dataset, lesion: StrainRoi, reference: StrainRoi) -> StrainRatio:
    """Strain ratio: mean ``|strain|`` in the reference (fat) ROI over that in the lesion ROI.

    Parameters
    ----------
    strain : xarray.Dataset
        ``strain`` on (depth, line), as from :func:`strain_image`.
    lesion, reference : StrainRoi
        The lesion and the reference (fat) regions, in the coordinates' units (m).

    Returns
    -------
    StrainRatio
        The ratio (about the lesion's stiffness relative to fat; > 1: stiffer) and the means and
        pixel counts it came from.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> z = np.linspace(0, 0.02, 41)
    >>> x = np.linspace(0, 0.02, 41)
    >>> eps = np.full((41, 41), -0.01)
    >>> eps[15:26, 15:26] = -0.0025  # a lesion 4x stiffer than its surroundings
    >>> strain = xr.Dataset({"strain": (("depth", "line"), eps)}, coords={"depth": z, "line": x})
    >>> r = strain_ratio(strain, StrainRoi((0.008, 0.012, 0.008, 0.012)),
    ...                  StrainRoi((0.001, 0.004, 0.001, 0.004)))
    >>> round(r.ratio, 3)
    4.0
    """
    eps = np.abs(_strain(strain).values)
    ml = roi_mask(strain, lesion, arg="lesion") & np.isfinite(eps)
    mr = roi_mask(strain, reference, arg="reference") & np.isfinite(eps)
    if not ml.any() or not mr.any():
        raise ConfigError("an ROI holds only invalid (NaN) strain values")
    el, er = float(eps[ml].mean()), float(eps[mr].mean())
    if el <= 0:
        raise ConfigError("the lesion ROI has zero mean strain; the ratio is undefined")
    return StrainRatio(er / el, el, er, int(ml.sum()), int(mr.sum()))


def _finite(values: ArrayLike, arg: str) -> np.ndarray:
    """The finite values of ``values`` as float64; ConfigError unless at least 2 (the sample
    standard deviation needs them: an empty or all-NaN region was NaN and 5 RuntimeWarnings)."""
    if isinstance(values, (xr.Dataset, str)):
        raise ConfigError(
            f"{arg} must be strain values (an array), got {type(values).__name__}; e.g. "
            "strain['strain'].values[mask]"
        )
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        raise ConfigError(f"{arg} holds {v.size} finite value(s); the statistic needs >= 2")
    return v


def snr_e(values: ArrayLike) -> float:
    """Elastographic SNR = mean / standard deviation of strain in a uniform region.

    Parameters
    ----------
    values : array_like
        Strain values of the region (NaN ignored).

    Returns
    -------
    float
        ``|mean| / std`` (sample standard deviation).

    Examples
    --------
    >>> snr_e([0.009, 0.010, 0.011])
    10.0
    """
    v = _finite(values, "values")
    return float(abs(v.mean()) / v.std(ddof=1))


def cnr_e(target: ArrayLike, background: ArrayLike, *, db: bool = False) -> float:
    """Elastographic CNR = 2 (m_t - m_b)^2 / (s_t^2 + s_b^2) (Varghese & Ophir 1998).

    Parameters
    ----------
    target, background : array_like
        Strain values of the two regions (NaN ignored).
    db : bool
        Return ``10 log10(CNR)`` instead.

    Returns
    -------
    float
        The contrast-to-noise ratio (linear, or dB with ``db``).

    References
    ----------
    T. Varghese, J. Ophir, "An analysis of elastographic contrast-to-noise ratio", Ultrasound
    Med. Biol. 24(6):915-924, 1998.

    Examples
    --------
    >>> cnr_e([1.0, 2.0, 3.0], [11.0, 12.0, 13.0])
    100.0
    """
    t, b = _finite(target, "target"), _finite(background, "background")
    c = 2 * (t.mean() - b.mean()) ** 2 / (t.var(ddof=1) + b.var(ddof=1))
    return float(10 * np.log10(c)) if db else float(c)


def elasticity_score(
    strain: xr.Dataset,
    lesion: StrainRoi,
    *,
    threshold: float = 0.5,
    rim_fraction: float = 0.5,
) -> int:
    """5-point elasticity (Tsukuba) score from the strain pattern, after Itoh et al. 2006.

    Itoh's definitions (colour: strain displayed relative to the average strain of the image):
    1 = even strain in the whole hypoechoic lesion; 2 = strain in most of the lesion with some
    areas of no strain (mosaic); 3 = strain only at the lesion periphery, sparing the centre;
    4 = no strain in the entire lesion; 5 = no strain in the lesion nor in the surrounding area.

    Operationalisation (ours, not Itoh's; Itoh scored visually): a pixel has "no strain" when
    ``|strain| < threshold x median |strain|`` of the whole image. With f_l the no-strain fraction
    in the lesion, f_c in its core (lesion eroded by ``rim_fraction`` of its radius), f_r in the rim
    and f_s in a surrounding band as wide as the rim: 5 if f_l >= 0.8 and f_s >= 0.5; 4 if
    f_l >= 0.8; 3 if f_c >= 0.6 and f_r < 0.4; 2 if f_l >= 0.2; else 1.

    Parameters
    ----------
    strain : xarray.Dataset
        ``strain`` on (depth, line), as from :func:`strain_image`.
    lesion : StrainRoi
        The lesion region (coordinates' units, m).
    threshold : float
        "No strain" below this fraction of the image's median ``|strain|``.
    rim_fraction : float
        Rim width as a fraction of the lesion's equivalent radius.

    Returns
    -------
    int
        The score, 1 (soft) .. 5 (hard, surroundings included).

    References
    ----------
    A. Itoh, E. Ueno, E. Tohno, et al., "Breast disease: clinical application of US
    elastography for diagnosis", Radiology 239(2):341-350, 2006.

    Examples
    --------
    A 5 mm lesion with a quarter of the image's 1 % strain scores 4 (no strain in the whole
    lesion); stiffen a 2.5 mm band around it as well and it scores 5:

    >>> import numpy as np, xarray as xr
    >>> mm = np.arange(41) * 0.5e-3  # a 20 mm square image on a 0.5 mm grid
    >>> hard = np.full((41, 41), -0.01)
    >>> hard[15:26, 15:26] = -0.0025
    >>> hard_around = hard.copy()
    >>> hard_around[10:31, 10:31] = -0.0025
    >>> lesion = StrainRoi((7.5e-3, 12.5e-3, 7.5e-3, 12.5e-3))
    >>> [elasticity_score(xr.Dataset({"strain": (("depth", "line"), eps)},
    ...                              coords={"depth": mm, "line": mm}), lesion)
    ...  for eps in (hard, hard_around)]
    [4, 5]
    """
    eps = np.abs(_strain(strain).values)
    valid = np.isfinite(eps)
    ref = np.nanmedian(eps)
    if not np.isfinite(ref) or ref <= 0:
        raise ConfigError("strain image has no valid strain")
    low = (eps < threshold * ref) & valid
    m = roi_mask(strain, lesion, arg="lesion") & valid
    npx = max(int(round(np.sqrt(m.sum() / np.pi) * rim_fraction)), 1)
    core = binary_erosion(m, iterations=npx)
    rim = m & ~core
    band = binary_dilation(m, iterations=npx) & ~m & valid

    def frac(mask):
        return float(low[mask].mean()) if mask.any() else 0.0

    fl, fc, fr, fs = frac(m), frac(core), frac(rim), frac(band)
    if fl >= 0.8:
        return 5 if fs >= 0.5 else 4
    if fc >= 0.6 and fr < 0.4:
        return 3
    if fl >= 0.2:
        return 2
    return 1
