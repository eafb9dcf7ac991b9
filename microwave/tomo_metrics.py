"""Deprecated: moved to :mod:`brim.microwave.tomography.metrics` (removed in the next release)."""

from brim.microwave._moved import moved

__getattr__, __dir__ = moved(__name__, ["brim.microwave.tomography.metrics"])
