"""The ``brim`` command line: one console script with subcommands.

Core subcommands: ``info``, ``demo``, ``batch``, ``samples``. Each modality adds its own group
(``brim thermo ...``) through the ``brim.cli`` entry-point group: a ``register(subparsers)``
function that adds one parser and sets ``func`` on its subcommands. Every subcommand is a thin
shell over a library function; a :class:`brim.BrimError` becomes a one-line message and exit
status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points
from pathlib import Path

from brim._version import __version__
from brim.errors import BrimError


def _cmd_info(args) -> int:
    import xarray as xr

    from brim import provenance, schema
    from brim.io import open as brim_open

    obj = brim_open(args.file, validate=False)
    nodes = (
        [(n.path, n.to_dataset(inherit=False)) for n in obj.subtree]
        if isinstance(obj, xr.DataTree)
        else [("", obj)]
    )
    for path, ds in nodes:
        if path:
            print(f"== node {path}")
        tag = ds.attrs.get(schema.ATTR)
        status = "no brim schema"
        if tag:
            try:
                schema.validate(ds)
                status = "valid"
            except BrimError as exc:
                status = f"INVALID: {exc}"
        print(f"schema: {tag or '-'} ({status})")
        print("dims: " + ", ".join(f"{d}={n}" for d, n in ds.sizes.items()))
        for title, group in (("coords", ds.coords), ("variables", ds.data_vars)):
            if group:
                print(f"{title}:")
            for name, v in group.items():
                units = v.attrs.get("units", "")
                print(f"  {name:<22} {str(v.dtype):<10} {str(tuple(v.dims)):<28} {units}")
        for step in provenance.steps(ds):
            print(
                f"provenance: {step.get('time', '')} {step.get('step')} "
                f"{json.dumps(step.get('parameters', {}), sort_keys=True)}"
            )
    return 0


def _cmd_demo(args) -> int:
    from brim.demo import run_all

    only = args.only.split(",") if args.only else None
    report, sections = run_all(args.out, only=only, progress=args.progress)
    for s in sections:
        state = "FAILED" if s.error else "ok"
        print(f"[{state}] {s.name}: {s.title} ({s.seconds:.1f} s)")
        for line in s.summary:
            print(f"    {line}")
        if s.error:
            print("    " + s.error.splitlines()[0])
    print(f"report: {report}")
    return 1 if any(s.error for s in sections) or not sections else 0


def _cmd_batch(args) -> int:
    from brim.config import load_params
    from brim.parallel import map_files

    params = load_params(args.params) if args.params else {}
    report = map_files(
        args.pipeline,
        args.files,
        args.out,
        params=params,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=args.progress,
    )
    print(report.summary())
    print(f"report: {report.report_path}")
    return 0 if not report.failed else 1


def _cmd_samples(args) -> int:
    from brim.data import list_samples, make_all, sample_dir

    if args.regenerate:
        for p in make_all(args.out):
            print(p)
        return 0
    print(f"bundled samples in {sample_dir()}:")
    for name in list_samples():
        print(f"  {name}")
    return 0


def add_progress_option(p: argparse.ArgumentParser) -> None:
    """Add ``--no-progress`` (sets ``progress=False``; the bar is shown by default)."""
    p.add_argument(
        "--no-progress", dest="progress", action="store_false", help="hide the progress bar"
    )


class _HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already names its default."""

    def _get_help_string(self, action):
        text = action.help or ""
        shown = action.option_strings or action.nargs in ("?", "*")
        if (
            shown
            and not any(action.default is v for v in (None, False, True, argparse.SUPPRESS))
            and "default" not in text
        ):
            text += " (default: %(default)s)"
        return text


def _use_help_formatter(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every subcommand parser below it :class:`_HelpFormatter`."""
    parser.formatter_class = _HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _use_help_formatter(sub)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, modality groups included."""
    parser = argparse.ArgumentParser(
        prog="brim",
        description="brim: radiation-free breast imaging, from raw sensor data to honest "
        "classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"brim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="describe a brim file: dims, units, schema, provenance")
    p.add_argument("file", help="a brim NetCDF file")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("demo", help="run every modality end to end on the bundled samples")
    p.add_argument("--out", default="brim-demo", help="output folder (default: brim-demo)")
    p.add_argument("--only", help="comma-separated modalities to run (default: all)")
    add_progress_option(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("batch", help="run a per-file pipeline over many files with Dask")
    p.add_argument("pipeline", help="registered pipeline name or module:function")
    p.add_argument("files", nargs="+", help="input files")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler, or 'threads'")
    p.add_argument("--workers", type=int, help="local workers (default: one per core)")
    p.add_argument("--params", help="YAML/JSON file of pipeline parameters")
    add_progress_option(p)
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("samples", help="list (or regenerate) the bundled sample files")
    p.add_argument("--regenerate", action="store_true", help="re-create them with the simulators")
    p.add_argument("--out", help="folder for --regenerate (default: the bundled folder)")
    p.set_defaults(func=_cmd_samples)

    for ep in sorted(entry_points(group="brim.cli"), key=lambda e: e.name):
        try:
            register = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken modality must not break the CLI
            p = sub.add_parser(ep.name, help=f"(unavailable: {type(exc).__name__})")
            p.set_defaults(func=_unavailable(ep.name, exc))
            continue
        register(sub)
    _use_help_formatter(parser)
    return parser


def _unavailable(name, exc):
    def run(args) -> int:
        raise BrimError(f"the '{name}' commands cannot load: {type(exc).__name__}: {exc}")

    return run


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``brim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except BrimError as exc:
        print(
            f"brim: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("brim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `brim info f | head`
        return 0


def path_arg(value: str) -> Path:
    """argparse type for an existing input path (raises a clear error otherwise)."""
    p = Path(value)
    if not p.exists():
        raise argparse.ArgumentTypeError(f"no such file or folder: {value}")
    return p
