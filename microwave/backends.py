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


class MeritBackendEntrypoint(BackendEntrypoint):
    """MERIT CSV layout (complex text + frequencies/channel_names/antenna_locations CSVs)."""

    description = "MERIT multistatic microwave scan (CSV of MATLAB complex text) via brim"
    url = "https://github.com/EMFMed/MERIT"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, reference=None, folder=None):
        """Read ``filename_or_obj`` as a ``sparameter_scan`` Dataset.

        Parameters
        ----------
        filename_or_obj : path-like
            The file (file objects are refused).
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

        ds = read_merit(_path(filename_or_obj), reference=reference, folder=folder)
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
            Always False: ``.csv`` is too generic; ask for ``engine="brim_merit"``.
        """
        # .csv is too generic to claim; ask for engine="brim_merit" explicitly
        return False


class TouchstoneBackendEntrypoint(BackendEntrypoint):
    """Touchstone ``.sNp`` files through scikit-rf."""

    description = "Touchstone S-parameter file (.sNp) as a brim sparameter_scan"
    url = "https://scikit-rf.readthedocs.io"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, antenna_positions=None):
        """Read ``filename_or_obj`` as a ``sparameter_scan`` Dataset.

        Parameters
        ----------
        filename_or_obj : path-like
            The file (file objects are refused).
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

        ds = read_touchstone(_path(filename_or_obj), antenna_positions=antenna_positions)
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
            True for a ``.sNp`` suffix.
        """
        try:
            suf = _path(filename_or_obj).suffix.lower()
        except Exception:  # noqa: BLE001
            return False
        return suf.startswith(".s") and suf.endswith("p") and suf[2:-1].isdigit()


class UmbmidBackendEntrypoint(BackendEntrypoint):
    """UM-BMID-style monostatic data from MATLAB ``.mat`` (never pickles)."""

    description = "UM-BMID-style [n_scans, n_freq, n_positions] .mat as a brim sparameter_scan"
    url = "https://github.com/UManitoba-BMS/UM-BMID"

    def open_dataset(
        self, filename_or_obj, *, drop_variables=None, data_key=None, freq=None, freq_hz=None
    ):
        """Read ``filename_or_obj`` as a ``sparameter_scan`` Dataset.

        Parameters
        ----------
        filename_or_obj : path-like
            The file (file objects are refused).
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
        ds = read_umbmid(_path(filename_or_obj), data_key=data_key, **kw)
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
            Always False: ask for ``engine="brim_umbmid"``.
        """
        return False
