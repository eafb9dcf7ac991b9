"""2-D breast phantoms for microwave tomography: skin, adipose, fibroglandular, tumour.

A phantom is a set of tissue *volume fractions* per cell (anti-aliased by supersampling, so a
boundary cell mixes its neighbours linearly), and the permittivity at any frequency is the
fraction-weighted sum of tissue models:

* adipose, fibroglandular, malignant (tumour): Lazebnik et al. 2007 Cole–Cole medians
  (:func:`brim.microwave.tissue.lazebnik_permittivity`);
* skin: single-pole Debye fit of the UWCEM numerical breast phantom repository (Zastrow et al.
  2008, *IEEE Trans. Biomed. Eng.* 55, 2792): eps_inf = 15.93, delta_eps = 23.83,
  tau = 13.0 ps, sigma_s = 0.831 S/m;
* background / coupling medium: a constant (or callable) given by the user.

:func:`mwsegeval_phantom` builds one from the scattered-density breast of the MWSegEval toolbox
(Kurrant et al., *SoftwareX* 2021; data Apache-2.0): 225 x 225 complex eps_r at 1 GHz on a
0.5 mm grid. Its cells are split into coupling medium, skin (the outer rim) and an
adipose/fibroglandular mixture whose fraction reproduces the 1 GHz value, which then gives
the map at any other frequency.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from brim.errors import (
    ConfigError,
    FormatError,
    MissingFileError,
    check_positive,
    check_vector,
)
from brim.microwave.tissue import debye, lazebnik_permittivity, renamed_freq
from brim.microwave.tomography.grid import TomographyGrid, _expect_grid

__all__ = [
    "LABELS",
    "BreastPhantom",
    "breast_phantom",
    "disk_fraction",
    "load_mwsegeval",
    "mwsegeval_phantom",
    "random_breast_phantom",
    "tissue_permittivity",
]

LABELS = {"background": 0, "skin": 1, "adipose": 2, "fibroglandular": 3, "tumour": 4}
SKIN_DEBYE = {"eps_inf": 15.93, "delta_eps": 23.83, "tau_s": 13.0e-12, "sigma_s": 0.831}


@renamed_freq
def tissue_permittivity(tissue: str, freq, *, background=None) -> np.ndarray:
    """Complex relative permittivity (1) of a phantom tissue at ``freq`` (Hz).

    Parameters
    ----------
    tissue : str
        ``skin``, ``adipose``, ``fibroglandular``, ``tumour`` or ``background``.
    freq : float or array_like
        Frequency in Hz.
    background : complex or callable, optional
        The coupling medium (for ``tissue="background"``), a value or ``f_hz -> eps``.

    Returns
    -------
    ndarray, complex
        Relative permittivity ``eps' - j eps''``.
    """
    if tissue == "skin":
        return debye(freq, **SKIN_DEBYE)
    if tissue in ("adipose", "fibroglandular"):
        return lazebnik_permittivity(tissue, freq)
    if tissue == "tumour":
        return lazebnik_permittivity("malignant", freq)
    if tissue == "background":
        f = np.asarray(freq, float)
        if background is None:
            return np.ones_like(f, complex)
        if callable(background):
            return np.vectorize(lambda x: complex(background(x)))(f)
        return np.full(f.shape, complex(background))
    raise ConfigError(f"unknown tissue {tissue!r}; use one of {', '.join(LABELS)}")


def _subsample(grid: TomographyGrid, ss: int):
    _expect_grid(grid)
    ss = check_positive("supersample", ss, integer=True)
    o = (np.arange(ss) + 0.5) / ss - 0.5
    ys = (grid.y[:, None] + o[None, :] * grid.d).ravel()
    xs = (grid.x[:, None] + o[None, :] * grid.d).ravel()
    return np.meshgrid(xs, ys)


def _coarsen(fine: np.ndarray, grid: TomographyGrid, ss: int) -> np.ndarray:
    return fine.reshape(grid.ny, ss, grid.nx, ss).mean(axis=(1, 3))


def _disk_quadrant_area(x, y, r: float) -> np.ndarray:
    """Area of the disk of radius ``r`` at the origin with ``X < x`` and ``Y < y`` (exact)."""

    def prim(t):  # integral of sqrt(r^2 - X^2) from -r to t
        t = np.clip(t, -r, r)
        return 0.5 * (t * np.sqrt(r * r - t * t) + r * r * np.arcsin(t / r)) + np.pi * r * r / 4

    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    yc = np.clip(y, -r, r)
    b = np.sqrt(r * r - yc * yc)  # where the chord Y = y meets the circle
    # |X| < b: column length y + s(X); |X| > b: 2 s(X) if y > 0 else 0
    mid = yc * (np.clip(x, -b, b) + b) + prim(np.clip(x, -b, b)) - prim(-b)
    sides = 2 * (prim(np.clip(x, -r, -b)) + prim(np.clip(x, b, r)) - prim(b))
    out = mid + np.where(yc > 0, sides, 0.0)
    return np.where(y >= r, 2 * prim(x), np.where(y <= -r, 0.0, out))


def disk_fraction(
    grid: TomographyGrid,
    cx: float,
    cy: float,
    r: float,
    *,
    supersample: int = 8,
    exact: bool = False,
):
    """Area fraction (0..1) of each cell covered by the disk of radius ``r`` at (cx, cy) (m).

    With ``exact=True`` the fraction is the exact area of the circle–square intersection
    (inclusion–exclusion of four disk quadrant areas, each a closed-form integral of the
    chord length), otherwise the mean of ``supersample`` x ``supersample`` point samples per
    cell. Area-weighted (volume-averaged) contrast of boundary cells is the standard sub-cell
    treatment of a curved interface in volume-integral and FDTD solvers (e.g. Dey & Mittra 1999,
    *IEEE Trans. Microw. Theory Tech.* 47, 1737; Farjadpour et al. 2006, *Opt. Lett.* 31, 2972):
    it removes the first-order staircase error, leaving the scheme's O(d^2) error.

    Parameters
    ----------
    grid : TomographyGrid
        The grid.
    cx, cy, r : float
        Disk centre and radius in m.
    supersample : int
        Point samples per cell and axis (``exact=False``).
    exact : bool
        Exact circle–square intersection areas.

    Returns
    -------
    ndarray (ny, nx)
        Covered fraction of each cell (0..1).

    Examples
    --------
    >>> from brim.microwave.tomography import TomographyGrid, disk_fraction
    >>> g = TomographyGrid.centered(20, 0.1)
    >>> f = disk_fraction(g, 0.0, 0.0, 0.02, exact=True)
    >>> round(float(f.sum() * g.d**2), 6), round(3.141592653589793 * 0.02**2, 6)
    (0.001257, 0.001257)
    """
    if exact:
        if not r > 0:
            return np.zeros(grid.shape)
        h = grid.d / 2
        x0 = grid.x[None, :] - cx - h
        x1 = grid.x[None, :] - cx + h
        y0 = grid.y[:, None] - cy - h
        y1 = grid.y[:, None] - cy + h
        q = _disk_quadrant_area
        area = q(x1, y1, r) - q(x0, y1, r) - q(x1, y0, r) + q(x0, y0, r)
        frac = np.clip(area / grid.d**2, 0.0, 1.0)
        # cells entirely inside/outside are set exactly (no cancellation error there)
        far_x = np.maximum(np.abs(x0), np.abs(x1))
        far_y = np.maximum(np.abs(y0), np.abs(y1))
        near_x = np.where(x0 * x1 <= 0, 0.0, np.minimum(np.abs(x0), np.abs(x1)))
        near_y = np.where(y0 * y1 <= 0, 0.0, np.minimum(np.abs(y0), np.abs(y1)))
        frac = np.where(np.hypot(far_x, far_y) <= r, 1.0, frac)
        return np.where(np.hypot(near_x, near_y) >= r, 0.0, frac)
    xx, yy = _subsample(grid, supersample)
    return _coarsen((np.hypot(xx - cx, yy - cy) < r).astype(float), grid, supersample)


@dataclass
class BreastPhantom:
    """Tissue volume fractions on a grid, turned into permittivity maps at any frequency.

    Attributes
    ----------
    grid : TomographyGrid
    fractions : dict[str, ndarray (ny, nx)]
        Volume fraction per tissue (keys of :data:`LABELS`); they sum to 1 in every cell.
    background : complex or callable
        Coupling-medium permittivity (constant or ``f_hz -> eps``).
    tumour_centre : (x, y) in m, or None
        (``tumour_center``, the spelling of earlier releases, still reads it with a
        ``DeprecationWarning``.)
    tumour_radius : float (m)
    shapes : list
        The geometric description (for re-rasterising on another grid), empty for map phantoms.
    """

    grid: TomographyGrid
    fractions: dict[str, np.ndarray]
    background: complex | Callable = 1.0
    tumour_centre: tuple[float, float] | None = None
    tumour_radius: float = 0.0
    shapes: list = field(default_factory=list)

    @property
    def tumour_center(self) -> tuple[float, float] | None:
        """Deprecated spelling of :attr:`tumour_centre` (brim spells it "centre").

        Examples
        --------
        >>> import warnings
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> ph = breast_phantom(TomographyGrid.centered(12, 0.12))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     centre = ph.tumour_center
        >>> centre == ph.tumour_centre, caught[0].category.__name__
        (True, 'DeprecationWarning')
        """
        import warnings

        warnings.warn(
            "BreastPhantom.tumour_center is renamed tumour_centre; the old name will be removed "
            "in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.tumour_centre

    @renamed_freq
    def permittivity(self, freq: float) -> np.ndarray:
        """Complex relative permittivity map (ny, nx) at ``freq``.

        Parameters
        ----------
        freq : float
            Frequency in Hz at which every tissue model is evaluated.

        Returns
        -------
        ndarray (ny, nx), complex
            ``eps' - j eps''`` per cell (area-averaged over tissues).

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> eps = breast_phantom(TomographyGrid.centered(12, 0.12)).permittivity(2e9)
        >>> eps.shape, eps.dtype
        ((12, 12), dtype('complex128'))
        """
        out = np.zeros(self.grid.shape, complex)
        for t, frac in self.fractions.items():
            if np.any(frac):
                eps = complex(tissue_permittivity(t, float(freq), background=self.background))
                out += frac * eps
        return out

    @renamed_freq
    def eps_background(self, freq: float) -> complex:
        """The coupling medium's relative permittivity at ``freq``.

        Parameters
        ----------
        freq : float
            Frequency in Hz (a callable coupling medium is evaluated there).

        Returns
        -------
        complex
            ``eps' - j eps''``.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> breast_phantom(TomographyGrid.centered(12, 0.12)).eps_background(2e9)
        (1+0j)
        """
        return complex(tissue_permittivity("background", float(freq), background=self.background))

    def labels(self) -> np.ndarray:
        """Dominant tissue label per cell (see :data:`LABELS`).

        Returns
        -------
        ndarray (ny, nx) of int
            Label per cell.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> lab = breast_phantom(TomographyGrid.centered(12, 0.12)).labels()
        >>> lab.shape, lab.dtype, int(lab[0, 0])
        ((12, 12), dtype('int8'), 0)
        """
        names = list(LABELS)
        stack = np.stack([self.fractions.get(n, np.zeros(self.grid.shape)) for n in names])
        return np.argmax(stack, axis=0).astype(np.int8)

    def masks(self) -> dict[str, np.ndarray]:
        """Boolean region masks (dominant tissue) per tissue.

        Returns
        -------
        dict of str to ndarray (ny, nx) of bool
            One mask per tissue.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> m = breast_phantom(TomographyGrid.centered(12, 0.12)).masks()
        >>> sorted(m), m["skin"].dtype
        (['adipose', 'background', 'fibroglandular', 'skin', 'tumour'], dtype('bool'))
        """
        lab = self.labels()
        return {n: lab == v for n, v in LABELS.items()}

    def on_grid(self, grid: TomographyGrid, *, supersample: int = 6) -> BreastPhantom:
        """The same phantom rasterised on another grid.

        Parameters
        ----------
        grid : TomographyGrid
            The new grid.
        supersample : int
            Point samples per cell and axis: the shapes are painted at them, or (a map
            phantom) the fractions are interpolated there, then averaged per cell.

        Returns
        -------
        BreastPhantom
            The same tissues on ``grid`` (tumour centre and radius kept).

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> ph = breast_phantom(TomographyGrid.centered(12, 0.12))
        >>> ph.on_grid(TomographyGrid.centered(8, 0.12)).permittivity(2e9).shape
        (8, 8)
        """
        if self.shapes:
            return _rasterise(self.shapes, grid, self.background, supersample)
        fr = {}
        xx, yy = _subsample(grid, supersample)
        from scipy.interpolate import RegularGridInterpolator

        for t, f in self.fractions.items():
            itp = RegularGridInterpolator(
                (self.grid.y, self.grid.x), f, bounds_error=False, fill_value=None
            )
            fine = itp(np.stack([yy.ravel(), xx.ravel()], -1)).reshape(xx.shape)
            fr[t] = _coarsen(fine, grid, supersample)
        fr["background"] = fr.get("background", 0) + np.clip(1 - sum(fr.values()), 0, None)
        return BreastPhantom(grid, fr, self.background, self.tumour_centre, self.tumour_radius)

    @renamed_freq
    def to_dataset(self, freq: float) -> xr.Dataset:
        """``reconstruction``-kind Dataset: ``permittivity`` and ``labels`` on (y, x) in m.

        Parameters
        ----------
        freq : float
            Frequency in Hz of the map, also stored as the ``freq`` variable.

        Returns
        -------
        xarray.Dataset
            Kind ``reconstruction`` (the true map, to compare reconstructions with); with a
            tumour, its centre and radius in m are attributes.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
        >>> ds = breast_phantom(TomographyGrid.centered(12, 0.12)).to_dataset(2e9)
        >>> dict(ds.sizes), ds.attrs["brim_schema"], ds["freq"].attrs["units"]
        ({'y': 12, 'x': 12}, 'reconstruction/1', 'Hz')
        """
        from brim.schema import stamp

        ds = xr.Dataset(
            {
                "permittivity": (("y", "x"), self.permittivity(freq), {"units": "1"}),
                "labels": (("y", "x"), self.labels(), {"units": "1", "legend": str(LABELS)}),
            },
            coords={
                "x": ("x", self.grid.x, {"units": "m"}),
                "y": ("y", self.grid.y, {"units": "m"}),
            },
        )
        ds["freq"] = xr.DataArray(float(freq), attrs={"units": "Hz"})
        ds["eps_background"] = xr.DataArray(self.eps_background(freq), attrs={"units": "1"})
        if self.tumour_centre is not None:
            ds.attrs["tumour_centre_m"] = list(self.tumour_centre)
            ds.attrs["tumour_radius_m"] = self.tumour_radius
        return stamp(ds, "reconstruction")


def _rasterise(shapes, grid: TomographyGrid, background, ss: int) -> BreastPhantom:
    """Paint shapes in order (later ones overwrite) at ``ss``x``ss`` subsamples per cell."""
    xx, yy = _subsample(grid, ss)
    lab = np.zeros(xx.shape, np.int8)
    tc, tr = None, 0.0
    for tissue, kind, p in shapes:
        if kind == "ellipse":
            cx, cy, ax, ay, th = p
            c, s = np.cos(th), np.sin(th)
            u = (xx - cx) * c + (yy - cy) * s
            v = -(xx - cx) * s + (yy - cy) * c
            inside = (u / ax) ** 2 + (v / ay) ** 2 < 1
        else:
            raise ConfigError(f"unknown shape {kind!r}")
        lab[inside] = LABELS[tissue]
        if tissue == "tumour":
            tc, tr = (cx, cy), ax
    fr = {t: _coarsen((lab == v).astype(float), grid, ss) for t, v in LABELS.items()}
    return BreastPhantom(grid, fr, background, tc, tr, list(shapes))


def breast_phantom(
    grid: TomographyGrid,
    *,
    radius: float = 0.05,
    skin: float = 0.002,
    fibro: list[tuple[float, float, float, float, float]] | None = None,
    tumour: tuple[float, float, float] | None = (0.015, 0.01, 0.005),
    background: Any = 1.0,
    supersample: int = 6,
) -> BreastPhantom:
    """A circular 2-D breast: skin ring, adipose, fibroglandular ellipses and a tumour disk.

    Parameters
    ----------
    grid : TomographyGrid
    radius : float
        Outer breast radius (m).
    skin : float
        Skin thickness (m).
    fibro : list of (cx, cy, ax, ay, theta)
        Fibroglandular ellipses (m, rad); default two central lobes.
    tumour : (cx, cy, r) or None
        Tumour disk (m); default a 1 cm diameter tumour.
    background : complex or callable
        Coupling medium.
    supersample : int
        Point samples per cell and axis for the area fractions.

    Returns
    -------
    BreastPhantom
        The phantom on ``grid``, its shapes kept for :meth:`BreastPhantom.on_grid`.

    Examples
    --------
    >>> from brim.microwave.tomography import TomographyGrid, breast_phantom
    >>> ph = breast_phantom(TomographyGrid.centered(24, 0.12))
    >>> ph.permittivity(2e9).shape, sorted(ph.masks())[:3]
    ((24, 24), ['adipose', 'background', 'fibroglandular'])
    """
    _expect_grid(grid)
    if skin >= radius:
        raise ConfigError("skin thickness must be smaller than the breast radius")
    if fibro is None:
        fibro = [(-0.01, 0.0, 0.022, 0.013, 0.4), (0.012, -0.005, 0.016, 0.011, -0.3)]
    shapes: list[tuple[str, str, tuple[float, ...]]] = [
        ("skin", "ellipse", (0.0, 0.0, radius, radius, 0.0)),
        ("adipose", "ellipse", (0.0, 0.0, radius - skin, radius - skin, 0.0)),
    ]
    shapes += [("fibroglandular", "ellipse", tuple(f)) for f in fibro]
    if tumour is not None:
        t = check_vector("tumour (cx, cy, r) in m", np.atleast_1d(np.asarray(tumour, float)))
        if t.size != 3 or not t[2] > 0:
            raise ConfigError(f"tumour must be (cx, cy, r) in m with r > 0, got {tumour!r}")
        cx, cy, r = (float(v) for v in t)
        shapes.append(("tumour", "ellipse", (cx, cy, r, r, 0.0)))
    return _rasterise(shapes, grid, background, supersample)


def random_breast_phantom(
    grid: TomographyGrid,
    rng: np.random.Generator | int,
    *,
    tumour: bool = True,
    radius: tuple[float, float] = (0.035, 0.05),
    tumour_radius: tuple[float, float] = (0.003, 0.008),
    n_fibro: tuple[int, int] = (1, 4),
    background=1.0,
    supersample: int = 4,
) -> BreastPhantom:
    """A random breast phantom for training sets (reproducible with a seeded ``rng``).

    Breast radius, skin thickness (1.5–2.5 mm), number/size/orientation of fibroglandular
    ellipses and the tumour position/size are drawn uniformly; the tumour lies inside the breast
    interior at least 3 mm from the skin.

    Parameters
    ----------
    grid : TomographyGrid
        The grid.
    rng : numpy.random.Generator or int
        Random generator or seed.
    tumour : bool
        Whether to place a tumour.
    radius : (float, float)
        Range of the breast radius in m.
    tumour_radius : (float, float)
        Range of the tumour radius in m.
    n_fibro : (int, int)
        Range of the number of fibroglandular ellipses.
    background : complex or callable
        Coupling medium, passed to :func:`breast_phantom`.
    supersample : int
        Point samples per cell and axis, passed to :func:`breast_phantom`.

    Returns
    -------
    BreastPhantom
        Tissue area fractions on the grid and the dispersive tissue models.
    """
    rng = np.random.default_rng(rng)
    r = rng.uniform(*radius)
    skin = rng.uniform(0.0015, 0.0025)
    fibro = []
    for _ in range(rng.integers(n_fibro[0], n_fibro[1] + 1)):
        rr = rng.uniform(0, 0.5 * r)
        ph = rng.uniform(0, 2 * np.pi)
        fibro.append(
            (
                rr * np.cos(ph),
                rr * np.sin(ph),
                rng.uniform(0.2, 0.45) * r,
                rng.uniform(0.1, 0.3) * r,
                rng.uniform(0, np.pi),
            )
        )
    tum = None
    if tumour:
        tr = rng.uniform(*tumour_radius)
        rr = rng.uniform(0, r - skin - tr - 0.003)
        ph = rng.uniform(0, 2 * np.pi)
        tum = (rr * np.cos(ph), rr * np.sin(ph), tr)
    return breast_phantom(
        grid,
        radius=r,
        skin=skin,
        fibro=fibro,
        tumour=tum,
        background=background,
        supersample=supersample,
    )


# Plausibility bounds of the MWSegEval configuration (the files store no units; the toolbox's
# README gives m and Hz). An imaging domain from 1 cm (smaller than any breast, 8-15 cm
# across) to 1 m (larger than any breast imaging chamber) is in m; node files in mm span
# tens to hundreds of units and are refused unless a header names the unit.
_DOMAIN_SPAN_M = (0.01, 1.0)
# Microwave tomography runs at 0.1-20 GHz; below 100 MHz a 10 cm breast is quasi-static,
# above 300 GHz is no longer microwave (IEEE band definitions): a bare "1" is GHz written
# where Hz is expected, and is refused.
_MICROWAVE_HZ = (1e8, 3e11)
_LENGTH_UNITS = {"m": 1.0, "cm": 1e-2, "mm": 1e-3}
_FREQ_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_UNIT_IN_HEADER = re.compile(r"[\[(]\s*([A-Za-z]+)\s*[\])]")


def _config_numbers(path: Path, units: dict[str, float]) -> tuple[np.ndarray, float | None]:
    """The numbers of a MWSegEval configuration file and the scale of the unit it names.

    One number per line or separated by commas, semicolons or blanks; CRLF and a byte-order
    mark are allowed, ``#`` / ``%`` comment lines and header lines before the numbers are
    skipped. The unit is taken from a header such as ``x (mm)`` or a unit after the numbers
    (``1 GHz``); ``None`` when none is named.
    """
    from brim.io import read_text

    scale: float | None = None
    values: list[float] = []
    for n, line in enumerate(read_text(path, what="MWSegEval configuration").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith(("#", "%")):
            continue
        tokens = [t for t in re.split(r"[\s,;]+", s) if t]
        if tokens and tokens[-1].lower() in units and len(tokens) > 1:
            scale = units[tokens.pop().lower()]  # "1 GHz"
        try:
            values += [float(t) for t in tokens]
        except ValueError:
            if values:
                raise FormatError(
                    f"{path.name}, line {n}: {s!r} is not a number (the file holds one number "
                    "per node)"
                ) from None
            named = _UNIT_IN_HEADER.search(s)  # a header line before the numbers
            if named and named.group(1).lower() in units:
                scale = units[named.group(1).lower()]
    arr = np.asarray(values, float)
    if arr.size == 0 or not np.isfinite(arr).all():
        raise FormatError(f"{path.name}: expected finite numbers, got {arr.size} values")
    return arr, scale


def _nodes(path: Path) -> np.ndarray:
    """Node coordinates in m, ascending, checked against :data:`_DOMAIN_SPAN_M`."""
    v, scale = _config_numbers(path, _LENGTH_UNITS)
    if v.size < 2 or not (np.all(np.diff(v) > 0) or np.all(np.diff(v) < 0)):
        raise FormatError(f"{path.name}: node coordinates must be at least two, strictly monotonic")
    span = float(abs(v[-1] - v[0])) * (1.0 if scale is None else scale)
    lo, hi = _DOMAIN_SPAN_M
    if not lo <= span <= hi:
        hint = (
            f" they look like millimetres: divide by 1000 or start the file with a header "
            f"line such as '{path.stem[0]} (mm)'"
            if scale is None and lo <= span / 1000 <= hi
            else " check the unit named in the file"
        )
        raise FormatError(
            f"{path.name}: the nodes span {span:g} m, not a breast imaging domain "
            f"({lo:g}-{hi:g} m); MWSegEval node files are in metres;{hint}"
        )
    return v * (1.0 if scale is None else scale)


def _config_dir(root: Path, name: str) -> Path:
    """``root/name`` in any letter case (the MWSegEval README writes ``configuration``)."""
    if (root / name).is_dir():
        return root / name
    for d in root.iterdir() if root.is_dir() else ():
        if d.is_dir() and d.name.lower() == name.lower():
            return d
    raise MissingFileError(
        f"{root / name} not found; pass the MWSegEval folder that holds Configuration/ "
        "(xNodes.txt, yNodes.txt, frequency.txt) and data/ (input_forwardModel.mat)"
    )


def _mwsegeval_map(mat: Path, name: str, what: str) -> np.ndarray:
    """The complex map ``name`` of a MWSegEval ``.mat`` file (v7 or v7.3), checked.

    ``what`` names the map in messages ("the forward model", "the reconstruction"). A missing
    or renamed variable, a map that is not 2-D, real (no loss term) or has NaN cells is
    refused with a :class:`FormatError`.
    """
    from brim.io import read_mat

    variables = read_mat(mat)
    if name not in variables:
        raise FormatError(
            f"{mat.name} has no variable {name!r} (it holds "
            f"{', '.join(sorted(variables)) or 'none'}); MWSegEval names {what} so"
        )
    raw = np.asarray(variables[name])
    if raw.ndim != 2 or raw.dtype.kind not in "fc":
        raise FormatError(
            f"{mat.name}: {name} is {raw.dtype} {raw.shape}, expected a 2-D "
            "complex permittivity map"
        )
    if raw.dtype.kind != "c":
        # MATLAB stores a complex array whose imaginary parts are all zero as real; breast
        # tissues are lossy at microwave frequencies (eps'' of 1-20 at 1 GHz, Lazebnik 2007),
        # so a real map lost its loss term (saved with real()).
        raise FormatError(
            f"{mat.name}: {name} is real; a breast permittivity map at microwave "
            "frequencies is complex (eps' - j eps''): save the complex map, not real(map)"
        )
    eps = raw.astype(complex)
    bad = int(np.count_nonzero(~np.isfinite(eps)))
    if bad:
        raise FormatError(
            f"{mat.name}: {bad} of {eps.size} cells are NaN or infinite; {what} needs "
            "a permittivity in every cell: fill the cells outside the breast with the coupling "
            "medium's value"
        )
    return eps


def _on_nodes(eps: np.ndarray, x: np.ndarray, y: np.ndarray, where: str) -> np.ndarray:
    """A map of (len(yNodes), len(xNodes)) cells in ascending x, y and brim's eps' - j eps''."""
    if eps.shape != (y.size, x.size):
        hint = (
            "; the map is transposed: MWSegEval maps have one row per yNodes entry"
            if eps.shape == (x.size, y.size)
            else ""
        )
        raise FormatError(
            f"{where}map {eps.shape} does not match the node files ({y.size}, {x.size}) = "
            f"(len(yNodes), len(xNodes)){hint}"
        )
    if x[0] > x[-1]:  # descending node files: the same map in ascending order
        eps = eps[:, ::-1]
    if y[0] > y[-1]:
        eps = eps[::-1]
    if np.sum(eps.imag) > 0:  # mostly eps' + j eps'': the other sign convention
        eps = np.conj(eps)  # keep brim's eps' - j eps'' (a few noisy cells do not flip it)
    return np.ascontiguousarray(eps)


def load_mwsegeval(root: str | Path, *, reconstructed: bool | None = None) -> xr.Dataset:
    """Read the MWSegEval scattered-density breast (forward model) as a reconstruction Dataset.

    ``root`` is the ``mwsegeval`` folder (``data/input_forwardModel.mat``, v7 or v7.3, node
    coordinates in ``Configuration/{x,y}Nodes.txt`` in m, ``frequency.txt`` in Hz). The text
    files may use CRLF, a byte-order mark, commas, semicolons or blanks between numbers and a
    header line; a unit in the header (``x (mm)``, ``cm``, ``m``) or after the frequency
    (``1 GHz``) is honoured. Descending node files are put in ascending order (the map's rows
    or columns with them). The map is ``(len(yNodes), len(xNodes))``: a transposed square map
    cannot be told apart from the file alone. The toolbox's reconstruction of the same breast,
    ``data/input_reconstructedModel.mat`` (a CSI inversion), is read along when present, on
    the same nodes and checked the same way.

    Parameters
    ----------
    root : path-like
        The ``mwsegeval`` folder.
    reconstructed : bool or None
        Read ``data/input_reconstructedModel.mat`` as ``reconstructed_permittivity``: None
        (default) when the file is present, True always (a missing file is an error), False
        never (the forward model alone, whatever the file holds).

    Returns
    -------
    xarray.Dataset
        Kind ``reconstruction``: the complex permittivity (the true map, from the forward
        model) on (y, x) in m, ``freq`` in Hz; ``reconstructed_permittivity`` on the same
        (y, x) when read.

    Raises
    ------
    MissingFileError
        No ``data`` or ``Configuration`` folder, or a file missing from them
        (``input_reconstructedModel.mat`` with ``reconstructed=True``).
    FormatError
        A map's variable is missing, not 2-D, real (no loss term), has NaN cells, or its
        shape does not match the node files; node coordinates outside a breast imaging domain
        (1 cm to 1 m: millimetres without a unit) or a frequency outside 100 MHz-300 GHz (GHz
        without a unit).
    """
    from brim.schema import stamp

    root = Path(root)
    if not root.is_dir():
        raise MissingFileError(f"no such folder: {root}; pass the mwsegeval folder")
    mat = _config_dir(root, "data") / "input_forwardModel.mat"
    cfg = _config_dir(root, "Configuration")
    rec = mat.with_name("input_reconstructedModel.mat")
    needed = (mat, cfg / "xNodes.txt", cfg / "yNodes.txt", cfg / "frequency.txt")
    for need in (*needed, rec) if reconstructed else needed:
        if not need.is_file():
            raise MissingFileError(f"{need} not found; a MWSegEval folder holds it")
    eps = _mwsegeval_map(mat, "input_forwardModel", "the forward model")
    x = _nodes(cfg / "xNodes.txt")
    y = _nodes(cfg / "yNodes.txt")
    fv, fscale = _config_numbers(cfg / "frequency.txt", _FREQ_UNITS)
    if fv.size != 1:
        raise FormatError(f"frequency.txt: expected one frequency (Hz), got {fv.size} values")
    f = float(fv[0]) * (1.0 if fscale is None else fscale)
    lo, hi = _MICROWAVE_HZ
    if not lo <= f <= hi:
        hint = " (GHz? write 1e9 or '1 GHz')" if fscale is None and lo <= f * 1e9 <= hi else ""
        raise FormatError(
            f"frequency.txt: {f:g} Hz is not a microwave imaging frequency ({lo:g}-{hi:g} Hz); "
            f"MWSegEval stores it in Hz{hint}"
        )
    maps = {"permittivity": _on_nodes(eps, x, y, "")}
    if reconstructed or (reconstructed is None and rec.is_file()):
        eps_rec = _mwsegeval_map(rec, "input_reconstructedModel", "the reconstruction")
        maps["reconstructed_permittivity"] = _on_nodes(eps_rec, x, y, f"{rec.name}: ")
    x, y = np.sort(x), np.sort(y)  # the maps were put in ascending order with them
    ds = xr.Dataset(
        {k: (("y", "x"), v, {"units": "1"}) for k, v in maps.items()},
        coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
        attrs={"source": "MWSegEval scattered-density breast (Kurrant et al.), Apache-2.0"},
    )
    if "reconstructed_permittivity" in ds:
        ds["reconstructed_permittivity"].attrs["note"] = (
            "MWSegEval's inversion of the forward model (input_reconstructedModel.mat)"
        )
    ds["freq"] = xr.DataArray(f, attrs={"units": "Hz"})
    return stamp(ds, "reconstruction")


def mwsegeval_phantom(
    root: str | Path,
    *,
    tumour: tuple[float, float, float] | None = None,
    skin_width: float = 0.002,
) -> BreastPhantom:
    """A :class:`BreastPhantom` from the MWSegEval map (see module notes), optional tumour.

    The coupling medium is the value at the map's corner, kept constant over frequency. Cells
    within ``skin_width`` of the coupling medium with Re(eps) > 30 are skin; the other breast
    cells are an adipose/fibroglandular mixture matched on Re(eps) at the map's frequency.

    Parameters
    ----------
    root : path-like
        The ``mwsegeval`` folder.
    tumour : (cx, cy, r), optional
        A tumour disk added, in m.
    skin_width : float
        Width in m of the skin band.

    Returns
    -------
    BreastPhantom
        Tissue area fractions on the grid and the dispersive tissue models.
    """
    from scipy.ndimage import binary_dilation

    ds = load_mwsegeval(root, reconstructed=False)  # the true map alone builds the phantom
    eps = ds["permittivity"].values
    f0 = float(ds["freq"])
    grid = TomographyGrid.from_coords(ds["x"].values, ds["y"].values)
    bg_val = complex(eps[0, 0])
    bg = np.isclose(eps, bg_val)
    it = max(1, int(round(skin_width / grid.d)))
    skin = binary_dilation(bg, iterations=it) & ~bg & (eps.real > 30)
    ea = complex(lazebnik_permittivity("adipose", f0))
    ef = complex(lazebnik_permittivity("fibroglandular", f0))
    phi = np.clip((eps.real - ea.real) / (ef.real - ea.real), 0, 1)
    tissue = ~bg & ~skin
    fr = {
        "background": bg.astype(float),
        "skin": skin.astype(float),
        "adipose": np.where(tissue, 1 - phi, 0.0),
        "fibroglandular": np.where(tissue, phi, 0.0),
        "tumour": np.zeros(eps.shape),
    }
    tc, tr = None, 0.0
    if tumour is not None:
        tf = disk_fraction(grid, *tumour)
        for k in fr:
            fr[k] = fr[k] * (1 - tf)
        fr["tumour"] = tf
        tc, tr = (tumour[0], tumour[1]), tumour[2]
    return BreastPhantom(grid, fr, bg_val, tc, tr)
