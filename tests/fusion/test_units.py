"""SI lengths in brim.fusion: readers convert once, millimetres given as metres are refused,
renamed classes warn, the public API resolves, and no message names a missing function."""

import ast
import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import brim
from brim import fusion as rd
from brim.errors import ConfigError, SchemaError
from brim.fusion import reconstruction as rc
from brim.fusion import simulate as sim

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def meas():
    return sim.simulate_measurement(None, wavelengths=(780.0, 830.0))


def test_simulated_data_are_in_metres(meas):
    for c in ("source_x", "source_y", "detector_x", "detector_y"):
        assert meas[c].attrs["units"] == "m"
    # the probe spans about 4 by 7 cm: positions of a few centimetres, in metres
    assert 0.02 < float(np.abs(meas.detector_y).max()) < 0.05
    us = sim.synthetic_ultrasound(pixel=0.5e-3)
    assert us.x.attrs["units"] == "m" and us.y.attrs["units"] == "m"
    assert float(us.y.max()) == pytest.approx(0.040 - 0.25e-3)
    assert us.attrs["plane_y_m"] == 0.0


def test_legacy_netcdf_in_mm_is_converted_once_by_the_reader(meas, tmp_path):
    old = meas.copy()
    for c in ("source_x", "source_y", "detector_x", "detector_y"):
        old = old.assign_coords({c: (old[c].dims, old[c].values * 1e3, {"units": "mm"})})
    old.attrs["brim_schema"] = "optical_measurement/1"
    p = brim.save(old, tmp_path / "old.nc", validate=False)
    with pytest.raises(SchemaError):  # the schema names m: an old file is not valid as it is
        brim.open(p)
    back = rd.read_measurement(p)
    assert back.attrs["brim_schema"] == "optical_measurement/2"
    np.testing.assert_allclose(back.source_x.values, meas.source_x.values, rtol=1e-12)
    assert back.source_x.attrs["units"] == "m"


def test_mat_positions_in_metres_by_variable(meas, tmp_path):
    from scipy.io import savemat

    base = {
        "amplitude": meas.amplitude.values,
        "phase": meas.phase.values,
        "wavelength": meas.wavelength.values,
        "source_pos": np.stack([meas.source_x, meas.source_y], 1),
        "detector_pos": np.stack([meas.detector_x, meas.detector_y], 1),
        "frequency": 140e6,
    }
    savemat(tmp_path / "m.mat", {**base, "position_units": "m"})
    back = rd.read_measurement(tmp_path / "m.mat")
    np.testing.assert_allclose(back.detector_x.values, meas.detector_x.values, rtol=1e-12)
    with pytest.raises(ConfigError, match="contradicts"):
        rd.read_measurement(tmp_path / "m.mat", position_units="mm")
    # metres read as the default mm would be a 1000x smaller probe: plausible, so the file
    # states its unit; mm read as metres are refused as implausible (85 m probe)
    savemat(tmp_path / "mm_as_m.mat", {**base, "source_pos": base["source_pos"] * 1e3,
                                       "detector_pos": base["detector_pos"] * 1e3,
                                       "position_units": "m"})  # fmt: skip
    from brim.errors import FormatError

    with pytest.raises(FormatError, match="beyond 0.5 m"):
        rd.read_measurement(tmp_path / "mm_as_m.mat")


@pytest.mark.parametrize(
    "make",
    [
        lambda: sim.Lesion((0.0, 0.0, 20.0), 7.5),
        lambda: rc.LesionRoi((0.0, 0.0, 20.0), (7.5, 7.5, 7.5)),
        lambda: rc.dual_mesh(rc.LesionRoi((0, 0, 0.02), 0.0075), extent=45.0),
        lambda: sim.synthetic_ultrasound(width=60.0),
    ],
)
def test_millimetres_given_as_metres_are_refused(make):
    with pytest.raises(ConfigError, match="metres"):
        make()


def test_roi_parse_takes_display_units():
    roi = rc.LesionRoi.parse("5,0,20,7.5")
    np.testing.assert_allclose(roi.center, (0.005, 0.0, 0.020))
    np.testing.assert_allclose(roi.semi_axes, 0.0075)
    np.testing.assert_allclose(rc.LesionRoi.parse("0.5,0,2,0.75", units="cm").center[2], 0.020)


def test_reconstruction_coordinates_in_metres_and_plots_in_mm(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brim.fusion import plotting

    lesion = sim.Lesion((0.0, 0.0, 0.020), 0.0075)
    target, reference = sim.simulate_pair(lesion, voxel=2.5e-3, seed=1)
    us = sim.synthetic_ultrasound(lesion, pixel=0.5e-3)
    rec = rc.reconstruct(target, reference, us=us, nonlinear_iterations=0)
    assert rec.z.attrs["units"] == "m" and float(rec.z.max()) < 0.041
    summ = rc.lesion_summary(rec)
    np.testing.assert_allclose(summ["center_mm"], np.multiply(summ["center"], 1e3))
    assert np.linalg.norm(np.subtract(summ["center"], lesion.center)) < 5e-3
    roi_c = np.array(__import__("json").loads(rec.attrs["roi_center_m"]))
    np.testing.assert_allclose(roi_c, lesion.center, atol=1e-3)
    fig, axs = plt.subplots(1, 2)
    plotting.plot_ultrasound(us, ax=axs[0])
    plotting.plot_map(rec.delta_mua.isel(wavelength=0, y=rec.sizes["y"] // 2), ax=axs[1])
    assert axs[0].get_xlabel() == "x (mm)" and axs[1].get_ylabel() == "z (mm)"
    assert max(axs[0].get_ylim()) == pytest.approx(40.0, abs=1.0)  # depth shown in mm
    assert max(axs[1].get_ylim()) == pytest.approx(40.0, abs=2.0)
    plt.close(fig)


def test_renamed_roi_classes_warn_and_still_work():
    import brim.elasto
    import brim.fusion
    import brim.fusion.reconstruction as rmod
    from brim.elasto.strain import StrainRoi
    from brim.fusion.reconstruction import LesionRoi

    for mod, new in (
        (brim.fusion, LesionRoi),
        (rmod, LesionRoi),
        (brim.elasto, StrainRoi),
        (importlib.import_module("brim.elasto.strain"), StrainRoi),
    ):
        with pytest.warns(DeprecationWarning, match="renamed"):
            old = mod.Roi
        assert old is new
        assert "Roi" not in getattr(mod, "__all__", [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert brim.fusion.LesionRoi is LesionRoi and brim.elasto.StrainRoi is StrainRoi


def test_public_api_resolves_and_import_stays_light():
    import brim.fusion

    assert len(brim.fusion.__all__) > 30
    for name in brim.fusion.__all__:
        obj = getattr(brim.fusion, name)
        assert callable(obj) and not isinstance(obj, type(sys)), name
    code = (
        "import sys, brim.fusion; "
        "print(sorted(m for m in sys.modules if m.startswith('brim.fusion.') or m in "
        "('torch', 'scipy', 'matplotlib', 'skimage')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _named_functions():
    """Every ``brim.fusion.X[.Y]`` named in a string of the fusion package or the core."""
    names = set()
    files = list((ROOT / "fusion").glob("*.py")) + list((ROOT / "core").glob("*.py"))
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.update(re.findall(r"brim\.fusion(?:\.[A-Za-z_]\w*)+", node.value))
    return sorted(names)


def test_every_function_named_in_a_message_exists():
    names = _named_functions()
    assert "brim.fusion.read_measurement" in names  # named by brim.open's hint for .mat files
    for name in names:
        parts = name.split(".")
        obj = importlib.import_module("brim")
        for i, part in enumerate(parts[1:], 1):
            try:
                with warnings.catch_warnings():  # deprecated aliases (Roi) count: they exist
                    warnings.simplefilter("ignore", DeprecationWarning)
                    obj = getattr(obj, part)
            except AttributeError:
                obj = importlib.import_module(".".join(parts[: i + 1]))
        assert obj is not None, name


def test_us_mask_geometry_by_name_and_units():
    m = np.zeros((40, 30), np.uint8)
    m[10:20, 5:11] = 1
    depth = (np.arange(40) + 0.5) * 1.0  # mm
    line = (np.arange(30) + 0.5) * 2.0  # mm, from the first element; aperture 0-60 mm
    da = xr.DataArray(
        m[None],
        dims=("frame", "depth", "line"),
        coords={
            "depth": ("depth", depth, {"units": "mm"}),
            "line": ("line", line, {"units": "mm"}),
        },
    )
    roi = rc.roi_from_mask(da)
    # depth 10-20 mm -> z centre 15 mm; lines 5-10 (11-21 mm along the aperture) -> x = 16 - 30
    np.testing.assert_allclose(roi.center, (-0.014, 0.0, 0.015), atol=1e-12)
    np.testing.assert_allclose(roi.semi_axes, (0.006, 0.006, 0.005), atol=1e-12)
    with pytest.raises(SchemaError, match="dims"):
        rc.roi_from_mask(da.rename(depth="row"))
