"""Core overheads: brim.save/brim.open against plain xarray, and to_torch against torch.tensor.

Same input, same run; prints our time, the reference's, and the ratio (ours / reference).

    python benchmarks/core_io_bridge.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr
from _timing import best_seconds as best

import brim


def main():
    rng = np.random.default_rng(0)
    rows = []
    folder = Path(tempfile.mkdtemp())
    for ny, nx in [(480, 640), (2048, 2048)]:
        ds = xr.Dataset(
            {"temperature": (("y", "x"), 30 + rng.standard_normal((ny, nx)), {"units": "degC"})},
            coords={
                "y": ("y", np.arange(ny) * 1.0, {"units": "px"}),
                "x": ("x", np.arange(nx) * 1.0, {"units": "px"}),
            },
        ).brim.stamp("thermogram")
        ours = best(lambda ds=ds: brim.save(ds, folder / "a.nc"))
        ref = best(lambda ds=ds: ds.to_netcdf(folder / "b.nc", engine="h5netcdf"))
        rows.append((f"save {ny}x{nx} (atomic+validate)", ours, ref))
        ours = best(lambda: brim.open(folder / "a.nc"))
        ref = best(lambda: xr.open_dataset(folder / "b.nc", engine="h5netcdf").load())
        rows.append((f"open {ny}x{nx} (load+validate)", ours, ref))
        try:
            import torch

            a = ds.temperature.values
            ours = best(lambda ds=ds: ds.brim.to_torch("temperature"))
            ref = best(lambda a=a: torch.tensor(a))
            rows.append((f"to_torch {ny}x{nx} (zero-copy vs copy)", ours, ref))
        except ImportError:
            pass
    print(f"{'operation':42s} {'brim [ms]':>10s} {'reference [ms]':>15s} {'ratio':>7s}")
    for name, ours, ref in rows:
        print(f"{name:42s} {ours * 1e3:10.2f} {ref * 1e3:15.2f} {ours / ref:7.2f}")


if __name__ == "__main__":
    main()
