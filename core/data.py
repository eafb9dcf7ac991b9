"""Bundled sample data.

``data_samples/`` (installed as ``brim.data_samples``) holds small files made by brim's own
simulators — never copies of external data. Each modality contributes a
``make_samples(outdir)`` function through the ``brim.samples`` entry-point group;
``scripts/make_samples.py`` (or :func:`make_all`) regenerates every file bit for bit.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path

import xarray as xr

from brim.errors import ConfigError

SAMPLE_EPOCH = "1767225600"  # 2026-01-01T00:00:00Z: the fixed provenance time of sample files


def sample_dir() -> Path:
    """The folder holding the bundled samples."""
    return Path(str(resources.files("brim.data_samples")))


def list_samples() -> list[str]:
    """Names of the bundled samples (file names without ``.nc``)."""
    return sorted(p.stem for p in sample_dir().glob("*.nc"))


def sample_path(name: str) -> Path:
    """Path of a bundled sample file."""
    path = sample_dir() / f"{name.removesuffix('.nc')}.nc"
    if not path.is_file():
        raise ConfigError(
            f"no bundled sample {name!r}; available: {', '.join(list_samples()) or 'none'} "
            f"(regenerate them with: python scripts/make_samples.py)"
        )
    return path


def sample(name: str) -> xr.Dataset | xr.DataTree:
    """Open a bundled sample as a brim Dataset (or DataTree).

    Examples
    --------
    >>> import brim.data
    >>> ds = brim.data.sample("thermo_phantom_tumour")  # doctest: +SKIP
    """
    from brim.io import open as brim_open

    return brim_open(sample_path(name))


def make_all(
    outdir: str | os.PathLike | None = None, *, only: list[str] | None = None
) -> list[Path]:
    """Regenerate every modality's samples into ``outdir`` (default: the bundled folder).

    Runs each ``brim.samples`` entry point with ``SOURCE_DATE_EPOCH`` fixed, so provenance time
    stamps — and therefore the files — are identical on every run.
    """
    out = Path(outdir) if outdir is not None else sample_dir()
    out.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SAMPLE_EPOCH
    written: list[Path] = []
    try:
        for ep in sorted(entry_points(group="brim.samples"), key=lambda e: e.name):
            if only and ep.name not in only:
                continue
            written.extend(Path(p) for p in ep.load()(out))
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return written
