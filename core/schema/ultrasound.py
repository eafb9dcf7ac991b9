"""Specs for ultrasound: beamformed RF frames, raw channel data and strain images."""

from dataclasses import replace

from brim.schema._spec import Range, Spec, VarSpec

_SCALARS = (
    VarSpec("sampling_frequency", dims=((),), dtype="real", units=("Hz",), leading=()),
    VarSpec("center_frequency", dims=((),), dtype="real", units=("Hz",), leading=()),
    VarSpec("sound_speed", dims=((),), dtype="real", units=("m/s",), leading=()),
)

RF_FRAMES = Spec(
    kind="rf_frames",
    reader="brim.elasto.read_rf",
    builder="brim.elasto.make_rf_frames",
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
    reader="brim.elasto.read_channel",
    builder="brim.elasto.make_channel_data",
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
    builder="brim.elasto.strain_image",
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

# Plausible ranges (brim.schema._spec.Range), refused on validation.
# RF and channel samples are ADC words (at most 2**16) or volts; delay-and-sum over <= 2**10
# elements and compounding over <= 2**8 angles stays below 2**34 ~ 1.7e10: 1e12 is a generous
# bound that still catches flipped exponent bits (1e300).
_ADC = "ADC words (< 2**16) summed over <= 2**18 elements and angles"
# Speed of sound: soft tissue 1400-1650 m/s, water 1480 m/s (Duck, Physical Properties of
# Tissue, 1990); 1000-2000 m/s also admits phantom gels and oils.
_SOUND = "soft tissue 1400-1650 m/s (Duck 1990)"
# Medical ultrasound transmits at 1-50 MHz and samples at up to a few hundred MHz.
_FC = "medical ultrasound transmits at 1-50 MHz"
_FS = "ultrasound ADCs sample at 1-500 MHz"
# Linear and phased arrays have element pitches of 0.05-1 mm.
_PITCH = "array element pitch is 0.05-1 mm"
_US_SCALARS = (
    Range("sampling_frequency", 1e5, 1e10, ("Hz",), _FS),
    Range("center_frequency", 1e4, 1e9, ("Hz",), _FC),
    Range("sound_speed", 1000.0, 2000.0, ("m/s",), _SOUND),
)
RF_FRAMES = replace(
    RF_FRAMES,
    ranges=(
        Range("rf", -1e12, 1e12, (), _ADC),
        *_US_SCALARS,
        Range("pitch", 1e-6, 5e-3, ("m",), _PITCH),
    ),
)
CHANNEL_DATA = replace(
    CHANNEL_DATA,
    ranges=(Range("channel", -1e12, 1e12, (), _ADC), *_US_SCALARS),
)
# Quasi-static elastography compresses by 0.1-5 %; the small-strain model behind a strain
# image is meaningless beyond |strain| = 1 (100 %). A correlation coefficient lies in [-1, 1].
STRAIN_IMAGE = replace(
    STRAIN_IMAGE,
    ranges=(
        Range("strain", -1.0, 1.0, ("1",), "compression of 0.1-5 %, never 100 %"),
        Range("correlation", -1.0, 1.0, ("1",), "a correlation coefficient"),
    ),
)

SPECS = (RF_FRAMES, CHANNEL_DATA, STRAIN_IMAGE)
