"""Background fit oracle: recover known optical properties from simulated measurements."""

import json

import numpy as np
import pytest

from brim.errors import CalibrationError, ConfigError
from brim.fusion import background as bg
from brim.fusion import simulate as sim


def _truth(ds):
    t = json.loads(ds.attrs["brim_truth"])
    return np.array(t["mua_background_per_mm"]), t["musp_per_mm"]


def test_fit_recovers_properties_noiseless():
    ref = sim.simulate_measurement(None, amplitude_noise=0, phase_noise=0, musp=0.9)
    mua, musp = _truth(ref)
    fit = bg.fit_background(ref)
    np.testing.assert_allclose(fit.mua.values, mua, rtol=1e-4)
    np.testing.assert_allclose(fit.musp.values, musp, rtol=1e-4)
    # slope-only (asymptotic) estimate: biased, but within 15 % / 3 %
    np.testing.assert_allclose(fit.mua_slope.values, mua, rtol=0.15)
    np.testing.assert_allclose(fit.musp_slope.values, musp, rtol=0.03)
    # the slopes are the wavenumber of the fitted properties (consistency of the inversion)
    from brim.fusion.diffusion import OpticalProperties

    for i in range(fit.sizes["wavelength"]):
        p = OpticalProperties(fit.mua_slope.values[i], fit.musp_slope.values[i], frequency=140e6)
        assert -fit.slope_amplitude.values[i] == pytest.approx(p.k.real, rel=1e-9)
        assert -fit.slope_phase.values[i] == pytest.approx(p.k.imag, rel=1e-9)


def test_fit_with_noise_and_coupling():
    ref = sim.simulate_measurement(None, amplitude_noise=0.01, phase_noise=0.01, seed=3)
    mua, musp = _truth(ref)
    # unknown source/detector-independent gain and phase offset must not matter
    ref = ref.assign(amplitude=ref.amplitude * 37.0, phase=ref.phase + 0.4)
    ref["amplitude"].attrs["units"] = "1"
    ref["phase"].attrs["units"] = "rad"
    fit = bg.fit_background(ref)
    np.testing.assert_allclose(fit.mua.values, mua, rtol=0.05)
    np.testing.assert_allclose(fit.musp.values, musp, rtol=0.05)


def test_cw_needs_scattering_and_then_fits_absorption():
    ref = sim.simulate_measurement(None, frequency=0.0, amplitude_noise=0, phase_noise=0)
    mua, musp = _truth(ref)
    with pytest.raises(ConfigError):
        bg.fit_background(ref)
    fit = bg.fit_background(ref, musp=musp)
    np.testing.assert_allclose(fit.mua.values, mua, rtol=1e-3)


def test_wrong_phase_convention_is_reported():
    ref = sim.simulate_measurement(None, amplitude_noise=0, phase_noise=0)
    flipped = ref.assign(phase=-ref.phase)
    flipped["phase"].attrs["units"] = "rad"
    with pytest.raises(CalibrationError, match="phase"):
        bg.fit_background(flipped)
    fit = bg.fit_background(flipped, phase_sign=-1)
    np.testing.assert_allclose(fit.mua.values, _truth(ref)[0], rtol=1e-4)


def test_batch_pipeline_matches_library(tmp_path):
    import brim
    from brim.fusion.pipelines import background

    ref = sim.simulate_measurement(None, wavelengths=(780.0, 830.0), seed=5)
    p = brim.save(ref, tmp_path / "ref.nc")
    out = background(str(p))
    np.testing.assert_array_equal(out.mua.values, bg.fit_background(ref).mua.values)
    # the pipeline is a public step: one record, by the naming rule, with the file's SHA-256
    last = out.brim.provenance[-1]
    assert last["step"] == "brim.fusion.background"
    assert last["parameters"] == {"path": "ref.nc", "n": None, "musp": None}
    assert last["inputs"][0]["sha256"] == brim.provenance.sha256(p)


def test_segment_us_pipeline_records_itself_once(tmp_path):
    """The batch pipeline is one public step: the segmentation inside it is not recorded twice."""
    import brim
    from brim.fusion.pipelines import segment_us
    from brim.fusion.ussegment import segment

    us = sim.synthetic_ultrasound(pixel=0.5e-3, seed=3)
    p = brim.save(us, tmp_path / "us.nc")
    out = segment_us(str(p))
    np.testing.assert_array_equal(out["mask"].values, segment(brim.open(p))["mask"].values)
    names = [s["step"] for s in out.brim.provenance]
    assert names[-1] == "brim.fusion.segment_us" and "brim.fusion.segment" not in names
    # the inner step's note (which segmenter ran: the shipped U-Net by default) lands in the
    # one record
    from brim.fusion.ussegment import _dl_importable, default_model_path

    params = out.brim.provenance[-1]["parameters"]
    assert params["path"] == "us.nc" and params["model"] == "default"
    if _dl_importable():
        assert params["segmenter"] == "unet" == out.attrs["segmenter"]
        assert params["model_sha256"] == brim.provenance.sha256(default_model_path())
    else:
        assert params["segmenter"] == "otsu-baseline"
    assert out.brim.provenance[-1]["inputs"][0]["sha256"] == brim.provenance.sha256(p)
