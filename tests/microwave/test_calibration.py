"""Calibration: delay-line oracles for the time transforms, exact gating, subtraction identities."""

import numpy as np
import pytest

from brim.errors import BrimWarning, CalibrationError, ConfigError
from brim.microwave import readers, samples
from brim.microwave.radar import calibration as cal

F = np.linspace(1.5e9, 4.5e9, 76)


def _delay_line(tau, amp=1.0):
    return amp * np.exp(-2j * np.pi * F * tau)


def test_czt_equals_ifft_on_the_same_grid():
    s = _delay_line(0.7e-9) + _delay_line(1.9e-9, 0.3)
    x_fft, t = cal.ifft_time_signals(s, F, n_t=512, window="hann")
    x_czt = cal.czt_time_signals(s, F, 0.0, t[1] - t[0], t.size, window="hann")
    np.testing.assert_allclose(x_czt, x_fft, rtol=0, atol=1e-9 * np.abs(x_fft).max())


@pytest.mark.parametrize("tau", [0.35e-9, 1.234e-9, 4.0e-9])
def test_delay_line_peaks_at_its_delay(tau):
    # Oracle: exp(-j 2 pi f tau) (exp(+jwt) convention) is a pulse at t = tau; the zoomed
    # inverse chirp-Z (1 ps steps) must put the envelope peak within one step of it.
    dt = 1e-12
    x = cal.czt_time_signals(_delay_line(tau), F, tau - 0.2e-9, dt, 400, window="hann")
    t = tau - 0.2e-9 + dt * np.arange(400)
    assert abs(t[np.argmax(np.abs(x))] - tau) <= dt


def test_time_gate_is_exact_and_separates_echoes():
    early, late = _delay_line(0.5e-9), _delay_line(3.0e-9, 0.2)
    ds = readers.make_scan(np.column_stack([early + late]), F)
    g = cal.time_gate(ds, 1.5e-9, 10e-9)  # keep the late echo only
    # a rectangular gate on a band-limited record is exact only up to the sidelobes of the
    # unwindowed early echo leaking past 1.5 ns (Gibbs ripple, worst at the band edges):
    # bound 50 % of the late echo's amplitude away from the 8 edge bins, 25 % in the median
    err = np.abs(g["s"].values[:, 0] - late)
    assert err[8:-8].max() < 0.5 * 0.2 and np.median(err) < 0.25 * 0.2
    # keep + remove = identity (exactness of the time-frequency pair), to 1e-12
    r = cal.time_gate(ds, 1.5e-9, 10e-9, keep=False)
    np.testing.assert_allclose(g["s"].values + r["s"].values, ds["s"].values, atol=1e-12)


def test_rotation_and_reference_subtraction():
    ds = samples.simulate_scan(noise=0.0)
    out = cal.reference_subtraction(ds)
    np.testing.assert_allclose(out["s"].values, ds["s"].values - ds["s_reference"].values)
    assert out.attrs["calibration"] == "reference_subtraction"
    other = ds.copy()
    other["s"] = ds["s_reference"]
    out2 = cal.rotation_subtraction(ds.drop_vars("s_reference"), rotated=other)
    np.testing.assert_allclose(out2["s"].values, out["s"].values)
    with pytest.raises(CalibrationError, match="no rotated scan"):
        cal.rotation_subtraction(ds.drop_vars("s_reference"))
    with pytest.raises(CalibrationError, match="frequencies"):
        cal.rotation_subtraction(ds, rotated=other.assign_coords(freq=other.freq * 1.01))


def test_average_subtraction_removes_distance_only_artefact():
    # The simulated artefact depends only on the Tx-Rx distance: subtracting the per-distance
    # mean must remove it (distances are grouped to 1 mm, so a residual of < 1 % remains).
    art = samples.simulate_scan(target=None, noise=0.0)
    out = cal.average_subtraction(art, groups="distance")
    assert np.linalg.norm(out["s"].values) < 1e-2 * np.linalg.norm(art["s"].values)
    # the mean over all channels leaves most of the artefact: brim says so
    with pytest.warns(BrimWarning, match="skin / antenna response probably still dominates"):
        allm = cal.average_subtraction(art, groups="all")
    assert np.linalg.norm(allm["s"].values) > 0.1 * np.linalg.norm(art["s"].values)


def test_skin_artefact_removal_reduces_early_time_artefact():
    ds = samples.simulate_scan(noise=1e-5)
    target_only = ds["s"].values - ds["s_reference"].values
    raw_err = np.linalg.norm(ds["s"].values - target_only)
    out = cal.skin_artefact_removal(ds.drop_vars("s_reference"), window=(0.0, 0.8e-9), oversample=8)
    err = np.linalg.norm(out["s"].values - target_only)
    assert err < 0.1 * raw_err  # artefact reduced by more than 20 dB (measured: 33 dB)


def test_antenna_delay_and_errors():
    ds = samples.simulate_scan()
    out = cal.antenna_delay_calibration(ds, 50e-12)
    assert out["antenna_delay"].attrs["units"] == "s"
    np.testing.assert_allclose(out["antenna_delay"].values, 50e-12)
    with pytest.raises(CalibrationError):
        cal.antenna_delay_calibration(ds, np.nan)
    with pytest.raises(CalibrationError, match="uniformly"):
        cal.czt_time_signals(np.ones(3), [1e9, 2e9, 4e9], 0, 1e-12, 4)
    with pytest.raises(ConfigError):
        cal.to_time_domain(ds, method="wavelet")
    td = cal.to_time_domain(ds, method="ifft")
    assert td["x"].dims == ("channel", "time") and td["time"].attrs["units"] == "s"


def test_estimate_antenna_delay_recovers_phase_centre_delay():
    # Oracle: data simulated with a known 150 ps one-way phase-centre delay on every antenna;
    # the fit over 0..300 ps in 50 ps steps must return it exactly (the grid contains it).
    from brim.microwave import radar

    ant = samples.hemisphere_antennas()
    tx, rx = np.triu_indices(len(ant), k=1)
    f = np.linspace(1.5e9, 4.5e9, 31)
    tgt = np.array([0.015, 0.0, 0.035])
    t = radar.homogeneous_delays(tgt[None], ant, 8.0)[0] + 150e-12
    s = np.exp(-2j * np.pi * f[:, None] * (t[tx] + t[rx])[None, :])
    ds = readers.make_scan(s, f, tx=tx, rx=rx, antenna_positions=ant)
    est = cal.estimate_antenna_delay(
        ds, tgt, candidates_s=np.arange(0, 301e-12, 50e-12), radius=0.06, resolution=5e-3
    )
    assert est == pytest.approx(150e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda ds: cal.to_time_domain(ds, dt=float("nan")), "dt"),
        (lambda ds: cal.to_time_domain(ds, dt=-1e-12), "dt"),
        (lambda ds: cal.to_time_domain(ds, t_max=0.0), "t_max"),
        (lambda ds: cal.time_gate(ds, 0.0, 1e-9, oversample=0), "oversample"),
        (lambda ds: cal.skin_artefact_removal(ds, window=(1e-9, 0.5e-9)), "window"),
        (lambda ds: cal.skin_artefact_removal(ds, window=(0.0, np.nan)), "window"),
        (lambda ds: cal.skin_artefact_removal(ds, window=(0.0, 1e-9), n_neighbours=0), "n_neig"),
        (
            lambda ds: cal.skin_artefact_removal(ds, window=(0.0, 1e-9), n_neighbours=10**4),
            "n_neig",
        ),
        (lambda ds: cal.skin_artefact_removal(ds, window=(0.0, 1e-9), n_taps=1.5), "n_taps"),
        (lambda ds: cal.estimate_antenna_delay(ds, (np.nan, 0.0, 0.03)), "target"),
        (lambda ds: cal.estimate_antenna_delay(ds, (0.01, 0.0, 0.03), candidates_s=[]), "cand"),
    ],
)
def test_bad_settings_raise_config_errors(call, match):
    ds = samples.simulate_scan()
    with pytest.raises(ConfigError, match=match):
        call(ds)


def test_chirp_z_rejects_bad_time_grids():
    s = _delay_line(1e-9)
    with pytest.raises(ConfigError, match="n_t"):
        cal.czt_time_signals(s, F, 0.0, 1e-11, 0)
    with pytest.raises(ConfigError, match="dt"):
        cal.czt_time_signals(s, F, 0.0, np.nan, 10)
    with pytest.raises(ConfigError, match="t0"):
        cal.czt_time_signals(s, F, np.inf, 1e-11, 10)
