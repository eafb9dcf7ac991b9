"""Shear-wave elastography on a simulated wave of known speed."""

import numpy as np
import pytest

from brim.elasto.rfsim import simulate_shear_wave_rf
from brim.elasto.shearwave import arrival_times, shear_wave_elastography, youngs_modulus
from brim.elasto.strain import StrainRoi
from brim.errors import ConfigError


@pytest.mark.parametrize("speed", [1.5, 3.0])
def test_recovers_known_speed(speed):
    rf = simulate_shear_wave_rf(speed=speed, n_frames=36, n_lines=48, n_samples=120, seed=4)
    roi = StrainRoi((15.5e-3, 17e-3, 2e-3, 7e-3))
    res = shear_wave_elastography(rf, roi=roi)
    # stated tolerance: group speed within 3 %, ROI mean modulus within 10 %
    assert res.speed == pytest.approx(speed, rel=0.03)
    assert res.youngs_modulus == pytest.approx(3000 * speed**2, rel=0.06)
    assert res.e_mean == pytest.approx(3000 * speed**2, rel=0.10)
    assert res.e_max >= res.e_mean


def test_modulus_formula_and_arrival_times():
    assert youngs_modulus(2.0) == pytest.approx(12_000.0)
    assert youngs_modulus(2.0, density=1050) == pytest.approx(12_600.0)
    t = np.arange(50) * 1e-4
    peak = 2.345e-3
    v = np.cos(2 * np.pi * (t - peak) / 4e-3)[:, None] * np.ones((1, 3))
    assert arrival_times(v, t) == pytest.approx(peak, abs=5e-6)


def test_needs_time_axis():
    rf = simulate_shear_wave_rf(n_frames=4, n_lines=16, n_samples=60)
    with pytest.raises(ConfigError, match="time"):
        shear_wave_elastography(rf.drop_vars("time"))


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"density": 0.0}, "density"), ({"push_x": np.nan}, "push_x")]
)
def test_bad_density_or_push_position(kwargs, match):
    """density=0 reported E = 0 kPa; a NaN push position a misleading 'too few positions'."""
    rf = simulate_shear_wave_rf(n_frames=4, n_lines=16, n_samples=60)
    with pytest.raises(ConfigError, match=match):
        shear_wave_elastography(rf, **kwargs)
