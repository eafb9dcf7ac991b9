"""Run a per-file pipeline over many files with dask.distributed.

One bad file is reported, never fatal: each file's task catches its own error and returns a
record, and the report lists every file with its status, output and error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from brim.errors import ConfigError, MissingFileError, check_positive, require

REPORT_NAME = "brim_batch_report"


@dataclass
class FileRecord:
    """What happened to one input file."""

    input: str
    status: str  # "ok" or "error"
    output: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class BatchReport:
    """The outcome of :func:`map_files`: one record per input, in input order."""

    records: list[FileRecord] = field(default_factory=list)
    report_path: Path | None = None
    report_error: str | None = None  # why the report files could not be written

    @property
    def n_ok(self) -> int:
        return sum(r.status == "ok" for r in self.records)

    @property
    def failed(self) -> list[FileRecord]:
        return [r for r in self.records if r.status != "ok"]

    def summary(self) -> str:
        """How many files were processed, and one line per failed file.

        Returns
        -------
        str
            ``"19 of 20 files processed"`` then ``FAILED <input>: <error>`` lines.
        """
        lines = [f"{self.n_ok} of {len(self.records)} files processed"]
        lines += [f"FAILED {r.input}: {r.error}" for r in self.failed]
        return "\n".join(lines)


def resolve_pipeline(pipeline: str | Callable) -> Callable:
    """A pipeline function from a callable, an entry-point name or ``"module:function"``.

    Parameters
    ----------
    pipeline : callable or str
        A function, the name of a ``brim.pipelines`` entry point (e.g. ``"validate"``), or an
        importable ``"module:function"``.

    Returns
    -------
    callable
        ``(path, **params) -> Dataset``.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the registered pipelines) or an import failure.

    Examples
    --------
    >>> from brim.parallel import resolve_pipeline
    >>> resolve_pipeline("validate").__name__
    'validate'
    """
    if callable(pipeline):
        return pipeline
    for ep in entry_points(group="brim.pipelines"):
        if ep.name == pipeline:
            return ep.load()
    if ":" in pipeline:
        module, _, name = pipeline.partition(":")
        try:
            return getattr(import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot import pipeline {pipeline!r}: {exc}") from exc
    names = sorted(ep.name for ep in entry_points(group="brim.pipelines"))
    raise ConfigError(
        f"unknown pipeline {pipeline!r}; registered: {', '.join(names)}; or give 'module:function'"
    )


DEFAULT_TIMEOUT = 600.0
"""Seconds one file may take in :func:`map_files` by default. Every brim pipeline finishes a
file in seconds to a few minutes on a laptop core (the slowest, a fusion reconstruction, in
about a minute); ten minutes leaves a margin of 10x, and a file that takes longer is stuck (a
corrupt file spinning inside a C library, an input that blocks) rather than slow."""


def _run_one(
    pipeline: str | Callable, path: str, out: str, params: Mapping, timeout: float | None = None
) -> FileRecord:
    """Run the pipeline on one file and save its result to ``out``; never raises.

    With a ``timeout`` (seconds) on a POSIX system the work runs in a child process that is
    killed when the time is up (a hang inside a C library cannot be interrupted otherwise), and
    the file is reported as failed; a child that dies (a crash, the kernel's OOM killer) is
    reported the same way. The child is forked by a single-threaded server, never by the
    multi-threaded Dask worker itself (:mod:`brim._isolation` says why).
    """
    if not (timeout and hasattr(os, "fork")):
        return _run_inline(pipeline, path, out, params)
    from brim._isolation import call_with_timeout

    t0 = time.perf_counter()
    status, value = call_with_timeout(_run_inline, (pipeline, path, out, params), float(timeout))
    seconds = time.perf_counter() - t0
    if status == "ok":
        value.seconds = seconds
        return value
    if status == "timeout":
        error = (
            f"TimeoutError: no result after {timeout:g} s (the per-file timeout); the file may "
            f"be corrupt — raise the limit with --timeout if it is only slow"
        )
    elif status == "died":
        error = f"the process working on this file died ({value})"
    else:
        error = value
    return FileRecord(path, "error", None, error, seconds)


def _run_inline(pipeline: str | Callable, path: str, out: str, params: Mapping) -> FileRecord:
    from brim import provenance
    from brim.io import save

    t0 = time.perf_counter()
    try:
        func = resolve_pipeline(pipeline)
        result = func(path, **dict(params))
        name = pipeline if isinstance(pipeline, str) else getattr(func, "__qualname__", "?")
        # the batch itself is one more step of each result, named by the one rule of
        # brim.provenance.step_name (map_files returns a report, so it cannot be an @step)
        result = provenance.record(
            result, provenance.step_name(map_files), params={"pipeline": name, **dict(params)}
        )
        save(result, out)
        return FileRecord(path, "ok", str(out), None, time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if not hasattr(exc, "__module__") or not type(exc).__module__.startswith("brim"):
            msg += f" [{traceback.extract_tb(exc.__traceback__)[-1].name}]"
        return FileRecord(path, "error", None, msg, time.perf_counter() - t0)


def _write_report(report: BatchReport, out_dir: Path) -> Path:
    rows = [asdict(r) for r in report.records]
    from brim.io import write_text

    json_path = out_dir / f"{REPORT_NAME}.json"
    write_text(
        json_path, json.dumps({"n_ok": report.n_ok, "n_files": len(rows), "files": rows}, indent=1)
    )
    table = io.StringIO()
    w = csv.DictWriter(table, fieldnames=list(FileRecord.__dataclass_fields__))
    w.writeheader()
    w.writerows(rows)
    write_text(out_dir / f"{REPORT_NAME}.csv", table.getvalue())
    return json_path


def map_files(
    pipeline: str | Callable,
    files: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    params: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
    client: Any = None,
    n_workers: int | None = None,
    progress: bool = True,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> BatchReport:
    """Run ``pipeline`` on every file with dask.distributed and save one output per input.

    Parameters
    ----------
    pipeline : callable or str
        ``(path, **params) -> Dataset``; a ``brim.pipelines`` entry-point name (e.g.
        ``"validate"``) or ``"module:function"``. With a process-based cluster the function
        must be importable by the workers.
    files : iterable of path-like
        Input files. Their stems name the outputs, so they must be unique.
    out_dir : path-like
        Output folder (created). Each result goes to ``out_dir/<stem>.nc`` (atomic write), and
        the report to ``brim_batch_report.json`` and ``.csv``. Inputs whose outputs would
        collide, an output that would replace an input, and a folder that cannot be created or
        written are refused (:func:`brim.cli.output_paths`) before any work starts.
    params : mapping, optional
        Keyword arguments for the pipeline (recorded in the report).
    scheduler : str, optional
        Address of an existing cluster (``tcp://host:8786``); ``"processes"`` (default) for a
        local cluster of one single-threaded worker process per core; ``"threads"`` for an
        in-process cluster.
    client : distributed.Client, optional
        Use this client instead (takes precedence over ``scheduler``).
    n_workers : int, optional
        Workers of a local cluster (default: the number of cores).
    progress : bool
        Show a tqdm progress bar.
    timeout : float or None
        Seconds one file may take (default :data:`DEFAULT_TIMEOUT`, 600 s); a file still
        running then is stopped and reported as failed, like any bad file. ``None`` or 0: no
        limit. On POSIX each file then runs in a forked process (so a hang inside a C library
        can be stopped); elsewhere the limit is not enforced.

    Returns
    -------
    BatchReport
        One record per input; failures are reported, not raised.
    """
    inputs = [str(f) for f in files]
    if not inputs:
        raise ConfigError("no input files given")
    missing = [f for f in inputs if not Path(f).exists()]
    if missing:
        raise MissingFileError(f"input file(s) not found: {', '.join(missing[:5])}")
    folders = [repr(f) for f in inputs if not Path(f).is_file()]
    if folders:
        raise ConfigError(f"inputs must be files, not folders: {', '.join(folders[:5])}")
    if n_workers is not None:
        n_workers = check_positive("n_workers", n_workers, integer=True)
    if timeout:
        timeout = check_positive("timeout", timeout)
    elif timeout is not None and timeout != 0:
        raise ConfigError(f"timeout must be a number of seconds > 0 (0: no limit), got {timeout!r}")
    params = dict(params or {})
    if callable(pipeline):
        func_ref: str | Callable = pipeline
    else:
        func_ref = pipeline
    from brim.config import check_params

    # fail early, before any file: an unknown pipeline name, or parameters it does not take
    name = pipeline if isinstance(pipeline, str) else getattr(pipeline, "__name__", "pipeline")
    check_params(resolve_pipeline(pipeline), params, what=f"pipeline {name!r}")
    from brim.cli import output_paths

    reserved = [f"{REPORT_NAME}.json", f"{REPORT_NAME}.csv"]
    targets = output_paths(inputs, out_dir, suffix=".nc", folder=True, reserved=reserved)
    out = Path(out_dir)

    distributed = require("distributed", "dask")
    own = None
    if client is None:
        if scheduler in (None, "processes", "threads"):
            own = distributed.LocalCluster(
                n_workers=n_workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=scheduler != "threads",
                dashboard_address=None,
            )
            client = distributed.Client(own)
        else:
            try:
                client = distributed.Client(scheduler, timeout="10s")
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        futures = [
            client.submit(
                _run_one, func_ref, f, str(t), params, timeout, pure=False, key=f"brim-{i}"
            )
            for i, (f, t) in enumerate(zip(inputs, targets))
        ]
        index = {fut.key: i for i, fut in enumerate(futures)}
        records: list[FileRecord | None] = [None] * len(inputs)
        from tqdm.auto import tqdm

        with tqdm(total=len(inputs), disable=not progress, desc="brim batch", unit="file") as bar:
            for fut in distributed.as_completed(futures):
                i = index[fut.key]
                try:
                    records[i] = fut.result()
                except Exception as exc:  # a worker died: report the file, go on
                    records[i] = FileRecord(inputs[i], "error", None, f"worker failure: {exc}")
                bar.update(1)
    finally:
        if own is not None:
            client.close()
            own.close()
            from brim._isolation import shutdown

            shutdown()  # the servers of an in-process (threads) cluster's workers
    report = BatchReport([r for r in records if r is not None])
    try:
        report.report_path = _write_report(report, out)
    except OSError as exc:  # e.g. the folder became read-only or the disk is full
        report.report_error = f"{type(exc).__name__}: {exc.strerror or exc}"
    return report
