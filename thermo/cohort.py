"""Labelled synthetic cohorts: one simulated frontal thermogram per patient, reproducible from
one seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import ConfigError
from brim.io import write_text
from brim.thermo.simulate import simulate_thermogram


def simulate_cohort(
    n: int,
    *,
    seed: int,
    outdir: str | Path | None = None,
    tumour_fraction: float = 0.5,
    progress: bool = False,
    **kwargs,
) -> list[xr.Dataset]:
    """A labelled synthetic cohort: one frontal thermogram per simulated patient.

    Parameters
    ----------
    n : int
        Number of patients.
    seed : int
        Master seed; patient ``i`` uses an independent stream spawned from it
        (``numpy.random.SeedSequence``), so a cohort is reproducible and the subject drawn for
        patient ``i`` does not depend on ``n`` (which patients are sick does).
    outdir : path, optional
        If given, write ``SIM<ID:04d>.nc`` per patient (brim NetCDF) and ``labels.csv`` with
        columns ``ID,Diagnosis`` (``Healthy``/``Sick``, as in DMR-IR) into this folder (created).
    tumour_fraction : float
        Fraction of sick patients (exactly ``round(n * tumour_fraction)``, in random order).
    progress : bool
        Show a tqdm progress bar.
    **kwargs
        Passed to :func:`simulate_thermogram` (e.g. ``pixel_pitch``, ``netd``, ``voxel``).

    Returns
    -------
    list of xarray.Dataset
        The thermograms, patient IDs ``1..n`` in attribute ``patient`` (as strings).

    Examples
    --------
    >>> cohort = simulate_cohort(2, seed=0, voxel=8e-3, pixel_pitch=4e-3)
    >>> [(ds.attrs["patient"], ds.attrs["diagnosis"]) for ds in cohort]
    [('1', 'Healthy'), ('2', 'Sick')]
    """
    if int(n) != n or n < 1:
        raise ConfigError(f"n must be a positive integer; got {n}")
    if not 0.0 <= tumour_fraction <= 1.0:
        raise ConfigError(f"tumour_fraction must be in [0, 1]; got {tumour_fraction}")
    n = int(n)
    ss = np.random.SeedSequence(int(seed))
    order_rng = np.random.default_rng(ss.spawn(1)[0])
    n_sick = int(round(n * tumour_fraction))
    sick = np.zeros(n, bool)
    sick[:n_sick] = True
    order_rng.shuffle(sick)
    children = np.random.SeedSequence([int(seed), 1]).spawn(n)
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
    it = range(n)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="simulating thermograms", unit="patient")
    out = []
    rows = ["ID,Diagnosis"]
    for i in it:
        sub_seed = int(children[i].generate_state(1)[0])
        ds = simulate_thermogram(seed=sub_seed, tumour=bool(sick[i]), patient=str(i + 1), **kwargs)
        ds.attrs["cohort_seed"] = int(seed)
        ds = provenance.record(
            ds,
            "brim.thermo.simulate_cohort",
            params={"n": n, "seed": seed, "tumour_fraction": tumour_fraction, "patient": i + 1,
                    **kwargs},
        )  # fmt: skip
        out.append(ds)
        rows.append(f"{i + 1},{ds.attrs['diagnosis']}")
        if outdir is not None:
            from brim.io import save

            save(ds, outdir / f"SIM{i + 1:04d}.nc")
    if outdir is not None:
        write_text(outdir / "labels.csv", "\n".join(rows) + "\n")
    return out
