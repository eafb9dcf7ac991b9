"""The main job (``brim demo``) on bundled data, and the generic plot."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr

from brim.cli import main

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).parent))
import factories  # noqa: E402


def test_brim_demo_runs_every_modality(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    page = (tmp_path / "index.html").read_text()
    for ep in entry_points(group="brim.demos"):
        assert f"[ok] {ep.name}: " in out
    pngs = list(tmp_path.rglob("*.png"))
    assert len(pngs) >= 4, "each modality should draw at least one figure"
    for png in pngs:
        assert png.stat().st_size > 2000, f"{png} looks empty"
        assert png.relative_to(tmp_path).as_posix() in page
    assert "FAILED" not in out


@pytest.mark.parametrize("kind", ["thermogram", "reconstruction", "rf_frames", "sparameter_scan"])
def test_plot_returns_labelled_axes(kind):
    ds = factories.ALL[kind](np.random.default_rng(0))
    var = next(iter(n for n in ds.data_vars if ds[n].ndim >= 1))
    ax = ds.brim.plot(var)
    assert ax.figure.axes  # image + colorbar, or a line
    labels = ax.get_xlabel() + ax.get_ylabel()
    assert "[" in labels  # units shown on an axis
    matplotlib.pyplot.close(ax.figure)


def test_datatree_accessor_names_the_bad_node():
    import brim

    rng = np.random.default_rng(1)
    bad = factories.mask(rng)
    bad["mask"] = bad["mask"].astype("f4")
    tree = xr.DataTree.from_dict({"/thermo": factories.thermogram(rng), "/fusion": bad})
    with pytest.raises(brim.SchemaError, match="/fusion"):
        tree.brim.validate()
