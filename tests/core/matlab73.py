"""Write MATLAB v7.3 files the way MATLAB lays them out, for tests of the v7.3 readers.

A v7.3 MAT-file is HDF5 behind a 512-byte user block that starts with MATLAB's text header.
Each variable is a dataset at the root, stored column-major (h5py sees the transpose of
MATLAB's shape, which is at least 2-D), with a ``MATLAB_class`` attribute: complex numbers are
a ``real``/``imag`` compound, ``char`` is UTF-16 code units (``MATLAB_int_decode`` = 2),
``logical`` is uint8, a scalar struct is a group of its fields (their order in a
``MATLAB_fields`` attribute), a cell array is a dataset of
object references into the ``#refs#`` group.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

HEADER = (
    b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 00:00:00 2026 "
    b"HDF5 schema 1.00 ."
)
_CLASSES = {"float64": "double", "float32": "single", "bool": "logical"}


def savemat73(path: Path, variables: dict, **dataset_options) -> Path:
    """Write ``variables`` (name to array, str, dict = struct, list = cell row) as MATLAB v7.3;
    ``dataset_options`` (chunks, compression) apply to the numeric datasets."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            _put(f, f, name, value, dataset_options)
    with open(path, "r+b") as fh:
        fh.write(HEADER.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    return path


def _put(f, where, name: str, value, options: dict):
    if isinstance(value, dict):
        group = where.create_group(name)
        group.attrs["MATLAB_class"] = np.bytes_("struct")
        names = np.empty(len(value), dtype=h5py.vlen_dtype(np.dtype("S1")))
        names[:] = [np.array(list(k), dtype="S1") for k in value]
        group.attrs["MATLAB_fields"] = names  # the field order (h5py lists members by name)
        for k, v in value.items():
            _put(f, group, k, v, options)
        return group
    if isinstance(value, list):
        refs_group = f.require_group("#refs#")
        refs = []
        for i, item in enumerate(value):
            refs.append(_put(f, refs_group, f"{name}_{i}", item, {}).ref)
        d = where.create_dataset(name, data=np.array([refs], dtype=h5py.ref_dtype).T)
        d.attrs["MATLAB_class"] = np.bytes_("cell")
        return d
    if isinstance(value, str):
        d = where.create_dataset(name, data=np.array([[ord(c) for c in value]], np.uint16).T)
        d.attrs["MATLAB_class"] = np.bytes_("char")
        d.attrs["MATLAB_int_decode"] = np.int32(2)
        return d
    a = np.asarray(value)
    a = a.reshape(1, -1) if a.ndim < 2 else a  # MATLAB has no 1-D arrays: a row, as scipy
    real = a.real.dtype.name if a.dtype.kind == "c" else a.dtype.name
    stored = a.T.astype(np.uint8) if a.dtype == bool else a.T
    if a.dtype.kind == "c":
        stored = np.empty(a.T.shape, [("real", a.real.dtype), ("imag", a.real.dtype)])
        stored["real"], stored["imag"] = a.T.real, a.T.imag
    d = where.create_dataset(name, data=stored, **options)
    d.attrs["MATLAB_class"] = np.bytes_(_CLASSES.get(real, real))
    return d
