"""Specs for microwave imaging: S-parameter scans and tomography field sets."""

from dataclasses import replace

from brim.schema._spec import Range, Spec, VarSpec

_POS = ("m",)

SPARAMETER_SCAN = Spec(
    kind="sparameter_scan",
    reader="brim.microwave.open_scan",
    builder="brim.microwave.make_scan",
    version=1,
    description=(
        "Complex S-parameters from a VNA over a frequency sweep: multistatic (freq, tx, rx), "
        "a list of measured channels (freq, channel) with `tx`/`rx` antenna indices as channel "
        "coordinates, or monostatic (freq, position). Antenna positions in metres as coordinates."
    ),
    variables=(
        VarSpec(
            "s",
            dims=(("freq", "tx", "rx"), ("freq", "channel"), ("freq", "position")),
            dtype="complex",
            units=("1",),
        ),
    ),
    coords=(
        VarSpec("freq", dims=(("freq",),), dtype="real", units=("Hz",), doc="frequency in Hz"),
    ),
)

FIELD_SET = Spec(
    kind="field_set",
    reader="brim.microwave.read_field_table",
    builder="brim.microwave.field_set_dataset",
    version=1,
    description=(
        "Measured or simulated fields for tomography: total and incident field per "
        "(freq, tx, rx); an optional boolean `mask` marks measured transmitter-receiver pairs."
    ),
    variables=(
        VarSpec("total_field", dims=(("freq", "tx", "rx"),), dtype="complex", units=("V/m", "1")),
        VarSpec(
            "incident_field", dims=(("freq", "tx", "rx"),), dtype="complex", units=("V/m", "1")
        ),
        VarSpec("mask", dims=(("tx", "rx"), ("freq", "tx", "rx")), dtype="bool", required=False),
    ),
    coords=(
        VarSpec("freq", dims=(("freq",),), dtype="real", units=("Hz",)),
        VarSpec("tx_x", dims=(("tx",),), dtype="real", units=_POS),
        VarSpec("tx_y", dims=(("tx",),), dtype="real", units=_POS),
        VarSpec("rx_x", dims=(("rx",),), dtype="real", units=_POS),
        VarSpec("rx_y", dims=(("rx",),), dtype="real", units=_POS),
    ),
)

# Plausible ranges (brim.schema._spec.Range), refused on validation.
# S-parameters of the passive antenna array obey |S| <= 1 (passivity: no port returns more
# power than it receives; Pozar, Microwave Engineering, 4th ed., section 4.3); calibrated or
# normalised data may exceed 1 a little, so the bound is 10 (20 dB above passivity).
_PASSIVE = "a passive antenna array has |S| <= 1; 10 allows calibration errors"
# Microwave breast imaging works from 0.5 to 10 GHz (MERIT: 1.5-4.5 GHz); the bound is the
# whole microwave / mm-wave band, 1 MHz to 300 GHz.
_BAND = "the microwave band, 1 MHz to 300 GHz"
# Fields: the electric field in tissue stays far below the 3 MV/m breakdown field of air;
# normalised fields (units "1") are of order 1.
_FIELD = "fields stay far below the 3 MV/m breakdown field of air"
# Antennas ring a breast or, on free-space test ranges (e.g. the Institut Fresnel data, ~1.7 m),
# an object: no coordinate is more than 5 m from the imaging centre (mm given as m fail).
_POSITION = "antennas lie within 5 m of the imaging centre"
SPARAMETER_SCAN = replace(
    SPARAMETER_SCAN,
    ranges=(
        Range("s", 0.0, 10.0, ("1",), _PASSIVE),
        Range("s_reference", 0.0, 10.0, ("1",), _PASSIVE),
        Range("freq", 1e6, 3e11, ("Hz",), _BAND),
    ),
)
FIELD_SET = replace(
    FIELD_SET,
    ranges=(
        Range("total_field", 0.0, 3e6, ("V/m", "1"), _FIELD),
        Range("incident_field", 0.0, 3e6, ("V/m", "1"), _FIELD),
        Range("freq", 1e6, 3e11, ("Hz",), _BAND),
        *(Range(c, -5.0, 5.0, ("m",), _POSITION) for c in ("tx_x", "tx_y", "rx_x", "rx_y")),
    ),
)

SPECS = (SPARAMETER_SCAN, FIELD_SET)
