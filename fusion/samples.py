"""Bundled sample data of brim.fusion, made by its own simulators (deterministic, < 500 kB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: the sample lesion: 1.5 cm diameter at 2 cm depth, HbT 70 uM, sO2 0.64 (background 20 uM)
SAMPLE_LESION: dict[str, Any] = {
    "center": (0.005, 0.0, 0.020),
    "radius": 0.0075,
    "hbo2": 45.0,
    "hb": 25.0,
}


def make_samples(outdir: Path) -> list[Path]:
    """Write ``fusion_measurement.nc``, ``fusion_reference.nc`` and ``fusion_ultrasound.nc``.

    A four-wavelength (740/780/808/830 nm), 140 MHz measurement over a 1.5 cm lesion at 2 cm
    depth (9 sources x 14 detectors), the homogeneous reference, and a synthetic B-mode image
    (0.5 mm pixels) of the lesion with its mask; lengths in m. Seeded: identical bytes on every
    run.

    Parameters
    ----------
    outdir : pathlib.Path
        Folder to write (created if missing).

    Returns
    -------
    list of pathlib.Path
        The three files written.
    """
    import brim
    from brim.fusion import simulate as sim

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    lesion = sim.Lesion(**SAMPLE_LESION)
    target, reference = sim.simulate_pair(lesion, seed=7, voxel=1.5e-3)
    us = sim.synthetic_ultrasound(lesion, pixel=0.5e-3, seed=7)
    return [
        brim.save(target, out / "fusion_measurement.nc"),
        brim.save(reference, out / "fusion_reference.nc"),
        brim.save(us, out / "fusion_ultrasound.nc"),
    ]
