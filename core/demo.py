"""``brim demo``: every modality end to end on the bundled samples, with an HTML report.

Each modality contributes ``run(outdir, *, progress=False) -> DemoSection`` through the
``brim.demos`` entry-point group. One failing section is reported in the page and in the exit
status; the others still run.
"""

from __future__ import annotations

import html
import os
import time
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from brim._version import __version__


@dataclass
class DemoSection:
    """What one modality's demo produced."""

    title: str
    summary: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    name: str = ""  # the modality (entry-point name), set by run_all


def run_all(
    outdir: str | os.PathLike = "brim-demo",
    *,
    only: list[str] | None = None,
    progress: bool = False,
) -> tuple[Path, list[DemoSection]]:
    """Run every registered modality demo and write ``outdir/index.html``.

    Returns
    -------
    (Path, list of DemoSection)
        The report's path and the sections (failed ones carry ``error``).
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    eps = sorted(entry_points(group="brim.demos"), key=lambda e: e.name)
    for ep in eps:
        if only and ep.name not in only:
            continue
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
    report = write_report(out, sections)
    return report, sections


def write_report(out: Path, sections: list[DemoSection]) -> Path:
    """Write the demo's HTML page (figures referenced relative to it)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>brim demo</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "img{max-width:520px;margin:4px;border:1px solid #ccc}.err{color:#b00}</style>",
        f"</head><body><h1>brim {html.escape(__version__)} demo</h1>",
        "<p>Every figure below was computed just now from the bundled sample data "
        "(made by brim's own simulators).</p>",
    ]
    for s in sections:
        title = f"{s.name}: {s.title}" if s.name and s.name not in s.title else s.title
        parts.append(f"<h2>{html.escape(title)} <small>({s.seconds:.1f} s)</small></h2>")
        if s.error:
            parts.append(f"<pre class='err'>{html.escape(s.error)}</pre>")
        if s.summary:
            parts.append(
                "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in s.summary) + "</ul>"
            )
        for fig in s.figures:
            rel = os.path.relpath(fig, out)
            parts.append(f"<img src='{html.escape(rel)}' alt='{html.escape(Path(fig).stem)}'>")
    parts.append("</body></html>")
    path = out / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text("\n".join(parts))
    os.replace(tmp, path)
    return path
