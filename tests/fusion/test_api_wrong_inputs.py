"""Plausible notebook mistakes with the brim.fusion API raise a BrimError naming the argument.

Each case used to escape as an AttributeError, KeyError, IndexError, TypeError or a plain
ValueError from deep inside (the ROI given as a centre tuple, the reference measurement given as
the background fit, a wavelength in nm where its index belongs, ...).
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import brim.data
import brim.fusion as fusion
from brim.errors import ConfigError, SchemaError


@pytest.fixture(scope="module")
def meas():
    return brim.data.sample("fusion_measurement")


@pytest.fixture(scope="module")
def ref():
    return brim.data.sample("fusion_reference")


@pytest.fixture(scope="module")
def us():
    return brim.data.sample("fusion_ultrasound")


@pytest.fixture(scope="module")
def rec(meas, ref, us):
    one = {"wavelength": [1]}
    return fusion.reconstruct(
        meas.isel(one), ref.isel(one), us=us, fine=5e-3, nonlinear_iterations=0
    )


@pytest.fixture
def ax():
    return Figure().subplots()


@pytest.mark.parametrize("wrong", ["path", "array"])
def test_ultrasound_mask_given_as_a_path_or_array(meas, ref, us, wrong):
    obj = {"path": "us.nc", "array": us["mask"].values}[wrong]
    with pytest.raises(SchemaError, match="not a mask Dataset"):
        fusion.roi_from_mask(obj)
    with pytest.raises(SchemaError, match="not a mask Dataset"):
        fusion.reconstruct(meas, ref, us=obj)


def test_roi_given_as_a_centre_tuple_is_told_to_make_a_lesion_roi(meas, ref):
    with pytest.raises(ConfigError, match=r"roi must be a LesionRoi, e.g. LesionRoi\(center="):
        fusion.reconstruct(meas, ref, roi=(0.005, 0.0, 0.02))
    with pytest.raises(ConfigError, match="roi must be a LesionRoi"):
        fusion.dual_mesh((0.005, 0.0, 0.02))


@pytest.mark.parametrize("which", ["measurement", "dataarray", "path"])
def test_background_must_be_the_fit_not_the_reference(meas, ref, us, which):
    bg = {"measurement": ref, "dataarray": ref["amplitude"], "path": "bg.nc"}[which]
    with pytest.raises(ConfigError, match=r"background must be the Dataset brim.fusion.fit_"):
        fusion.reconstruct(meas, ref, us=us, background=bg)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": "1e-3"}, None),  # a number typed as a string works like the number
        ({"coarse": 0.01}, "coarse must be two cell sizes"),
        ({"coarse": (0.01,)}, "coarse must be two cell sizes"),
    ],
)
def test_reconstruction_options_of_the_wrong_type(meas, ref, us, rec, kwargs, match):
    one = {"wavelength": [1]}
    options = {"us": us, "fine": 5e-3, "nonlinear_iterations": 0, **kwargs}
    if match is None:
        out = fusion.reconstruct(meas.isel(one), ref.isel(one), **options)
        np.testing.assert_array_equal(out["delta_mua"].values, rec["delta_mua"].values)
    else:
        with pytest.raises(ConfigError, match=match):
            fusion.reconstruct(meas, ref, **options)


def test_map_functions_name_a_missing_variable(rec):
    with pytest.raises(ConfigError, match="no variable 'delta_mua'; it holds"):
        fusion.lesion_summary(rec[["mua"]])
    with pytest.raises(ConfigError, match="no variable 'hbt'"):
        fusion.optical_features(rec)  # the reconstruction, not hemoglobin's output
    with pytest.raises(SchemaError, match="not a reconstruction Dataset"):
        fusion.optical_features("hb.nc")


def test_plots_name_the_variable_and_the_wavelength_index(meas, rec, us, ax):
    with pytest.raises(ConfigError, match="no variable 'hbt'"):
        fusion.plot_depth_slices(rec, ax=ax)  # default var hbt: hemoglobin's output
    with pytest.raises(ConfigError, match="no variable 'hbt'"):
        fusion.plot_volume_mip(rec, "hbt", ax=ax)
    with pytest.raises(ConfigError, match=r"wavelength is an index into the 4 wavelengths"):
        fusion.plot_measurement(meas, wavelength=780, ax=ax)
    with pytest.raises(ConfigError, match="wavelength is an index"):
        fusion.plot_depth_slices(rec, var="delta_mua", wavelength=3, ax=ax)
    with pytest.raises(ConfigError, match="select one plane"):
        fusion.plot_map(rec["delta_mua"], ax=ax)
    with pytest.raises(ConfigError, match="plot_map needs a 2-D xarray.DataArray"):
        fusion.plot_map(rec, ax=ax)
    with pytest.raises(SchemaError, match="not an optical_measurement Dataset"):
        fusion.plot_measurement("meas.nc", ax=ax)
    with pytest.raises(SchemaError, match="not a mask Dataset"):
        fusion.plot_ultrasound(us["image"].values, ax=ax)


def test_a_transposed_b_mode_is_plotted_like_the_original(us):
    a = fusion.plot_ultrasound(us, ax=Figure().subplots())
    b = fusion.plot_ultrasound(us.transpose("x", "y"), ax=Figure().subplots())
    np.testing.assert_array_equal(a.collections[0].get_array(), b.collections[0].get_array())


def test_measurement_helpers_need_a_measurement(us):
    with pytest.raises(SchemaError, match="not an optical_measurement Dataset"):
        fusion.pair_distances("meas.nc")
    with pytest.raises(SchemaError, match="missing"):
        fusion.pair_distances(us)


def test_ultrasound_features_and_registration(us):
    with pytest.raises(SchemaError, match="lacks \\['mask'\\]"):
        fusion.us_features(us.drop_vars("mask"))
    with pytest.raises(SchemaError, match="not a mask Dataset"):
        fusion.us_features(us["image"].values)
    with pytest.raises(SchemaError, match="not a mask Dataset"):
        fusion.register_images(us["image"].values, us)


def test_extinction_given_as_a_path_or_another_dataset(meas):
    with pytest.raises(ConfigError, match=r"extinction must be the table brim.fusion.read_ext"):
        fusion.extinction_at([780.0], extinction="prahl.csv")  # as hemoglobin(extinction=)
    with pytest.raises(ConfigError, match="extinction must be the table"):
        fusion.extinction_at([780.0], extinction=meas)
    with pytest.raises(ConfigError, match="wavelengths"):
        fusion.simulate_measurement(wavelengths=[])


def test_array_helpers(us):
    image = us["image"].values
    with pytest.raises(ConfigError, match="matrix must be a 3 x 3"):
        fusion.apply_affine(image, np.eye(2))
    with pytest.raises(ConfigError, match=r"pass us\['image'\].values"):
        fusion.apply_affine(us, np.eye(3))
    with pytest.raises(ConfigError, match=r"pass us\['image'\].values"):
        fusion.threshold_segment(us)
    with pytest.raises(ConfigError, match="2-D B-mode array"):
        fusion.threshold_segment(np.ones(10))
    with pytest.raises(ConfigError, match="no finite pixel"):
        fusion.threshold_segment(np.full((20, 20), np.nan))


def test_fusion_case_selections():
    rng = np.random.default_rng(0)
    feats = {"us": rng.normal(size=(20, 3))}
    labels = np.array([0, 1] * 10)
    train = np.arange(14)
    with pytest.raises(ConfigError, match=r"test must select cases: integer indices in \[0, 20\)"):
        fusion.feature_fusion(feats, labels, train, np.arange(14, 25))
    with pytest.raises(ConfigError, match="test must select cases"):
        fusion.feature_fusion(feats, labels, train, [])
    with pytest.raises(ConfigError, match="features must be a non-empty dict"):
        fusion.feature_fusion(feats["us"], labels, train, np.arange(14, 20))


@pytest.mark.parametrize("frequency", [140.0, -1e6, float("nan")])
def test_simulate_refuses_a_modulation_frequency_in_mhz(frequency):
    # 140 (MHz meant) simulated a 140 Hz measurement whose phases are ~1e-6 rad, without a word
    with pytest.raises(ConfigError, match="MHz given as Hz"):
        fusion.simulate_measurement(frequency=frequency, seed=1)
