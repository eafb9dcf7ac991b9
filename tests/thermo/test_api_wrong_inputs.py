"""Plausible notebook mistakes with brim.thermo's Python API: each works or raises a BrimError.

Found by a sweep of wrong inputs (arrays, wrong kinds, transposed or renamed dims, a
segmentation of another image) over the public steps; before the fixes each of these escaped
as an AttributeError, KeyError, IndexError or a NumPy ValueError.
"""

import numpy as np
import pytest

import brim
import brim.data
import brim.thermo
from brim.errors import ConfigError, SchemaError


@pytest.fixture(scope="module")
def thermogram():
    return brim.open(brim.data.sample_path("thermo_phantom_tumour"))


@pytest.fixture(scope="module")
def seg(thermogram):
    return brim.thermo.segment(thermogram)


def test_relative_features_stays_callable_after_its_module_is_imported(thermogram, seg):
    # importing the submodule of the same name used to rebind brim.thermo.relative_features to
    # the module: the second call in a notebook raised "'module' object is not callable". The
    # module is now brim.thermo.body_relative; the old path still imports for one release.
    import brim.thermo.body_relative  # noqa: F401 - what any earlier step may have done
    import brim.thermo.relative_features  # noqa: F401 - the deprecated path

    first = brim.thermo.relative_features(thermogram, seg)
    again = brim.thermo.relative_features(thermogram, seg)
    assert callable(brim.thermo.relative_features)
    assert first == again
    assert first["abs_delta_mean"] >= 0


def test_a_transposed_thermogram_gives_the_same_features(thermogram, seg):
    # dims (x, y) instead of (y, x): the same image, so the same segmentation and features
    flipped = thermogram.transpose("x", "y", ...)
    assert flipped["temperature"].dims == ("x", "y")
    seg_t = brim.thermo.segment(flipped)
    np.testing.assert_array_equal(seg_t["mask"].values, seg["mask"].values)
    assert brim.thermo.extract_features(flipped, seg) == brim.thermo.extract_features(
        thermogram, seg
    )
    np.testing.assert_array_equal(
        brim.thermo.asymmetry_map(flipped, seg.transpose("x", "y", ...))["delta_t"].values,
        brim.thermo.asymmetry_map(thermogram, seg)["delta_t"].values,
    )


def test_a_segmentation_of_another_image_is_refused(thermogram, seg):
    other = seg.isel(x=slice(0, 100))
    for step in (brim.thermo.asymmetry_map, brim.thermo.extract_features):
        with pytest.raises(ConfigError, match="does not match the image"):
            step(thermogram, other)


@pytest.mark.parametrize("step", ["asymmetry_map", "extract_features", "relative_features"])
def test_a_thermogram_given_as_the_segmentation_is_named(thermogram, step):
    with pytest.raises(SchemaError, match=r"seg: .*segment\(ds\)"):
        getattr(brim.thermo, step)(thermogram, thermogram)


@pytest.mark.parametrize("step", ["segment", "asymmetry_map", "extract_features"])
def test_an_image_on_other_dims_is_named(thermogram, seg, step):
    renamed = thermogram.rename({"y": "row", "x": "col"})
    args = (renamed,) if step == "segment" else (renamed, seg)
    with pytest.raises(SchemaError, match=r"ds: .*dims \('row', 'col'\).*expected \('y', 'x'\)"):
        getattr(brim.thermo, step)(*args)


@pytest.mark.parametrize(
    "kw",
    [
        {"sigma": "2"},
        {"sigma": 1e6},  # pixels; used to run for minutes
        {"top_factor": "x"},
        {"fold_band": 0.5},
        {"fold_band": (0.5,)},
        {"lateral_margin": 0.6},
    ],
)
def test_bad_segmentation_options_are_named(thermogram, kw):
    with pytest.raises(ConfigError, match=next(iter(kw))):
        brim.thermo.segment(thermogram, **kw)


@pytest.mark.parametrize(
    "kw", [{"hotspot_k": "2"}, {"glcm_bin": 0}, {"glcm_bin": "a"}, {"vessel_threshold": None}]
)
def test_bad_feature_options_are_named(thermogram, seg, kw):
    with pytest.raises(ConfigError, match=next(iter(kw))):
        brim.thermo.extract_features(thermogram, seg, **kw)


def test_find_midline_inputs(thermogram, seg):
    t = thermogram["temperature"].values
    body = seg["mask"].values > 0
    with pytest.raises(SchemaError, match="segment_classical"):
        brim.thermo.find_midline(thermogram, seg)
    with pytest.raises(ConfigError, match="one shape"):
        brim.thermo.find_midline(t, body[:, :100])
    with pytest.raises(ConfigError, match="band must be two"):
        brim.thermo.find_midline(t, body, band=0.5)
    # nested lists are arrays too: the same column as for the arrays
    assert brim.thermo.find_midline(t.tolist(), body.tolist()) == brim.thermo.find_midline(t, body)


def test_one_feature_dict_and_a_features_table(thermogram, seg):
    f = brim.thermo.extract_features(thermogram, seg)
    one = brim.thermo.features_table(f)  # one dict: one row (was a pandas ValueError)
    assert one.shape[0] == 1 and float(one["abs_delta_mean"].iloc[0]) == f["abs_delta_mean"]
    table = brim.thermo.features_table([f, f], names=["a.txt", "b.txt"])
    np.testing.assert_array_equal(brim.thermo.delta_t_rule(table), brim.thermo.delta_t_rule([f, f]))
    with pytest.raises(ConfigError, match="names must be a list of 2"):
        brim.thermo.features_table([f, f], names=["a.txt"])
    with pytest.raises(ConfigError, match="rows must be a feature dict"):
        brim.thermo.features_table(thermogram)
    with pytest.raises(ConfigError, match="missing from a row"):
        brim.thermo.delta_t_rule([{"mean_left": 33.0}])
    with pytest.raises(ConfigError, match="threshold"):
        brim.thermo.delta_t_rule(f, threshold="0.5")


@pytest.mark.parametrize(
    ("convert", "hint"),
    [(lambda t: t + 273.15, "kelvin"), (lambda t: t * 1.8 + 32, "degF")],
)
@pytest.mark.parametrize("step", ["asymmetry_map", "extract_features", "relative_features"])
def test_kelvin_or_degf_labelled_degc_is_refused(thermogram, seg, convert, hint, step):
    # a camera array in K (or degF) wrapped as 'temperature' in degC in a notebook used to give
    # features hundreds of degrees off, without a word; the readers already refused such files
    wrong = thermogram.assign(temperature=convert(thermogram.temperature))
    wrong["temperature"].attrs = dict(thermogram.temperature.attrs)
    with pytest.raises(SchemaError, match=f"not skin temperatures in degC.*{hint}"):
        getattr(brim.thermo, step)(wrong, seg)
