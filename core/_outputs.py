"""Checks of output paths before anything is written: shared by the command line's ``-o``
rule (:func:`brim.cli.output_file`, :func:`brim.cli.output_folder`,
:func:`brim.cli.output_paths`) and by :func:`brim.plotfile.plot_file`.

Each raises :class:`brim.ConfigError` with a one-line message naming the path; ``what`` names
the path in it (``"the output folder"``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from brim.errors import ConfigError


def _key(path: Path) -> str:
    """A comparable identity of a path that may not exist yet (symlinks and ``..`` resolved)."""
    return os.path.normcase(os.path.realpath(path))


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` are one file (the same path, through links, or hard links)."""
    if _key(a) == _key(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def check_creatable(folder: Path, what: str) -> None:
    """Raise ConfigError unless ``folder`` exists as a writable folder or can be created."""
    probe = folder
    while not probe.exists():
        if probe.is_symlink():  # a dangling link
            raise ConfigError(f"cannot create {what} {folder}: {probe} is a broken link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"cannot create {what} {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {what} {folder}: permission denied on {probe}")


def make_folder(folder: Path, what: str) -> Path:
    """Create ``folder`` (and its parents); a failure is a ConfigError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a race, a read-only file system, ...
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot create {what} {folder}: {reason}") from None
    return folder


def check_not_inputs(outputs: Iterable[Path], inputs: Sequence[Path]) -> None:
    """Raise ConfigError when an output would overwrite one of the inputs."""
    for out in outputs:
        for src in inputs:
            if same_file(out, src):
                raise ConfigError(
                    f"output {out} would overwrite the input {src}; choose another -o/--output"
                )
