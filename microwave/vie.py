"""Deprecated: moved to :mod:`brim.microwave.tomography.vie` and
:mod:`brim.microwave.tomography.grid` (removed in the next release)."""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(
    __name__,
    ["brim.microwave.tomography.vie", "brim.microwave.tomography.grid"],
    renamed={"Grid": "TomographyGrid"},
)
