"""Sample thermograms for ``data_samples/``, made by brim's own bioheat phantom.

Two files: the same simulated subject without (``thermo_phantom_healthy.nc``) and with
(``thermo_phantom_tumour.nc``) a 2 cm tumour in the left breast, 1.5 cm deep. The files are
small (float32, 2 mm pixels) and reproducible bit for bit: fixed seeds, and a fixed provenance
time stamp (``SOURCE_DATE_EPOCH``, the reproducible-builds.org convention, set to 0 while they
are written unless the caller set it).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

SAMPLE_SEED = 20240501
"""Seed of the sample subject."""


@contextlib.contextmanager
def _fixed_epoch():
    old = os.environ.get("SOURCE_DATE_EPOCH")
    if old is None:
        os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def sample_spec():
    """The phantom of the sample subject (with its tumour).

    Returns
    -------
    PhantomSpec
        Default phantom with breast radii 5.8/6.0 cm and a 2 cm tumour 1.5 cm deep in the left
        breast.
    """
    from brim.thermo.phantom import PhantomSpec, TumourSpec

    return PhantomSpec(
        breast_radius=(0.058, 0.06),
        tumour=TumourSpec(side="left", diameter=0.02, depth=0.015, polar=0.35, azimuth=2.0),
    )


def make_samples(outdir: Path) -> list[Path]:
    """Write the thermo sample files into ``outdir``.

    Parameters
    ----------
    outdir : pathlib.Path
        Destination folder (created if missing).

    Returns
    -------
    list of pathlib.Path
        ``thermo_phantom_healthy.nc`` and ``thermo_phantom_tumour.nc``.
    """
    from brim.io import save
    from brim.thermo.simulate import simulate_thermogram

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    spec = sample_spec()
    paths = []
    with _fixed_epoch():
        for name, sp in (("healthy", replace(spec, tumour=None)), ("tumour", spec)):
            ds = simulate_thermogram(
                seed=SAMPLE_SEED,
                spec=sp,
                t_ambient=21.0,
                pixel_pitch=2e-3,
                patient=f"phantom-{name}",
            )
            ds["temperature"] = ds["temperature"].astype(np.float32)
            ds.attrs["sample"] = f"thermo_phantom_{name}"
            paths.append(save(ds, outdir / f"thermo_phantom_{name}.nc"))
    return paths


SAMPLE_NAMES = ("thermo_phantom_healthy", "thermo_phantom_tumour")
"""The thermo samples :func:`make_samples` writes."""


def open_sample(name: str, *, cache_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Open a thermo sample: the bundled file, or a regenerated copy where none is bundled.

    In an installed brim this is :func:`brim.data.sample`. In a source tree whose
    ``data_samples/`` have not been generated, the two thermo samples are made once with
    :func:`make_samples` (a few seconds) into ``cache_dir`` and opened from there.

    Parameters
    ----------
    name : str
        ``"thermo_phantom_healthy"`` or ``"thermo_phantom_tumour"`` (a trailing ``.nc`` is
        allowed).
    cache_dir : path-like, optional
        Folder for regenerated samples; default ``<temporary dir>/brim_thermo_samples``.

    Returns
    -------
    xarray.Dataset
        The ``thermogram`` sample (temperature in degC, 2 mm pixels, ground-truth masks).

    Raises
    ------
    ConfigError
        For a name that is not a thermo sample.

    Examples
    --------
    >>> ds = open_sample("thermo_phantom_tumour")
    >>> ds.brim.kind, ds.attrs["diagnosis"]
    ('thermogram', 'Sick')
    """
    import tempfile

    import xarray

    import brim.data
    from brim.errors import ConfigError, FormatError
    from brim.io import open as brim_open

    stem = name[:-3] if name.endswith(".nc") else name
    if stem not in SAMPLE_NAMES:
        raise ConfigError(f"{name!r} is not a thermo sample; use one of {', '.join(SAMPLE_NAMES)}")
    try:
        ds = brim.data.sample(stem)
    except ConfigError:  # a source tree without generated samples
        folder = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir())
        if cache_dir is None:
            folder = folder / "brim_thermo_samples"
        path = folder / f"{stem}.nc"
        if not path.is_file():
            make_samples(folder)
        ds = brim_open(path)
    if not isinstance(ds, xarray.Dataset):  # the thermo samples are flat Datasets
        raise FormatError(f"{stem}: expected a Dataset, got a {type(ds).__name__}")
    return ds
