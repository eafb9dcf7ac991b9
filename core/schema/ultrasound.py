"""Specs for ultrasound: beamformed RF frames, raw channel data and strain images."""

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

STRAIN_IMAGE = Spec(
    kind="strain_image",
    version=1,
    description=(
        "Quasi-static elastography result on (depth, line): the signed axial strain "
        "(dimensionless, negative under compression; NaN where the estimate window leaves the "
        "image) and, optionally, the normalised correlation of the displacement estimate."
    ),
    variables=(
        VarSpec(
            "strain",
            dims=(("depth", "line"),),
            dtype="float",
            units=("1",),
            allow_nan=True,
            leading=("frame",),
            doc="axial strain d u_z / d z",
        ),
        VarSpec(
            "correlation",
            dims=(("depth", "line"),),
            dtype="float",
            units=("1",),
            allow_nan=True,
            required=False,
            leading=("frame",),
        ),
    ),
    coords=(
        VarSpec("depth", dims=(("depth",),), dtype="real", units=("m",), doc="depth (m)"),
        VarSpec("line", dims=(("line",),), dtype="real", units=("m",), doc="lateral (m)"),
    ),
)

SPECS = (RF_FRAMES, CHANNEL_DATA, STRAIN_IMAGE)
