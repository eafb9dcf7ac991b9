"""brim.thermo: infrared thermography from raw camera data to honestly evaluated classifiers.

Modules
-------
readers, flir, backends
    DMR-IR temperature matrices (both text formats, file names parsed), FLIR radiometric JPEGs
    (raw counts -> degC with the Planck constants and the atmosphere model; every parameter
    overridable), 8-bit grey images with an alpha-channel mask (uncalibrated intensity), frame
    folders as time series; xarray engines ``brim_dmr``, ``brim_flir``, ``brim_thermal_image``.
bioheat, phantom, camera
    Pennes bioheat equation (steady and transient, 3-D voxels, Robin skin / Dirichlet chest
    wall; direct, Jacobi-CG and multigrid-CG solvers) on a breast phantom with tumours
    (Gautherie's law), and a camera model rendering labelled synthetic thermograms.
segmentation, features, classify
    Classical segmentation (body, thermal midline, inframammary folds, breasts) and a U-Net;
    asymmetry, hot-spot, vascular, texture and histogram features with units; CNN and feature
    classifiers under brim.evaluate's grouped protocol with the confound audit.
"""

from brim._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read": "readers",
        "read_dmr": "readers",
        "read_grey": "readers",
        "read_frames": "readers",
        "parse_dmr_name": "readers",
        "read_flir": "flir",
        "raw_to_celsius": "flir",
        "is_flir_radiometric": "flir",
        "solve_pennes": "bioheat",
        "solve_steady": "bioheat",
        "solve_transient": "bioheat",
        "build_phantom": "phantom",
        "solve_phantom": "phantom",
        "gautherie_heat": "phantom",
        "simulate_thermogram": "phantom",
        "simulate_dynamic": "phantom",
        "simulate_cohort": "phantom",
        "render_thermogram": "camera",
        "apparent_temperature": "camera",
        "segment": "segmentation",
        "segment_classical": "segmentation",
        "find_midline": "segmentation",
        "asymmetry_map": "features",
        "extract_features": "features",
        "features_table": "features",
        "delta_t_rule": "features",
    },
)
