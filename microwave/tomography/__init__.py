"""brim.microwave.tomography: quantitative 2-D microwave tomography (TM and TE).

Modules
-------
grid
    The square-cell imaging domain :class:`TomographyGrid`, :func:`refined_grid`,
    :func:`ring_positions`.
forward
    Simulation of a multistatic ``field_set`` (:func:`simulate`, :func:`simulate_fields`,
    :func:`add_noise`, :func:`simulate_extrapolated`) and the incident fields.
vie, moment_quadrature
    The volume-integral-equation operator on the grid (Richmond 1965, FFT-accelerated) and its
    second-order moment-corrected quadrature.
te
    TE polarisation: the transverse-field operator with the grad-div term (Richmond 1966,
    FFT-accelerated), TE incident fields and receiver operator.
krylov
    Batched BiCGSTAB and GMRES(m) and :func:`solve_total_field`.
analytic
    The analytic oracle: the field scattered by a dielectric cylinder (eigenfunction series, TM
    and TE).
inverse
    Born, BIM, DBIM, CSI and MR-CSI with Tikhonov/TV and automatic weights, stopping rules,
    a matrix-free Gauss-Newton step for thousands of pairs;
    gain calibration (:func:`calibrate_gain`: per transmitter, per pair, reference receivers
    for directive antennas).
fieldtable
    :func:`read_field_table`: measured multistatic field tables -> ``field_set``.
phantoms, metrics, classify
    Breast phantoms, reconstruction quality metrics and ranked lesion candidates, tumour
    classifiers.
cli
    The ``brim microwave simulate/reconstruct/train/predict`` commands.

Every name below is importable from this package (``from brim.microwave.tomography import
simulate``).
"""

from brim._lazy import lazy_exports

__all__, _lazy_getattr, __dir__ = lazy_exports(
    __name__,
    {
        "TomographyGrid": "grid",
        "VIEOperator": "vie",
        "refined_grid": "grid",
        "dense_richmond_matrix": "vie",
        "receiver_matrix": "vie",
        "TEVIEOperator": "te",
        "dense_richmond_te_matrix": "te",
        "te_line_source_field": "te",
        "te_plane_wave_field": "te",
        "te_receiver_matrix": "te",
        "ring_positions": "grid",
        "background_wavenumber": "forward",
        "line_source_field": "forward",
        "plane_wave_field": "forward",
        "SolveInfo": "krylov",
        "bicgstab_batched": "krylov",
        "gmres_batched": "krylov",
        "solve_total_field": "krylov",
        "cylinder_scattered_field_analytic": "analytic",
        "field_set_dataset": "forward",
        "simulate": "forward",
        "simulate_fields": "forward",
        "Simulation": "forward",
        "add_noise": "forward",
        "simulate_extrapolated": "forward",
        "ContrastMoments": "moment_quadrature",
        "MomentCorrectedOperator": "moment_quadrature",
        "contrast_moments": "moment_quadrature",
        "InversionResult": "inverse",
        "invert": "inverse",
        "calibrate_gain": "inverse",
        "incident_spread_db": "inverse",
        "read_field_table": "fieldtable",
        "reconstruct_file": "inverse",
        "BreastPhantom": "phantoms",
        "breast_phantom": "phantoms",
        "random_breast_phantom": "phantoms",
        "disk_fraction": "phantoms",
        "load_mwsegeval": "phantoms",
        "mwsegeval_phantom": "phantoms",
        "tissue_permittivity": "phantoms",
        "LesionCandidate": "metrics",
        "TomoScores": "metrics",
        "data_misfit": "metrics",
        "lesion_candidates": "metrics",
        "localisation_error": "metrics",
        "region_means": "metrics",
        "relative_error": "metrics",
        "score": "metrics",
        "ssim": "metrics",
        "TrainingSet": "classify",
        "make_training_set": "classify",
        "sinogram_features": "classify",
        "map_features": "classify",
        "train_classifier": "classify",
        "load_classifier": "classify",
        "predict_files": "classify",
    },
)


def __getattr__(name: str):
    if name == "calibrate":  # renamed in issue 18; removed in the next release
        import warnings

        warnings.warn(
            "brim.microwave.tomography.calibrate is deprecated; use "
            "brim.microwave.tomography.calibrate_gain",
            DeprecationWarning,
            stacklevel=2,
        )
        name = "calibrate_gain"
    return _lazy_getattr(name)
