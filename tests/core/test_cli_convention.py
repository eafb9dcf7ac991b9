"""One CLI convention, checked by walking the whole ``brim`` parser tree.

Every command that writes takes ``-o/--output`` (and nothing else is called ``--out`` or
``--output``); every option with a fixed set of values declares ``choices``; every command's
help ends with runnable ``Examples:``; ``--help`` imports none of the heavy libraries; the old
spellings still work for one release with a notice.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import textwrap

import pytest

from brim.cli import _OutputAction, build_parser, main

# Commands that only read and print (everything else writes a file or folder).
READ_ONLY = {
    ("info",),
    ("microwave", "metrics"),
    ("microwave", "info"),
    ("elasto", "ratio"),
}
# Option names that take one of a fixed set of values wherever they appear.
ENUMERATED = {
    "--method",
    "--beamformer",
    "--backend",
    "--solver",
    "--precision",
    "--quadrature",
    "--regularization",
    "--domain",
    "--transform",
    "--signal",
    "--part",
    "--units",
    "--position-units",
    "--path",
}
HEAVY = ("numpy", "xarray", "scipy", "pandas", "numba", "torch", "h5py", "dask", "matplotlib")


def _walk(parser, path=()):
    """Yield ``(path, parser, is_group)`` for every parser in the tree."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    yield path, parser, bool(subs)
    for action in subs:
        for name, sub in action.choices.items():
            yield from _walk(sub, (*path, name))


@pytest.fixture(scope="module")
def tree():
    return list(_walk(build_parser()))


def _leaves(tree):
    return [(path, p) for path, p, group in tree if not group]


def test_tree_has_every_group(tree):
    groups = {path[0] for path, _, _ in tree if path}
    assert {"thermo", "microwave", "elasto", "fusion", "learn", "batch", "demo"} <= groups
    assert len(_leaves(tree)) >= 35


def test_every_writing_command_has_dash_o_output(tree):
    missing, read_only_with_output = [], []
    for path, p in _leaves(tree):
        outs = [a for a in p._actions if "--output" in a.option_strings]
        if path in READ_ONLY:
            if outs:
                read_only_with_output.append(" ".join(path))
        elif not outs or "-o" not in outs[0].option_strings:
            missing.append(" ".join(path))
    assert not missing, f"writing commands without -o/--output: {missing}"
    assert not read_only_with_output, read_only_with_output


def test_out_and_output_mean_only_the_output(tree):
    """``-o``, ``--output`` and ``--out`` are the output everywhere; ``--out`` only deprecated."""
    wrong = []
    for path, p, _ in tree:
        for a in p._actions:
            names = set(a.option_strings) & {"-o", "--output", "--out"}
            if not names:
                continue
            if not isinstance(a, _OutputAction) or a.dest != "output":
                wrong.append(f"{' '.join(path)} {sorted(names)} ({type(a).__name__})")
            elif "--out" in a.option_strings and "--out" not in a.deprecated:
                wrong.append(f"{' '.join(path)}: --out is not marked deprecated")
            elif a.output_kind not in ("file", "folder", "auto"):
                wrong.append(f"{' '.join(path)}: output kind {a.output_kind!r}")
    assert not wrong, wrong


def test_every_enumerated_option_has_choices(tree):
    missing = []
    for path, p, _ in tree:
        for a in p._actions:
            enumerated = set(a.option_strings) & ENUMERATED
            # a help text listing values as a|b|c is an enumeration too
            listed = a.help and re.search(r"\b[a-z][\w-]*\|[a-z][\w-]*\b", a.help)
            if (enumerated or listed) and not a.choices and a.nargs != 0:
                missing.append(f"{' '.join(path)} {a.option_strings}")
    assert not missing, f"enumerated options without choices: {missing}"


def test_every_command_help_has_examples(tree):
    missing = []
    for path, p, _ in tree:
        text = p.format_help()
        head, _, examples = text.partition("\nExamples:\n")
        lines = [ln.strip() for ln in examples.splitlines() if ln.strip()]
        if not lines or not all(ln.startswith(("brim ", "for ")) for ln in lines):
            missing.append(" ".join(path) or "brim")
    assert not missing, f"--help without an Examples: epilog: {missing}"


def _example_argvs(tree):
    """Every ``brim ...`` example line as an argv, with shell substitutions filled in."""
    from brim.data import sample_path

    for path, p, _ in tree:
        _, _, examples = p.format_help().partition("\nExamples:\n")
        for line in examples.splitlines():
            line = line.strip()
            if not line.startswith("brim ") or ";" in line:
                continue  # shell loops are not single commands
            line = re.sub(
                r"\$\(brim samples --path (\w+)\)", lambda m: str(sample_path(m[1])), line
            )
            line = line.replace("$BRIM_EXTERNAL_DATA", "/data").replace("$s", "1")
            yield path, shlex.split(line)[1:]


def test_every_example_parses_and_shows_its_own_command(tree, capsys):
    """Examples are real command lines: options, choices and positionals all accepted."""
    parser = build_parser()
    bad, shown = [], {}
    for path, argv in _example_argvs(tree):
        if "--help" in argv:
            continue
        try:
            parser.parse_args(argv)
        except SystemExit:
            bad.append(" ".join(argv))
        shown.setdefault(path, set()).add(tuple(argv[: len(path)]))
    capsys.readouterr()
    assert not bad, f"examples that do not parse: {bad}"
    # a command's examples may start with the step that makes its input, but must show it
    leaves = {path for path, _, group in tree if path and not group}
    without_own = sorted(" ".join(p) for p in leaves if p not in shown.get(p, set()))
    assert not without_own, f"commands whose examples never run them: {without_own}"


def test_deprecated_out_still_works_with_a_notice(capsys):
    parser = build_parser()
    for argv in (
        ["fusion", "background", "ref.nc", "--out", "bg.nc"],
        ["elasto", "strain", "pair.nc", "--out", "strain.nc"],
        ["batch", "validate", "a.nc", "--out", "checked"],
        ["demo", "--out", "demo"],
        ["learn", "cv", "cfg.yaml", "--out", "report"],
    ):
        with pytest.warns(DeprecationWarning, match="--out is deprecated"):
            args = parser.parse_args(argv)
        assert args.output == argv[-1]
        assert "brim: warning: --out is deprecated" in capsys.readouterr().err
    # the same with the new spelling: no notice
    args = parser.parse_args(["fusion", "background", "ref.nc", "-o", "bg.nc"])
    assert args.output == "bg.nc" and capsys.readouterr().err == ""
    # hidden from --help
    help_text = parser._subparsers._group_actions[0].choices["demo"].format_help()
    assert "-o DIR, --output DIR" in help_text and "--out " not in help_text


def test_elasto_signal_replaces_output_rf_iq(tmp_path, capsys, monkeypatch):
    """``--output iq`` (the old signal option) is refused with the new name, nothing written."""
    parser = build_parser()
    args = parser.parse_args(["elasto", "beamform", "ch.nc", "-o", "b.nc", "--signal", "iq"])
    assert args.signal == "iq" and args.output == "b.nc"
    with pytest.raises(SystemExit):
        parser.parse_args(["elasto", "beamform", "ch.nc", "-o", "b.nc", "--signal", "bmode"])
    capsys.readouterr()
    ch = tmp_path / "ch.nc"
    ch.write_bytes(b"not read")
    monkeypatch.chdir(tmp_path)
    assert main(["elasto", "beamform", str(ch), "-o", "b.nc", "--output", "iq"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and "--signal iq" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ch.nc"]


def test_usage_errors_are_one_brim_line(capsys):
    assert main(["microwave", "simulate", "breast", "-o", "x.nc", "--solver", "cg"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("brim: error: argument --solver: invalid choice: 'cg'")
    assert "brim microwave simulate --help" in err[-1]
    assert main(["demo", "--only", "thermo,xray"]) == 2
    assert "unknown modality 'xray'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [[], *[[g] for g in ("thermo", "microwave", "elasto", "fusion", "learn", "batch", "samples")]],
)
def test_help_imports_no_heavy_library(argv, tmp_path):
    """``brim [GROUP] --help`` stays fast: numpy, xarray, numba, torch... are not imported."""
    code = textwrap.dedent(
        f"""
        import sys
        from brim.cli import main
        rc = main({[*argv, "--help"]!r})
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        print("HEAVY", heavy, rc)
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert "HEAVY [] 0" in res.stdout, res.stdout[-300:]


def test_import_brim_is_light_and_accessor_still_registers(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        import brim
        print("HEAVY", [m for m in {HEAVY!r} if m in sys.modules])
        import xarray as xr
        print("ACCESSOR", type(xr.Dataset().brim).__name__, callable(brim.open))
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout
    assert "ACCESSOR BrimDatasetAccessor True" in res.stdout


def test_numba_compile_notice_once_and_not_on_a_cache_hit(tmp_path):
    """The notice is printed when numba compiles (once per run), not when it loads its cache."""
    mod = tmp_path / "kernels_for_notice.py"
    mod.write_text(
        "import numba\n\n"
        "@numba.njit(cache=True)\n"
        "def twice(x):\n    return 2 * x\n\n"
        "@numba.njit(cache=True)\n"
        "def thrice(x):\n    return 3 * x\n"
    )
    code = textwrap.dedent(
        """
        import brim.cli, sys
        brim.cli.main(["samples"])  # any command installs the hook; numba is not imported yet
        assert "numba" not in sys.modules
        import kernels_for_notice as k
        print(k.twice(2) + k.thrice(2))
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().splitlines()[-1] == "10"
    assert runs[0].stderr.count("compiling numba kernels") == 1
    assert "compiling numba kernels" not in runs[1].stderr
