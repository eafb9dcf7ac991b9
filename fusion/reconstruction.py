"""Ultrasound-guided diffuse optical tomography: dual-mesh Born inversion and haemoglobin.

The lesion region seen by ultrasound (a segmentation mask or a user ROI) sets a **fine** grid in
a box around it and a **coarse** grid elsewhere (the dual-mesh scheme of Zhu et al. [1]_ [2]_):
the unknowns are the absorption changes of the fine voxels and of the coarse cells; each coarse
cell is integrated on sub-points so the weight matrix stays accurate while the number of unknowns
stays in the hundreds. The perturbation of the target measurement against the reference
(homogeneous or contralateral) measurement is inverted per wavelength with the first Born (or
Rytov) weights of the fitted background (:mod:`brim.fusion.background`), by Tikhonov
regularisation [3]_ (closed form in the data space) or conjugate gradients (CGLS). The penalty is
weaker inside the ultrasound lesion than outside (the US prior). Oxy-, deoxy- and total
haemoglobin and the saturation follow by least squares over wavelengths through an extinction
table (Prahl's by default).

References
----------
.. [1] Q. Zhu, N. G. Chen, S. H. Kurtzman, "Imaging tumor angiogenesis by use of combined
   near-infrared diffusive light and ultrasound", Opt. Lett. 28(5):337-339, 2003.
.. [2] Q. Zhu et al., "Benign versus malignant breast masses: optical differentiation with
   US-guided optical imaging reconstruction", Radiology 237:57-66, 2005.
.. [3] A. N. Tikhonov, V. Y. Arsenin, *Solutions of Ill-Posed Problems*, Winston, 1977;
   A. Björck, *Numerical Methods for Least Squares Problems*, SIAM 1996 (CGLS).

Units: lengths in and out are metres (ROIs, grid settings, the coordinates of measurements,
ultrasound masks and maps); absorption in ``mm-1``. The mesh and the weights are computed in
mm, the length unit of ``mm-1`` (:mod:`brim.fusion.diffusion`); :class:`DualMesh` holds mm.
An ultrasound mask may come from brim.fusion (dims ``(y, x)``, y = depth) or from
brim.elasto (dims ``(depth, line)``) in any length unit: :func:`roi_from_mask` places it by its
coordinates' names and units.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import xarray as xr

from brim import provenance
from brim.deprecation import positional_options, renamed_names
from brim.errors import (
    ConfigError,
    FormatError,
    SchemaError,
    SolverError,
    check_positive,
    warn,
)
from brim.fusion import diffusion as dif
from brim.fusion._units import (
    M_TO_MM,
    MM_TO_M,
    UM_TO_MUA,
    check_plausible_m,
    length_factor,
    per_mm_factor,
)
from brim.fusion.lesion_fit import (
    RowWeights,
    fit_homogeneous_lesion,
    fit_lesion_with_surroundings,
    roi_fractions,
    weigh,
)
from brim.fusion.measurement import ERROR_VARIABLES

__all__ = [
    "LesionRoi",
    "roi_from_mask",
    "DualMesh",
    "dual_mesh",
    "perturbation",
    "weight_matrix",
    "tikhonov",
    "cgls",
    "reconstruct",
    "hemoglobin",
    "lesion_summary",
]


#: Smallest ROI semi-axis (m) accepted: 0.5 mm, far below the few millimetres diffuse light
#: resolves, far above a length in metres read as millimetres (0.0075 mm).
_MIN_SEMI_AXIS = 5e-4


@dataclass(frozen=True)
class LesionRoi:
    """Ellipsoidal lesion region of US-guided DOT: centre (x, y, z) and semi-axes, in m.

    ``z`` is the depth below the probe, ``x`` the lateral position along the ultrasound image
    plane, ``y`` the elevational position. (Not to be confused with
    :class:`brim.elasto.StrainRoi`, a 2-D region of a strain image.)

    Parameters
    ----------
    center : tuple of float
        (x, y, z), m; z > 0.
    semi_axes : float or tuple of float
        Semi-axes along x, y, z (one number: a sphere), m, finite and > 0.

    Raises
    ------
    ConfigError
        A centre that is not three finite numbers or lies above the probe, semi-axes that are
        not finite and > 0, semi-axes under 0.5 mm (metres given as millimetres: diffuse
        optics resolves lesions of millimetres, not micrometres) or lengths beyond 0.5 m
        (millimetres given as metres).
    """

    center: tuple[float, float, float]
    semi_axes: tuple[float, float, float]

    def __post_init__(self):
        c = tuple(float(v) for v in self.center)
        a = tuple(float(v) for v in np.broadcast_to(self.semi_axes, (3,)))
        if len(c) != 3 or not all(np.isfinite(c)):
            raise ConfigError("ROI centre must be three finite numbers (x, y, z) in m")
        if not all(np.isfinite(a)) or min(a) <= 0:
            raise ConfigError(f"ROI semi-axes (radius) must be finite and > 0 m, got {a}")
        if c[2] <= 0:
            raise ConfigError("ROI depth z must be > 0 m (below the probe)")
        if min(a) < _MIN_SEMI_AXIS:
            raise ConfigError(
                f"ROI semi-axes {[round(v * 1e3, 4) for v in a]} mm: a lesion under "
                f"{2e3 * _MIN_SEMI_AXIS:g} mm across is beyond diffuse optics (were metres "
                "given where millimetres are expected, e.g. --roi 0,0,0.02,0.0075?)"
            )
        check_plausible_m(c, "ROI centre")
        check_plausible_m(a, "ROI semi-axes")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "semi_axes", a)

    @classmethod
    def parse(cls, text: str, *, units: str = "mm") -> LesionRoi:
        """A spherical ROI from ``"X,Y,Z,R"`` typed in ``units`` (mm by default, as in the CLI).

        Parameters
        ----------
        text : str
            Four comma-separated numbers: centre x, y, z and radius.
        units : {"mm", "m", "cm", "um"}
            Unit of the numbers; the ROI is stored in m.

        Returns
        -------
        LesionRoi

        Examples
        --------
        >>> from brim.fusion import LesionRoi
        >>> LesionRoi.parse("0,0,20,7.5")  # mm, as typed for ``--roi``
        LesionRoi(center=(0.0, 0.0, 0.02), semi_axes=(0.0075, 0.0075, 0.0075))
        >>> LesionRoi.parse("0,0,2,0.75", units="cm").center
        (0.0, 0.0, 0.02)
        """
        f = length_factor(units, "the ROI text")
        try:
            vals = [float(t) for t in text.split(",")]
        except ValueError:
            raise ConfigError(f"--roi must be X,Y,Z,R in {units}, got {text!r}") from None
        if len(vals) != 4:
            raise ConfigError(f"--roi must be X,Y,Z,R in {units} (4 numbers), got {text!r}")
        vals = [v * f for v in vals]
        return cls((vals[0], vals[1], vals[2]), (vals[3],) * 3)

    def contains(self, pts) -> np.ndarray:
        """Whether each point (..., 3), in m, lies inside the ellipsoid.

        Parameters
        ----------
        pts : array_like, (..., 3)
            Points, m.

        Returns
        -------
        numpy.ndarray of bool
            The shape of ``pts`` without its last axis.

        Examples
        --------
        >>> from brim.fusion import LesionRoi
        >>> roi = LesionRoi((0.0, 0.0, 0.02), 0.0075)
        >>> roi.contains([[0, 0, 0.02], [0, 0, 0.03]]).tolist()
        [True, False]
        """
        return _inside(pts, self.center, self.semi_axes)


def _map_var(ds: object, var: str, *, builder: str = "brim.fusion.reconstruct") -> xr.DataArray:
    """``ds[var]`` of a map Dataset, or SchemaError/ConfigError naming what was given.

    A path, array or DataArray is told to pass the Dataset; a missing variable is named with the
    variables the Dataset holds (``hbt`` is in :func:`hemoglobin`'s output, ``delta_mua`` in
    :func:`reconstruct`'s).
    """
    from brim.schema import expect_dataset

    expect_dataset(ds, "reconstruction", builder=builder)
    assert isinstance(ds, xr.Dataset)
    if not isinstance(var, str) or var not in ds.data_vars:
        have = [str(v) for v in ds.data_vars]
        raise ConfigError(f"the Dataset has no variable {var!r}; it holds {have}")
    return ds[var]


def _expect_roi(roi: object) -> None:
    """ConfigError unless ``roi`` is a :class:`LesionRoi` (a bare centre tuple is not one)."""
    if not isinstance(roi, LesionRoi):
        raise ConfigError(
            f"roi must be a LesionRoi, e.g. LesionRoi(center=(x, y, z), semi_axes=r) in m (or "
            f"pass us= a mask), got {type(roi).__name__}"
        )


def _inside(pts, center, semi_axes) -> np.ndarray:
    p = (np.asarray(pts, float) - center) / semi_axes
    return np.sum(p * p, axis=-1) <= 1.0


# renamed in 0.x: one release of grace (warned at the user's line, also through brim.fusion's
# lazy __getattr__)
__getattr__ = renamed_names(
    __name__,
    {
        "Roi": (
            LesionRoi,
            "brim.fusion.Roi is renamed LesionRoi (lengths now in m); the old name "
            "will be removed in the next release",
        )
    },
)


#: dimension names read as depth (-> z) and as lateral position (-> x) in an ultrasound mask;
#: ``y`` is depth in brim.fusion's B-mode images (dims (y, x), y pointing down)
_DEPTH_DIMS = ("depth", "z", "y")
_LATERAL_DIMS = ("x", "line", "lateral")


def _us_mask(us) -> xr.DataArray:
    """The 2-D mask of ``us`` (leading dims of size 1, such as elasto's ``frame``, dropped)."""
    m = us
    for d in list(m.dims):
        if m.sizes[d] == 1 and d not in _DEPTH_DIMS + _LATERAL_DIMS:
            m = m.isel({d: 0})
    if m.ndim != 2:
        raise ConfigError(f"the ultrasound mask must be 2-D (depth x lateral), got dims {m.dims}")
    return m


def _us_axis(mask: xr.DataArray, names: tuple[str, ...], what: str) -> tuple[str, np.ndarray]:
    """Name and coordinate values (m) of the mask's ``what`` axis."""
    dim = next((d for d in names if d in mask.dims), None)
    if dim is None:
        raise SchemaError(
            f"the ultrasound mask has dims {mask.dims}; expected one {what} dimension named "
            f"one of {list(names)} (brim.fusion: (y, x) with y = depth; brim.elasto: "
            "(depth, line))"
        )
    if dim not in mask.coords:
        raise SchemaError(
            f"the ultrasound mask has no {dim!r} coordinate; give it physical coordinates "
            "(with units) to place the lesion"
        )
    f = length_factor(mask[dim].attrs.get("units"), f"ultrasound coordinate {dim!r}")
    vals = np.asarray(mask[dim].values, dtype=np.float64) * f
    if not np.isfinite(vals).all():
        raise SchemaError(f"ultrasound coordinate {dim!r} has NaN or infinite values")
    return dim, vals


def roi_from_mask(
    us: xr.Dataset | xr.DataArray,
    *,
    var: str = "mask",
    lateral_offset: float | None = None,
    plane_y: float | None = None,
) -> LesionRoi:
    """Lesion ROI (m) from an ultrasound B-mode mask, placed by its coordinates.

    The mask may come from brim.fusion (dims ``(y, x)``, ``y`` = depth) or from brim.elasto
    (dims ``(depth, line)``, any leading dimension of size 1 such as ``frame`` is dropped); its
    coordinates may be in m, mm, cm or um (``units`` attribute): depth becomes the DOT ``z``,
    the lateral axis the DOT ``x``, so no manual unit conversion is needed. Pixel coordinates
    (``px``) cannot place a lesion and raise :class:`SchemaError`.

    The centre is the mask's centroid; the semi-axes are half its lateral and axial extents
    (plus one pixel); the elevational semi-axis (out of the imaging plane) is taken equal to the
    lateral one, as usual in US-guided DOT.

    Parameters
    ----------
    us : xarray.Dataset or xarray.DataArray
        A Dataset with the mask variable ``var``, or the mask itself (> 0 = lesion).
    var : str
        Mask variable of a Dataset.
    lateral_offset : float, optional
        DOT ``x`` (m) of the lateral coordinate's zero. Default: 0 for ``x``/``lateral`` (the
        image is centred on the probe, as brim.fusion writes it); for ``line`` (brim.elasto
        counts from the first element) the aperture is centred on the probe (its mid-point at
        x = 0), the transducer sitting in the central slot of the DOT probe.
    plane_y : float, optional
        Elevational position (m) of the imaging plane; default ``attrs["plane_y_m"]`` (or the
        legacy ``attrs["plane_y_mm"]``), else 0.

    Returns
    -------
    LesionRoi

    Raises
    ------
    SchemaError
        No mask variable, unknown dimension names, or coordinates without length units.
    ConfigError
        An empty or non-2-D mask.

    Examples
    --------
    >>> from brim.fusion import Lesion, roi_from_mask, synthetic_ultrasound
    >>> us = synthetic_ultrasound(Lesion(center=(0.005, 0.0, 0.02), radius=0.0075), pixel=0.5e-3)
    >>> roi = roi_from_mask(us)
    >>> [round(v * 1e3, 1) for v in roi.center], round(roi.semi_axes[2] * 1e3, 1)  # mm
    ([5.0, 0.0, 20.0], 7.5)
    """
    if not isinstance(us, xr.DataArray):
        from brim.schema import expect_dataset

        expect_dataset(us, "mask", builder="brim.fusion.segment")
    if isinstance(us, xr.Dataset):
        if var not in us:
            raise SchemaError(
                f"the ultrasound Dataset has no {var!r} variable (run segment-us first)"
            )
        da = us[var]
        attrs = us.attrs
    else:
        da, attrs = us, us.attrs
    mask = _us_mask(da)
    zdim, depth = _us_axis(mask, _DEPTH_DIMS, "depth")
    lateral_names = tuple(d for d in _LATERAL_DIMS if d != zdim)
    xdim, lat = _us_axis(mask, lateral_names, "lateral")
    m = np.asarray(mask.transpose(zdim, xdim).values) > 0
    if not m.any():
        raise ConfigError("the ultrasound mask is empty: no lesion to guide the grid")
    if lateral_offset is None:
        lateral_offset = -(lat.min() + lat.max()) / 2 if xdim == "line" else 0.0
    lat = lat + float(lateral_offset)
    if plane_y is None:
        if "plane_y_m" in attrs:
            plane_y = float(attrs["plane_y_m"])
        else:
            plane_y = float(attrs.get("plane_y_mm", 0.0)) * MM_TO_M
    iz, ix = np.nonzero(m)
    dz = abs(float(np.median(np.diff(depth)))) if depth.size > 1 else 1e-3
    dx = abs(float(np.median(np.diff(lat)))) if lat.size > 1 else 1e-3
    cz, cx = depth[iz].mean(), lat[ix].mean()
    az = (depth[iz].max() - depth[iz].min() + dz) / 2
    ax = (lat[ix].max() - lat[ix].min() + dx) / 2
    return LesionRoi((cx, plane_y, cz), (ax, ax, az))


@dataclass
class DualMesh:
    """Quadrature points of the dual mesh and the unknown each belongs to (lengths in mm).

    The mesh is a kernel-level object in the diffusion kernels' units (mm, mm^3); build it with
    :func:`dual_mesh` from settings in m.
    """

    points: np.ndarray  # (P, 3) mm
    volumes: np.ndarray  # (P,) mm^3
    owner: np.ndarray  # (P,) unknown index
    centers: np.ndarray  # (U, 3) unknown centroids, mm
    is_fine: np.ndarray  # (U,) bool
    in_roi: np.ndarray  # (U,) bool (fine unknowns whose centre is inside the ROI)
    fine_lo: np.ndarray  # (3,) fine box corner
    fine_hi: np.ndarray
    fine_spacing: float
    coarse_spacing: tuple[float, float]
    extent: float
    depth: float
    # index grids of :meth:`locate` (set by :func:`dual_mesh`; not constructor arguments)
    _fine_index: np.ndarray = field(init=False, repr=False, compare=False)
    _coarse_index: np.ndarray = field(init=False, repr=False, compare=False)

    @property
    def n_unknowns(self) -> int:
        return self.centers.shape[0]

    def locate(self, pts) -> np.ndarray:
        """Unknown index of each point (-1 outside the domain).

        Parameters
        ----------
        pts : array_like, (P, 3)
            Points, mm.

        Returns
        -------
        numpy.ndarray of int64, (P,)
            Index of the unknown (fine voxel or coarse cell) holding each point.
        """
        pts = np.asarray(pts, float)
        out = np.full(pts.shape[0], -1, dtype=np.int64)
        infine = np.all((pts >= self.fine_lo) & (pts < self.fine_hi), 1)
        nf = np.round((self.fine_hi - self.fine_lo) / self.fine_spacing).astype(int)
        fi = np.floor((pts[infine] - self.fine_lo) / self.fine_spacing).astype(int)
        fi = np.minimum(fi, nf - 1)
        out[infine] = self._fine_index[fi[:, 0], fi[:, 1], fi[:, 2]]
        cl, cz = self.coarse_spacing
        nxy = int(round(2 * self.extent / cl))
        nz = int(round(self.depth / cz))
        ci = np.floor((pts[:, :2] + self.extent) / cl).astype(int)
        kz = np.floor(pts[:, 2] / cz).astype(int)
        ok = (~infine) & np.all((ci >= 0) & (ci < nxy), 1) & (kz >= 0) & (kz < nz)
        out[ok] = self._coarse_index[ci[ok, 0], ci[ok, 1], kz[ok]]
        return out


def dual_mesh(
    roi: LesionRoi,
    *,
    extent: float = 0.045,
    depth: float = 0.040,
    fine: float = 2.5e-3,
    coarse: tuple[float, float] = (0.010, 0.005),
    fine_factor: float = 2.0,
    subsample: int = 2,
) -> DualMesh:
    """Build the dual mesh: fine voxels in a box ``fine_factor`` x the ROI, coarse cells elsewhere.

    Parameters
    ----------
    roi : LesionRoi
        Lesion region (from ultrasound or the user), m.
    extent : float
        Half-width of the imaged volume in x and y, m.
    depth : float
        Depth of the imaged volume, m.
    fine : float
        Fine voxel size, m.
    coarse : (float, float)
        Coarse cell size laterally and in depth, m.
    fine_factor : float
        The fine box spans ``fine_factor`` times the ROI semi-axes on each side of its centre.
    subsample : int
        Sub-points per coarse cell along x and y (depth uses ``ceil(subsample/2)``).

    Returns
    -------
    DualMesh
        In mm (the diffusion kernels' unit).

    Raises
    ------
    ConfigError
        Settings that are not finite and > 0, beyond 0.5 m, a volume that is not a whole number
        of coarse cells, a fine voxel that does not divide the coarse sub-cells, or a ROI centred
        outside the volume.

    Examples
    --------
    The default 90 x 90 x 40 mm volume around a 7.5 mm lesion at 20 mm depth:

    >>> from brim.fusion import LesionRoi, dual_mesh
    >>> mesh = dual_mesh(LesionRoi((0.0, 0.0, 0.02), 0.0075))
    >>> mesh.n_unknowns, int(mesh.is_fine.sum()), int(mesh.in_roi.sum())
    (2322, 1728, 136)
    >>> mesh.fine_spacing, round(float(mesh.volumes.sum()))  # mm, mm³ (the whole volume)
    (2.5, 324000)
    """
    extent = check_positive("extent (m)", extent)
    depth = check_positive("depth (m)", depth)
    fine = check_positive("fine voxel (m)", fine)
    _expect_roi(roi)
    if np.ndim(coarse) != 1 or np.size(coarse) != 2:
        raise ConfigError(
            f"coarse must be two cell sizes (lateral, depth) in m, e.g. (0.01, 0.005), got "
            f"{coarse!r}"
        )
    cl, cz = (check_positive("coarse cell (m)", v) for v in coarse)
    check_plausible_m([extent, depth, fine, cl, cz], "mesh sizes (extent, depth, fine, coarse)")
    # the mesh is built in mm, the unit of the diffusion kernels and of mm-1 coefficients
    extent, depth, fine, cl, cz = (v * M_TO_MM for v in (extent, depth, fine, cl, cz))
    fine_factor = check_positive("fine_factor", fine_factor)
    sxy = check_positive("subsample", subsample, integer=True)
    for name, length, cell in (("2 x extent", 2 * extent, cl), ("depth", depth, cz)):
        if abs(length / cell - round(length / cell)) > 1e-9:
            raise ConfigError(
                f"{name} = {length} mm is not a whole number of coarse cells ({cell} mm); "
                "the volume would be cut short"
            )
    c = np.array(roi.center) * M_TO_MM
    semi = np.array(roi.semi_axes) * M_TO_MM
    if abs(c[0]) >= extent or abs(c[1]) >= extent or c[2] >= depth:
        raise ConfigError(
            f"the ROI centre {np.round(c, 3).tolist()} mm lies outside the imaged volume "
            f"(|x|, |y| < {extent:g} mm, 0 < z < {depth:g} mm)"
        )
    half = fine_factor * semi
    sz = max(1, int(np.ceil(subsample / 2)))
    # The fine box is snapped outward to the lattice of the coarse sub-points (origin -extent
    # laterally, 0 in depth) so that every sub-cell is wholly inside or outside it: the two
    # grids then tile the volume without gaps or overlaps.
    step = np.array([cl / sxy, cl / sxy, cz / sz])
    ratio = step / fine
    if np.any(np.abs(ratio - np.round(ratio)) > 1e-9) or np.any(np.round(ratio) < 1):
        raise ConfigError(
            f"fine voxel {fine} mm must divide the coarse sub-cell size {step.tolist()} mm"
        )
    origin = np.array([-extent, -extent, 0.0])
    lo = origin + np.floor((c - half - origin) / step) * step
    hi = origin + np.ceil((c + half - origin) / step) * step
    lo[2] = max(lo[2], 0.0)
    hi[2] = min(hi[2], depth)
    lo[:2] = np.maximum(lo[:2], -extent)
    hi[:2] = np.minimum(hi[:2], extent)
    nf = np.round((hi - lo) / fine).astype(int)
    if np.any(nf <= 0):
        raise ConfigError("the ROI lies outside the imaged volume; check its position (mm)")
    axes = [lo[i] + (np.arange(nf[i]) + 0.5) * fine for i in range(3)]
    F = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)  # noqa: N806
    fine_index = np.arange(F.shape[0]).reshape(tuple(nf))
    nxy = int(round(2 * extent / cl))
    nz = int(round(depth / cz))
    gx = -extent + (np.arange(nxy * sxy) + 0.5) * cl / sxy
    gz = (np.arange(nz * sz) + 0.5) * cz / sz
    P = np.stack(np.meshgrid(gx, gx, gz, indexing="ij"), -1).reshape(-1, 3)  # noqa: N806
    outside = ~np.all((P >= lo) & (P < hi), 1)
    P = P[outside]  # noqa: N806
    cell = (
        np.floor((P[:, 0] + extent) / cl).astype(int) * nxy * nz
        + np.floor((P[:, 1] + extent) / cl).astype(int) * nz
        + np.floor(P[:, 2] / cz).astype(int)
    )
    used, inv = np.unique(cell, return_inverse=True)
    nfine = F.shape[0]
    coarse_flat = np.full(nxy * nxy * nz, -1, dtype=np.int64)
    coarse_flat[used] = nfine + np.arange(used.size)
    coarse_index = coarse_flat.reshape(nxy, nxy, nz)
    sub_vol = (cl / sxy) ** 2 * (cz / sz)
    counts = np.bincount(inv, minlength=used.size)
    ccent = np.stack([np.bincount(inv, P[:, i]) / counts for i in range(3)], 1)
    points = np.concatenate([F, P])
    volumes = np.concatenate([np.full(nfine, fine**3), np.full(P.shape[0], sub_vol)])
    owner = np.concatenate([np.arange(nfine), nfine + inv])
    centers = np.concatenate([F, ccent])
    is_fine = np.zeros(centers.shape[0], bool)
    is_fine[:nfine] = True
    in_roi = is_fine & _inside(centers, c, semi)
    if not in_roi.any():  # ROI smaller than a voxel: take the voxel holding the centre
        in_roi[np.argmin(np.sum((F - c) ** 2, 1))] = True
    mesh = DualMesh(
        points, volumes, owner, centers, is_fine, in_roi, lo, hi, fine, (cl, cz), extent, depth
    )
    mesh._fine_index = fine_index
    mesh._coarse_index = coarse_index
    return mesh


def _positions(meas):
    """Source and detector positions in mm (the kernels' unit) from the measurement's m."""
    src = np.stack([meas.source_x.values, meas.source_y.values], 1).astype(np.float64)
    det = np.stack([meas.detector_x.values, meas.detector_y.values], 1).astype(np.float64)
    return src * M_TO_MM, det * M_TO_MM


def perturbation(target: xr.Dataset, reference: xr.Dataset, *, method: str = "rytov") -> np.ndarray:
    """Complex perturbation per wavelength, shape (wavelength, source, detector).

    ``rytov``: ``ln(A_t / A_r) + j (phi_t - phi_r)`` (phase difference wrapped to (-pi, pi]).
    ``born``: ``A_t/A_r exp(j (phi_t - phi_r)) - 1`` (to be multiplied by the model ``Phi0``).

    Parameters
    ----------
    target, reference : xarray.Dataset
        ``optical_measurement`` of the lesion side and of the reference, same layout.
    method : {"rytov", "born"}
        The perturbation's form.

    Returns
    -------
    numpy.ndarray, (wavelength, source, detector)
        Complex perturbation.

    Raises
    ------
    FormatError
        Target and reference differ in layout, positions or modulation frequency, or hold an
        amplitude <= 0.
    ConfigError
        Unknown ``method``.

    Examples
    --------
    Half the amplitude and 0.1 rad more phase on the lesion side:

    >>> import numpy as np
    >>> from brim.fusion import measurement_from_arrays, perturbation
    >>> def meas(amp, phase):
    ...     return measurement_from_arrays([[[amp]]], [[[phase]]], [780], [[0, 0]],
    ...                                    [[0.03, 0]], 140e6)
    >>> y = perturbation(meas(0.5e-3, 0.6), meas(1e-3, 0.5))
    >>> y.shape, round(float(y.real[0, 0, 0]), 3), round(float(y.imag[0, 0, 0]), 3)
    ((1, 1, 1), -0.693, 0.1)
    >>> yb = perturbation(meas(0.5e-3, 0.6), meas(1e-3, 0.5), method="born")
    >>> round(abs(complex(yb[0, 0, 0])), 3)  # |0.5 exp(0.1j) - 1|
    0.505
    """
    from brim.schema import expect_dataset, validate

    for ds, what in ((target, "target"), (reference, "reference")):
        expect_dataset(ds, "optical_measurement")
        try:
            validate(ds, "optical_measurement")
        except SchemaError as exc:
            raise SchemaError(f"{what} measurement: {exc}") from exc
    if target.amplitude.shape != reference.amplitude.shape:
        raise FormatError(
            f"target {target.amplitude.shape} and reference {reference.amplitude.shape} "
            "measurements differ in shape; they must share wavelengths, sources and detectors"
        )
    for c in ("wavelength", "source_x", "source_y", "detector_x", "detector_y"):
        if not np.allclose(target[c].values, reference[c].values):
            raise FormatError(f"target and reference differ in {c!r}; use the same probe")
    ft, fr = (float(ds["modulation_frequency"]) for ds in (target, reference))
    if not np.isclose(ft, fr, rtol=1e-9, atol=0.0):
        raise FormatError(
            f"target ({ft:g} Hz) and reference ({fr:g} Hz) differ in modulation frequency; "
            "their phases cannot be compared"
        )
    at = target.amplitude.values.astype(np.float64)
    ar = reference.amplitude.values.astype(np.float64)
    if np.any(at <= 0) or np.any(ar <= 0):
        raise FormatError("amplitudes must be > 0 to form a perturbation")
    dphi = np.angle(np.exp(1j * (target.phase.values - reference.phase.values)))
    if method == "rytov":
        return np.log(at / ar) + 1j * dphi
    if method == "born":
        return (at / ar) * np.exp(1j * dphi) - 1.0
    raise ConfigError(f"method must be 'rytov' or 'born', got {method!r}")


def weight_matrix(src, det, mesh: DualMesh, props: dif.OpticalProperties, *, method="rytov"):
    """Weights (pairs, unknowns) of the dual mesh, complex (Rytov: per mm^-1).

    Parameters
    ----------
    src, det : array_like, (S, 3), (M, 3)
        Optode positions, mm.
    mesh : DualMesh
        The dual mesh (:func:`dual_mesh`).
    props : OpticalProperties
        Background optical properties at one wavelength.
    method : {"rytov", "born"}
        Rytov weights (per mm⁻¹) or Born weights.

    Returns
    -------
    numpy.ndarray, (S * M, unknowns)
        Complex weight matrix.
    """
    from scipy import sparse

    w = dif.born_weights(src, det, mesh.points, mesh.volumes, props)  # (S, M, P)
    w = w.reshape(-1, mesh.points.shape[0])
    if method == "rytov":
        phi0 = dif.fluence_semi_infinite(src, det, props).reshape(-1)
        w = w / phi0[:, None]
    agg = sparse.csr_matrix(
        (np.ones(mesh.owner.size), (np.arange(mesh.owner.size), mesh.owner)),
        shape=(mesh.owner.size, mesh.n_unknowns),
    )
    return np.asarray((agg.T @ w.T).T)


def _penalised(a: np.ndarray, penalty) -> tuple[np.ndarray, np.ndarray]:
    """``A L^-1`` and ``L`` (ones without a penalty): the solvers solve for ``L x``, then divide."""
    lw = np.ones(a.shape[1]) if penalty is None else np.asarray(penalty, float)
    return a / lw, lw


@positional_options
def tikhonov(a: np.ndarray, b: np.ndarray, alpha: float, *, penalty=None) -> np.ndarray:
    """``argmin ||A x - b||^2 + alpha ||diag(penalty) x||^2`` in the data space.

    ``x = L^-1 A'^T (A' A'^T + alpha I)^-1 b`` with ``A' = A L^-1`` (rows << columns), solved
    with a Cholesky factorisation.

    Parameters
    ----------
    a : numpy.ndarray, (m, n)
        System matrix; the (m, m) data-space system is factorised, so m should be small.
    b : numpy.ndarray, (m,)
        Data.
    alpha : float
        Regularisation weight (>= 0).
    penalty : array_like, (n,), optional
        Per-unknown penalty weights ``L`` (default: ones).

    Returns
    -------
    numpy.ndarray, (n,)
        The regularised solution.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.fusion.reconstruction import tikhonov
    >>> a = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> tikhonov(a, np.array([1.0, 2.0]), 1e-12).round(6).tolist()
    [1.0, 1.0]
    """
    from scipy.linalg import cho_factor, cho_solve

    ap, lw = _penalised(a, penalty)
    g = ap @ ap.T
    g[np.diag_indices_from(g)] += alpha
    try:
        y = cho_solve(cho_factor(g), b)
    except np.linalg.LinAlgError as exc:
        raise SolverError(f"Tikhonov system not positive definite (alpha={alpha})") from exc
    return (ap.T @ y) / lw


@positional_options
def cgls(a, b, iterations: int, *, alpha: float = 0.0, penalty=None) -> np.ndarray:
    """Conjugate gradients on the (damped) normal equations (CGLS), ``iterations`` steps.

    Parameters
    ----------
    a : numpy.ndarray, (m, n)
        System matrix; only its products with vectors are used, nothing is factorised.
    b : numpy.ndarray, (m,)
        Data (the first residual: the iteration starts from ``x = 0``).
    iterations : int
        Number of CGLS steps.
    alpha : float
        Damping (Tikhonov weight); 0 for plain least squares.
    penalty : array_like, (n,), optional
        Per-unknown penalty weights (default: ones).

    Returns
    -------
    numpy.ndarray, (n,)
        The solution after ``iterations`` steps (converges to :func:`tikhonov`'s).
    """
    ap, lw = _penalised(a, penalty)
    u = np.zeros(a.shape[1])
    r = b.copy()
    s = ap.T @ r
    p = s.copy()
    gam = s @ s
    for _ in range(int(iterations)):
        q = ap @ p
        den = q @ q + alpha * (p @ p)
        if den <= 0:
            break
        step = gam / den
        u += step * p
        r -= step * q
        s = ap.T @ r - alpha * u
        gnew = s @ s
        if gnew < 1e-30:
            break
        p = s + (gnew / gam) * p
        gam = gnew
    return u / lw


def noise_weights(
    target: xr.Dataset,
    reference: xr.Dataset,
    y: np.ndarray,
    *,
    method: str = "born",
    floor: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray | None:
    """Inverse standard errors of the perturbation's real and imaginary parts, per pair.

    From the per-pair standard errors a measurement may carry (``amplitude_rel_se``, the
    relative standard error of the amplitude, and ``phase_se``, rad), those of target and
    reference added in quadrature, each with ``floor`` added in quadrature too. For the Rytov
    perturbation ``ln(A_t/A_r) + j dphi`` they are the errors of its two parts; for the
    relative Born perturbation ``(A_t/A_r) exp(j dphi) - 1`` both scale with ``A_t/A_r``.

    Parameters
    ----------
    target, reference : xarray.Dataset
        ``optical_measurement`` of the lesion side and of the reference.
    y : numpy.ndarray, (wavelength, source, detector)
        Their perturbation (:func:`perturbation`).
    method : {"born", "rytov"}
        The perturbation's form.
    floor : (float, float)
        Relative amplitude and phase (rad) error added to every pair: calibration, coupling
        and model errors that photon statistics do not show.

    Returns
    -------
    numpy.ndarray, complex, (wavelength, source * detector), or None
        ``1/sigma_real + 1j/sigma_imag`` of each pair (the weights of
        :class:`brim.fusion.lesion_fit.RowWeights`); ``None`` when either measurement lacks
        one of the two standard errors.

    Raises
    ------
    ConfigError
        A negative floor, or standard errors that are not positive where the floor is 0.

    Examples
    --------
    Phase three times noisier than amplitude on one pair of a 1 x 1 probe:

    >>> import numpy as np
    >>> from brim.fusion import measurement_from_arrays
    >>> from brim.fusion.reconstruction import noise_weights, perturbation
    >>> m = measurement_from_arrays(np.ones((1, 1, 1)), np.zeros((1, 1, 1)), [780.0],
    ...                             [[0, 0]], [[0.02, 0]], 1e8)
    >>> m["amplitude_rel_se"] = m.amplitude.copy(data=[[[0.01]]]).assign_attrs(units="1")
    >>> m["phase_se"] = m.phase.copy(data=[[[0.03]]])
    >>> w = noise_weights(m, m, perturbation(m, m))
    >>> round(float(w.real[0, 0] / w.imag[0, 0]), 6)
    3.0
    """
    if not all(v in ds for v in ERROR_VARIABLES for ds in (target, reference)):
        return None
    floor_a, floor_p = (float(f) for f in floor)
    if not (floor_a >= 0 and floor_p >= 0):
        raise ConfigError(f"noise_floor must be two numbers >= 0, got {floor}")
    var_a = target.amplitude_rel_se.values**2 + reference.amplitude_rel_se.values**2 + floor_a**2
    var_p = target.phase_se.values**2 + reference.phase_se.values**2 + floor_p**2
    if not (np.all(var_a > 0) and np.all(var_p > 0)):
        raise ConfigError(
            "amplitude_rel_se and phase_se must be > 0 for every pair (or give a noise_floor)"
        )
    scale = np.abs(y + 1.0) if method == "born" else 1.0  # A_t/A_r of the Born perturbation
    inv_a = 1.0 / (scale * np.sqrt(var_a))
    inv_p = 1.0 / (scale * np.sqrt(var_p))
    return (inv_a + 1j * inv_p).reshape(inv_a.shape[0], -1)


#: ``lesion_fit_chi2`` above which ``reconstruct`` warns. With the right ROI the misfit of
#: data with correct standard errors is about 1 (Monte Carlo data, 8 lesions: 1.2-1.3, the
#: rest is the diffusion model's error); an ROI 8-20 mm beside a 15-25 mm lesion gives 1.7-80.
#: A depth error of a deep or a small lesion can fit as well as the truth, so no warning is no
#: proof the ROI is right.
CHI2_WARNING = 2.0


def _chi2(relative_residual, yv, rowscale, freq) -> float:
    """Noise-weighted misfit per data value (about 1 where the model explains the data to
    their stated errors), from a fit's relative residual; NaN without noise weights."""
    if not isinstance(rowscale, RowWeights):
        return float("nan")
    weighted = weigh(yv, rowscale)
    rows = yv.size if freq == 0 else 2 * yv.size
    norm2 = float(np.sum(weighted.real**2) + (0.0 if freq == 0 else np.sum(weighted.imag**2)))
    return relative_residual**2 * norm2 / rows


def _solve(wm, yv, freq, solver, alpha, penalty, iterations, smax2=None):
    a = np.concatenate([wm.real, wm.imag])
    b = np.concatenate([yv.real, yv.imag])
    if freq == 0:
        a, b = wm.real, yv.real
    if solver == "lstsq":
        return np.linalg.lstsq(a, b, rcond=None)[0]
    if smax2 is None:
        smax2 = _smax2(a / penalty)
    if solver == "tikhonov":
        return tikhonov(a, b, alpha * smax2, penalty=penalty)
    if solver == "cgls":
        return cgls(a, b, iterations, alpha=alpha * smax2, penalty=penalty)
    raise ConfigError(f"solver must be tikhonov, cgls or lstsq, got {solver!r}")


def _smax2(a, iters: int = 30) -> float:
    """Largest squared singular value by power iteration on ``a a^T`` (deterministic start)."""
    g = a @ a.T
    v = np.ones(g.shape[0]) / np.sqrt(g.shape[0])
    lam = 0.0
    for _ in range(iters):
        u = g @ v
        lam = float(np.linalg.norm(u))
        if lam == 0:
            return 1.0
        v = u / lam
    return lam


def _distorted_greens(src, det, mesh: DualMesh, props: dif.OpticalProperties) -> tuple:
    """The Green's matrices of :func:`_distorted`, which depend on the geometry, not on ``x``."""
    from brim.fusion.simulate import volume_green_matrix  # the simulator's exact ROI model

    roi_idx = np.flatnonzero(mesh.in_roi)
    rpts = mesh.centers[roi_idx]
    s3 = dif._source_points(src, props)
    ends = np.concatenate([s3, dif._detector_points(det)])
    gpr = dif.green_matrix(mesh.points, rpts, props)  # (P, R)
    gpr[roi_idx, np.arange(roi_idx.size)] = 0.0  # fine points first: point i is unknown i
    return (
        volume_green_matrix(rpts, mesh.fine_spacing**3, props),  # (R, R)
        dif.green_matrix(rpts, ends, props),  # (R, S+M)
        gpr,
        dif.green_matrix(mesh.points, ends, props),  # (P, S+M)
        s3.shape[0],  # S
    )


def _distorted(
    src, det, mesh: DualMesh, props: dif.OpticalProperties, x, direction=None, greens=None
):
    """Exact prediction of the ROI perturbation and the distorted-Born Jacobian.

    The perturbation on the fine voxels inside the ROI is treated exactly (volume-integral
    equation, as in :func:`brim.fusion.simulate.lesion_scattered_field`); elsewhere to first
    order. Returns the predicted scattered fluence (pairs,) and the Jacobian (pairs, unknowns)
    built from the perturbed source and detector fields (distorted Born iterative method,
    W. C. Chew, Y. M. Wang, IEEE TMI 9:218, 1990). With ``direction`` (unknowns,) the second
    value is the Jacobian times ``direction`` (pairs,), without forming the Jacobian.
    ``greens`` are :func:`_distorted_greens` of the same geometry, when already computed.
    """
    from scipy import sparse

    grr, g0, gpr, gpe, ns = _distorted_greens(src, det, mesh, props) if greens is None else greens
    roi_idx = np.flatnonzero(mesh.in_roi)
    dv = mesh.fine_spacing**3
    dm = x[roi_idx]
    f_roi = np.linalg.solve(np.eye(roi_idx.size) + grr * (dm * dv)[None, :], g0)  # (R, S+M)
    # prediction: Phi_sc(s, d) = -sum_j G(d, r_j) dmu_j dV Phi_s(r_j)
    pred_roi = -(g0[:, ns:].T * (dm * dv)[None, :]) @ f_roi[:, :ns]  # (M, S)
    others = ~mesh.in_roi
    # fields at all quadrature points
    fields = gpe - (gpr * (dm * dv)[None, :]) @ f_roi  # (P, S+M)
    fields[roi_idx] = f_roi  # the exact field on the ROI voxels
    fs, fd = fields[:, :ns], fields[:, ns:]
    if direction is not None:

        def times(v):  # the Jacobian (rows source-major, as below) times unknowns v
            w = v[mesh.owner] * mesh.volumes
            return (-(fs * w[:, None]).T @ fd).reshape(-1)

        pred = pred_roi.T.reshape(-1) + times(np.where(others, x, 0.0))
        return pred, times(np.asarray(direction, np.float64))
    jp = -(fs.T[:, None, :] * fd.T[None, :, :]) * mesh.volumes  # (S, M, P)
    jp = jp.reshape(-1, mesh.points.shape[0])
    agg = sparse.csr_matrix(
        (np.ones(mesh.owner.size), (np.arange(mesh.owner.size), mesh.owner)),
        shape=(mesh.owner.size, mesh.n_unknowns),
    )
    jac = np.asarray((agg.T @ jp.T).T)
    pred = pred_roi.T.reshape(-1) + jac[:, others] @ x[others]
    return pred, jac


#: ``lesion_estimate`` values and the ``estimate`` attribute each writes
_LESION_ESTIMATES = {
    "joint": "homogeneous-lesion fit, surroundings refitted",
    "fit": "homogeneous-lesion fit",
    "mean": "voxel mean",
}


def _background_props(reference, background, n):
    from brim.fusion.background import fit_background

    if background is None:
        background = fit_background(reference, n=n)
    return background


@provenance.step
def reconstruct(
    target: xr.Dataset,
    reference: xr.Dataset,
    *,
    roi: LesionRoi | None = None,
    us: xr.Dataset | xr.DataArray | None = None,
    background: xr.Dataset | None = None,
    n: float | None = None,
    method: str = "born",
    solver: str = "tikhonov",
    alpha: float = 1e-3,
    outside_penalty: float = 100.0,
    iterations: int = 20,
    fine: float = 2.5e-3,
    coarse: tuple[float, float] = (0.010, 0.005),
    fine_factor: float = 1.5,
    extent: float = 0.045,
    depth: float = 0.040,
    display_spacing: float | None = None,
    nonlinear_iterations: int = 1,
    lesion_estimate: str = "joint",
    weighting: str = "auto",
    noise_floor: tuple[float, float] = (0.0, 0.0),
) -> xr.Dataset:
    """US-guided dual-mesh reconstruction of absorption per wavelength.

    Parameters
    ----------
    target, reference : xarray.Dataset
        ``optical_measurement`` of the lesion side and of the reference (positions in m).
    roi : LesionRoi, optional
        Lesion region (m).
    us : xarray.Dataset or xarray.DataArray, optional
        Instead of ``roi``: an ultrasound lesion mask, from brim.fusion (dims ``(y, x)``,
        y = depth) or brim.elasto (dims ``(depth, line)``), coordinates in any length unit; see
        :func:`roi_from_mask`.
    background : xarray.Dataset, optional
        From :func:`brim.fusion.background.fit_background` (default: fitted on ``reference``).
    method : {"born", "rytov"}
        Linearisation. Born rows are scaled by ``1/|Phi0|`` (relative perturbations).
    solver : {"tikhonov", "cgls", "lstsq"}
        ``lstsq`` is the plain dense minimum-norm least-squares reference (numpy), unregularised.
    alpha : float
        Regularisation relative to the largest squared singular value of the (penalty-scaled)
        weight matrix.
    outside_penalty : float
        Penalty weight of unknowns outside the US lesion relative to inside (the US prior).
    iterations : int
        CGLS iterations.
    n : float, optional
        Refractive index (default ``target.attrs["refractive_index"]`` or 1.33).
    fine, coarse, fine_factor, extent, depth : float
        Dual-mesh settings (m), see :func:`dual_mesh`.
    display_spacing : float, optional
        Spacing (m) of the output grid; default the fine voxel size.
    nonlinear_iterations : int
        Gauss-Newton (distorted Born) updates after the Born solution: the perturbation inside
        the US lesion is then modelled exactly, which removes Born's underestimate of strong
        absorbers (``method="born"`` only, ignored for Rytov; 0 = plain first Born).
    lesion_estimate : {"joint", "fit", "mean"}
        How ``lesion_delta_mua`` is obtained. ``"joint"`` (default): one homogeneous absorption
        change inside the US lesion, each voxel weighted by its volume fraction in the lesion,
        fitted to the data on the distorted-Born model together with the (penalised) voxels
        around it (:func:`brim.fusion.lesion_fit.fit_lesion_with_surroundings`): it removes
        the depth-sensitivity and partial-volume bias of the voxel mean and the spill-over of
        the lesion into the voxel solution around it (noise-free data of a 10 mm lesion at
        30 mm: -1 %, against -10 % with ``"fit"``). ``"fit"``: the same lesion model with the
        tissue outside held at the voxel solution
        (:func:`brim.fusion.lesion_fit.fit_homogeneous_lesion`; the default of the previous
        release). ``"mean"``: the mean of the voxels whose centre lies in the lesion (the
        estimate of earlier releases, biased low: a 15 mm lesion at 2 cm, -22 %; also used
        for Rytov).
    weighting : {"auto", "noise", "equal"}
        How the data rows are weighted. ``"noise"``: each pair's amplitude and phase by the
        inverse of their standard errors (:func:`noise_weights`; target and reference must
        carry ``amplitude_rel_se`` and ``phase_se``), the least-squares weighting for
        heteroscedastic data such as photon counts, where far pairs are much noisier than near
        ones. ``"equal"``: every pair's relative perturbation alike. ``"auto"`` (default):
        ``"noise"`` when both measurements carry the standard errors, else ``"equal"``. The
        attribute ``data_weighting`` records which ran.
    noise_floor : (float, float)
        Relative amplitude and phase (rad) error added in quadrature to the standard errors
        (``weighting="noise"`` only).

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` with ``mua`` and ``delta_mua`` (wavelength, z, y, x) in mm^-1 on a
        regular display grid (coordinates in m); ``roi_mask`` (z, y, x); ``lesion_delta_mua``,
        ``background_mua``, ``background_musp`` over wavelength (mm^-1); the ROI (m) in
        ``attrs["roi_center_m"]`` / ``attrs["roi_semi_axes_m"]`` (JSON). With a lesion fit
        also ``lesion_fit_residual`` (relative) and, with noise weights,
        ``lesion_fit_chi2``: the misfit per data value in units of the stated noise variance
        (about 1 when the model and the ROI explain the data).

    Warns
    -----
    BrimWarning
        ``lesion_fit_chi2`` above :data:`CHI2_WARNING` (2): the ROI may miss the lesion.

    Raises
    ------
    ConfigError
        No lesion region, or bad settings (the message names the setting).
    FormatError
        Target and reference (or the background fit) do not match.
    SchemaError
        A measurement or ultrasound mask that breaks its schema.

    Examples
    --------
    One wavelength of the bundled samples on a coarse 5 mm grid (the sample lesion: 1.5 cm
    diameter, centred 5 mm beside the probe axis at 2 cm depth):

    >>> import brim.data
    >>> from brim.fusion import lesion_summary, reconstruct
    >>> target = brim.data.sample("fusion_measurement").isel(wavelength=[1])
    >>> reference = brim.data.sample("fusion_reference").isel(wavelength=[1])
    >>> us = brim.data.sample("fusion_ultrasound")  # B-mode and lesion mask, lengths in m
    >>> rec = reconstruct(target, reference, us=us, fine=5e-3, nonlinear_iterations=0)
    >>> rec["delta_mua"].dims, rec["delta_mua"].attrs["units"]
    (('wavelength', 'z', 'y', 'x'), 'mm-1')
    >>> [round(v) for v in lesion_summary(rec)["center_mm"]]  # x, y, depth, mm; 5 mm voxels
    [5, 0, 18]
    """
    from brim.schema import expect_dataset, stamp

    expect_dataset(target, "optical_measurement")
    expect_dataset(reference, "optical_measurement")
    if roi is None:
        if us is None:
            raise ConfigError(
                "give the lesion region: an ultrasound mask (us=) or a LesionRoi (roi=)"
            )
        roi = roi_from_mask(us)
    _expect_roi(roi)
    try:
        alpha_value = float(alpha)
    except (TypeError, ValueError):
        alpha_value = float("nan")
    if not np.isfinite(alpha_value) or alpha_value < 0:
        raise ConfigError(f"alpha must be a finite number >= 0, got {alpha!r}")
    alpha = alpha_value
    if background is not None and (
        not isinstance(background, xr.Dataset) or not {"mua", "musp"} <= set(background.data_vars)
    ):
        raise ConfigError(
            "background must be the Dataset brim.fusion.fit_background(reference) returns (mua "
            f"and musp per wavelength), got {type(background).__name__}"
            + (" without mua/musp" if isinstance(background, xr.Dataset) else "")
            + "; a reference measurement goes in reference="
        )
    outside_penalty = check_positive("outside_penalty", outside_penalty)
    if solver == "cgls":
        iterations = check_positive("iterations", iterations, integer=True)
    if display_spacing is not None:
        display_spacing = check_positive("display_spacing (m)", display_spacing) * M_TO_MM
    if not float(nonlinear_iterations).is_integer() or nonlinear_iterations < 0:
        raise ConfigError(
            f"nonlinear_iterations must be a whole number >= 0, got {nonlinear_iterations}"
        )
    y_all = perturbation(target, reference, method=method)
    if weighting not in ("auto", "noise", "equal"):
        raise ConfigError(f"weighting must be auto, noise or equal, got {weighting!r}")
    noise = None
    if weighting != "equal":
        noise = noise_weights(target, reference, y_all, method=method, floor=noise_floor)
        if weighting == "noise" and noise is None:
            raise ConfigError(
                "weighting='noise' needs the standard errors amplitude_rel_se and phase_se in "
                "both the target and the reference measurement"
            )
    n = float(target.attrs.get("refractive_index", 1.33)) if n is None else float(n)
    bg = _background_props(reference, background, n)
    freq = float(target["modulation_frequency"])
    if lesion_estimate not in _LESION_ESTIMATES:
        raise ConfigError(
            f"lesion_estimate must be one of {list(_LESION_ESTIMATES)}, got {lesion_estimate!r}"
        )
    if method != "born":
        nonlinear_iterations = 0  # the exact ROI model is formulated on fluences (Born)
    mesh = dual_mesh(
        roi, extent=extent, depth=depth, fine=fine, coarse=coarse, fine_factor=fine_factor
    )
    frac = roi_fractions(
        mesh.centers,
        mesh.is_fine,
        mesh.fine_spacing,
        np.multiply(roi.center, M_TO_MM),
        np.multiply(roi.semi_axes, M_TO_MM),
    )
    if not frac.any():  # a lesion far smaller than a voxel: the voxels marked as inside it
        frac = mesh.in_roi.astype(np.float64)
    fit_lesion = lesion_estimate != "mean" and method == "born"
    lesion = np.empty(nw := target.sizes["wavelength"])
    lesion_residual = np.full(nw, np.nan)
    chi2 = np.full(nw, np.nan)
    src, det = _positions(target)
    penalty = np.where(mesh.in_roi, 1.0, float(outside_penalty))
    x_all = np.empty((nw, mesh.n_unknowns))
    mua_bg = np.asarray(bg.mua.values, float)
    musp_bg = np.asarray(bg.musp.values, float)
    bg_wl = np.asarray(bg.wavelength.values, float)
    if bg_wl.shape != (nw,) or not np.allclose(bg_wl, target.wavelength.values):
        raise FormatError(
            f"background fit wavelengths {bg_wl.tolist()} nm differ from the measurement's "
            f"{target.wavelength.values.tolist()} nm"
        )
    for w in range(nw):
        props = dif.OpticalProperties(mua_bg[w], musp_bg[w], n, freq)
        wm = weight_matrix(src, det, mesh, props, method=method)
        yv = y_all[w].reshape(-1)
        rowscale: np.ndarray | RowWeights = np.ones(yv.size)
        factor = np.ones(yv.size, complex)
        if method == "born":
            phi0 = dif.fluence_semi_infinite(src, det, props).reshape(-1)
            yv = yv * phi0
            rowscale = 1.0 / np.abs(phi0)  # relative perturbations weigh all pairs alike
            factor = 1.0 / phi0
        if noise is not None:  # the relative perturbation's two parts by their errors
            rowscale = RowWeights(factor, noise[w].real, noise[w].imag)
        a0 = weigh(wm, rowscale)
        smax2 = _smax2(np.concatenate([a0.real, a0.imag]) / penalty)
        x = _solve(a0, weigh(yv, rowscale), freq, solver, alpha, penalty, iterations, smax2)
        needs_exact = method == "born" and (nonlinear_iterations > 0 or fit_lesion)
        greens = _distorted_greens(src, det, mesh, props) if needs_exact else None
        for _ in range(int(nonlinear_iterations)):
            pred, jac = _distorted(src, det, mesh, props, x, greens=greens)
            r = weigh(yv - pred, rowscale)
            jw = weigh(jac, rowscale)
            x = _solve(jw, r + jw @ x, freq, solver, alpha, penalty, iterations, smax2)
        x_all[w] = x
        if fit_lesion and lesion_estimate == "joint":
            fit, _ = fit_lesion_with_surroundings(
                partial(_distorted, src, det, mesh, props, greens=greens),
                x,
                frac,
                yv,
                lambda a, b, pen: _solve(a, b, freq, solver, alpha, pen, iterations),
                penalty,
                rowscale=rowscale,
            )
            lesion[w], lesion_residual[w] = fit.delta_mua, fit.relative_residual
            chi2[w] = _chi2(fit.relative_residual, yv, rowscale, freq)
        elif fit_lesion:
            fit = fit_homogeneous_lesion(
                partial(_distorted, src, det, mesh, props, greens=greens),
                x,
                frac,
                yv,
                rowscale=rowscale,
            )
            lesion[w], lesion_residual[w] = fit.delta_mua, fit.relative_residual
            chi2[w] = _chi2(fit.relative_residual, yv, rowscale, freq)
        else:
            lesion[w] = x[mesh.in_roi].mean()
    if np.nanmax(chi2, initial=0.0) > CHI2_WARNING:
        warn(
            f"the lesion fit leaves a misfit of {np.nanmax(chi2):.1f} times the stated noise "
            f"variance (lesion_fit_chi2 above {CHI2_WARNING:g}): the ultrasound ROI may miss "
            "the lesion, the background may not be homogeneous, or the standard errors leave "
            "out systematic errors (noise_floor)"
        )
    ds = _to_grid(mesh, x_all, mua_bg, target.wavelength.values, roi, display_spacing)
    ds.attrs.update(
        {
            "roi_center_m": json.dumps(list(roi.center)),
            "roi_semi_axes_m": json.dumps(list(roi.semi_axes)),
            "n_unknowns": int(mesh.n_unknowns),
            "n_fine": int(mesh.is_fine.sum()),
            "method": method,
            "solver": solver,
            "data_weighting": "equal" if noise is None else "noise",
        }
    )
    ds["lesion_delta_mua"] = (
        "wavelength",
        lesion,
        {
            "units": "mm-1",
            "long_name": "absorption change of the US lesion",
            "estimate": _LESION_ESTIMATES[lesion_estimate if fit_lesion else "mean"],
        },
    )
    if fit_lesion:
        ds["lesion_fit_residual"] = (
            "wavelength",
            lesion_residual,
            {"units": "1", "long_name": "relative data residual of the lesion fit"},
        )
        if noise is not None:
            ds["lesion_fit_chi2"] = (
                "wavelength",
                chi2,
                {
                    "units": "1",
                    "long_name": "noise-weighted misfit of the lesion fit per data value",
                },
            )
    ds["background_mua"] = ("wavelength", mua_bg, {"units": "mm-1"})
    ds["background_musp"] = ("wavelength", musp_bg, {"units": "mm-1"})
    ds = stamp(ds, "reconstruction")
    provenance.note(roi=[roi.center, roi.semi_axes])  # the ROI used, given or from ``us``
    return ds


def _to_grid(mesh: DualMesh, x_all, mua_bg, wavelengths, roi: LesionRoi, spacing):
    """The unknowns on a regular grid (spacing in mm, as the mesh); coordinates out in m."""
    h = mesh.fine_spacing if spacing is None else float(spacing)
    # align the display grid with the fine box so fine voxels map one-to-one when h = fine
    ox = mesh.fine_lo[0] - np.floor((mesh.fine_lo[0] + mesh.extent) / h) * h
    oy = mesh.fine_lo[1] - np.floor((mesh.fine_lo[1] + mesh.extent) / h) * h
    oz = mesh.fine_lo[2] - np.floor(mesh.fine_lo[2] / h) * h
    xs = np.arange(ox + h / 2, mesh.extent, h)
    ys = np.arange(oy + h / 2, mesh.extent, h)
    zs = np.arange(oz + h / 2, mesh.depth, h)
    Z, Y, X = np.meshgrid(zs, ys, xs, indexing="ij")  # noqa: N806
    pts = np.stack([X.ravel(), Y.ravel(), Z.ravel()], 1)
    idx = mesh.locate(pts)
    vals = np.where(idx[None, :] >= 0, x_all[:, np.maximum(idx, 0)], np.nan)
    delta = vals.reshape((len(wavelengths),) + Z.shape)
    mua = delta + np.asarray(mua_bg)[:, None, None, None]
    dims = ("wavelength", "z", "y", "x")
    mm = {"units": "mm-1"}
    return xr.Dataset(
        {
            "mua": (dims, mua, {**mm, "long_name": "absorption coefficient"}),
            "delta_mua": (dims, delta, {**mm, "long_name": "absorption change"}),
            "roi_mask": (
                ("z", "y", "x"),
                _inside(pts, np.multiply(roi.center, M_TO_MM), np.multiply(roi.semi_axes, M_TO_MM))
                .reshape(Z.shape)
                .astype(np.uint8),
            ),
        },
        coords={
            "wavelength": ("wavelength", np.asarray(wavelengths, float), {"units": "nm"}),
            "z": ("z", zs * MM_TO_M, {"units": "m", "long_name": "depth"}),
            "y": ("y", ys * MM_TO_M, {"units": "m", "long_name": "elevation"}),
            "x": ("x", xs * MM_TO_M, {"units": "m", "long_name": "lateral"}),
        },
    )


@provenance.step
def hemoglobin(recon: xr.Dataset, *, extinction: xr.Dataset | None = None) -> xr.Dataset:
    """Oxy-, deoxy-, total haemoglobin (micromolar) and saturation from ``mua`` maps.

    Per voxel, least squares over wavelengths of
    ``mua(lambda) [mm^-1] = ln(10)/10 (eps_HbO2(lambda) C_HbO2 + eps_Hb(lambda) C_Hb)``
    with ``eps`` in cm^-1/M (Prahl's table by default, or the ``extinction`` table given).

    Parameters
    ----------
    recon : xarray.Dataset
        A map ``mua`` with a ``wavelength`` dimension, in mm-1, cm-1 or m-1 (its ``units``
        attribute; converted to mm-1 here).
    extinction : xarray.Dataset, optional
        Extinction table (:func:`brim.fusion.read_extinction`); default Prahl's.

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` with ``hbo2``, ``hb``, ``hbt`` (uM) and ``so2`` (1) maps, plus
        ``lesion_*`` means over ``roi_mask`` when present.

    Raises
    ------
    SchemaError
        No ``mua`` over ``wavelength``.
    ConfigError
        ``mua`` without absorption units, or fewer than two wavelengths.

    Examples
    --------
    Absorption spectra of 30 µM HbO2 and 10 µM Hb give back HbT 40 µM and sO2 0.75:

    >>> import xarray as xr
    >>> from brim.fusion import hemoglobin, mua_from_hemoglobin
    >>> wl = [760.0, 800.0, 850.0]
    >>> mua = xr.DataArray(mua_from_hemoglobin(30.0, 10.0, wl), dims="wavelength",
    ...                    attrs={"units": "mm-1"})
    >>> hb = hemoglobin(xr.Dataset({"mua": mua}, coords={"wavelength": wl}))
    >>> round(float(hb["hbt"]), 6), round(float(hb["so2"]), 6)
    (40.0, 0.75)
    """
    from brim.fusion.extinction import extinction_at
    from brim.schema import expect_dataset, stamp

    expect_dataset(recon, "reconstruction", builder="brim.fusion.reconstruct")
    if "mua" not in recon or "wavelength" not in recon["mua"].dims:
        raise SchemaError(
            "need a 'mua' map with a 'wavelength' dimension (from brim fusion reconstruct)"
        )
    to_mm = per_mm_factor(recon["mua"].attrs.get("units"), "'mua'")
    wl = recon.wavelength.values
    if wl.size < 2:
        raise ConfigError("at least two wavelengths are needed to separate HbO2 and Hb")
    e = extinction_at(wl, extinction=extinction) * UM_TO_MUA  # (nw, 2): mm^-1 per uM
    mua = recon["mua"].transpose("wavelength", ...).values * to_mm
    shp = mua.shape[1:]
    flat = mua.reshape(wl.size, -1)
    good = np.all(np.isfinite(flat), 0)
    conc = np.full((2, flat.shape[1]), np.nan)
    conc[:, good] = np.linalg.lstsq(e, flat[:, good], rcond=None)[0]
    hbo2, hb = conc[0].reshape(shp), conc[1].reshape(shp)
    hbt = hbo2 + hb
    with np.errstate(divide="ignore", invalid="ignore"):
        so2 = np.where(hbt > 0, hbo2 / hbt, np.nan)
    dims = recon["mua"].dims[1:]
    um = {"units": "uM"}
    out = xr.Dataset(
        {
            "hbo2": (dims, hbo2, {**um, "long_name": "oxyhaemoglobin"}),
            "hb": (dims, hb, {**um, "long_name": "deoxyhaemoglobin"}),
            "hbt": (dims, hbt, {**um, "long_name": "total haemoglobin"}),
            "so2": (dims, so2, {"units": "1", "long_name": "oxygen saturation"}),
        },
        coords={c: recon[c] for c in dims if c in recon.coords},
        attrs={k: v for k, v in recon.attrs.items() if k != "brim_provenance"},
    )
    if "roi_mask" in recon:
        out["roi_mask"] = recon["roi_mask"]
    if "lesion_delta_mua" in recon and "background_mua" in recon:
        f_les = per_mm_factor(recon["lesion_delta_mua"].attrs.get("units"), "'lesion_delta_mua'")
        f_bg = per_mm_factor(recon["background_mua"].attrs.get("units"), "'background_mua'")
        bg_mua = recon["background_mua"].values * f_bg
        les = recon["lesion_delta_mua"].values * f_les + bg_mua
        c = np.linalg.lstsq(e, les, rcond=None)[0]
        cb = np.linalg.lstsq(e, bg_mua, rcond=None)[0]
        for name, val in (
            ("lesion_hbo2", c[0]),
            ("lesion_hb", c[1]),
            ("lesion_hbt", c.sum()),
            ("background_hbt", cb.sum()),
        ):
            out[name] = ((), float(val), um)
        out["lesion_so2"] = ((), float(c[0] / c.sum()), {"units": "1"})
        if not 0.0 <= float(out["lesion_so2"]) <= 1.0:
            warnings.warn(
                f"lesion sO2 = {float(out['lesion_so2']):.3g} lies outside [0, 1] (HbO2 "
                f"{c[0]:.3g}, Hb {c[1]:.3g} uM): the reconstruction does not fit a haemoglobin "
                "spectrum (wrong background, ROI or extinction table?)",
                UserWarning,
                stacklevel=3,  # the caller of hemoglobin, past the provenance wrapper
            )
    out = stamp(out, "reconstruction")
    provenance.note(extinction="prahl-default" if extinction is None else "user")
    return out  # @provenance.step appends this step to the reconstruction's chain


def lesion_summary(recon: xr.Dataset, *, var: str = "delta_mua", threshold: float = 0.5) -> dict:
    """Centre (weighted by values above ``threshold`` x max) and peak of a map variable.

    Uses the first wavelength when the variable has a wavelength dimension.

    Parameters
    ----------
    recon : xarray.Dataset
        A reconstruction with ``z, y, x`` coordinates in a length unit.
    var : str
        The map variable.
    threshold : float
        Fraction of the maximum above which voxels count.

    Returns
    -------
    dict
        ``center`` (x, y, z) in m, ``center_mm`` the same in mm (for printed summaries) and
        ``peak`` (the variable's units).

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from brim.fusion import lesion_summary
    >>> z = y = x = np.arange(5) * 1e-3  # m
    >>> v = np.zeros((5, 5, 5))
    >>> v[3, 2, 1] = 1.0
    >>> rec = xr.Dataset({"hbt": (("z", "y", "x"), v)}, coords={"z": z, "y": y, "x": x})
    >>> for c in "zyx":
    ...     rec[c].attrs["units"] = "m"
    >>> s = lesion_summary(rec, var="hbt")
    >>> s["center_mm"], s["peak"]
    ([1.0, 2.0, 3.0], 1.0)
    """
    da = _map_var(recon, var)
    if "wavelength" in da.dims:
        da = da.isel(wavelength=0)
    v = np.nan_to_num(da.transpose("z", "y", "x").values)
    m = v >= threshold * v.max()
    wts = np.where(m, v, 0.0)
    axes = [
        np.asarray(recon[c].values, float) * length_factor(recon[c].attrs.get("units"), c)
        for c in ("z", "y", "x")
    ]
    Z, Y, X = np.meshgrid(*axes, indexing="ij")  # noqa: N806
    s = wts.sum()
    centre = [float((c * wts).sum() / s) for c in (X, Y, Z)]
    return {
        "center": centre,
        "center_mm": [c * M_TO_MM for c in centre],
        "peak": float(v.max()),
    }
