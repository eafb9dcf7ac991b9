"""Sphinx configuration of brim's documentation site.

Build it with ``scripts/build_docs.sh`` (warnings are errors). Three things are generated at build
time, never edited by hand (all ignored by git):

- ``gallery/*.ipynb``: copies of ``examples/*.ipynb``, executed by myst-nb;
- ``api/<package>.rst``: one page per documented package, listing the names in its ``__all__``;
- ``api/generated/``: autosummary's page per public name.

Environment: ``BRIM_DOCS_EXECUTE`` = ``force`` (default: every notebook runs), ``cache``
(jupyter-cache, re-runs only changed notebooks) or ``off`` (no execution; the gallery then has no
figures and its check fails).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import brim  # noqa: E402

project = "brim"
author = "brim developers"
copyright = "brim developers, BSD-3-Clause"  # noqa: A001 - Sphinx's name
release = brim.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "sphinx_copybutton",
    "brim_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# -- API reference -----------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc's Parameters section states the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
add_module_names = False

intersphinx_mapping = {}  # no network at build time: cross-project links stay plain text

# -- notebooks (myst-nb) -----------------------------------------------------------------------
nb_execution_mode = os.environ.get("BRIM_DOCS_EXECUTE", "force")
nb_execution_timeout = 600
# a failing cell is a warning: -W fails the build, but only after every notebook ran
nb_execution_raise_on_error = False
nb_execution_show_tb = True
nb_merge_streams = True
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML --------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"brim {release}"
html_static_path = ["_static"]
html_css_files = ["brim.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # gallery pages give their figures the whole width: no "on this page" column there
    # (exact page names: pydata warns when two wildcard patterns match one page)
    "secondary_sidebar_items": {
        "**": ["page-toc"],
        **{f"gallery/{p.stem}": [] for p in (ROOT / "examples").glob("*.ipynb")},
    },
}
html_sidebars = {"index": [], "install": [], "conventions": []}


def _executed(src: Path) -> bytes | None:
    """The notebook ``src`` as the test suite executed it, when that run saved it.

    ``tests/core/test_notebooks.py`` saves each notebook it executed and checked into the folder
    ``$BRIM_EXECUTED_NOTEBOOKS`` (CI sets it), with the SHA-256 of its source. A saved notebook
    of the same source is used as it is (``execution_mode: off`` for that page), so CI runs each
    notebook once, not once for the tests and again for the docs.
    """
    folder = os.environ.get("BRIM_EXECUTED_NOTEBOOKS")
    done = Path(folder) / src.name if folder else None
    if done is None or not done.is_file():
        return None
    nb = json.loads(done.read_text(encoding="utf-8"))
    if (
        nb.get("metadata", {}).get("brim_source_sha256")
        != hashlib.sha256(src.read_bytes()).hexdigest()
    ):
        return None  # executed from another version of the notebook
    nb["metadata"].setdefault("mystnb", {})["execution_mode"] = "off"
    return json.dumps(nb, indent=1, ensure_ascii=False).encode("utf-8")


def _copy_gallery() -> None:
    """Copy the example notebooks into ``gallery/`` (only those that changed), each as the
    test suite executed it when that run saved it (:func:`_executed`)."""
    out = DOCS / "gallery"
    out.mkdir(exist_ok=True)
    sources = {p.name: p for p in sorted((ROOT / "examples").glob("*.ipynb"))}
    for stale in out.glob("*.ipynb"):
        if stale.name not in sources:
            stale.unlink()
    for name, src in sources.items():
        dst = out / name
        data = _executed(src) or src.read_bytes()
        if not dst.exists() or dst.read_bytes() != data:
            dst.write_bytes(data)


_copy_gallery()


def _record_build(app, exception):
    """Write what the notebooks ran with, for docs/check_gallery.py."""
    if exception is None and app.builder.format == "html":
        data = os.environ.get("BRIM_EXTERNAL_DATA")
        info = {"external_data": bool(data) and Path(data).is_dir(), "execute": nb_execution_mode}
        (Path(app.outdir) / "brim_build.json").write_text(json.dumps(info))


def setup(app):
    app.connect("build-finished", _record_build)
