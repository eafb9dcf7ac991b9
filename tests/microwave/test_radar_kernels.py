"""Radar beamforming kernels at MERIT-like size against the plain NumPy reference.

72 channels (24 antennas on three rings of 8, each antenna with its three nearest ring
neighbours) x 750 frequencies (1-9 GHz) x 2000 image points, noisy point-scatterer data: the
Numba kernels (Horner rule for uniform frequencies, per-term phasors otherwise, time domain) and
the array-API path with NumPy as the namespace must give the reference's DAS / DMAS / CF-DAS
intensities to rounding. Stated tolerance: every intensity within ``RTOL`` of its own value plus
``ATOL`` times the image's maximum (the Horner sum of F unit-modulus phasors has rounding error
O(F eps); measured <= 3e-14 of the peak and <= 2e-12 of the value at 600 points). No timings
here: see benchmarks/microwave_radar.py.
"""

import numpy as np
import pytest

from brim.microwave import radar, samples
from brim.microwave.radar import kernels as rk
from brim.microwave.radar.timedomain import czt_time_signals

RTOL = 1e-9
ATOL = 1e-12  # times the image maximum


def _merit_like(n_points, n_freq=750, *, seed=0, jitter=0.0):
    rng = np.random.default_rng(seed)
    ant = samples.hemisphere_antennas(radius=0.07, rings=((0.011, 8), (0.037, 8), (0.057, 8)))
    tx, rx = [], []
    for ring in range(3):
        for i in range(8):
            for step in (1, 2, 3):
                tx.append(8 * ring + i)
                rx.append(8 * ring + (i + step) % 8)
    tx, rx = np.asarray(tx, dtype=np.int64), np.asarray(rx, dtype=np.int64)
    freq = np.linspace(1e9, 9e9, n_freq)
    if jitter:
        freq = np.sort(freq + jitter * (freq[1] - freq[0]) * rng.uniform(-1, 1, n_freq))
    scat = [((0.015, 0.0, 0.035), 1.0), ((-0.02, 0.01, 0.02), 0.5)]
    s = samples.simulate_point_scatterers(ant, tx, rx, freq, scat).T
    s = s + 0.05 * np.abs(s).max() * (
        rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape)
    )
    pts = rng.uniform([-0.06, -0.06, 0.0], [0.06, 0.06, 0.06], (n_points, 3))
    t = radar.homogeneous_delays(pts, ant, 8.0)
    return np.ascontiguousarray(s), freq, t, tx, rx


def _reference(s, freq, t, tx, rx, chunk=100):
    return np.concatenate(
        [rk.fd_beamform_numpy(s, freq, t[i : i + chunk], tx, rx) for i in range(0, len(t), chunk)]
    )


def _assert_close(out, ref):
    assert np.all(np.isfinite(out))
    np.testing.assert_array_less(np.abs(out - ref), RTOL * np.abs(ref) + ATOL * ref.max(axis=0))


@pytest.fixture(scope="module")
def merit():
    s, freq, t, tx, rx = _merit_like(2000)
    return s, freq, t, tx, rx, _reference(s, freq, t, tx, rx)


def test_numba_horner_matches_reference(merit):
    s, freq, t, tx, rx, ref = merit
    out = np.full_like(ref, np.nan)
    rk.fd_beamform_numba(s, freq, True, t, tx, rx, out)
    _assert_close(out, ref)
    # the image is not trivial: the strong scatterer stands far above the median point
    assert ref[:, 0].max() > 20 * np.median(ref[:, 0])


def test_numba_direct_path_matches_reference(merit):
    s, freq, t, tx, rx, ref = merit
    out = np.full((500, 3), np.nan)
    rk.fd_beamform_numba(s, freq, False, t[:500], tx, rx, out)
    _assert_close(out, ref[:500])


def test_nonuniform_frequencies():
    s, freq, t, tx, rx = _merit_like(300, 200, seed=1, jitter=0.3)
    ref = _reference(s, freq, t, tx, rx)
    out = np.full_like(ref, np.nan)
    rk.fd_beamform_numba(s, freq, False, t, tx, rx, out)
    _assert_close(out, ref)
    assert not rk._uniform_spacing(np, freq)
    _assert_close(rk.fd_beamform_xp(s, freq, t, tx, rx), ref)
    # declaring these frequencies uniform is wrong, and the Horner result shows it
    rk.fd_beamform_numba(s, freq, True, t, tx, rx, out)
    assert np.abs(out - ref).max() > 1e-3 * ref.max()


@pytest.mark.parametrize("freq_block", [16, 7])
def test_xp_path_with_numpy_matches_reference(merit, freq_block):
    # the CuPy path is this function with cupy as the namespace (no GPU here)
    s, freq, t, tx, rx, ref = merit
    out = np.concatenate(
        [
            rk.fd_beamform_xp(s, freq, t[i : i + 500], tx, rx, freq_block=freq_block)
            for i in range(0, 1000, 500)
        ]
    )
    _assert_close(out, ref[:1000])


@pytest.mark.parametrize("n_points", [1, 5, 127, 129])
def test_partial_point_blocks(merit, n_points):
    # image sizes that are not a multiple of the kernels' point block
    s, freq, t, tx, rx, ref = merit
    out = np.full((n_points, 3), np.nan)
    rk.fd_beamform_numba(s, freq, True, t[-n_points:], tx, rx, out)
    _assert_close(out, ref[-n_points:])


@pytest.mark.parametrize("n_freq", [1, 2, 3, 8, 9])
def test_few_frequencies(n_freq):
    s, freq, t, tx, rx = _merit_like(200, n_freq, seed=2)
    ref = _reference(s, freq, t, tx, rx)
    for uniform in (True, False):
        out = np.full_like(ref, np.nan)
        rk.fd_beamform_numba(s, freq, uniform, t, tx, rx, out)
        _assert_close(out, ref)
    _assert_close(rk.fd_beamform_xp(s, freq, t, tx, rx, freq_block=4), ref)


def test_time_domain_numba_matches_reference(merit):
    s, freq, t, tx, rx, _ = merit
    dt = 1.0 / (16 * freq.max())
    x = czt_time_signals(s, freq, 0.0, dt, 12000, window="none")
    ref = rk.td_beamform_numpy(x, 0.0, dt, t, tx, rx)
    out = np.full_like(ref, np.nan)
    rk.td_beamform_numba(x, 0.0, dt, t, tx, rx, out)
    _assert_close(out, ref)
    _assert_close(rk.td_beamform_xp(x, 0.0, dt, t[:300], tx, rx), ref[:300])


def test_sincos_turns_matches_libm():
    r = np.concatenate([np.linspace(-40.0, 40.0, 200001), [0.0, 0.125, 0.25, 0.375, -0.5, 1.0]])
    r = r[::97]
    cs = np.array([rk._sincos_turns(v) for v in r])
    # libm's own error in 2 pi r grows with |r|: ~ |2 pi r| eps
    np.testing.assert_allclose(
        cs[:, 0], np.cos(2 * np.pi * r), rtol=0, atol=2e-15 + 1e-15 * r.max()
    )
    np.testing.assert_allclose(
        cs[:, 1], np.sin(2 * np.pi * r), rtol=0, atol=2e-15 + 1e-15 * r.max()
    )


def test_uniform_xp_path_stays_on_the_input_device(merit):
    # The blocked-Horner branch allocates nothing on a default device (torch "meta": shapes only)
    torch = pytest.importorskip("torch")
    s, freq, t, tx, rx, _ = merit

    def meta(a):
        return torch.as_tensor(np.array(a)).to("meta")

    r = rk.fd_beamform_xp(meta(s), meta(freq), meta(t[:7]), meta(tx), meta(rx), uniform=True)
    assert r.device.type == "meta" and tuple(r.shape) == (7, 3)
