"""xarray backend entry points: ``xr.open_dataset(path, engine="brim_elasto_pybf")`` etc.

Entry points (group ``xarray.backends``, declared in pyproject.toml):
``brim_elasto_pybf = "brim.elasto.backends:PybfChannelBackend"`` and
``brim_elasto_rf = "brim.elasto.backends:RFBackend"``. xarray reads each engine's keywords from
the ``open_dataset`` signature, so every keyword is explicit (no ``**kwargs``). The readers are
imported when a file is opened: xarray imports every registered backend module whenever it lists
its engines (any ``xr.open_dataset`` call in the environment).
"""

from __future__ import annotations

import os

from xarray.backends import BackendEntrypoint

__all__ = ["PybfChannelBackend", "RFBackend"]


class PybfChannelBackend(BackendEntrypoint):
    """Plane-wave channel data in the pybf HDF5 layout -> ``channel_data`` Dataset."""

    description = "pybf plane-wave channel data (HDF5) as a brim channel_data Dataset"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, sound_speed=1540.0):
        """Read the file with :func:`brim.elasto.readers.read_channel_pybf`.

        Parameters
        ----------
        filename_or_obj : path-like
            The pybf HDF5 file.
        drop_variables : list of str, optional
            Variables left out.
        sound_speed : float
            Speed of sound in m/s.

        Returns
        -------
        xarray.Dataset
            ``channel_data``.
        """
        from brim.elasto.readers import read_channel_pybf

        ds = read_channel_pybf(filename_or_obj, sound_speed=sound_speed)
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj) -> bool:
        """True if ``filename_or_obj`` is a path this backend can read (xarray's engine guess).

        Parameters
        ----------
        filename_or_obj : path-like or file-like
            What ``xr.open_dataset`` was given.

        Returns
        -------
        bool
            An existing ``.h5``/``.hdf5`` file in the pybf layout.
        """
        try:
            path = os.fspath(filename_or_obj)
        except TypeError:
            return False
        from brim.elasto.readers import _is_hdf5, _looks_pybf

        return (
            path.lower().endswith((".h5", ".hdf5"))
            and os.path.isfile(path)
            and _is_hdf5(path)
            and _looks_pybf(path)
        )


class RFBackend(BackendEntrypoint):
    """RF frames from MATLAB ``.mat`` (v5/v7.3) or ``.npy`` -> ``rf_frames`` Dataset.

    Pass ``var``, ``sampling_frequency``, ``center_frequency`` and ``pitch`` (and optionally
    ``sound_speed``) as keyword arguments of ``xr.open_dataset``. Never claimed without
    ``engine="brim_elasto_rf"`` (xarray's default ``guess_can_open``): ``.mat`` and ``.npy`` are
    generic containers, and raw RF cannot be read without its acquisition keywords anyway.
    """

    description = "RF frames in .mat/.npy as a brim rf_frames Dataset"

    def open_dataset(
        self,
        filename_or_obj,
        *,
        drop_variables=None,
        var=None,
        sampling_frequency=None,
        center_frequency=None,
        sound_speed=1540.0,
        pitch=None,
    ):
        """Read the file with :func:`brim.elasto.readers.read_rf`.

        Parameters
        ----------
        filename_or_obj : path-like
            ``.mat`` or ``.npy`` RF (or a brim ``rf_frames`` file).
        drop_variables : list of str, optional
            Variables left out.
        var, sampling_frequency, center_frequency, sound_speed, pitch
            As in :func:`brim.elasto.readers.read_rf` (Hz, m/s, m).

        Returns
        -------
        xarray.Dataset
            ``rf_frames``.
        """
        from brim.elasto.readers import read_rf

        ds = read_rf(
            filename_or_obj,
            var=var,
            sampling_frequency=sampling_frequency,
            center_frequency=center_frequency,
            sound_speed=sound_speed,
            pitch=pitch,
        )
        return ds.drop_vars(drop_variables or [], errors="ignore")
