"""Gain calibration of measured tomography data (issue 21): reference receivers for directive
antennas, the automatic choice, and the renamed public name (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from brim.errors import CalibrationError
from brim.microwave.tomography import TomographyGrid, ring_positions, simulate
from brim.microwave.tomography.inverse import calibrate_gain, incident_spread_db
from brim.microwave.tomography.phantoms import disk_fraction


@pytest.fixture(scope="module")
def horn_data():
    """A small cylinder seen by 8 'horns' (cos^5 pattern about boresight: -30 dB at 60 degrees,
    -40 dB floor) on a 24-receiver ring; each transmitter's chain has a random complex gain."""
    g = TomographyGrid.centered(24, 0.08)
    eps = 1 + 0.6 * disk_fraction(g, 0.005, 0.0, 0.015)
    tx = ring_positions(8, 0.2)
    rx = ring_positions(24, 0.2, offset=0.5)
    clean = simulate(eps, g, [2e9, 3e9], tx, rx)
    # angle at the transmitter between its boresight (towards the centre) and each receiver
    tx, rx = np.stack(tx, axis=1), np.stack(rx, axis=1)  # (n, 2)
    to_rx = rx[None, :, :] - tx[:, None, :]
    bore = -tx / np.linalg.norm(tx, axis=1, keepdims=True)
    cos = np.einsum("trk,tk->tr", to_rx, bore) / np.linalg.norm(to_rx, axis=2)
    pattern = np.maximum(np.clip(cos, 0, 1) ** 5, 1e-2)[None]
    rng = np.random.default_rng(7)
    gain = rng.uniform(0.3, 3.0, (2, 8, 1)) * np.exp(1j * rng.uniform(-np.pi, np.pi, (2, 8, 1)))
    inc = clean["incident_field"].values * pattern * gain
    scat = clean["scattered_field"].values  # the object is lit by the main lobe
    meas = clean.copy()
    meas["incident_field"] = clean["incident_field"].copy(data=inc)
    meas["total_field"] = clean["total_field"].copy(data=inc + gain * scat)
    meas["scattered_field"] = meas["total_field"] - meas["incident_field"]
    return clean, meas


def _scattered_error(cal, clean):
    es = cal["total_field"].values - cal["incident_field"].values
    ref = clean["scattered_field"].values
    return float(np.linalg.norm(es - ref) / np.linalg.norm(ref)), float(
        np.linalg.norm(es) / np.linalg.norm(ref)
    )


def test_reference_mode_calibrates_directive_antennas(horn_data):
    clean, meas = horn_data
    sim = clean["incident_field"].values
    err_tx, gain_tx = _scattered_error(calibrate_gain(meas, sim, mode="per_tx"), clean)
    err_pair, gain_pair = _scattered_error(calibrate_gain(meas, sim, mode="per_pair"), clean)
    err_ref, gain_ref = _scattered_error(calibrate_gain(meas, sim, mode="reference"), clean)
    print(f"per_tx {err_tx:.3f} ({gain_tx:.2f}x), per_pair {err_pair:.3g} ({gain_pair:.3g}x), "
          f"reference {err_ref:.4f} ({gain_ref:.3f}x)")  # fmt: skip
    assert err_tx > 0.5 and gain_tx > 1.5  # every receiver: the scattered field is inflated
    assert err_pair > 10  # weak receivers amplified
    assert err_ref < 0.05 and abs(gain_ref - 1) < 0.05
    auto = calibrate_gain(meas, sim)
    assert auto.attrs["calibration_mode"] == "reference"
    assert auto.attrs["incident_spread_db"] > 20
    np.testing.assert_allclose(
        auto["total_field"], calibrate_gain(meas, sim, mode="reference")["total_field"]
    )
    # more reference receivers: still close (the neighbours are 7.5 degrees off boresight)
    err3, _ = _scattered_error(calibrate_gain(meas, sim, mode="reference", n_reference=3), clean)
    assert err3 < 0.1


def test_auto_keeps_per_tx_for_line_sources(horn_data):
    clean, _ = horn_data
    sim = clean["incident_field"].values
    gain = np.exp(1j * np.arange(8))[None, :, None] * 2.0
    meas = clean.copy()
    for v in ("total_field", "incident_field"):
        meas[v] = clean[v] * gain
    assert incident_spread_db(meas["incident_field"].values, sim) < 1e-6
    cal = calibrate_gain(meas, sim)
    assert cal.attrs["calibration_mode"] == "per_tx"
    np.testing.assert_allclose(cal["total_field"], clean["total_field"], rtol=1e-10)


def test_reference_needs_a_receiver_and_a_positive_count(horn_data):
    clean, meas = horn_data
    sim = clean["incident_field"].values
    masked = meas.copy()
    mask = np.ones(meas["total_field"].shape, bool)
    mask[:, 2, :] = False
    masked["mask"] = (("freq", "tx", "rx"), mask)
    with pytest.raises(CalibrationError, match="no measured receiver"):
        calibrate_gain(masked, sim, mode="reference")
    with pytest.raises(ValueError, match="n_reference"):
        calibrate_gain(meas, sim, mode="reference", n_reference=0)


def test_calibrate_is_a_deprecated_alias():
    import brim.microwave
    import brim.microwave.tomography

    with pytest.warns(DeprecationWarning, match="calibrate_gain"):
        old = brim.microwave.calibrate
    assert old is brim.microwave.calibrate_gain
    with pytest.warns(DeprecationWarning, match="calibrate_gain"):
        assert brim.microwave.tomography.calibrate is calibrate_gain
    assert "calibrate" not in brim.microwave.__all__
    assert "calibrate_gain" in brim.microwave.__all__
    for name in ("read_field_table", "field_set_dataset", "line_source_field", "TomographyGrid"):
        assert name in brim.microwave.__all__
        assert getattr(brim.microwave, name) is not None
