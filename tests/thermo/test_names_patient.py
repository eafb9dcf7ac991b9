"""The patient a thermogram's file name gives: the DMR conventions and names that are the ID,
never a camera's counter or a stray last number (patient-grouped cross-validation and the
labels table go by it)."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

from brim.errors import BrimWarning
from brim.thermo.classify import load_cohort, patient_of
from brim.thermo.readers import parse_dmr_name, patient_from_name, read_frames

CAMERA_NAMES = [
    # (name, shot, date): a camera's counter, which the last-number rule took for the patient
    ("IMG_0042.txt", 42, None),
    ("FLIR1234.jpg", 1234, None),
    ("DSC_0042.JPG", 42, None),
    ("2024-05-01_scan3.txt", 3, "2024-05-01"),
    ("IMG_20240501_123456.jpg", 123456, "2024-05-01"),  # a phone: date and time of day
    ("IR_20130410_1.txt", 1, "2013-04-10"),
]


@pytest.mark.parametrize(("name", "shot", "date"), CAMERA_NAMES)
def test_a_camera_counter_is_no_patient(name, shot, date):
    got = parse_dmr_name(name)
    assert "patient" not in got and got["shot"] == shot and got.get("date") == date, got
    assert patient_of(name) is None  # was 42, 1234, 42, 3, 20240501 (!), None
    with pytest.warns(BrimWarning, match=rf"{name}: no patient id.*shot counter.*T0042\.txt"):
        assert patient_from_name(name) is None


@pytest.mark.parametrize(
    ("name", "patient"),
    [
        ("T0012.txt", 12),
        ("T0012_3.txt", 12),
        ("PAC_12_DN3-esq.png", 12),
        ("12_frontal_static_20130410.txt", 12),
        ("0012.txt", 12),
        ("patient_12.txt", 12),
        ("patient_12 (1).txt", 12),  # a browser's copy mark: the last number, 1, was taken
        ("Paciente 12.csv", 12),
        ("subject-12.nc", 12),
        ("SIM0012.nc", 12),  # brim.thermo.simulate_cohort's files
        ("IIR0012.png", 12),  # the Colombian cohort: one crop per patient and breast
    ],
)
def test_names_that_state_the_patient_give_it(name, patient):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BrimWarning)
        assert patient_from_name(name) == patient


@pytest.mark.parametrize("name", ["scan_7.txt", "breast12_v2.txt", "frame.txt", "a1b2.png"])
def test_an_unknown_name_gives_no_patient_and_says_how_to_give_it(name):
    with pytest.warns(BrimWarning, match=r"no naming that states a patient.*patient_42\.txt"):
        assert patient_from_name(name) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", BrimWarning)
        assert patient_from_name(name, warn_unknown=False) is None


def _cohort_of_two(external_data, folder, other, labels):
    """load_cohort of one real DMR-IR thermogram (patient 1) as T0001.txt and as ``other``;
    the cohort and the BrimWarnings' messages."""
    dev = external_data / "thermo" / "dmr_ir_dev"
    shutil.copy(dev / "T0001.txt", folder / "T0001.txt")
    shutil.copy(dev / "T0001.txt", folder / other)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cohort = load_cohort(folder, labels=labels)
    return cohort, [str(w.message) for w in caught if issubclass(w.category, BrimWarning)]


def test_a_camera_named_shot_gets_no_label_of_the_patient_its_counter_matches(
    external_data, tmp_path
):
    # copied as a camera names its 42nd shot, it was patient 42 and took patient 42's label
    cohort, said = _cohort_of_two(external_data, tmp_path, "IMG_0042.txt", {1: 0, 42: 1})
    assert cohort.patients.tolist() == [1] and cohort.labels.tolist() == [0]
    assert any("IMG_0042.txt" in s for s in said), said


def test_camera_named_frames_are_one_series_without_a_patient(tmp_path):
    for k in (10, 2, 1):
        Image.fromarray(np.full((4, 6), 100 + k, np.uint8)).save(tmp_path / f"IMG_{k:04d}.png")
    ds = read_frames(tmp_path)
    assert list(ds["frame_file"].values) == ["IMG_0001.png", "IMG_0002.png", "IMG_0010.png"]
    assert ds["intensity"].values[:, 0, 0].tolist() == [101, 102, 110]
    assert "patient" not in ds.attrs and "shot" not in ds.attrs  # one shot's counter


@pytest.mark.parametrize(
    ("name", "patient"),
    [("scan_7.txt", None), ("breast12_v2.txt", None), ("patient_12 (1).txt", 12)],
)
def test_patient_of_takes_no_stray_number(name, patient):
    # the last number was the patient: scan 7 was patient 7, a browser's copy (1) patient 1
    assert patient_of(name) == patient


def test_the_colombian_crops_give_their_patient(external_data):
    # IIR<n> is the cohort's patient: the left and right crops of patient n share it
    left = sorted((external_data / "thermo" / "colombia" / "left").glob("IIR*.png"))[:3]
    right = [p.parent.parent / "right" / p.name for p in left]
    assert [patient_of(p) for p in left] == [patient_of(p) for p in right if p.exists()]
    assert [patient_of(p) for p in left] == [int(p.stem[3:]) for p in left]


def test_a_cohort_says_once_which_names_give_no_patient(external_data, tmp_path):
    cohort, said = _cohort_of_two(external_data, tmp_path, "scan_7.txt", {1: 0, 7: 1})
    assert cohort.patients.tolist() == [1]  # scan 7 took patient 7's label (sick)
    assert sum("names give no patient id" in s for s in said) == 1, said
    assert any("1 of 2 thermograms' names give no patient id: scan_7.txt" in s for s in said)
