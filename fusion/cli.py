"""``brim fusion``: US-guided diffuse optical tomography and multimodal fusion from the shell."""

from __future__ import annotations

import argparse
from pathlib import Path

from brim.cli import (
    add_command,
    add_output_option,
    add_progress_option,
    check_plausible,
    command_group,
    examples,
    existing_paths,
    output_file,
    output_folder,
    output_paths,
)
from brim.errors import ConfigError, FormatError, warn

_MEAS = "$(brim samples --path fusion_measurement)"
_REF = "$(brim samples --path fusion_reference)"
_US = "$(brim samples --path fusion_ultrasound)"


def _open_ds(path):
    import xarray as xr

    import brim
    from brim import provenance
    from brim.io import check_input_file

    p = check_input_file(path)  # missing, folder, symlink loop, FIFO, device: refused
    ds = brim.open(p)
    if not isinstance(ds, xr.Dataset):
        raise FormatError(f"{p.name}: expected a single Dataset")
    # the file read, with its SHA-256: the steps applied next carry it in their records
    return provenance.record(ds, "brim.open", params={"path": p.name}, inputs=[p])


def _cmd_simulate(args) -> int:
    import brim
    from brim.fusion import simulate as sim

    # the lesion in mm and uM: a value typed in m (0.02) or mM would run to a wrong phantom
    check_plausible("--diameter", args.diameter, 1, 100, unit="mm", hint="in m? give mm, e.g. 15")
    check_plausible("--depth", args.depth, 1, 100, unit="mm", hint="in m? give mm, e.g. 20")
    check_plausible("--voxel", args.voxel, 0.1, 10, unit="mm", hint="in m? give mm, e.g. 1.5")
    check_plausible("--hbt", args.hbt, 1, 1000, unit="uM", hint="in mM? give uM, e.g. 70")
    check_plausible("--so2", args.so2, 0, 1, hint="a percentage? give a fraction, e.g. 0.65")
    if args.depth <= args.diameter / 2:
        raise ConfigError(
            f"--depth {args.depth:g} mm puts the lesion (diameter {args.diameter:g} mm) through "
            f"the surface; give a depth over {args.diameter / 2:g} mm"
        )
    out = output_folder(args.output)
    so2 = args.so2
    mm = 1e-3  # the options are in mm (display units); the library takes m
    lesion = sim.Lesion(
        (args.x * mm, args.y * mm, args.depth * mm),
        args.diameter / 2 * mm,
        args.hbt * so2,
        args.hbt * (1 - so2),
    )
    target, reference = sim.simulate_pair(
        lesion, seed=args.seed, voxel=args.voxel * mm, noise=args.noise
    )
    us = sim.synthetic_ultrasound(lesion, seed=args.seed)
    for name, ds in (("measurement", target), ("reference", reference), ("ultrasound", us)):
        print(brim.save(ds, out / f"{name}.nc"))
    return 0


def _cmd_background(args) -> int:
    import brim
    from brim.fusion.background import fit_background
    from brim.fusion.measurement import read_measurement

    out = output_file(args.output, inputs=[args.meas])
    meas = read_measurement(args.meas)
    fit = fit_background(meas, n=args.n, musp=args.musp, min_distance=args.min_distance * 1e-3)
    for i, w in enumerate(fit.wavelength.values):
        print(f"{w:g} nm: mua = {fit.mua.values[i]:.5f} /mm, musp = {fit.musp.values[i]:.4f} /mm")
    print(brim.save(fit, out))
    return 0


def _check_ultrasound(ds, p: Path):
    """Refuse a Dataset without a B-mode ``image`` on (y, x), naming the file, before a model is
    loaded or a line printed."""
    if "image" not in ds or set(ds["image"].dims) != {"y", "x"}:
        raise FormatError(
            f"{p.name}: not an ultrasound B-mode image (no 'image' variable on (y, x)); give "
            "one from 'brim fusion simulate' (ultrasound.nc) or a BUSI PNG"
        )
    return ds


def _load_us(path, model_path):
    from brim.fusion import ussegment

    p = Path(path)
    if p.suffix.lower() == ".png":
        raise ConfigError(
            f"{p.name}: a PNG has no pixel spacing; save the B-mode image as a brim NetCDF with "
            "x and y (depth) coordinates in m (or elasto's depth/line), or use --roi"
        )
    us = _check_ultrasound(_open_ds(p), p)
    if "mask" in us and us["mask"].values.any():
        return us
    model = ussegment.resolve_model(model_path)
    print(f"{p.name} has no lesion mask; {_describe_model(model)}")
    return ussegment.segment(us, model=model)


def _cmd_reconstruct(args) -> int:
    import brim
    from brim.fusion.measurement import read_measurement
    from brim.fusion.reconstruction import LesionRoi, reconstruct

    if (args.us is None) == (args.roi is None):
        raise ConfigError("give exactly one of --us IMAGE or --roi X,Y,Z,R")
    inputs = [args.meas, args.reference] + ([args.us] if args.us else [])
    out = output_file(args.output, inputs=inputs)
    target = read_measurement(args.meas)
    reference = read_measurement(args.reference)
    kw = {
        "alpha": args.alpha,
        "nonlinear_iterations": args.nonlinear_iterations,
        "weighting": args.weighting,
    }
    if args.musp is not None:  # CW data: the background needs the reduced scattering
        from brim.fusion.background import fit_background

        kw["background"] = fit_background(reference, musp=args.musp)
    if args.roi:
        recon = reconstruct(target, reference, roi=LesionRoi.parse(args.roi, units="mm"), **kw)
    else:
        recon = reconstruct(target, reference, us=_load_us(args.us, args.model), **kw)
    if recon.attrs["data_weighting"] == "noise":
        print("data weighted by each pair's standard errors (amplitude_rel_se, phase_se)")
        if "lesion_fit_chi2" in recon:
            chi2 = ", ".join(f"{v:.2f}" for v in recon["lesion_fit_chi2"].values)
            print(f"lesion fit misfit per value, in units of the stated noise (about 1 when the "
                  f"ROI explains the data): {chi2}")  # fmt: skip
    print(brim.save(recon, out))
    return 0


def _cmd_hemoglobin(args) -> int:
    import brim
    from brim.fusion.extinction import read_extinction
    from brim.fusion.reconstruction import hemoglobin

    out = output_file(
        args.output, inputs=[args.map] + ([args.extinction] if args.extinction else [])
    )
    ext = read_extinction(args.extinction) if args.extinction else None  # every input is read
    recon = _open_ds(args.map)  # (and refused) before any result is computed
    if "mua" not in recon or "wavelength" not in recon["mua"].dims:
        raise FormatError(
            f"{Path(args.map).name}: no 'mua' map with a 'wavelength' dimension; give a map made "
            "by 'brim fusion reconstruct' (or 'brim fusion convert')"
        )
    hb = hemoglobin(recon, extinction=ext)
    if "lesion_hbt" in hb:
        print(
            f"lesion: HbT {float(hb.lesion_hbt):.1f} uM, HbO2 {float(hb.lesion_hbo2):.1f} uM, "
            f"Hb {float(hb.lesion_hb):.1f} uM, sO2 {float(hb.lesion_so2):.2f}"
        )
    print(brim.save(hb, out))
    return 0


def _describe_model(ens) -> str:
    """One line naming the segmenter that runs (printed by segment-us and reconstruct --us)."""
    if ens is None:
        return "segmenter: Otsu baseline (classical threshold, no U-Net)"
    meta = ens.metadata
    cv = meta.get("cv", {})
    dice = f", grouped-CV Dice {cv['dice_mean']:.3f}" if "dice_mean" in cv else ""
    return (
        f"segmenter: U-Net ensemble of {len(ens)} from {ens.name} "
        f"({ens.input_size} px{dice}; sha256 {meta.get('sha256', '')[:12]})"
    )


def _cmd_segment(args) -> int:
    import brim
    from brim.fusion import ussegment
    from brim.fusion.public_data import _busi_image_of, read_busi
    from brim.io import check_input_file

    for path in args.images:
        check_input_file(path, what="image")  # before anything is read or written
    # `segment-us Dataset_BUSI_with_GT/benign/*.png` also matches the lesion masks
    # (NAME_mask.png, NAME_mask_1.png) beside their images: they are not images to segment
    masks = [p for p in args.images if _busi_image_of(p) is not None]
    images = [Path(p) for p in args.images if p not in masks]
    if masks:
        warn(
            f"skipped {len(masks)} BUSI lesion mask(s) given with the images (NAME_mask*.png "
            f"beside NAME.png), e.g. {Path(masks[0]).name}"
        )
    if not images:
        raise ConfigError("no image to segment: every file given is a BUSI lesion mask")
    targets = output_paths(images, args.output, suffix=".nc", tag="_mask")

    def read(p: Path):
        if p.suffix.lower() in (".png", ".jpg", ".jpeg"):
            return read_busi(p)
        return _check_ultrasound(_open_ds(p), p)

    # every image decodes before the first mask is written; decoded again below rather than
    # kept, since a folder of BUSI's ~600 images would hold about 1 GB at once
    for p in images:
        read(p)
    model = ussegment.resolve_model(args.model)
    print(_describe_model(model))
    for p, dst in zip(images, targets):
        ds = read(p)
        res = ussegment.segment(ds, model=model)
        print(brim.save(res, dst), f"({int(res['mask'].sum())} px, {res.attrs['segmenter']})")
    return 0


def _cmd_train_us(args) -> int:
    from brim.fusion import ussegment

    out = output_folder(args.output, inputs=[args.root])
    cv = ussegment.cross_validate_segmenter(
        args.root, size=args.size, epochs=args.epochs, n_splits=args.folds, seed=args.seed,
        threads=args.threads, progress=args.progress,
    )  # fmt: skip
    print(cv.fold_table())
    print(
        f"grouped {cv.n_splits}-fold CV: Dice {cv.dice_mean:.3f} (95% CI {cv.ci_low:.3f}-"
        f"{cv.ci_high:.3f}) on {len(cv.per_image)} images at {cv.size}px, {cv.epochs} epochs; "
        f"training {cv.train_seconds:.0f} s on {cv.threads} thread(s)"
    )
    print(ussegment.save_model(cv.ensemble, out))
    return 0


def _cmd_register(args) -> int:
    import brim
    from brim.fusion.fuse import register_images

    out = output_file(args.output, inputs=[args.fixed, args.moving])
    fixed, moving = _open_ds(args.fixed), _open_ds(args.moving)
    res = register_images(
        fixed, moving, transform=args.transform, fixed_var=args.var, moving_var=args.var
    )
    print(brim.save(res, out))
    return 0


def _cmd_convert(args) -> int:
    import brim
    from brim.config import load_params
    from brim.fusion.conversion import PARAMS, convert

    params = load_params(args.params, allowed=PARAMS) if args.params else {}
    for key in ("units", "position_units", "modulation_frequency"):
        if getattr(args, key) is not None:  # the command line wins over the --params file
            params[key] = getattr(args, key)
    srcs = existing_paths(args.inputs)
    dsts = output_paths(srcs, args.output, suffix=".nc")  # brim's one output rule (folder made)
    results = [convert(p, **params) for p in srcs]  # all read before anything is written
    for d, ds in zip(dsts, results, strict=True):
        print(brim.save(ds, d))
    return 0


@command_group(
    "fusion",
    help="US-guided diffuse optical tomography and fusion",
    epilog=examples(
        f"brim fusion reconstruct {_MEAS} --reference {_REF} --us {_US} -o map.nc",
        "brim fusion simulate -o sim/ --depth 15 --diameter 10",
        "brim fusion COMMAND --help",
    ),
    description=(
        "Optical-ultrasound fusion: near-infrared measurements to absorption and scattering "
        "maps guided by an ultrasound lesion mask, then haemoglobin. Units: positions and "
        "sizes read off an image in mm (--depth, --diameter, --roi, --min-distance), optical "
        "coefficients in mm^-1, haemoglobin in uM, sO2 as a fraction 0-1, frequencies in Hz."
    ),
)
def register(sub: argparse._SubParsersAction) -> None:
    """Its commands: simulate, background, reconstruct, hemoglobin, segment-us, train-us,
    register, convert."""
    p = add_command(
        sub,
        "simulate",
        _cmd_simulate,
        help="simulate a lesion measurement, reference and US image",
        examples=[
            "brim fusion simulate -o sim/",
            "brim fusion simulate -o deep/ --depth 25 --diameter 10 --hbt 90 --so2 0.5",
            "brim fusion simulate -o shot/ --noise shot",
        ],
    )
    add_output_option(p, "folder", "output folder: measurement.nc, reference.nc and ultrasound.nc")
    p.add_argument(
        "--depth", type=float, default=20.0, metavar="MM", help="lesion centre depth, mm"
    )
    p.add_argument("--x", type=float, default=0.0, metavar="MM", help="lesion centre x, mm")
    p.add_argument("--y", type=float, default=0.0, metavar="MM", help="lesion centre y, mm")
    p.add_argument("--diameter", type=float, default=15.0, metavar="MM", help="lesion diameter, mm")
    p.add_argument(
        "--hbt", type=float, default=70.0, metavar="UM", help="lesion total haemoglobin, uM"
    )
    p.add_argument(
        "--so2", type=float, default=0.65, metavar="FRACTION", help="lesion saturation (0-1)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the noise and speckle")
    p.add_argument(
        "--voxel", type=float, default=1.5, metavar="MM", help="lesion discretisation, mm"
    )
    p.add_argument(
        "--noise",
        choices=["constant", "shot"],
        default="constant",
        help="'constant' (the default): 0.5 %% amplitude and 5 mrad phase noise on every pair; "
        "'shot': photon shot noise, those levels at the median pair and growing as "
        "1/sqrt(amplitude), its standard errors stored (reconstruct then weighs by them)",
    )

    p = add_command(
        sub,
        "background",
        _cmd_background,
        help="fit background mua/musp from a (reference) measurement",
        examples=[f"brim fusion background {_REF} -o background.nc"],
    )
    p.add_argument("meas", metavar="MEASUREMENT", help="measurement (.nc, .mat or .csv)")
    add_output_option(p, "file", "output NetCDF")
    p.add_argument("--n", type=float, help="refractive index (default from file or 1.33)")
    p.add_argument(
        "--musp", type=float, metavar="PER_MM", help="reduced scattering for CW data, mm^-1"
    )
    p.add_argument(
        "--min-distance", type=float, default=0.0, metavar="MM", help="ignore closer pairs, mm"
    )

    p = add_command(
        sub,
        "reconstruct",
        _cmd_reconstruct,
        help="US-guided dual-mesh absorption reconstruction",
        examples=[
            f"brim fusion reconstruct {_MEAS} --reference {_REF} --us {_US} -o map.nc",
            f"brim fusion reconstruct {_MEAS} --reference {_REF} --roi 0,0,20,7.5 -o map.nc "
            "--nonlinear-iterations 0",
        ],
    )
    p.add_argument(
        "meas", metavar="MEASUREMENT", help="measurement over the lesion (.nc, .mat or .csv)"
    )
    p.add_argument(
        "--reference",
        required=True,
        metavar="MEASUREMENT",
        help="reference measurement (the healthy side or a homogeneous phantom)",
    )
    p.add_argument(
        "--us",
        metavar="IMAGE",
        help="ultrasound B-mode NetCDF (with a mask, or segmented with --model)",
    )
    p.add_argument(
        "--roi",
        metavar="X,Y,Z,R",
        help="lesion centre x, y, depth z and radius, mm (instead of --us)",
    )
    p.add_argument(
        "--model",
        default="default",
        help="segmenter for --us without a mask: 'default' (the default: the U-Net shipped with "
        "brim), 'otsu' (classical baseline) or a model file/folder written by train-us",
    )
    p.add_argument(
        "--alpha", type=float, default=1e-3, metavar="A", help="relative Tikhonov parameter"
    )
    p.add_argument(
        "--nonlinear-iterations",
        type=int,
        default=1,
        metavar="N",
        help="Born iterations after the first linear solve (0: linear Born only)",
    )
    p.add_argument(
        "--weighting",
        choices=["auto", "noise", "equal"],
        default="auto",
        help="data weights: 'noise' by each pair's standard errors (amplitude_rel_se, phase_se "
        "in both files), 'equal', or 'auto' (the default: noise when both files carry them)",
    )
    p.add_argument(
        "--musp",
        type=float,
        metavar="PER_MM",
        help="background reduced scattering (CW data), mm^-1",
    )
    add_output_option(p, "file", "output map NetCDF")

    p = add_command(
        sub,
        "hemoglobin",
        _cmd_hemoglobin,
        help="HbO2, Hb, HbT and sO2 from a reconstructed mua map",
        examples=[
            f"brim fusion reconstruct {_MEAS} --reference {_REF} --us {_US} -o map.nc",
            "brim fusion hemoglobin map.nc -o hemoglobin.nc",
        ],
    )
    p.add_argument("map", metavar="MAP", help="reconstruction NetCDF with 'mua' over wavelength")
    p.add_argument(
        "--extinction", metavar="CSV", help="extinction CSV (default: bundled Prahl subset)"
    )
    add_output_option(p, "file", "output NetCDF")

    p = add_command(
        sub,
        "segment-us",
        _cmd_segment,
        help="segment breast-ultrasound lesions",
        examples=[
            f"brim fusion segment-us {_US} -o us_mask.nc",
            "brim fusion segment-us busi/images/*.png -o masks/ --model unet/",
            f"brim fusion segment-us {_US} -o us_mask.nc --model otsu",
        ],
    )
    p.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="PNG images or brim NetCDF with 'image' (BUSI lesion masks, NAME_mask*.png beside "
        "NAME.png, are skipped)",
    )
    add_output_option(p, "auto", "mask NetCDF (<image stem>_mask.nc in a folder)")
    p.add_argument(
        "--model",
        default="default",
        help="'default' (the default: the U-Net shipped with brim; Otsu with a warning without "
        "torch), 'otsu' (classical baseline), or a model file/folder written by train-us",
    )

    p = add_command(
        sub,
        "train-us",
        _cmd_train_us,
        help="train the U-Net ensemble on a BUSI folder (grouped CV); report Dice",
        examples=[
            "brim fusion train-us $BRIM_EXTERNAL_DATA/fusion/busi_dev -o unet/",
            "brim fusion train-us $BRIM_EXTERNAL_DATA/fusion/busi_dev -o unet/ --epochs 5",
        ],
    )
    p.add_argument("root", metavar="FOLDER", help="folder with images/ and masks/")
    add_output_option(p, "folder", "checkpoint folder to write")
    p.add_argument(
        "--size", type=int, default=128, help="square (letterboxed) input size of the U-Net, px"
    )
    p.add_argument("--epochs", type=int, default=60, help="training epochs per fold")
    p.add_argument("--folds", type=int, default=5, help="grouped CV folds (= ensemble members)")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds and the fits")
    p.add_argument("--threads", type=int, default=2, help="CPU threads of torch")
    add_progress_option(p)

    p = add_command(
        sub,
        "register",
        _cmd_register,
        help="register two 2-D brim images (rigid/affine)",
        examples=[f"brim fusion register {_US} {_US} -o registered.nc --transform affine"],
    )
    p.add_argument("fixed", metavar="FIXED", help="fixed (reference) image NetCDF")
    p.add_argument("moving", metavar="MOVING", help="image NetCDF to move onto the fixed one")
    add_output_option(p, "file", "output NetCDF: moved image and transform")
    p.add_argument(
        "--transform",
        default="rigid",
        choices=["translation", "rigid", "affine"],
        help="transform model",
    )
    p.add_argument("--var", help="image variable (default: 'image' or the first (y, x) one)")

    p = add_command(
        sub,
        "convert",
        _cmd_convert,
        help="Zhu-lab maps (.mat, mu*.npy, patient folders) and .mat/CSV measurements to NetCDF",
        description="Convert public optical data to brim NetCDF: DOT_filtering .mat volumes, "
        "DOT-guided-PAT mua-/mus-*.npy maps or patient folders (absorption and scattering "
        "converted to mm-1; a patient folder also gets HbO2, Hb, HbT and sO2 maps, sO2 "
        "outside [0, 1] flagged), and optical measurements (.mat, CSV; positions to m).",
        examples=[
            "brim fusion convert $BRIM_EXTERNAL_DATA/fusion/dot_pat/p1 -o p1.nc",
            "brim fusion convert maps/mua-780.npy --units cm-1 -o mua780.nc",
            "brim fusion convert a.mat b.csv --params preset.yaml -o converted/",
        ],
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or patient folders to convert")
    add_output_option(p, "auto", "output NetCDF", deprecated=())
    p.add_argument(
        "--units",
        choices=["mm-1", "cm-1", "m-1"],
        help="unit of a map's absorption/scattering values (default: cm-1, the Zhu-lab unit)",
    )
    p.add_argument(
        "--position-units",
        dest="position_units",
        choices=["mm", "m", "cm", "um"],
        help="unit of the optode positions of a .mat measurement (default: mm; a CSV names "
        "its unit in the column, e.g. source_x_mm)",
    )
    p.add_argument(
        "--modulation-frequency",
        dest="modulation_frequency",
        type=float,
        metavar="HZ",
        help="Hz, for a CSV measurement without its '# modulation_frequency_hz=' (or '_mhz=') line",
    )
    p.add_argument(
        "--params",
        metavar="FILE",
        help="YAML/JSON acquisition preset: units, position_units, modulation_frequency, "
        "pixel_size (m), depth_spacing (m), extinction (CSV path), hemoglobin (true/false)",
    )
