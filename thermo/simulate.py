"""Steady synthetic thermograms: the Pennes temperature of a phantom and its rendering.

:func:`solve_phantom` solves the steady temperature of a :class:`~brim.thermo.phantom.Phantom`
(:mod:`brim.thermo.steady`); :func:`simulate_thermogram` draws a subject
(:func:`brim.thermo.phantom.random_spec`), solves it and renders it with the camera model
(:mod:`brim.thermo.camera`) into a brim ``thermogram`` Dataset with ground-truth masks.
Dynamic (cold-stress) sequences are in :mod:`brim.thermo.dynamic`, cohorts in
:mod:`brim.thermo.cohort`.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import warn
from brim.thermo.pennes import assemble, radiative_h
from brim.thermo.phantom import (
    LABEL_NAMES,
    Phantom,
    PhantomSpec,
    build_phantom,
    gautherie_heat,
    random_spec,
)
from brim.thermo.skin import skin_temperature, smooth_on_surface, staircase_correction
from brim.thermo.steady import solve_steady


@provenance.step
def solve_phantom(
    phantom: Phantom,
    *,
    t_ambient: float = 21.0,
    h: float = 10.0,
    radiation: bool = False,
    staircase: bool = True,
    skin_smoothing: float = 3e-3,
    method: str = "auto",
    backend: str | None = None,
) -> xr.Dataset:
    """Steady skin and tissue temperature of a phantom.

    Parameters
    ----------
    phantom : Phantom
    t_ambient : float
        Room temperature, degC.
    h : float
        Combined heat-transfer coefficient at the skin, W/m^2/K.
    radiation : bool
        Add the linearised radiative coefficient
        :func:`brim.thermo.pennes.radiative_h` (skin emissivity 0.98, reference skin
        temperature 32 degC) to ``h``; leave False when ``h`` already combines convection and
        radiation (the default 10 W/m^2/K does).
    staircase : bool
        Scale h by :func:`brim.thermo.skin.staircase_correction` so that the voxelised
        (staircase) skin loses heat through the area of the smooth surface it approximates.
    skin_smoothing : float
        Standard deviation (m) of a Gaussian average of the skin temperature over neighbouring
        surface voxels, which removes the voxel-scale noise of a staircase surface (0: off).
        It changes the rendered surface only, not the solved tissue temperature.
    method, backend
        See :func:`brim.thermo.steady.solve_steady`.

    Returns
    -------
    xarray.Dataset
        On dims (z, y, x) with coords in m: ``temperature`` (degC, NaN in air),
        ``skin_temperature`` (degC on skin voxels, NaN elsewhere), ``labels``, ``breast``,
        ``tumour_fraction``; attributes describe the phantom (JSON ``phantom_spec``) and the
        tumour centre/radius used by the camera for the ground-truth mask.

    Examples
    --------
    >>> from brim.thermo.phantom import PhantomSpec, build_phantom
    >>> vol = solve_phantom(build_phantom(spec=PhantomSpec(voxel=8e-3)), t_ambient=21.0)
    >>> vol["temperature"].dims, bool(30.0 < float(vol["skin_temperature"].max()) < 37.0)
    (('z', 'y', 'x'), True)
    """
    dom = phantom.domain
    v = phantom.spec.voxel
    if radiation:
        h = float(h) + radiative_h(32.0, t_ambient, emissivity=0.98)
    h_nominal = float(h)
    h_faces: float | np.ndarray = h
    if staircase:
        h_faces = h * staircase_correction(dom | ~np.isnan(phantom.fixed))
    prob = assemble(
        phantom.conductivity,
        phantom.perfusion,
        phantom.metabolic_heat,
        dom,
        spacing=v,
        fixed=phantom.fixed,
        h=h_faces,
        heat_capacity=phantom.heat_capacity,
    )
    sol = solve_steady(prob, t_ambient, method=method, backend=backend)
    skin = skin_temperature(
        sol.temperature, phantom.conductivity, dom, spacing=v, h=h_faces, t_ambient=t_ambient,
        fixed=phantom.fixed,
    )  # fmt: skip
    skin_t = skin.mean
    if skin_smoothing > 0:
        skin_t = smooth_on_surface(skin_t, skin_smoothing / v)
    coords = {
        "z": ("z", phantom.z, {"units": "m"}),
        "y": ("y", phantom.y, {"units": "m"}),
        "x": ("x", phantom.x, {"units": "m"}),
    }
    dims = ("z", "y", "x")
    ds = xr.Dataset(
        {
            "temperature": (dims, sol.temperature, {"units": "degC"}),
            "skin_temperature": (dims, skin_t, {"units": "degC"}),
            "labels": (
                dims,
                phantom.labels,
                {"units": "1", "flag_meanings": json.dumps(LABEL_NAMES)},
            ),  # fmt: skip
            "breast": (
                dims,
                phantom.breast,
                {"units": "1", "flag_meanings": "0 none, 1 right, 2 left"},
            ),
            "tumour_fraction": (dims, phantom.tumour_fraction, {"units": "1"}),
            "ambient_temperature": ((), float(t_ambient), {"units": "degC"}),
            "heat_transfer_coefficient": ((), float(h_nominal), {"units": "W m-2 K-1"}),
        },
        coords=coords,
    )
    spec = phantom.spec
    ds.attrs["phantom_spec"] = json.dumps(
        {k2: v2 for k2, v2 in asdict(spec).items() if k2 != "tissues"}, sort_keys=True
    )
    ds.attrs["solver"] = f"{sol.method} ({sol.iterations} iterations, residual {sol.residual:.1e})"
    if phantom.tumour_centre is not None and spec.tumour is not None:
        ds.attrs["tumour_centre_zyx_m"] = [float(c) for c in phantom.tumour_centre]
        ds.attrs["tumour_radius_m"] = float(spec.tumour.diameter / 2)
    return ds


@dataclass
class Simulation:
    """A simulated thermogram with the 3-D bioheat solution it was rendered from.

    Attributes
    ----------
    thermogram : xarray.Dataset
        The brim ``thermogram`` (see :func:`simulate_thermogram`).
    volume : xarray.Dataset
        The 3-D solution (see :func:`solve_phantom`).
    """

    thermogram: xr.Dataset
    volume: xr.Dataset


@provenance.step
def simulate_thermogram(
    *,
    seed: int,
    tumour: bool = True,
    spec: PhantomSpec | None = None,
    t_ambient: float | None = None,
    h: float = 10.0,
    voxel: float = 3e-3,
    pixel_pitch: float = 1e-3,
    view: str = "frontal",
    angle: float = 0.0,
    netd: float = 0.05,
    emissivity: float = 0.98,
    camera_emissivity: float | None = None,
    patient: str | None = None,
    return_volume: bool = False,
) -> xr.Dataset:
    """Simulate one labelled thermogram of a random subject.

    Parameters
    ----------
    seed : int
        Seeds everything (subject geometry, tissue heterogeneity, ambient, camera noise): the
        same seed gives the same numbers.
    tumour : bool
        Whether the subject has a tumour (ignored when ``spec`` is given).
    spec : PhantomSpec, optional
        Explicit phantom instead of a random subject.
    t_ambient : float, optional
        Room temperature, degC; default: uniform in 20–22 degC.
    h : float
        Heat-transfer coefficient, W/m^2/K.
    voxel : float
        Voxel size of the bioheat grid, m (for random subjects).
    pixel_pitch : float
        Camera pixel pitch on the body, m.
    view : {"frontal", "oblique"}
        Camera view; ``angle`` (degrees, about the body's vertical axis) for oblique.
    netd : float
        Camera noise-equivalent temperature difference, K (Gaussian std per pixel).
    emissivity : float
        True skin emissivity (0.98, Steketee 1973).
    camera_emissivity : float, optional
        Emissivity set in the camera; default: equal to ``emissivity`` (a correctly set camera).
    patient : str, optional
        Patient ID attribute; default ``"SIM-<seed>"``.
    return_volume : bool
        Deprecated (the return type would change with it): call :func:`simulate_subject` for
        the thermogram together with its 3-D solution.

    Returns
    -------
    xarray.Dataset
        A brim ``thermogram``: ``temperature`` (degC, dims y, x, coords in m), ``breast_mask``
        (uint8, 0 background/torso, 1 patient's right breast, 2 patient's left breast),
        ``body_mask`` (uint8), ``tumour_mask`` (uint8, the tumour's projection), label attributes
        (``label`` 0/1, ``diagnosis`` "Healthy"/"Sick", ``patient``, ``tumour_side``,
        ``tumour_diameter_m``, ``tumour_depth_m``, ``tumour_metabolic_heat_W_m3``).

    Notes
    -----
    The provenance records the ambient temperature and voxel size actually used (drawn from the
    seed when not given), so the record reproduces the file.

    Examples
    --------
    A coarse, noise-free subject (5 mm voxels, 4 mm pixels) with a tumour:

    >>> img = simulate_thermogram(seed=1, voxel=5e-3, pixel_pitch=4e-3, netd=0.0)
    >>> img.brim.kind, img.attrs["diagnosis"], img["temperature"].attrs["units"]
    ('thermogram', 'Sick', 'degC')
    """
    # the body of simulate_subject, recorded as this step
    sim = inspect.unwrap(simulate_subject)(
        seed=seed,
        tumour=tumour,
        spec=spec,
        t_ambient=t_ambient,
        h=h,
        voxel=voxel,
        pixel_pitch=pixel_pitch,
        view=view,
        angle=angle,
        netd=netd,
        emissivity=emissivity,
        camera_emissivity=camera_emissivity,
        patient=patient,
    )
    img = sim.thermogram
    if return_volume:
        warn(  # attributed to the caller, past the provenance wrapper
            "simulate_thermogram(return_volume=True) is deprecated (one function, one return "
            "type): call brim.thermo.simulate_subject for the thermogram and its 3-D solution",
            category=DeprecationWarning,
        )
        return Simulation(thermogram=img, volume=sim.volume)  # type: ignore[return-value]
    return img


@provenance.step
def simulate_subject(
    *,
    seed: int,
    tumour: bool = True,
    spec: PhantomSpec | None = None,
    t_ambient: float | None = None,
    h: float = 10.0,
    voxel: float = 3e-3,
    pixel_pitch: float = 1e-3,
    view: str = "frontal",
    angle: float = 0.0,
    netd: float = 0.05,
    emissivity: float = 0.98,
    camera_emissivity: float | None = None,
    patient: str | None = None,
) -> Simulation:
    """Simulate one labelled thermogram of a random subject together with its 3-D solution.

    Parameters
    ----------
    seed, tumour, spec, t_ambient, h, voxel, pixel_pitch, view, angle, netd, emissivity, \
camera_emissivity, patient
        As in :func:`simulate_thermogram` (the same seed gives the same thermogram).

    Returns
    -------
    Simulation
        ``thermogram``: the Dataset :func:`simulate_thermogram` returns for the same arguments;
        ``volume``: the 3-D steady solution it was rendered from (see :func:`solve_phantom`).
        Both record this step in their provenance.

    Examples
    --------
    >>> sim = simulate_subject(seed=1, voxel=5e-3, pixel_pitch=4e-3, netd=0.0)
    >>> sim.volume["temperature"].dims, sim.thermogram["temperature"].dims
    (('z', 'y', 'x'), ('y', 'x'))
    """
    from brim.thermo import camera

    spec, t_ambient, ph, vol, cam_seed = _steady_phantom(seed, spec, tumour, voxel, t_ambient, h)
    img = inspect.unwrap(camera.render_thermogram)(
        vol,
        view=view,
        angle=angle,
        pixel_pitch=pixel_pitch,
        netd=netd,
        emissivity=emissivity,
        camera_emissivity=camera_emissivity,
        seed=cam_seed,
    )
    t = spec.tumour
    attrs = {
        **_label_attrs(spec, seed, patient),
        "tumour_metabolic_heat_W_m3": (
            float(gautherie_heat(t.diameter) if t.metabolic_heat is None else t.metabolic_heat)
            if t is not None
            else 0.0
        ),
        "seed": int(seed),
        "source": "brim.thermo.phantom.simulate_thermogram (Pennes bioheat phantom)",
        "phantom_spec": vol.attrs["phantom_spec"],
    }
    img.attrs.update(attrs)
    img["ambient_temperature"] = vol["ambient_temperature"]
    img = _stamp(img)
    # the step (this one, or simulate_thermogram's) records the call's arguments; these are the
    # values drawn or derived from them
    provenance.note(tumour=t is not None, t_ambient=t_ambient, voxel=spec.voxel)
    return Simulation(thermogram=img, volume=vol)


def _steady_phantom(seed, spec, tumour, voxel, t_ambient, h):
    """The seeded set-up shared by the simulators: spec (random unless given), ambient
    temperature, the built phantom, its steady Pennes solution and the camera's seed, drawn in
    that order from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    if spec is None:
        spec = random_spec(rng, tumour=tumour, voxel=voxel)
    if t_ambient is None:
        t_ambient = float(rng.uniform(20.0, 22.0))
    field_seed = int(rng.integers(2**31))
    cam_seed = int(rng.integers(2**31))
    ph = build_phantom(spec=spec, seed=field_seed)
    vol = inspect.unwrap(solve_phantom)(ph, t_ambient=t_ambient, h=h)
    return spec, t_ambient, ph, vol, cam_seed


def _label_attrs(spec: PhantomSpec, seed: int, patient) -> dict:
    """Ground-truth label attributes of a simulated thermogram."""
    t = spec.tumour
    return {
        "patient": patient if patient is not None else f"SIM-{seed}",
        "label": int(t is not None),
        "diagnosis": "Sick" if t is not None else "Healthy",
        "tumour_side": t.side if t is not None else "none",
        "tumour_diameter_m": float(t.diameter) if t is not None else 0.0,
        "tumour_depth_m": float(t.depth) if t is not None else 0.0,
    }


def _stamp(ds: xr.Dataset) -> xr.Dataset:
    from brim import schema

    return schema.stamp(ds, "thermogram")
