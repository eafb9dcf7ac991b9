"""The ``brim`` command line: one console script with subcommands.

Core subcommands: ``info``, ``demo``, ``batch``, ``samples`` and ``learn``. Each modality adds
its own group (``brim thermo ...``) through the ``brim.cli`` entry-point group: a
``register(subparsers)`` function that adds one parser and its subcommands (made by
:func:`command_group` from a function adding the subcommands, each with :func:`add_command`).
Every subcommand is a thin shell over a library function; a :class:`brim.BrimError` becomes a
one-line message and exit status 2.

Conventions every group follows (tested by walking the parser tree):

- **Start-up.** The modules that register subcommands import only the standard library and
  light parts of brim; numpy, xarray, numba and torch are imported inside the command functions,
  so ``brim --help`` and ``brim GROUP --help`` answer in a fraction of a second.
- **Output.** Every command that writes takes ``-o/--output`` (:func:`add_output_option`). One
  input gives one file; several inputs give a folder (created), the same rule in every group
  (:func:`output_paths`); outputs never overwrite an input or each other, and an unwritable
  destination is refused before anything is written (:func:`output_file`,
  :func:`output_folder`). ``--out`` is a deprecated alias kept for one release.
- **Choices.** Every option that takes one of a fixed set of values declares ``choices``.
- **Examples.** Every command's ``--help`` ends with runnable examples on the bundled samples
  (``brim samples --path NAME`` prints a sample's path), given to :func:`add_command`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from brim._outputs import check_creatable, check_not_inputs, make_folder
from brim._version import __version__
from brim.errors import BrimError, ConfigError, MissingFileError, first_line

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

    out = output_folder(args.output)
    only = args.only.split(",") if args.only else None
    # one line per modality as it starts, its result as soon as it ends
    report, sections = run_all(out, only=only, progress=args.progress, echo=True)
    print(f"report: {report}")
    return 1 if any(s.error for s in sections) or not sections else 0


def _cmd_batch(args) -> int:
    from brim.config import load_params
    from brim.errors import ConfigError, check_positive
    from brim.parallel import map_files

    # the flags, not map_files' parameter names, in the messages of the command line
    if args.workers is not None:
        check_positive("--workers", args.workers, integer=True)
    if args.timeout != 0 and not args.timeout > 0:
        raise ConfigError(
            f"--timeout must be a number of seconds > 0 (0: no limit), got {args.timeout:g}"
        )
    params = load_params(args.params) if args.params else {}
    report = map_files(
        args.pipeline,
        args.files,
        args.output,
        params=params,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=args.progress,
        timeout=args.timeout,
    )
    print(report.summary())
    if report.report_path is not None:
        print(f"report: {report.report_path}")
    else:
        print(f"report: not written ({report.report_error})", file=sys.stderr)
    return 0 if not report.failed and report.report_path is not None else 1


def _sample_names() -> list[str]:
    """Names of the bundled samples, without importing xarray (for ``choices``)."""
    from importlib import resources

    try:
        folder = resources.files("brim.data_samples")
        return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".nc"))
    except (ModuleNotFoundError, OSError):  # pragma: no cover - a broken install
        return []


def _cmd_samples(args) -> int:
    from brim.data import list_samples, make_all, sample_dir, sample_path

    if args.path:
        print(sample_path(args.path))
        return 0
    if args.regenerate:
        out = output_folder(args.output) if args.output else None
        for p in make_all(out):
            print(p)
        return 0
    if args.output:
        raise ConfigError("-o/--output is the folder for --regenerate; add --regenerate")
    print(f"bundled samples in {sample_dir()}:")
    for name in list_samples():
        print(f"  {name}")
    return 0


def add_progress_option(p: argparse.ArgumentParser) -> None:
    """Add ``--no-progress`` (sets ``progress=False``; the bar is shown by default).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.

    Returns
    -------
    None
    """
    p.add_argument(
        "--no-progress", dest="progress", action="store_false", help="hide the progress bar"
    )


#: The array backends a ``--backend`` option offers (as :data:`brim.backend.BackendName`).
BACKENDS = ("numpy", "cupy")


def add_backend_option(p: argparse.ArgumentParser, *, help: str) -> None:
    """Add ``--backend {numpy,cupy}`` (``args.backend``; default None: the library's choice).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    help : str
        What the backend runs, for this command.

    Returns
    -------
    None
    """
    p.add_argument("--backend", choices=BACKENDS, help=help)


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    func: Callable[[Any], int],
    *,
    help: str,
    examples: Sequence[str],
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add the command ``NAME`` to a group: its parser, what it runs and its examples.

    Every command is made here, so that each one's ``--help`` ends with runnable examples
    (as :func:`examples` writes them) and ``args.func`` is the function it runs.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The group's subcommands (:func:`add_command_group`).
    name : str
        The command's name (``segment``).
    func : callable
        ``func(args)``: runs the command and returns its exit status.
    help : str
        The command's line in its group's ``--help``.
    examples : sequence of str
        Shell commands, shown at the end of its ``--help``.
    description : str, optional
        Text shown above its options in its ``--help``.

    Returns
    -------
    argparse.ArgumentParser
        The command's parser, to add its options to.

    Examples
    --------
    >>> import argparse
    >>> from brim.cli import add_command
    >>> sub = argparse.ArgumentParser(prog="brim").add_subparsers()
    >>> p = add_command(sub, "hello", lambda args: 0, help="greet", examples=["brim hello"])
    >>> print(p.epilog, end="")
    Examples:
      brim hello
    """
    parser = subparsers.add_parser(
        name, help=help, description=description, epilog=_examples_text(examples)
    )
    parser.set_defaults(func=func)
    return parser


def add_command_group(
    subparsers: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    epilog: str,
    metavar: str = "COMMAND",
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """Add a command group ``brim NAME COMMAND ...``: its parser and its subcommands.

    The chosen command's name is ``args.<NAME>_command``; the group run without a command
    prints its help and returns status 2.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``brim`` parser's subcommands.
    name : str
        The group's name (``thermo``).
    help : str
        The group's line in ``brim --help``.
    epilog : str
        The group's examples (:func:`examples`).
    metavar : str
        How ``--help`` names the command.

    Returns
    -------
    (argparse.ArgumentParser, argparse._SubParsersAction)
        The group's parser and the subparsers to add its commands to.
    """
    parser = subparsers.add_parser(name, help=help, epilog=epilog)
    sub = parser.add_subparsers(dest=f"{name}_command", metavar=metavar)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    return parser, sub


_REGISTER_DOC = """Add the ``{name}`` command group ({help}) to the ``brim`` parser.

{commands}

Parameters
----------
subparsers : argparse._SubParsersAction
    The ``brim`` parser's subcommands.

Returns
-------
argparse.ArgumentParser
    The ``{name}`` group's parser.
"""


def command_group(
    name: str, *, help: str, epilog: str, description: str | None = None
) -> Callable[[Callable[[Any], None]], Callable[[Any], argparse.ArgumentParser]]:
    """Decorator making a group's ``register(subparsers)`` entry point (``brim.cli`` group).

    The decorated function, ``add_commands(sub)``, adds the group's commands to the group's
    subparsers; the entry point made of it adds the group (:func:`add_command_group`), then its
    commands, and returns the group's parser. Its docstring is the decorated one's, between
    the group's line and the Parameters and Returns every entry point shares.

    Parameters
    ----------
    name, help, epilog : str
        As for :func:`add_command_group`: the group's name, its line in ``brim --help`` and
        its examples.
    description : str, optional
        Text shown above the group's commands in its ``--help``.

    Returns
    -------
    callable
        The decorator: ``add_commands`` -> ``register(subparsers)``.
    """

    def decorate(add_commands: Callable[[Any], None]) -> Callable[[Any], argparse.ArgumentParser]:
        def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
            parser, sub = add_command_group(subparsers, name, help=help, epilog=epilog)
            parser.description = description
            add_commands(sub)
            return parser

        register.__name__ = register.__qualname__ = add_commands.__name__
        register.__module__ = add_commands.__module__
        first, _, rest = (add_commands.__doc__ or "").strip().partition("\n")
        commands = f"{first}\n{textwrap.dedent(rest)}".strip()
        register.__doc__ = _REGISTER_DOC.format(name=name, help=help, commands=commands)
        return register

    return decorate


def progress_bar(items: Sequence, *, on: bool, desc: str) -> Iterable:
    """``items`` behind a tqdm bar when ``on`` and there are two or more of them.

    Parameters
    ----------
    items : sequence
        What a command loops over.
    on : bool
        The command's ``--no-progress`` switch (``args.progress``).
    desc : str
        The bar's label.

    Returns
    -------
    iterable
        ``items`` itself, or a bar over them.
    """
    if not on or len(items) < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc)


def save_each(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    make: Callable[[Any], Any],
    *,
    tag: str = "",
    progress: bool = False,
    desc: str = "",
) -> list[Path]:
    """Save ``make(input)`` for each input to its NetCDF output under brim's rule; print each.

    Every output path is checked first (:func:`output_paths`: one input, ``output`` is the file;
    several, a folder), before any input is read; each result is then saved (atomically,
    :func:`brim.save`) as soon as it is made, and its path printed.

    Parameters
    ----------
    inputs : sequence of path-like
        The command's inputs, checked by the caller.
    output : path-like
        The ``-o/--output`` value.
    make : callable
        ``make(input)``: the Dataset (or DataTree) to save for one input, as given in ``inputs``.
    tag : str
        Inserted between an input's stem and ``.nc`` in a folder (``"_seg"``).
    progress : bool
        Show a progress bar (two or more inputs).
    desc : str
        The bar's label.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``inputs``.
    """
    from brim.io import save

    targets = output_paths(inputs, output, suffix=".nc", tag=tag)
    written = []
    for src, dst in progress_bar(list(zip(inputs, targets)), on=progress, desc=desc):
        written.append(save(make(src), dst))
        print(written[-1])
    return written


# --- the output convention ---------------------------------------------------------------------

#: What ``-o/--output`` names, by the ``kind`` given to :func:`add_output_option`.
OUTPUT_KINDS = {
    "file": "the output file",
    "folder": "the output folder (created)",
    "auto": "one input: the output file (or an existing folder to write it in); several "
    "inputs: the output folder (created)",
}


class _OutputAction(argparse.Action):
    """``-o/--output`` (+ hidden deprecated spellings, which print a notice when used)."""

    def __init__(self, option_strings, dest, *, kind="file", deprecated=(), **kw):
        super().__init__(option_strings, dest, **kw)
        self.output_kind = kind
        self.deprecated = tuple(deprecated)

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string in self.deprecated:
            msg = (
                f"{option_string} is deprecated and will be removed in the next release; "
                f"use -o/--output"
            )
            print(f"brim: warning: {msg}", file=sys.stderr)
            warnings.warn(msg, DeprecationWarning, stacklevel=2)
        setattr(namespace, self.dest, values)


def add_output_option(
    parser: argparse.ArgumentParser,
    kind: str,
    help: str,
    *,
    required: bool = True,
    default: str | None = None,
    metavar: str | None = None,
    deprecated: Sequence[str] = ("--out",),
) -> argparse.Action:
    """Add THE output option of a command: ``-o/--output`` (``args.output``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    kind : {"file", "folder", "auto"}
        What ``-o`` names: one file, one folder, or (``"auto"``, for commands that map each of
        several inputs to one output) a file for one input and a folder for several — resolve
        it with :func:`output_paths`.
    help : str
        What is written (the rule for ``kind`` is appended).
    required, default, metavar
        As for :meth:`argparse.ArgumentParser.add_argument`.
    deprecated : sequence of str
        Old spellings still accepted for one release (hidden from ``--help``; a notice is
        printed when used).

    Returns
    -------
    argparse.Action
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"kind must be one of {sorted(OUTPUT_KINDS)}, got {kind!r}")
    if metavar is None:
        metavar = {"file": "FILE", "folder": "DIR", "auto": "PATH"}[kind]
    text = help if kind != "auto" else f"{help}; {OUTPUT_KINDS['auto']}"
    return parser.add_argument(
        "-o",
        "--output",
        *deprecated,
        dest="output",
        action=_OutputAction,
        kind=kind,
        deprecated=deprecated,
        required=required,
        default=default,
        metavar=metavar,
        help=text,
    )


def output_file(
    output: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] = (),
    suffix: str | None = ".nc",
) -> Path:
    """Check an output FILE before anything is written; create its folder.

    Parameters
    ----------
    output : path-like
        The ``-o/--output`` value.
    inputs : iterable of path-like
        The command's inputs: the output may not be one of them.
    suffix : str or None
        Appended when ``output`` has no suffix (``seg`` -> ``seg.nc``).

    Returns
    -------
    pathlib.Path
        The output file.

    Raises
    ------
    brim.ConfigError
        ``output`` is a folder, is one of the inputs, or its folder cannot be created/written.
    """
    out = Path(output)
    if str(output).endswith(("/", os.sep)) or out.is_dir():
        raise ConfigError(
            f"-o/--output {output} is a folder; this command writes one file, e.g. "
            f"{out / ('result' + (suffix or ''))}"
        )
    if suffix and not out.suffix:
        out = out.with_name(out.name + suffix)
    check_not_inputs([out], [Path(p) for p in inputs])
    check_creatable(out.parent, "the output folder")
    if out.exists() and not os.access(out, os.W_OK):
        raise ConfigError(f"cannot write {out}: permission denied")
    make_folder(out.parent, "the output folder")
    return out


def output_folder(output: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Check (and create) an output FOLDER before anything is written.

    Parameters
    ----------
    output : path-like
        The ``-o/--output`` folder.
    inputs : iterable of path-like
        The command's inputs (the folder may not be one of them).

    Returns
    -------
    pathlib.Path
        The folder, created if needed.

    Raises
    ------
    brim.ConfigError
        ``output`` is an existing file or an input, or cannot be created/written.

    Examples
    --------
    >>> import os, tempfile
    >>> from brim.cli import output_folder
    >>> output_folder(os.path.join(tempfile.mkdtemp(), "out")).is_dir()
    True
    """
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"-o/--output {out} is a file; this command writes a folder")
    check_not_inputs([out], [Path(p) for p in inputs])
    check_creatable(out, "the output folder")
    return make_folder(out, "the output folder")


def output_paths(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    suffix: str = ".nc",
    tag: str = "",
    folder: bool | None = None,
    reserved: Sequence[str] = (),
) -> list[Path]:
    """The output path of each input under brim's one rule, checked before anything is written.

    One input: ``output`` is the output file (a missing suffix is added), unless it is an
    existing folder or ends with ``/`` — then the file goes inside it. Several inputs:
    ``output`` is a folder (created) holding ``<input stem><tag><suffix>`` for each input.

    Parameters
    ----------
    inputs : sequence of path-like
        The input files, in order.
    output : path-like
        The ``-o/--output`` value.
    suffix : str
        Suffix of the output files.
    tag : str
        Inserted between an input's stem and ``suffix`` (``"_seg"`` -> ``x_seg.nc``).
    folder : bool, optional
        True: ``output`` is always a folder (``brim batch``); default: the rule above.
    reserved : sequence of str
        Other file names the command writes into the folder (a batch report): no output may
        take them.

    Returns
    -------
    list of pathlib.Path
        One output path per input.

    Raises
    ------
    brim.ConfigError
        Two inputs would give the same output, an output would overwrite an input, or the
        destination cannot be created or written. Nothing is written then.
    """
    srcs = [Path(p) for p in inputs]
    if not srcs:
        raise ConfigError("no input files given")
    out = Path(output)
    into = (
        folder
        if folder is not None
        else (len(srcs) > 1 or out.is_dir() or str(output).endswith(("/", os.sep)))
    )
    if not into:
        return [output_file(out, inputs=srcs, suffix=suffix)]
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"-o/--output {out} is a file; with {len(srcs)} inputs it must be a folder"
        )
    names = [f"{(p.stem if p.suffix else p.name)}{tag}{suffix}" for p in srcs]
    paths = [out / n for n in names]
    seen = {os.path.normcase(n): f"the report file {n}" for n in reserved}
    for src, dst in zip(srcs, paths):
        key = os.path.normcase(dst.name)
        if key in seen:
            raise ConfigError(
                f"outputs collide: {seen[key]} and {src} would both be written to {dst}; "
                f"rename one input or run them separately"
            )
        seen[key] = str(src)
    check_not_inputs(paths, srcs)
    check_creatable(out, "the output folder")
    make_folder(out, "the output folder")
    return paths


# --- help, parsing and start-up -----------------------------------------------------------------


class _HelpFormatter(argparse.HelpFormatter):
    """brim's help layout.

    Appends ``(default: X)`` to an option's help unless the help already names its default;
    keeps the line breaks of multi-line descriptions and epilogs (the ``Examples:``); hides
    deprecated option spellings.
    """

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

    def _fill_text(self, text, width, indent):
        if "\n" in text.strip():
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _format_action_invocation(self, action):
        hidden = getattr(action, "deprecated", ())
        if not hidden:
            return super()._format_action_invocation(action)
        shown = argparse.Action(
            [s for s in action.option_strings if s not in hidden],
            action.dest,
            nargs=action.nargs,
            metavar=action.metavar,
        )
        return super()._format_action_invocation(shown)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors read like every other brim error."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"brim: error: {message} (see '{self.prog} --help')\n")


def examples(*lines: str) -> str:
    """An ``Examples:`` epilog for a command's ``--help`` (one shell command per line).

    Parameters
    ----------
    *lines : str
        Shell commands.

    Returns
    -------
    str
        The epilog text.

    Examples
    --------
    >>> from brim.cli import examples
    >>> print(examples("brim info f.nc"), end="")
    Examples:
      brim info f.nc
    """
    return _examples_text(lines)


def _examples_text(lines: Iterable[str]) -> str:
    """The ``Examples:`` epilog of :func:`examples` and :func:`add_command`."""
    return "Examples:\n" + "".join(f"  {line}\n" for line in lines)


def _use_help_formatter(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every subcommand parser below it :class:`_HelpFormatter`."""
    if parser.formatter_class is not argparse.RawDescriptionHelpFormatter:
        parser.formatter_class = _HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _use_help_formatter(sub)


_COMPILE_NOTICE_SHOWN = False
_NUMBA_HOOKED = False


def _announce_compilation() -> None:
    """Print once per process, to stderr, when numba compiles a kernel (not on a cache hit)."""
    from numba.core import event

    class _Notice(event.Listener):
        def on_start(self, ev):
            global _COMPILE_NOTICE_SHOWN
            if not _COMPILE_NOTICE_SHOWN:
                _COMPILE_NOTICE_SHOWN = True
                print(
                    "brim: compiling numba kernels (first run only; they are cached for later "
                    "runs)...",
                    file=sys.stderr,
                    flush=True,
                )

        def on_end(self, ev):
            pass

    event.register("numba:compile", _Notice())


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, modality groups included.

    Returns
    -------
    argparse.ArgumentParser
        ``brim`` with every registered command group.
    """
    parser = _Parser(
        prog="brim",
        description="brim: radiation-free breast imaging, from raw sensor data to honest "
        "classifiers.",
        epilog=examples(
            "brim samples",
            "brim info $(brim samples --path thermo_phantom_tumour)",
            "brim demo -o brim-demo/",
            "brim thermo --help",
        ),
    )
    parser.add_argument("--version", action="version", version=f"brim {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log brim's main steps to stderr (-vv: and their details)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = add_command(
        sub,
        "info",
        _cmd_info,
        help="describe a file: schema, subject, calibration, attributes, ranges, provenance",
        description="Describe a brim file or a vendor file (any format brim's readers open, "
        "e.g. a FLIR JPEG or a DMR-IR text matrix): the reader used, schema, patient/view/date, "
        "calibration (FLIR emissivity and Planck constants), scalar acquisition values, "
        "attributes, and per variable its dims, units, min/max and NaN count. Ranges are "
        "computed block by block without loading a variable at once.",
        examples=[
            "brim info $(brim samples --path thermo_phantom_tumour)",
            "brim info scan.nc --range-limit 0",
        ],
    )
    p.add_argument("file", help="a brim NetCDF file or a vendor file")
    p.add_argument(
        "--range-limit",
        type=float,
        default=DEFAULT_RANGE_LIMIT_MB,
        metavar="MB",
        help="skip min/max/NaN of variables larger than this many MB; 0: no limit",
    )

    p = add_command(
        sub,
        "plot",
        _cmd_plot,
        help="draw any brim file (or vendor file) as a picture: PNG, PDF, SVG",
        description="Draw a file the way its kind asks: thermogram in degC with mask "
        "contours, radar volume as three orthogonal slices through the peak (dB), B-mode and "
        "strain with depth/lateral in mm, optical maps as labelled depth slices, masks as "
        "categories with a legend. Lengths are shown in mm; the data stay SI in the file.",
        examples=[
            "brim plot $(brim samples --path thermo_phantom_tumour) -o thermogram.png",
            "brim plot image.nc --sel z=35mm -o plane.png",
            "brim plot map.nc --var mua --sel wavelength=780 -o mua.png",
            "brim plot recon.nc --part abs -o eps_abs.png",
        ],
    )
    p.add_argument("file", help="a brim NetCDF file or a vendor file")
    add_output_option(p, "file", "the picture (.png, .pdf, .svg...)", deprecated=())
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

    p = add_command(
        sub,
        "demo",
        _cmd_demo,
        help="run every modality end to end on the bundled samples",
        examples=["brim demo -o brim-demo/", "brim demo -o demo-thermo/ --only thermo"],
    )
    add_output_option(
        p, "folder", "folder for the figures and index.html", required=False, default="brim-demo"
    )
    p.add_argument(
        "--only",
        type=_modality_list,
        help="comma-separated modalities to run: thermo, microwave, elasto, fusion (default: all)",
    )
    add_progress_option(p)

    p = add_command(
        sub,
        "batch",
        _cmd_batch,
        help="run a per-file pipeline over many files with Dask",
        examples=[
            "brim batch validate $(brim samples --path thermo_phantom_tumour) "
            "$(brim samples --path thermo_phantom_healthy) -o checked/",
            "brim batch thermo.segment thermograms/*.nc -o masks/ --workers 2",
        ],
    )
    p.add_argument("pipeline", help="registered pipeline name or module:function")
    p.add_argument("files", nargs="+", help="input files")
    add_output_option(
        p,
        "folder",
        "output folder: one <input stem>.nc per input and brim_batch_report.json/.csv",
    )
    p.add_argument("--scheduler", help="address of an existing Dask scheduler, or 'threads'")
    p.add_argument("--workers", type=int, help="local workers (default: one per core)")
    p.add_argument("--params", help="YAML/JSON file of pipeline parameters")
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="stop a file still running after SECONDS and report it as failed; 0: no limit",
    )
    add_progress_option(p)

    p = add_command(
        sub,
        "samples",
        _cmd_samples,
        help="list (or regenerate) the bundled sample files",
        examples=[
            "brim samples",
            "brim samples --path thermo_phantom_tumour",
            "brim samples --regenerate -o samples/",
        ],
    )
    p.add_argument(
        "--path", choices=_sample_names(), metavar="NAME", help="print the path of one sample"
    )
    p.add_argument("--regenerate", action="store_true", help="re-create them with the simulators")
    add_output_option(
        p, "folder", "folder for --regenerate (default: the bundled folder)", required=False
    )

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


_MODALITIES = ("thermo", "microwave", "elasto", "fusion")


def _modality_list(text: str) -> str:
    """argparse type of ``--only``: a comma-separated subset of the modalities."""
    bad = [m for m in text.split(",") if m not in _MODALITIES]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown modality {', '.join(map(repr, bad))}; choose from {', '.join(_MODALITIES)}"
        )
    return text


_LEARN_CV_DESCRIPTION = """\
Grouped cross-validation from a YAML/JSON configuration; writes an HTML/JSON report.

Example configuration (paths are relative to the configuration file)::

    name: thermo-resnet
    data:
      files: "scans/*.nc"          # one brim file per sample (glob or list) ...
      var: temperature
      isel: {time: 0}
      cache: true                  # keep read arrays in memory (default true)
      # ... or one file holding all samples along its first dim:
      # file: stack.nc
    labels:
      csv: labels.csv              # columns: key (file stem / sample index), label, group
      key_column: file
      label_column: label
      group_column: patient
      # for `file:` data, labels may be coordinates instead:
      # label_coord: label
      # group_coord: patient
    model:
      class: ResNetClassifier      # or MLP, UNet2d..., or "logistic" for flattened inputs
      kwargs: {in_channels: 1, widths: [8, 16]}
    train: {epochs: 15, lr: 0.003, batch_size: 16, seed: 0, patience: 5}
    augment: {flip: true, shift: 2}
    protocol: {n_splits: 5, inner_val_fraction: 0.25, aggregate: mean,
               threshold_rule: youden, prevalence: 0.02, seed: 0, n_bootstrap: 1000}
    audit:
      nuisance: [order, median]    # built-ins: order, median, mean, std; or CSV columns
      flag_auroc: 0.7
      permutation: true
    output: report/
"""


@command_group(
    "learn",
    help="deep learning and honest evaluation",
    epilog=examples("brim learn cv experiment.yaml -o report/", "brim learn cv --help"),
)
def register_learn(sub: argparse._SubParsersAction) -> None:
    """Its command: cv (its code, and torch, load only when it runs)."""
    cv = add_command(
        sub,
        "cv",
        _run_learn_cv,
        help="grouped cross-validation from a YAML config; writes an HTML/JSON report",
        description=_LEARN_CV_DESCRIPTION,
        examples=[
            "brim learn cv experiment.yaml -o report/",
            "brim learn cv experiment.yaml --no-progress",
        ],
    )
    cv.add_argument("config", help="YAML or JSON configuration file")
    add_output_option(
        cv, "folder", "report folder (default: the config's 'output')", required=False
    )
    add_progress_option(cv)


def _run_learn_cv(args) -> int:
    if args.output:  # checked before torch is imported
        output_folder(args.output, inputs=[args.config])
    from brim.learn.cli import _cmd_cv

    return _cmd_cv(args)


def _unavailable(name, exc):
    def run(args) -> int:
        raise BrimError(f"the '{name}' commands cannot load: {type(exc).__name__}: {exc}")

    return run


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``brim`` console script; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The command's status: 0 on success, non-zero when some of its work failed (e.g. a
        demo section); 2 on bad input (a one-line ``brim: error: ...`` on standard error);
        130 when interrupted.

    Examples
    --------
    >>> from brim.cli import main
    >>> main(["samples"]) == 0  # doctest: +SKIP
    True
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    with _cli_diagnostics(getattr(args, "verbose", 0)):
        return _run(args, func)


@contextlib.contextmanager
def _cli_diagnostics(verbose: int):
    """While a command runs: brim's log on stderr at INFO (``-v``) or DEBUG (``-vv``), and
    :class:`brim.BrimWarning` (and any UserWarning raised in brim's code) shown as
    ``brim: warning: MESSAGE`` (no source line)."""
    import logging

    from brim.errors import BrimWarning

    old_format = warnings.formatwarning

    own = os.path.dirname(os.path.abspath(__file__))  # brim's package (modalities inside)

    def fmt(message, category, filename, lineno, line=None):
        # brim's own warnings, BrimWarning or a UserWarning raised in brim's code: one line, no
        # source line (that is for the developers of brim; -W error shows the traceback)
        if issubclass(category, BrimWarning) or (
            issubclass(category, UserWarning) and os.path.abspath(filename).startswith(own + os.sep)
        ):
            return f"brim: warning: {message}\n"
        return old_format(message, category, filename, lineno, line)

    logger = logging.getLogger("brim")
    handler, old_level = logging.StreamHandler(sys.stderr), logger.level
    handler.setFormatter(logging.Formatter("brim: %(name)s: %(message)s"))
    warnings.formatwarning = fmt
    if verbose:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    try:
        yield
    finally:
        warnings.formatwarning = old_format
        if verbose:
            logger.removeHandler(handler)
            logger.setLevel(old_level)


def _run(args, func) -> int:
    global _NUMBA_HOOKED
    if not _NUMBA_HOOKED:
        from brim._lazy import when_imported

        _NUMBA_HOOKED = True
        when_imported("numba", _announce_compilation)
    made = _missing_folders(getattr(args, "output", None))
    status = 1  # a crash (a traceback) counts as a failure too
    try:
        status = _dispatch(args, func)
        return status
    finally:
        if status != 0:  # a failed run leaves no empty output folder behind (deepest first)
            for folder in made:
                with contextlib.suppress(OSError):  # not empty, or already gone
                    folder.rmdir()


def _missing_folders(output) -> list[Path]:
    """``-o/--output`` and those of its parent folders that do not exist yet, deepest first."""
    if not isinstance(output, (str, os.PathLike)):
        return []
    out = Path(output)
    return [d for d in (out, *out.parents) if not d.exists()]


def _dispatch(args, func) -> int:
    """Run the command; a brim error, an interrupt or an unwritable output is one stderr line."""
    try:
        return int(func(args) or 0)
    except BrimError as exc:
        print(
            f"brim: error: {first_line(exc)}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("brim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `brim info f | head`
        return 0
    except (PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        # an output that became unwritable after the up-front checks (a race...)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"brim: error: cannot write{where} ({exc.strerror or exc})", file=sys.stderr)
        return 2
    except OSError as exc:
        # a file system that refuses the write the up-front checks allowed: full disk, quota,
        # read-only mount, a pseudo file system (/proc); anything else is a bug: traceback
        if exc.errno not in _WRITE_ERRNOS or not exc.filename:
            raise
        print(f"brim: error: {_os_error_text(exc, getattr(args, 'output', None))}", file=sys.stderr)
        return 2


#: The errors of a file system that refuses a write (not those of a bug or of a network).
_WRITE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOENT", "ENOSPC", "EDQUOT", "EROFS", "EFBIG", "EACCES", "EPERM", "ENAMETOOLONG")
    if hasattr(errno, name)
)


def _os_error_text(exc: OSError, output) -> str:
    """One line for a file system error: ``cannot write -o OUT (reason)`` when the failed file is
    the output, its temporary (``.NAME.brim-tmp-...``, a name that means nothing to the user) or
    a file inside an output folder; else ``FILE: reason``."""
    failed = Path(os.fsdecode(exc.filename))
    reason = exc.strerror or str(exc)
    if isinstance(output, (str, os.PathLike)):
        out = Path(output)
        if (
            failed == out
            or failed.parent == out
            or (failed.parent == out.parent and failed.name.startswith(f".{out.stem}"))
        ):
            return f"cannot write -o {out} ({reason})"
    return f"{failed}: {reason}"


def existing_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """A command's input paths, each checked to exist before anything is read or written.

    Parameters
    ----------
    paths : iterable of path-like
        The input files or folders.

    Returns
    -------
    list of pathlib.Path
        The paths, in order.

    Raises
    ------
    brim.MissingFileError
        One of them does not exist.
    """
    out = [Path(p) for p in paths]
    for p in out:
        if not p.exists():
            raise MissingFileError(f"no such file or folder: {p}")
    return out


def check_plausible(
    option: str, value: float | None, low: float, high: float, *, unit: str = "", hint: str = ""
) -> None:
    """Refuse an option's value outside its plausible range: a number typed in the wrong unit.

    MHz typed for Hz, mm for m or kelvin for degC would otherwise run silently to a wrong
    result; the message names the option, the value and the range, then ``hint``: the likely
    slip and what to type instead.

    Parameters
    ----------
    option : str
        The option (``--fs``).
    value : float or None
        Its value; None (the option not given) passes.
    low, high : float
        The plausible range, both bounds included.
    unit : str
        The unit the option takes (``"Hz"``; empty for a fraction).
    hint : str
        The likely slip, appended after a colon.

    Returns
    -------
    None

    Raises
    ------
    brim.ConfigError
        ``value`` is not a finite number in ``[low, high]``.

    Examples
    --------
    >>> from brim.cli import check_plausible
    >>> check_plausible("--fs", 40e6, 1e5, 1e10, unit="Hz")
    >>> check_plausible("--fs", 40, 1e5, 1e10, unit="Hz", hint="MHz? give Hz, e.g. 40e6")
    Traceback (most recent call last):
    ...
    brim.errors.ConfigError: --fs 40 Hz is outside [100000, 1e+10] Hz: MHz? give Hz, e.g. 40e6
    """
    if value is None or (math.isfinite(value) and low <= value <= high):
        return
    u = f" {unit}" if unit else ""
    slip = f": {hint}" if hint else ""
    raise ConfigError(f"{option} {value:g}{u} is outside [{low:g}, {high:g}]{u}{slip}")
