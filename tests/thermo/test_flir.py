"""FLIR radiometric JPEG reader: synthetic FFF oracle, flyr cross-check, errors."""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest

from brim.errors import CalibrationError, FormatError
from brim.thermo.flir import FlirParameters, raw_to_celsius, read_flir, read_flir_raw

R1, R2, B, F, O = 16985.7, 0.0197852, 1435.7, 1.0, -2106.0


def _signal(t_c):
    return R1 / (R2 * (np.exp(B / (np.asarray(t_c) + 273.15)) - F)) - O


def _camera_record(emissivity, t_refl_c, t_atm_c, distance=0.0, rh=0.5) -> bytes:
    rec = bytearray(0x340)
    struct.pack_into("<H", rec, 0, 2)

    def put(off, v):
        struct.pack_into("<f", rec, off, v)

    put(0x20, emissivity)
    put(0x24, distance)
    put(0x28, t_refl_c + 273.15)
    put(0x2C, t_atm_c + 273.15)
    put(0x30, 293.15)
    put(0x34, 1.0)
    put(0x3C, rh)
    put(0x58, R1)
    put(0x5C, B)
    put(0x60, F)
    put(0x70, 0.006569)
    put(0x74, 0.01262)
    put(0x78, -0.002276)
    put(0x7C, -0.00667)
    put(0x80, 1.9)
    struct.pack_into("<i", rec, 0x308, int(O))
    put(0x30C, R2)
    rec[0xD4 : 0xD4 + 8] = b"SYNTH\x00\x00\x00"
    return bytes(rec)


def _fff(raw_record: bytes, raw_subtype: int, cam: bytes) -> bytes:
    head = bytearray(64)
    head[:4] = b"FFF\x00"
    struct.pack_into(">III", head, 20, 100, 64, 2)
    off_raw = 64 + 64
    off_cam = off_raw + len(raw_record)
    d = bytearray(64)
    struct.pack_into(">HHIIII", d, 0, 1, raw_subtype, 100, 1, off_raw, len(raw_record))
    struct.pack_into(">HHIIII", d, 32, 0x20, 1, 100, 1, off_cam, len(cam))
    return bytes(head) + bytes(d) + raw_record + cam


def _jpeg(fff: bytes, chunk: int = 5000) -> bytes:
    parts = [fff[i : i + chunk] for i in range(0, len(fff), chunk)]
    out = bytearray(b"\xff\xd8")
    for i, p in enumerate(parts):
        payload = b"FLIR\x00\x01" + bytes([i, len(parts) - 1]) + p
        out += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return bytes(out + b"\xff\xd9")


def _synthetic(tmp_path, temps, *, emissivity=0.98, t_refl=21.0, png=False):
    s = emissivity * _signal(temps) + (1 - emissivity) * _signal(t_refl)  # distance 0: tau = 1
    counts = np.rint(s).astype(np.uint16)
    h, w = counts.shape
    head = bytearray(32)
    struct.pack_into("<HHH", head, 0, 2, w, h)
    if png:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(counts.byteswap().astype(np.uint16)).save(buf, format="PNG")
        raw, sub = bytes(head) + buf.getvalue(), 3
    else:
        raw, sub = bytes(head) + counts.astype("<u2").tobytes(), 2
    path = tmp_path / ("synth_png.jpg" if png else "synth_tiff.jpg")
    path.write_bytes(_jpeg(_fff(raw, sub, _camera_record(emissivity, t_refl, 22.0))))
    return path, counts


@pytest.mark.parametrize("png", [False, True], ids=["tiff-raw", "png-raw"])
def test_synthetic_fff_recovers_temperature(tmp_path, png):
    # oracle: counts made by the forward Planck model of a known scene (emissivity 0.98,
    # reflected 21 degC, distance 0 so tau = 1); 16-bit rounding limits accuracy to ~0.01 K
    temps = np.linspace(25.0, 38.0, 12 * 16).reshape(12, 16)
    path, counts = _synthetic(tmp_path, temps, png=png)
    raw = read_flir_raw(path)
    assert raw.raw_format == ("png" if png else "tiff-le")
    np.testing.assert_array_equal(raw.counts, counts)
    ds = read_flir(path)
    assert ds.attrs["brim_schema"].startswith("thermogram/")
    assert ds["temperature"].attrs["units"] == "degC"
    np.testing.assert_allclose(ds["temperature"].values, temps, atol=0.02)
    assert ds.attrs["flir_emissivity"] == pytest.approx(0.98, abs=1e-6)
    assert ds.attrs["camera_model"] == "SYNTH"


def test_overrides_are_used_and_recorded(tmp_path):
    temps = np.full((4, 5), 34.0)
    path, _ = _synthetic(tmp_path, temps, emissivity=0.95, t_refl=20.0)
    base = read_flir(path)
    np.testing.assert_allclose(base["temperature"].values, 34.0, atol=0.02)
    # a higher assumed emissivity explains the same signal by a cooler object
    hi = read_flir(path, emissivity=1.0, reflected_temp=20.0)
    assert float(hi["temperature"].mean()) < 34.0 - 0.2
    assert hi.attrs["flir_emissivity"] == 1.0
    assert "emissivity" in hi.attrs["flir_overridden"]
    # atmospheric transmission override: tau < 1 means the object must be warmer
    tau = read_flir(path, atmospheric_transmission=0.9)
    assert float(tau["temperature"].mean()) > 34.5
    assert tau.attrs["flir_atmospheric_transmission"] == 0.9
    # Planck constants are overridable too (here R1 and B) and the values used are recorded
    from dataclasses import replace

    raw = read_flir_raw(path)
    r1 = read_flir(path, R1=R1 * 1.01, B=B + 2.0)
    expected = raw_to_celsius(
        raw.counts, replace(raw.parameters, planck_r1=R1 * 1.01, planck_b=B + 2.0)
    )
    np.testing.assert_allclose(r1["temperature"].values, expected)
    assert abs(float(r1["temperature"].mean()) - 34.0) > 0.1
    assert r1.attrs["flir_planck_r1"] == pytest.approx(R1 * 1.01)
    from brim.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown FLIR parameter"):
        read_flir(path, emisivity=0.9)


def test_raw_to_celsius_matches_analytic_inverse():
    p = FlirParameters(
        emissivity=1.0,
        object_distance=0.0,
        reflected_temperature=20.0,
        atmospheric_temperature=20.0,
        relative_humidity=0.5,
        ir_window_temperature=20.0,
        ir_window_transmission=1.0,
        planck_r1=R1,
        planck_r2=R2,
        planck_b=B,
        planck_f=F,
        planck_o=O,
        atm_alpha1=0.006569,
        atm_alpha2=0.01262,
        atm_beta1=-0.002276,
        atm_beta2=-0.00667,
        atm_x=1.9,
    )
    t = np.array([10.0, 30.0, 37.0, 60.0])
    np.testing.assert_allclose(raw_to_celsius(_signal(t), p), t, atol=1e-9)
    with pytest.raises(CalibrationError):
        raw_to_celsius(_signal(t), FlirParameters(**{**p.__dict__, "emissivity": 1.5}))
    with pytest.raises(CalibrationError):
        raw_to_celsius(_signal(t), FlirParameters(**{**p.__dict__, "relative_humidity": 45.0}))
    # NaN settings used to give all-NaN temperatures (or, for emissivity, slip through
    # formats that ignore them) instead of an error
    for name in ("object_distance", "reflected_temperature", "atmospheric_temperature"):
        with pytest.raises(CalibrationError, match=name.replace("_", " ")):
            raw_to_celsius(_signal(t), FlirParameters(**{**p.__dict__, name: math.nan}))
    assert math.isnan(raw_to_celsius(np.array([-5000.0]), p)[0])


def test_non_radiometric_and_truncated(tmp_path):
    from PIL import Image

    plain = tmp_path / "plain.jpg"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(plain)
    with pytest.raises(FormatError, match="not a radiometric FLIR"):
        read_flir(plain)
    notjpeg = tmp_path / "x.jpg"
    notjpeg.write_bytes(b"hello world")
    with pytest.raises(FormatError):
        read_flir(notjpeg)
    path, _ = _synthetic(tmp_path, np.full((6, 6), 30.0))
    data = path.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError):
        read_flir(cut)


def test_agrees_with_flyr_on_real_files(external_data):
    flyr = pytest.importorskip("flyr")
    files = sorted((external_data / "thermo" / "flir").glob("*.jpg"))
    assert len(files) >= 4
    for f in files:
        ref = flyr.unpack(str(f))
        ours = read_flir(f)
        assert ours["temperature"].shape == ref.celsius.shape
        err = np.nanmax(np.abs(ours["temperature"].values - ref.celsius))
        assert err < 0.05, f"{f.name}: {err:.4f} degC from flyr"
        # same overrides in both: skin emissivity, another room
        kw = dict(
            emissivity=0.98,
            reflected_apparent_temperature=295.15,
            atmospheric_temperature=296.15,
            relative_humidity=0.6,
            object_distance=1.5,
        )
        ref2 = ref.adjust_metadata(**kw)
        ours2 = read_flir(
            f,
            emissivity=0.98,
            reflected_temp=22.0,
            atmospheric_temp=23.0,
            humidity=0.6,
            distance=1.5,
        )
        err2 = np.nanmax(np.abs(ours2["temperature"].values - ref2.celsius))
        assert err2 < 0.05, f"{f.name} (overrides): {err2:.4f} degC from flyr"
        assert ours2.attrs["flir_object_distance"] == 1.5
