"""Plausible notebook mistakes with the brim.microwave API raise a BrimError naming the argument.

Each case used to escape as an AttributeError, KeyError, IndexError, TypeError, a numpy
ValueError or a MemoryError, or gave a silently wrong result (an all-NaN image, a simulation at
1 Hz, two transmitters read from an (N, 2) antenna array).
"""

from __future__ import annotations

import numpy as np
import pytest

import brim.data
from brim.errors import CalibrationError, ConfigError, SchemaError
from brim.microwave import radar
from brim.microwave import tomography as tomo


@pytest.fixture(scope="module")
def scan():
    return brim.data.sample("microwave_radar_scan")


@pytest.fixture(scope="module")
def cal(scan):
    return radar.reference_subtraction(scan)


@pytest.fixture(scope="module")
def image(cal):
    return radar.beamform(cal, eps_r=8.0, resolution=0.01, methods="das")


@pytest.fixture(scope="module")
def small():
    grid = tomo.TomographyGrid.centered(12, 0.12)
    ring = tomo.ring_positions(6, 0.15)
    fields = tomo.simulate(np.full(grid.shape, 1.2 + 0j), grid, [1e9], ring, ring)
    return grid, ring, fields


# --- radar -----------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", ["path", "array", "dataarray"])
def test_beamform_of_a_path_or_array_is_told_to_pass_the_scan(cal, wrong):
    obj = {"path": "scan.nc", "array": cal["s"].values, "dataarray": cal["s"]}[wrong]
    with pytest.raises(SchemaError, match="not a sparameter_scan Dataset"):
        radar.beamform(obj, eps_r=8.0, resolution=0.01)


@pytest.mark.parametrize("step", ["reference_subtraction", "rotation_subtraction", "average"])
def test_subtraction_of_a_scan_without_s_names_the_variable(scan, step):
    fn = {
        "reference_subtraction": radar.reference_subtraction,
        "rotation_subtraction": radar.rotation_subtraction,
        "average": radar.average_subtraction,
    }[step]
    with pytest.raises(SchemaError, match="scan has no variable 's'"):
        fn(scan.rename({"s": "S"}))


def test_one_nan_s_parameter_is_named_instead_of_an_all_nan_image(cal):
    bad = cal.copy(deep=True)
    bad["s"].values[3, 5] = np.nan
    with pytest.raises(SchemaError, match="1 NaN or infinite value"):
        radar.beamform(bad, eps_r=8.0, resolution=0.01, methods="das")


def test_frequencies_in_ghz_are_refused(cal):
    with pytest.raises(SchemaError, match="'freq'.*outside the plausible range"):
        radar.beamform(cal.assign_coords(freq=cal.freq / 1e9), eps_r=8.0, resolution=0.01)


def test_antenna_positions_in_mm_are_refused(cal):
    mm = cal.assign_coords({f"antenna_{c}": cal[f"antenna_{c}"] * 1e3 for c in "xyz"})
    with pytest.raises(SchemaError, match="in m, not mm"):
        radar.beamform(mm, eps_r=8.0, resolution=0.01)


def test_grid_radius_in_mm_is_a_config_error_not_a_memory_error(cal):
    with pytest.raises(ConfigError, match="grid radius 70 m"):
        radar.beamform(cal, eps_r=8.0, radius=70)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps_r": "8"}, None),  # a number typed as a string works like the number
        ({"grid": "hemisphere"}, "grid must be an ImagingGrid"),
        ({"two_layer": {"eps": 10}}, "two_layer has unknown keys"),
    ],
)
def test_beamform_options_of_the_wrong_type(cal, image, kwargs, match):
    options = {"eps_r": 8.0, "resolution": 0.01, "methods": "das", **kwargs}
    if match is None:
        out = radar.beamform(cal, **options)
        np.testing.assert_array_equal(out["das"].values, image["das"].values)
    else:
        with pytest.raises(ConfigError, match=match):
            radar.beamform(cal, **options)


def test_delays_need_n_by_3_positions():
    with pytest.raises(ConfigError, match=r"points must be an \(N, 3\) array"):
        radar.homogeneous_delays(np.zeros((3, 2)), np.ones((4, 3)), 8.0)


def test_antenna_delays_of_the_wrong_count(cal):
    with pytest.raises(CalibrationError, match="delay_s has 3 values; give one delay"):
        radar.antenna_delay_calibration(cal, np.full(3, 1e-10))


def test_eps_range_given_as_one_number(cal):
    with pytest.raises(ConfigError, match="eps_range must be two relative permittivities"):
        radar.estimate_propagation(cal, eps_range=8.0)


def test_metrics_name_a_missing_variable_and_a_bad_target(image):
    with pytest.raises(ConfigError, match="no variable 'dmas'; it holds"):
        radar.image_metrics(image, var="dmas")
    with pytest.raises(ConfigError, match="target must be three finite coordinates"):
        radar.scr(image, location=[0.015, 0.0])
    # the scan's own target attribute is a string: named, not a numpy ValueError
    with pytest.raises(ConfigError, match="target must be three finite coordinates"):
        radar.image_metrics(image, target="0.015,0,0.035")


def test_plots_name_the_variable_and_the_channel(cal, image):
    from matplotlib.figure import Figure

    from brim.microwave import plot_image_slice, plot_scan_channel

    ax = Figure().subplots()
    with pytest.raises(ConfigError, match="no variable 'dmas'"):
        plot_image_slice(image, var="dmas", ax=ax)
    with pytest.raises(ConfigError, match="img must be a beamformed image"):
        plot_image_slice(image["das"].values, ax=ax)
    with pytest.raises(ConfigError, match=r"channel must be an index in \[0, 190\)"):
        plot_scan_channel(cal, channel=999, ax=ax)
    with pytest.raises(SchemaError, match="not a sparameter_scan Dataset"):
        plot_scan_channel("scan.nc", ax=ax)


# --- tomography ------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", ["12x12:0.12", None, (12, 0.12)])
def test_invert_and_simulate_need_a_tomography_grid(small, grid):
    _, ring, fields = small
    with pytest.raises(ConfigError, match="grid must be a TomographyGrid"):
        tomo.invert(fields, grid, iterations=1)
    with pytest.raises(ConfigError, match="grid must be a TomographyGrid"):
        tomo.simulate(np.ones((12, 12)), grid, [1e9], ring, ring)
    with pytest.raises(ConfigError, match="grid must be a TomographyGrid"):
        tomo.breast_phantom(grid)


def test_an_n_by_2_antenna_array_is_not_read_as_two_antennas(small):
    grid, ring, _ = small
    with pytest.raises(ConfigError, match=r"tx must be \(x, y\)"):
        tomo.simulate(np.ones(grid.shape), grid, [1e9], np.column_stack(ring), ring)
    with pytest.raises(ConfigError, match=r"tx must be \(x, y\)"):
        tomo.simulate(np.ones(grid.shape), grid, [1e9], (ring[0][:3], ring[1]), ring)


def test_simulation_frequency_in_ghz_is_refused(small):
    grid, ring, _ = small
    with pytest.raises(ConfigError, match="in Hz, not GHz"):
        tomo.simulate(np.ones(grid.shape), grid, [1.0], ring, ring)


def test_a_scalar_permittivity_is_told_to_make_a_map(small):
    grid, ring, _ = small
    with pytest.raises(ConfigError, match=r"np.full\(grid.shape, eps\)"):
        tomo.simulate(3.0, grid, [1e9], ring, ring)


@pytest.mark.parametrize("wrong", ["array", "path", "radar"])
def test_add_noise_needs_a_field_set(small, scan, wrong):
    fields = small[2]
    obj = {"array": fields["total_field"].values, "path": "fields.nc", "radar": scan}[wrong]
    with pytest.raises(SchemaError):
        tomo.add_noise(obj, 0.01, seed=0)


def test_add_noise_level_as_a_string_works_like_the_number(small):
    fields = small[2]
    a = tomo.add_noise(fields, "0.01", seed=0)
    b = tomo.add_noise(fields, 0.01, seed=0)
    np.testing.assert_array_equal(a["total_field"].values, b["total_field"].values)


def test_calibrate_gain_names_a_dataset_given_as_the_incident_field(small, scan):
    fields = small[2]
    with pytest.raises(ConfigError, match=r"pass its ds\['incident_field'\]"):
        tomo.calibrate_gain(fields, fields)
    with pytest.raises(SchemaError, match="missing data variable 'total_field'"):
        tomo.calibrate_gain(scan, fields["incident_field"])


def test_field_set_dataset_checks_the_shapes():
    tot = np.ones((1, 2, 3), complex)
    with pytest.raises(SchemaError, match=r"incident has shape \(1, 2, 2\)"):
        tomo.field_set_dataset(tot, tot[..., :2], 1e9, [0, 0.1], [0, 0], [0.1] * 3, [0] * 3)
    with pytest.raises(SchemaError, match=r"expected \(freq, tx, rx\) = \(1, 3, 3\)"):
        tomo.field_set_dataset(tot, tot, 1e9, [0, 0.1, 0.2], [0] * 3, [0.1] * 3, [0] * 3)


def test_tomography_helpers(small, scan):
    grid = small[0]
    with pytest.raises(ConfigError, match="part must be one of"):
        tomo.relative_error(np.ones(grid.shape), np.ones(grid.shape), part="magnitude")
    with pytest.raises(ConfigError, match=r"tumour must be \(cx, cy, r\)"):
        tomo.breast_phantom(grid, tumour=(0.015, 0.01))
    with pytest.raises(SchemaError):
        tomo.sinogram_features(scan)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bounds": (5.0, 1.0)}, "bounds must be"),  # ran silently, clipping every cell
        ({"bounds": 1.0}, "bounds must be"),
        ({"freq": []}, "freq selects no frequency"),
        ({"initial": "x"}, "initial must be a permittivity map"),
        ({"initial": np.full((12, 12), np.nan)}, "initial map has NaN"),  # was an all-NaN map
    ],
)
def test_inversion_settings_of_the_wrong_type(small, kwargs, match):
    grid, _, fields = small
    with pytest.raises(ConfigError, match=match):
        tomo.invert(fields, grid, iterations=1, **kwargs)


def test_metric_inputs_of_mismatched_shapes():
    rng = np.random.default_rng(0)
    rec = 1 + rng.uniform(size=(12, 12))
    x = y = np.linspace(-0.05, 0.05, 12)
    with pytest.raises(ConfigError, match=r"x \(5\) and y \(12\) coordinates"):
        tomo.lesion_candidates(rec, x[:5], y)
    with pytest.raises(ConfigError, match=r"predicted \(3,\) and measured \(4,\)"):
        tomo.data_misfit(np.ones(3), np.ones(4))
    with pytest.raises(ConfigError, match=r"mask 'tumour' \(3, 3\) does not match"):
        tomo.region_means(rec, {"tumour": np.ones((3, 3), bool)})


def test_phantom_supersample_zero_is_refused_not_a_warning_flood(small):
    import warnings

    grid = small[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was ten "Mean of empty slice" warnings and a NaN map
        with pytest.raises(ConfigError, match="supersample must be a positive integer"):
            tomo.breast_phantom(grid, supersample=0)
        with pytest.raises(ConfigError, match="grid must be a TomographyGrid"):
            tomo.disk_fraction("12x12:0.12", 0.0, 0.0, 0.01)


@pytest.mark.parametrize("eps_b", [0.5, -1.0, np.nan])
def test_background_permittivity_below_vacuum_is_refused(small, eps_b):
    grid, ring, fields = small
    with pytest.raises(ConfigError, match="eps_b must be finite with real part >= 1"):
        tomo.simulate(np.ones(grid.shape), grid, [1e9], ring, ring, eps_b=eps_b)
    with pytest.raises(ConfigError, match="eps_b must be finite with real part >= 1"):
        tomo.invert(fields, grid, iterations=1, eps_b=eps_b)


@pytest.mark.parametrize("part", ["real", "abs"])
def test_real_s_parameters_are_refused_not_focused(cal, part):
    s = cal["s"].real if part == "real" else abs(cal["s"])  # the phase lost: a nonsense image
    with pytest.raises(SchemaError, match="expected complex S-parameters"):
        radar.beamform(cal.assign(s=s), eps_r=8.0, resolution=0.01, methods="das")


def test_an_empty_list_of_beamformers_is_refused(cal):
    # methods=[] returned an image Dataset holding no image
    with pytest.raises(ConfigError, match="methods is empty"):
        radar.beamform(cal, eps_r=8.0, resolution=0.01, methods=[])
