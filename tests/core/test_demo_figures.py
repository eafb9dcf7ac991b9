"""The demo figures explain what a new user asked about, in the figure itself.

The shear-wave map's blank band around the push (read as a bug) is hatched and labelled; the
cyan cross on the radar images (the true target) has a legend entry.
"""

from __future__ import annotations

import numpy as np
import pytest

import brim.demo
from brim.elasto import demo as elasto_demo
from brim.microwave import demo as microwave_demo


@pytest.fixture
def saved_figures(monkeypatch):
    """The figures the demos save, by file name (the real writer runs; the figure is kept)."""
    figures = {}
    real = brim.demo.save_figure

    def keep(fig, path, *, caption):
        figures[path.name] = fig
        return real(fig, path, caption=caption)

    monkeypatch.setattr(brim.demo, "save_figure", keep)
    return figures


def test_swe_figure_hatches_and_labels_the_push_region(tmp_path, saved_figures):
    elasto_demo.run(tmp_path)
    assert (tmp_path / "elasto_swe.png").is_file()
    ax = saved_figures["elasto_swe.png"].axes[0]
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "push region" in texts and "no estimate" in texts
    (band,) = [p for p in ax.patches if p.get_hatch()]
    xs = band.get_path().transformed(band.get_patch_transform()).vertices[:, 0]
    left, right = float(np.min(xs)), float(np.max(xs))
    # the band is where the map has no value: read it back from the drawn image
    (im,) = ax.images
    values = np.ma.getdata(im.get_array()).astype(float)
    x0, x1 = im.get_extent()[:2]
    centres = x0 + (np.arange(values.shape[1]) + 0.5) * (x1 - x0) / values.shape[1]
    blank = np.all(np.isnan(values), axis=0)
    assert blank.any()
    assert np.all(blank[(centres > left) & (centres < right)])
    # ... and all of it: the columns on either side of the band carry estimates
    inside = np.flatnonzero((centres > left) & (centres < right))
    assert not blank[inside[0] - 1] and not blank[inside[-1] + 1]
    assert left < 0.0 < right  # around the push at 0 mm


def test_radar_figure_has_a_legend_entry_for_the_true_target(tmp_path, saved_figures):
    microwave_demo.run(tmp_path)
    assert (tmp_path / "microwave_radar_images.png").is_file()
    fig = saved_figures["microwave_radar_images.png"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 3
    scan, _ = microwave_demo._load_sample()
    target_mm = [float(v) * 1e3 for v in str(scan.attrs["target_m"]).split(",")]
    for ax in panels:
        legend = ax.get_legend()
        assert legend is not None, ax.get_title()
        assert [t.get_text() for t in legend.get_texts()] == ["true target"]
        (handle,) = legend.legend_handles
        assert handle.get_color() == "c" and handle.get_marker() == "+"
        # the entry stands for the cross drawn at the true target
        (cross,) = [ln for ln in ax.lines if ln.get_marker() == "+"]
        np.testing.assert_allclose([cross.get_xdata()[0], cross.get_ydata()[0]], target_mm[:2])
