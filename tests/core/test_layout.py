"""The repository layout: brim works when Python runs from the repository root.

Python puts the working directory (``-m``, ``-c``) first on ``sys.path``. A root folder named
``brim`` (or a ``brim.py``) would then shadow the installed package, and ``python -m brim`` run
from a fresh clone would list the modalities as unavailable. The core lives in ``core/`` and is
mapped to ``brim`` by ``package-dir`` in pyproject.toml, like the modality folders. These tests run
a fresh interpreter with the repository root as its working directory, as a new user would.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODALITIES = ("thermo", "microwave", "elasto", "fusion")


def _run_at(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the cwd + install
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _run_at_root(*args: str) -> subprocess.CompletedProcess:
    return _run_at(ROOT, *args)


def _shadowing_entries(root: Path) -> list[str]:
    """Entries of ``root`` that ``import brim`` would pick up when ``root`` is the cwd."""
    suffixes = tuple(importlib.machinery.all_suffixes())
    return [
        p.name
        for p in root.iterdir()
        if (p.is_dir() and p.name == "brim")
        or (p.is_file() and p.name.startswith("brim.") and p.name.endswith(suffixes))
    ]


def test_python_m_brim_help_from_the_root_lists_every_group():
    out = _run_at_root("-m", "brim", "--help")
    assert out.returncode == 0, out.stderr
    groups = sorted(ep.name for ep in entry_points(group="brim.cli"))
    assert set(MODALITIES) <= set(groups), groups
    for name in groups:
        assert any(line.split()[:1] == [name] for line in out.stdout.splitlines()), (
            f"group {name!r} missing from `python -m brim --help`:\n{out.stdout}"
        )
    assert "unavailable" not in out.stdout, out.stdout


def test_import_modalities_from_the_root_uses_the_installed_package():
    code = (
        "import json, sys\n"
        "import brim, brim.thermo, brim.microwave, brim.elasto, brim.fusion\n"
        "mods = ['brim', 'brim.thermo', 'brim.microwave', 'brim.elasto', 'brim.fusion']\n"
        "print(json.dumps({'files': {m: sys.modules[m].__file__ for m in mods},\n"
        "                  'top': sorted(m for m in sys.modules\n"
        "                                if m in ('thermo', 'microwave', 'elasto', 'fusion',\n"
        "                                         'core'))}))\n"
    )
    out = _run_at_root("-c", code)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    # the files behind the names are the mapped folders: core/ for brim, thermo/ for brim.thermo
    expected = {"brim": "core", **{f"brim.{m}": m for m in MODALITIES}}
    for mod, folder in expected.items():
        assert Path(info["files"][mod]).resolve() == ROOT / folder / "__init__.py", (mod, info)
    # nothing was also imported a second time under a bare top-level name
    assert info["top"] == [], info["top"]


def test_no_root_entry_can_shadow_the_brim_package():
    shadows = _shadowing_entries(ROOT)
    assert not shadows, f"root entries that shadow the installed brim package: {shadows}"
    # and what `import brim` finds from the root is the mapped core folder
    out = _run_at_root("-c", "import importlib.util as u; print(u.find_spec('brim').origin)")
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve() == ROOT / "core" / "__init__.py"


def test_a_shadowing_folder_is_detected_and_breaks_the_cli(tmp_path):
    """The failure these tests guard against, reproduced in a scratch folder (not the checkout)."""
    (tmp_path / "brim").mkdir()
    (tmp_path / "brim" / "__init__.py").write_text("")
    (tmp_path / "brim.py").write_text("")
    (tmp_path / "brim.egg-info").mkdir()  # not importable as brim
    assert sorted(_shadowing_entries(tmp_path)) == ["brim", "brim.py"]
    out = _run_at(tmp_path, "-m", "brim", "--help")
    assert out.returncode != 0 or "unavailable" in out.stdout
