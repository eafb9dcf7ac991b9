"""Dynamic (cold-stress) synthetic thermogram sequences from the transient Pennes equation."""

from __future__ import annotations

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import ConfigError
from brim.thermo.pennes import assemble
from brim.thermo.phantom import PhantomSpec
from brim.thermo.simulate import _label_attrs, _stamp, _steady_phantom
from brim.thermo.skin import skin_temperature, smooth_on_surface, staircase_correction
from brim.thermo.transient import solve_transient


@provenance.step
def simulate_dynamic(
    *,
    seed: int,
    tumour: bool = True,
    spec: PhantomSpec | None = None,
    t_ambient: float | None = None,
    h: float = 10.0,
    h_cooling: float = 40.0,
    cooling_time: float = 120.0,
    n_frames: int = 20,
    frame_interval: float = 15.0,
    dt: float = 2.5,
    voxel: float = 3e-3,
    pixel_pitch: float = 2e-3,
    netd: float = 0.05,
    emissivity: float = 0.98,
    patient: str | None = None,
) -> xr.Dataset:
    """Simulate a dynamic (cold-stress) thermogram sequence.

    Follows the shape of the DMR-IR dynamic protocol (Silva et al. 2014): from the steady state
    in the room, the breasts are cooled by an air stream (heat-transfer coefficient
    ``h_cooling`` for ``cooling_time`` s), then ``n_frames`` images are taken every
    ``frame_interval`` s while the skin re-warms at the room's ``h``. The transient Pennes
    equation is integrated with Crank–Nicolson (:func:`brim.thermo.transient.solve_transient`).
    The forced-convection value (40 W/m^2/K, a fan at a few m/s) and the cooling time are
    assumptions of this model, not protocol values.

    Parameters
    ----------
    seed, tumour, spec, t_ambient, h, voxel, pixel_pitch, netd, emissivity, patient
        As in :func:`simulate_thermogram`.
    h_cooling : float
        Heat-transfer coefficient during cooling, W/m^2/K.
    cooling_time : float
        Duration of the cooling, s.
    n_frames : int
        Number of frames in the recovery.
    frame_interval : float
        Time between frames, s (the first frame is at the end of the cooling, time 0).
    dt : float
        Time step, s.

    Returns
    -------
    xarray.Dataset
        A brim ``thermogram`` with ``temperature`` on (time, y, x) (time in s since the end of
        the cooling), the masks on (y, x) and the label attributes of
        :func:`simulate_thermogram`.

    References
    ----------
    Silva, L. F. et al. (2014). A new database for breast research with infrared image.
    J. Med. Imaging Health Inform. 4(1), 92–100.

    Examples
    --------
    >>> seq = simulate_dynamic(seed=0, voxel=8e-3, pixel_pitch=4e-3, n_frames=3, dt=5.0)
    >>> seq["temperature"].dims, seq["time"].values.tolist()
    (('time', 'y', 'x'), [0.0, 15.0, 30.0])
    """
    from brim.thermo import camera

    if int(n_frames) != n_frames or n_frames < 1 or not frame_interval > 0:
        raise ConfigError("n_frames must be a positive integer and frame_interval > 0 s")
    if not cooling_time >= 0 or not h_cooling >= 0:
        raise ConfigError("cooling_time and h_cooling must be >= 0")
    spec, t_ambient, ph, vol, cam_seed = _steady_phantom(seed, spec, tumour, voxel, t_ambient, h)
    dom = ph.domain
    corr = staircase_correction(dom | ~np.isnan(ph.fixed))

    def problem(hh):
        return assemble(
            ph.conductivity, ph.perfusion, ph.metabolic_heat, dom, spacing=spec.voxel,
            fixed=ph.fixed, h=hh * corr, heat_capacity=ph.heat_capacity,
        )  # fmt: skip

    t0 = vol["temperature"].values
    if cooling_time > 0:
        cool = solve_transient(
            problem(h_cooling), t0, t_ambient, dt=dt, t_end=cooling_time,
            output_times=[cooling_time],
        )  # fmt: skip
        t0 = cool.temperature[-1]
    times = np.arange(int(n_frames)) * float(frame_interval)
    rec = solve_transient(
        problem(h), t0, t_ambient, dt=dt, t_end=float(times[-1]), output_times=times
    )
    skins = []
    for frame in rec.temperature:
        sk = skin_temperature(
            frame, ph.conductivity, dom, spacing=spec.voxel, h=h * corr, t_ambient=t_ambient,
            fixed=ph.fixed,
        ).mean  # fmt: skip
        skins.append(smooth_on_surface(sk, 3e-3 / spec.voxel))
    vol = vol.assign_coords(time=("time", rec.time, {"units": "s"}))
    vol["skin_temperature"] = (("time", "z", "y", "x"), np.stack(skins), {"units": "degC"})
    img = camera.render_thermogram(
        vol, pixel_pitch=pixel_pitch, netd=netd, emissivity=emissivity, seed=cam_seed
    )
    t = spec.tumour
    img.attrs.update(
        {
            **_label_attrs(spec, seed, patient),
            "protocol": "dynamic",
            "seed": int(seed),
            "source": "brim.thermo.phantom.simulate_dynamic (transient Pennes bioheat phantom)",
            "phantom_spec": vol.attrs["phantom_spec"],
        }
    )
    img["ambient_temperature"] = vol["ambient_temperature"]
    img["cooling_heat_transfer_coefficient"] = ((), float(h_cooling), {"units": "W m-2 K-1"})
    img["cooling_time"] = ((), float(cooling_time), {"units": "s"})
    img = _stamp(img)
    # the values drawn from the seed when not given, as simulate_thermogram records them
    provenance.note(t_ambient=t_ambient, voxel=spec.voxel, tumour=t is not None)
    return img
