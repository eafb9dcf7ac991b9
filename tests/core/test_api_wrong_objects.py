"""The core API given the wrong kind of object: a SchemaError that names it and the fix."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from brim import schema
from brim.errors import SchemaError


def _thermogram() -> xr.Dataset:
    t = xr.DataArray(np.full((4, 5), 30.0), dims=("y", "x"), attrs={"units": "degC"})
    return xr.Dataset({"temperature": t})


def test_validate_given_a_session_tree_points_to_its_nodes_and_the_tree_check():
    tree = xr.DataTree.from_dict({"/thermo": _thermogram()})
    with pytest.raises(SchemaError, match=r"DataTree.*tree\['thermo'\].*tree\.brim\.validate"):
        schema.validate(tree, "thermogram")
