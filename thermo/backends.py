"""xarray backend entry points for the thermal vendor formats.

``xr.open_dataset(path, engine="brim_dmr")`` reads a DMR-IR temperature matrix,
``engine="brim_flir"`` a FLIR radiometric JPEG (FLIR overrides as keywords, e.g.
``xr.open_dataset(path, engine="brim_flir", emissivity=0.98)``), ``engine="brim_thermal_image"``
an 8-bit grey image. The engines are declared in the ``xarray.backends`` entry-point group:

    brim_dmr = "brim.thermo.backends:DMRBackendEntrypoint"
    brim_flir = "brim.thermo.backends:FLIRBackendEntrypoint"
    brim_thermal_image = "brim.thermo.backends:GreyImageBackendEntrypoint"
"""

from __future__ import annotations

import os
from pathlib import Path

from xarray.backends import BackendEntrypoint

__all__ = ["DMRBackendEntrypoint", "FLIRBackendEntrypoint", "GreyImageBackendEntrypoint"]


class _FileBackend(BackendEntrypoint):
    """A backend that claims a file by its suffix and its content (:meth:`guess_can_open`)."""

    suffixes: tuple[str, ...] = ()

    @staticmethod
    def _claims(p: Path) -> bool:
        return False

    def guess_can_open(self, filename_or_obj) -> bool:
        """Whether ``xr.open_dataset`` without ``engine=`` should use this backend.

        Parameters
        ----------
        filename_or_obj : path-like or object
            What ``xr.open_dataset`` was given.

        Returns
        -------
        bool
            True for an existing file with one of the backend's ``suffixes`` whose content is in
            the backend's format.
        """
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        p = Path(filename_or_obj)
        return p.suffix.lower() in self.suffixes and p.is_file() and self._claims(p)


class DMRBackendEntrypoint(_FileBackend):
    """DMR-IR temperature matrices (``.txt``, space- or ``;``-separated), degC; claimed without
    ``engine=`` when the file starts with numbers and separators."""

    description = "DMR-IR breast thermography temperature matrix (brim.thermo)"
    url = "https://github.com/brim"
    suffixes = (".txt",)

    def open_dataset(self, filename_or_obj, *, drop_variables=None, shape=(480, 640)):
        """Read a DMR temperature matrix (:func:`brim.thermo.read_dmr`).

        Parameters
        ----------
        filename_or_obj : path-like
            The ``.txt`` file.
        drop_variables : list of str, optional
            Variables left out.
        shape : (int, int) or None
            Expected (rows, columns); None accepts any.

        Returns
        -------
        xarray.Dataset
            A brim ``thermogram`` (degC).
        """
        from brim.thermo.readers import read_dmr

        return read_dmr(filename_or_obj, shape=shape).drop_vars(
            drop_variables or [], errors="ignore"
        )

    @staticmethod
    def _claims(p: Path) -> bool:
        with p.open("rb") as f:
            head = f.read(64)
        return bool(head) and all(c in b"0123456789.;, -\t\r\n" for c in head)


class FLIRBackendEntrypoint(_FileBackend):
    """FLIR radiometric JPEGs (raw counts -> degC through the Planck constants); a ``.jpg`` or
    ``.jpeg`` with FLIR radiometric data is claimed without ``engine=``."""

    description = "FLIR radiometric JPEG (brim.thermo)"
    url = "https://github.com/brim"
    suffixes = (".jpg", ".jpeg")

    # xarray reads the accepted keywords from this signature (no **kwargs allowed): one keyword
    # per FlirParameters field; None keeps the value stored in the file.
    def open_dataset(
        self,
        filename_or_obj,
        *,
        drop_variables=None,
        emissivity=None,
        object_distance=None,
        reflected_temperature=None,
        atmospheric_temperature=None,
        relative_humidity=None,
        atmospheric_transmission=None,
        ir_window_temperature=None,
        ir_window_transmission=None,
        planck_r1=None,
        planck_r2=None,
        planck_b=None,
        planck_f=None,
        planck_o=None,
        atm_alpha1=None,
        atm_alpha2=None,
        atm_beta1=None,
        atm_beta2=None,
        atm_x=None,
    ):
        """Read a FLIR JPEG; keywords override the file's conversion parameters (SI/degC).

        Parameters
        ----------
        filename_or_obj : path-like
            The JPEG.
        drop_variables : list of str, optional
            Variables left out.
        emissivity, object_distance, reflected_temperature, atmospheric_temperature, \
relative_humidity, atmospheric_transmission, ir_window_temperature, ir_window_transmission, \
planck_r1, planck_r2, planck_b, planck_f, planck_o, atm_alpha1, atm_alpha2, atm_beta1, \
atm_beta2, atm_x : float, optional
            Overrides of the :class:`brim.thermo.flir.FlirParameters` stored in the file
            (m, degC, fractions); None keeps the stored value.

        Returns
        -------
        xarray.Dataset
            A brim ``thermogram`` (degC), see :func:`brim.thermo.read_flir`.
        """
        from brim.thermo.flir import read_flir

        overrides = {
            "emissivity": emissivity,
            "object_distance": object_distance,
            "reflected_temperature": reflected_temperature,
            "atmospheric_temperature": atmospheric_temperature,
            "relative_humidity": relative_humidity,
            "atmospheric_transmission": atmospheric_transmission,
            "ir_window_temperature": ir_window_temperature,
            "ir_window_transmission": ir_window_transmission,
            "planck_r1": planck_r1,
            "planck_r2": planck_r2,
            "planck_b": planck_b,
            "planck_f": planck_f,
            "planck_o": planck_o,
            "atm_alpha1": atm_alpha1,
            "atm_alpha2": atm_alpha2,
            "atm_beta1": atm_beta1,
            "atm_beta2": atm_beta2,
            "atm_x": atm_x,
        }
        given = {k: v for k, v in overrides.items() if v is not None}
        return read_flir(filename_or_obj, **given).drop_vars(drop_variables or [], errors="ignore")

    @staticmethod
    def _claims(p: Path) -> bool:
        from brim.thermo.flir import is_flir_radiometric

        return is_flir_radiometric(p)


class GreyImageBackendEntrypoint(BackendEntrypoint):
    """8-bit grey thermal exports (uncalibrated intensity; alpha channel = mask). Never claimed
    without ``engine="brim_thermal_image"`` (xarray's default ``guess_can_open``): PNG is too
    generic."""

    description = "8-bit grey thermal image, uncalibrated (brim.thermo)"
    url = "https://github.com/brim"

    def open_dataset(self, filename_or_obj, *, drop_variables=None):
        """Read an 8-bit grey image (:func:`brim.thermo.read_grey`).

        Parameters
        ----------
        filename_or_obj : path-like
            The image.
        drop_variables : list of str, optional
            Variables left out.

        Returns
        -------
        xarray.Dataset
            A brim ``thermal_intensity`` Dataset.
        """
        from brim.thermo.readers import read_grey

        return read_grey(filename_or_obj).drop_vars(drop_variables or [], errors="ignore")
