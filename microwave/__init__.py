"""brim.microwave: VNA data, calibration, tissue models, radar imaging and tomography.

Modules
-------
readers, backends
    Touchstone ``.sNp`` (scikit-rf), the MERIT CSV layout, UM-BMID ``.mat``, NetCDF/NPZ ->
    ``sparameter_scan`` Datasets; xarray engines ``brim_merit``, ``brim_touchstone``,
    ``brim_umbmid``.
calibration
    Reference, rotation and average subtraction, skin-artefact removal (Bond et al. 2003), time
    gating, frequency -> time (windowed inverse FFT, inverse chirp-Z), antenna delay calibration.
tissue
    Debye and Cole-Cole dispersion; the Lazebnik et al. (2007) breast-tissue curves.
radar, radar_kernels, metrics
    DAS, DMAS and coherence-factor DAS in 2-D/3-D, time or frequency domain (Numba / CuPy),
    homogeneous and two-layer delays; MERIT's SCR, SMR, FWHM and localisation error.
forward, inverse, tomo_phantoms, tomo_metrics, tomo_classify
    2-D TM volume-integral forward solver (Richmond, FFT-accelerated BiCGSTAB or GMRES,
    Richardson extrapolation over two grids); Born, BIM, DBIM, CSI and MR-CSI with Tikhonov/TV
    and automatic weights; breast phantoms; quality metrics and ranked lesion candidates;
    tumour classifiers.
moment_quadrature
    Second-order moment-corrected Richmond cells (``simulate(..., quadrature="moments")``).

Conventions: time dependence exp(+jωt); complex relative permittivity ε' − jσ/(ωε0).
``Grid`` here is the tomography grid (square cells, :mod:`~brim.microwave.vie`); the radar
imaging grid is :class:`brim.microwave.radar.Grid`. Every step that returns a Dataset records
itself with :func:`brim.provenance.step` (``brim.microwave.<function>``).
"""

from brim._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read_merit": "readers",
        "read_touchstone": "readers",
        "read_umbmid": "readers",
        "read_npz": "readers",
        "open_scan": "readers",
        "make_scan": "readers",
        "reference_subtraction": "calibration",
        "rotation_subtraction": "calibration",
        "average_subtraction": "calibration",
        "skin_artefact_removal": "calibration",
        "time_gate": "calibration",
        "to_time_domain": "calibration",
        "estimate_antenna_delay": "calibration",
        "antenna_delay_calibration": "calibration",
        "debye": "tissue",
        "cole_cole": "tissue",
        "lazebnik_permittivity": "tissue",
        "conductivity": "tissue",
        "effective_wave_speed": "tissue",
        "beamform": "radar",
        "hemisphere_grid": "radar",
        "box_grid": "radar",
        "plane_grid": "radar",
        "homogeneous_delays": "radar",
        "two_layer_delays": "radar",
        "image_metrics": "metrics",
        "scr": "metrics",
        "smr": "metrics",
        "fwhm": "metrics",
        "Grid": "forward",
        "ring_positions": "forward",
        "field_set_dataset": "forward",
        "line_source_field": "forward",
        "simulate": "forward",
        "add_noise": "forward",
        "solve_total_field": "forward",
        "simulate_extrapolated": "forward",
        "refined_grid": "forward",
        "gmres_batched": "forward",
        "bicgstab_batched": "forward",
        "invert": "inverse",
        "calibrate": "inverse",
        "lesion_candidates": "tomo_metrics",
        "BreastPhantom": "tomo_phantoms",
        "breast_phantom": "tomo_phantoms",
        "reconstruct_file": "inverse",
        "plot_image_slice": "plotting",
        "plot_permittivity": "plotting",
        "plot_scan_channel": "plotting",
    },
)
