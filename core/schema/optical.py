"""Specs for near-infrared diffuse optics."""

from dataclasses import replace

from brim.schema._spec import Range, Spec, VarSpec

_MEAS = (("wavelength", "source", "detector"),)

OPTICAL_MEASUREMENT = Spec(
    kind="optical_measurement",
    reader="brim.fusion.read_measurement",
    builder="brim.fusion.measurement_from_arrays",
    version=2,  # 2: positions in m (1: mm; brim.fusion.read_measurement converts)
    description=(
        "Source-detector measurements (amplitude and phase) per wavelength; source/detector "
        "positions in m as coordinates (readers convert files in mm); the modulation frequency "
        "(0 Hz for CW) as a 0-d variable."
    ),
    variables=(
        VarSpec("amplitude", dims=_MEAS, dtype="float", units=("1", "V", "W", "counts")),
        VarSpec("phase", dims=_MEAS, dtype="float", units=("rad",)),
        VarSpec("modulation_frequency", dims=((),), dtype="real", units=("Hz",), leading=()),
        *(
            VarSpec(name, dims=_MEAS, dtype="float", units=(unit,), required=False, doc=doc)
            for name, unit, doc in (
                ("amplitude_rel_se", "1", "relative standard error of each amplitude"),
                ("phase_se", "rad", "standard error of each phase"),
            )
        ),
    ),
    coords=(
        VarSpec("wavelength", dims=(("wavelength",),), dtype="real", units=("nm",)),
        VarSpec("source_x", dims=(("source",),), dtype="real", units=("m",)),
        VarSpec("source_y", dims=(("source",),), dtype="real", units=("m",)),
        VarSpec("detector_x", dims=(("detector",),), dtype="real", units=("m",)),
        VarSpec("detector_y", dims=(("detector",),), dtype="real", units=("m",)),
    ),
)

# Plausible ranges (brim.schema._spec.Range), refused on validation.
# Frequency-domain DOT modulates at 50 MHz-1 GHz (0 Hz: continuous wave); NIR optics of the
# breast uses 650-950 nm (Durduran et al., Rep. Prog. Phys. 73:076701, 2010), bounded here by the
# 400-2000 nm range of silicon and InGaAs detectors. A phase of 100 rad at 1 GHz is 16 ns of mean
# photon flight, metres of tissue: no breast gives it. Probes are centimetres wide.
OPTICAL_MEASUREMENT = replace(
    OPTICAL_MEASUREMENT,
    ranges=(
        Range("amplitude", 0.0, 1e12, (), "a detected amplitude is >= 0"),
        Range("phase", -100.0, 100.0, ("rad",), "100 rad is metres of photon flight"),
        Range("amplitude_rel_se", 0.0, 10.0, (), "a relative standard error is >= 0"),
        Range("phase_se", 0.0, 100.0, ("rad",), "a standard error is >= 0"),
        Range("modulation_frequency", 0.0, 1e10, ("Hz",), "FD-DOT modulates at <= 1 GHz"),
        Range("wavelength", 400.0, 2000.0, ("nm",), "NIR optics, 400-2000 nm detectors"),
        *(
            Range(c, -1.0, 1.0, ("m",), "optodes lie within 1 m of the probe centre")
            for c in ("source_x", "source_y", "detector_x", "detector_y")
        ),
    ),
)

SPECS = (OPTICAL_MEASUREMENT,)
