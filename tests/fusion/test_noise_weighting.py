"""Noise-weighted least squares in the DOT reconstruction (``reconstruct(weighting=...)``).

The data here are brim's simulator without noise, then noise whose standard error grows as
the inverse square root of the amplitude (photon shot noise: 0.03 % on the nearest pairs, 2.3 %
on the farthest), stored in ``amplitude_rel_se`` / ``phase_se`` as an instrument would. These
are not the Monte Carlo validation files, so the weighting is not tuned to them.
"""

import json
import warnings

import numpy as np
import pytest

from brim.errors import BrimWarning, ConfigError, SchemaError
from brim.fusion import Lesion, hemoglobin, reconstruct, simulate_pair, synthetic_ultrasound
from brim.fusion.reconstruction import noise_weights, perturbation
from brim.schema import validate

LESION = Lesion(center=(0.0, 0.0, 0.02), radius=0.005)  # 10 mm at 20 mm


@pytest.fixture(scope="module")
def clean_pair():
    return simulate_pair(LESION, amplitude_noise=0.0, phase_noise=0.0)


def _with_noise(ds, rng, se=None, level=0.003):
    """``ds`` with shot-like noise (or the relative error ``se``) drawn and recorded."""
    a = ds.amplitude.values
    se = level * np.sqrt(np.median(a) / a) if se is None else np.broadcast_to(se, a.shape)
    out = ds.copy()
    out["amplitude"] = ds.amplitude.copy(data=a * (1 + se * rng.standard_normal(a.shape)))
    out["phase"] = ds.phase.copy(data=ds.phase.values + se * rng.standard_normal(a.shape))
    out["amplitude_rel_se"] = ds.amplitude.copy(data=se).assign_attrs(units="1")
    out["phase_se"] = ds.phase.copy(data=np.array(se))
    return out


def _errors(target, reference, weighting):
    truth = json.loads(target.attrs["brim_truth"])["lesion"]
    hbt = truth["hbo2"] + truth["hb"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = reconstruct(
            target, reference, us=synthetic_ultrasound(LESION, seed=0), weighting=weighting
        )
    hb = hemoglobin(rec)
    return (
        float(hb["lesion_hbt"]) / hbt - 1,
        float(hb["lesion_so2"]) - truth["hbo2"] / hbt,
        rec.attrs["data_weighting"],
    )


def test_noise_weighting_beats_equal_weights_on_shot_noise(clean_pair):
    """Six noise draws: weighting by the recorded errors at least halves the RMS sO2 error and
    lowers the RMS HbT error (measured: sO2 0.047 -> 0.014, HbT 2.5 % -> 1.3 %), and every
    weighted draw meets issue 23's goals (HbT 10 %, sO2 0.03)."""
    err: dict[str, list] = {"equal": [], "noise": []}
    for seed in range(6):
        rng = np.random.default_rng(seed)
        target, reference = (_with_noise(ds, rng) for ds in clean_pair)
        for weighting in err:
            e_hbt, e_so2, ran = _errors(target, reference, weighting)
            assert ran == weighting
            err[weighting].append((e_hbt, e_so2))
    rms = {k: np.sqrt(np.mean(np.square(v), axis=0)) for k, v in err.items()}
    assert rms["noise"][1] < 0.5 * rms["equal"][1], rms
    assert rms["noise"][0] < rms["equal"][0], rms
    worst = np.abs(err["noise"]).max(axis=0)
    assert worst[0] < 0.10 and worst[1] < 0.03, err["noise"]


def test_auto_uses_the_errors_when_both_files_carry_them(clean_pair):
    rng = np.random.default_rng(0)
    target, reference = (_with_noise(ds, rng) for ds in clean_pair)
    assert _errors(target, reference, "auto")[2] == "noise"
    assert _errors(target, reference.drop_vars(["phase_se"]), "auto")[2] == "equal"


def test_equal_errors_weigh_like_equal_weights(clean_pair):
    """The same error on every pair and both parts: the weighted solution is the unweighted one
    (alpha is relative to the weighted matrix's largest singular value, so a common scale does
    not matter); only the Born scale A_t/A_r, within 1e-3 of 1 here, tells them apart."""
    rng = np.random.default_rng(1)
    target, reference = (_with_noise(ds, rng, se=0.004) for ds in clean_pair)
    e_noise = _errors(target, reference, "noise")
    e_equal = _errors(target, reference, "equal")
    assert e_noise[0] == pytest.approx(e_equal[0], abs=2e-3)
    assert e_noise[1] == pytest.approx(e_equal[1], abs=2e-3)


def test_weights_follow_the_errors(clean_pair):
    """1/sigma per part, target and reference errors added in quadrature, the floor too."""
    target, reference = clean_pair
    rng = np.random.default_rng(2)
    t = _with_noise(target, rng, se=0.01)
    r = _with_noise(reference, rng, se=0.01)
    t["phase_se"] = t.phase_se * 2
    y = perturbation(t, r, method="rytov")
    w = noise_weights(t, r, y, method="rytov")
    ratio = w.real / w.imag  # amplitude rows: sqrt(2) 0.01; phase rows: sqrt(0.02^2 + 0.01^2)
    np.testing.assert_allclose(ratio, np.sqrt(5e-4) / np.sqrt(2e-4), rtol=1e-12)
    w = noise_weights(t, r, y, method="rytov", floor=(0.01, 0.0))
    np.testing.assert_allclose(w.real / w.imag, np.sqrt(5e-4) / np.sqrt(3e-4), rtol=1e-12)


def test_bad_weighting_settings(clean_pair):
    target, reference = clean_pair
    us = synthetic_ultrasound(LESION, seed=0)
    with pytest.raises(ConfigError, match="needs the standard errors"):
        reconstruct(target, reference, us=us, weighting="noise")
    with pytest.raises(ConfigError, match="weighting must be"):
        reconstruct(target, reference, us=us, weighting="snr")
    rng = np.random.default_rng(3)
    t, r = (_with_noise(ds, rng, se=0.0) for ds in clean_pair)
    with pytest.raises(ConfigError, match="must be > 0"):
        reconstruct(t, r, us=us)
    with pytest.raises(ConfigError, match="noise_floor"):
        reconstruct(t, r, us=us, noise_floor=(-0.01, 0.0))
    t["amplitude_rel_se"] = t.amplitude_rel_se - 1.0
    with pytest.raises(SchemaError, match="amplitude_rel_se"):
        validate(t)


def test_misfit_judges_the_ultrasound_roi():
    """With correct standard errors the lesion fit's noise-weighted misfit is about 1 for the
    right ROI (measured 0.84-1.03) and reconstruct is silent; an ROI 8 mm beside the 15 mm
    lesion leaves a misfit of 7-10 and a BrimWarning that names it."""
    lesion = Lesion(center=(0.0, 0.0, 0.02), radius=0.0075)
    pair = simulate_pair(lesion, amplitude_noise=0.0, phase_noise=0.0)
    rng = np.random.default_rng(0)
    target, reference = (_with_noise(ds, rng) for ds in pair)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = reconstruct(target, reference, us=synthetic_ultrasound(lesion, seed=0))
    assert not [w for w in caught if "misfit" in str(w.message)]
    assert np.all((rec.lesion_fit_chi2.values > 0.7) & (rec.lesion_fit_chi2.values < 1.3))
    beside = synthetic_ultrasound(Lesion(center=(0.008, 0.0, 0.02), radius=0.0075), seed=0)
    with pytest.warns(BrimWarning, match="misfit of .* times the stated noise"):
        rec = reconstruct(target, reference, us=beside)
    assert np.all(rec.lesion_fit_chi2.values > 2.0)
    assert "lesion_fit_chi2" not in reconstruct(
        target, reference, us=beside, weighting="equal"
    )  # no stated noise, no judgement


def test_simulated_shot_noise_matches_its_stated_errors():
    """``simulate_measurement(noise="shot")``: the stated errors grow as 1/sqrt(amplitude) with
    the given level at the median pair, and the noise actually drawn has those errors (its
    normalised deviations from the noise-free data have unit spread, over 504 pairs)."""
    clean = simulate_pair(LESION, amplitude_noise=0.0, phase_noise=0.0)[0]
    noisy = simulate_pair(LESION, noise="shot", amplitude_noise=0.01, phase_noise=0.02)[0]
    a0 = clean.amplitude.values
    se_a, se_p = noisy.amplitude_rel_se.values, noisy.phase_se.values
    per_wavelength = se_a * np.sqrt(a0)  # constant within each wavelength
    np.testing.assert_allclose(
        per_wavelength, np.broadcast_to(per_wavelength[:, :1, :1], a0.shape), rtol=1e-9
    )
    np.testing.assert_allclose(np.median(se_a, axis=(1, 2)), 0.01, rtol=1e-9)
    np.testing.assert_allclose(se_p, 2 * se_a, rtol=1e-12)
    z_a = (noisy.amplitude.values / a0 - 1) / se_a
    z_p = np.angle(np.exp(1j * (noisy.phase.values - clean.phase.values))) / se_p
    assert 0.9 < z_a.std() < 1.1 and 0.9 < z_p.std() < 1.1, (z_a.std(), z_p.std())
    assert "amplitude_rel_se" not in simulate_pair(LESION)[0]  # constant noise: not stated
    with pytest.raises(ConfigError, match="noise must be"):
        simulate_pair(LESION, noise="poisson")
