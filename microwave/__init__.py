"""brim.microwave: VNA data, calibration, tissue models, radar imaging and tomography.

Two subjects, two subpackages, and the pieces they share at this level:

:mod:`brim.microwave.radar`
    Radar imaging of a calibrated multistatic scan: the imaging grid
    (:class:`~brim.microwave.radar.ImagingGrid`), DAS, DMAS and coherence-factor DAS in
    2-D/3-D, time or frequency domain (Numba / CuPy), homogeneous and two-layer delays
    (``radar.beamforming``, ``radar.kernels``); reference, rotation and average subtraction,
    skin-artefact removal (Bond et al. 2003), time gating, frequency -> time, antenna delay
    calibration (``radar.calibration``, ``radar.timedomain``); MERIT's SCR, SMR, FWHM and
    localisation error (``radar.metrics``).
:mod:`brim.microwave.tomography`
    Quantitative 2-D TM tomography: the volume-integral forward solver on the square-cell
    :class:`~brim.microwave.tomography.TomographyGrid` (Richmond, FFT-accelerated BiCGSTAB or
    GMRES, moment-corrected quadrature, Richardson extrapolation); Born, BIM, DBIM, CSI and
    MR-CSI with Tikhonov/TV and automatic weights; breast phantoms; quality metrics and ranked
    lesion candidates; tumour classifiers; the tomography commands.
readers, backends
    Touchstone ``.sNp`` (scikit-rf), the MERIT CSV layout, UM-BMID ``.mat``, NetCDF/NPZ ->
    ``sparameter_scan`` Datasets; xarray engines ``brim_merit``, ``brim_touchstone``,
    ``brim_umbmid``.
tissue
    Debye and Cole-Cole dispersion; the Lazebnik et al. (2007) breast-tissue curves.
samples, demo, cli, plotting
    Bundled samples, the demo section, the ``brim microwave`` commands, figures.

Conventions: time dependence exp(+jωt); complex relative permittivity ε' − jσ/(ωε0).
``brim.microwave.Grid`` is a deprecated alias of
:class:`~brim.microwave.tomography.TomographyGrid`, ``brim.microwave.calibrate`` of
:func:`~brim.microwave.tomography.calibrate_gain` (the tomography gain calibration; the command
``brim microwave calibrate`` is the radar background subtraction). The modules of the former
flat layout (``brim.microwave.forward``, ``.inverse``, ``.calibration``, ...) still import for
one release, with a :class:`DeprecationWarning` naming the new path. Every step that returns a
Dataset records itself with :func:`brim.provenance.step` (``brim.microwave.<function>``).
"""

from brim._lazy import lazy_exports

__all__, _lazy_getattr, __dir__ = lazy_exports(
    __name__,
    {
        "read_merit": "readers",
        "read_touchstone": "readers",
        "read_umbmid": "readers",
        "read_npz": "readers",
        "open_scan": "readers",
        "make_scan": "readers",
        "reference_subtraction": "radar.calibration",
        "rotation_subtraction": "radar.calibration",
        "average_subtraction": "radar.calibration",
        "skin_artefact_removal": "radar.calibration",
        "time_gate": "radar.calibration",
        "to_time_domain": "radar.calibration",
        "estimate_antenna_delay": "radar.calibration",
        "antenna_delay_calibration": "radar.calibration",
        "debye": "tissue",
        "cole_cole": "tissue",
        "lazebnik_permittivity": "tissue",
        "conductivity": "tissue",
        "effective_wave_speed": "tissue",
        "beamform": "radar.beamforming",
        "estimate_propagation": "radar.propagation",
        "hemisphere_grid": "radar.beamforming",
        "box_grid": "radar.beamforming",
        "plane_grid": "radar.beamforming",
        "homogeneous_delays": "radar.beamforming",
        "two_layer_delays": "radar.beamforming",
        "image_metrics": "radar.metrics",
        "scr": "radar.metrics",
        "smr": "radar.metrics",
        "fwhm": "radar.metrics",
        "TomographyGrid": "tomography.grid",
        "ring_positions": "tomography.grid",
        "field_set_dataset": "tomography.forward",
        "line_source_field": "tomography.forward",
        "simulate": "tomography.forward",
        "simulate_fields": "tomography.forward",
        "add_noise": "tomography.forward",
        "solve_total_field": "tomography.krylov",
        "simulate_extrapolated": "tomography.forward",
        "refined_grid": "tomography.grid",
        "gmres_batched": "tomography.krylov",
        "bicgstab_batched": "tomography.krylov",
        "invert": "tomography.inverse",
        "calibrate_gain": "tomography.inverse",
        "read_field_table": "tomography.fieldtable",
        "lesion_candidates": "tomography.metrics",
        "BreastPhantom": "tomography.phantoms",
        "breast_phantom": "tomography.phantoms",
        "reconstruct_file": "tomography.inverse",
        "plot_image_slice": "plotting",
        "plot_permittivity": "plotting",
        "plot_scan_channel": "plotting",
    },
)

_RENAMED = {"Grid": "TomographyGrid", "calibrate": "calibrate_gain"}


def __getattr__(name: str):
    if name in _RENAMED:
        import warnings

        warnings.warn(
            f"brim.microwave.{name} is deprecated; use brim.microwave.{_RENAMED[name]} "
            f"(brim.microwave.tomography.{_RENAMED[name]})",
            DeprecationWarning,
            stacklevel=2,
        )
        name = _RENAMED[name]
    return _lazy_getattr(name)
