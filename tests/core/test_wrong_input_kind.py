"""A path, a NumPy array or a DataArray passed to a main step where a Dataset belongs.

Before brim.schema.expect_dataset each step answered in its own words ("a thermogram with
'temperature' (or 'intensity') is expected", "scan has no variable 's'", a bare KeyError or
AttributeError): none said what it got nor how to read the file. Now every step names what it
was given and the reader (for a path) or the builder (for an array) that makes the Dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import brim
import brim.elasto as elasto
import brim.fusion as fusion
import brim.microwave as microwave
import brim.thermo as thermo
from brim import schema
from brim.errors import SchemaError

GRID = microwave.TomographyGrid.centered(8, 0.08)

# step, call with the wrong object, what a path is told to use, what an array is told to use
STEPS = [
    ("thermo.segment_classical", thermo.segment_classical, "brim.thermo.read", "xr.Dataset("),
    ("thermo.segment", thermo.segment, "brim.thermo.read", "xr.Dataset("),
    ("thermo.extract_features", lambda x: thermo.extract_features(x, x), "brim.thermo.read", None),
    ("thermo.asymmetry_map", lambda x: thermo.asymmetry_map(x, x), "brim.thermo.read", None),
    ("elasto.beamform", elasto.beamform, "brim.elasto.read_channel", "make_channel_data"),
    ("elasto.estimate_displacement", elasto.estimate_displacement, "brim.elasto.read_rf", None),
    ("elasto.glue_displacement", elasto.glue_displacement, "brim.elasto.read_rf", None),
    ("elasto.strain_image", elasto.strain_image, "brim.open", "estimate_displacement"),
    ("elasto.shear_wave_elastography", elasto.shear_wave_elastography, "read_rf", "make_rf_frames"),
    ("microwave.beamform", microwave.beamform, "brim.microwave.open_scan", "make_scan"),
    ("microwave.estimate_propagation", microwave.estimate_propagation, "open_scan", "make_scan"),
    ("microwave.rotation_subtraction", microwave.rotation_subtraction, "open_scan", "make_scan"),
    ("microwave.average_subtraction", microwave.average_subtraction, "open_scan", "make_scan"),
    ("microwave.to_time_domain", microwave.to_time_domain, "open_scan", "make_scan"),
    ("microwave.time_gate", lambda x: microwave.time_gate(x, 0.0, 1e-9), "open_scan", "make_scan"),
    (
        "microwave.skin_artefact_removal",
        lambda x: microwave.skin_artefact_removal(x, window=(0.0, 1e-9)),
        "open_scan",
        "make_scan",
    ),
    (
        "microwave.antenna_delay_calibration",
        lambda x: microwave.antenna_delay_calibration(x, 0.0),
        "open_scan",
        "make_scan",
    ),
    (
        "microwave.calibrate_gain",
        lambda x: microwave.calibrate_gain(x, np.ones((8, 8))),
        "brim.microwave.read_field_table",
        "field_set_dataset",
    ),
    ("microwave.invert", lambda x: microwave.invert(x, GRID), "read_field_table", "field_set"),
    (
        "fusion.reconstruct",
        lambda x: fusion.reconstruct(x, x),
        "brim.fusion.read_measurement",
        "measurement_from_arrays",
    ),
    ("fusion.fit_background", fusion.fit_background, "read_measurement", "measurement_from_arrays"),
    ("fusion.hemoglobin", fusion.hemoglobin, "brim.open", "brim.fusion.reconstruct"),
    ("fusion.segment", fusion.segment, "brim.fusion.read_busi", "'image'"),
    ("fusion.lesion_summary", fusion.lesion_summary, "brim.open", "brim.fusion.reconstruct"),
    (
        "elasto.strain_ratio",
        lambda x: elasto.strain_ratio(
            x, elasto.StrainRoi((0, 1, 0, 1)), elasto.StrainRoi((0, 1, 0, 1))
        ),
        "brim.open",
        "brim.elasto.strain_image",
    ),
]
IDS = [s[0] for s in STEPS]


@pytest.mark.parametrize(("name", "step", "reader", "builder"), STEPS, ids=IDS)
def test_a_path_is_told_to_read_the_file_first(name, step, reader, builder):
    with pytest.raises(SchemaError) as info:
        step("T0001.txt")
    msg = str(info.value)
    assert "got the path 'T0001.txt'" in msg
    assert f"{reader}('T0001.txt')" in msg
    assert "brim.open('T0001.txt')" in msg  # a brim NetCDF file opens with brim.open


@pytest.mark.parametrize(("name", "step", "reader", "builder"), STEPS, ids=IDS)
def test_a_pathlib_path_is_named_too(name, step, reader, builder):
    with pytest.raises(SchemaError, match=r"got the path '.*T0001\.txt'"):
        step(Path("data") / "T0001.txt")


# Steps that take raw frames as arrays (brim.elasto displacement) are not asked to refuse them.
FRAME_STEPS = ("elasto.estimate_displacement", "elasto.glue_displacement")
ARRAY_STEPS = [s for s in STEPS if s[0] not in FRAME_STEPS]
ARRAY_IDS = [s[0] for s in ARRAY_STEPS]


@pytest.mark.parametrize(("name", "step", "reader", "builder"), ARRAY_STEPS, ids=ARRAY_IDS)
def test_an_array_is_named_with_its_shape_and_the_builder(name, step, reader, builder):
    with pytest.raises(SchemaError) as info:
        step(np.ones((48, 64)))
    msg = str(info.value)
    assert "got a NumPy array of shape (48, 64)" in msg
    if builder is not None:
        assert builder in msg


@pytest.mark.parametrize(("name", "step", "reader", "builder"), ARRAY_STEPS, ids=ARRAY_IDS)
def test_a_dataarray_is_told_to_pass_its_dataset(name, step, reader, builder):
    da = xr.DataArray(np.ones((4, 5)), dims=("y", "x"), name="temperature")
    with pytest.raises(SchemaError) as info:
        step(da)
    msg = str(info.value)
    assert "got the xarray DataArray 'temperature'" in msg
    assert "ds['temperature']" in msg and "to_dataset()" in msg


def test_a_thermogram_array_is_shown_how_to_wrap_it():
    with pytest.raises(SchemaError) as info:
        thermo.segment_classical(np.ones((480, 640)))
    msg = str(info.value)
    assert "got a NumPy array of shape (480, 640), not a thermogram" in msg
    assert "'temperature': (('y', 'x'), arr)" in msg
    assert "brim.schema.stamp(ds, 'thermogram')" in msg


def test_a_segmentation_given_as_a_path_is_named():
    ds = brim.data.sample("thermo_phantom_tumour")
    with pytest.raises(SchemaError, match="got the path 'seg.nc', not a mask Dataset"):
        thermo.extract_features(ds, "seg.nc")
    with pytest.raises(SchemaError, match="build one with brim.thermo.segment_classical"):
        thermo.asymmetry_map(ds, np.zeros((4, 4)))
    from brim.thermo.body_relative import relative_features

    with pytest.raises(SchemaError, match="got the path 'seg.nc', not a mask Dataset"):
        relative_features(ds, "seg.nc")


def test_a_dataset_passes_and_its_own_checks_keep_their_words():
    ds = xr.Dataset({"t": (("y", "x"), np.ones((4, 4)))})
    assert schema.expect_dataset(ds, "thermogram") is ds
    with pytest.raises(SchemaError, match=r"a thermogram with 'temperature' \(or 'intensity'\)"):
        thermo.segment_classical(ds)
    with pytest.raises(SchemaError, match="scan has no variable 's'"):
        microwave.beamform(ds)


def test_frames_as_arrays_still_reach_the_displacement_estimator():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 8))
    out = elasto.estimate_displacement(a, a)
    assert "axial_samples" in out


def test_an_unnamed_dataarray_and_another_object():
    with pytest.raises(SchemaError, match=r"to_dataset\(name=\.\.\.\)"):
        schema.expect_dataset(xr.DataArray(np.ones(3)), "sparameter_scan")
    with pytest.raises(SchemaError, match="got int, not a sparameter_scan Dataset: read it with"):
        schema.expect_dataset(3, "sparameter_scan")


def test_validate_names_a_path_and_the_reader_of_its_kind():
    """``brim.schema.validate`` said only "expected an xarray.Dataset, got str"."""
    with pytest.raises(
        SchemaError, match=r"got the path 'T0001.txt', not a brim Dataset: .*brim.open"
    ):
        schema.validate("T0001.txt")
    with pytest.raises(SchemaError, match=r"ds = brim.thermo.read\('T0001.txt'\)"):
        schema.validate("T0001.txt", "thermogram")
    with pytest.raises(SchemaError, match=r"NumPy array of shape \(3, 4\), not a thermogram"):
        schema.validate(np.ones((3, 4)), "thermogram")
