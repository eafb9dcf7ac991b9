"""An infrared camera model: skin temperature of a 3-D phantom -> a 2-D thermogram.

Geometry: an orthographic (telecentric) camera, adequate at the usual 1–1.5 m working distance
of breast thermography. The frontal view looks along -z (the patient faces the camera); an oblique
view turns the camera about the body's vertical (y) axis by ``angle`` degrees, positive towards
the patient's left. Each pixel's ray is marched through the trilinearly interpolated tissue
occupancy; the surface is located to sub-voxel accuracy where the occupancy crosses 1/2, and the
skin temperature there is interpolated from the skin-surface temperatures of the bioheat solve.

Radiometry: the camera sees ``L = eps L_bb(T_s) + (1 - eps) L_bb(T_refl)`` (grey skin reflecting
the room; atmosphere transparent at this range) and reports the temperature ``T_app`` that solves
``L = eps_c L_bb(T_app) + (1 - eps_c) L_bb(T_refl_c)`` for the emissivity ``eps_c`` and reflected
temperature ``T_refl_c`` set in the camera. Two band models for ``L_bb``:

* ``"planck"`` (default): monochromatic Planck radiance at an effective wavelength (10 um for an
  LWIR 7.5–14 um microbolometer), ``L ∝ 1 / (exp(c2 / (lambda T)) - 1)``, inverted exactly;
* ``"stefan-boltzmann"``: total radiance ``L ∝ T^4`` (a broadband detector).

With ``eps_c = 1`` and Stefan–Boltzmann this gives the classic
``T_app^4 = eps T_s^4 + (1 - eps) T_refl^4``. Noise: Gaussian, standard deviation = NETD (K),
independent per pixel, from a seeded generator.

References
----------
Vollmer, M., Möllmann, K.-P. (2017). Infrared Thermal Imaging: Fundamentals, Research and
Applications, 2nd ed. Wiley (ch. 1–2: radiometry, emissivity, the camera equation).
Steketee, J. (1973). Spectral emissivity of skin and pericardium. Phys. Med. Biol. 18, 686–694.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.constants
import xarray as xr
from numpy.typing import ArrayLike
from scipy import ndimage

from brim import provenance
from brim.errors import ConfigError

C2 = scipy.constants.h * scipy.constants.c / scipy.constants.k
"""Second radiation constant h c / k_B, m K (exact in the 2019 SI, from :mod:`scipy.constants`)."""

KELVIN = scipy.constants.zero_Celsius


def blackbody(temperature, *, band: str = "planck", wavelength: float = 10e-6) -> np.ndarray:
    """Blackbody radiance in relative units (only ratios matter to the camera equation).

    Parameters
    ----------
    temperature : array_like
        degC.
    band : {"planck", "stefan-boltzmann"}
        Monochromatic Planck radiance at ``wavelength`` (normalised: ``1/(exp(c2/(lambda T))-1)``)
        or total radiance ``T^4`` (K^4).
    wavelength : float
        Effective wavelength, m (Planck only).

    Returns
    -------
    numpy.ndarray
        Relative radiance, shape of ``temperature``.
    """
    t = np.asarray(temperature, dtype=np.float64) + KELVIN
    if band == "planck":
        return 1.0 / np.expm1(C2 / (wavelength * t))
    if band == "stefan-boltzmann":
        return t**4
    raise ConfigError(f"band must be 'planck' or 'stefan-boltzmann'; got {band!r}")


def inverse_blackbody(radiance, *, band: str = "planck", wavelength: float = 10e-6) -> np.ndarray:
    """Temperature (degC) of the blackbody with this relative radiance (inverse of
    :func:`blackbody`).

    Parameters
    ----------
    radiance : array_like
        Relative radiance, in the units of :func:`blackbody` for the same ``band``.
    band : {"planck", "stefan-boltzmann"}
        Radiance model of :func:`blackbody`.
    wavelength : float
        Effective wavelength, m (Planck only).

    Returns
    -------
    numpy.ndarray
        Temperature, degC.

    Examples
    --------
    >>> round(float(inverse_blackbody(blackbody(34.0))), 6)
    34.0
    """
    r = np.asarray(radiance, dtype=np.float64)
    if band == "planck":
        return C2 / (wavelength * np.log1p(1.0 / r)) - KELVIN
    if band == "stefan-boltzmann":
        return r**0.25 - KELVIN
    raise ConfigError(f"band must be 'planck' or 'stefan-boltzmann'; got {band!r}")


def apparent_temperature(
    t_surface: ArrayLike,
    *,
    emissivity: float = 0.98,
    t_reflected: float = 21.0,
    camera_emissivity: float = 1.0,
    camera_reflected: float | None = None,
    band: str = "planck",
    wavelength: float = 10e-6,
) -> np.ndarray:
    """Temperature a camera reports for a grey surface, degC.

    Parameters
    ----------
    t_surface : array_like
        True surface temperature, degC.
    emissivity : float
        True emissivity of the surface (skin 0.98).
    t_reflected : float
        Temperature of the surroundings the surface reflects, degC.
    camera_emissivity : float
        Emissivity set in the camera (1 = no compensation).
    camera_reflected : float, optional
        Reflected temperature set in the camera; default ``t_reflected``.
    band, wavelength
        Radiance model, see :func:`blackbody`.

    Returns
    -------
    numpy.ndarray
        Apparent temperature, degC, shape of ``t_surface``.

    Examples
    --------
    A camera set to emissivity 1 sees skin (emissivity 0.98) slightly cooler than it is, in a
    cooler room:

    >>> t = apparent_temperature(34.0, emissivity=0.98, t_reflected=21.0)
    >>> bool(33.5 < float(t) < 34.0)
    True
    """
    for name, e in (("emissivity", emissivity), ("camera_emissivity", camera_emissivity)):
        if not 0.0 < e <= 1.0:
            raise ConfigError(f"{name} must be in (0, 1]; got {e}")
    if camera_reflected is None:
        camera_reflected = t_reflected
    kw: dict[str, Any] = {"band": band, "wavelength": wavelength}
    lr = blackbody(t_reflected, **kw)
    measured = emissivity * blackbody(t_surface, **kw) + (1.0 - emissivity) * lr
    obj = measured - (1.0 - camera_emissivity) * blackbody(camera_reflected, **kw)
    obj = obj / camera_emissivity
    if np.any(obj <= 0):
        raise ConfigError("camera settings give a non-positive object radiance; check emissivity")
    return inverse_blackbody(obj, **kw)


@provenance.step
def render_thermogram(
    volume: xr.Dataset,
    *,
    view: str = "frontal",
    angle: float = 0.0,
    pixel_pitch: float = 1e-3,
    netd: float = 0.05,
    emissivity: float = 0.98,
    camera_emissivity: float | None = None,
    t_reflected: float | None = None,
    t_background: float | None = None,
    band: str = "planck",
    wavelength: float = 10e-6,
    seed: int = 0,
) -> xr.Dataset:
    """Render the skin temperature of a bioheat volume into a thermogram.

    Parameters
    ----------
    volume : xarray.Dataset
        From :func:`brim.thermo.simulate.solve_phantom`: ``skin_temperature``, ``labels``,
        ``breast`` on (z, y, x) with coords in m, and ``ambient_temperature``. A
        ``skin_temperature`` with a leading ``time`` dim (coordinate in s) renders a sequence
        (``temperature`` on (time, y, x), independent noise per frame).
    view : {"frontal", "oblique"}
        Camera direction; ``"oblique"`` uses ``angle``.
    angle : float
        Rotation of the camera about the vertical axis, degrees (oblique view only).
    pixel_pitch : float
        Pixel size projected on the body, m.
    netd : float
        Noise-equivalent temperature difference, K (0 for a noiseless image).
    emissivity : float
        True skin emissivity.
    camera_emissivity : float, optional
        Emissivity set in the camera; default ``emissivity``.
    t_reflected : float, optional
        Reflected (room wall) temperature, degC; default the ambient temperature.
    t_background : float, optional
        Temperature of the wall behind the patient (seen where no ray hits the body), degC;
        default the ambient temperature.
    band, wavelength
        Radiance model (:func:`blackbody`).
    seed : int
        Seed of the noise.

    Returns
    -------
    xarray.Dataset
        ``temperature`` (degC, dims y, x; coords ``y`` down the body and ``x`` across the image,
        in m), ``body_mask``, ``breast_mask`` (0 none, 1 patient's right, 2 left) and
        ``tumour_mask`` (the tumour's projection; all zero without tumour), all uint8; scalar
        variables ``emissivity``, ``netd``, ``reflected_temperature``.

    Examples
    --------
    >>> from brim.thermo import build_phantom, solve_phantom
    >>> from brim.thermo.phantom import PhantomSpec
    >>> vol = solve_phantom(build_phantom(spec=PhantomSpec(voxel=8e-3)), t_ambient=21.0)
    >>> img = render_thermogram(vol, pixel_pitch=4e-3, netd=0.0)
    >>> img["temperature"].dims, int(img["breast_mask"].max())
    (('y', 'x'), 2)
    """
    if view not in ("frontal", "oblique"):
        raise ConfigError(f"view must be 'frontal' or 'oblique'; got {view!r}")
    if not pixel_pitch > 0 or not netd >= 0:
        raise ConfigError("pixel_pitch must be > 0 m and netd >= 0 K")
    phi = 0.0 if view == "frontal" else np.deg2rad(angle)
    if abs(phi) >= np.deg2rad(80):
        raise ConfigError(f"oblique angle must be within ±80 degrees; got {angle}")
    z = volume["z"].values
    y = volume["y"].values
    x = volume["x"].values
    dz, dy, dx = z[1] - z[0], y[1] - y[0], x[1] - x[0]
    t_amb = float(volume["ambient_temperature"])
    t_reflected = t_amb if t_reflected is None else float(t_reflected)
    t_background = t_amb if t_background is None else float(t_background)
    if camera_emissivity is None:
        camera_emissivity = emissivity

    occ = (volume["labels"].values >= 2).astype(np.float64)
    skin_da = volume["skin_temperature"]
    has_time = "time" in skin_da.dims
    frames = skin_da.transpose(*(("time",) if has_time else ()), "z", "y", "x").values
    frames = frames.astype(np.float64) if has_time else frames[None].astype(np.float64)
    ok = np.isfinite(frames[0])
    if not ok.any():
        raise ConfigError("the volume has no skin-surface temperatures to render")
    fill = ndimage.distance_transform_edt(~ok, return_distances=False, return_indices=True)
    frames = frames[(slice(None), *fill)]  # nearest skin value everywhere, per frame
    # breast id of the nearest tissue voxel, so that a surface point never reads air
    labels = volume["labels"].values
    near = ndimage.distance_transform_edt(labels < 2, return_distances=False, return_indices=True)
    breast = volume["breast"].values[tuple(near)]

    # camera frame in (z, y, x): towards the camera c, image columns e
    cvec = np.array([np.cos(phi), 0.0, np.sin(phi)])
    evec = np.array([-np.sin(phi), 0.0, np.cos(phi)])
    corners = np.array([[zz, xx] for zz in (z[0], z[-1]) for xx in (x[0], x[-1])])
    u_ext = corners[:, 0] * evec[0] + corners[:, 1] * evec[2]
    s_ext = corners[:, 0] * cvec[0] + corners[:, 1] * cvec[2]
    nu = int(np.floor((u_ext.max() - u_ext.min()) / pixel_pitch)) + 1
    nv = int(np.floor((y[-1] - y[0]) / pixel_pitch)) + 1
    u = 0.5 * (u_ext.max() + u_ext.min()) + (np.arange(nu) - (nu - 1) / 2) * pixel_pitch
    v = 0.5 * (y[0] + y[-1]) + (np.arange(nv) - (nv - 1) / 2) * pixel_pitch
    U, V = np.meshgrid(u, v)  # (nv, nu)
    U, V = U.ravel(), V.ravel()
    step = 0.5 * min(dz, dy, dx)
    s_hi = s_ext.max() + step
    s_lo = s_ext.min() - step
    nsteps = int(np.ceil((s_hi - s_lo) / step)) + 1

    def to_index(s, uu, vv):
        pz = s * cvec[0] + uu * evec[0]
        px = s * cvec[2] + uu * evec[2]
        return np.stack([(pz - z[0]) / dz, (vv - y[0]) / dy, (px - x[0]) / dx])

    npx = U.size
    hit_s = np.full(npx, np.nan)
    active = np.arange(npx)
    prev = np.zeros(npx)
    for i in range(nsteps):
        if active.size == 0:
            break
        s = s_hi - i * step
        o = ndimage.map_coordinates(occ, to_index(s, U[active], V[active]), order=1,
                                    mode="constant", cval=0.0)  # fmt: skip
        crossed = o >= 0.5
        if crossed.any():
            a = active[crossed]
            po, oo = prev[a], o[crossed]
            frac = np.clip((0.5 - po) / np.maximum(oo - po, 1e-12), 0.0, 1.0)
            hit_s[a] = s + step - frac * step
        prev[active] = o
        active = active[~crossed]
    hit = np.isfinite(hit_s)
    hs = np.where(hit, hit_s, s_lo)
    hit_idx = to_index(hs, U, V)
    t_skin = np.stack(
        [ndimage.map_coordinates(f, hit_idx, order=1, mode="nearest") for f in frames]
    )
    inner = to_index(hs - 0.5 * step, U, V)
    bid = ndimage.map_coordinates(breast, np.rint(inner), order=0, mode="constant", cval=0)

    t_true = np.where(hit, t_skin, t_background)
    eps = np.where(hit, emissivity, 1.0)
    # per-pixel true emissivity: the wall behind the patient is treated as a blackbody
    kw: dict[str, Any] = {"band": band, "wavelength": wavelength}
    measured = eps * blackbody(t_true, **kw) + (1.0 - eps) * blackbody(t_reflected, **kw)
    obj = measured - (1.0 - camera_emissivity) * blackbody(t_reflected, **kw)
    obj = obj / camera_emissivity
    t_app = inverse_blackbody(obj, **kw)
    if netd > 0:
        rng = np.random.default_rng(seed)
        t_app = t_app + rng.normal(0.0, netd, t_app.shape[1:] if not has_time else t_app.shape)
    if not has_time:
        t_app = t_app[0]

    tumour = np.zeros(npx, np.uint8)
    if "tumour_centre_zyx_m" in volume.attrs:
        cz, cy, cx = (float(c) for c in volume.attrs["tumour_centre_zyx_m"])
        r = float(volume.attrs["tumour_radius_m"])
        cu = cz * evec[0] + cx * evec[2]
        tumour = (((U - cu) ** 2 + (V - cy) ** 2) <= r**2).astype(np.uint8)

    shape = (nv, nu)
    dims = ("y", "x")
    tdims = ("time", *dims) if has_time else dims
    tshape = (t_app.shape[0], *shape) if has_time else shape
    coords = {"y": ("y", v, {"units": "m"}), "x": ("x", u, {"units": "m"})}
    if has_time:
        coords["time"] = ("time", volume["time"].values, {"units": "s"})
    ds = xr.Dataset(
        {
            "temperature": (tdims, t_app.reshape(tshape), {"units": "degC",
                                                           "long_name": "apparent temperature"}),
            "body_mask": (dims, hit.reshape(shape).astype(np.uint8), {"units": "1"}),
            "breast_mask": (dims, (bid * hit).reshape(shape).astype(np.uint8),
                            {"units": "1", "flag_meanings": "0 none, 1 right, 2 left"}),
            "tumour_mask": (dims, tumour.reshape(shape), {"units": "1"}),
            "emissivity": ((), float(camera_emissivity), {"units": "1"}),
            "netd": ((), float(netd), {"units": "K"}),
            "reflected_temperature": ((), float(t_reflected), {"units": "degC"}),
        },
        coords=coords,
    )  # fmt: skip
    ds.attrs.update(
        {
            "view": view,
            "view_angle_deg": float(np.rad2deg(phi)),
            "pixel_pitch_m": float(pixel_pitch),
            "true_emissivity": float(emissivity),
            "radiance_model": band if band == "stefan-boltzmann" else f"planck@{wavelength:g}m",
            "noise_seed": int(seed),
        }
    )
    return ds
