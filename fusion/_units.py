"""Length and absorption units of brim.fusion: SI in Datasets, millimetres in the kernels.

brim stores lengths in metres (coordinates ``x``, ``y``, ``z``, ``depth``, source/detector
positions) and optical coefficients in the unit their schema names (``mm-1``). The diffusion
kernels (:mod:`brim.fusion.diffusion`, the dual mesh) compute in millimetres so that lengths and
``mm-1`` coefficients form one consistent unit system; the Dataset-level functions convert once,
on the way in and on the way out, with the factors here.
"""

from __future__ import annotations

import numpy as np

from brim.errors import ConfigError, SchemaError
from brim.units import LENGTH_TO_M

#: metres -> millimetres (the kernels' length unit)
M_TO_MM = 1e3
#: millimetres -> metres
MM_TO_M = 1e-3

#: factor to mm^-1 of each absorption/scattering unit brim reads
INVERSE_LENGTH_TO_PER_MM = {
    "mm-1": 1.0,
    "1/mm": 1.0,
    "mm^-1": 1.0,
    "cm-1": 0.1,
    "1/cm": 0.1,
    "cm^-1": 0.1,
    "m-1": 1e-3,
    "1/m": 1e-3,
    "m^-1": 1e-3,
}

#: micromolar haemoglobin x molar extinction (cm^-1/M) -> absorption in mm^-1:
#: ln(10) (the table is decadic) x 1e-6 M/uM / 10 mm/cm
UM_TO_MUA = np.log(10.0) * 1e-6 / 10.0

#: the largest plausible length in a breast examination (m): catches millimetres given as metres
MAX_PLAUSIBLE_M = 0.5


def length_factor(units, what: str) -> float:
    """Factor that converts lengths in ``units`` to metres, or :class:`SchemaError`."""
    f = LENGTH_TO_M.get(str(units).strip() if units is not None else "")
    if f is None:
        raise SchemaError(
            f"{what} has length units {units!r}; expected one of {sorted(LENGTH_TO_M)} (set the "
            "pixel spacing / coordinate units first)"
        )
    return f


def per_mm_factor(units, what: str) -> float:
    """Factor that converts an optical coefficient in ``units`` to mm^-1, or ConfigError."""
    f = INVERSE_LENGTH_TO_PER_MM.get(str(units).strip().replace(" ", "") if units else "")
    if f is None:
        raise ConfigError(
            f"{what} has units {units!r}; an absorption/scattering coefficient must be in one of "
            f"{sorted(INVERSE_LENGTH_TO_PER_MM)} (give the units explicitly)"
        )
    return f


def check_plausible_m(values, what: str) -> np.ndarray:
    """``values`` (m) as float64; ConfigError when they reach beyond :data:`MAX_PLAUSIBLE_M`.

    A millimetre value passed where brim expects metres (``20`` for a 2 cm depth) would
    otherwise build a volume a thousand times too large.
    """
    a = np.asarray(values, dtype=np.float64)
    if a.size and np.nanmax(np.abs(a)) > MAX_PLAUSIBLE_M:
        raise ConfigError(
            f"{what} = {np.round(a, 6).tolist()} m reaches beyond {MAX_PLAUSIBLE_M} m; brim "
            "takes lengths in metres (20 mm is 0.02)"
        )
    return a
