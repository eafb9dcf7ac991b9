"""The demo's radar figure says what its cyan cross is (a legend entry, not only the caption)."""

from __future__ import annotations

import numpy as np

import brim.demo
from brim.microwave import demo


def test_radar_figure_has_a_legend_entry_for_the_true_target(tmp_path, monkeypatch):
    figures = {}
    real = brim.demo.save_figure

    def keep(fig, path, *, caption):  # the real writer, keeping the figure to inspect
        figures[path.name] = fig
        return real(fig, path, caption=caption)

    monkeypatch.setattr(brim.demo, "save_figure", keep)
    demo.run(tmp_path)
    assert (tmp_path / "microwave_radar_images.png").is_file()
    fig = figures["microwave_radar_images.png"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 3
    scan, _ = demo._load_sample()
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
