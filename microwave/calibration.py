"""Deprecated: moved to :mod:`brim.microwave.radar.calibration` (removed in the next release)."""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(__name__, ["brim.microwave.radar.calibration"])
