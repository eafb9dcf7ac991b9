"""US-guided reconstruction: lesion recovery, solvers against dense references, haemoglobin."""

import json

import numpy as np
import pytest

from brim.errors import ConfigError, FormatError
from brim.fusion import reconstruction as rc
from brim.fusion import simulate as sim


@pytest.fixture(scope="module")
def case():
    lesion = sim.Lesion(center=(5e-3, 3e-3, 20e-3), radius=7.5e-3, hbo2=45.0, hb=25.0)
    target, reference = sim.simulate_pair(lesion, voxel=1.5e-3, seed=11)
    us = sim.synthetic_ultrasound(lesion, seed=2)
    return lesion, target, reference, us


def test_lesion_recovered_with_us_prior(case):
    # Done-when of issue 7: 1.5 cm lesion at 2 cm depth; HbT within 20 %, centre within 5 mm.
    lesion, target, reference, us = case
    roi = rc.roi_from_mask(us)
    assert np.allclose(roi.center, lesion.center, atol=0.5e-3)
    recon = rc.reconstruct(target, reference, us=us)
    hb = rc.hemoglobin(recon)
    truth = lesion.hbo2 + lesion.hb
    assert float(hb.lesion_hbt) == pytest.approx(truth, rel=0.20)
    assert float(hb.lesion_so2) == pytest.approx(lesion.hbo2 / truth, abs=0.1)
    bg = json.loads(target.attrs["brim_truth"])
    assert float(hb.background_hbt) == pytest.approx(
        bg["background_hbo2_uM"] + bg["background_hb_uM"], rel=0.05
    )
    centre = rc.lesion_summary(recon)["center"]
    assert np.linalg.norm(np.subtract(centre, lesion.center)) < 5e-3
    # the nonlinear (distorted Born) step improves on plain first Born
    born = rc.hemoglobin(rc.reconstruct(target, reference, us=us, nonlinear_iterations=0))
    assert abs(float(hb.lesion_hbt) - truth) < abs(float(born.lesion_hbt) - truth)


def test_centre_found_with_misplaced_roi(case):
    # a ROI 3 mm off and 20 % too large: the optical data still place the lesion within 5 mm
    lesion, target, reference, _ = case
    roi = rc.LesionRoi((8e-3, 3e-3, 18e-3), (9e-3, 9e-3, 9e-3))
    recon = rc.reconstruct(target, reference, roi=roi, nonlinear_iterations=0)
    centre = rc.lesion_summary(recon)["center"]
    assert np.linalg.norm(np.subtract(centre, lesion.center)) < 5e-3


def test_tikhonov_against_dense_references():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 80))
    b = rng.standard_normal(30)
    pen = rng.uniform(1, 3, 80)
    alpha = 0.3
    x = rc.tikhonov(a, b, alpha, penalty=pen)
    # normal equations, dense, in the unknown space
    ref = np.linalg.solve(a.T @ a + alpha * np.diag(pen**2), a.T @ b)
    np.testing.assert_allclose(x, ref, rtol=1e-8, atol=1e-10)
    # alpha -> 0: the minimum-norm least-squares solution of numpy's lstsq
    np.testing.assert_allclose(
        rc.tikhonov(a, b, 1e-12), np.linalg.lstsq(a, b, rcond=None)[0], atol=1e-6
    )
    # CGLS converges to the same damped solution
    x_cgls = rc.cgls(a, b, 500, alpha=alpha, penalty=pen)
    np.testing.assert_allclose(x_cgls, ref, rtol=1e-6, atol=1e-8)


def test_hemoglobin_roundtrip_through_extinction():
    from brim.fusion.extinction import extinction_at

    wl = np.array([740.0, 780.0, 808.0, 830.0])
    hbo2 = np.array([[10.0, 40.0], [25.0, 60.0]])
    hb = np.array([[5.0, 30.0], [15.0, 2.0]])
    eps = extinction_at(wl)
    mua = np.log(10) / 10 * 1e-6 * (eps[:, 0, None, None] * hbo2 + eps[:, 1, None, None] * hb)
    import xarray as xr

    recon = xr.Dataset(
        {"mua": (("wavelength", "y", "x"), mua, {"units": "mm-1"})},
        coords={
            "wavelength": ("wavelength", wl, {"units": "nm"}),
            "y": ("y", [0.0, 1e-3], {"units": "m"}),
            "x": ("x", [0.0, 1e-3], {"units": "m"}),
        },
    )
    out = rc.hemoglobin(recon)
    np.testing.assert_allclose(out.hbo2.values, hbo2, rtol=1e-9)
    np.testing.assert_allclose(out.hb.values, hb, rtol=1e-9)
    np.testing.assert_allclose(out.so2.values, hbo2 / (hbo2 + hb), rtol=1e-9)
    # the table is a parameter: a table with HbO2/Hb swapped swaps the result
    from brim.fusion.extinction import read_extinction

    ext = read_extinction()
    swapped = ext.assign(eps_hbo2=ext.eps_hb, eps_hb=ext.eps_hbo2)
    out2 = rc.hemoglobin(recon, extinction=swapped)
    np.testing.assert_allclose(out2.hbo2.values, hb, rtol=1e-9)


def test_bad_inputs(case):
    _, target, reference, us = case
    with pytest.raises(ConfigError):
        rc.LesionRoi.parse("1,2,3")
    with pytest.raises(ConfigError):
        rc.LesionRoi.parse("1,2,-3,4")
    with pytest.raises(ConfigError):
        rc.reconstruct(target, reference)
    with pytest.raises(FormatError):
        roi = rc.LesionRoi.parse("0,0,20,7")
        rc.reconstruct(target, reference.isel(detector=slice(0, 5)), roi=roi)
    empty = us.assign(mask=us["mask"] * 0)
    with pytest.raises(ConfigError):
        rc.roi_from_mask(empty)


def test_dual_mesh_tiles_the_volume():
    roi = rc.LesionRoi((3.3e-3, -7.1e-3, 18.2e-3), (6e-3, 6e-3, 5e-3))
    mesh = rc.dual_mesh(roi, extent=0.045, depth=0.040, fine=2.5e-3, coarse=(0.010, 0.005))
    # quadrature volumes add up to the imaged volume: no gap, no overlap between the grids
    assert mesh.volumes.sum() == pytest.approx(90.0 * 90.0 * 40.0, rel=1e-12)
    assert mesh.is_fine.sum() > 0 and mesh.in_roi.sum() > 0
    assert np.all(roi.contains(mesh.centers[mesh.in_roi] * 1e-3))  # the mesh is in mm
    # every point of the volume belongs to exactly one unknown
    rng = np.random.default_rng(0)
    pts = rng.uniform([-45, -45, 0], [45, 45, 40], (5000, 3))
    assert np.all(mesh.locate(pts) >= 0)
    with pytest.raises(ConfigError):
        rc.dual_mesh(roi, fine=3e-3)
