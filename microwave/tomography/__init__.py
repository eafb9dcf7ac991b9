"""brim.microwave.tomography: quantitative 2-D TM microwave tomography.

Modules
-------
forward
    Simulation of a multistatic ``field_set`` (:func:`simulate`, :func:`add_noise`,
    :func:`simulate_extrapolated`).
vie, moment_quadrature
    The volume-integral-equation operator on the square-cell :class:`TomographyGrid` (Richmond
    1965, FFT-accelerated) and its second-order moment-corrected quadrature.
inverse
    Born, BIM, DBIM, CSI and MR-CSI with Tikhonov/TV and automatic weights; gain calibration.
phantoms, metrics, classify
    Breast phantoms, reconstruction quality metrics and ranked lesion candidates, tumour
    classifiers.
cli
    The ``brim microwave simulate/reconstruct/train/predict`` commands.

Every name below is importable from this package (``from brim.microwave.tomography import
simulate``).
"""

from brim._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "TomographyGrid": "vie",
        "VIEOperator": "vie",
        "refined_grid": "vie",
        "dense_richmond_matrix": "vie",
        "receiver_matrix": "vie",
        "ring_positions": "forward",
        "background_wavenumber": "forward",
        "line_source_field": "forward",
        "plane_wave_field": "forward",
        "SolveInfo": "forward",
        "bicgstab_batched": "forward",
        "gmres_batched": "forward",
        "solve_total_field": "forward",
        "cylinder_scattered_field_analytic": "forward",
        "field_set_dataset": "forward",
        "simulate": "forward",
        "add_noise": "forward",
        "simulate_extrapolated": "forward",
        "ContrastMoments": "moment_quadrature",
        "MomentCorrectedOperator": "moment_quadrature",
        "contrast_moments": "moment_quadrature",
        "InversionResult": "inverse",
        "invert": "inverse",
        "calibrate": "inverse",
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
