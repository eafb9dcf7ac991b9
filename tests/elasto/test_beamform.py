"""Plane-wave DAS: point targets of the pybf Field II data; Numba vs NumPy vs CuPy."""

import numpy as np
import pytest

from brim.backend import cupy_available
from brim.elasto.beamform_kernels import das_numba
from brim.elasto.beamforming import beamform, bmode, das_reference, envelope
from brim.elasto.readers import make_channel_data, read_channel_pybf
from brim.errors import ConfigError, SchemaError


@pytest.fixture(scope="module")
def pybf(external_data):
    return read_channel_pybf(external_data / "elasto/pybf_channel/rf_dataset.hdf5")


def _isolated_targets(ds):
    x, z = ds.scatterer_x.values, ds.scatterer_z.values
    # the file's isolated point targets: scatterers with no neighbour within 2 mm
    d = np.hypot(x[:, None] - x[None, :], z[:, None] - z[None, :])
    np.fill_diagonal(d, np.inf)
    iso = d.min(axis=1) > 2e-3
    return x[iso], z[iso]


def test_point_targets_at_known_positions(pybf):
    xt, zt = _isolated_targets(pybf)
    assert len(xt) == 4  # 10.3, 22.2, 34.0 and 45.8 mm on the axis (sim_params/scatters_data)
    c = float(pybf.sound_speed)
    lam = c / float(pybf.center_frequency)
    pitch = float(pybf.pitch)
    dz = c / (2 * float(pybf.sampling_frequency))
    for x0, z0 in zip(xt, zt):
        depths = np.arange(z0 - 1.5e-3, z0 + 1.5e-3, dz / 2)
        lines = x0 + np.arange(-12, 13) * pitch / 4
        rf = beamform(pybf, depths=depths, lines=lines, fnumber=1.5)
        env = envelope(rf)["envelope"].values[0]
        i, j = np.unravel_index(np.argmax(env), env.shape)
        # stated tolerance: < 1 wavelength (0.30 mm) axially, < 1 pitch (0.23 mm) laterally
        assert abs(depths[i] - z0) < lam, (depths[i], z0)
        assert abs(lines[j] - x0) < pitch, (lines[j], x0)


def test_compounding_improves_contrast(pybf):
    # the 3-angle compound has lower side lobes than the single 0-degree shot around a target
    z0 = 22.176e-3
    dz = float(pybf.sound_speed) / (2 * float(pybf.sampling_frequency))
    depths = np.arange(z0 - 1e-3, z0 + 1e-3, dz)
    lines = np.linspace(-4e-3, 4e-3, 41)
    one = envelope(beamform(pybf.isel(tx=[1]), depths=depths, lines=lines))["envelope"].values[0]
    three = envelope(beamform(pybf, depths=depths, lines=lines))["envelope"].values[0]
    side = np.abs(lines) > 1.5e-3
    r1 = one[:, side].max() / one.max()
    r3 = three[:, side].max() / three.max()
    assert r3 < r1


def _toy_channel(seed=0):
    rng = np.random.default_rng(seed)
    ex = (np.arange(16) - 7.5) * 0.3e-3
    ch = rng.standard_normal((1, 2, 16, 300)).astype(np.float32)
    return make_channel_data(
        ch,
        sampling_frequency=20e6,
        center_frequency=5e6,
        sound_speed=1540.0,
        angles=[-0.1, 0.1],
        element_x=ex,
        t0=0.0,
    )


def test_numba_matches_numpy_reference():
    ds = _toy_channel()
    depths = np.linspace(2e-3, 9e-3, 37)
    lines = np.linspace(-2e-3, 2e-3, 9)
    ref = das_reference(ds, depths, lines, fnumber=1.0)
    got = das_numba(
        np.asarray(ds.channel.values[0], np.float64),
        ds.angle.values,
        ds.element_x.values,
        lines,
        depths,
        20e6,
        1540.0,
        0.0,
        1.0,
    )
    assert np.abs(ref).max() > 0
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="no CUDA GPU with CuPy here")
def test_cupy_matches_numba():
    ds = _toy_channel(1)
    depths = np.linspace(2e-3, 9e-3, 37)
    lines = np.linspace(-2e-3, 2e-3, 9)
    a = beamform(ds, depths=depths, lines=lines, backend="numpy")["rf"].values
    b = beamform(ds, depths=depths, lines=lines, backend="cupy")["rf"].values
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5 * np.abs(a).max())


def test_iq_and_bmode():
    ds = _toy_channel(2)
    depths = np.linspace(2e-3, 9e-3, 120)
    rf = beamform(ds, depths=depths)
    iq = beamform(ds, depths=depths, output="iq")
    assert np.iscomplexobj(iq["rf"].values)
    # |IQ| is the RF envelope
    np.testing.assert_allclose(np.abs(iq["rf"].values), envelope(rf)["envelope"].values, rtol=1e-9)
    b = bmode(rf, dynamic_range=40)
    assert b.max() == 0 and b.min() >= -40


def test_array_numbered_from_its_far_end_gives_the_same_image():
    ds = _toy_channel(3)
    flipped = ds.isel(element=slice(None, None, -1))
    assert flipped.element_x.values[1] < flipped.element_x.values[0]
    depths = np.linspace(2e-3, 9e-3, 37)
    lines = np.linspace(-2e-3, 2e-3, 9)
    a = beamform(ds, depths=depths, lines=lines)["rf"].values
    b = beamform(flipped, depths=depths, lines=lines)["rf"].values
    assert np.abs(a).max() > 0
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * np.abs(a).max())


def test_bad_input():
    ds = _toy_channel()
    with pytest.raises(ConfigError):
        beamform(ds, fnumber=0)
    with pytest.raises(ConfigError, match="fnumber"):
        beamform(ds, fnumber=float("nan"))
    with pytest.raises(ConfigError, match="depths"):
        beamform(ds, depths=np.array([]))
    with pytest.raises(ConfigError, match="depths"):
        beamform(ds, depths=np.full(5, np.nan))
    with pytest.raises(ConfigError, match="depths"):
        beamform(ds, depths=np.linspace(-1e-3, 5e-3, 20))
    with pytest.raises(ConfigError, match="lines"):
        beamform(ds, lines=np.linspace(2e-3, -2e-3, 9))
    same = ds.assign_coords(element_x=("element", np.zeros(ds.sizes["element"]), {"units": "m"}))
    with pytest.raises(ConfigError, match="repeated"):
        beamform(same)
    with pytest.raises(ConfigError):
        beamform(ds, output="bmode")
    with pytest.raises(SchemaError):
        beamform(ds.drop_vars("sound_speed"))


def test_envelope_of_an_array_is_deprecated_but_still_computed():
    t = np.arange(128) / 20e6
    x = np.cos(2 * np.pi * 5e6 * t)[:, None] * np.ones((1, 3))
    with pytest.warns(DeprecationWarning, match="rf_frames Dataset"):
        env = envelope(x, axis=0)
    assert isinstance(env, np.ndarray) and env.shape == x.shape
    np.testing.assert_allclose(env[32:96], 1.0, atol=1e-2)
