"""Built-in per-file pipelines for :func:`brim.parallel.map_files` and ``brim batch``.

A pipeline is a plain function ``(path: str, **params) -> xarray.Dataset``. Modalities add theirs
through the ``brim.pipelines`` entry-point group; any importable ``"module:function"`` works too.
"""

from __future__ import annotations

import xarray as xr

from brim import provenance
from brim.errors import SchemaError
from brim.io import open as brim_open


@provenance.step
def validate(path: str) -> xr.Dataset:
    """Open a brim file, check it against its schema, and return it with a provenance step.

    The step is recorded by :func:`brim.provenance.step` as ``brim.validate``, with the file's
    name and SHA-256.

    Parameters
    ----------
    path : str
        A file that :func:`brim.open` reads (NetCDF/HDF5 written by brim, or a vendor format).

    Returns
    -------
    xarray.Dataset
        The file's Dataset, unchanged but for one more provenance record.

    Raises
    ------
    SchemaError
        The file breaks its schema, or holds a DataTree.
    """
    ds = brim_open(path)
    if isinstance(ds, xr.DataTree):
        ds.brim.validate()
        raise SchemaError(f"{path} holds a DataTree; the validate pipeline takes single Datasets")
    return ds
