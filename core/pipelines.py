"""Built-in per-file pipelines for :func:`brim.parallel.map_files` and ``brim batch``.

A pipeline is a plain function ``(path: str, **params) -> xarray.Dataset``. Modalities add theirs
through the ``brim.pipelines`` entry-point group; any importable ``"module:function"`` works too.
"""

from __future__ import annotations

import xarray as xr

from brim import provenance
from brim.errors import SchemaError
from brim.io import open as brim_open


def validate(path: str) -> xr.Dataset:
    """Open a brim file, check it against its schema, and return it with a provenance step."""
    ds = brim_open(path)
    if isinstance(ds, xr.DataTree):
        ds.brim.validate()
        raise SchemaError(f"{path} holds a DataTree; the validate pipeline takes single Datasets")
    return provenance.record(ds, "brim.pipelines.validate", {}, inputs=[path])
