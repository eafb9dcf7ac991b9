"""Specs for infrared thermography."""

from dataclasses import replace

from brim.schema._spec import Range, Spec, VarSpec

_PIXEL = ("m", "mm", "px")

THERMOGRAM = Spec(
    kind="thermogram",
    reader="brim.thermo.read",
    version=1,
    description=(
        "Calibrated skin temperature in degC, one frame (y, x) or a series (time, y, x). "
        "NaN marks pixels outside the field of interest; an optional `mask`: the breast "
        "region from the source's own segmentation (DMR -esq/-dir crops)."
    ),
    variables=(
        VarSpec(
            "temperature",
            dims=(("y", "x"), ("time", "y", "x")),
            dtype="float",
            units=("degC",),
            allow_nan=True,
            leading=("scan", "view"),
        ),
        # the breast region from the source's own segmentation (the DMR -esq/-dir crops
        # beside a matrix): one mask, or one per frame of a series
        VarSpec(
            "mask",
            dims=(("y", "x"), ("time", "y", "x")),
            dtype="label",
            required=False,
            doc="breast region from the source's own segmentation (DMR -esq/-dir crops)",
        ),
    ),
    coords=(
        VarSpec("y", dims=(("y",),), dtype="real", units=_PIXEL, doc="image row position"),
        VarSpec("x", dims=(("x",),), dtype="real", units=_PIXEL, doc="image column position"),
        VarSpec("time", dims=(("time",),), dtype="real", units=("s",), required=False),
    ),
)

THERMAL_INTENSITY = Spec(
    kind="thermal_intensity",
    reader="brim.thermo.read",
    version=1,
    description=(
        "An uncalibrated thermal image (e.g. 8-bit grey export): intensity in arbitrary units "
        "('1'), NOT a temperature; an optional `mask` from the alpha channel."
    ),
    variables=(
        VarSpec(
            "intensity",
            dims=(("y", "x"), ("time", "y", "x")),
            dtype="real",
            units=("1",),
            allow_nan=True,
            leading=("scan", "view"),
        ),
        # one mask, or one per frame of a series (a folder of DMR -esq/-dir crops)
        VarSpec("mask", dims=(("y", "x"), ("time", "y", "x")), dtype="label", required=False),
    ),
    coords=(
        VarSpec("y", dims=(("y",),), dtype="real", units=_PIXEL),
        VarSpec("x", dims=(("x",),), dtype="real", units=_PIXEL),
    ),
)

# Plausible ranges (brim.schema._spec.Range): values outside them are refused on validation.
# A thermogram shows skin (15-45 degC; Ring & Ammer, "Infrared thermal imaging in medicine",
# Physiol. Meas. 33:R33, 2012) but also the room and objects around the patient, so the bound is
# the standard measuring range of the FLIR SC620 that recorded DMR-IR (-40 to +150 degC): a
# value outside it cannot be a calibrated reading of that band (a corrupt Planck constant gave
# -706 degC, a flipped exponent bit 5571 degC).
_CAMERA_RANGE = "the -40..150 degC band of medical thermal cameras (FLIR SC620)"
THERMOGRAM = replace(
    THERMOGRAM,
    ranges=(
        Range("temperature", -40.0, 150.0, ("degC",), _CAMERA_RANGE),
        Range("reflected_temperature", -40.0, 150.0, ("degC",), _CAMERA_RANGE),
        Range("ambient_temperature", -40.0, 150.0, ("degC",), _CAMERA_RANGE),
        # emissivity is a fraction of black-body emission (Kirchhoff): 0 < e <= 1
        Range("emissivity", 0.0, 1.0, ("1",), "a fraction of black-body emission"),
    ),
)
# Grey levels of 8- or 16-bit image exports.
THERMAL_INTENSITY = replace(
    THERMAL_INTENSITY,
    ranges=(Range("intensity", 0.0, 65535.0, ("1",), "grey levels of an 8- or 16-bit image"),),
)

SPECS = (THERMOGRAM, THERMAL_INTENSITY)

# What a thermal image step (segmentation, features) takes: calibrated degC or grey levels.
IMAGE_KINDS = (THERMOGRAM.kind, THERMAL_INTENSITY.kind)
