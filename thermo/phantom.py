"""A 3-D voxel breast phantom for the Pennes bioheat equation, and random subjects.

The phantom is a torso slab on a chest wall held at core temperature (Dirichlet), carrying two
hemispherical breasts. Each breast has a skin shell, a subcutaneous fat layer and a glandular
core whose perfusion and metabolic heat vary smoothly (a seeded random field, so the two breasts
of one subject are never exactly symmetric). A tumour is a sphere in the gland of one breast with
metabolic heat from Gautherie's law (:func:`gautherie_heat`) and raised perfusion, voxelised with
partial-volume weights so its total heat does not depend on the grid.

:func:`random_spec` draws a plausible subject. The simulators that solve and render a phantom
live in their own modules: :mod:`brim.thermo.simulate` (steady thermograms,
:func:`~brim.thermo.simulate.solve_phantom`), :mod:`brim.thermo.dynamic` (cold-stress sequences)
and :mod:`brim.thermo.cohort` (labelled cohorts); their names are still importable from this
module for one release, with a :class:`DeprecationWarning`.

Coordinates (m): ``z`` out of the chest towards the camera (chest wall at z = 0), ``y`` down the
body (head to feet, image rows), ``x`` across it, from the patient's right to the patient's left
(image columns of a frontal view: the patient faces the camera, so her left is on the viewer's
right, the radiological convention of the DMR-IR images).

Default tissue properties (``DEFAULT_TISSUES``)
-------------------------------------------------
Gland: k = 0.48 W/m/K, omega_b = 0.0005 1/s, Q_m = 450 W/m^3 (the values of Ng & Sudharsan
2001 and of the breast models that follow them, e.g. González 2007, Amri et al. 2011); blood
c_b = 3600 J/kg/K, T_a = 37 degC (Pennes 1948 / Ng & Sudharsan 2001). Fat and skin: values of
the order used by the same layered models (fat k 0.21 W/m/K, omega_b 0.0002 1/s, Q_m 400 W/m^3;
skin k 0.37 W/m/K, omega_b 0.0005 1/s). Tumour: k 0.48 W/m/K, omega_b 0.009 1/s (raised
perfusion, within the 0.003–0.01 1/s range used by breast-tumour models since Ng & Sudharsan
2001), Q_m from Gautherie's law. Environment: h = 10
W/m^2/K (natural convection + radiation combined, the usual value for a patient in a
temperature-controlled room), ambient 20–22 degC (the examination-room range of the
thermography protocols, e.g. Ng 2009). These are model defaults, not patient measurements;
every one is a parameter.

References
----------
Gautherie, M. (1980). Thermopathology of breast cancer: measurement and analysis of in vivo
temperature and blood flow. Ann. N. Y. Acad. Sci. 335, 383–415.
Gautherie, M., Gros, C. M. (1980). Breast thermography and cancer risk prediction. Cancer 45,
51–56.
Ng, E. Y. K., Sudharsan, N. M. (2001). Numerical computation as a tool to aid thermographic
interpretation. J. Med. Eng. Technol. 25(2), 53–60.
González, F. J. (2007). Thermal simulation of breast tumors. Rev. Mex. Fís. 53(4), 323–326.
Amri, A., Saidane, A., Pulko, S. (2011). Thermal analysis of a three-dimensional breast model
with embedded tumour using the transmission line matrix (TLM) method. Comput. Biol. Med. 41,
76–86.
Ng, E. Y. K. (2009). A review of thermography as promising non-invasive detection modality for
breast tumor. Int. J. Therm. Sci. 48, 849–859.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from brim.deprecation import positional_options
from brim.errors import ConfigError
from brim.thermo._moved import moved_names

GAUTHERIE_CONSTANT = 3.27e6
"""Gautherie's product of metabolic heat and doubling time, W·day/m^3 (Gautherie 1980)."""

AIR, CHEST, SKIN, FAT, GLAND, TUMOUR = 0, 1, 2, 3, 4, 5
LABEL_NAMES = {AIR: "air", CHEST: "chest wall", SKIN: "skin", FAT: "fat", GLAND: "gland",
               TUMOUR: "tumour"}  # fmt: skip


@dataclass(frozen=True)
class Tissue:
    """Thermal properties of one tissue.

    Attributes
    ----------
    conductivity : float
        k, W/m/K.
    perfusion : float
        Volumetric blood perfusion rate omega_b, 1/s.
    metabolic_heat : float
        Q_m, W/m^3.
    heat_capacity : float
        rho*c, J/m^3/K (transient problems only).
    """

    conductivity: float
    perfusion: float
    metabolic_heat: float
    heat_capacity: float


DEFAULT_TISSUES: dict[str, Tissue] = {
    "skin": Tissue(0.37, 0.0005, 450.0, 1200.0 * 3600.0),
    "fat": Tissue(0.21, 0.0002, 400.0, 930.0 * 2770.0),
    "gland": Tissue(0.48, 0.0005, 450.0, 1080.0 * 3000.0),
    "tumour": Tissue(0.48, 0.009, 0.0, 1080.0 * 3500.0),  # Q from gautherie_heat
    "chest": Tissue(0.48, 0.0005, 450.0, 1080.0 * 3000.0),
}
"""Default tissues (see the module docstring for sources)."""


def gautherie_doubling_time(diameter: float) -> float:
    """Tumour volume doubling time from its diameter, days.

    ``tau = 468.6 ln(100 D) + 50`` with D in metres (the regression of Gautherie's data quoted by
    the breast bioheat literature, e.g. Amri et al. 2011; some papers print 468.4). Valid for
    D >= 1 cm, where tau >= 50 days; below about 0.9 cm it turns negative.

    Parameters
    ----------
    diameter : float
        Tumour diameter D, m.

    Returns
    -------
    float
        Volume doubling time tau, days.
    """
    return 468.6 * float(np.log(100.0 * diameter)) + 50.0


def gautherie_heat(diameter: float) -> float:
    """Metabolic heat of a breast tumour by Gautherie's law, W/m^3.

    ``q tau = C`` with ``C = 3.27e6 W·day/m^3`` (Gautherie 1980) and the doubling time of
    :func:`gautherie_doubling_time`, so ``q = C / (468.6 ln(100 D) + 50)``: 65 400 W/m^3 at
    D = 1 cm (tau = 50 days), 8 700 W/m^3 at 2 cm.

    Parameters
    ----------
    diameter : float
        Tumour diameter D, m. Must be at least 0.95 cm (the law's doubling time is meaningless
        below ~0.9 cm).

    Returns
    -------
    float
        Metabolic heat, W/m^3.

    Raises
    ------
    ConfigError
        For a diameter outside the law's range.

    Examples
    --------
    >>> round(gautherie_heat(0.01))
    65400
    """
    if not 0.0095 <= diameter <= 0.1:
        raise ConfigError(
            f"Gautherie's law is used for tumour diameters 0.95–10 cm; got {diameter * 100:.2f} cm"
            " (pass metabolic_heat=... explicitly for smaller tumours)"
        )
    return GAUTHERIE_CONSTANT / gautherie_doubling_time(diameter)


@dataclass(frozen=True)
class TumourSpec:
    """A spherical tumour.

    Attributes
    ----------
    side : {"left", "right"}
        The patient's breast.
    diameter : float
        m.
    depth : float
        Depth of the tumour centre below the skin, m (along the breast radius).
    polar : float
        Angle of the tumour direction from the breast axis (+z), rad.
    azimuth : float
        Azimuth of that direction in the x-y plane, rad (0 = towards +x).
    metabolic_heat : float or None
        W/m^3; None: Gautherie's law for the diameter.
    perfusion : float or None
        1/s; None: ``DEFAULT_TISSUES["tumour"].perfusion``.
    """

    side: str = "left"
    diameter: float = 0.015
    depth: float = 0.02
    polar: float = 0.4
    azimuth: float = 0.0
    metabolic_heat: float | None = None
    perfusion: float | None = None


@dataclass(frozen=True)
class PhantomSpec:
    """Geometry and tissue parameters of a two-breast phantom (lengths in m, temps in degC).

    Attributes
    ----------
    voxel : float
        Voxel size, m.
    torso_width, torso_height, torso_thickness : float
        Torso slab size across (x), along the body (y) and its tissue thickness over the chest
        wall (z), m. The field spans ``torso_width + 2 * margin`` in x.
    margin : float
        Air beside the torso in x, m.
    breast_radius : (float, float)
        Hemisphere radius of the patient's right and left breast, m.
    breast_separation : float
        Distance between breast centres, m.
    breast_y : float
        y of the breast centres (below the torso centre), m.
    skin_thickness, fat_thickness : float
        Layer thicknesses, m.
    heterogeneity : float
        Relative standard deviation of the smooth random modulation of gland perfusion and
        metabolic heat (0 = homogeneous).
    correlation_length : float
        Length scale of that modulation, m.
    vessels : (int, int)
        Number of superficial veins in the patient's right and left breast: random walks
        ``vessel_depth`` (m) under the skin, one voxel wide, from the base towards the nipple,
        with perfusion ``vessel_perfusion`` (1/s; a Pennes-level proxy for a vein, not a
        discrete-vessel model). They give the warm branching pattern of
        breast thermograms; asymmetric vascular patterns are a classical thermographic sign
        (reviewed by Ng 2009).
    t_core : float
        Chest-wall (Dirichlet) temperature, degC.
    tumour : TumourSpec or None
    """

    voxel: float = 3e-3
    torso_width: float = 0.32
    torso_height: float = 0.22
    torso_thickness: float = 0.015
    margin: float = 0.03
    breast_radius: tuple[float, float] = (0.06, 0.06)
    breast_separation: float = 0.17
    breast_y: float = 0.03
    skin_thickness: float = 0.002
    fat_thickness: float = 0.01
    heterogeneity: float = 0.15
    correlation_length: float = 0.015
    vessels: tuple[int, int] = (3, 3)
    vessel_depth: float = 0.0045
    vessel_perfusion: float = 0.008
    t_core: float = 37.0
    tumour: TumourSpec | None = None
    tissues: dict = field(default_factory=lambda: dict(DEFAULT_TISSUES))


@dataclass
class Phantom:
    """A voxelised phantom: property grids on (z, y, x).

    Attributes
    ----------
    spec : PhantomSpec
    z, y, x : numpy.ndarray
        Voxel-centre coordinates, m.
    labels : numpy.ndarray of int8
        Tissue label per voxel (AIR, CHEST, SKIN, FAT, GLAND, TUMOUR).
    breast : numpy.ndarray of uint8
        0 torso/air, 1 patient's right breast, 2 patient's left breast.
    tumour_fraction : numpy.ndarray
        Volume fraction of tumour in each voxel (partial-volume weights).
    conductivity, perfusion, metabolic_heat, heat_capacity : numpy.ndarray
        W/m/K, 1/s, W/m^3, J/m^3/K.
    fixed : numpy.ndarray
        Dirichlet temperature (degC) on the chest wall, NaN elsewhere.
    tumour_centre : numpy.ndarray or None
        (z, y, x) of the tumour centre, m.
    """

    spec: PhantomSpec
    z: np.ndarray
    y: np.ndarray
    x: np.ndarray
    labels: np.ndarray
    breast: np.ndarray
    tumour_fraction: np.ndarray
    conductivity: np.ndarray
    perfusion: np.ndarray
    metabolic_heat: np.ndarray
    heat_capacity: np.ndarray
    fixed: np.ndarray
    tumour_centre: np.ndarray | None

    @property
    def domain(self) -> np.ndarray:
        """Tissue voxels (the unknowns)."""
        return self.labels >= SKIN


def _smooth_field(rng: np.random.Generator, shape, sigma_vox: float) -> np.ndarray:
    g = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_vox, mode="wrap")
    s = g.std()
    return g / s if s > 0 else g


def _breast_centres(spec: PhantomSpec) -> dict[str, tuple[float, float]]:
    half = spec.breast_separation / 2
    return {"right": (-half, spec.breast_y), "left": (half, spec.breast_y)}


def _tumour_centre(spec: PhantomSpec) -> np.ndarray:
    t = spec.tumour
    if t is None:
        raise ConfigError("the phantom has no tumour: its centre is undefined")
    xc, yc = _breast_centres(spec)[t.side]
    r = spec.breast_radius[0 if t.side == "right" else 1]
    rc = r - t.depth
    if rc - t.diameter / 2 < spec.torso_thickness * 0.5 or t.depth < t.diameter / 2:
        raise ConfigError(
            f"tumour (diameter {t.diameter * 100:.1f} cm, depth {t.depth * 100:.1f} cm) does "
            f"not fit inside a breast of radius {r * 100:.1f} cm"
        )
    dz = rc * np.cos(t.polar)
    dx = rc * np.sin(t.polar) * np.cos(t.azimuth)
    dy = rc * np.sin(t.polar) * np.sin(t.azimuth)
    return np.array([dz, yc + dy, xc + dx])


def _vessel_voxels(rng, count, centre, radius, spec, axes) -> np.ndarray:
    """Voxels of ``count`` superficial veins: random walks on a sphere ``vessel_depth`` under
    the skin of one breast, from near its base towards the nipple."""
    z, y, x = axes
    v = spec.voxel
    out = np.zeros((z.size, y.size, x.size), bool)
    rr = radius - spec.vessel_depth
    if count == 0 or rr <= 0:
        return out
    for _ in range(count):
        theta = rng.uniform(1.1, 1.35)  # polar angle from the breast axis
        phi = rng.uniform(0, 2 * np.pi)
        dphi = rng.normal(0, 0.02)
        end = rng.uniform(0.15, 0.6)
        while theta > end:
            pz = rr * np.cos(theta)
            px = centre[0] + rr * np.sin(theta) * np.cos(phi)
            py = centre[1] + rr * np.sin(theta) * np.sin(phi)
            iz = int(round(pz / v))
            iy = int(round((py - y[0]) / v))
            ix = int(round((px - x[0]) / v))
            if 0 <= iz < z.size and 0 <= iy < y.size and 0 <= ix < x.size:
                out[iz, iy, ix] = True
            step = 0.4 * v / rr
            theta -= step
            dphi = 0.9 * dphi + rng.normal(0, 0.03)
            phi += dphi
    return out


@positional_options
def build_phantom(*, spec: PhantomSpec | None = None, seed: int = 0) -> Phantom:
    """Voxelise a two-breast phantom.

    Parameters
    ----------
    spec : PhantomSpec, optional
        Geometry and properties; defaults to ``PhantomSpec()`` (no tumour).
    seed : int
        Seed of the tissue-heterogeneity random field.

    Returns
    -------
    Phantom
        Property grids on (z, y, x), m; the chest wall (z = 0) is the Dirichlet layer.

    Examples
    --------
    >>> ph = build_phantom(spec=PhantomSpec(voxel=8e-3), seed=0)
    >>> ph.labels.shape == (ph.z.size, ph.y.size, ph.x.size), int(ph.domain.sum()) > 0
    (True, True)
    """
    spec = spec or PhantomSpec()
    v = spec.voxel
    if not 0.5e-3 <= v <= 1e-2:
        raise ConfigError(f"voxel must be between 0.5 and 10 mm; got {v * 1e3:.2f} mm")
    rmax = max(spec.breast_radius)
    nz = int(np.ceil((max(rmax, spec.torso_thickness) + 2 * v) / v)) + 1
    ny = int(np.round(spec.torso_height / v))
    nx = int(np.round((spec.torso_width + 2 * spec.margin) / v))
    z = np.arange(nz) * v
    y = (np.arange(ny) - (ny - 1) / 2) * v
    x = (np.arange(nx) - (nx - 1) / 2) * v
    Z, Y, X = np.meshgrid(z, y, x, indexing="ij")
    in_torso_x = np.abs(X) <= spec.torso_width / 2
    tissue = in_torso_x & (Z > 0) & (Z <= spec.torso_thickness + 1e-12)
    breast = np.zeros(Z.shape, np.uint8)
    for code, (_side, (xc, yc)) in ((1, ("right", _breast_centres(spec)["right"])),
                                   (2, ("left", _breast_centres(spec)["left"]))):  # fmt: skip
        r = spec.breast_radius[code - 1]
        inside = ((X - xc) ** 2 + (Y - yc) ** 2 + Z**2 <= r**2) & (Z > 0) & in_torso_x
        breast[inside] = code
        tissue |= inside
    fixed_mask = in_torso_x & (Z == 0)
    air = ~tissue & ~fixed_mask
    # depth of each voxel centre below the skin surface (the face between tissue and air)
    dist = ndimage.distance_transform_edt(~air, sampling=(v, v, v)) - v / 2
    labels = np.zeros(Z.shape, np.int8)
    labels[fixed_mask] = CHEST
    labels[tissue] = FAT
    labels[tissue & (dist < spec.skin_thickness)] = SKIN
    gland = tissue & (breast > 0) & (dist >= spec.skin_thickness + spec.fat_thickness)
    labels[gland] = GLAND

    tis = spec.tissues
    k = np.zeros(Z.shape)
    w = np.zeros(Z.shape)
    q = np.zeros(Z.shape)
    cap = np.ones(Z.shape)
    for lab, name in ((CHEST, "chest"), (SKIN, "skin"), (FAT, "fat"), (GLAND, "gland")):
        sel = labels == lab
        t = tis[name]
        k[sel], w[sel], q[sel], cap[sel] = (t.conductivity, t.perfusion, t.metabolic_heat,
                                            t.heat_capacity)  # fmt: skip
    rng = np.random.default_rng(seed)
    if spec.heterogeneity > 0:
        mod = 1.0 + spec.heterogeneity * _smooth_field(rng, Z.shape, spec.correlation_length / v)
        mod = np.clip(mod, 0.2, None)
        w[gland] *= mod[gland]
        q[gland] *= mod[gland]
    vessel_rng = np.random.default_rng([seed, 7])
    for code, count in ((1, spec.vessels[0]), (2, spec.vessels[1])):
        xc, yc = _breast_centres(spec)["right" if code == 1 else "left"]
        r = spec.breast_radius[code - 1]
        vox = _vessel_voxels(vessel_rng, count, (xc, yc), r, spec, (z, y, x))
        sel = vox & tissue & (labels != SKIN)
        w[sel] = np.maximum(w[sel], spec.vessel_perfusion)

    frac = np.zeros(Z.shape)
    centre = None
    if spec.tumour is not None:
        tsp = spec.tumour
        centre = _tumour_centre(spec)
        rad = tsp.diameter / 2
        qt = gautherie_heat(tsp.diameter) if tsp.metabolic_heat is None else tsp.metabolic_heat
        wt = tis["tumour"].perfusion if tsp.perfusion is None else tsp.perfusion
        # partial-volume fraction by 4x4x4 supersampling in the tumour's bounding box
        lo = [max(int(np.floor((c - rad) / v + o)) - 1, 0) for c, o in
              zip(centre, (0.0, (ny - 1) / 2, (nx - 1) / 2))]  # fmt: skip
        hi = [min(int(np.ceil((c + rad) / v + o)) + 2, n) for c, o, n in
              zip(centre, (0.0, (ny - 1) / 2, (nx - 1) / 2), Z.shape)]  # fmt: skip
        sub = (np.arange(4) + 0.5) / 4 - 0.5
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        bz, by, bx = Z[box], Y[box], X[box]
        acc = np.zeros(bz.shape)
        for oz in sub:
            for oy in sub:
                for ox in sub:
                    d2 = ((bz + oz * v - centre[0]) ** 2 + (by + oy * v - centre[1]) ** 2
                          + (bx + ox * v - centre[2]) ** 2)  # fmt: skip
                    acc += d2 <= rad**2
        f = acc / 64.0
        f[~tissue[box]] = 0.0
        frac[box] = f
        t = tis["tumour"]
        k = (1 - frac) * k + frac * t.conductivity
        w = (1 - frac) * w + frac * wt
        q = (1 - frac) * q + frac * qt
        cap = (1 - frac) * cap + frac * t.heat_capacity
        labels[(frac >= 0.5) & tissue] = TUMOUR
    k[air] = 0.0
    fixed = np.where(fixed_mask, spec.t_core, np.nan)
    return Phantom(spec, z, y, x, labels, breast, frac, k, w, q, cap, fixed, centre)


def random_spec(
    rng: np.random.Generator, *, tumour: bool, voxel: float = 3e-3, angiogenesis: float = 0.5
) -> PhantomSpec:
    """Draw a plausible subject: breast sizes, layers, veins and (optionally) a tumour.

    Ranges (uniform): breast radius 5–6.5 cm (left/right within ±6 %), fat 0.6–1.4 cm, 2–4
    superficial veins per breast, tumour diameter 1.0–2.5 cm, centre depth from (D/2 + 0.3 cm)
    to 2.0 cm + D/2, polar angle 0–0.7 rad, random side and azimuth. With probability
    ``angiogenesis`` the tumour side gets 1–2 extra veins.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws (advanced by this call).
    tumour : bool
        Whether the subject has a tumour.
    voxel : float
        Voxel size of the phantom, m.
    angiogenesis : float
        Probability that a tumour side gets extra veins, in [0, 1].

    Returns
    -------
    PhantomSpec
    """
    r = rng.uniform(0.05, 0.065)
    radii = (r * rng.uniform(0.94, 1.06), r * rng.uniform(0.94, 1.06))
    spec = PhantomSpec(
        voxel=voxel,
        breast_radius=radii,
        breast_separation=rng.uniform(0.16, 0.18),
        breast_y=rng.uniform(0.02, 0.04),
        fat_thickness=rng.uniform(0.006, 0.014),
        heterogeneity=rng.uniform(0.1, 0.2),
        vessels=(int(rng.integers(2, 5)), int(rng.integers(2, 5))),
    )
    if tumour:
        d = rng.uniform(0.010, 0.025)
        side = "left" if rng.random() < 0.5 else "right"
        if rng.random() < angiogenesis:  # extra veins on the tumour side
            extra = int(rng.integers(1, 3))
            nv = list(spec.vessels)
            nv[0 if side == "right" else 1] += extra
            spec = replace(spec, vessels=(nv[0], nv[1]))
        depth = rng.uniform(d / 2 + 0.003, d / 2 + 0.02)
        spec = replace(
            spec,
            tumour=TumourSpec(
                side=side,
                diameter=d,
                depth=depth,
                polar=rng.uniform(0.0, 0.7),
                azimuth=rng.uniform(0, 2 * np.pi),
            ),
        )
    return spec


#: Names that moved out of this module (issue 18), with the module that defines them now.
_MOVED = {
    "solve_phantom": "simulate",
    "Simulation": "simulate",
    "simulate_thermogram": "simulate",
    "simulate_dynamic": "dynamic",
    "simulate_cohort": "cohort",
    "smooth_on_surface": "skin",
}


__getattr__ = moved_names("brim.thermo.phantom", _MOVED)
