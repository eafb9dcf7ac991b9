"""Every notebook in ``examples/`` runs without error and shows the figures it draws.

This is the suite's one execution of the notebooks (pytest's ``--nbmake`` run is not used): each
notebook runs once in a fresh kernel whose working directory is ``examples/``, as in Jupyter, and
every cell that draws a figure must leave an ``image/png`` output in the executed notebook. A
notebook that switches matplotlib to a non-interactive backend (``matplotlib.use("Agg")``) runs
without error but shows no figure, so it fails here. The kernel's backend is chosen through the
environment (``MPLBACKEND``), never by the notebook.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import pytest

from brim.data import external_data

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT_S = 300
INLINE = "module://matplotlib_inline.backend_inline"
# a folder where each notebook, once executed and checked here, is saved for the docs build
# (docs/conf.py), with the SHA-256 of the source it ran from
EXECUTED_ENV = "BRIM_EXECUTED_NOTEBOOKS"

# A call that makes (or draws into a new) figure: pyplot's figure constructors, ds.brim.plot and
# brim's plot_* functions (which make a figure when no Axes is given).
_FIGURE_CALL = re.compile(r"\bplt\.(?:subplots|figure)\(|\.brim\.plot\(|\bplot_\w+\(")
# notebooks that run on simulated stand-in data when $BRIM_EXTERNAL_DATA is unset: they must
# say so in a banner
SIMULATED_FALLBACK = {"microwave_radar"}
_BACKEND_SWITCH = re.compile(r"matplotlib\.use\(|plt\.switch_backend\(|^%matplotlib\s+(?!inline)")


def _code(cell) -> str:
    """The cell's source without comment lines."""
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("#"))


def figure_cells(nb) -> list[int]:
    """Indexes of the code cells expected to show a figure when executed.

    A cell whose figure depends on the real data (it calls ``external_data``) is expected to draw
    only when ``$BRIM_EXTERNAL_DATA`` is set; it skips that part otherwise.
    """
    have_real_data = external_data() is not None  # raises on a set but wrong path
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code = _code(cell)
        if not _FIGURE_CALL.search(code):
            continue
        if "external_data(" in code and not have_real_data:
            continue
        out.append(i)
    return out


def png_count(cell) -> int:
    """Number of ``image/png`` outputs of an executed cell."""
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def test_figure_cells_are_found():
    """The figure-cell rule finds what a reader sees as plotting cells (so the count can fail)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2])"),
        nbformat.v4.new_code_cell("ax = ds.brim.plot('temperature')"),
        nbformat.v4.new_code_cell("# plt.figure() in a comment only\nx = 1"),
        nbformat.v4.new_code_cell("plot_modulus_map(res.maps);"),
        nbformat.v4.new_markdown_cell("plt.subplots() in prose"),
    ]
    assert figure_cells(nb) == [1, 2, 4]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_figures(path: Path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not _BACKEND_SWITCH.search(_code(cell)), (
                f"{path.name} cell {i} chooses a matplotlib backend; leave that to MPLBACKEND"
            )
    expected = figure_cells(nb)
    env = dict(os.environ, MPLBACKEND=INLINE, PYDEVD_DISABLE_FILE_VALIDATION="1")
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    t0 = time.perf_counter()
    client.execute(env=env)  # raises CellExecutionError naming the failing cell
    seconds = time.perf_counter() - t0
    print(f"{path.name}: executed in {seconds:.1f} s")
    missing = [i for i in expected if png_count(nb.cells[i]) == 0]
    assert not missing, f"{path.name}: cells {missing} draw a figure but show none"
    total = sum(png_count(c) for c in nb.cells if c.cell_type == "code")
    assert total >= len(expected) > 0, f"{path.name}: {total} figures for {len(expected)} cells"
    keep = os.environ.get(EXECUTED_ENV)
    if keep:  # CI hands the executed notebook to the docs build, which then runs it no more
        nb.metadata["brim_source_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        nbformat.write(nb, Path(keep) / path.name)
    if path.stem in SIMULATED_FALLBACK and external_data() is None:
        html = [
            out["data"]["text/html"]
            for c in nb.cells
            for out in c.get("outputs", [])
            if "text/html" in out.get("data", {})
        ]
        assert any("SIMULATED DATA" in h for h in html), f"{path.name}: no simulated-data banner"
