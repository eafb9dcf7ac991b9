"""Lesion, registration, fusion and background-fit inputs that used to be accepted or crash."""

import numpy as np
import pytest
import xarray as xr

from brim.errors import ConfigError, FormatError
from brim.fusion import background as bg
from brim.fusion import fuse
from brim.fusion import simulate as sim


def _lesion(hbt=70.0, so2=0.65, diameter=15.0):
    """A lesion given as the CLI gives it: HbT (uM), sO2 (0-1) and diameter (mm, stored in m)."""
    return sim.Lesion((0.0, 0.0, 0.020), diameter / 2 * 1e-3, hbt * so2, hbt * (1 - so2))


@pytest.mark.parametrize("so2", [-0.2, 1.5])
def test_lesion_saturation_outside_unit_interval_is_refused(so2):
    with pytest.raises(ConfigError, match="sO2 within"):
        _lesion(so2=so2)


@pytest.mark.parametrize("hbt", [-70.0, np.nan, np.inf])
def test_lesion_needs_finite_non_negative_haemoglobin(hbt):
    with pytest.raises(ConfigError, match="finite concentration >= 0"):
        _lesion(hbt=hbt)


def test_lesion_needs_finite_radius():
    """An infinite diameter used to be reported as a lesion reaching the surface."""
    with pytest.raises(ConfigError, match="lesion radius .* must be a finite number > 0"):
        _lesion(diameter=np.inf)


def test_lesion_needs_finite_center():
    with pytest.raises(ConfigError, match="center"):
        sim.Lesion((np.nan, 0.0, 0.020))


def _image(values):
    return xr.DataArray(values, dims=("y", "x"))


@pytest.fixture(scope="module")
def speckle():
    return np.random.default_rng(0).random((40, 50))


@pytest.mark.parametrize("transform", ["translation", "rigid"])
@pytest.mark.parametrize(("fill", "problem"), [(np.nan, "no finite pixels"), (3.0, "no contrast")])
def test_registration_refuses_images_without_information(speckle, transform, fill, problem):
    """An all-NaN or constant image used to give an arbitrary transform."""
    blank = _image(np.full(speckle.shape, fill))
    with pytest.raises(FormatError, match=f"fixed image has {problem}"):
        fuse.register_images(blank, _image(speckle), transform=transform)
    with pytest.raises(FormatError, match=f"moving image has {problem}"):
        fuse.register_images(_image(speckle), blank, transform=transform)


def test_registration_treats_infinite_pixels_as_missing(speckle):
    """An infinite pixel used to crash phase correlation; it now counts as 0, like NaN."""
    moving = speckle.copy()
    moving[0, 0] = np.inf
    out = fuse.register_images(_image(speckle), _image(moving), transform="translation")
    np.testing.assert_allclose(out.affine.values, np.eye(3), atol=0.15)


def test_registration_needs_positive_bin_count(speckle):
    with pytest.raises(ConfigError, match="bins"):
        fuse.register_images(_image(speckle), _image(speckle), bins=0)


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    feats = {"us": (y + rng.normal(0, 1, 60))[:, None], "optical": y + rng.normal(0, 1, 60)}
    return feats, y, np.arange(40), np.arange(40, 60)


@pytest.mark.parametrize("fusion", [fuse.feature_fusion, fuse.decision_fusion])
@pytest.mark.parametrize("row", [3, 45])  # a training case, a test case
def test_fusion_refuses_non_finite_features(cases, fusion, row):
    """NaN features used to give all-NaN probabilities."""
    feats, y, train, test = cases
    optical = feats["optical"].copy()
    optical[row] = np.nan
    with pytest.raises(ConfigError, match="feature 'optical' holds NaN"):
        fusion({**feats, "optical": optical}, y, train, test)


@pytest.mark.parametrize("fusion", [fuse.feature_fusion, fuse.decision_fusion])
def test_fusion_refuses_single_class_training_labels(cases, fusion):
    """A one-class training set used to give confident probabilities of ~0 for every case."""
    feats, y, _, test = cases
    train = np.flatnonzero(y[:40] == 1)
    with pytest.raises(ConfigError, match="training labels hold one class only"):
        fusion(feats, y, train, test)


@pytest.mark.parametrize("fusion", [fuse.feature_fusion, fuse.decision_fusion])
def test_fusion_refuses_features_of_another_case_count(cases, fusion):
    feats, y, train, test = cases
    with pytest.raises(ConfigError, match="feature 'us' has 59 cases but labels has 60"):
        fusion({**feats, "us": feats["us"][:-1]}, y, train, test)


@pytest.fixture(scope="module")
def reference():
    return sim.simulate_measurement(None, amplitude_noise=0, phase_noise=0)


@pytest.mark.parametrize(
    ("n", "refine"),
    [(np.nan, False), (0.5, False), (0.0, False), (np.inf, False), (np.nan, True), (0.0, True)],
)
def test_background_needs_physical_refractive_index(reference, n, refine):
    """n=NaN or 0.5 used to be accepted without refinement; n=0 or inf raised ZeroDivisionError."""
    with pytest.raises(ConfigError, match="refractive index n"):
        bg.fit_background(reference, n=n, refine=refine)


@pytest.mark.parametrize("keep", [0, 2])
def test_background_min_distance_leaving_too_few_pairs_is_reported(reference, keep):
    rho = np.sort(bg.pair_distances(reference).ravel())
    min_distance = 1000.0 if keep == 0 else rho[-keep]
    with pytest.raises(ConfigError, match=f"min_distance=.* leaves {keep} of 126"):
        bg.fit_background(reference, min_distance=min_distance, refine=False)


@pytest.mark.parametrize("musp", [np.nan, np.inf, 0.0, -0.5])
@pytest.mark.parametrize("refine", [False, True])
def test_cw_background_needs_finite_positive_scattering(musp, refine):
    """A NaN or infinite musp used to give NaN absorption without refinement."""
    cw = sim.simulate_measurement(None, frequency=0.0, amplitude_noise=0, phase_noise=0)
    with pytest.raises(ConfigError, match="musp"):
        bg.fit_background(cw, musp=musp, refine=refine)


@pytest.mark.parametrize("phase_sign", [np.nan, 0.0])
def test_background_phase_sign_must_be_plus_or_minus_one(reference, phase_sign):
    with pytest.raises(ConfigError, match="phase_sign must be 1 or -1"):
        bg.fit_background(reference, phase_sign=phase_sign)


def test_registration_names_a_missing_image_variable(speckle):
    """``--var nope`` used to end in a bare KeyError."""
    from brim.errors import SchemaError

    ds = xr.Dataset({"image": _image(speckle)})
    with pytest.raises(SchemaError, match="'nope'"):
        fuse.register_images(ds, ds, fixed_var="nope")


@pytest.mark.parametrize("voxel", [0.0, np.nan, -1.5e-3])
def test_simulation_voxel_must_be_positive(voxel):
    """``brim fusion simulate --voxel 0`` raised ZeroDivisionError, ``nan`` a bare ValueError."""
    with pytest.raises(ConfigError, match="voxel"):
        sim.simulate_pair(_lesion(), voxel=voxel)
