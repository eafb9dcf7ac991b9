"""Start-up time of the ``brim`` command line: ``brim --help`` and each group's ``--help``.

Usage::

    python benchmarks/cli_startup.py [--repeat 7] [--budget 1.0] [--command]

Each case runs in a fresh interpreter (``python -m brim ...`` in a subprocess, from a scratch
working directory so no stray build metadata shadows the installed entry points), ``--repeat``
times; the table prints the median wall-clock time of each case next to two references timed
the same way in the same run — ``python -c pass`` (the interpreter alone) and
``python -c "import numpy"`` (the lightest scientific import) — with the ratios, and checks
each help against the 1 s budget. ``--command`` adds the start-up of real commands (a
bundled-sample ``brim info`` and ``brim thermo segment``), which must import the science stack.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

GROUPS = ("thermo", "microwave", "elasto", "fusion", "learn")


def _median_seconds(argv: list[str], repeat: int, cwd: str) -> tuple[float, float]:
    """Median wall-clock and CPU (user + system) seconds of ``repeat`` runs of ``argv``.

    The CPU time of the child is what the command costs; the wall-clock time is what a user
    waits, which on a shared machine also counts the time other jobs hold the cores.
    """
    wall, cpu = [], []
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def _cases(with_commands: bool, tmp: str) -> list[tuple[str, list[str]]]:
    py = sys.executable
    cases = [("brim --help", [py, "-m", "brim", "--help"])]
    cases += [(f"brim {g} --help", [py, "-m", "brim", g, "--help"]) for g in GROUPS]
    if with_commands:
        from brim.data import sample_path

        tumour = str(sample_path("thermo_phantom_tumour"))
        cases += [
            ("brim info SAMPLE", [py, "-m", "brim", "info", tumour]),
            (
                "brim thermo segment SAMPLE",
                [py, "-m", "brim", "thermo", "segment", tumour, "-o", f"{tmp}/seg.nc"],
            ),
        ]
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per case (median)")
    ap.add_argument("--budget", type=float, default=1.0, help="budget of a --help, s")
    ap.add_argument("--command", action="store_true", help="also time two real commands")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        py = sys.executable
        ref_pass = _median_seconds([py, "-c", "pass"], args.repeat, tmp)
        ref_numpy = _median_seconds([py, "-c", "import numpy"], args.repeat, tmp)
        rows = [
            (name, *_median_seconds(argv, args.repeat, tmp))
            for name, argv in _cases(args.command, tmp)
        ]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# brim CLI start-up, median of {args.repeat} runs; {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load:.1f}, Python {platform.python_version()}"
    )
    print(
        f"# references (wall / CPU s): python -c pass {ref_pass[0]:.3f} / {ref_pass[1]:.3f}; "
        f"python -c 'import numpy' {ref_numpy[0]:.3f} / {ref_numpy[1]:.3f}"
    )
    print(
        "| case | wall [s] | CPU [s] | wall / python -c pass | wall / import numpy "
        "| CPU / import numpy | budget (wall) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    over = 0
    for name, wall, cpu in rows:
        verdict = "-"
        if name.endswith("--help"):
            verdict = f"{'ok' if wall < args.budget else 'OVER'} (< {args.budget:g} s)"
            over += wall >= args.budget
        print(
            f"| {name} | {wall:.3f} | {cpu:.3f} | {wall / ref_pass[0]:.1f} | "
            f"{wall / ref_numpy[0]:.2f} | {cpu / ref_numpy[1]:.2f} | {verdict} |"
        )
    if over:
        print(f"# {over} help command(s) over the {args.budget:g} s budget")
        sys.exit(1)


if __name__ == "__main__":
    main()
