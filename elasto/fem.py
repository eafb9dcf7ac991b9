"""2-D plane-strain linear-elastic finite elements for a compressed block with inclusions.

Bilinear quadrilateral (Q4) elements on a structured rectangular mesh, assembled with
``scipy.sparse`` and solved directly. The volumetric part of the stiffness is integrated with one
Gauss point and the deviatoric part with 2 x 2 points (selective reduced integration, Hughes,
IJNME 15:1413, 1980), so nearly incompressible tissue (Poisson's ratio 0.495) does not lock.
Bilinear elements reproduce a uniform strain exactly, so the uniform-compression solution is
recovered to round-off.

Geometry and loading (quasi-static compression by the transducer): ``x`` lateral, ``z`` depth
(increasing away from the probe at z = 0). The top face (z = 0) is displaced by ``+compression * H``
in z (towards depth), the bottom face (z = H) is held in z (roller), the lateral faces are free,
and one bottom node on the axis x = W/2 is held in x. Compression is positive; axial strain
``eps_zz`` is negative under compression.

References
----------
J. Ophir et al., "Elastography: a quantitative method for imaging the elasticity of biological
tissues", Ultrasonic Imaging 13:111-134, 1991.
J. D. Eshelby, "The determination of the elastic field of an ellipsoidal inclusion", Proc. R. Soc.
A 241:376-396, 1957 (uniform interior strain of an elliptical/circular inhomogeneity).
T. Mura, "Micromechanics of Defects in Solids", 2nd ed., Nijhoff, 1987 (plane-strain Eshelby
tensor of a circular cylinder, Sec. 11).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, SolverError

__all__ = [
    "Inclusion",
    "eshelby_circular_strain",
    "interpolate_displacement",
    "solve_compression",
    "uniform_compression_exact",
]


@dataclass(frozen=True)
class Inclusion:
    """A circular inclusion.

    Attributes
    ----------
    x, z : float
        Centre in m (lateral, depth).
    radius : float
        Radius in m.
    youngs_modulus : float
        Young's modulus in Pa.
    edge_width : float
        0 (default) for a sharp boundary (elements cut by it get the area-weighted modulus);
        > 0 for a smooth tanh transition of this width (m), used for clean convergence studies.
    """

    x: float
    z: float
    radius: float
    youngs_modulus: float
    edge_width: float = 0.0


def _d_matrices(nu: float):
    """Plane-strain elasticity split for E = 1: deviatoric (mu part) and volumetric (lambda)."""
    lam = nu / ((1 + nu) * (1 - 2 * nu))
    mu = 1.0 / (2 * (1 + nu))
    d_mu = mu * np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 1.0]])
    m = np.array([1.0, 1.0, 0.0])
    d_lam = lam * np.outer(m, m)
    return d_mu, d_lam


def _b_matrix(xi: float, eta: float, a: float, b: float) -> np.ndarray:
    """Strain-displacement matrix of a Q4 a x b rectangle; nodes (-,-), (+,-), (+,+), (-,+)."""
    sx = np.array([-1.0, 1.0, 1.0, -1.0])
    sz = np.array([-1.0, -1.0, 1.0, 1.0])
    dndx = sx * (1 + sz * eta) / 4 * (2 / a)
    dndz = sz * (1 + sx * xi) / 4 * (2 / b)
    bm = np.zeros((3, 8))
    bm[0, 0::2] = dndx
    bm[1, 1::2] = dndz
    bm[2, 0::2] = dndz
    bm[2, 1::2] = dndx
    return bm


def _element_stiffness(a: float, b: float, nu: float) -> np.ndarray:
    """Q4 stiffness for E = 1 and unit thickness, selective reduced integration."""
    d_mu, d_lam = _d_matrices(nu)
    g = 1 / np.sqrt(3)
    det = a * b / 4
    k = np.zeros((8, 8))
    for xi in (-g, g):
        for eta in (-g, g):
            bm = _b_matrix(xi, eta, a, b)
            k += bm.T @ d_mu @ bm * det
    b0 = _b_matrix(0.0, 0.0, a, b)
    k += b0.T @ d_lam @ b0 * det * 4
    return k


def _modulus_map(xc, zc, a, b, background, inclusions, sub: int = 4) -> np.ndarray:
    """Element Young's modulus: area fraction of each inclusion (sub x sub sampling) mixed."""
    frac_pts = (np.arange(sub) + 0.5) / sub - 0.5
    e = np.full((zc.size, xc.size), float(background))
    for inc in inclusions:
        if inc.edge_width > 0:
            r = np.hypot(xc[None, :] - inc.x, zc[:, None] - inc.z)
            frac = 0.5 * (1 - np.tanh((r - inc.radius) / inc.edge_width))
            e = e * (1 - frac) + inc.youngs_modulus * frac
            continue
        frac = np.zeros_like(e)
        for fx in frac_pts:
            for fz in frac_pts:
                X = xc[None, :] + fx * a
                Z = zc[:, None] + fz * b
                frac += ((X - inc.x) ** 2 + (Z - inc.z) ** 2 <= inc.radius**2) / sub**2
        e = e * (1 - frac) + inc.youngs_modulus * frac
    return e


@provenance.step
def solve_compression(
    width: float,
    height: float,
    nx: int,
    nz: int,
    *,
    youngs_modulus: float = 20e3,
    poisson: float = 0.495,
    inclusions: tuple[Inclusion, ...] | list[Inclusion] = (),
    compression: float = 0.01,
) -> xr.Dataset:
    """Solve the plane-strain compression of a block with circular inclusions.

    Parameters
    ----------
    width, height : float
        Block size in m (lateral x, depth z).
    nx, nz : int
        Number of elements along x and z.
    youngs_modulus : float
        Background Young's modulus in Pa (20 kPa: breast fat/glandular order).
    poisson : float
        Poisson's ratio (same in all materials), 0 <= nu < 0.5.
    inclusions : sequence of Inclusion
        Circular inclusions; elements cut by a boundary get the area-weighted modulus.
    compression : float
        Applied nominal compression (top displacement / height), e.g. 0.01 for 1 %.

    Returns
    -------
    xarray.Dataset
        ``ux``, ``uz`` (m) on nodes ``(z, x)``; ``eps_xx``, ``eps_zz``, ``eps_xz`` (1, tensor shear)
        and ``youngs_modulus`` (Pa) at element centres ``(zc, xc)``; ``reaction_force`` (N per m
        of out-of-plane thickness) on the top face.

    Examples
    --------
    A homogeneous block strains uniformly:

    >>> import numpy as np
    >>> fe = solve_compression(0.02, 0.03, 8, 12, compression=0.01)
    >>> bool(np.allclose(fe.eps_zz, -0.01, atol=1e-6))
    True
    """
    if nx < 1 or nz < 1:
        raise ConfigError("nx and nz must be >= 1")
    if not (0 <= poisson < 0.5):
        raise ConfigError(f"Poisson's ratio must be in [0, 0.5), got {poisson}")
    if width <= 0 or height <= 0 or youngs_modulus <= 0:
        raise ConfigError("width, height and youngs_modulus must be positive")
    if isinstance(inclusions, Inclusion) or not all(isinstance(i, Inclusion) for i in inclusions):
        raise ConfigError(
            "inclusions must be a tuple of Inclusion objects, e.g. "
            "(Inclusion(x, z, radius, youngs_modulus),) - a single one in a tuple too"
        )
    for inc in inclusions:
        if inc.youngs_modulus <= 0 or inc.radius <= 0:
            raise ConfigError(f"inclusion {inc} needs a positive modulus and radius")
    a, b = width / nx, height / nz
    xn = np.linspace(0, width, nx + 1)
    zn = np.linspace(0, height, nz + 1)
    xc = 0.5 * (xn[1:] + xn[:-1])
    zc = 0.5 * (zn[1:] + zn[:-1])
    emap = _modulus_map(xc, zc, a, b, youngs_modulus, inclusions)
    ke = _element_stiffness(a, b, poisson)
    # element connectivity: nodes (i,j),(i+1,j),(i+1,j+1),(i,j+1); node id = j*(nx+1)+i
    jj, ii = np.meshgrid(np.arange(nz), np.arange(nx), indexing="ij")
    n0 = (jj * (nx + 1) + ii).ravel()
    nodes = np.stack([n0, n0 + 1, n0 + nx + 2, n0 + nx + 1], axis=1)
    dofs = np.empty((nodes.shape[0], 8), dtype=np.int64)
    dofs[:, 0::2] = 2 * nodes
    dofs[:, 1::2] = 2 * nodes + 1
    rows = np.repeat(dofs, 8, axis=1).ravel()
    cols = np.tile(dofs, (1, 8)).ravel()
    vals = (emap.ravel()[:, None] * ke.ravel()[None, :]).ravel()
    ndof = 2 * (nx + 1) * (nz + 1)
    k = sp.coo_matrix((vals, (rows, cols)), shape=(ndof, ndof)).tocsr()
    # boundary conditions
    u = np.zeros(ndof)
    fixed = np.zeros(ndof, dtype=bool)
    top = np.arange(nx + 1)
    bottom = nz * (nx + 1) + np.arange(nx + 1)
    fixed[2 * top + 1] = True
    u[2 * top + 1] = compression * height
    fixed[2 * bottom + 1] = True
    centre = bottom[nx // 2]
    fixed[2 * centre] = True
    u[2 * centre] = 0.0 if nx % 2 == 0 else 0.0
    free = ~fixed
    rhs = -k[free][:, fixed] @ u[fixed]
    try:
        uf = spla.spsolve(k[free][:, free].tocsc(), rhs)
    except RuntimeError as exc:  # pragma: no cover - singular system
        raise SolverError(f"finite-element system could not be solved: {exc}") from exc
    if not np.all(np.isfinite(uf)):
        raise SolverError("finite-element solution is not finite (singular stiffness?)")
    u[free] = uf
    if nx % 2 == 1:
        # odd element count: the held node is off-axis; re-centre the rigid lateral translation
        u[0::2] -= np.interp(width / 2, xn, u[0::2][bottom])
    reaction = (k @ u)[2 * top + 1].sum()
    # element-centre strains
    b0 = _b_matrix(0.0, 0.0, a, b)
    eps = (u[dofs] @ b0.T).reshape(nz, nx, 3)
    ux = u[0::2].reshape(nz + 1, nx + 1)
    uz = u[1::2].reshape(nz + 1, nx + 1)
    ds = xr.Dataset(
        {
            "ux": (("z", "x"), ux, {"units": "m", "long_name": "lateral displacement"}),
            "uz": (("z", "x"), uz, {"units": "m", "long_name": "axial displacement"}),
            "eps_xx": (("zc", "xc"), eps[..., 0], {"units": "1"}),
            "eps_zz": (("zc", "xc"), eps[..., 1], {"units": "1"}),
            "eps_xz": (("zc", "xc"), 0.5 * eps[..., 2], {"units": "1"}),
            "youngs_modulus": (("zc", "xc"), emap, {"units": "Pa"}),
            "reaction_force": ((), float(reaction), {"units": "N/m"}),
            "poisson": ((), float(poisson), {"units": "1"}),
            "compression": ((), float(compression), {"units": "1"}),
        },
        coords={
            "x": ("x", xn, {"units": "m"}),
            "z": ("z", zn, {"units": "m"}),
            "xc": ("xc", xc, {"units": "m"}),
            "zc": ("zc", zc, {"units": "m"}),
        },
        attrs={"description": "2-D plane-strain Q4 FE compression (brim.elasto.fem)"},
    )
    return ds


def uniform_compression_exact(x, z, *, width: float, height: float, poisson: float, compression):
    """Analytic displacement of a homogeneous block under the loading of :func:`solve_compression`.

    Uniaxial stress in z with free lateral faces, plane strain (eps_yy = 0 out of plane):
    ``eps_zz = -compression``, ``eps_xx = +nu / (1 - nu) * compression``;
    ``uz = compression * (H - z)``, ``ux = eps_xx * (x - W/2)``.

    Parameters
    ----------
    x, z : array_like
        Lateral positions and depths in m.
    width, height : float
        Block size in m.
    poisson : float
        Poisson's ratio.
    compression : float
        Applied compression (fraction of the height).

    Returns
    -------
    ux, uz : numpy.ndarray
        Lateral and axial displacement in m.

    Examples
    --------
    >>> ux, uz = uniform_compression_exact(0.01, 0.0, width=0.02, height=0.03, poisson=0.5,
    ...                                    compression=0.01)
    >>> round(float(uz), 6)  # the top face moves down by 1 % of 30 mm
    0.0003
    """
    x = np.asarray(x, float)
    z = np.asarray(z, float)
    exx = poisson / (1 - poisson) * compression
    return exx * (x - width / 2), compression * (height - z)


def eshelby_circular_strain(
    e_matrix: float, e_inclusion: float, nu: float, eps_far: ArrayLike
) -> np.ndarray:
    """Uniform strain inside a circular inhomogeneity in an infinite plane-strain matrix.

    Eshelby's equivalent-inclusion method with the Eshelby tensor of a circular cylinder
    (Mura 1987, Eq. 11.22): ``S1111 = S2222 = (5 - 4 nu) / (8 (1 - nu))``,
    ``S1122 = S2211 = (4 nu - 1) / (8 (1 - nu))``, ``S1212 = (3 - 4 nu) / (8 (1 - nu))``.
    Both phases share Poisson's ratio ``nu``. With Mandel vectors (e11, e22, sqrt(2) e12):
    ``eps* = -[(C1 - C0) S + C0]^-1 (C1 - C0) eps0`` and ``eps_in = eps0 + S eps*``.

    Parameters
    ----------
    e_matrix, e_inclusion : float
        Young's moduli (Pa).
    nu : float
        Poisson's ratio.
    eps_far : array (3,)
        Far-field strain (e_xx, e_zz, e_xz) (tensor shear).

    Returns
    -------
    numpy.ndarray (3,)
        Strain inside the inclusion (e_xx, e_zz, e_xz).

    Examples
    --------
    A 3x stiffer inclusion under 1 % compression strains less than its matrix:

    >>> e = eshelby_circular_strain(20e3, 60e3, 0.495, [0.0098, -0.01, 0.0])
    >>> bool(-0.01 < e[1] < 0)
    True
    """
    if not (0 <= nu < 0.5):
        raise ConfigError(f"Poisson's ratio must be in [0, 0.5), got {nu}")
    if not (e_matrix > 0 and e_inclusion > 0):
        raise ConfigError("e_matrix and e_inclusion must be positive (Pa)")
    try:
        ef = np.asarray(eps_far, dtype=float)
    except (TypeError, ValueError):
        ef = np.full(0, np.nan)
    if ef.shape != (3,) or not np.isfinite(ef).all():
        raise ConfigError(
            f"eps_far must be three finite strains (e_xx, e_zz, e_xz), got {eps_far!r}"
        )
    r2 = np.sqrt(2.0)
    d = 8 * (1 - nu)
    s = np.array(
        [
            [(5 - 4 * nu) / d, (4 * nu - 1) / d, 0],
            [(4 * nu - 1) / d, (5 - 4 * nu) / d, 0],
            [0, 0, 2 * (3 - 4 * nu) / d],
        ]
    )

    def c_of(e):
        lam = e * nu / ((1 + nu) * (1 - 2 * nu))
        mu = e / (2 * (1 + nu))
        return np.array([[lam + 2 * mu, lam, 0], [lam, lam + 2 * mu, 0], [0, 0, 2 * mu]])

    c0, c1 = c_of(e_matrix), c_of(e_inclusion)
    e0 = np.array([ef[0], ef[1], r2 * ef[2]], float)
    dc = c1 - c0
    estar = -np.linalg.solve(dc @ s + c0, dc @ e0)
    ein = e0 + s @ estar
    return np.array([ein[0], ein[1], ein[2] / r2])


def interpolate_displacement(fe: xr.Dataset, x, z) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear (Q4-consistent) interpolation of the FE displacement at points (x, z) in m.

    Points outside the block are clamped to its boundary.

    Parameters
    ----------
    fe : xarray.Dataset
        Output of :func:`solve_compression`.
    x, z : array_like
        Lateral positions and depths in m.

    Returns
    -------
    ux, uz : numpy.ndarray
        Lateral and axial displacement in m at the points.
    """
    from scipy.interpolate import RegularGridInterpolator

    pts = np.stack(
        [
            np.clip(np.asarray(z, float), fe.z.values[0], fe.z.values[-1]),
            np.clip(np.asarray(x, float), fe.x.values[0], fe.x.values[-1]),
        ],
        axis=-1,
    )
    grid = (fe.z.values, fe.x.values)
    ux = RegularGridInterpolator(grid, fe.ux.values)(pts)
    uz = RegularGridInterpolator(grid, fe.uz.values)(pts)
    return ux, uz
