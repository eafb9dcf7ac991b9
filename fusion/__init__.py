"""brim.fusion: ultrasound-guided diffuse optical tomography and multimodal fusion.

Modules
-------
readers
    Optical measurements (NetCDF, MATLAB .mat, long CSV) as ``optical_measurement`` Datasets,
    Prahl's haemoglobin extinction table (a 650-950 nm subset ships with brim), and loaders of
    the public Zhu-lab maps (DOT_filtering .mat volumes, DOT-guided-PAT μa/μs′ .npy maps) and of
    BUSI ultrasound images with masks.
diffusion
    Diffusion approximation: infinite and semi-infinite (extrapolated boundary, Haskell et al.
    1994) Green's functions, CW and frequency domain; Born and Rytov weights; the exact
    homogeneous-sphere solution (Boas et al. 1994).
background
    μa and μs′ from ln(ρ²A) and phase against source-detector distance (+ full-model refinement).
simulate
    Phantoms with spherical lesions (volume-integral model), noise, synthetic B-mode images.
reconstruct
    US-guided dual-mesh inversion (Tikhonov / CGLS, optional distorted-Born step) and HbO2, Hb,
    HbT, sO2 through an extinction table.
ussegment
    U-Net lesion segmentation (brim.learn) with hash-grouped, leakage-checked Dice and CI.
fuse
    Rigid/affine registration (phase correlation, mutual information), feature- and
    decision-level fusion, the two-branch network of brim.learn under brim.evaluate.
conversion
    The public Zhu-lab maps and .mat/CSV measurements to brim NetCDF (``brim fusion convert``),
    absorption in cm⁻¹ or m⁻¹ converted to mm⁻¹, sO₂ outside [0, 1] flagged.
plotting, cli, samples, demo
    Figures (lengths shown in mm), ``brim fusion ...`` commands, bundled samples, the
    ``brim demo`` section.

Units: lengths in m (positions, coordinates, ROIs, grid settings; the diffusion kernels compute
in mm internally), optical coefficients in mm⁻¹, Hz, nm, µM; time convention exp(+jωt). Files
in other units are converted once, in the readers.
"""

from brim._lazy import lazy_exports

_EXPORTS = {
    # readers
    "read_measurement": "readers",
    "measurement_from_arrays": "readers",
    "write_measurement_csv": "readers",
    "positions_to_m": "readers",
    "read_extinction": "readers",
    "extinction_at": "readers",
    "read_dot_filtering": "readers",
    "read_dot_pat_map": "readers",
    "read_dot_pat_patient": "readers",
    "read_busi": "readers",
    "busi_pairs": "readers",
    "image_hash": "readers",
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
    "LesionRoi": "reconstruct",
    "roi_from_mask": "reconstruct",
    "dual_mesh": "reconstruct",
    "perturbation": "reconstruct",
    "hemoglobin": "reconstruct",
    "lesion_summary": "reconstruct",
    # ultrasound segmentation and fusion
    "segment": "ussegment",
    "threshold_segment": "ussegment",
    "load_model": "ussegment",
    "evaluate_segmenter": "ussegment",
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

# ``reconstruct`` is the submodule (``brim.fusion.reconstruct.reconstruct`` the function): a
# package attribute cannot name both, and ``from brim.fusion import reconstruct`` is in use.
__all__, _lazy_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str):
    if name == "Roi":  # deprecated alias of LesionRoi for one release (warns; not in __all__)
        from brim.fusion import reconstruct

        return reconstruct.__getattr__(name)
    return _lazy_getattr(name)
