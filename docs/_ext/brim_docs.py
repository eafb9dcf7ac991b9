"""Local Sphinx extension of brim's documentation: generated API pages and schema tables.

- At load time it writes ``api/<package>.rst`` for each documented package from the package's
  ``__all__`` (a package without one lists the public functions and classes of its public
  submodules), so the reference follows the code without hand-kept lists.
- The directives below emit reStructuredText: in a MyST page, call them inside an
  ``{eval-rst}`` block.
- ``.. brim-schema-table::`` renders every spec in :data:`brim.schema.REGISTRY` as a summary table;
  ``.. brim-schema-details::`` renders one table of variables and coordinates per kind. The
  tables are made from the registry at build time, so they cannot drift from the code.
- ``.. brim-cli-reference::`` prints every command's ``--help``, from the parser itself.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import warnings
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parents[1]

#: The documented packages, in the order of the API index, with a one-line title each.
PACKAGES = {
    "brim": "Core: data model, files, schemas, torch bridge",
    "brim.thermo": "Infrared thermography",
    "brim.microwave": "Microwave imaging (radar and tomography)",
    "brim.elasto": "Ultrasound elastography",
    "brim.fusion": "Optical-ultrasound fusion",
    "brim.learn": "Deep learning",
    "brim.evaluate": "Honest evaluation",
}
#: Modules documented on a package's page besides its ``__all__`` (the core's building blocks).
EXTRA_MODULES = {
    "brim": [
        "brim.io",
        "brim.backend",
        "brim.torch_bridge",
        "brim.provenance",
        "brim.parallel",
        "brim.errors",
        "brim.cli",
    ],
}
#: Submodules never listed when a package has no ``__all__`` (command-line shells, demo pages).
_SKIP_SUBMODULES = {"cli", "demo", "samples", "pipelines", "backends", "tomography_cli"}


def public_names(package: str) -> list[str]:
    """Fully qualified public names of ``package``: its ``__all__``, else its submodules' names."""
    mod = importlib.import_module(package)
    names = getattr(mod, "__all__", None)
    if names is not None:
        return [f"{package}.{n}" for n in names if not n.startswith("__")]
    found = []
    for info in pkgutil.iter_modules(mod.__path__):
        if info.name.startswith("_") or info.name in _SKIP_SUBMODULES:
            continue
        sub = importlib.import_module(f"{package}.{info.name}")
        sub_all = getattr(sub, "__all__", None)
        for name, obj in vars(sub).items():
            if name.startswith("_"):
                continue
            if sub_all is not None and name not in sub_all:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != sub.__name__:
                continue
            found.append(f"{sub.__name__}.{name}")
    return sorted(found)


def _defining_name(name: str) -> str:
    """``name``, or ``name.attr`` when a submodule of the same name shadows the exported object.

    A package may export a function whose name is also one of its submodules (brim avoids this:
    ``brim.fusion.reconstruct`` lives in ``brim.fusion.reconstruction``); once such a submodule
    is imported, the package attribute is the module, and the function is documented under its
    defining module.
    """
    module, _, attr = name.rpartition(".")
    pkg = importlib.import_module(module)
    if not hasattr(pkg, "__path__") or importlib.util.find_spec(name) is None:
        return name
    with warnings.catch_warnings():  # a deprecated module path (a forwarding shim)
        warnings.simplefilter("ignore", DeprecationWarning)
        sub = importlib.import_module(name)
        obj = getattr(sub, attr, None)
    # the package may keep its function bound (brim.thermo for its deprecated
    # relative_features path): then the package attribute is what is documented
    if not inspect.ismodule(getattr(pkg, attr, None)):
        return name
    if obj is not None and (inspect.isfunction(obj) or inspect.isclass(obj)):
        return f"{name}.{attr}"
    return name


def _kind(name: str) -> str:
    module, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except AttributeError:  # a submodule that its (lazy) package has not imported yet
        obj = importlib.import_module(name)
    if inspect.ismodule(obj):
        return "Modules"
    if inspect.isclass(obj):
        return "Exceptions" if issubclass(obj, BaseException) else "Classes"
    if callable(obj):
        return "Functions"
    return "Constants"


def write_api_pages() -> list[str]:
    """Write ``api/<package>.rst`` for every documented package; return the page names."""
    out = DOCS / "api"
    out.mkdir(exist_ok=True)
    pages = []
    stubs: set[str] = set()
    for package, title in PACKAGES.items():
        names = [_defining_name(n) for n in public_names(package)]
        names += EXTRA_MODULES.get(package, [])
        stubs.update(names)
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(_kind(name), []).append(name)
        head = f"``{package}`` — {title}"
        lines = [
            ".. This page is generated by docs/_ext/brim_docs.py from the package's __all__.",
            "",
            head,
            "=" * len(head),
            "",
            f".. automodule:: {package}",
            "   :no-members:",
            "   :no-index:",
            "",
            f".. currentmodule:: {package}",
            "",
        ]
        if not hasattr(importlib.import_module(package), "__all__"):
            lines += [
                f"``{package}`` defines no ``__all__``; listed here are the public functions and "
                "classes of its submodules.",
                "",
            ]
        for group in ("Modules", "Functions", "Classes", "Exceptions", "Constants"):
            if group not in groups:
                continue
            lines += [
                group,
                "-" * len(group),
                "",
                ".. autosummary::",
                "   :toctree: generated/",
                "   :nosignatures:",
                "",
            ]
            # names relative to the current module (autosummary refuses a repeated prefix)
            lines += [f"   {n.removeprefix(package + '.')}" for n in groups[group]]
            lines.append("")
        text = "\n".join(lines)
        page = out / f"{package}.rst"
        if not page.exists() or page.read_text() != text:  # keep incremental builds incremental
            page.write_text(text)
        pages.append(page.stem)
    # autosummary never deletes a stub: drop those of names that are no longer public
    for stub in (out / "generated").glob("*.rst"):
        if stub.stem not in stubs:
            stub.unlink()
    return pages


def _dims(spec) -> str:
    if not spec.dims:
        return "any"
    layouts = ("``(" + ", ".join(layout) + ")``" if layout else "scalar" for layout in spec.dims)
    return " or ".join(layouts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "—"


class SchemaTable(SphinxDirective):
    """A table of every registered brim schema: kind, version, description."""

    def run(self):
        from brim import schema

        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 18 8 74",
            "",
            "   * - kind",
            "     - version",
            "     - what it holds",
        ]
        for kind in schema.kinds():
            spec = schema.get(kind)
            lines += [
                f"   * - :ref:`{kind} <schema-{kind}>`",
                f"     - ``{spec.tag}``",
                f"     - {_cell(spec.description)}",
            ]
        return self._parse(lines)

    def _parse(self, lines):
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="brim.schema"), 0, container)
        return container.children


class SchemaDetails(SchemaTable):
    """One section per kind: its variables and coordinates, with dims, dtype and units."""

    def run(self):
        from brim import schema

        lines = []
        for kind in schema.kinds():
            spec = schema.get(kind)
            # a rubric, not a section: sections cannot be made from inside a MyST {eval-rst} block
            lines += [f".. _schema-{kind}:", "", f".. rubric:: {kind} (version {spec.version})", ""]
            lines += [spec.description, ""]
            lines += [
                ".. list-table::",
                "   :header-rows: 1",
                "   :widths: 18 12 24 10 16 20",
                "",
                "   * - name",
                "     - role",
                "     - dims",
                "     - dtype",
                "     - units",
                "     - notes",
            ]
            for role, group in (("variable", spec.variables), ("coordinate", spec.coords)):
                for v in group:
                    notes = []
                    if not v.required:
                        notes.append("optional")
                    if v.allow_nan:
                        notes.append("NaN allowed")
                    if v.doc:
                        notes.append(v.doc)
                    name = f"``{v.name}``" if v.name else "*any map variable*"
                    units = ", ".join(f"``{u}``" for u in v.units) if v.units else "—"
                    lines += [
                        f"   * - {name}",
                        f"     - {role}",
                        f"     - {_cell(_dims(v))}",
                        f"     - {v.dtype}",
                        f"     - {units}",
                        f"     - {_cell('; '.join(notes))}",
                    ]
            if spec.attrs:
                lines += ["", "Required attributes: " + ", ".join(f"``{a}``" for a in spec.attrs)]
            lines.append("")
        return self._parse(lines)


class CliReference(SphinxDirective):
    """Every command of ``brim``: its ``--help`` text, generated from :func:`brim.cli.build_parser`.

    The help is shown verbatim (a literal block per command), exactly as ``brim ... -h`` prints
    it, examples included; nothing in a help text is parsed as reStructuredText.
    """

    def run(self):
        import argparse
        import os

        from brim.cli import build_parser

        old = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width: the page's
        try:
            lines: list[str] = []

            def walk(parser: argparse.ArgumentParser, depth: int) -> None:
                # rubrics, not sections: sections cannot be made inside a MyST {eval-rst} block
                anchor = parser.prog.replace(" ", "-")
                lines.extend([f".. _cli-{anchor}:", "", f".. rubric:: ``{parser.prog}``", ""])
                lines.append(".. code-block:: text")
                lines.append("")
                lines.extend("   " + line for line in parser.format_help().rstrip().splitlines())
                lines.append("")
                for action in parser._actions:
                    if isinstance(action, argparse._SubParsersAction):
                        for sub in action.choices.values():
                            walk(sub, depth + 1)

            walk(build_parser(), 0)
        finally:
            if old is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = old
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="brim --help"), 0, container)
        return container.children


def setup(app):
    write_api_pages()
    app.add_directive("brim-schema-table", SchemaTable)
    app.add_directive("brim-schema-details", SchemaDetails)
    app.add_directive("brim-cli-reference", CliReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
