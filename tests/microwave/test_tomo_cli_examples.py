"""The examples that ``brim microwave reconstruct --help`` prints run when pasted.

Its first example used to be ``reconstruct fields.nc -o map.nc --method born`` on the 8 x 8
breast of ``simulate``'s example: Born's map reached |eps_r| ~ 2,000 and the save failed with
"the file is corrupt or not a reconstruction file". Now the example uses the default method and
an implausible map is a solver error that says what to try.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from brim.cli import main


def _reconstruct_examples() -> list[str]:
    """The epilog lines of ``reconstruct --help`` that need only ``fields.nc`` from simulate."""
    out = subprocess.run(
        [sys.executable, "-m", "brim", "microwave", "reconstruct", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [ln.strip() for ln in out.split("Examples:")[1].splitlines() if ln.strip()]
    simulate = [ln for ln in lines if " simulate " in ln and "-o fields.nc" in ln]
    assert simulate, lines
    return [
        simulate[0],
        *(ln for ln in lines if ln.startswith("brim microwave reconstruct fields.nc")),
    ]


def test_reconstruct_help_examples_run(tmp_path, capsys):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for line in _reconstruct_examples():
            argv = shlex.split(line)[1:]
            assert main([*argv, *(["--no-progress"] if "reconstruct" in argv else [])]) == 0, line
    finally:
        os.chdir(cwd)
    assert (tmp_path / "map.nc").exists()


def test_implausible_born_map_is_a_solver_error(tmp_path, capsys):
    f, out = tmp_path / "fields.nc", tmp_path / "born.nc"
    assert main(["microwave", "simulate", "breast", "-o", str(f), "--tx", "8", "--rx", "8"]) == 0
    capsys.readouterr()
    argv = ["microwave", "reconstruct", str(f), "-o", str(out), "--method", "born"]
    assert main([*argv, "--no-progress"]) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("brim: error: born gave an implausible map"), err
    assert "corrupt" not in err and "--method csi" in err
    assert not out.exists()
