"""Beamformers: analytic point-scatterer oracle, NumPy reference, time vs frequency domain,
chunking, two-layer delays, CuPy vs Numba, and the MERIT real-data validation."""

import numpy as np
import pytest

from brim.backend import cupy_available
from brim.errors import ConfigError
from brim.microwave import radar, samples
from brim.microwave.radar import calibration as cal
from brim.microwave.radar import kernels as rk
from brim.microwave.radar import metrics

TARGET = (0.015, 0.0, 0.035)


@pytest.fixture(scope="module")
def sim():
    return cal.reference_subtraction(samples.simulate_scan(target=TARGET, noise=1e-5))


@pytest.fixture(scope="module")
def small_grid():
    return radar.box_grid(
        np.arange(-0.03, 0.0301, 0.005),
        np.arange(-0.02, 0.0201, 0.005),
        np.arange(0.02, 0.051, 0.005),
    )


def test_point_scatterer_focuses_within_one_voxel(sim):
    # Oracle: the simulation uses the same homogeneous delay model (eps_r = 8), so every
    # beamformer must put its maximum within one voxel (2.5 mm) of the scatterer.
    grid = radar.hemisphere_grid(0.06, 2.5e-3, z_min=0.01)
    img = radar.beamform(sim, grid=grid, eps_r=8.0)
    for var in ("das", "dmas", "cf_das"):
        assert metrics.localisation_error(img, TARGET, var=var) <= grid.voxel + 1e-9
    # DMAS and CF-DAS suppress clutter relative to DAS (Lim et al. 2008): higher SCR
    s_das, s_dmas = metrics.scr(img, var="das"), metrics.scr(img, var="dmas")
    assert s_dmas > s_das


def test_off_grid_scatterer_and_wrong_permittivity(sim):
    # With a wrong permittivity the focus moves: a check that the delay model matters.
    grid = radar.hemisphere_grid(0.06, 2.5e-3, z_min=0.01)
    img = radar.beamform(sim, grid=grid, eps_r=4.0, methods="das")
    assert metrics.localisation_error(img, TARGET) > 2 * grid.voxel


def test_numba_matches_numpy_reference(sim, small_grid):
    sig, freq, tx, rx, pos = radar.channel_table(sim)
    t = radar.homogeneous_delays(small_grid.points, pos, 8.0)
    ref = rk.fd_beamform_numpy(sig, freq, t, tx, rx)
    out = np.empty_like(ref)
    rk.fd_beamform_numba(sig, freq, True, t, tx, rx, out)
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12 * ref.max())
    rk.fd_beamform_numba(sig, freq, False, t, tx, rx, out)  # explicit-exp path
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_time_domain_matches_frequency_domain(sim, small_grid):
    fd = radar.beamform(sim, eps_r=8.0, grid=small_grid, domain="frequency")
    td = radar.beamform(sim, eps_r=8.0, grid=small_grid, domain="time", time_oversample=32)
    for var in ("das", "dmas", "cf_das"):
        a, b = fd[var].values, td[var].values
        # linear interpolation of a 32x-oversampled analytic signal: < 1 % of the peak
        assert np.nanmax(np.abs(a - b)) < 0.01 * np.nanmax(a)


def test_chunking_gives_the_same_image(sim, small_grid):
    a = radar.beamform(sim, eps_r=8.0, grid=small_grid)
    b = radar.beamform(sim, eps_r=8.0, grid=small_grid, max_memory_mb=0.05, progress=True)
    np.testing.assert_array_equal(a["das"].values, b["das"].values)


def test_two_layer_delays():
    rng = np.random.default_rng(1)
    pts = rng.uniform(-0.03, 0.03, (50, 3))
    ants = samples.hemisphere_antennas()
    same = radar.two_layer_delays(pts, ants, eps_outer=8.0, eps_inner=8.0, radius=0.05)
    np.testing.assert_allclose(same, radar.homogeneous_delays(pts, ants, 8.0), rtol=1e-12)
    # radial path (antenna on the z axis, point at the centre): analytic split
    t = radar.two_layer_delays(
        np.zeros((1, 3)), np.array([[0, 0, 0.07]]), eps_outer=4.0, eps_inner=9.0, radius=0.05
    )
    assert t[0, 0] == pytest.approx((0.02 * 2 + 0.05 * 3) / 299_792_458.0, rel=1e-12)


def test_planar_image_and_bad_method(sim):
    img = radar.beamform(
        sim, eps_r=8.0, grid=radar.plane_grid(0.05, 2.5e-3, TARGET[2]), methods="das"
    )
    assert img["das"].dims == ("y", "x")
    assert metrics.localisation_error(img, TARGET) <= 2.5e-3 + 1e-9
    with pytest.raises(ConfigError, match="beamformer"):
        radar.beamform(sim, methods="music")


@pytest.mark.parametrize(
    "make",
    [
        lambda: radar.plane_grid(0.05, 0.0, 0.03),
        lambda: radar.plane_grid(float("nan"), 1e-3, 0.03),
        lambda: radar.plane_grid(0.05, 1e-3, float("inf")),
        lambda: radar.hemisphere_grid(0.05, float("nan")),
        lambda: radar.hemisphere_grid(-0.05, 1e-3),
        lambda: radar.box_grid([], [0.0], [0.03]),
        lambda: radar.box_grid([np.nan, 0.0], [0.0], [0.03]),
    ],
)
def test_bad_grids_raise(make):
    with pytest.raises(ConfigError, match="grid|radius"):
        make()


def test_bad_beamform_settings_raise(sim):
    empty = radar.ImagingGrid(
        np.zeros(1), np.zeros(1), np.array([0.03]), np.zeros((1, 1, 1), dtype=bool), planar=True
    )
    with pytest.raises(ConfigError, match="no points"):
        radar.beamform(sim, grid=empty)
    with pytest.raises(ConfigError, match="max_memory_mb"):
        radar.beamform(sim, max_memory_mb=float("nan"))
    with pytest.raises(ConfigError, match="time_oversample"):
        radar.beamform(sim, domain="time", time_oversample=0)


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs a CUDA GPU with CuPy")
def test_gpu_resident_scan_beamforms_on_the_gpu(sim, small_grid):
    # A scan moved with ds.brim.to_device("cuda") needs no backend argument: the image is
    # formed with CuPy (recorded in the provenance) and equals the Numba image to rtol 1e-9;
    # calibration on the GPU-resident scans runs on the host and gives the same scan.
    from brim.provenance import steps

    gpu = sim.brim.to_device("cuda")
    for domain in ("frequency", "time"):
        a = radar.beamform(sim, eps_r=8.0, grid=small_grid, domain=domain)
        b = radar.beamform(gpu, eps_r=8.0, grid=small_grid, domain=domain)
        assert steps(b)[-1]["parameters"]["backend"] == "cupy"
        for var in ("das", "dmas", "cf_das"):
            np.testing.assert_allclose(
                b[var].values, a[var].values, rtol=1e-9, atol=1e-12 * np.nanmax(a[var].values)
            )
    raw = samples.simulate_scan(target=TARGET, noise=1e-5)
    on_gpu = cal.reference_subtraction(raw.brim.to_device("cuda"))
    np.testing.assert_array_equal(on_gpu["s"].values, sim["s"].values)


def test_vectorised_kernels_stay_on_the_input_device(sim, small_grid):
    # The array-API kernels allocate nothing on a default device: with torch tensors on the
    # "meta" device (shapes only, no data) every intermediate must be on that device too, as
    # it must be on CUDA; a CPU allocation inside would raise a device-mismatch error.
    torch = pytest.importorskip("torch")
    sig, freq, tx, rx, pos = radar.channel_table(sim)
    t = radar.homogeneous_delays(small_grid.points[:7], pos, 8.0)

    def meta(a):
        return torch.as_tensor(np.array(a)).to("meta")

    fd = rk.fd_beamform_xp(meta(sig), meta(freq), meta(t), meta(tx), meta(rx))
    td = rk.td_beamform_xp(meta(np.zeros((len(tx), 64))), 0.0, 1e-11, meta(t), meta(tx), meta(rx))
    for r in (fd, td):
        assert r.device.type == "meta" and tuple(r.shape) == (7, 3)


def test_time_domain_numba_matches_numpy_reference(sim, small_grid):
    from brim.microwave.radar.calibration import czt_time_signals

    sig, freq, tx, rx, pos = radar.channel_table(sim)
    dt = 1.0 / (16 * freq.max())
    x = czt_time_signals(sig, freq, 0.0, dt, 2000, window="none")
    t = radar.homogeneous_delays(small_grid.points, pos, 8.0)
    ref = rk.td_beamform_numpy(x, 0.0, dt, t, tx, rx)
    out = np.empty_like(ref)
    rk.td_beamform_numba(x, 0.0, dt, t, tx, rx, out)
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_two_layer_beamforming_oracle():
    # Oracle: data simulated with the two-layer straight-ray delays (skin/immersion eps 20 outside
    # r = 50 mm, breast eps 8 inside) focus within one voxel with the same model, and not with a
    # homogeneous eps = 8 model.
    from brim.microwave import readers

    ant = samples.hemisphere_antennas()
    tx, rx = np.triu_indices(len(ant), k=1)
    f = np.linspace(1.5e9, 4.5e9, 31)
    layer = {"eps_outer": 20.0, "eps_inner": 8.0, "radius": 0.05}
    t = radar.two_layer_delays(np.array([TARGET]), ant, **layer)[0]
    s = np.exp(-2j * np.pi * f[:, None] * (t[tx] + t[rx])[None, :])
    ds = readers.make_scan(s, f, tx=tx, rx=rx, antenna_positions=ant)
    grid = radar.box_grid(*(np.arange(c - 0.01, c + 0.0101, 2.5e-3) for c in TARGET))
    img = radar.beamform(ds, grid=grid, two_layer=layer, methods="das")
    assert metrics.localisation_error(img, TARGET) <= grid.voxel + 1e-9
    wrong = radar.beamform(ds, grid=grid, eps_r=8.0, methods="das")
    assert metrics.localisation_error(wrong, TARGET) > grid.voxel


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. torch on a read-only array
@pytest.mark.parametrize("domain", ["frequency", "time"])
def test_backends_give_the_same_image(xp, sim, small_grid, domain):
    # NumPy/Numba, torch-CPU and CuPy (gpu marker) kernels: same image to rtol 1e-9 (float64
    # everywhere; only the summation order differs).
    ref = radar.beamform(sim, eps_r=8.0, grid=small_grid, domain=domain, time_oversample=16)
    got = radar.beamform(
        sim, eps_r=8.0, grid=small_grid, domain=domain, time_oversample=16, backend=xp.name
    )
    for var in ("das", "dmas", "cf_das"):
        a = ref[var].values
        np.testing.assert_allclose(got[var].values, a, rtol=1e-9, atol=1e-12 * np.nanmax(a))


def test_permittivity_above_water_is_refused(sim):
    # eps_r 8000 (no upper bound) used to be imaged; breast tissue is at most ~70, water ~80
    pts, ants = np.zeros((1, 3)), np.array([[0.0, 0.0, 0.07]])
    for bad in (8000.0, 100.5, 0.5):
        with pytest.raises(ConfigError, match=r"\[1, 100\].*water"):
            radar.beamform(sim, eps_r=bad, grid=radar.hemisphere_grid(0.05, 0.01))
        with pytest.raises(ConfigError, match=r"\[1, 100\]"):
            radar.homogeneous_delays(pts, ants, bad)
        with pytest.raises(ConfigError, match=r"\[1, 100\]"):
            radar.two_layer_delays(pts, ants, eps_outer=1.0, eps_inner=bad, radius=0.05)
    with pytest.raises(ConfigError, match=r"eps_range must be in \[1, 100\]"):
        radar.estimate_propagation(sim, eps_range=(4.0, 400.0))
    # the largest tissue values are still accepted (a 70-80 coupling medium, water)
    t = radar.homogeneous_delays(pts, ants, 81.0)
    assert t[0, 0] == pytest.approx(0.07 * 9.0 / 299_792_458.0)
