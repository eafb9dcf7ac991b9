"""Specs shared by every modality: reconstruction maps and label masks."""

from dataclasses import replace

from brim.schema._spec import Range, Spec, VarSpec

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

# Plausible ranges (brim.schema._spec.Range) of the map variables brim writes, by name and units;
# refused on validation.
# Absorption: breast tissue has mua 0.002-0.01 mm-1 in the NIR, lesions up to ~0.05 mm-1, whole
# blood ~0.5 mm-1 at 750 nm (Durduran et al., Rep. Prog. Phys. 73:076701, 2010); reconstructions
# carry negative artefacts. |mua| <= 10 mm-1 (20x whole blood) bounds any real map.
_MUA = "tissue 0.002-0.05 mm-1, whole blood ~0.5 mm-1 (Durduran 2010)"
# Reduced scattering of breast tissue is 0.5-1.5 mm-1 (same source); 20 mm-1 bounds it.
_MUSP = "breast tissue 0.5-1.5 mm-1 (Durduran 2010)"
# Haemoglobin: breast tissue 10-30 uM, tumours up to ~100 uM; whole blood ~2300 uM
# (150 g/L / 64,500 g/mol); reconstructions may go negative by as much.
_HB = "tissue 10-100 uM, whole blood ~2300 uM"
# Relative permittivity of breast tissues at 0.5-20 GHz: fat 3-10, fibroglandular and tumour
# 40-60, water 78 (Lazebnik et al., Phys. Med. Biol. 52:6093, 2007); with the loss term the
# magnitude stays below ~100: |eps_r| <= 1000 bounds any reconstruction.
_EPS = "breast tissues have |eps_r| < 100 (Lazebnik 2007)"
_STRAIN = "compression of 0.1-5 %, never 100 %"


def _per_length(name: str, hi_per_mm: float, why: str, lo_per_mm: float) -> tuple[Range, ...]:
    return tuple(
        Range(name, lo_per_mm * f, hi_per_mm * f, (u,), why)
        for u, f in (("mm-1", 1.0), ("cm-1", 10.0), ("m-1", 1000.0))
    )


RECONSTRUCTION = replace(
    RECONSTRUCTION,
    ranges=(
        *(
            r
            for n in ("mua", "delta_mua", "lesion_delta_mua", "background_mua")
            for r in _per_length(n, 10.0, _MUA, -10.0)
        ),
        *(r for n in ("musp", "background_musp") for r in _per_length(n, 20.0, _MUSP, 0.0)),
        *(Range(n, -5000.0, 5000.0, ("uM",), _HB) for n in ("hbo2", "hb", "hbt")),
        Range("permittivity", 0.0, 1000.0, ("1",), _EPS),
        Range("reconstructed_permittivity", 0.0, 1000.0, ("1",), _EPS),
        Range("eps_background", 0.0, 1000.0, ("1",), _EPS),
        Range("strain", -1.0, 1.0, ("1",), _STRAIN),
    ),
)

SPECS = (RECONSTRUCTION, MASK)
