"""One table of beamformers over phantoms: SCR, SMR, FWHM and localisation error.

Used by ``scripts/radar_merit_table.py`` and the radar notebook so both print the same table
with the same defaults: rotation subtraction, the permittivity estimated from each scan
(:func:`~brim.microwave.radar.estimate_propagation`), then every beamformer on one grid.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from brim.microwave.radar.beamforming import _VAR, beamform, hemisphere_grid
from brim.microwave.radar.metrics import image_metrics
from brim.microwave.radar.propagation import estimate_propagation

__all__ = ["MERIT_TARGETS", "compare_beamformers"]

#: Published tumour centres (m) of the MERIT phantoms (O'Loughlin et al. 2018): P3 an 11 mm
#: tumour, P5 a 20 mm tumour.
MERIT_TARGETS = {"P3": (0.015, 0.0, 0.035), "P5": (0.015, 0.0, 0.030)}


def compare_beamformers(
    cases: Mapping[str, tuple[xr.Dataset, Sequence[float]]],
    *,
    methods: Sequence[str] = ("das", "dmas", "cf-das", "capon"),
    resolution: float = 2.5e-3,
    capon_resolution: float = 5e-3,
    radius: float = 0.07,
    eps_r: float | None = None,
) -> tuple[Any, dict[str, xr.Dataset]]:
    """Image every calibrated scan with every beamformer and tabulate MERIT's metrics.

    Parameters
    ----------
    cases : mapping
        ``name -> (calibrated scan, target (x, y, z) in m)``.
    methods : sequence of str
        Beamformers (:func:`~brim.microwave.radar.beamform` names).
    resolution : float
        Grid step (m) of the DAS / DMAS / CF-DAS images.
    capon_resolution : float
        Grid step (m) of the Capon image (about 50 times DAS's cost per point).
    radius : float
        Hemisphere radius (m).
    eps_r : float, optional
        A fixed permittivity; default: estimated from each scan (the beamform default).

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per (phantom, beamformer): estimated eps_r, error (mm), SCR and SMR (dB),
        FWHM x/y/z (mm), seconds; and the images by phantom (Capon in its own Dataset under
        ``"<name>/capon"``).

    Examples
    --------
    >>> import brim.data
    >>> from brim.microwave import rotation_subtraction
    >>> from brim.microwave.radar.comparison import compare_beamformers
    >>> scan = rotation_subtraction(brim.data.sample("microwave_radar_scan"))
    >>> table, _ = compare_beamformers({"sim": (scan, (0.015, 0, 0.035))}, methods=["das"],
    ...                                resolution=0.01, eps_r=8.0)
    >>> list(table.columns)[:4], len(table)
    (['phantom', 'beamformer', 'eps_r', 'error_mm'], 1)
    """
    import pandas as pd

    rows, images = [], {}
    fast = [m for m in methods if m != "capon"]
    for name, (scan, target) in cases.items():
        t0 = time.perf_counter()
        eps = eps_r
        est = None
        if eps is None:
            est = estimate_propagation(scan, radius=radius)
            eps = est.eps_r
        runs = []
        if fast:
            img = beamform(scan, grid=hemisphere_grid(radius, resolution), methods=fast, eps_r=eps)
            if est is not None:
                img.attrs.update(est.as_attrs())
            images[name] = img
            runs += [(m, img, time.perf_counter() - t0) for m in fast]
        if "capon" in methods:
            t1 = time.perf_counter()
            img = beamform(
                scan, grid=hemisphere_grid(radius, capon_resolution), methods=["capon"], eps_r=eps
            )
            images[f"{name}/capon"] = img
            runs.append(("capon", img, time.perf_counter() - t1))
        for m, img, sec in runs:
            met = image_metrics(img, target=target, var=_VAR[m])
            rows.append(
                {
                    "phantom": name,
                    "beamformer": m.upper(),
                    "eps_r": round(float(eps), 2),
                    "error_mm": round(1e3 * float(met.localisation_error_m or np.nan), 1),
                    "SCR_dB": round(met.scr_db, 2),
                    "SMR_dB": round(met.smr_db, 1),
                    "FWHM_mm": "/".join(f"{1e3 * v:.0f}" for v in met.fwhm_m),
                    "grid_mm": round(1e3 * (capon_resolution if m == "capon" else resolution), 1),
                    "seconds": round(sec, 1),
                }
            )
    return pd.DataFrame(rows), images
