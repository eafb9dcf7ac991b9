"""xarray backends so ``xr.open_dataset(path, engine=...)`` reads microwave vendor formats.

Engines (declared under ``[project.entry-points."xarray.backends"]``; xarray reads each engine's
keywords from the ``open_dataset`` signature, so every keyword is explicit, no ``**kwargs``):

* ``brim_merit`` -> :class:`MeritBackendEntrypoint` (MERIT CSV scans; extra keyword
  ``reference=`` for the rotated / empty scan);
* ``brim_touchstone`` -> :class:`TouchstoneBackendEntrypoint` (``.sNp`` through scikit-rf);
* ``brim_umbmid`` -> :class:`UmbmidBackendEntrypoint` (UM-BMID-style ``.mat``).
"""

from __future__ import annotations

import os
from pathlib import Path

from xarray.backends import BackendEntrypoint

__all__ = ["MeritBackendEntrypoint", "TouchstoneBackendEntrypoint", "UmbmidBackendEntrypoint"]


def _path(filename_or_obj) -> Path:
    if isinstance(filename_or_obj, (str, os.PathLike)):
        return Path(filename_or_obj)
    from brim.errors import FormatError

    raise FormatError("brim microwave backends read files by path, not file objects")


class _ScanBackend(BackendEntrypoint):
    """A brim ``sparameter_scan`` reader as an xarray engine (files by path only)."""

    def _read(self, reader, filename_or_obj, drop_variables, **options):
        """``reader(path, **options)`` without ``drop_variables``."""
        ds = reader(_path(filename_or_obj), **options)
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj) -> bool:
        """Whether xarray may pick this engine for ``filename_or_obj`` without ``engine=``.

        Parameters
        ----------
        filename_or_obj : path-like
            The file.

        Returns
        -------
        bool
            True for a Touchstone ``.sNp`` suffix on the Touchstone engine; False otherwise
            (``.csv`` and ``.mat`` are too generic: ask for ``engine="brim_merit"`` or
            ``engine="brim_umbmid"``).
        """
        try:
            suffix = _path(filename_or_obj).suffix.lower()
        except Exception:  # noqa: BLE001
            return False
        return self._claims(suffix)

    @staticmethod
    def _claims(suffix: str) -> bool:
        """Whether this engine claims files with the (lower-case) ``suffix``."""
        return False


class MeritBackendEntrypoint(_ScanBackend):
    """MERIT CSV layout (complex text + frequencies/channel_names/antenna_locations CSVs)."""

    description = "MERIT multistatic microwave scan (CSV of MATLAB complex text) via brim"
    url = "https://github.com/EMFMed/MERIT"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, reference=None, folder=None):
        """Read a MERIT CSV scan (:func:`brim.microwave.readers.read_merit`).

        Parameters
        ----------
        filename_or_obj : path-like
            The scan's complex-text CSV (file objects are refused).
        drop_variables : sequence of str, optional
            Variables dropped from the result.
        reference : path-like, optional
            The rotated or empty reference scan.
        folder : path-like, optional
            Folder of the side CSV files; default the scan's folder.

        Returns
        -------
        xarray.Dataset
            A ``sparameter_scan``.
        """
        from brim.microwave.readers import read_merit

        return self._read(
            read_merit, filename_or_obj, drop_variables, reference=reference, folder=folder
        )


class TouchstoneBackendEntrypoint(_ScanBackend):
    """Touchstone ``.sNp`` files through scikit-rf."""

    description = "Touchstone S-parameter file (.sNp) as a brim sparameter_scan"
    url = "https://scikit-rf.readthedocs.io"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, antenna_positions=None):
        """Read a Touchstone file (:func:`brim.microwave.readers.read_touchstone`).

        Parameters
        ----------
        filename_or_obj : path-like
            The Touchstone file, ``<name>.s<N>p`` for N ports (file objects are refused).
        drop_variables : sequence of str, optional
            Variables dropped from the result.
        antenna_positions : array_like (N, 3), optional
            Antenna positions in m.

        Returns
        -------
        xarray.Dataset
            A ``sparameter_scan``.
        """
        from brim.microwave.readers import read_touchstone

        return self._read(
            read_touchstone, filename_or_obj, drop_variables, antenna_positions=antenna_positions
        )

    @staticmethod
    def _claims(suffix: str) -> bool:
        """``.sNp``: ``.s`` + the port count + ``p``."""
        return suffix.startswith(".s") and suffix.endswith("p") and suffix[2:-1].isdigit()


class UmbmidBackendEntrypoint(_ScanBackend):
    """UM-BMID-style monostatic data from MATLAB ``.mat`` (never pickles)."""

    description = "UM-BMID-style [n_scans, n_freq, n_positions] .mat as a brim sparameter_scan"
    url = "https://github.com/UManitoba-BMS/UM-BMID"

    def open_dataset(
        self, filename_or_obj, *, drop_variables=None, data_key=None, freq=None, freq_hz=None
    ):
        """Read a UM-BMID-style ``.mat`` file (:func:`brim.microwave.readers.read_umbmid`).

        Parameters
        ----------
        filename_or_obj : path-like
            The MATLAB file, v5 or v7.3/HDF5 (file objects are refused).
        drop_variables : sequence of str, optional
            Variables dropped from the result.
        data_key : str, optional
            Variable holding the data array.
        freq : array_like, optional
            Frequencies in Hz.
        freq_hz : array_like, optional
            Deprecated spelling of ``freq``.

        Returns
        -------
        xarray.Dataset
            A ``sparameter_scan``.
        """
        from brim.microwave.readers import read_umbmid

        kw = {"freq": freq} if freq is not None else {}
        if freq_hz is not None:  # the deprecated spelling: read_umbmid warns
            kw["freq_hz"] = freq_hz
        return self._read(read_umbmid, filename_or_obj, drop_variables, data_key=data_key, **kw)
