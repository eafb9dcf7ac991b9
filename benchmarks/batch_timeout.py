"""Per-file cost of ``brim batch``'s time limit: the child forked by the fork server, against
the same pipeline run in the caller (no limit), and against a child forked cold.

Usage::

    python benchmarks/batch_timeout.py [--files 12] [--pipeline validate]

Every file of a batch with a time limit (the default, 600 s) runs in a child process so that it
can be stopped. The child is forked by a single-threaded server per worker
(:mod:`brim._isolation`), which imports what the first file's child imported, so the next
children start warm. Three ways to run the same pipeline on the same bundled sample, in the
same run, each ``--files`` times:

- ``inline``: in the calling process (``timeout=None``; the reference: no isolation at all);
- ``fork server``: through :func:`brim._isolation.call_with_timeout` (what ``brim batch`` does);
- ``cold child``: a child forked from the caller before any file ran there, which must import
  the pipeline's I/O stack itself (the cost every file paid before the server imported it).

Prints the median seconds per file past the first, and the ratios to ``inline``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time


def _cold(pipeline: str, src: str, out: str) -> float:
    """Seconds for one file in a child forked from a fresh interpreter that imported only brim."""
    import subprocess

    code = (
        "import os, sys, time; import brim.parallel as p\n"
        "t = time.perf_counter(); pid = os.fork()\n"
        "if pid == 0:\n"
        "    r = p._run_inline(sys.argv[1], sys.argv[2], sys.argv[3], {})\n"
        "    os._exit(r.status != 'ok')\n"
        "_, s = os.waitpid(pid, 0); assert s == 0; print(time.perf_counter() - t)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, pipeline, src, out], capture_output=True, text=True, check=True
    )
    return float(run.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--pipeline", default="validate")
    args = ap.parse_args()

    from brim import _isolation
    from brim.data import sample_path
    from brim.parallel import _run_inline, _run_one

    src = str(sample_path("thermo_phantom_tumour"))
    tmp = tempfile.mkdtemp()

    def out(tag: str, i: int) -> str:
        return os.path.join(tmp, f"{tag}{i}.nc")

    times: dict[str, list[float]] = {"inline": [], "fork server": [], "cold child": []}
    for i in range(args.files):
        t0 = time.perf_counter()
        rec = _run_one(args.pipeline, src, out("s", i), {}, 600.0)
        times["fork server"].append(time.perf_counter() - t0)
        assert rec.status == "ok", rec.error
        t0 = time.perf_counter()
        rec = _run_inline(args.pipeline, src, out("i", i), {})
        times["inline"].append(time.perf_counter() - t0)
        assert rec.status == "ok", rec.error
        times["cold child"].append(_cold(args.pipeline, src, out("c", i)))
    _isolation.shutdown()

    print(f"# brim batch per-file cost, pipeline {args.pipeline!r} on a bundled thermogram")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; median of files 2..{args.files}")  # fmt: skip
    ref = statistics.median(times["inline"][1:])
    print("| way | first file [s] | per file after [s] | ratio to inline |")
    print("|---|---:|---:|---:|")
    for way, t in times.items():
        med = statistics.median(t[1:])
        print(f"| {way} | {t[0]:.3f} | {med:.3f} | {med / ref:.2f} |")


if __name__ == "__main__":
    main()
