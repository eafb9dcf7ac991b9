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

import importlib as _importlib

from brim._lazy import when_imported as _when_imported
from brim._version import __version__
from brim.errors import (
    BackendError,
    BrimError,
    BrimWarning,
    CalibrationError,
    ConfigError,
    DependencyError,
    FormatError,
    LeakageError,
    MissingFileError,
    ResourceError,
    SchemaError,
    SolverError,
)

# Names that need xarray/numpy/torch are imported on first use, so that ``import brim`` (and with
# it ``brim --help``) stays fast: public name -> (module, attribute or None for the module).
_LAZY = {
    "data": ("brim.data", None),
    "schema": ("brim.schema", None),
    "open": ("brim.io", "open"),
    "save": ("brim.io", "save"),
    "record_provenance": ("brim.provenance", "record"),
    "from_torch": ("brim.torch_bridge", "from_torch"),
}
# ``import brim`` then ``brim.thermo.read(...)``, as in a notebook: the subpackages and the core
# modules load on first use (``import brim.thermo`` still works and is what the docs show).
_LAZY.update(
    {
        name: (f"brim.{name}", None)
        for name in (
            "thermo", "microwave", "elasto", "fusion", "learn", "evaluate",
            "io", "provenance", "parallel", "backend", "plotting", "fileinfo",
        )
    }
)  # fmt: skip


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'brim' has no attribute {name!r}") from None
    mod = _importlib.import_module(module)
    return mod if attr is None else getattr(mod, attr)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


# ``ds.brim``: registered as soon as xarray is imported (at once if it already is).
_when_imported("xarray", lambda: _importlib.import_module("brim.accessor"))

__all__ = [
    "__version__",
    "BackendError",
    "BrimError",
    "BrimWarning",
    "CalibrationError",
    "ConfigError",
    "DependencyError",
    "FormatError",
    "LeakageError",
    "MissingFileError",
    "ResourceError",
    "SchemaError",
    "SolverError",
    "data",
    "from_torch",
    "open",
    "record_provenance",
    "save",
    "schema",
]
