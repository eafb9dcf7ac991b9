"""brim.elasto: ultrasound elastography from channel data to strain, strain ratio and modulus.

Readers (:mod:`~brim.elasto.readers`), plane-wave beamforming (:mod:`~brim.elasto.beamforming`),
forward models (:mod:`~brim.elasto.fem`, :mod:`~brim.elasto.rfsim`), displacement estimation
(:mod:`~brim.elasto.displacement`; regularised GLUE-style estimation in
:mod:`~brim.elasto.glue`), frame-pair selection for free-hand sequences
(:mod:`~brim.elasto.pair_selection`), strain and clinical numbers (:mod:`~brim.elasto.strain`),
shear-wave elastography (:mod:`~brim.elasto.shearwave`) and figures
(:mod:`~brim.elasto.plotting`).
"""

from __future__ import annotations

from brim._lazy import lazy_exports

_EXPORTS = {
    "read_rf": "readers",
    "read_channel": "readers",
    "read_channel_pybf": "readers",
    "read_mat_variable": "readers",
    "make_rf_frames": "readers",
    "make_channel_data": "readers",
    "beamform": "beamforming",
    "envelope": "beamforming",
    "bmode": "beamforming",
    "iq_demodulate": "beamforming",
    "Inclusion": "fem",
    "solve_compression": "fem",
    "eshelby_circular_strain": "fem",
    "simulate_rf": "rfsim",
    "simulate_pair": "rfsim",
    "simulate_shear_wave_rf": "rfsim",
    "estimate_displacement": "displacement",
    "glue_displacement": "glue",
    "simulate_decorrelated_pair": "glue",
    "score_frame_pairs": "pair_selection",
    "select_frame_pairs": "pair_selection",
    "least_squares_strain": "strain",
    "strain_image": "strain",
    "strain_ratio": "strain",
    "snr_e": "strain",
    "cnr_e": "strain",
    "elasticity_score": "strain",
    "StrainRoi": "strain",
    "shear_wave_elastography": "shearwave",
    "youngs_modulus": "shearwave",
    "plot_bmode": "plotting",
    "plot_elastogram": "plotting",
    "plot_displacement": "plotting",
    "plot_modulus_map": "plotting",
}

# ``Roi``: deprecated alias of StrainRoi for one release (warns; not in __all__).
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, deprecated={"Roi": "strain"})
