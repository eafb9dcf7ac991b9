"""Per-file batch pipelines for ``brim batch``: ``(path, **params) -> xarray.Dataset``."""

from __future__ import annotations

import os

import xarray as xr

from .displacement import estimate_displacement
from .readers import read_rf
from .strain import strain_image

__all__ = ["strain_from_file"]


def strain_from_file(
    path: str | os.PathLike,
    *,
    method: str = "dp",
    frames: tuple[int, int] = (0, 1),
    kernel: int = 9,
    var: str | None = None,
    sampling_frequency: float | None = None,
    center_frequency: float | None = None,
    sound_speed: float = 1540.0,
    pitch: float | None = None,
    window: int | None = None,
) -> xr.Dataset:
    """Strain image from two frames of one RF file (brim NetCDF, or .mat/.npy with parameters).

    Parameters
    ----------
    path : path-like
        The RF file.
    method, frames, window
        As in :func:`brim.elasto.displacement.estimate_displacement`.
    kernel : int
        As in :func:`brim.elasto.strain.strain_image`.
    var, sampling_frequency, center_frequency, sound_speed, pitch
        As in :func:`brim.elasto.readers.read_rf` (Hz, m/s, m).

    Returns
    -------
    xarray.Dataset
        The strain image (:func:`brim.elasto.strain.strain_image`).
    """
    rf = read_rf(
        path,
        var=var,
        sampling_frequency=sampling_frequency,
        center_frequency=center_frequency,
        sound_speed=sound_speed,
        pitch=pitch,
    )
    disp = estimate_displacement(rf, method=method, frames=tuple(frames), window=window)
    return strain_image(disp, kernel=kernel)
