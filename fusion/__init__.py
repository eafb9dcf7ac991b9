"""brim.fusion: ultrasound-guided diffuse optical tomography and multimodal fusion.

Modules
-------
measurement
    Optical measurements (NetCDF, MATLAB .mat, long CSV) as ``optical_measurement`` Datasets.
extinction
    Prahl's haemoglobin extinction table (a 650-950 nm subset ships with brim).
public_data
    Loaders of the public Zhu-lab maps (DOT_filtering .mat volumes, DOT-guided-PAT μa/μs′ .npy
    maps) and of BUSI ultrasound images with masks.
diffusion
    Diffusion approximation: infinite and semi-infinite (extrapolated boundary, Haskell et al.
    1994) Green's functions, CW and frequency domain; Born and Rytov weights; the exact
    homogeneous-sphere solution (Boas et al. 1994).
background
    μa and μs′ from ln(ρ²A) and phase against source-detector distance (+ full-model refinement).
simulate
    Phantoms with spherical lesions (volume-integral model), noise, synthetic B-mode images.
reconstruction
    US-guided dual-mesh inversion (:func:`reconstruct`: Tikhonov / CGLS, optional
    distorted-Born step) and HbO2, Hb, HbT, sO2 through an extinction table.
ussegment
    U-Net lesion segmentation (brim.learn) with hash-grouped, leakage-checked Dice and CI.
fuse
    Rigid/affine registration (phase correlation, mutual information), feature- and
    decision-level fusion, the two-branch network of brim.learn under brim.evaluate.
conversion
    The public Zhu-lab maps and .mat/CSV measurements to brim NetCDF (``brim fusion convert``),
    absorption in cm⁻¹ or m⁻¹ converted to mm⁻¹, sO₂ outside [0, 1] flagged.
plotting, cli, pipelines, samples, demo
    Figures (lengths shown in mm), ``brim fusion ...`` commands, ``brim batch`` pipelines,
    bundled samples, the ``brim demo`` section.

``brim.fusion.readers`` (the three modules above in one) and ``brim.fusion.reconstruct`` as a
module are gone: ``brim.fusion.reconstruct`` is the reconstruction function. The old readers
path still resolves, with a deprecation warning, for one release.

Units: lengths in m (positions, coordinates, ROIs, grid settings; the diffusion kernels compute
in mm internally), optical coefficients in mm⁻¹, Hz, nm, µM; time convention exp(+jωt). Files
in other units are converted once, in the readers.
"""

from brim._lazy import lazy_exports

_EXPORTS = {
    # optical measurements
    "read_measurement": "measurement",
    "measurement_from_arrays": "measurement",
    "write_measurement_csv": "measurement",
    "positions_to_m": "measurement",
    # extinction tables
    "read_extinction": "extinction",
    "extinction_at": "extinction",
    "write_extinction_subset": "extinction",
    # public data sets
    "read_dot_filtering": "public_data",
    "read_dot_pat_map": "public_data",
    "read_dot_pat_patient": "public_data",
    "read_busi": "public_data",
    "busi_pairs": "public_data",
    "image_hash": "public_data",
    # physics
    "OpticalProperties": "diffusion",
    "fluence_semi_infinite": "diffusion",
    "born_weights": "diffusion",
    "rytov_weights": "diffusion",
    "sphere_exact": "diffusion",
    "fit_background": "background",
    "pair_distances": "background",
    # simulation
    "Lesion": "simulate",
    "probe_geometry": "simulate",
    "mua_from_hemoglobin": "simulate",
    "simulate_measurement": "simulate",
    "simulate_pair": "simulate",
    "synthetic_ultrasound": "simulate",
    # reconstruction
    "reconstruct": "reconstruction",
    "LesionRoi": "reconstruction",
    "roi_from_mask": "reconstruction",
    "dual_mesh": "reconstruction",
    "perturbation": "reconstruction",
    "hemoglobin": "reconstruction",
    "lesion_summary": "reconstruction",
    # ultrasound segmentation and fusion
    "segment": "ussegment",
    "threshold_segment": "ussegment",
    "load_model": "ussegment",
    "evaluate_segmenter": "ussegment",
    "cross_validate_segmenter": "ussegment",
    "SegmenterEnsemble": "ussegment",
    "default_model_path": "ussegment",
    "register_images": "fuse",
    "apply_affine": "fuse",
    "feature_fusion": "fuse",
    "decision_fusion": "fuse",
    "us_features": "fuse",
    "optical_features": "fuse",
    "two_branch_cv": "fuse",
    # conversion of public data
    "convert": "conversion",
    "convert_map": "conversion",
    "check_so2": "conversion",
    # figures
    "plot_measurement": "plotting",
    "plot_map": "plotting",
    "plot_depth_slices": "plotting",
    "plot_ultrasound": "plotting",
    "plot_volume_mip": "plotting",
}

# ``reconstruct`` is the function (in the submodule ``reconstruction``): no submodule of
# brim.fusion has the name of a public function, so ``from brim.fusion import reconstruct``
# gives the function whatever was imported before.
# ``Roi``: deprecated alias of LesionRoi for one release (warns; not in __all__).
__all__, __getattr__, __dir__ = lazy_exports(
    __name__, _EXPORTS, deprecated={"Roi": "reconstruction"}
)
