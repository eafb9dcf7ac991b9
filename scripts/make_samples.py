"""Regenerate every file in data_samples/ with brim's own simulators, bit for bit.

Usage (from the repository root, after installing brim)::

    python scripts/make_samples.py

Each modality's ``make_samples(outdir)`` (entry-point group ``brim.samples``) writes its files;
the provenance time stamp is fixed (``brim.data.SAMPLE_EPOCH``) so the bytes never change unless
the simulators do. ``tests/core/test_samples.py`` checks that.
"""

from __future__ import annotations

import sys
from pathlib import Path

from brim.data import make_all

if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "data_samples"
    only = sys.argv[1:] or None  # e.g. `python scripts/make_samples.py thermo` for one modality
    for old in out.glob("*.nc"):
        if only is None or old.name.split("_")[0] in only:
            old.unlink()
    for path in make_all(out, only=only):
        print(f"{path.name:40s} {path.stat().st_size / 1024:8.1f} kB")
