"""The US-constrained homogeneous-lesion estimate (issue 23): volume fractions and the fit."""

import numpy as np
import pytest

from brim.errors import ConfigError, SolverError
from brim.fusion.lesion_fit import (
    fit_homogeneous_lesion,
    fit_lesion_with_surroundings,
    roi_fractions,
)


def _cube(n, h):
    ax = (np.arange(n) - n / 2 + 0.5) * h
    return np.stack(np.meshgrid(ax, ax, ax, indexing="ij"), -1).reshape(-1, 3)


@pytest.mark.parametrize("semi", [(7.5, 7.5, 7.5), (5.0, 7.5, 6.0), (3.3, 3.3, 3.3)])
def test_fractions_add_up_to_the_ellipsoid_volume(semi):
    h = 2.5
    c = _cube(16, h)
    f = roi_fractions(c, np.ones(len(c), bool), h, (0.4, -0.3, 0.2), semi, subsamples=8)
    exact = 4 / 3 * np.pi * np.prod(semi)
    assert f.sum() * h**3 == pytest.approx(exact, rel=0.02)
    # whole voxels whose centre is inside misstate the volume (the bias this module removes)
    inside = np.sum(((c - (0.4, -0.3, 0.2)) / semi) ** 2, axis=1) <= 1
    assert np.all((f >= 0) & (f <= 1)) and f[inside].min() > 0
    assert f[np.linalg.norm(c, axis=1) > max(semi) + 2 * h].max() == 0


def test_non_voxel_unknowns_get_no_fraction():
    c = _cube(4, 1.0)
    is_voxel = np.zeros(len(c), bool)
    assert not roi_fractions(c, is_voxel, 1.0, (0, 0, 0), (1, 1, 1)).any()
    with pytest.raises(ConfigError):
        roi_fractions(c, is_voxel, 0.0, (0, 0, 0), (1, 1, 1))


def test_the_fit_recovers_a_lesion_through_a_nonlinear_model():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(60, 8)) + 1j * rng.normal(size=(60, 8))

    def forward(v, d):  # a saturating (distorted-Born-like) model, its (approximate) derivative
        lin = a @ v
        return lin / (1 + 0.5 * lin.real.mean()), (a @ d) / (1 + 0.5 * lin.real.mean())

    frac = np.array([0, 0, 0.3, 1, 1, 0.6, 0, 0])
    outside = np.array([0.01, -0.02, 0, 0, 0, 0, 0.015, 0.0])
    data, _ = forward(outside + 0.08 * frac, frac)
    voxel_solution = outside + np.where(frac > 0, 0.05, 0.0)  # a blurred, low estimate
    fit = fit_homogeneous_lesion(forward, voxel_solution, frac, data, tol=1e-10, iterations=30)
    assert fit.delta_mua == pytest.approx(0.08, rel=1e-3)
    assert fit.relative_residual < 1e-2


def test_bad_input():
    a = np.eye(3, dtype=complex)
    with pytest.raises(ConfigError, match="no unknown"):
        fit_homogeneous_lesion(lambda v, d: (a @ v, a @ d), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ConfigError, match="shapes"):
        fit_homogeneous_lesion(lambda v, d: (a @ v, a @ d), np.zeros(3), np.ones(2), np.ones(3))
    zero = np.zeros((3, 3), complex)
    with pytest.raises(SolverError, match="do not depend"):
        fit_homogeneous_lesion(
            lambda v, d: (zero @ v, zero @ d), np.zeros(3), np.ones(3), np.ones(3)
        )


def _lstsq(a, b, pen):
    return np.linalg.lstsq(np.concatenate([a.real, a.imag]), np.concatenate([b.real, b.imag]))[0]


def test_joint_fit_bad_input_names_the_mismatched_array():
    a = np.eye(3, dtype=complex)

    def forward(v):
        return a @ v, a

    with pytest.raises(ConfigError, match=r"x \(3,\), fractions \(3,\) and penalty \(2,\)"):
        fit_lesion_with_surroundings(forward, np.zeros(3), np.ones(3), np.ones(3), _lstsq, [1, 1])
    with pytest.raises(ConfigError, match=r"x \(3,\), fractions \(2,\) and penalty \(3,\)"):
        fit_lesion_with_surroundings(forward, np.zeros(3), np.ones(2), np.ones(3), _lstsq, [1] * 3)
    with pytest.raises(ConfigError, match="no unknown"):
        fit_lesion_with_surroundings(forward, np.zeros(3), np.zeros(3), np.ones(3), _lstsq, [1] * 3)


def test_both_fits_report_the_weighted_relative_residual():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20, 4)) + 1j * rng.normal(size=(20, 4))
    frac = np.array([0.0, 1.0, 1.0, 0.0])
    noise = 0.05 * (rng.normal(size=20) + 1j * rng.normal(size=20))
    data = a @ (0.04 * frac) + noise
    w = rng.uniform(0.5, 2.0, 20)
    fit = fit_homogeneous_lesion(lambda v, d: (a @ v, a @ d), np.zeros(4), frac, data, rowscale=w)
    resid = (data - a @ (fit.delta_mua * frac)) * w
    assert fit.relative_residual == pytest.approx(
        np.linalg.norm(resid) / np.linalg.norm(data * w), rel=1e-12
    )
    joint, x = fit_lesion_with_surroundings(
        lambda v: (a @ v, a), np.zeros(4), frac, data, _lstsq, np.ones(4), rowscale=w
    )
    resid = (data - a @ x) * w
    assert joint.relative_residual == pytest.approx(
        np.linalg.norm(resid) / np.linalg.norm(data * w), rel=1e-12
    )
    assert joint.delta_mua == pytest.approx(x[1]) and 0 < joint.relative_residual < 1
