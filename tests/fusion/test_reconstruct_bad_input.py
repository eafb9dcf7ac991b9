"""Reconstruction settings and inputs that used to be accepted silently or crash."""

import numpy as np
import pytest

from brim.errors import ConfigError, FormatError
from brim.fusion import reconstruction as rc
from brim.fusion import simulate as sim
from brim.fusion.background import fit_background


@pytest.fixture(scope="module")
def pair():
    lesion = sim.Lesion(center=(0.0, 0.0, 0.020), radius=7.5e-3, hbo2=45.0, hb=25.0)
    return sim.simulate_pair(lesion, voxel=2.5e-3, seed=3)


ROI = rc.LesionRoi((0.0, 0.0, 0.020), (7.5e-3, 7.5e-3, 7.5e-3))


def test_reference_at_another_modulation_frequency_is_refused(pair):
    """Phases at 140 and 70 MHz are not comparable; this used to reconstruct a negative absorber."""
    target, reference = pair
    other = reference.copy()
    other["modulation_frequency"] = reference.modulation_frequency / 2
    other["modulation_frequency"].attrs = reference.modulation_frequency.attrs
    with pytest.raises(FormatError, match="modulation frequency"):
        rc.perturbation(target, other)
    with pytest.raises(FormatError, match="modulation frequency"):
        rc.reconstruct(target, other, roi=ROI)


def test_background_is_matched_by_wavelength_not_position(pair):
    target, reference = pair
    bg = fit_background(reference)
    shifted = bg.assign_coords(wavelength=bg.wavelength.values + 10.0)
    with pytest.raises(FormatError, match="wavelengths"):
        rc.reconstruct(target, reference, roi=ROI, background=shifted)


@pytest.mark.parametrize(
    "roi",
    [
        rc.LesionRoi((0.0, 0.0, 0.045), (5e-3, 5e-3, 5e-3)),  # below the 40 mm deep volume
        rc.LesionRoi((0.046, 0.0, 0.020), (5e-3, 5e-3, 5e-3)),  # beside the 45 mm half-width
    ],
)
def test_roi_centred_outside_the_volume_is_refused(pair, roi):
    """The fine box still overlapped the volume, so a wrong lesion value came back."""
    with pytest.raises(ConfigError, match="outside the imaged volume"):
        rc.reconstruct(*pair, roi=roi)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_roi_needs_finite_semi_axes(bad):
    with pytest.raises(ConfigError, match="semi-axes"):
        rc.LesionRoi((0.0, 0.0, 0.020), (bad, 5e-3, 5e-3))


def test_roi_in_metres_typed_as_millimetres_is_refused():
    """``--roi 0,0,0.02,0.0075`` (metres where the CLI expects mm) used to reconstruct a 15 um
    lesion 20 um deep and report a number; a 1 mm lesion is still accepted."""
    with pytest.raises(ConfigError, match="were metres given where millimetres"):
        rc.LesionRoi.parse("0,0,0.02,0.0075")
    assert rc.LesionRoi.parse("0,0,20,0.5").semi_axes == (5e-4,) * 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"extent": 0.044}, "whole number of coarse cells"),
        ({"depth": 0.042}, "whole number of coarse cells"),
        ({"fine": 0.0}, "fine voxel"),
        ({"solver": "cgls", "iterations": 0}, "iterations"),
        ({"display_spacing": 0.0}, "display_spacing"),
        ({"nonlinear_iterations": -1}, "nonlinear_iterations"),
        ({"alpha": np.nan}, "alpha"),
        ({"outside_penalty": -1.0}, "outside_penalty"),
    ],
)
def test_bad_reconstruction_settings_raise_config_error(pair, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        rc.reconstruct(*pair, roi=ROI, **kwargs)
