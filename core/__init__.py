"""brim: radiation-free breast imaging, from raw sensor data to honest classifiers.

One shared data model (xarray Datasets with versioned schemas) for infrared thermography
(:mod:`brim.thermo`), microwave imaging (:mod:`brim.microwave`), ultrasound elastography
(:mod:`brim.elasto`) and optical-ultrasound fusion (:mod:`brim.fusion`).

Examples
--------
>>> import brim
>>> ds = brim.data.sample("thermo_phantom_tumour")  # doctest: +SKIP
>>> ds.brim.validate()  # doctest: +SKIP
>>> brim.save(ds, "out.nc")  # doctest: +SKIP
"""

from brim import accessor as _accessor  # noqa: F401 - registers ds.brim
from brim import data, schema
from brim._version import __version__
from brim.errors import (
    BackendError,
    BrimError,
    CalibrationError,
    ConfigError,
    DependencyError,
    FormatError,
    LeakageError,
    MissingFileError,
    SchemaError,
    SolverError,
)
from brim.io import open, save  # noqa: A004 - brim.open is the documented reader
from brim.provenance import record as record_provenance
from brim.torch_bridge import from_torch

__all__ = [
    "__version__",
    "BackendError",
    "BrimError",
    "CalibrationError",
    "ConfigError",
    "DependencyError",
    "FormatError",
    "LeakageError",
    "MissingFileError",
    "SchemaError",
    "SolverError",
    "data",
    "from_torch",
    "open",
    "record_provenance",
    "save",
    "schema",
]
