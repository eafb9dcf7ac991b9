"""Specs for near-infrared diffuse optics."""

from brim.schema._spec import Spec, VarSpec

_MEAS = (("wavelength", "source", "detector"),)

OPTICAL_MEASUREMENT = Spec(
    kind="optical_measurement",
    version=1,
    description=(
        "Source-detector measurements (amplitude and phase) per wavelength; source/detector "
        "positions in mm as coordinates; the modulation frequency (0 Hz for CW) as a 0-d variable."
    ),
    variables=(
        VarSpec("amplitude", dims=_MEAS, dtype="float", units=("1", "V", "W", "counts")),
        VarSpec("phase", dims=_MEAS, dtype="float", units=("rad",)),
        VarSpec("modulation_frequency", dims=((),), dtype="real", units=("Hz",), leading=()),
    ),
    coords=(
        VarSpec("wavelength", dims=(("wavelength",),), dtype="real", units=("nm",)),
        VarSpec("source_x", dims=(("source",),), dtype="real", units=("mm",)),
        VarSpec("source_y", dims=(("source",),), dtype="real", units=("mm",)),
        VarSpec("detector_x", dims=(("detector",),), dtype="real", units=("mm",)),
        VarSpec("detector_y", dims=(("detector",),), dtype="real", units=("mm",)),
    ),
)

SPECS = (OPTICAL_MEASUREMENT,)
