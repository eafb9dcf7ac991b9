"""Deprecated: moved to :mod:`brim.microwave.tomography.classify` (removed in the next release)."""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(
    __name__, ["brim.microwave.tomography.classify"], renamed={"Grid": "TomographyGrid"}
)
