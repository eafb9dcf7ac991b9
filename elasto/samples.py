"""Bundled elastography samples, made by brim's own FE + RF simulators (deterministic)."""

from __future__ import annotations

import os
from pathlib import Path

from brim.io import save

from .fem import Inclusion
from .rfsim import simulate_pair

__all__ = ["make_samples", "phantom_pair"]

SAMPLE_EPOCH = "1767225600"


def phantom_pair(*, compression: float = 0.01, seed: int = 2026):
    """The pre/post pair of ``elasto_phantom_pair``: 20 x 30 mm block, 20 kPa background,
    a 4 mm radius 60 kPa inclusion at (10, 15) mm and a 3 mm radius 6 kPa (fat-like, soft)
    inclusion at (5, 6) mm, 1 % compression, 5 MHz, 20 MHz sampling, 80 lines, 768 samples.

    Parameters
    ----------
    compression : float
        Applied compression as a fraction (0.01 = 1 %, the sample's).
    seed : int
        Seed of the speckle (2026, the sample's).

    Returns
    -------
    xarray.Dataset
        ``rf_frames`` with 2 frames and the true FE strain (see :func:`simulate_pair`).
    """
    return simulate_pair(
        inclusions=(
            Inclusion(10e-3, 15e-3, 4e-3, 60e3),
            Inclusion(5e-3, 6e-3, 3e-3, 6e3),
        ),
        compression=compression,
        seed=seed,
    )


def make_samples(outdir: Path) -> list[Path]:
    """Write ``elasto_phantom_pair.nc`` (RF pre/post pair with the true FE strain, ~530 kB).

    Shear-wave frames are not bundled (size); make them with ``brim elasto simulate``.

    Parameters
    ----------
    outdir : path-like
        Folder written to (created if missing).

    Returns
    -------
    list of pathlib.Path
        ``[outdir / "elasto_phantom_pair.nc"]``, its provenance stamped with
        ``SOURCE_DATE_EPOCH`` (the sample epoch unless the variable is already set).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = old or SAMPLE_EPOCH
    try:
        pair = phantom_pair()
        paths = [save(pair, outdir / "elasto_phantom_pair.nc")]
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
    return paths
