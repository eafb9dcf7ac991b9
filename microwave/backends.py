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
        from brim.microwave.readers import read_merit

        ds = read_merit(_path(filename_or_obj), reference=reference, folder=folder)
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj) -> bool:
        # .csv is too generic to claim; ask for engine="brim_merit" explicitly
        return False


class TouchstoneBackendEntrypoint(BackendEntrypoint):
    """Touchstone ``.sNp`` files through scikit-rf."""

    description = "Touchstone S-parameter file (.sNp) as a brim sparameter_scan"
    url = "https://scikit-rf.readthedocs.io"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, antenna_positions=None):
        from brim.microwave.readers import read_touchstone

        ds = read_touchstone(_path(filename_or_obj), antenna_positions=antenna_positions)
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj) -> bool:
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
        from brim.microwave.readers import read_umbmid

        kw = {"freq": freq} if freq is not None else {}
        if freq_hz is not None:  # the deprecated spelling: read_umbmid warns
            kw["freq_hz"] = freq_hz
        ds = read_umbmid(_path(filename_or_obj), data_key=data_key, **kw)
        return ds.drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj) -> bool:
        return False
