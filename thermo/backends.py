"""xarray backend entry points for the thermal vendor formats.

``xr.open_dataset(path, engine="brim_dmr")`` reads a DMR-IR temperature matrix,
``engine="brim_flir"`` a FLIR radiometric JPEG (FLIR overrides as ``backend_kwargs``, e.g.
``backend_kwargs={"emissivity": 0.98}``), ``engine="brim_thermal_image"`` an 8-bit grey image.
The engines are declared in the ``xarray.backends`` entry-point group:

    brim_dmr = "brim.thermo.backends:DMRBackendEntrypoint"
    brim_flir = "brim.thermo.backends:FLIRBackendEntrypoint"
    brim_thermal_image = "brim.thermo.backends:GreyImageBackendEntrypoint"
"""

from __future__ import annotations

import os
from pathlib import Path

from xarray.backends import BackendEntrypoint

__all__ = ["DMRBackendEntrypoint", "FLIRBackendEntrypoint", "GreyImageBackendEntrypoint"]


class DMRBackendEntrypoint(BackendEntrypoint):
    """DMR-IR temperature matrices (``.txt``, space- or ``;``-separated), degC."""

    description = "DMR-IR breast thermography temperature matrix (brim.thermo)"
    url = "https://github.com/brim"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "shape")

    def open_dataset(self, filename_or_obj, *, drop_variables=None, shape=(480, 640)):
        from brim.thermo.readers import read_dmr

        return read_dmr(filename_or_obj, shape=shape).drop_vars(
            drop_variables or [], errors="ignore"
        )

    def guess_can_open(self, filename_or_obj) -> bool:
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        p = Path(filename_or_obj)
        if p.suffix.lower() != ".txt" or not p.is_file():
            return False
        head = p.open("rb").read(64)
        return bool(head) and all(c in b"0123456789.;, -\t\r\n" for c in head)


class FLIRBackendEntrypoint(BackendEntrypoint):
    """FLIR radiometric JPEGs (raw counts -> degC through the Planck constants)."""

    description = "FLIR radiometric JPEG (brim.thermo)"
    url = "https://github.com/brim"

    def open_dataset(self, filename_or_obj, *, drop_variables=None, **overrides):
        from brim.thermo.flir import read_flir

        return read_flir(filename_or_obj, **overrides).drop_vars(
            drop_variables or [], errors="ignore"
        )

    def guess_can_open(self, filename_or_obj) -> bool:
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        p = Path(filename_or_obj)
        if p.suffix.lower() not in (".jpg", ".jpeg"):
            return False
        from brim.thermo.flir import is_flir_radiometric

        return is_flir_radiometric(p)


class GreyImageBackendEntrypoint(BackendEntrypoint):
    """8-bit grey thermal exports (uncalibrated intensity; alpha channel = mask)."""

    description = "8-bit grey thermal image, uncalibrated (brim.thermo)"
    url = "https://github.com/brim"
    open_dataset_parameters = ("filename_or_obj", "drop_variables")

    def open_dataset(self, filename_or_obj, *, drop_variables=None):
        from brim.thermo.readers import read_grey

        return read_grey(filename_or_obj).drop_vars(drop_variables or [], errors="ignore")

    def guess_can_open(self, filename_or_obj) -> bool:
        return False  # PNG is too generic to claim; ask for engine="brim_thermal_image"
