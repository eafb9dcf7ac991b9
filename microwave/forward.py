"""Deprecated: moved to :mod:`brim.microwave.tomography.forward`
and :mod:`brim.microwave.tomography.vie`.

Removed in the next release.
"""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(
    __name__,
    ["brim.microwave.tomography.forward", "brim.microwave.tomography.vie"],
    renamed={"Grid": "TomographyGrid"},
)
