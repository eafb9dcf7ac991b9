"""Deprecated: moved to :mod:`brim.microwave.radar.timedomain` (removed in the next release)."""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(__name__, ["brim.microwave.radar.timedomain"])
