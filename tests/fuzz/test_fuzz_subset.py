"""The bounded fuzz subset: damaged and special inputs give clean brim errors, never worse.

``scripts/fuzz.py --subset`` runs about 60 cases built from the bundled samples (truncations,
header bit flips, a corrupt HDF5 global heap, NaN/inf/1e300 values, files declaring 8 GiB to
2 TiB, a PNG declaring 65535 x 1 pixels, broken .npy headers, a scan given to the thermogram
converter, a folder, a FIFO, /dev/zero, 250-character and non-UTF-8 names) through ``brim info``
and the convert/info commands, each in a forked child with a time and a memory limit. The full
corpus (>= 2,000 cases, with ``$BRIM_EXTERNAL_DATA``) is ``python scripts/fuzz.py``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "fuzz.py"


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("brim_fuzz", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["brim_fuzz"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(sys.platform == "win32", reason="the harness forks and uses RLIMIT_AS")
def test_fuzz_subset_has_no_traceback_hang_memory_or_garbage():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--subset", "--jobs", "2", "--timeout", "60", "--show", "60"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    out = proc.stdout
    assert "TOTAL" in out, proc.stderr[-3000:]
    total = next(ln for ln in out.splitlines() if ln.startswith("TOTAL")).split()
    clean, ok, traceback, hang, memory, garbage, n = map(int, total[1:])
    assert n >= 50
    assert clean > 0.5 * n  # most inputs are damaged: refused with a one-line brim error
    assert ok >= 5  # the undamaged originals pass (the harness can tell ok from refused)
    assert (traceback, hang, memory, garbage) == (0, 0, 0, 0), out[-4000:]
    assert proc.returncode == 0


def test_corpus_is_deterministic_and_covers_every_mutation_kind(tmp_path):
    fuzz = _load_fuzz()
    a = fuzz.build_corpus(tmp_path / "a", n_flips=6)
    b = fuzz.build_corpus(tmp_path / "b", n_flips=6)
    assert [c.id for c in a] == [c.id for c in b]
    assert [c.data for c in a] == [c.data for c in b]
    muts = {c.mutation.split(":")[0].split("_")[0] for c in a}
    for kind in (
        "truncate",
        "flip",
        "zero64",
        "ff64",
        "heap",
        "all",
        "one",
        "wrong",
        "declare",
        "png",
        "npy",
        "token",
        "folder",
        "fifo",
        "dev",
        "empty",
        "long",
        "non",
    ):
        assert kind in muts, kind
    entries = {c.entry for c in a}
    assert {
        "info",
        "thermo.convert",
        "microwave.convert",
        "microwave.info",
        "elasto.convert",
        "fusion.background",
        "fusion.segment-us",
    } <= entries


def test_classifier_sees_each_bad_outcome(tmp_path):
    """The harness must be able to fail: an escaping exception, an all-NaN output, a hang and
    an allocation over the memory limit are each classified as such."""
    fuzz = _load_fuzz()
    fuzz.ENTRIES["py:boom"] = ["json:loads"]  # json.loads(Path) raises TypeError
    fuzz.ENTRIES["py:nan"] = ["tests_fuzz_helpers:all_nan"]
    fuzz.ENTRIES["py:hang"] = ["tests_fuzz_helpers:hang"]
    fuzz.ENTRIES["py:memory"] = ["tests_fuzz_helpers:memory"]
    helper = tmp_path / "tests_fuzz_helpers.py"
    helper.write_text(
        "import numpy as np, xarray as xr\n"
        "def all_nan(path):\n"
        "    return xr.Dataset({'v': ('x', np.full(4, np.nan))})\n"
        "def hang(path):\n"
        "    import time; time.sleep(60)\n"
        "def memory(path):\n"
        "    return np.ones(2**34)\n"  # 128 GiB: over the 2 GiB limit
    )
    sys.path.insert(0, str(tmp_path))
    try:
        cases = [
            fuzz.Case("boom", "py:boom", "t", "original", ".nc", b"x"),
            fuzz.Case("nan", "py:nan", "t", "original", ".nc", b"x"),
            fuzz.Case("hang", "py:hang", "t", "original", ".nc", b"x"),
            fuzz.Case("memory", "py:memory", "t", "original", ".nc", b"x"),
        ]
        fuzz.run(cases, jobs=2, timeout=5, progress=False)
    finally:
        sys.path.remove(str(tmp_path))
        for k in ("boom", "nan", "hang", "memory"):
            del fuzz.ENTRIES[f"py:{k}"]
    assert cases[0].result["class"] == "traceback", cases[0].result
    assert cases[1].result["class"] == "garbage", cases[1].result
    assert cases[2].result["class"] == "hang", cases[2].result
    assert cases[3].result["class"] == "memory", cases[3].result
