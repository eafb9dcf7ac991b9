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


def test_save_and_open_name_the_slip_of_a_notebook_user(tmp_path):
    import brim
    from brim.errors import ConfigError

    ds = _thermogram()
    # arguments swapped: was a TypeError from pathlib
    with pytest.raises(ConfigError, match="arguments are swapped"):
        brim.save(str(tmp_path / "t.nc"), ds)
    # a folder as the destination: was IsADirectoryError from the final rename
    with pytest.raises(ConfigError, match="it is a folder; give a file name"):
        brim.save(ds, tmp_path)
    # an open Dataset given to open: was a TypeError from os.fspath
    with pytest.raises(ConfigError, match="not Dataset; it is already open"):
        brim.open(ds)
    with pytest.raises(ConfigError, match="takes a file path, not int"):
        brim.open(3)
    assert not list(tmp_path.iterdir())


def test_save_refuses_an_object_variable_of_mixed_types_and_writes_nothing(tmp_path):
    import brim

    ds = xr.Dataset({"note": ("x", np.array(["left", 1.5], dtype=object))})
    # was xarray's ValueError from inside to_netcdf
    with pytest.raises(SchemaError, match=r"'note'.*mixed.*astype\(str\)"):
        brim.save(ds, tmp_path / "n.nc")
    assert not list(tmp_path.iterdir())
