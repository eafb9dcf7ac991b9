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
plotting, cli, samples, demo
    Figures, ``brim fusion ...`` commands, bundled samples, the ``brim demo`` section.

Units: mm, mm⁻¹ (optical coefficients), Hz, nm, µM; time convention exp(+jωt).
"""
