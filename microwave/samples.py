"""Sample data made by brim's own point-scatterer model (deterministic, small).

The model: in a homogeneous medium of relative permittivity ``eps_r`` each point scatterer ``k``
at ``r_k`` with reflectivity ``a_k`` adds ``a_k * P(f) * exp(-j 2 pi f tau_ck)`` to channel ``c``,
``tau_ck = (|r_k - a_tx| + |r_k - a_rx|) sqrt(eps_r) / c0`` (Born approximation, no
spreading loss, ``exp(+jwt)``). The antenna/skin artefact is a much stronger channel-dependent
term that depends only on the Tx–Rx distance (rotationally symmetric), the same in the scan and
in its reference, so reference subtraction leaves the scatterers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from brim import provenance
from brim.deprecation import positional_options
from brim.microwave.readers import make_scan
from brim.microwave.tissue import C0

__all__ = ["hemisphere_antennas", "make_samples", "simulate_point_scatterers", "simulate_scan"]


@positional_options
def hemisphere_antennas(
    *, radius: float = 0.07, rings=((0.011, 8), (0.037, 8), (0.057, 4))
) -> np.ndarray:
    """Antenna positions (m) on rings of a hemisphere (MERIT-like): ``(z, count)`` per ring.

    Parameters
    ----------
    radius : float
        Hemisphere radius in m.
    rings : sequence of (float, int)
        Height ``z`` in m and number of antennas of each ring.

    Returns
    -------
    ndarray (n, 3)
        Antenna positions ``(x, y, z)`` in m.
    """
    pos = []
    for z, n in rings:
        rho = np.sqrt(max(radius**2 - z**2, 0.0))
        ang = 2 * np.pi * np.arange(n) / n
        pos += [(rho * np.cos(a), rho * np.sin(a), z) for a in ang]
    return np.asarray(pos)


def simulate_point_scatterers(
    antennas,
    tx,
    rx,
    freq_hz,
    scatterers,
    *,
    eps_r: float = 8.0,
    pulse_centre_hz: float | None = None,
) -> np.ndarray:
    """Noise-free multistatic response ``[F, C]`` of point scatterers (see module docstring).

    ``scatterers`` is a list of ``((x, y, z) m, amplitude)``; the pulse spectrum ``P(f)`` is a
    Gaussian centred on ``pulse_centre_hz`` (default: mid-band) spanning the band.

    Parameters
    ----------
    antennas : array_like (A, 3)
        Antenna positions in m.
    tx, rx : array_like (C,) of int
        Transmitting and receiving antenna of each channel.
    freq_hz : array_like (F,)
        Frequencies in Hz.
    scatterers : list of ((float, float, float), float)
        Positions in m and amplitudes (1).
    eps_r : float
        Relative permittivity of the homogeneous medium.
    pulse_centre_hz : float, optional
        Centre of the Gaussian pulse spectrum in Hz.

    Returns
    -------
    ndarray (F, C), complex
        The response.
    """
    f = np.asarray(freq_hz, dtype=float)
    a = np.asarray(antennas, dtype=float)
    fc = pulse_centre_hz or 0.5 * (f.min() + f.max())
    bw = max(f.max() - f.min(), 1.0)
    pulse = np.exp(-0.5 * ((f - fc) / (0.4 * bw)) ** 2)
    s = np.zeros((f.size, len(tx)), dtype=complex)
    v = C0 / np.sqrt(eps_r)
    for r, amp in scatterers:
        d = np.linalg.norm(a - np.asarray(r, dtype=float), axis=1)
        tau = (d[tx] + d[rx]) / v
        s += amp * pulse[:, None] * np.exp(-2j * np.pi * f[:, None] * tau[None, :])
    return s


@provenance.step
def simulate_scan(
    *,
    target=(0.015, 0.0, 0.035),
    amplitude: float = 0.01,
    eps_r: float = 8.0,
    freq_hz=None,
    antennas=None,
    artefact: float = 0.5,
    noise: float = 1e-4,
    seed: int = 0,
) -> xr.Dataset:
    """A simulated multistatic scan with its reference (artefact only) carried as
    ``s_reference``; every antenna pair is one channel.

    Parameters
    ----------
    target : (3,) m
        Scatterer position. ``None``: no scatterer.
    amplitude : float
        Scatterer reflectivity (1).
    artefact : float
        Amplitude of the antenna/skin artefact (1).
    noise : float
        Standard deviation of complex Gaussian noise added to each scan (1).
    eps_r : float
        Relative permittivity of the homogeneous medium.
    freq_hz : array_like, optional
        Frequencies in Hz; default 1.5 - 4.5 GHz in 31 steps.
    antennas : array_like (A, 3), optional
        Antenna positions in m; default :func:`hemisphere_antennas`.
    seed : int
        Seed of the noise.

    Returns
    -------
    xarray.Dataset
        A ``sparameter_scan`` over (freq, channel) with ``s_reference``.
    """
    rng = np.random.default_rng(seed)
    f = np.linspace(1.5e9, 4.5e9, 31) if freq_hz is None else np.asarray(freq_hz, dtype=float)
    ant = hemisphere_antennas() if antennas is None else np.asarray(antennas, dtype=float)
    n = len(ant)
    tx, rx = np.triu_indices(n, k=1)
    dist = np.linalg.norm(ant[tx] - ant[rx], axis=1)
    # artefact: direct coupling along the surface path plus a skin echo, both only functions
    # of the Tx-Rx distance
    t_direct = dist / C0 * np.sqrt(2.0)
    art = artefact * (
        np.exp(-2j * np.pi * f[:, None] * t_direct[None, :]) / (1 + 10 * dist[None, :])
        + 0.3 * np.exp(-2j * np.pi * f[:, None] * (t_direct[None, :] + 60e-12))
    )
    s_target: Any = 0
    if target is not None:
        s_target = simulate_point_scatterers(ant, tx, rx, f, [(target, amplitude)], eps_r=eps_r)

    def _noise():
        return noise * (rng.standard_normal(art.shape) + 1j * rng.standard_normal(art.shape))

    scan = art + s_target + _noise()
    ref = art + _noise()
    ds = make_scan(
        scan,
        f,
        tx=tx,
        rx=rx,
        antenna_positions=ant,
        reference=ref,
        reference_kind="empty",
        attrs={
            "source_format": "brim-simulation",
            "scan_name": "simulated point scatterer",
            "target_m": "" if target is None else ",".join(f"{v:.6g}" for v in target),
            "simulation_eps_r": float(eps_r),
            "antenna_position_kind": "phase-centre",
        },
    )
    return ds


def make_samples(outdir: Path) -> list[Path]:
    """Write ``microwave_radar_scan.nc`` (a simulated scan + reference pair, ~120 kB).

    Parameters
    ----------
    outdir : path-like
        Folder to write to (created if missing).

    Returns
    -------
    list of pathlib.Path
        The one file written, ``outdir / "microwave_radar_scan.nc"``.
    """
    from brim.io import save

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ds = simulate_scan()
    path = outdir / "microwave_radar_scan.nc"
    save(ds, path)
    return [path]
