"""brim has no import cycle among its modules (static check, no module is imported).

Every ``.py`` file under ``core/``, ``thermo/``, ``microwave/``, ``elasto/`` and ``fusion/`` is
parsed with :mod:`ast`; its name is mapped to the installed one (``core/io.py`` -> ``brim.io``,
``thermo/flir.py`` -> ``brim.thermo.flir``, per the ``package-dir`` mapping in pyproject.toml).
An edge A -> B is recorded for every *module-level* ``import``/``from ... import`` in A that names a
brim module B, also inside module-level ``try``/``with``/``if`` blocks and class bodies (all run
at import time), except under ``if TYPE_CHECKING:`` (never run). ``from pkg import name`` counts
as an edge to ``pkg.name`` when that is a module, otherwise to ``pkg``. Imports inside a function
or method body run at call time, after every module has finished importing: they are deferred,
allowed, and ignored by the main test (a separate test counts them too, to check that the
cycles named in issue 18 stay broken). Importing a submodule also runs its parent packages'
``__init__``; that implicit edge is not counted, so a package ``__init__`` that re-exports its
submodules is not a cycle by itself.

A cycle is a strongly connected component with more than one module (or a module importing
itself); the test lists each cycle it finds with one path through it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"core": "brim", "thermo": "brim.thermo", "microwave": "brim.microwave",
           "elasto": "brim.elasto", "fusion": "brim.fusion"}  # fmt: skip


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for folder, pkg in FOLDERS.items():
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            parts = [] if rel.parts == ("__init__",) else list(rel.parts)
            if parts and parts[-1] == "__init__":
                parts = parts[:-1]
            if any(not p.isidentifier() for p in parts):
                continue
            name = ".".join([pkg, *parts])
            # a modality folder inside core/ would be a different module; the mapping wins
            if folder == "core" and parts and parts[0] in FOLDERS:
                continue
            mods[name] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(tree: ast.Module):
    """Import nodes executed when the module is imported (not inside def/lambda bodies)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            # class bodies, if/try/with/for blocks run at import time
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    stack.append(child)
                elif isinstance(child, (ast.excepthandler, ast.match_case)):
                    stack.extend(child.body)


def _all_imports(tree: ast.Module):
    """Every import node, deferred ones (inside functions) included."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _graph(*, deferred: bool = False) -> dict[str, set[str]]:
    """Import graph among brim modules; ``deferred=True`` adds imports inside functions."""
    walk = _all_imports if deferred else _module_level_imports
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        package = name if is_pkg else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [
                    f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names
                ]
            for t in targets:
                # `import brim.x.y` names brim.x.y; keep the longest brim module it names
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of size > 1 (or self-loops), Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def _path_through(comp: list[str], graph: dict[str, set[str]]) -> str:
    """One cycle through the component, written a -> b -> ... -> a."""
    start = comp[0]
    members = set(comp)
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [start]
                    node = v
                    chain = []
                    while node != start:
                        chain.append(node)
                        node = prev[node]
                    return " -> ".join(path + chain[::-1] + [start])
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return " <-> ".join(comp)


def test_the_graph_sees_the_package():
    graph = _graph()
    assert {
        "brim",
        "brim.io",
        "brim.thermo",
        "brim.microwave",
        "brim.elasto",
        "brim.fusion",
    } <= set(graph)
    assert "brim.errors" in graph["brim.io"]  # a known module-level import is found
    assert sum(map(len, graph.values())) > 100


def test_cycle_finder_finds_a_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert sorted(_cycles(g)) == [["a", "b", "c"], ["e"]]
    assert _path_through(["a", "b", "c"], g) == "a -> b -> c -> a"


def test_module_level_walk_skips_function_bodies_and_type_checking():
    tree = ast.parse(
        "import a\n"
        "try:\n    import b\nexcept ImportError:\n    import c\n"
        "if TYPE_CHECKING:\n    import d\nelse:\n    import e\n"
        "class K:\n    import f\n"
        "def g():\n    import h\n"
    )
    names = sorted(n.names[0].name for n in _module_level_imports(tree))
    assert names == ["a", "b", "c", "e", "f"]
    assert sorted(n.names[0].name for n in _all_imports(tree)) == list("abcdefh")


def test_no_import_cycle_among_brim_modules():
    graph = _graph()
    cycles = _cycles(graph)
    assert not cycles, "import cycles (module-level imports):\n" + "\n".join(
        _path_through(c, graph) for c in cycles
    )


def test_the_cycles_named_in_issue_18_are_gone_even_through_deferred_imports():
    """backend <-> torch_bridge, forward <-> moment_quadrature and calibration <-> radar were
    cycles hidden in function bodies; the shared pieces moved (brim.backend.tensor_to_numpy,
    brim.microwave.tomography.vie, brim.microwave.radar.timedomain), so no import at any depth
    closes them."""
    graph = _graph(deferred=True)
    comps = _cycles(graph)
    pairs = [
        ("brim.backend", "brim.torch_bridge"),
        ("brim.microwave.tomography.forward", "brim.microwave.tomography.moment_quadrature"),
        ("brim.microwave.radar.calibration", "brim.microwave.radar.beamforming"),
    ]
    for a, b in pairs:
        assert a in graph and b in graph
        together = [c for c in comps if a in c and b in c]
        assert not together, _path_through(together[0], graph)
