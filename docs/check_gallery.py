"""Check that every gallery page of the built documentation shows its notebook's figures.

Usage: ``python docs/check_gallery.py [HTML_DIR]`` (default ``docs/_build/html``); run by
``scripts/build_docs.sh`` after the build. Exit status 1 when a page is missing, a notebook of
``examples/`` has no entry below, or a page shows another number of figures than expected.

The expected numbers are written down here, by reading each notebook: the figures its cells
draw (a cell that leaves a matplotlib figure open shows it once). They are not read from the
executed notebooks, so a notebook that stops showing figures (e.g. because it selected the
non-interactive ``Agg`` backend, or closes its figures) fails the check. Sections that need the
real public data (``BRIM_EXTERNAL_DATA``) add their figures only when that variable named an
existing folder during the build (recorded by ``docs/conf.py`` in ``brim_build.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Expected:
    """Figures a notebook shows: always, and in addition when the real data are present."""

    figures: int
    external_data_figures: int = 0

    def count(self, external_data: bool) -> int:
        return self.figures + (self.external_data_figures if external_data else 0)


#: notebook stem -> figures shown (cells named for whoever updates a notebook)
EXPECTED = {
    "00_getting_started": Expected(1),  # ds.brim.plot
    "01_honest_evaluation": Expected(1),  # Grad-CAM (the report's figures go to files)
    "thermo": Expected(4),  # segmentation, asymmetry map, Grad-CAM, detectability curves
    "microwave_radar": Expected(5),  # antennas, time signal, eps curves, 4 x 3 images, x-z cuts
    "microwave_tomography": Expected(1),  # truth / DBIM / difference
    "elastography": Expected(3, 1),  # FE strain, NCC/phase/DP, shear wave; + Field II frames
    "fusion": Expected(2, 1),  # measurement + ultrasound, HbT slices; + Zhu-lab maps
}


class _ImageCounter(HTMLParser):
    """Counts the images of notebook outputs: files in ``_images/`` or inline ``data:image``."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag, attrs):
        if tag != "img":
            return
        src = dict(attrs).get("src") or ""
        if "_images/" in src or src.startswith("data:image/"):
            self.count += 1


def count_figures(html: str) -> int:
    """Number of notebook-output images in one built HTML page."""
    parser = _ImageCounter()
    parser.feed(html)
    return parser.count


def external_data_present(html_dir: str | os.PathLike | None = None) -> bool:
    """Whether the notebooks ran with the real data: as the build recorded it, else the env."""
    record = Path(html_dir) / "brim_build.json" if html_dir is not None else None
    if record is not None and record.is_file():
        return bool(json.loads(record.read_text())["external_data"])
    value = os.environ.get("BRIM_EXTERNAL_DATA")
    return bool(value) and Path(value).is_dir()


def check(
    html_dir: str | os.PathLike,
    *,
    examples: str | os.PathLike = ROOT / "examples",
    expected: dict[str, Expected] | None = None,
    external_data: bool | None = None,
) -> list[str]:
    """Problems found (empty when every gallery page shows its figures)."""
    expected = EXPECTED if expected is None else expected
    external = external_data_present(html_dir) if external_data is None else external_data
    gallery = Path(html_dir) / "gallery"
    problems = []
    notebooks = sorted(p.stem for p in Path(examples).glob("*.ipynb"))
    if not notebooks:
        problems.append(f"no notebooks in {examples}")
    for stem in notebooks:
        if stem not in expected:
            problems.append(
                f"examples/{stem}.ipynb has no expected figure count in docs/check_gallery.py"
            )
            continue
        page = gallery / f"{stem}.html"
        if not page.is_file():
            problems.append(f"{page} is missing: the notebook is not in the gallery")
            continue
        want = expected[stem].count(external)
        got = count_figures(page.read_text(encoding="utf-8"))
        if got != want:
            problems.append(f"{page.name}: {got} figure(s), expected {want}")
    for stem in sorted(set(expected) - set(notebooks)):
        problems.append(f"docs/check_gallery.py expects figures of examples/{stem}.ipynb, absent")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default=str(ROOT / "docs" / "_build" / "html"))
    args = parser.parse_args(argv)
    problems = check(args.html_dir)
    external = external_data_present(args.html_dir)
    if problems:
        for p in problems:
            print(f"gallery: {p}", file=sys.stderr)
        return 1
    total = sum(e.count(external) for e in EXPECTED.values())
    print(
        f"gallery: {len(EXPECTED)} pages, {total} figures, as expected "
        f"({'with' if external else 'without'} real data)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
