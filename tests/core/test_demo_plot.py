"""The main job (``brim demo``) on bundled data, and the generic plot."""

from __future__ import annotations

import re
import struct
import sys
from html.parser import HTMLParser
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


class _Page(HTMLParser):
    """The parts of the demo page the tests check: headings, figures and captions, the style."""

    def __init__(self):
        super().__init__()
        self.h2, self.figures, self.style = [], [], ""
        self._in = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "figcaption", "style"):
            self._in = tag
            if tag == "h2":
                self.h2.append("")
        elif tag == "img":
            self.figures.append({"src": dict(attrs)["src"], "caption": ""})

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "h2":
            self.h2[-1] += data
        elif self._in == "figcaption":
            self.figures[-1]["caption"] += data
        elif self._in == "style":
            self.style += data


def _png_width(path: Path) -> int:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">I", head[16:20])[0]


UNITS = ("mm", "°C", " K", "dB", "kPa", "GHz", "S/m", "uM", "µM", "%")


def test_brim_demo_runs_every_modality(tmp_path, capsys):
    code = main(["demo", "-o", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    names = [ep.name for ep in entry_points(group="brim.demos")]
    # a line per modality while it runs: its result comes before the next modality starts
    starts = {
        n: next(i for i, x in enumerate(lines) if re.match(rf"\[\d+/\d+\] {n}: ", x)) for n in names
    }
    ends = {
        n: next(i for i, x in enumerate(lines) if re.match(rf"\[ok\] {n}: .* \(\d+\.\d s\)$", x))
        for n in names
    }
    order = sorted(names, key=starts.get)
    for a, b in zip(order, order[1:]):
        assert starts[a] < ends[a] < starts[b], f"{a}'s result was not printed before {b} started"
    assert "FAILED" not in out

    page = _Page()
    page.feed((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert len(page.h2) == len(names)
    for heading in page.h2:  # no "fusion: Fusion: ..." (a heading repeating its own modality)
        first, _, rest = heading.partition(":")
        assert not (rest and first.strip().lower() in rest.lower()), heading
    pngs = sorted(tmp_path.rglob("*.png"))
    assert len(pngs) >= 4, "each modality should draw at least one figure"
    shown = {f["src"]: f["caption"] for f in page.figures}
    for png in pngs:
        assert png.stat().st_size > 2000, f"{png} looks empty"
        caption = shown[png.relative_to(tmp_path).as_posix()]
        assert len(caption) > 80 and any(u in caption for u in UNITS), (png.name, caption)
    # figures are shown at their size up to the page width (1400 px), not squashed to 520 px
    assert re.search(r"figure img \{[^}]*max-width: 100%", page.style)
    assert not re.search(r"img[^{]*\{[^}]*max-width: *\d+px", page.style)
    widths = [_png_width(p) for p in pngs]
    assert max(widths) >= 1200, widths


def test_demo_page_escapes_text(tmp_path):
    from brim.demo import DemoFigure, DemoSection, write_report

    fig = tmp_path / "x" / "a&b.png"
    section = DemoSection(
        "T <script>alert(1)</script>",
        summary=["ratio < 1 & > 0"],
        figures=[DemoFigure(fig, 'caption "quoted" <b>not bold</b>')],
        error="ValueError: <bad>",
        name="x",
    )
    text = write_report(tmp_path, [section]).read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "ratio &lt; 1 &amp; &gt; 0" in text
    assert 'src="x/a&amp;b.png"' in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text and "<b>not bold</b>" not in text
    assert "ValueError: &lt;bad&gt;" in text and '<span class="FAILED">FAILED</span>' in text


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
