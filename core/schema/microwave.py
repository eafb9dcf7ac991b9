"""Specs for microwave imaging: S-parameter scans and tomography field sets."""

from brim.schema._spec import Spec, VarSpec

_POS = ("m",)

SPARAMETER_SCAN = Spec(
    kind="sparameter_scan",
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

SPECS = (SPARAMETER_SCAN, FIELD_SET)
