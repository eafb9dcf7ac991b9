"""Count brim's public functions whose numpydoc docstring has Parameters / Returns / Examples.

Two populations are counted:

``all``
    every public function and public method defined in a public module of brim (module and
    function names without a leading underscore; the function's ``__module__`` is the module it
    is found in, so re-exports are counted once).
``api``
    the names listed in ``__all__`` of the documented packages (brim, brim.thermo,
    brim.microwave, brim.elasto, brim.fusion, brim.learn, brim.evaluate) that are functions, plus
    the public methods of the classes listed there.

A function "has Parameters" when its docstring has a numpydoc ``Parameters`` heading; functions
that take no argument other than ``self``/``cls`` count as having it (there is nothing to list).
The same for ``Returns``/``Yields`` and functions annotated ``-> None`` or without a return
statement value (properties are counted as having Returns: their summary is the return).

Usage: ``python scripts/docstring_stats.py [--json] [--missing all|api]``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import re
import sys

PACKAGES = (
    "brim",
    "brim.thermo",
    "brim.microwave",
    "brim.elasto",
    "brim.fusion",
    "brim.learn",
    "brim.evaluate",
)
SECTION = {
    name: re.compile(rf"^\s*{name}\s*\n\s*-{{3,}}\s*$", re.MULTILINE)
    for name in ("Parameters", "Returns", "Yields", "Examples")
}


def _modules() -> list:
    import brim

    mods = []
    for info in pkgutil.walk_packages(brim.__path__, "brim."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        try:
            mods.append(importlib.import_module(info.name))
        except Exception as exc:  # noqa: BLE001 - an optional dependency may be missing
            print(f"skipped {info.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return [brim, *mods]


def _takes_arguments(func) -> bool:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return True
    return any(p.name not in ("self", "cls") for p in params)


def _returns_nothing(func) -> bool:
    if isinstance(func, property):
        return False
    ann = inspect.signature(func).return_annotation
    return ann in (None, "None")


def _record(func, qualname: str) -> dict:
    target = func.fget if isinstance(func, property) else func
    doc = inspect.getdoc(target) or ""
    has = {k: bool(rx.search(doc)) for k, rx in SECTION.items()}
    is_prop = isinstance(func, property)
    return {
        "name": qualname,
        "Parameters": has["Parameters"] or is_prop or not _takes_arguments(target),
        "Returns": has["Returns"] or has["Yields"] or is_prop or _returns_nothing(target),
        "Examples": has["Examples"],
    }


def _methods(cls, qual: str):
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            yield _record(member, f"{qual}.{name}")


def collect_all() -> list[dict]:
    """Every public function and method defined in a public brim module."""
    rows = []
    for mod in _modules():
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                rows.append(_record(obj, f"{mod.__name__}.{name}"))
            elif inspect.isclass(obj):
                rows.extend(_methods(obj, f"{mod.__name__}.{name}"))
    return rows


def collect_api() -> list[dict]:
    """The functions (and public methods of classes) named in the packages' ``__all__``."""
    rows = []
    seen = set()
    for pkg in PACKAGES:
        try:
            mod = importlib.import_module(pkg)
        except Exception as exc:  # noqa: BLE001
            print(f"skipped {pkg}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                rows.append(_record(obj, f"{pkg}.{name}"))
            elif inspect.isclass(obj):
                rows.extend(_methods(obj, f"{pkg}.{name}"))
    # the accessor is the public face of the data model
    from brim.accessor import BrimDatasetAccessor

    rows.extend(_methods(BrimDatasetAccessor, "xarray.Dataset.brim"))
    return rows


def summary(rows: list[dict]) -> dict:
    return {
        "functions": len(rows),
        **{k: sum(r[k] for r in rows) for k in ("Parameters", "Returns", "Examples")},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--missing", choices=("all", "api"), help="list names missing a section")
    args = parser.parse_args(argv)
    pops = {"all": collect_all(), "api": collect_api()}
    counts = {k: summary(v) for k, v in pops.items()}
    if args.json:
        print(json.dumps(counts, indent=2))
    else:
        for k, c in counts.items():
            print(
                f"{k:>4}: {c['functions']} public functions; with Parameters {c['Parameters']}, "
                f"Returns {c['Returns']}, Examples {c['Examples']}"
            )
    if args.missing:
        for r in pops[args.missing]:
            gaps = [k for k in ("Parameters", "Returns", "Examples") if not r[k]]
            if gaps:
                print(f"{r['name']}: no {', '.join(gaps)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
