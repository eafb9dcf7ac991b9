"""Haemoglobin of simulated lesions within the issue-23 goals (HbT 10 %, sO2 0.03).

Data from brim's own volume-integral diffusion simulator (the same physics as the
reconstruction, so this checks the inversion, not the model); the full table over size x depth
x contrast is made by ``scripts/fusion_accuracy_table.py``. Before the homogeneous-lesion fit,
the 15 mm lesion at 2 cm came out at -16 % HbT (voxel mean); before the lesion was fitted
jointly with its surroundings, a 10 mm lesion at 3 cm came out at -9 % even on noise-free data.
"""

import warnings

import pytest

from brim.fusion import Lesion, hemoglobin, reconstruct, simulate_pair, synthetic_ultrasound


def _case(diameter_mm, depth_mm, hbt=70.0, so2=0.65, estimate="joint", noise=True):
    lesion = Lesion(
        center=(0.0, 0.0, depth_mm * 1e-3),
        radius=diameter_mm * 0.5e-3,
        hbo2=so2 * hbt,
        hb=(1 - so2) * hbt,
    )
    quiet = {} if noise else {"amplitude_noise": 0.0, "phase_noise": 0.0}
    target, reference = simulate_pair(lesion, seed=0, **quiet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = reconstruct(
            target, reference, us=synthetic_ultrasound(lesion, seed=0), lesion_estimate=estimate
        )
        hb = hemoglobin(rec)
    return float(hb["lesion_hbt"]) / hbt - 1, float(hb["lesion_so2"]) - so2, rec


@pytest.mark.parametrize("diameter_mm, depth_mm", [(15, 20), (25, 20)])
def test_lesion_haemoglobin_within_goal(diameter_mm, depth_mm):
    e_hbt, e_so2, rec = _case(diameter_mm, depth_mm)
    assert abs(e_hbt) <= 0.10, f"HbT error {e_hbt:+.1%}"
    assert abs(e_so2) <= 0.03, f"sO2 error {e_so2:+.3f}"
    assert rec["lesion_delta_mua"].attrs["estimate"].startswith("homogeneous-lesion fit")
    assert float(rec["lesion_fit_residual"].max()) < 0.5


def test_the_voxel_mean_was_biased_low():
    """The estimate of earlier releases, kept as lesion_estimate='mean', misses the goal here:
    the test that the fit was needed (it fails if the mean were as good)."""
    e_hbt, _, rec = _case(15, 20, estimate="mean")
    assert e_hbt < -0.10
    assert "lesion_fit_residual" not in rec


def test_small_deep_lesion_no_spill_over_bias():
    """Noise-free data of a 10 mm lesion at 30 mm: the joint fit recovers it within 2 %, the
    fit with the surroundings held at the voxel solution was 9 % low (the voxel solution had
    put part of the lesion into the voxels around it)."""
    e_joint, s_joint, _ = _case(10, 30, noise=False)
    e_fixed, _, _ = _case(10, 30, noise=False, estimate="fit")
    assert abs(e_joint) <= 0.02, f"HbT error {e_joint:+.1%}"
    assert abs(s_joint) <= 0.01, f"sO2 error {s_joint:+.3f}"
    assert e_fixed < -0.06, f"the fixed-surroundings fit should be biased low, got {e_fixed:+.1%}"
