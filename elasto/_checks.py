"""One check for the image variable a public elasto step reads from its Dataset argument."""

from __future__ import annotations

import xarray as xr

from brim import schema
from brim.errors import SchemaError


def image_var(
    ds: object, name: str, dims: tuple[str, ...], *, arg: str, kind: str, builder: str
) -> xr.DataArray:
    """``ds[name]`` ordered as ``dims``, or a SchemaError naming ``arg`` and the problem.

    A path, an array or a DataArray gets :func:`brim.schema.expect_dataset`'s message; a
    Dataset of another kind (a displacement given to a strain step, a thermogram...), one
    whose image is on other dims, or an empty image is refused by name. A transposed image is
    returned the right way round.

    Parameters
    ----------
    ds : object
        What the caller passed.
    name : str
        The variable the step reads, e.g. ``"strain"``.
    dims : tuple of str
        Its dims, in the order the step computes in.
    arg : str
        The argument's name, for the message.
    kind : str
        The brim kind that holds ``name`` (``"strain_image"``).
    builder : str
        The function that makes such a Dataset, e.g. ``"brim.elasto.strain_image"``.

    Returns
    -------
    xarray.DataArray
        The variable, transposed to ``dims``.
    """
    dset: xr.Dataset = schema.expect_dataset(ds, kind, builder=builder)
    if name not in dset.data_vars:
        got = schema.kind_of(dset)
        what = f"a brim {got!r} Dataset" if got else "a Dataset"
        raise SchemaError(
            f"{arg}: got {what} without the {name!r} variable of {kind} (variables "
            f"{sorted(map(str, dset.data_vars))}); make one with {builder}(...)"
        )
    return schema.expect_dims(dset[name], dims, arg=arg)
