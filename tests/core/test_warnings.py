"""brim.BrimWarning: suspicious but valid inputs warn, and the bundled samples and real data don't.

Each warning is shown to fire on an input that is truly suspicious (the reason is in the
message) and not to fire on the bundled samples or on the real public data
(``$BRIM_EXTERNAL_DATA``), which are checked with the warning turned into an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import brim
import brim.data


@pytest.fixture
def no_brim_warning():
    """Turn every BrimWarning into an error inside the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", brim.BrimWarning)
        yield


def test_brim_warning_is_a_user_warning_attributed_to_the_caller():
    from brim.errors import warn

    assert issubclass(brim.BrimWarning, UserWarning)
    assert "BrimWarning" in brim.__all__
    with pytest.warns(brim.BrimWarning, match="odd input") as record:
        warn("odd input")
    assert record[0].filename == __file__  # the user's line, not brim's


# ----------------------------------------------------------------------------- thermography
def _thermogram(t):
    h, w = t.shape
    return xr.Dataset(
        {"temperature": (("y", "x"), t, {"units": "degC"})},
        coords={"y": np.arange(h), "x": np.arange(w)},
    )


def test_thermogram_without_patient_in_view_warns():
    from brim.thermo import segment_classical

    yy, xx = np.mgrid[:240, :320]
    hand = np.where((yy - 120) ** 2 + (xx - 160) ** 2 < 45**2, 33.0, 22.0)  # 8 % of the frame
    with pytest.warns(brim.BrimWarning, match=r"body covers only 8 %"):
        segment_classical(_thermogram(hand))


def test_thermogram_without_breast_warns():
    from brim.thermo import segment_classical

    yy, xx = np.mgrid[:240, :320]
    # a warm column (a far-away standing figure) fills 22 % of the frame, but has no breasts
    column = np.where(np.abs(xx - 160) < 35, 33.0 - 1e-4 * (xx - 160) ** 2, 22.0)
    with pytest.warns(brim.BrimWarning, match="almost no breast"):
        segment_classical(_thermogram(column))


@pytest.mark.parametrize("name", ["thermo_phantom_tumour", "thermo_phantom_healthy"])
def test_thermo_samples_do_not_warn(name, no_brim_warning):
    from brim.thermo import segment_classical

    segment_classical(brim.data.sample(name))


def test_real_thermograms(external_data):
    from brim.thermo import segment_classical
    from brim.thermo.readers import read

    dmr = sorted((external_data / "thermo" / "dmr_ir_dev").glob("*.txt"))[::5]
    assert len(dmr) >= 8
    with warnings.catch_warnings():
        warnings.simplefilter("error", brim.BrimWarning)
        for f in dmr:  # frontal breast thermograms: no warning
            segment_classical(read(f))
    # the FLIR example images are not breast images: the body fills 6 % of this one
    with pytest.warns(brim.BrimWarning, match="is the patient in view"):
        segment_classical(read(external_data / "thermo" / "flir" / "flir_example.jpg"))


# ----------------------------------------------------------------------------- elastography
def test_decorrelated_strain_warns():
    from brim.elasto import estimate_displacement, strain_image

    pair = brim.data.sample("elasto_phantom_pair")
    rf = pair["rf"].values.copy()
    rf[1] = rf[0][:, ::-1]  # the "post" frame is unrelated speckle (mirrored lines)
    bad = pair.copy()
    bad["rf"] = (pair["rf"].dims, rf, pair["rf"].attrs)
    disp = estimate_displacement(bad, method="ncc")
    with pytest.warns(brim.BrimWarning, match="strain estimates are invalid or rest on"):
        strain_image(disp)


def test_elasto_sample_does_not_warn(no_brim_warning):
    from brim.elasto import estimate_displacement, strain_image

    pair = brim.data.sample("elasto_phantom_pair")
    for method in ("ncc", "dp"):
        strain_image(estimate_displacement(pair, method=method))


def test_real_field_ii_pair_does_not_warn(external_data, no_brim_warning):
    from brim.elasto import estimate_displacement, strain_image
    from brim.elasto.readers import read_rf

    root = external_data / "elasto/fieldii_dp/Test/experiment1"
    kw = dict(sampling_frequency=40e6, center_frequency=6.7e6, pitch=0.2e-3)
    pre, post = (read_rf(root / f"rf_IRLS{k}/Im{k}.mat", **kw) for k in (0, 1))
    strain_image(estimate_displacement(pre, post, method="ncc"))  # 1 % compression


# ----------------------------------------------------------------------------- microwave
def test_calibration_that_removes_everything_warns():
    from brim.microwave import calibration as cal

    scan = brim.data.sample("microwave_radar_scan")
    with pytest.warns(brim.BrimWarning, match="removed almost all the signal"):
        cal.reference_subtraction(scan, scan.drop_vars("s_reference"))  # the scan itself


def test_calibration_that_leaves_the_skin_warns():
    from brim.microwave import calibration as cal

    scan = brim.data.sample("microwave_radar_scan")
    weak = scan.drop_vars("s_reference")
    weak["s"] = 0.1 * scan["s"]  # a reference at a tenth of the level removes 19 % of the energy
    with pytest.warns(brim.BrimWarning, match="left 81 % of the scan's energy"):
        cal.reference_subtraction(scan, weak)


def test_microwave_sample_calibrations_do_not_warn(no_brim_warning):
    from brim.microwave import calibration as cal

    scan = brim.data.sample("microwave_radar_scan")
    cal.reference_subtraction(scan)
    cal.average_subtraction(scan)
    cal.skin_artefact_removal(scan, window=(0.0, 0.8e-9), oversample=8)


def test_real_merit_scans(external_data):
    from brim.microwave import calibration as cal
    from brim.microwave.readers import read_merit

    merit = external_data / "microwave" / "merit"
    for phantom in ("B0_P3", "B10E_P5"):
        scan = read_merit(merit / f"{phantom}_p000.csv", reference=merit / f"{phantom}_p036.csv")
        with warnings.catch_warnings():
            warnings.simplefilter("error", brim.BrimWarning)
            cal.rotation_subtraction(scan)  # MERIT's calibration: leaves 0.8-3.7 %
        # mean-channel subtraction leaves > 90 % of these scans: the skin response stays
        with pytest.warns(brim.BrimWarning, match="skin / antenna response"):
            cal.average_subtraction(scan, groups="all")


# ----------------------------------------------------------------------------- optical (fusion)
def test_optical_amplitude_not_decaying_warns(tmp_path):
    from brim.fusion import read_measurement

    meas = brim.data.sample("fusion_measurement")
    amp = meas["amplitude"].values
    shuffled = amp.reshape(amp.shape[0], -1)[:, np.random.default_rng(0).permutation(amp[0].size)]
    bad = meas.copy()
    bad["amplitude"] = (meas["amplitude"].dims, shuffled.reshape(amp.shape), meas.amplitude.attrs)
    brim.save(bad, tmp_path / "shuffled.nc")  # channels mixed up: no distance dependence left
    with pytest.warns(brim.BrimWarning, match="does not decay with source-detector distance"):
        read_measurement(tmp_path / "shuffled.nc")


@pytest.mark.parametrize("name", ["fusion_measurement", "fusion_reference"])
def test_optical_samples_do_not_warn(name, no_brim_warning):
    from brim.fusion import read_measurement

    read_measurement(brim.data.sample_path(name))


# ----------------------------------------------------------------------------- classifiers
def _cohort(n_per_class, seed=0):
    from brim.thermo.classify import Cohort

    rng = np.random.default_rng(seed)
    n = 2 * n_per_class
    y = np.repeat([0, 1], n_per_class)
    features = rng.normal(size=(n, 3)) + y[:, None]
    meta = [{"text_format": "space", "background_median": 22.0 + rng.normal()} for _ in y]
    return Cohort(
        [f"p{i}.txt" for i in range(n)],
        np.arange(n),
        y,
        np.zeros((n, 8, 8)),
        features,
        ["rel_abs_delta_mean", "rel_b", "rel_c"],  # the default (relative) feature set
        meta,
    )


def test_classifier_on_few_patients_warns():
    from brim.thermo.classify import evaluate_cohort

    with pytest.warns(brim.BrimWarning, match="only 6 healthy, 6 sick patient"):
        evaluate_cohort(_cohort(6), models=("features",), n_splits=3, n_bootstrap=20)


def test_classifier_on_enough_patients_does_not_warn(no_brim_warning):
    from brim.thermo.classify import evaluate_cohort

    evaluate_cohort(_cohort(12), models=("features",), n_splits=3, n_bootstrap=20)


def test_real_dmr_labels_do_not_warn(external_data, no_brim_warning):
    from brim.thermo.classify import _warn_few_patients, read_labels

    labels = read_labels(external_data / "thermo" / "dmr_ir_dev" / "id_diagnosis.csv")
    patients = np.array(list(labels))
    assert np.bincount(list(labels.values())).tolist() == [24, 16]
    _warn_few_patients(np.array(list(labels.values())), patients, "cross-validation")


# ----------------------------------------------------------------------------- command line
def test_cli_shows_warnings_and_logs_on_request(tmp_path):
    import shutil
    import subprocess

    exe = shutil.which("brim")
    if exe is None:
        pytest.skip("the brim console script is not on PATH")
    ds = brim.data.sample("thermo_phantom_tumour")
    yy, xx = np.meshgrid(np.arange(ds.sizes["y"]), np.arange(ds.sizes["x"]), indexing="ij")
    r2 = (yy - ds.sizes["y"] / 2) ** 2 + (xx - ds.sizes["x"] / 2) ** 2
    small = np.where(r2 < (0.15 * ds.sizes["x"]) ** 2, 33.0, 22.0)  # a hand, not a torso
    ds["temperature"] = (ds["temperature"].dims, small, ds["temperature"].attrs)
    brim.save(ds, tmp_path / "hand.nc")
    cmd = [exe, "thermo", "segment", str(tmp_path / "hand.nc"), "-o", str(tmp_path / "seg.nc")]
    quiet = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert "brim: warning: the body covers only" in quiet.stderr  # one line, no source
    assert "brim.thermo.segmentation:" not in quiet.stderr  # no log without -v
    loud = subprocess.run([exe, "-vv", *cmd[1:]], capture_output=True, text=True, timeout=300)
    assert loud.returncode == 0, loud.stderr
    assert "brim: brim.thermo.segmentation: segment_classical: body" in loud.stderr
