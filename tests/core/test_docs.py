"""The documentation: docstring examples run (doctests), the gallery check catches lost figures.

Doctests run here, once per module, through the standard library's :mod:`doctest` on the
installed modules (``brim.io``, not ``core/io.py``): pytest's ``--doctest-modules`` would import
the files under the folder names (``core``, ``thermo``) with ``--import-mode=importlib`` and run
brim's import-time registrations twice. The site itself is built by ``scripts/build_docs.sh``,
which runs ``docs/check_gallery.py`` on the result.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The main public entry points: each has Parameters, Returns and a runnable Examples section.
ENTRY_POINTS = [
    "brim.open",
    "brim.save",
    "brim.data.sample",
    "brim.accessor.BrimDatasetAccessor.validate",
    "brim.accessor.BrimDatasetAccessor.to_torch",
    "brim.thermo.readers.read_dmr",
    "brim.thermo.segmentation.segment_classical",
    "brim.microwave.readers.open_scan",
    "brim.microwave.radar.beamform",
    "brim.microwave.tomography.forward.simulate",
    "brim.elasto.readers.read_rf",
    "brim.elasto.displacement.estimate_displacement",
    "brim.fusion.measurement.read_measurement",
    "brim.fusion.background.fit_background",
    "brim.learn.train.fit",
    "brim.evaluate.metrics.auroc",
    "brim.evaluate.crossval.cross_validate",
]


def _load_script(path: Path):
    """Import a script that is not part of the package (docs/, scripts/) as a module."""
    name = f"_brim_docs_{path.stem}"
    if name not in sys.modules:  # dataclasses look their module up in sys.modules
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _load_check_gallery():
    return _load_script(ROOT / "docs" / "check_gallery.py")


def _modules() -> list[str]:
    """The public brim modules whose source holds at least one ``>>>`` example."""
    import brim

    names = ["brim"]
    for info in pkgutil.walk_packages(brim.__path__, "brim."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    with_examples = []
    for name in sorted(names):
        origin = importlib.util.find_spec(name).origin
        if origin and ">>>" in Path(origin).read_text(encoding="utf-8"):
            with_examples.append(name)
    return with_examples


def _resolve(name: str):
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


# --- doctests -------------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples_run(module_name, tmp_path, monkeypatch):
    """Every ``>>>`` example in the module's docstrings gives the output it shows."""
    module = importlib.import_module(module_name)
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    finder = doctest.DocTestFinder(exclude_empty=True)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags, verbose=False)  # not from sys.argv (-v)
    # the finder keeps only objects defined in this module, so a re-export never runs twice
    tests = [t for t in finder.find(module, module_name) if t.examples]
    if not tests:
        pytest.skip(f"{module_name} has no examples")
    failures = []
    for test in tests:
        result = runner.run(test, out=failures.append, clear_globs=True)
        assert result.attempted
    if failures:
        pytest.fail("".join(failures), pytrace=False)


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_entry_points_are_documented(name):
    """The main entry points keep their numpydoc Parameters, Returns and Examples sections."""
    obj = _resolve(name)
    doc = obj.__doc__ or ""
    for section in ("Parameters", "Returns", "Examples"):
        assert f"{section}\n" in doc and ">>>" in doc, f"{name} has no {section} section"


def test_docstring_stats_counts_sections():
    """The report script finds the sections it counts (the numbers are in the report)."""
    stats = _load_script(ROOT / "scripts" / "docstring_stats.py")
    rows = {r["name"]: r for r in stats.collect_api()}
    assert rows["brim.open"] == {
        "name": "brim.open",
        "Parameters": True,
        "Returns": True,
        "Examples": True,
    }
    total = stats.summary(list(rows.values()))
    assert total["functions"] > 100
    assert total["Examples"] >= len(ENTRY_POINTS) - 2  # accessor methods are counted once


# --- the gallery check ------------------------------------------------------------------------

_PAGE = """<html><body><img src="../_static/logo.svg"/>
<div class="cell_output docutils container">{}</div></body></html>"""


def _fake_site(tmp_path: Path, figures: dict[str, int]) -> tuple[Path, Path]:
    examples, html = tmp_path / "examples", tmp_path / "html"
    examples.mkdir()
    (html / "gallery").mkdir(parents=True)
    for stem, n in figures.items():
        (examples / f"{stem}.ipynb").write_text("{}")
        imgs = "".join(f'<img alt="fig" src="../_images/{stem}_{i}.png"/>' for i in range(n))
        (html / "gallery" / f"{stem}.html").write_text(_PAGE.format(imgs))
    return examples, html


def test_gallery_counts_output_images_only():
    gallery = _load_check_gallery()
    html = _PAGE.format(
        '<img src="../_images/a.png"/><img alt="x" src="data:image/png;base64,iVBO"/>'
    )
    assert gallery.count_figures(html) == 2  # the theme's logo is not a figure


def test_gallery_check_fails_when_a_notebook_loses_its_figures(tmp_path):
    gallery = _load_check_gallery()
    expected = {"a": gallery.Expected(2), "b": gallery.Expected(1, 1)}
    examples, html = _fake_site(tmp_path, {"a": 2, "b": 1})
    assert gallery.check(html, examples=examples, expected=expected, external_data=False) == []
    problems = gallery.check(html, examples=examples, expected=expected, external_data=True)
    assert problems == ["b.html: 1 figure(s), expected 2"]
    # a notebook that stopped showing figures (e.g. matplotlib.use("Agg"))
    (html / "gallery" / "a.html").write_text(_PAGE.format(""))
    problems = gallery.check(html, examples=examples, expected=expected, external_data=False)
    assert problems == ["a.html: 0 figure(s), expected 2"]


def test_gallery_check_fails_for_a_missing_page_or_an_undeclared_notebook(tmp_path):
    gallery = _load_check_gallery()
    examples, html = _fake_site(tmp_path, {"a": 1})
    (html / "gallery" / "a.html").unlink()
    (examples / "new.ipynb").write_text("{}")
    problems = gallery.check(
        html, examples=examples, expected={"a": gallery.Expected(1)}, external_data=False
    )
    assert len(problems) == 2
    assert "a.html is missing" in problems[0]
    assert "new.ipynb has no expected figure count" in problems[1]


def test_every_notebook_has_an_expected_figure_count():
    gallery = _load_check_gallery()
    notebooks = {p.stem for p in (ROOT / "examples").glob("*.ipynb")}
    assert notebooks == set(gallery.EXPECTED)
    assert all(e.figures >= 1 for e in gallery.EXPECTED.values())  # every notebook draws


def test_gallery_check_uses_what_the_build_ran_with(tmp_path, monkeypatch):
    """The figure count follows the real-data setting recorded by the build, not the shell's."""
    gallery = _load_check_gallery()
    expected = {"a": gallery.Expected(1, 1)}
    examples, html = _fake_site(tmp_path, {"a": 2})
    monkeypatch.delenv("BRIM_EXTERNAL_DATA", raising=False)
    (html / "brim_build.json").write_text('{"external_data": true, "execute": "force"}')
    assert gallery.check(html, examples=examples, expected=expected) == []
    (html / "brim_build.json").write_text('{"external_data": false, "execute": "force"}')
    assert gallery.check(html, examples=examples, expected=expected) == [
        "a.html: 2 figure(s), expected 1"
    ]
