"""Specs shared by every modality: reconstruction maps and label masks."""

from brim.schema._spec import Spec, VarSpec

LENGTH = ("m", "mm", "cm", "px")

RECONSTRUCTION = Spec(
    kind="reconstruction",
    version=1,
    description=(
        "A 2-D or 3-D map of a physical quantity (permittivity, absorption, radar energy, strain, "
        "...) on a regular grid. Each map variable states its own units."
    ),
    variables=(
        VarSpec(
            None,
            dims=(("y", "x"), ("z", "y", "x")),
            dtype="numeric",
            allow_nan=True,
            leading=("scan", "freq", "wavelength", "frame", "time", "iteration"),
            doc="one or more map variables",
        ),
    ),
    coords=(
        VarSpec("x", dims=(("x",),), dtype="real", units=LENGTH, doc="lateral position"),
        VarSpec("y", dims=(("y",),), dtype="real", units=LENGTH, doc="second in-plane position"),
        VarSpec("z", dims=(("z",),), dtype="real", units=LENGTH, required=False),
    ),
)

MASK = Spec(
    kind="mask",
    version=1,
    description=(
        "A label mask (0 = background, 1.. = classes named by the JSON attribute 'labels'), "
        "optionally with its image."
    ),
    variables=(
        VarSpec(
            "mask",
            dims=(("y", "x"), ("z", "y", "x")),
            dtype="label",
            leading=("scan", "frame", "time", "case"),
        ),
    ),
    coords=(
        VarSpec("x", dims=(("x",),), dtype="real", units=LENGTH, required=False),
        VarSpec("y", dims=(("y",),), dtype="real", units=LENGTH, required=False),
    ),
)

SPECS = (RECONSTRUCTION, MASK)
