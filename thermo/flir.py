"""FLIR radiometric JPEG reader: raw sensor counts to calibrated temperature.

A radiometric FLIR JPEG carries, besides the visible JPEG picture, a FLIR File Format ("FFF")
container split over APP1 segments whose payload starts with ``b"FLIR\\x00"``. Each segment
header is ``FLIR\\0``, one byte (format version), the chunk number and the index of the last
chunk; the payloads concatenated in chunk order give the FFF file. The FFF header (64 bytes,
big-endian in most files, little-endian in some: its version number tells) names the offset and
size of a record directory; each 32-byte directory entry gives a record's type, subtype, offset
and length. Record type 1 is the raw thermal image (subtype 2: 16-bit words after a 32-byte
header holding width and height, in the byte order its first word shows; subtype 3: a PNG,
whose 16-bit words are usually stored with swapped byte order), record type 0x20 the camera
information (emissivity, distance, reflected/atmospheric temperatures, humidity, Planck and
atmosphere constants). The layout facts are those documented by Phil Harvey's ExifTool FLIR
tag tables (https://exiftool.org/TagNames/FLIR.html).

The conversion of counts to temperature is the one used by FLIR cameras and documented by
ExifTool and by the ``Thermimage`` R package (Tattersall, 2017, ``raw2temp``): the object signal
is the measured signal divided by emissivity and atmospheric transmission, minus the reflected
and atmospheric contributions, and is inverted through the Planck-like calibration curve

    S = R1 / (R2 * (exp(B / T) - F)) - O          (T in kelvin)

The atmospheric transmission follows the FLIR two-term model of the water-vapour content
(Minkina & Dudzik, *Infrared Thermography: Errors and Uncertainties*, Wiley 2009, ch. 2).

Every physical parameter can be overridden; the values actually used are stored in the
Dataset's attributes (``flir_*``), together with the values stored in the file
(``flir_file_parameters``, JSON). Skin emissivity is ~0.98 (Steketee 1973, Phys. Med. Biol.
18, 686), but many FLIR files store 0.95: brim does not silently change it; pass
``emissivity=0.98`` for skin.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import asdict, dataclass, fields, replace
from io import BytesIO
from pathlib import Path

import numpy as np
import scipy.constants
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import CalibrationError, ConfigError, FormatError, MissingFileError, warn

KELVIN = scipy.constants.zero_Celsius

__all__ = [
    "FlirParameters",
    "atmospheric_transmission",
    "is_flir_radiometric",
    "raw_to_celsius",
    "read_flir",
    "read_flir_raw",
]


@dataclass(frozen=True)
class FlirParameters:
    """The physical parameters of the raw-to-temperature conversion.

    Temperatures in degC, distance in m, relative humidity as a fraction (0-1), transmissions
    dimensionless. ``atmospheric_transmission`` overrides the transmission computed from
    distance, humidity and the ``atm_*`` constants when it is not None.
    """

    emissivity: float
    object_distance: float
    reflected_temperature: float
    atmospheric_temperature: float
    relative_humidity: float
    ir_window_temperature: float
    ir_window_transmission: float
    planck_r1: float
    planck_r2: float
    planck_b: float
    planck_f: float
    planck_o: float
    atm_alpha1: float
    atm_alpha2: float
    atm_beta1: float
    atm_beta2: float
    atm_x: float
    atmospheric_transmission: float | None = None


# Public parameter names a user may override (and their CLI-friendly aliases).
_ALIASES = {
    "reflected_temp": "reflected_temperature",
    "atmospheric_temp": "atmospheric_temperature",
    "humidity": "relative_humidity",
    "distance": "object_distance",
    "R1": "planck_r1",
    "R2": "planck_r2",
    "B": "planck_b",
    "F": "planck_f",
    "O": "planck_o",
}


@dataclass
class FlirRaw:
    """Raw counts and the parameters stored in a FLIR file."""

    counts: np.ndarray
    parameters: FlirParameters
    raw_format: str
    camera_model: str
    path: Path | None = None


# ----------------------------------------------------------------------------- container
def _app1_fff(data: bytes) -> bytes:
    """Concatenate the FLIR APP1 payloads of a JPEG into the FFF container bytes."""
    if data[:2] != b"\xff\xd8":
        raise FormatError("not a JPEG file (no SOI marker): a FLIR radiometric JPEG is expected")
    pos = 2
    chunks: dict[int, bytes] = {}
    last: int | None = None
    n = len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise FormatError(f"corrupt JPEG: expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no more metadata
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > n:
            raise FormatError(f"truncated JPEG segment at byte {pos}")
        payload = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and payload[:5] == b"FLIR\x00" and len(payload) >= 8:
            num, tot = payload[6], payload[7]
            if last is not None and tot != last:
                raise FormatError("inconsistent FLIR APP1 chunk count")
            last = tot
            if num in chunks:
                raise FormatError(f"duplicate FLIR APP1 chunk {num}")
            chunks[num] = payload[8:]
        pos += 2 + length
    if not chunks or last is None:
        raise FormatError(
            "this JPEG has no FLIR APP1 (FFF) segments: it is not a radiometric FLIR image "
            "(an exported or non-radiometric JPEG holds colours, not temperatures)"
        )
    missing = [i for i in range(last + 1) if i not in chunks]
    if missing:
        raise FormatError(f"FLIR APP1 chunks {missing} are missing (truncated file?)")
    return b"".join(chunks[i] for i in range(last + 1))


def _records(fff: bytes) -> dict[int, tuple[int, int, int]]:
    """Record directory of an FFF container: type -> (subtype, offset, length)."""
    if len(fff) < 64 or fff[:4] not in (b"FFF\x00", b"AFF\x00"):
        raise FormatError("FLIR APP1 data is not an FFF container (bad magic)")
    # The header and directory are big-endian in most files, little-endian in some; the
    # format version (100-199, at byte 20) tells which (ExifTool's FLIR tag notes).
    e = ">"
    if not 100 <= struct.unpack(">I", fff[20:24])[0] < 200:
        if 100 <= struct.unpack("<I", fff[20:24])[0] < 200:
            e = "<"
    dir_offset, dir_count = struct.unpack(e + "II", fff[24:32])
    if dir_offset + 32 * dir_count > len(fff):
        raise FormatError("FLIR FFF record directory runs past the end of the data")
    out: dict[int, tuple[int, int, int]] = {}
    for i in range(dir_count):
        entry = fff[dir_offset + 32 * i : dir_offset + 32 * (i + 1)]
        rtype, subtype = struct.unpack(e + "HH", entry[:4])
        offset, length = struct.unpack(e + "II", entry[12:20])
        if rtype == 0 or rtype in out:
            continue
        if offset + length > len(fff):
            raise FormatError(f"FLIR record type {rtype} runs past the end of the data")
        out[rtype] = (subtype, offset, length)
    return out


def _endian(rec: bytes) -> str:
    """Byte order of a FLIR record from its leading 16-bit byte-order word (0x0002)."""
    return "<" if struct.unpack("<H", rec[:2])[0] in (1, 2) else ">"


def _roughness(words: np.ndarray) -> float:
    """Mean absolute difference of neighbouring pixels, in counts."""
    w = words.astype(np.float64)
    steps = [np.abs(np.diff(w, axis=a)).ravel() for a in range(w.ndim) if w.shape[a] > 1]
    return float(np.concatenate(steps).mean()) if steps else 0.0


def _smoother_byte_order(words: np.ndarray) -> tuple[np.ndarray, bool]:
    """``words`` in the expected byte order, or swapped (and True) when that is smoother.

    The right order gives a smooth image (the high bytes of neighbours differ little); the
    wrong one puts the noisy low byte on top (steps of ~256 counts). Ties keep the expected.
    """
    swapped = words.byteswap()
    if _roughness(swapped) < _roughness(words):
        return swapped, True
    return words, False


def _raw_image(rec: bytes, subtype: int) -> tuple[np.ndarray, str]:
    e = _endian(rec)
    width, height = struct.unpack(e + "HH", rec[2:6])
    if width == 0 or height == 0:
        raise FormatError("FLIR raw-data record declares an empty image")
    body = rec[32:]
    if body[:8] == b"\x89PNG\r\n\x1a\n":
        from PIL import Image

        try:
            img = np.asarray(Image.open(BytesIO(body)))
        except Exception as exc:  # noqa: BLE001 - PIL raises many kinds
            raise FormatError(f"FLIR raw PNG cannot be decoded: {exc}") from exc
        # FLIR writes the PNG's 16-bit samples little-endian, PNG mandates big-endian: the
        # decoded words usually have their bytes swapped, but not from every camera or
        # re-encoder.
        words = img.astype(np.uint16)
        counts, swapped = _smoother_byte_order(words.byteswap())
        fmt = "png-native" if swapped else "png"
    else:
        need = 2 * width * height
        if len(body) < need:
            raise FormatError(
                f"FLIR raw data truncated: {len(body)} bytes for a {width}x{height} image"
            )
        words = np.frombuffer(body[:need], dtype=e + "u2").reshape(height, width)
        counts, swapped = _smoother_byte_order(words)  # words whose order the header misstates
        fmt = "tiff-le" if (e == "<") != swapped else "tiff-be"
    if counts.shape != (height, width):
        raise FormatError(
            f"FLIR raw image has shape {counts.shape}, the header says {(height, width)}"
        )
    return np.ascontiguousarray(counts, dtype=np.uint16), fmt


def _camera_info(rec: bytes) -> tuple[FlirParameters, str]:
    e = _endian(rec)

    def f32(off: int) -> float:
        return float(struct.unpack(e + "f", rec[off : off + 4])[0])

    if len(rec) < 0x310:
        raise FormatError("FLIR camera-info record too short to hold the Planck constants")
    rh = f32(0x3C)
    if rh > 1.0:  # some firmware stores percent
        rh /= 100.0
    params = FlirParameters(
        emissivity=f32(0x20),
        object_distance=f32(0x24),
        reflected_temperature=f32(0x28) - KELVIN,
        atmospheric_temperature=f32(0x2C) - KELVIN,
        ir_window_temperature=f32(0x30) - KELVIN,
        ir_window_transmission=f32(0x34),
        relative_humidity=rh,
        planck_r1=f32(0x58),
        planck_b=f32(0x5C),
        planck_f=f32(0x60),
        atm_alpha1=f32(0x70),
        atm_alpha2=f32(0x74),
        atm_beta1=f32(0x78),
        atm_beta2=f32(0x7C),
        atm_x=f32(0x80),
        planck_o=float(struct.unpack(e + "i", rec[0x308:0x30C])[0]),
        planck_r2=f32(0x30C),
    )
    model = rec[0xD4 : 0xD4 + 32].split(b"\x00", 1)[0].decode("latin-1", "replace").strip()
    return params, model


def read_flir_raw(path: str | os.PathLike) -> FlirRaw:
    """Read the raw counts and stored parameters of a FLIR radiometric JPEG.

    Parameters
    ----------
    path : path-like
        The JPEG.

    Returns
    -------
    FlirRaw
        The raw sensor counts and the camera's stored :class:`FlirParameters`.

    Raises
    ------
    FormatError
        The file is not a radiometric FLIR JPEG, or it is truncated.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"no such file: {p}")
    data = p.read_bytes()
    try:  # the layout errors say what is wrong; the file they are about is named here
        fff = _app1_fff(data)
        recs = _records(fff)
        if 1 not in recs:
            raise FormatError("FLIR data hold no raw thermal image (not radiometric)")
        if 0x20 not in recs:
            raise FormatError("FLIR data hold no camera-info record (no calibration)")
        sub, off, ln = recs[1]
        counts, fmt = _raw_image(fff[off : off + ln], sub)
        sub, off, ln = recs[0x20]
        params, model = _camera_info(fff[off : off + ln])
    except FormatError as exc:
        raise FormatError(f"{p.name}: {exc}") from None
    return FlirRaw(counts=counts, parameters=params, raw_format=fmt, camera_model=model, path=p)


def is_flir_radiometric(path: str | os.PathLike) -> bool:
    """True when ``path`` is a FLIR JPEG with raw radiometric data.

    Parameters
    ----------
    path : path-like
        Any file; a file that is not a radiometric FLIR JPEG (or is missing) gives False.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> Image.fromarray(np.zeros((4, 4), np.uint8)).save("plain.jpg")  # no FLIR data
    >>> is_flir_radiometric("plain.jpg"), is_flir_radiometric("missing.jpg")
    (False, False)
    """
    try:
        read_flir_raw(path)
    except (FormatError, MissingFileError):
        return False
    return True


# ----------------------------------------------------------------------------- physics
def water_vapour(relative_humidity: float, temperature: float) -> float:
    """Water-vapour content used by the FLIR transmission model (H2O, in mmol/mol-like units).

    ``H2O = RH * exp(1.5587 + 0.06939 T - 2.7816e-4 T^2 + 6.8455e-7 T^3)``, T in degC.

    Parameters
    ----------
    relative_humidity : float
        Relative humidity, fraction in [0, 1].
    temperature : float
        Air temperature, degC.

    Returns
    -------
    float
        H2O of the FLIR model.
    """
    t = temperature
    return relative_humidity * math.exp(
        1.5587 + 0.06939 * t - 0.00027816 * t**2 + 0.00000068455 * t**3
    )


# The constants of the FLIR atmosphere model that most cameras store: the defaults of
# atmospheric_transmission, and what read_flir uses when a file stores none (all zero) or
# unreadable ones.
_FLIR_ATMOSPHERE = {
    "atm_alpha1": 0.006569,
    "atm_alpha2": 0.01262,
    "atm_beta1": -0.002276,
    "atm_beta2": -0.00667,
    "atm_x": 1.9,
}


def atmospheric_transmission(
    distance: float,
    relative_humidity: float,
    temperature: float,
    *,
    alpha1: float = _FLIR_ATMOSPHERE["atm_alpha1"],
    alpha2: float = _FLIR_ATMOSPHERE["atm_alpha2"],
    beta1: float = _FLIR_ATMOSPHERE["atm_beta1"],
    beta2: float = _FLIR_ATMOSPHERE["atm_beta2"],
    x: float = _FLIR_ATMOSPHERE["atm_x"],
) -> float:
    """Atmospheric transmission over ``distance`` (m) by the FLIR two-term model.

    ``tau = X exp(-sqrt(d) (a1 + b1 sqrt(H2O))) + (1 - X) exp(-sqrt(d) (a2 + b2 sqrt(H2O)))``
    (defaults: the constants typical of FLIR cameras; pass the file's). Dimensionless.

    Parameters
    ----------
    distance : float
        Object distance, m.
    relative_humidity : float
        Relative humidity, fraction in [0, 1].
    temperature : float
        Air temperature, degC.
    alpha1, alpha2, beta1, beta2, x : float
        The model's constants (the file's ``Alpha1`` ... ``X``).

    Returns
    -------
    float
        Transmission tau in [0, 1].
    """
    h2o = water_vapour(relative_humidity, temperature)
    sd = math.sqrt(max(distance, 0.0))
    return x * math.exp(-sd * (alpha1 + beta1 * math.sqrt(h2o))) + (1 - x) * math.exp(
        -sd * (alpha2 + beta2 * math.sqrt(h2o))
    )


def _stored_atmosphere(p: FlirParameters) -> tuple[FlirParameters, str]:
    """The file's atmosphere constants, or FLIR's typical ones where it stores none."""
    stored = [getattr(p, k) for k in _FLIR_ATMOSPHERE]
    if all(math.isfinite(v) for v in stored) and any(v != 0 for v in stored):
        return p, "file"
    # all zero gave transmission 1 (no absorption at any distance), NaN an all-NaN image
    return replace(p, **_FLIR_ATMOSPHERE), "FLIR typical values (the file stores none)"


def _planck_signal(t_c: float, p: FlirParameters, name: str) -> float:
    t = t_c + KELVIN
    if not t > 0:
        raise CalibrationError(
            f"{name.replace('_', ' ')} {t_c:g} degC is at or below absolute zero"
        )
    try:
        return p.planck_r1 / (p.planck_r2 * (math.exp(p.planck_b / t) - p.planck_f)) - p.planck_o
    except (OverflowError, ZeroDivisionError):  # a few kelvin: exp(B / T) overflows
        raise CalibrationError(
            f"{name.replace('_', ' ')} {t_c:g} degC ({t:g} K) lies off the camera's "
            "calibration curve (a value stored as 0 K?)"
        ) from None


def raw_to_celsius(counts: ArrayLike, parameters: FlirParameters) -> np.ndarray:
    """Convert raw FLIR counts to object temperature in degC.

    The optical path camera -> (half the distance) -> IR window -> (half) -> object is
    modelled as in FLIR firmware (Thermimage ``raw2temp``): with transmissions tau1 = tau2
    over each half and window transmission IRT,

        S_obj = S / (E tau1 IRT tau2) - (1-E)/E S(T_refl) - (1-tau1)/(E tau1) S(T_atm)
                - (1-IRT)/(E tau1 IRT) S(T_win) - (1-tau2)/(E tau1 IRT tau2) S(T_atm)

        T = B / ln(R1 / (R2 (S_obj + O)) + F)

    Parameters
    ----------
    counts : array_like
        Raw sensor counts (16-bit words, dimensionless).
    parameters : FlirParameters
        The conversion constants (temperatures in degC).

    Returns
    -------
    numpy.ndarray
        Object temperature in degC (float64). NaN where the signal lies outside the
        calibration curve.

    Examples
    --------
    A black body (emissivity 1) at zero distance, with typical Planck constants:

    >>> p = FlirParameters(
    ...     emissivity=1.0, object_distance=0.0, reflected_temperature=20.0,
    ...     atmospheric_temperature=20.0, relative_humidity=0.5, ir_window_temperature=20.0,
    ...     ir_window_transmission=1.0, planck_r1=16985.7, planck_r2=0.0197852,
    ...     planck_b=1435.7, planck_f=1.0, planck_o=-2106.0, atm_alpha1=0.006569,
    ...     atm_alpha2=0.01262, atm_beta1=-0.002276, atm_beta2=-0.00667, atm_x=1.9,
    ... )
    >>> raw_to_celsius([9000, 10193, 11000], p).round(1).tolist()  # degC
    [23.9, 34.0, 40.3]
    """
    p = parameters
    for name in (
        "object_distance",
        "reflected_temperature",
        "atmospheric_temperature",
        "ir_window_temperature",
    ):
        if not math.isfinite(getattr(p, name)):
            raise CalibrationError(
                f"{name.replace('_', ' ')} must be finite, got {getattr(p, name)}"
            )
    # The calibration curve S = R1 / (R2 (exp(B / T) - F)) - O is Planck's law for one effective
    # wavelength: B = h c / (k lambda_eff) is a positive temperature (~1400 K at 8-14 um), R1
    # and R2 are positive gains, F (~1) and O are finite. Other values are a corrupt file
    # (R1 = 0 gave an all-NaN image, B = -1400 K gave -706 degC, below absolute zero).
    for name, low in (("planck_r1", 0.0), ("planck_r2", 0.0), ("planck_b", 0.0)):
        v = getattr(p, name)
        if not (math.isfinite(v) and v > low):
            raise CalibrationError(
                f"Planck constant {name[7:].upper()} must be a finite number > 0, got {v} "
                "(a corrupt file? give the camera's value with the override)"
            )
    for name in ("planck_f", "planck_o"):
        if not math.isfinite(getattr(p, name)):
            raise CalibrationError(
                f"Planck constant {name[7:].upper()} must be finite, got {getattr(p, name)}"
            )
    if not (0 < p.emissivity <= 1):
        raise CalibrationError(f"emissivity must lie in (0, 1], got {p.emissivity}")
    if not (0 <= p.relative_humidity <= 1):
        raise CalibrationError(
            f"relative humidity must be a fraction in [0, 1], got {p.relative_humidity} "
            "(give 0.5 for 50 %)"
        )
    if p.object_distance < 0:
        raise CalibrationError(f"object distance must be >= 0 m, got {p.object_distance}")
    if not (0 < p.ir_window_transmission <= 1):
        raise CalibrationError(
            f"IR window transmission must lie in (0, 1], got {p.ir_window_transmission}"
        )
    if p.atmospheric_transmission is not None:
        if not (0 < p.atmospheric_transmission <= 1):
            raise CalibrationError(
                f"atmospheric transmission must lie in (0, 1], got {p.atmospheric_transmission}"
            )
        tau = math.sqrt(p.atmospheric_transmission)
    else:
        tau = atmospheric_transmission(
            p.object_distance / 2.0,
            p.relative_humidity,
            p.atmospheric_temperature,
            alpha1=p.atm_alpha1,
            alpha2=p.atm_alpha2,
            beta1=p.atm_beta1,
            beta2=p.atm_beta2,
            x=p.atm_x,
        )
    e, irt = p.emissivity, p.ir_window_transmission
    s_refl = _planck_signal(p.reflected_temperature, p, "reflected_temperature")
    s_atm = _planck_signal(p.atmospheric_temperature, p, "atmospheric_temperature")
    s_win = _planck_signal(p.ir_window_temperature, p, "ir_window_temperature")
    offset = (
        (1 - e) / e * s_refl
        + (1 - tau) / (e * tau) * s_atm
        + (1 - irt) / (e * tau * irt) * s_win
        + (1 - tau) / (e * tau * irt * tau) * s_atm
    )
    s = np.asarray(counts, dtype=np.float64) / (e * tau * irt * tau) - offset
    arg = p.planck_r1 / (p.planck_r2 * (s + p.planck_o)) + p.planck_f
    with np.errstate(invalid="ignore", divide="ignore"):
        t = p.planck_b / np.log(arg)
    t = np.where((arg > 1) & np.isfinite(t), t, np.nan)
    return t - KELVIN


def _apply_overrides(p: FlirParameters, overrides: dict) -> FlirParameters:
    names = {f.name for f in fields(FlirParameters)}
    clean = {}
    for k, v in overrides.items():
        if v is None:
            continue
        key = _ALIASES.get(k, k)
        if key not in names:
            raise ConfigError(
                f"unknown FLIR parameter {k!r}; known: {', '.join(sorted(names | set(_ALIASES)))}"
            )
        clean[key] = float(v)
    return replace(p, **clean)


_SKIN_EMISSIVITY = 0.98  # Steketee 1973, Phys. Med. Biol. 18, 686


def _warn_stored_emissivity(
    counts: np.ndarray, temp: np.ndarray, used: FlirParameters, name: str
) -> None:
    """Say so when the file's emissivity (not the user's) is not skin's, and by how much."""
    if abs(used.emissivity - _SKIN_EMISSIVITY) <= 0.005:
        return
    skin = raw_to_celsius(counts, replace(used, emissivity=_SKIN_EMISSIVITY))
    with np.errstate(invalid="ignore"):
        shift = np.nanmedian(temp - skin) if np.isfinite(temp - skin).any() else math.nan
    warn(
        f"{name}: the file's emissivity {used.emissivity:.2f} is not skin's "
        f"({_SKIN_EMISSIVITY}): its temperatures differ from skin's by {shift:+.2f} degC "
        "(median); for skin pass emissivity=0.98 (CLI: --emissivity 0.98)"
    )


@provenance.step
def read_flir(path: str | os.PathLike, **overrides) -> xr.Dataset:
    """Read a FLIR radiometric JPEG as a brim ``thermogram`` (temperature in degC).

    Parameters
    ----------
    path : path-like
        A radiometric FLIR JPEG.
    **overrides : float
        Any :class:`FlirParameters` field (``emissivity``, ``object_distance`` [m],
        ``reflected_temperature`` [degC], ``atmospheric_temperature`` [degC],
        ``relative_humidity`` [0-1], ``atmospheric_transmission`` [0-1], ``planck_r1``...),
        or the aliases ``reflected_temp``, ``atmospheric_temp``, ``humidity``, ``distance``,
        ``R1``, ``R2``, ``B``, ``F``, ``O``. ``None`` means "use the file's value".

    Returns
    -------
    xarray.Dataset
        ``temperature`` (y, x) in degC, ``raw_counts`` (y, x), attributes ``flir_<name>`` for
        every parameter used, ``flir_file_parameters`` (JSON of the stored values),
        ``flir_raw_format`` ("png": byte-swapped PNG words as FLIR writes them, "png-native",
        "tiff-le"/"tiff-be"), ``flir_atmosphere_constants`` ("file", or FLIR's typical
        values where the file stores none), ``camera_model``.

    Raises
    ------
    FormatError
        Not a radiometric FLIR JPEG.
    CalibrationError
        A parameter is physically impossible.

    Examples
    --------
    >>> ds = read_flir("IR_0042.jpg", emissivity=0.98)  # doctest: +SKIP
    >>> ds.temperature.attrs["units"]  # doctest: +SKIP
    'degC'

    An exported (colour) JPEG holds no temperatures and is refused:

    >>> import numpy as np
    >>> from PIL import Image
    >>> from brim.errors import FormatError
    >>> Image.fromarray(np.zeros((4, 4), np.uint8)).save("export.jpg")
    >>> try:
    ...     read_flir("export.jpg")
    ... except FormatError as err:
    ...     print(type(err).__name__)
    FormatError
    """
    from brim.schema import stamp

    raw = read_flir_raw(path)
    name = Path(path).name
    stored, atmosphere = _stored_atmosphere(raw.parameters)
    used = _apply_overrides(stored, overrides)
    try:
        temp = raw_to_celsius(raw.counts, used)
    except CalibrationError as exc:
        raise CalibrationError(
            f"{name}: {exc}; a value you did not give is the file's: override it (Python: "
            "read_flir(path, emissivity=0.98, ...); CLI: --emissivity, --reflected-temp, "
            "--atmospheric-temp, --humidity, --distance)"
        ) from None
    if "emissivity" not in overrides or overrides["emissivity"] is None:
        _warn_stored_emissivity(raw.counts, temp, used, name)
    if temp.size and not np.isfinite(temp).any():
        raise CalibrationError(
            f"{name}: no pixel's signal lies on the calibration curve (all "
            "temperatures NaN): the Planck constants or object parameters do not match the counts"
        )
    h, w = raw.counts.shape
    ds = xr.Dataset(
        {
            "temperature": (("y", "x"), temp, {"units": "degC", "long_name": "object temperature"}),
            "raw_counts": (
                ("y", "x"),
                raw.counts,
                {"units": "1", "long_name": "raw sensor counts"},
            ),
        },
        coords={
            "y": ("y", np.arange(h, dtype=float), {"units": "px"}),
            "x": ("x", np.arange(w, dtype=float), {"units": "px"}),
        },
    )
    attrs = {f"flir_{k}": v for k, v in asdict(used).items() if v is not None}
    attrs.update(
        flir_file_parameters=json.dumps(asdict(raw.parameters), sort_keys=True),
        flir_overridden=json.dumps(sorted(k for k, v in overrides.items() if v is not None)),
        flir_raw_format=raw.raw_format,
        flir_atmosphere_constants=atmosphere,
        camera_model=raw.camera_model,
        source_format="flir_radiometric_jpeg",
        source_file=name,
        units_note="temperature in degC; distance m; humidity fraction",
    )
    ds.attrs.update(attrs)
    from brim.schema import check_ranges

    check_ranges(ds, "thermogram")  # e.g. -706 degC from a corrupt constant: refused here
    ds = stamp(ds, "thermogram")
    return ds
