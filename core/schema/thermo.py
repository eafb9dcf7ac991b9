"""Specs for infrared thermography."""

from brim.schema._spec import Spec, VarSpec

_PIXEL = ("m", "mm", "px")

THERMOGRAM = Spec(
    kind="thermogram",
    version=1,
    description=(
        "Calibrated skin temperature in degC, one frame (y, x) or a series (time, y, x). "
        "NaN marks pixels outside the field of interest."
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
    ),
    coords=(
        VarSpec("y", dims=(("y",),), dtype="real", units=_PIXEL, doc="image row position"),
        VarSpec("x", dims=(("x",),), dtype="real", units=_PIXEL, doc="image column position"),
        VarSpec("time", dims=(("time",),), dtype="real", units=("s",), required=False),
    ),
)

THERMAL_INTENSITY = Spec(
    kind="thermal_intensity",
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
        VarSpec("mask", dims=(("y", "x"),), dtype="label", required=False),
    ),
    coords=(
        VarSpec("y", dims=(("y",),), dtype="real", units=_PIXEL),
        VarSpec("x", dims=(("x",),), dtype="real", units=_PIXEL),
    ),
)

SPECS = (THERMOGRAM, THERMAL_INTENSITY)
