"""brim.thermo: infrared thermography from raw camera data to honestly evaluated classifiers.

Modules
-------
readers, flir, backends
    DMR-IR temperature matrices (both text formats, file names parsed), FLIR radiometric JPEGs
    (raw counts -> degC with the Planck constants and the atmosphere model; every parameter
    overridable), 8-bit grey images with an alpha-channel mask (uncalibrated intensity), frame
    folders as time series; xarray engines ``brim_dmr``, ``brim_flir``, ``brim_thermal_image``.
pennes, steady, transient, skin
    Pennes bioheat equation on 3-D voxels (finite volumes, Robin skin / Dirichlet chest wall):
    steady state (direct, Jacobi-CG and algebraic-multigrid CG solvers), transient (theta
    scheme) and skin-surface temperatures.
phantom, simulate, dynamic, cohort, camera
    A breast phantom with tumours (Gautherie's law), steady and cold-stress simulators, labelled
    cohorts, and a camera model rendering labelled synthetic thermograms.
segmentation, features, classify
    Classical segmentation (body, thermal midline, inframammary folds, breasts) and a U-Net;
    asymmetry, hot-spot, vascular, texture and histogram features with units; CNN and feature
    classifiers under brim.evaluate's grouped protocol with the confound audit.
body_relative, recovery
    Features relative to the patient's own body (blind to room, camera and acquisition period;
    the default of the features classifier) and re-warming features of dynamic (cold-stress)
    sequences.
detectability
    Probability that asymmetry features detect a tumour, by diameter, depth and camera NETD.
"""

import sys
import types

from brim._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read": "readers",
        "read_dmr": "readers",
        "read_grey": "readers",
        "read_frames": "readers",
        "parse_dmr_name": "readers",
        "patient_from_name": "readers",
        "open_sample": "samples",
        "read_flir": "flir",
        "raw_to_celsius": "flir",
        "is_flir_radiometric": "flir",
        "solve_pennes": "steady",
        "solve_steady": "steady",
        "solve_transient": "transient",
        "build_phantom": "phantom",
        "solve_phantom": "simulate",
        "gautherie_heat": "phantom",
        "simulate_thermogram": "simulate",
        "simulate_subject": "simulate",
        "simulate_dynamic": "dynamic",
        "simulate_cohort": "cohort",
        "render_thermogram": "camera",
        "apparent_temperature": "camera",
        "segment": "segmentation",
        "segment_classical": "segmentation",
        "find_midline": "segmentation",
        "asymmetry_map": "features",
        "extract_features": "features",
        "features_table": "features",
        "delta_t_rule": "features",
        "relative_features": "body_relative",
        "recovery_map": "recovery",
        "recovery_features": "recovery",
        "detectability_study": "detectability",
    },
)


class _Package(types.ModuleType):
    """``brim.thermo`` itself, keeping its public *function* ``relative_features`` bound.

    The function's module was ``brim.thermo.relative_features`` (now ``body_relative``). That
    old path still imports for one release; importing it makes Python bind the module onto the
    package, and ``brim.thermo.relative_features(ds, seg)`` would then fail with "'module'
    object is not callable". The function stays bound instead. Removed with the old path.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "relative_features" and isinstance(value, types.ModuleType):
            value = value.relative_features
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
