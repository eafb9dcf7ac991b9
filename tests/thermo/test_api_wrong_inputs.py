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
    # the module: the second call in a notebook raised "'module' object is not callable"
    import brim.thermo.relative_features  # noqa: F401 - what any earlier step may have done

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
