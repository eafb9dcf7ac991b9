"""Per-file pipelines of brim.fusion for ``brim batch`` (``(path, **params) -> xr.Dataset``)."""

from __future__ import annotations

import xarray as xr


def background(path: str, *, n: float | None = None, musp: float | None = None) -> xr.Dataset:
    """Fit background μa/μs′ (mm^-1) of one optical measurement file (.nc, .mat, .csv)."""
    from brim.fusion.background import fit_background
    from brim.fusion.measurement import read_measurement
    from brim.provenance import record

    fit = fit_background(read_measurement(path), n=n, musp=musp)
    return record(fit, "brim.fusion.pipelines.background", {"n": n, "musp": musp}, inputs=[path])


def segment_us(path: str, *, model: str | None = None) -> xr.Dataset:
    """Segment the lesion of one ultrasound image (PNG or brim NetCDF with ``image``)."""
    from pathlib import Path

    import brim
    from brim.fusion import ussegment
    from brim.fusion.public_data import read_busi

    p = Path(path)
    ds = read_busi(p) if p.suffix.lower() in (".png", ".jpg", ".jpeg") else brim.open(p)
    m = ussegment.load_model(model) if model else None
    return ussegment.segment(ds, model=m)
