"""``brim demo``: every modality end to end on the bundled samples, with an HTML report.

Each modality contributes ``run(outdir, *, progress=False) -> DemoSection`` through the
``brim.demos`` entry-point group. One failing section is reported in the page and in the exit
status; the others still run. The page is filled from :class:`string.Template` templates; every
text that goes into it is HTML-escaped.
"""

from __future__ import annotations

import html
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, TextIO

from brim._version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DemoFigure", "DemoSection", "format_section", "run_all", "save_figure", "write_report"]


@dataclass
class DemoFigure:
    """One figure of a demo section: a PNG file and the caption shown under it.

    Parameters
    ----------
    path : pathlib.Path
        The PNG file (inside the demo's output folder).
    caption : str
        What the figure shows, with the units of every axis and colour scale.
    """

    path: Path
    caption: str = ""


def save_figure(fig: Figure, path: Path, *, caption: str) -> DemoFigure:
    """Write a demo figure as the page shows it (PNG, 100 dpi) and pair it with its caption.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, drawn.
    path : pathlib.Path
        The PNG file (inside the demo's output folder).
    caption : str
        What the figure shows, with the units of every axis and colour scale.

    Returns
    -------
    DemoFigure
        ``path`` and ``caption``, for :attr:`DemoSection.figures`.
    """
    fig.savefig(path, dpi=100)
    return DemoFigure(path, caption)


@dataclass
class DemoSection:
    """What one modality's demo produced.

    Parameters
    ----------
    title : str
        The section heading (the modality in words, e.g. "Thermography").
    summary : list of str
        The numbers worth reading, one line each (printed and shown in the page).
    figures : list of DemoFigure or pathlib.Path
        The figures, in page order (a bare path gets no caption).
    error : str, optional
        Set when the section failed: the exception and a short traceback.
    seconds : float
        Wall time of the section (set by :func:`run_all`).
    name : str
        The modality (the entry-point name, e.g. ``thermo``), set by :func:`run_all`.
    """

    title: str
    summary: list[str] = field(default_factory=list)
    figures: list[DemoFigure | Path] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    name: str = ""

    @property
    def status(self) -> str:
        """``ok`` or ``FAILED``."""
        return "FAILED" if self.error else "ok"


def format_section(section: DemoSection) -> str:
    """The console lines for one finished section: status, name, title, seconds, summary.

    Parameters
    ----------
    section : DemoSection
        A section returned by :func:`run_all`.

    Returns
    -------
    str
        ``[ok] name: title (12.3 s)`` followed by the summary lines, indented.

    Examples
    --------
    >>> print(format_section(DemoSection("Thermography", ["mean ΔT +0.1 K"], name="thermo")))
    [ok] thermo: Thermography (0.0 s)
        mean ΔT +0.1 K
    """
    lines = [f"[{section.status}] {section.name}: {section.title} ({section.seconds:.1f} s)"]
    lines += [f"    {line}" for line in section.summary]
    if section.error:
        lines.append("    " + section.error.splitlines()[0])
    return "\n".join(lines)


#: the page's order: brim's modalities as the README presents them, then others by name
_ORDER = ("thermo", "microwave", "elasto", "fusion")


def _page_order(ep) -> tuple[int, str]:
    return (_ORDER.index(ep.name) if ep.name in _ORDER else len(_ORDER), ep.name)


def run_all(
    outdir: str | os.PathLike = "brim-demo",
    *,
    only: list[str] | None = None,
    progress: bool = False,
    echo: bool = False,
    stream: TextIO | None = None,
) -> tuple[Path, list[DemoSection]]:
    """Run every registered modality demo and write ``outdir/index.html``.

    Parameters
    ----------
    outdir : str or os.PathLike
        Output folder (created); each modality writes its figures into ``outdir/<name>/``.
    only : list of str, optional
        Run only these modalities (entry-point names).
    progress : bool
        Show the modalities' progress bars.
    echo : bool
        Print a line when a modality starts and its result (:func:`format_section`) as soon as
        it ends, so a long run shows where it is.
    stream : file, optional
        Where ``echo`` prints (default ``sys.stdout``).

    Returns
    -------
    (pathlib.Path, list of DemoSection)
        The report's path and the sections (failed ones carry ``error``).

    Examples
    --------
    >>> from brim.demo import run_all
    >>> page, sections = run_all("/tmp/brim-demo", only=["thermo"])  # doctest: +SKIP
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    eps = sorted(entry_points(group="brim.demos"), key=_page_order)
    eps = [ep for ep in eps if not only or ep.name in only]
    for k, ep in enumerate(eps, 1):
        if echo:
            print(f"[{k}/{len(eps)}] {ep.name}: running ...", file=stream or sys.stdout, flush=True)
        sub = out / ep.name
        sub.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        try:
            section = ep.load()(sub, progress=progress)
        except Exception as exc:  # noqa: BLE001 - report, continue with the next modality
            section = DemoSection(
                title=ep.name,
                error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}",
            )
        section.seconds = time.perf_counter() - t0
        section.name = ep.name
        sections.append(section)
        if echo:
            print(format_section(section), file=stream or sys.stdout, flush=True)
    report = write_report(out, sections)
    return report, sections


_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>brim $version demo</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1400px; margin: 0 auto; padding: 0 24px 48px;
       line-height: 1.45; color: #1b1b1b; }
h1 { margin-bottom: 0.2em; }
h2 { margin: 1.6em 0 0.1em; padding-top: 0.6em; border-top: 2px solid #ddd; }
.meta { color: #555; margin: 0 0 0.8em; }
.ok { color: #176b21; font-weight: bold; }
.FAILED { color: #b00; font-weight: bold; }
table.runs { border-collapse: collapse; margin: 1em 0; }
table.runs td, table.runs th { padding: 3px 14px 3px 0; text-align: left; }
table.runs td.num { text-align: right; }
ul.summary li { margin: 0.2em 0; }
figure { margin: 1.2em 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { max-width: 1100px; margin-top: 0.4em; color: #333; }
figcaption b { color: #1b1b1b; }
pre.err { color: #b00; background: #fff4f4; padding: 8px; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>brim $version demo</h1>
<p>Every number and figure below was computed just now, on this machine, from the sample data
bundled with brim (made by brim's own simulators, not patient data).</p>
<table class="runs">
<tr><th>modality</th><th>section</th><th>status</th><th>time</th></tr>
$rows
</table>
$sections
</body>
</html>
""")

_ROW = Template(
    '<tr><td><a href="#$name">brim.$name</a></td><td>$title</td>'
    '<td class="$status">$status</td><td class="num">$seconds s</td></tr>'
)

_SECTION = Template("""<section id="$name">
<h2>$title</h2>
<p class="meta"><code>brim.$name</code> &middot; <span class="$status">$status</span>
&middot; $seconds s</p>
$error$summary$figures</section>""")

_FIGURE = Template("""<figure>
<img src="$src" alt="$alt">
<figcaption><b>Figure $number.</b> $caption</figcaption>
</figure>
""")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def write_report(out: Path, sections: list[DemoSection]) -> Path:
    """Write the demo's HTML page (figures referenced relative to it).

    Parameters
    ----------
    out : pathlib.Path
        The demo's output folder; the page is ``out/index.html``.
    sections : list of DemoSection
        The sections, in page order.

    Returns
    -------
    pathlib.Path
        The page, written atomically.
    """
    out = Path(out)
    rows, parts = [], []
    number = 0
    for s in sections:
        name = s.name or s.title
        seconds = f"{s.seconds:.1f}"
        rows.append(
            _ROW.substitute(name=_e(name), title=_e(s.title), status=s.status, seconds=seconds)
        )
        figures = []
        for fig in s.figures:
            fig = fig if isinstance(fig, DemoFigure) else DemoFigure(Path(fig))
            number += 1
            rel = Path(os.path.relpath(fig.path, out)).as_posix()
            figures.append(
                _FIGURE.substitute(
                    src=_e(rel),
                    alt=_e(fig.caption or Path(fig.path).stem),
                    number=number,
                    caption=_e(fig.caption),
                )
            )
        summary = ""
        if s.summary:
            items = "".join(f"<li>{_e(line)}</li>\n" for line in s.summary)
            summary = f'<ul class="summary">\n{items}</ul>\n'
        error = f'<pre class="err">{_e(s.error)}</pre>\n' if s.error else ""
        parts.append(
            _SECTION.substitute(
                name=_e(name),
                title=_e(s.title),
                status=s.status,
                seconds=seconds,
                error=error,
                summary=summary,
                figures="".join(figures),
            )
        )
    page = _PAGE.substitute(
        version=_e(__version__), rows="\n".join(rows), sections="\n".join(parts)
    )
    from brim.io import write_text

    return write_text(out / "index.html", page)
