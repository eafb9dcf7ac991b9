"""Specs for ultrasound: beamformed RF frames and raw channel data."""

from brim.schema._spec import Spec, VarSpec

_SCALARS = (
    VarSpec("sampling_frequency", dims=((),), dtype="real", units=("Hz",), leading=()),
    VarSpec("center_frequency", dims=((),), dtype="real", units=("Hz",), leading=()),
    VarSpec("sound_speed", dims=((),), dtype="real", units=("m/s",), leading=()),
)

RF_FRAMES = Spec(
    kind="rf_frames",
    version=1,
    description=(
        "Beamformed RF (real) or IQ (complex) lines, dims (frame, depth, line); the sampling "
        "frequency, centre frequency, speed of sound and line pitch are 0-d variables."
    ),
    variables=(
        VarSpec("rf", dims=(("frame", "depth", "line"),), dtype="numeric"),
        *_SCALARS,
        VarSpec("pitch", dims=((),), dtype="real", units=("m",), leading=()),
    ),
    coords=(
        VarSpec("depth", dims=(("depth",),), dtype="real", units=("m",)),
        VarSpec("line", dims=(("line",),), dtype="real", units=("m",)),
    ),
)

CHANNEL_DATA = Spec(
    kind="channel_data",
    version=1,
    description=(
        "Raw per-element receive data, dims (frame, tx, element, sample), with transmit angles "
        "(rad) per tx and element positions (m) as coordinates."
    ),
    variables=(
        VarSpec("channel", dims=(("frame", "tx", "element", "sample"),), dtype="numeric"),
        *_SCALARS,
    ),
    coords=(
        VarSpec("element_x", dims=(("element",),), dtype="real", units=("m",)),
        VarSpec("angle", dims=(("tx",),), dtype="real", units=("rad",), doc="plane-wave angle"),
    ),
)

SPECS = (RF_FRAMES, CHANNEL_DATA)
