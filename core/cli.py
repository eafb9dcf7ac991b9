"""The ``brim`` command line: one console script with subcommands.

Core subcommands: ``info``, ``demo``, ``batch``, ``samples``. Each modality adds its own group
(``brim thermo ...``) through the ``brim.cli`` entry-point group: a ``register(subparsers)``
function that adds one parser and sets ``func`` on its subcommands. Every subcommand is a thin
shell over a library function; a :class:`brim.BrimError` becomes a one-line message and exit
status 2.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points
from pathlib import Path

from brim._version import __version__
from brim.errors import BrimError

#: ``brim info --range-limit`` default (MB), as brim.fileinfo.DEFAULT_RANGE_LIMIT.
DEFAULT_RANGE_LIMIT_MB = 1000.0


def _cmd_info(args) -> int:
    from brim.fileinfo import describe

    limit = None if args.range_limit <= 0 else int(args.range_limit * 1e6)
    print(describe(args.file, range_limit=limit))
    return 0


def _cmd_plot(args) -> int:
    from brim.plotfile import plot_file

    out = plot_file(
        args.file,
        args.output,
        var=args.var,
        sel=args.sel,
        part=args.part,
        db=args.db,
        layout=args.layout,
        node=args.node,
    )
    print(out)
    return 0


def _cmd_demo(args) -> int:
    from brim.demo import run_all

    only = args.only.split(",") if args.only else None
    # one line per modality as it starts, its result as soon as it ends
    report, sections = run_all(args.out, only=only, progress=args.progress, echo=True)
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

    p = sub.add_parser(
        "info",
        help="describe a file: schema, subject, calibration, attributes, ranges, provenance",
        description="Describe a brim file or a vendor file (any format brim's readers open, "
        "e.g. a FLIR JPEG or a DMR-IR text matrix): the reader used, schema, patient/view/date, "
        "calibration (FLIR emissivity and Planck constants), scalar acquisition values, "
        "attributes, and per variable its dims, units, min/max and NaN count. Ranges are "
        "computed block by block without loading a variable at once.",
    )
    p.add_argument("file", help="a brim NetCDF file or a vendor file")
    p.add_argument(
        "--range-limit",
        type=float,
        default=DEFAULT_RANGE_LIMIT_MB,
        metavar="MB",
        help="skip min/max/NaN of variables larger than this many MB; 0: no limit",
    )
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "plot",
        help="draw any brim file (or vendor file) as a picture: PNG, PDF, SVG",
        description="Draw a file the way its kind asks: thermogram in degC with mask "
        "contours, radar volume as three orthogonal slices through the peak (dB), B-mode and "
        "strain with depth/lateral in mm, optical maps as labelled depth slices, masks as "
        "categories with a legend. Lengths are shown in mm; the data stay SI in the file.",
    )
    p.add_argument("file", help="a brim NetCDF file or a vendor file")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the picture (.png, .pdf, .svg...)"
    )
    p.add_argument("--var", help="variable to draw (default: the kind's main variable)")
    p.add_argument(
        "--sel",
        action="append",
        metavar="DIM=VALUE",
        help="select the nearest position along a dimension, e.g. z=35mm, freq=2GHz, frame=1 "
        "(in the coordinate's units unless a unit is given; an index where it has no "
        "coordinate); repeat for several",
    )
    p.add_argument(
        "--part",
        choices=("real", "imag", "abs", "phase"),
        help="part of complex data (default: real and imaginary side by side for a complex "
        "map, the magnitude otherwise)",
    )
    p.add_argument(
        "--db",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="decibels (10 log10 of an intensity, 20 log10 of an amplitude); default: on for "
        "radar intensity volumes, S-parameters and B-mode",
    )
    p.add_argument(
        "--layout",
        choices=("auto", "orthogonal", "slices"),
        default="auto",
        help="3-D volumes: three orthogonal slices through the peak, or one panel per depth",
    )
    p.add_argument("--node", help="group of a multi-modal file, e.g. /thermo")
    p.set_defaults(func=_cmd_plot)

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
