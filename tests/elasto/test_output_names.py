"""Displacement and shear-wave maps say what they are: ``brim plot`` titles them with their
``long_name`` (they used to read just "axial" or "speed")."""

from __future__ import annotations

import brim.data
from brim.elasto import estimate_displacement
from brim.elasto.rfsim import simulate_shear_wave_rf
from brim.elasto.shearwave import shear_wave_elastography


def test_displacement_maps_are_named():
    pair = brim.data.sample("elasto_phantom_pair")
    for method in ("ncc", "glue"):
        d = estimate_displacement(pair, method=method)
        assert d["axial"].attrs["long_name"] == "axial displacement"
        assert d["lateral"].attrs["long_name"] == "lateral displacement"


def test_shear_wave_maps_are_named():
    sw = simulate_shear_wave_rf(speed=2.5, n_frames=30, n_lines=48, n_samples=160)
    maps = shear_wave_elastography(sw).maps
    assert "shear-wave speed" in maps["speed"].attrs["long_name"]
    assert "Young" in maps["youngs_modulus"].attrs["long_name"]
    assert "arrival" in maps["arrival_time"].attrs["long_name"]
