"""FLIR radiometric JPEGs in variants the four development files do not show.

The development files (FLIR C5, AX8 and an example camera) all store the raw image as a
byte-swapped PNG and little-endian camera information with the atmosphere constants. Other
cameras and re-encoders store the raw image as little- or big-endian words ("TIFF"), as a PNG in
standard byte order, big-endian camera information, no atmosphere constants, 0 K for an unset
temperature, or no raw image at all. The variants are built here from the real files by
re-writing their FLIR records with an independent writer (no brim code), so the expected
temperature is the one brim reads from the unaltered file.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from brim.cli import main
from brim.errors import CalibrationError, FormatError
from brim.thermo.flir import read_flir

FILES = ("FLIR0674.jpg", "ax8.jpg", "flir_example.jpg")
# the files' own emissivity (0.95) is kept and warned about; these tests are about the layout
pytestmark = pytest.mark.filterwarnings("ignore:.*the file's emissivity:brim.BrimWarning")


# ----------------------------------------------------------------------------- FLIR writer


def split_jpeg(data):
    """(FFF bytes, JPEG segments without the FLIR APP1 ones)."""
    pos, chunks, kept = 2, {}, [data[:2]]
    while True:
        marker = data[pos + 1]
        if marker in (0xDA, 0xD9):
            kept.append(data[pos:])
            break
        n = int.from_bytes(data[pos + 2 : pos + 4], "big")
        seg = data[pos : pos + 2 + n]
        if marker == 0xE1 and seg[4:9] == b"FLIR\x00":
            chunks[seg[10]] = seg[12:]
        else:
            kept.append(seg)
        pos += 2 + n
    return b"".join(chunks[i] for i in sorted(chunks)), kept


def records(fff):
    off, n = struct.unpack(">II", fff[24:32])
    out = []
    for i in range(n):
        e = fff[off + 32 * i : off + 32 * i + 32]
        rtype = struct.unpack(">H", e[:2])[0]
        if rtype == 0:
            continue
        ro, rl = struct.unpack(">II", e[12:20])
        out.append([e, fff[ro : ro + rl]])
    return out


def build(data, *, replace=None, drop=(), subtype=None):
    fff, kept = split_jpeg(data)
    recs = records(fff)
    replace, subtype = replace or {}, subtype or {}
    new = []
    for e, body in recs:
        rtype = struct.unpack(">H", e[:2])[0]
        if rtype in drop:
            continue
        body = replace.get(rtype, body)
        if rtype in subtype:
            e = e[:2] + struct.pack(">H", subtype[rtype]) + e[4:]
        new.append((e, body))
    head = bytearray(fff[:64])
    diroff = 64
    pos = diroff + 32 * len(new)
    dirb, bodies = b"", b""
    for e, body in new:
        dirb += e[:12] + struct.pack(">II", pos, len(body)) + e[20:]
        bodies += body
        pos += len(body)
    head[24:32] = struct.pack(">II", diroff, len(new))
    out = bytes(head) + dirb + bodies
    return kept[0] + app1_segments(out) + b"".join(kept[1:])


def app1_segments(fff, size=65000):
    """The FFF bytes split over FLIR APP1 segments."""
    parts = [fff[i : i + size] for i in range(0, len(fff), size)]
    segs = b""
    for i, part in enumerate(parts):
        payload = b"FLIR\x00\x01" + bytes([i, len(parts) - 1]) + part
        segs += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return segs


def little_endian_container(data):
    """The same JPEG with the FFF header and record directory written little-endian."""
    fff, kept = split_jpeg(data)
    off, n = struct.unpack(">II", fff[24:32])
    b = bytearray(fff)
    b[20:32] = struct.pack("<III", *struct.unpack(">III", fff[20:32]))
    for i in range(n):
        at = off + 32 * i
        b[at : at + 4] = struct.pack("<HH", *struct.unpack(">HH", fff[at : at + 4]))
        b[at + 4 : at + 20] = struct.pack("<IIII", *struct.unpack(">IIII", fff[at + 4 : at + 20]))
    return kept[0] + app1_segments(bytes(b)) + b"".join(kept[1:])


def get(data, rtype):
    fff, _ = split_jpeg(data)
    for e, body in records(fff):
        if struct.unpack(">H", e[:2])[0] == rtype:
            return body
    raise KeyError(rtype)


def true_counts(data):
    """Counts of a PNG raw record (PNG words byte-swapped, as FLIR writes them)."""
    rec = get(data, 1)
    img = np.asarray(Image.open(io.BytesIO(rec[32:]))).astype(np.uint16)
    return img.byteswap()


def raw_record(counts, order):
    h, w = counts.shape
    hdr = struct.pack(order + "HHH", 2, w, h) + bytes(26)
    return hdr + counts.astype(order + "u2").tobytes()


def png_record(data, counts):
    rec = get(data, 1)
    buf = io.BytesIO()
    Image.fromarray(counts.astype(np.uint16)).save(buf, format="PNG")
    return rec[:32] + buf.getvalue()


def set_f32(rec, off, value, order="<"):
    return rec[:off] + struct.pack(order + "f", value) + rec[off + 4 :]


def camera_info_big_endian(rec):
    b = bytearray(rec)
    b[0:2] = struct.pack(">H", 2)
    for off in list(range(0x20, 0x84, 4)) + [0x308, 0x30C]:
        b[off : off + 4] = b[off : off + 4][::-1]
    for off in range(2, 0x20, 2):
        b[off : off + 2] = b[off : off + 2][::-1]
    return bytes(b)


# ----------------------------------------------------------------------------- tests
@pytest.fixture(params=FILES)
def real(request, external_data):
    path = external_data / "thermo" / "flir" / request.param
    return path, path.read_bytes(), read_flir(path)


def _write(tmp_path, path, data, tag):
    out = tmp_path / f"{path.stem}_{tag}.jpg"
    out.write_bytes(data)
    return out


@pytest.mark.parametrize(
    "variant",
    ["tiff-le", "tiff-be", "tiff-le-misstated", "png-native", "camera-info-be", "container-le"],
)
def test_re_encoded_raw_data_reads_the_same_temperatures(tmp_path, real, variant):
    path, data, expected = real
    counts = true_counts(data)
    np.testing.assert_array_equal(counts, expected["raw_counts"].values)
    if variant == "tiff-le":
        new = build(data, replace={1: raw_record(counts, "<")}, subtype={1: 2})
    elif variant == "tiff-be":
        new = build(data, replace={1: raw_record(counts, ">")}, subtype={1: 2})
    elif variant == "tiff-le-misstated":  # little-endian words, a big-endian header
        rec = raw_record(counts, ">")[:32] + counts.astype("<u2").tobytes()
        new = build(data, replace={1: rec}, subtype={1: 2})
    elif variant == "png-native":  # a PNG holding the counts in PNG's own byte order
        new = build(data, replace={1: png_record(data, counts)})
    elif variant == "camera-info-be":
        new = build(data, replace={0x20: camera_info_big_endian(get(data, 0x20))})
    else:
        new = little_endian_container(data)
    ds = read_flir(_write(tmp_path, path, new, variant))
    np.testing.assert_array_equal(ds["raw_counts"].values, counts)
    np.testing.assert_allclose(ds["temperature"].values, expected["temperature"].values)
    fmt = variant.removesuffix("-misstated")
    assert ds.attrs["flir_raw_format"] == (fmt if fmt.startswith(("tiff", "png")) else "png")


@pytest.mark.parametrize("stored", ["zero", "nan"])
def test_missing_atmosphere_constants_use_flir_typical_values(tmp_path, external_data, stored):
    # the AX8 and the example camera store FLIR's typical constants: without them in the file,
    # the same temperatures must come out (before: transmission 1 or an all-NaN refusal)
    for name in ("ax8.jpg", "flir_example.jpg"):
        path = external_data / "thermo" / "flir" / name
        data = path.read_bytes()
        expected = read_flir(path)
        assert expected.attrs["flir_atmosphere_constants"] == "file"
        cam = get(data, 0x20)
        value = 0.0 if stored == "zero" else float("nan")
        cam = cam[:0x70] + struct.pack("<5f", *[value] * 5) + cam[0x84:]
        ds = read_flir(_write(tmp_path, path, build(data, replace={0x20: cam}), stored))
        np.testing.assert_allclose(ds["temperature"].values, expected["temperature"].values)
        assert "typical" in ds.attrs["flir_atmosphere_constants"]


@pytest.mark.parametrize(
    ("offset", "kelvin", "flag"),
    [
        (0x28, 0.0, "--reflected-temp"),
        (0x2C, 0.0, "--atmospheric-temp"),
        (0x28, 1.0, "--reflected-temp"),
    ],
)
def test_temperatures_stored_as_0_k_are_one_line_errors_and_overridable(
    tmp_path, external_data, capsys, offset, kelvin, flag
):
    path = external_data / "thermo" / "flir" / "ax8.jpg"
    data = path.read_bytes()
    cam = set_f32(get(data, 0x20), offset, kelvin)
    bad = _write(tmp_path, path, build(data, replace={0x20: cam}), f"{offset}_{kelvin}")
    what = "reflected temperature" if offset == 0x28 else "atmospheric temperature"
    with pytest.raises(CalibrationError, match=what):
        read_flir(bad)
    out = tmp_path / "out.nc"
    capsys.readouterr()
    assert main(["thermo", "convert", str(bad), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("brim: error:") and bad.name in err and flag in err
    assert "\n" not in err and not out.exists()
    assert main(["thermo", "convert", str(bad), "-o", str(out), flag, "20", "--no-progress"]) == 0
    assert out.is_file()


def test_missing_or_damaged_records_name_the_file(tmp_path, external_data, capsys):
    path = external_data / "thermo" / "flir" / "FLIR0674.jpg"
    data = path.read_bytes()
    counts = true_counts(data)
    variants = {
        "no_raw": (build(data, drop={1}), "no raw thermal image"),
        "no_camera_info": (build(data, drop={0x20}), "no camera-info record"),
        "short_camera_info": (build(data, replace={0x20: get(data, 0x20)[:0x100]}), "too short"),
        "truncated_raw": (
            build(data, replace={1: raw_record(counts, "<")[:1000]}, subtype={1: 2}),
            "truncated",
        ),
    }
    for tag, (new, phrase) in variants.items():
        bad = _write(tmp_path, path, new, tag)
        with pytest.raises(FormatError, match=phrase):
            read_flir(bad)
        out = tmp_path / f"{tag}.nc"
        capsys.readouterr()
        assert main(["thermo", "convert", str(bad), "-o", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"brim: error: {bad.name}:") and phrase in err and "\n" not in err
        assert not out.exists()


def test_a_stored_emissivity_other_than_skins_is_said_with_its_effect(external_data):
    import warnings

    import brim

    flir = external_data / "thermo" / "flir"
    with pytest.warns(brim.BrimWarning, match=r"emissivity 0\.95 .* \+0\.1\d degC") as caught:
        default = read_flir(flir / "ax8.jpg")
    assert "--emissivity 0.98" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", brim.BrimWarning)
        skin = read_flir(flir / "ax8.jpg", emissivity=0.98)  # the user's choice: no warning
        read_flir(flir / "FLIR0674.jpg")  # the FLIR C5 file stores 0.98 already
    shift = float(np.median(default["temperature"].values - skin["temperature"].values))
    assert 0.1 < shift < 0.2  # the number the warning states
