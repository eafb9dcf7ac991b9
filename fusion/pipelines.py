"""Per-file pipelines of brim.fusion for ``brim batch`` (``(path, **params) -> xr.Dataset``).

Each pipeline is a public step (:func:`brim.provenance.step`): its result records the call,
named ``brim.fusion.<function>``, with its bound arguments and the SHA-256 of the input file.
"""

from __future__ import annotations

import xarray as xr

from brim import provenance


@provenance.step
def background(path: str, *, n: float | None = None, musp: float | None = None) -> xr.Dataset:
    """Fit background μa/μs′ (mm⁻¹) of one optical measurement file (.nc, .mat, .csv).

    Parameters
    ----------
    path : str
        The measurement file (any format :func:`brim.fusion.read_measurement` reads).
    n : float, optional
        Refractive index (default: the file's ``refractive_index`` attribute, else 1.33).
    musp : float, optional
        Reduced scattering (mm⁻¹), required for CW data (0 Hz).

    Returns
    -------
    xarray.Dataset
        The fit of :func:`brim.fusion.fit_background`.
    """
    from brim.fusion.background import fit_background
    from brim.fusion.measurement import read_measurement

    return fit_background(read_measurement(path), n=n, musp=musp)


@provenance.step
def segment_us(path: str, *, model: str | None = "default") -> xr.Dataset:
    """Segment the lesion of one ultrasound image (PNG or brim NetCDF with ``image``).

    Parameters
    ----------
    path : str
        A PNG/JPEG B-mode image or a brim NetCDF file with an ``image`` variable.
    model : str, optional
        ``"default"`` (default): the U-Net shipped with brim (the classical baseline, with a
        warning, without torch); a model file or folder (:func:`brim.fusion.load_model`);
        ``"otsu"`` or None: the classical threshold segmenter.

    Returns
    -------
    xarray.Dataset
        ``mask`` kind, as :func:`brim.fusion.segment` returns.
    """
    from pathlib import Path

    import brim
    from brim.fusion import ussegment
    from brim.fusion.public_data import read_busi

    p = Path(path)
    ds = read_busi(p) if p.suffix.lower() in (".png", ".jpg", ".jpeg") else brim.open(p)
    return ussegment.segment(ds, model=model)
