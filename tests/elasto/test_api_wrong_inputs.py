"""Plausible notebook mistakes with brim.elasto's Python API: each works or raises a BrimError.

Found by a sweep of wrong inputs (arrays, paths, wrong kinds, transposed dims, tuples for
ROIs, NaN in RF) over the public steps; before the fixes each of these escaped as a
KeyError, AttributeError, IndexError, SystemError or a NumPy/xarray ValueError.
"""

import matplotlib
import numpy as np
import pytest

import brim
import brim.data
import brim.elasto as E
from brim.errors import ConfigError, FormatError, SchemaError

matplotlib.use("Agg")

LESION = (0.0085, 0.0115, 0.0135, 0.0165)  # around the sample's stiff inclusion (m)
REFERENCE = (0.0085, 0.0115, 0.002, 0.005)


@pytest.fixture(scope="module")
def pair():
    return brim.open(brim.data.sample_path("elasto_phantom_pair"))


@pytest.fixture(scope="module")
def disp(pair):
    return E.estimate_displacement(pair)


@pytest.fixture(scope="module")
def strain(disp):
    return E.strain_image(disp)


@pytest.mark.parametrize("step", ["strain_ratio", "elasticity_score", "plot_elastogram"])
def test_a_displacement_where_a_strain_image_belongs_is_named(disp, step):
    args = (disp,) if step == "plot_elastogram" else (disp, E.StrainRoi(LESION))
    if step == "strain_ratio":
        args += (E.StrainRoi(REFERENCE),)
    with pytest.raises(SchemaError, match=r"strain: .*'strain' variable.*strain_image"):
        getattr(E, step)(*args)


@pytest.mark.parametrize("wrong", ["pair", "strain"])
def test_strain_image_of_another_kind_is_named(pair, strain, wrong):
    with pytest.raises(SchemaError, match=r"displacement: .*estimate_displacement"):
        E.strain_image({"pair": pair, "strain": strain}[wrong])


@pytest.mark.parametrize("step", ["envelope", "bmode", "plot_bmode"])
def test_rf_steps_name_a_strain_image(strain, step):
    with pytest.raises(SchemaError, match=r"rf: .*'rf' variable.*make_rf_frames"):
        getattr(E, step)(strain)


def test_bmode_and_plot_bmode_of_an_array_are_refused(pair):
    for step in (E.bmode, E.plot_bmode):
        with pytest.raises(SchemaError, match="NumPy array"):
            step(pair["rf"].values)


def test_envelope_of_a_path_says_read_it_first():
    path = brim.data.sample_path("elasto_phantom_pair")
    with pytest.raises(SchemaError, match="read it first"):
        E.envelope(str(path))


def test_transposed_images_give_the_same_numbers(pair, disp, strain):
    lesion, ref = E.StrainRoi(LESION), E.StrainRoi(REFERENCE)
    flipped = strain.transpose("line", "depth")
    assert E.strain_ratio(flipped, lesion, ref) == E.strain_ratio(strain, lesion, ref)
    assert E.elasticity_score(flipped, lesion) == E.elasticity_score(strain, lesion)
    np.testing.assert_array_equal(
        E.strain_image(disp.transpose("line", "depth"))["strain"].values,
        strain["strain"].values,
    )
    np.testing.assert_array_equal(
        E.envelope(pair.transpose("frame", "line", "depth", ...))["envelope"].values,
        E.envelope(pair)["envelope"].values,
    )


@pytest.mark.parametrize("roi", [LESION, "rect:0.0085,0.0115,0.0135,0.0165"])
def test_a_roi_that_is_not_a_strain_roi_is_named(strain, roi):
    with pytest.raises(ConfigError, match="lesion must be a StrainRoi"):
        E.strain_ratio(strain, roi, E.StrainRoi(REFERENCE))
    with pytest.raises(ConfigError, match="lesion must be a StrainRoi"):
        E.elasticity_score(strain, roi)


def test_a_strain_roi_with_the_wrong_number_of_bounds_is_refused():
    with pytest.raises(ConfigError, match="rect StrainRoi needs 4 bounds"):
        E.StrainRoi((0.01, 0.01, 0.002))
    with pytest.raises(ConfigError, match="shape 'ellipse' unknown"):
        E.StrainRoi((0.01, 0.01, 0.002, 0.003), "ellipse")


def test_nan_in_the_rf_is_named(pair):
    rf = pair["rf"].values.copy()
    rf[:, :100] = np.nan
    with pytest.raises(FormatError, match="NaN or infinite"):
        E.estimate_displacement(pair.assign(rf=(pair["rf"].dims, rf)))


@pytest.mark.parametrize(
    "kw",
    [{"lateral_search": -1}, {"frames": 0}, {"frames": (0,)}, {"frames": (0.0, 1.0)}],
)
def test_bad_displacement_options_are_named(pair, kw):
    with pytest.raises(ConfigError, match=next(iter(kw))):
        E.estimate_displacement(pair, **kw)


def test_plot_bmode_frame_out_of_range(pair):
    with pytest.raises(ConfigError, match="frame must be an integer index"):
        E.plot_bmode(pair, frame=5)


def test_plot_displacement_of_a_strain_image_or_an_unknown_component(disp, strain):
    with pytest.raises(SchemaError, match="disp: "):
        E.plot_displacement(strain)
    with pytest.raises(ConfigError, match="component must be"):
        E.plot_displacement(disp, component="vertical")


def test_plot_modulus_map_takes_the_result_itself_and_names_a_wrong_kind(pair):
    sw = E.simulate_shear_wave_rf(n_frames=36, n_lines=48, n_samples=120, seed=4)
    res = E.shear_wave_elastography(sw)
    ax = E.plot_modulus_map(res)
    np.testing.assert_allclose(
        np.asarray(ax.images[0].get_array()), res.maps["youngs_modulus"].values / 1e3
    )
    with pytest.raises(SchemaError, match="maps: .*'youngs_modulus'"):
        E.plot_modulus_map(pair)


@pytest.mark.parametrize("kernel", [9.0, "9"])
def test_a_kernel_that_is_not_an_integer_is_named(disp, kernel):
    with pytest.raises(ConfigError, match="kernel must be an odd integer"):
        E.strain_image(disp, kernel=kernel)


def test_a_kernel_longer_than_the_image_is_refused_not_an_all_nan_map(disp):
    # 73 depth windows: a 101-point fit reaches past both ends everywhere
    with pytest.raises(ConfigError, match="kernel of 101 points is longer than the 73"):
        E.strain_image(disp, kernel=101)


def test_a_block_size_in_mm_is_refused_before_allocating():
    # width=20 (meant: 20 mm) asked for 1.2e10 scatterers: a MemoryError after a long wait
    with pytest.raises(brim.errors.ResourceError, match="in m"):
        E.simulate_pair(width=20, height=30, n_samples=64, n_lines=8, fe_elements=(4, 6))


@pytest.mark.parametrize(
    "inclusions", [E.Inclusion(0.01, 0.015, 0.004, 6e4), ((0.01, 0.015, 0.004, 6e4),)]
)
def test_inclusions_that_are_not_a_tuple_of_inclusion(inclusions):
    with pytest.raises(ConfigError, match="tuple of Inclusion"):
        E.solve_compression(0.02, 0.03, 8, 12, inclusions=inclusions)


@pytest.mark.parametrize("values", [np.array([]), np.full(10, np.nan), np.array([0.01])])
def test_snr_and_cnr_of_a_region_without_two_values_are_named(values):
    # was NaN with five RuntimeWarnings (mean of empty slice, ddof <= 0...)
    with pytest.raises(ConfigError, match="values holds"):
        E.snr_e(values)
    with pytest.raises(ConfigError, match="target holds"):
        E.cnr_e(values, np.array([0.01, 0.02, 0.03]))


def test_snr_of_a_strain_dataset_is_named(strain):
    with pytest.raises(ConfigError, match=r"strain\['strain'\]"):
        E.snr_e(strain)


@pytest.mark.parametrize(
    "args, match",
    [
        ((2e4, 6e4, 0.495, -0.01), "eps_far must be three"),  # a scalar: was an IndexError
        ((2e4, 6e4, 0.495, [0.0098, -0.01]), "eps_far must be three"),
        ((2e4, 6e4, 0.5, [0.0098, -0.01, 0.0]), "Poisson"),  # was a ZeroDivisionError
    ],
)
def test_eshelby_inputs_are_named(args, match):
    with pytest.raises(ConfigError, match=match):
        E.eshelby_circular_strain(*args)


def test_least_squares_strain_axis_out_of_range():
    with pytest.raises(ConfigError, match="axis 5 is out of range"):
        E.least_squares_strain(np.zeros((20, 5)), axis=5)


@pytest.fixture(scope="module")
def shear_rf():
    return E.simulate_shear_wave_rf(n_frames=36, n_lines=48, n_samples=120, seed=4)


@pytest.mark.parametrize("map_window", [-1, 1])
def test_shear_wave_map_window_is_named(shear_rf, map_window):
    # -1 was an IndexError after 192 RuntimeWarnings; 1 an all-NaN map
    with pytest.raises(ConfigError, match="map_window"):
        E.shear_wave_elastography(shear_rf, map_window=map_window)


def test_shear_wave_of_a_single_frame_is_named(shear_rf):
    with pytest.raises(ConfigError, match=">= 3 frames, got 1"):
        E.shear_wave_elastography(shear_rf.isel(frame=[0]))


def test_displacement_options_given_as_strings(pair):
    # a whole-number string window is read as the number (was a TypeError); a string
    # max_strain is named (was a TypeError from a comparison)
    np.testing.assert_array_equal(
        E.estimate_displacement(pair, window="33")["axial"].values,
        E.estimate_displacement(pair, window=33)["axial"].values,
    )
    with pytest.raises(ConfigError, match="max_strain"):
        E.estimate_displacement(pair, max_strain="0.05")
