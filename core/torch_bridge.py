"""The torch bridge: brim Datasets to plain ``torch.Tensor`` objects and back.

Tensors are made through DLPack, sharing memory with the NumPy (or CuPy) buffer where that is
safe. A copy is made where DLPack would fail or corrupt data:

- negative strides (e.g. ``a[::-1]``): DLPack consumers cannot all express them, and handing
  them on has crashed interpreters;
- non-native byte order (big-endian files): DLPack has no byte-order field, the numbers would be
  silently wrong;
- read-only buffers (memory-mapped or NetCDF-backed arrays): a tensor shares memory and torch
  would let a model write into data it must not change.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from brim.backend import is_cupy_array, is_torch_tensor, tensor_to_numpy
from brim.errors import BackendError, ConfigError, SchemaError, require

_DLPACK_KINDS = "biufc"


def needs_copy(a: np.ndarray) -> str | None:
    """Why a NumPy array cannot be shared zero-copy with torch, or None when it can.

    Parameters
    ----------
    a : numpy.ndarray
        Any array.

    Returns
    -------
    str or None
        The reason (negative strides, non-native byte order, a dtype torch lacks, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.torch_bridge import needs_copy
    >>> needs_copy(np.zeros(4)) is None, needs_copy(np.zeros(4)[::-1])
    (True, 'negative strides')
    """
    if any(s < 0 for s in a.strides):
        return "negative strides"
    if a.dtype.byteorder not in ("=", "|") and a.dtype.byteorder != _native_order():
        return "non-native byte order"
    if not a.flags.writeable:
        return "read-only buffer"
    return None


def _native_order() -> str:
    return "<" if np.little_endian else ">"


def array_to_torch(a: Any):
    """Convert a NumPy/CuPy array to a ``torch.Tensor``, zero-copy where safe.

    Parameters
    ----------
    a : numpy.ndarray, cupy.ndarray or torch.Tensor

    Returns
    -------
    torch.Tensor
        On the CPU for NumPy input, on the same GPU for CuPy input.
    """
    torch = require("torch", "dl")
    if is_torch_tensor(a):
        return a
    if is_cupy_array(a):
        import cupy

        if not torch.cuda.is_available():
            raise BackendError(
                "a CuPy (GPU) array cannot become a torch tensor: this torch has no CUDA "
                f"(torch {torch.__version__}); install a CUDA build of torch, or move the data "
                "to the CPU first (ds.brim.to_device('cpu'))"
            )
        if any(s < 0 for s in a.strides):
            a = cupy.ascontiguousarray(a)
        return torch.from_dlpack(a)
    a = np.asarray(a)
    if a.dtype.kind not in _DLPACK_KINDS:
        raise SchemaError(
            f"dtype {a.dtype} has no torch equivalent; convert to a numeric dtype first"
        )
    reason = needs_copy(a)
    if reason == "non-native byte order":
        a = a.astype(a.dtype.newbyteorder("="))
    elif reason is not None:
        a = np.array(a, copy=True, order="C")
    return torch.from_dlpack(a)


def dataset_to_torch(
    ds: xr.Dataset | xr.DataArray,
    var: str | None = None,
    *,
    dims: Sequence[str] | None = None,
    device: str | None = None,
    dtype: Any = None,
):
    """One variable of a Dataset as a ``torch.Tensor`` with its dims in a chosen order.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
    var : str, optional
        Variable name; needed when the Dataset has several data variables.
    dims : sequence of str, optional
        Dimension order of the tensor (a transpose; missing names raise).
    device : str, optional
        ``"cpu"`` or ``"cuda"``; default: where the data are.
    dtype : torch.dtype, optional
        Convert to this dtype (a copy).

    Returns
    -------
    torch.Tensor
        Zero-copy on the CPU where the memory layout allows (see :func:`needs_copy`).

    Raises
    ------
    ConfigError
        No such variable, several variables and no ``var``, or ``dims`` that do not name
        each of the variable's dims once.
    """
    da = _pick(ds, var)
    if dims is not None:
        missing = set(da.dims) ^ set(dims)
        if missing:
            raise ConfigError(
                f"dims {tuple(dims)} do not match the variable's dims {da.dims}; name each once"
            )
        da = da.transpose(*dims)
    t = array_to_torch(da.data)
    if dtype is not None:
        t = t.to(dtype)
    if device is not None:
        t = t.to(device)
    return t


def _pick(ds, var):
    if isinstance(ds, xr.DataArray):
        return ds
    if var is None:
        names = list(ds.data_vars)
        if len(names) != 1:
            raise ConfigError(f"this Dataset has variables {names}; name one with var=...")
        var = names[0]
    if var not in ds.data_vars:
        raise ConfigError(f"no data variable {var!r}; have {sorted(map(str, ds.data_vars))}")
    return ds[var]


def from_torch(
    t: Any,
    like: xr.Dataset | xr.DataArray,
    *,
    name: str | None = None,
    dims: Sequence[str] | None = None,
    attrs: dict | None = None,
) -> xr.DataArray | xr.Dataset:
    """A tensor back into xarray, on the coordinates of ``like``.

    Parameters
    ----------
    t : torch.Tensor
        The tensor (any device; gradients are detached).
    like : xarray.Dataset or xarray.DataArray
        Template: a DataArray gives a DataArray with its dims and coords; a Dataset gives a copy
        of it where variable ``name`` is set to the tensor's values.
    name : str, optional
        Variable to set; default the template's only data variable.
    dims : sequence of str, optional
        The tensor's dims when they differ from the template variable's.
    attrs : dict, optional
        Attributes of the new variable (default: the template variable's, e.g. its units).

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        A DataArray for a DataArray template; for a Dataset template, a copy of it with
        variable ``name`` set.

    Raises
    ------
    SchemaError
        The tensor's shape does not fit the template's dims.

    Examples
    --------
    A model output back on the template's grid, with its units:

    >>> import numpy as np
    >>> import torch
    >>> import xarray as xr
    >>> import brim
    >>> like = xr.DataArray(
    ...     np.zeros((2, 3)), dims=("y", "x"), coords={"x": [0.0, 1.0, 2.0]},
    ...     attrs={"units": "degC"},
    ... )
    >>> out = brim.from_torch(torch.ones(2, 3), like)
    >>> out.dims, out.attrs["units"], out["x"].values.tolist(), float(out.sum())
    (('y', 'x'), 'degC', [0.0, 1.0, 2.0], 6.0)
    >>> ds = brim.from_torch(torch.ones(2, 3), like.to_dataset(name="temperature"))
    >>> list(ds.data_vars), float(ds.temperature.mean())
    (['temperature'], 1.0)
    """
    values = tensor_to_numpy(t)
    var: Hashable | None = name
    template: xr.DataArray | None
    ds: xr.Dataset | None
    if isinstance(like, xr.DataArray):
        template, ds = like, None
    else:
        ds = like
        if var is None:
            names = list(like.data_vars)
            if len(names) != 1:
                raise ConfigError(f"the template has variables {names}; name one with name=...")
            var = names[0]
        template = like[var] if var in like.data_vars else None
    dim_names: tuple[Hashable, ...]
    if dims is None:
        if template is None:
            raise ConfigError(f"variable {var!r} is new: give its dims=...")
        dim_names = template.dims
    else:
        dim_names = tuple(dims)
    if values.ndim != len(dim_names):
        raise SchemaError(f"tensor has {values.ndim} dims, expected {len(dim_names)} ({dim_names})")
    src = ds if ds is not None else like
    for d, n in zip(dim_names, values.shape):
        if d in src.sizes and src.sizes[d] != n:
            raise SchemaError(
                f"tensor size {n} along {d!r} does not match the template's {src.sizes[d]}"
            )
    coords = {k: c for k, c in src.coords.items() if set(c.dims) <= set(dim_names)}
    new_attrs = dict(template.attrs) if template is not None and attrs is None else (attrs or {})
    da = xr.DataArray(values, dims=dim_names, coords=coords, attrs=new_attrs, name=var)
    if ds is None:
        return da
    return ds.assign({var: da})
