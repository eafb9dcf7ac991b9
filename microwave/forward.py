"""Deprecated: split into :mod:`brim.microwave.tomography.forward`,
:mod:`~brim.microwave.tomography.grid`, :mod:`~brim.microwave.tomography.krylov`,
:mod:`~brim.microwave.tomography.analytic` and :mod:`~brim.microwave.tomography.vie`.

Removed in the next release.
"""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(
    __name__,
    [
        "brim.microwave.tomography.forward",
        "brim.microwave.tomography.grid",
        "brim.microwave.tomography.krylov",
        "brim.microwave.tomography.analytic",
        "brim.microwave.tomography.vie",
    ],
    renamed={"Grid": "TomographyGrid"},
)
