"""The demo's shear-wave figure explains its blank band (issue: a new user read it as a bug)."""

from __future__ import annotations

import numpy as np

import brim.demo
from brim.elasto import demo


def test_swe_figure_hatches_and_labels_the_push_region(tmp_path, monkeypatch):
    figures = {}
    real = brim.demo.save_figure

    def keep(fig, path, *, caption):  # the real writer, keeping the figure to inspect
        figures[path.name] = fig
        return real(fig, path, caption=caption)

    monkeypatch.setattr(brim.demo, "save_figure", keep)
    demo.run(tmp_path)
    assert (tmp_path / "elasto_swe.png").is_file()
    ax = figures["elasto_swe.png"].axes[0]
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
