"""``brim elasto ...`` commands: thin shells over the library functions.

Output: ``-o/--output`` everywhere (``--out`` is a deprecated alias); ``convert`` follows brim's
rule (one input: a file; several: a folder). ``beamform --signal rf|iq`` chooses beamformed RF
or I/Q (it was ``--output rf|iq``, which now names the output file).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from brim.cli import (
    add_backend_option,
    add_command,
    add_output_option,
    add_progress_option,
    check_plausible,
    command_group,
    examples,
    output_file,
    output_folder,
    save_each,
)
from brim.errors import ConfigError, FormatError

__all__ = ["register"]


def _add_rf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", help="variable name in a .mat file")
    p.add_argument("--fs", type=float, help="sampling frequency of raw arrays (Hz)")
    p.add_argument("--fc", type=float, help="centre frequency of raw arrays (Hz)")
    p.add_argument("--pitch", type=float, help="line pitch of raw arrays (m)")
    p.add_argument(
        "--c", type=float, default=1540.0, help="speed of sound of raw arrays (m/s, default 1540)"
    )


#: Plausible ranges of the acquisition values a user types, with the unit slip each one catches.
_PLAUSIBLE = {
    "fs": (1e5, 1e10, "Hz", "a sampling frequency in MHz? give Hz, e.g. 40e6"),
    "fc": (1e5, 1e10, "Hz", "a centre frequency in MHz? give Hz, e.g. 5e6"),
    "pitch": (1e-6, 0.01, "m", "a pitch in mm? give metres, e.g. 3e-4"),
    "c": (500.0, 5000.0, "m/s", "a speed in km/s or mm/us? give m/s, e.g. 1540"),
    "density": (100.0, 5000.0, "kg/m^3", "a density in g/cm^3? give kg/m^3, e.g. 1000"),
}


def _check_plausible(args, *names: str) -> None:
    """Refuse an acquisition value typed in the wrong unit (a silent wrong geometry otherwise)."""
    for name in names:
        lo, hi, unit, hint = _PLAUSIBLE[name]
        check_plausible("--" + name, getattr(args, name, None), lo, hi, unit=unit, hint=hint)


def _read_rf(path, args):
    from .readers import read_rf

    _check_plausible(args, "fs", "fc", "pitch", "c")

    return read_rf(
        path,
        var=getattr(args, "var", None),
        sampling_frequency=getattr(args, "fs", None),
        center_frequency=getattr(args, "fc", None),
        sound_speed=getattr(args, "c", 1540.0),
        pitch=getattr(args, "pitch", None),
    )


def _frames(text: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.split(","))
    except ValueError:
        msg = f"--frames takes two integers 'PRE,POST', not {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    return a, b


def _out_path(path: str, *inputs) -> Path:
    """The checked output file (``.nc`` added when it has no suffix); see brim.cli."""
    return output_file(path, inputs=[i for i in inputs if i], suffix=".nc")


def _cmd_convert(args) -> int:
    from brim.io import check_input_file

    from .readers import _is_hdf5, _looks_pybf, _mat_has_pybf, read_channel

    def read(src: Path):
        suffix = src.suffix.lower()
        if (suffix in (".h5", ".hdf5") and _is_hdf5(src) and _looks_pybf(src)) or (
            suffix == ".mat" and _mat_has_pybf(src)
        ):  # channel data (pybf's layout, in HDF5 or saved by MATLAB): converted unbeamformed
            return read_channel(src, sound_speed=args.c)
        return _read_rf(src, args)

    # missing, folder, symlink loop, FIFO, device: refused before anything is read
    save_each([check_input_file(p) for p in args.inputs], args.output, read)
    return 0


def _cmd_beamform(args) -> int:
    from brim.io import save

    from .beamforming import beamform
    from .readers import read_channel

    if args.output in ("rf", "iq"):
        raise ConfigError(
            f"--output now names the output file; for beamformed {args.output.upper()} use "
            f"--signal {args.output} (and -o FILE.nc)"
        )
    out = _out_path(args.output, args.channel)
    _check_plausible(args, "c")
    if args.zmax is not None and not (args.zmax > 1.0 and args.zmax < 1000.0):
        raise ConfigError(
            f"--zmax is the deepest depth in mm, in (1, 1000) (the image starts at 1 mm); "
            f"got {args.zmax:g}" + (": metres? 0.04 m is --zmax 40" if 0 < args.zmax < 1 else "")
        )
    ch = read_channel(args.channel, sound_speed=args.c)
    depths = None
    if args.zmax is not None:
        import numpy as np

        dz = float(ch["sound_speed"]) / (2 * float(ch["sampling_frequency"]))
        depths = np.arange(1e-3, args.zmax * 1e-3, dz)
    rf = beamform(
        ch,
        depths=depths,
        fnumber=args.fnumber,
        output=args.signal,
        backend=args.backend,
        progress=args.progress,
    )
    print(save(rf, out))
    return 0


def _displacement(args):
    from .displacement import estimate_displacement

    pre = _read_rf(args.pre, args)
    post = _read_rf(args.post, args) if args.post else None
    if post is None and pre.sizes["frame"] < 2:
        raise ConfigError(f"{args.pre} holds one frame; give a POST file or a file with 2 frames")
    return estimate_displacement(
        pre,
        post,
        method=args.method,
        window=args.window,
        frames=args.frames,
        backend=args.backend,
    )


def _add_pair(p):
    p.add_argument("pre", help="pre-compression RF file (.mat, .npy, .nc)")
    p.add_argument("post", nargs="?", help="post-compression RF file (omit: use --frames)")
    add_output_option(p, "file", "output NetCDF file")
    p.add_argument(
        "--method",
        choices=("ncc", "phase", "dp", "glue"),
        default="ncc",
        help="displacement estimator: normalised cross-correlation, phase, dynamic programming "
        "or glue (regularised global estimation, cleanest strain on decorrelated pairs)",
    )
    p.add_argument(
        "--window",
        type=int,
        help="axial window in RF samples (default: ~10 periods of the centre frequency)",
    )
    p.add_argument("--frames", type=_frames, default="0,1", help="frame indices PRE,POST")
    add_backend_option(p, help="kernel backend")
    _add_rf_options(p)


def _cmd_displacement(args) -> int:
    from brim.io import save

    out = _out_path(args.output, args.pre, args.post)
    print(save(_displacement(args), out))
    return 0


def _cmd_strain(args) -> int:
    import numpy as np

    from brim.io import save

    from .strain import strain_image

    if args.select or args.pairs is not None:
        return _strain_selected(args)
    out = _out_path(args.output, args.pre, args.post)
    s = strain_image(_displacement(args), kernel=args.kernel)
    path = save(s, out)
    print(f"{path}  median axial strain {np.nanmedian(s['strain'].values):+.4%}")
    return 0


def _strain_selected(args) -> int:
    """``strain SEQ --select [--pairs N]``: strain of the best frame pair(s) of a sequence.

    One pair: ``-o`` is the output file. Several: ``-o`` is a folder holding
    ``<SEQ stem>_strain_<pre>-<post>.nc`` for each pair (brim's one-or-many output rule).
    """
    import numpy as np

    from brim.io import save

    from .displacement import estimate_displacement
    from .pair_selection import best_pairs, score_frame_pairs
    from .strain import strain_image

    if not args.select:
        raise ConfigError("--pairs chooses how many pairs --select keeps; add --select")
    if args.post:
        raise ConfigError("--select picks the frame pairs of one sequence; give no POST file")
    n_pairs = 1 if args.pairs is None else args.pairs
    if n_pairs < 1:
        raise ConfigError(f"--pairs must be at least 1, got {n_pairs}")
    if args.max_gap < 1:
        raise ConfigError(f"--max-gap must be at least 1, got {args.max_gap}")
    if n_pairs == 1:
        out = _out_path(args.output, args.pre)
    else:
        folder = output_folder(args.output, inputs=[args.pre])
    seq = _read_rf(args.pre, args)
    if seq.sizes["frame"] < 2:
        raise ConfigError(f"{args.pre} holds {seq.sizes['frame']} frame; --select needs several")
    scores = score_frame_pairs(seq, max_gap=args.max_gap, kernel=args.kernel)
    row = {
        (int(i), int(j)): k
        for k, (i, j) in enumerate(zip(scores["pre"].values, scores["post"].values, strict=True))
    }
    pairs = best_pairs(scores, n_pairs=n_pairs)
    print(
        f"{len(pairs)} of {scores.sizes['pair']} frame pairs selected "
        f"(max gap {args.max_gap}; score = correlation x consistency, 0 out of strain range)"
    )
    for i, j in pairs:
        r = scores.isel(pair=row[(i, j)])
        print(
            f"frames {i},{j}  score {float(r['score']):.3f}  correlation "
            f"{float(r['correlation']):.3f}  consistency {float(r['consistency']):.3f}  "
            f"mean strain {float(r['mean_strain']):+.3%}"
        )
    for i, j in pairs:
        disp = estimate_displacement(
            seq, method=args.method, window=args.window, frames=(i, j), backend=args.backend
        )
        s = strain_image(disp, kernel=args.kernel)
        if n_pairs > 1:
            out = folder / f"{Path(args.pre).stem}_strain_{i}-{j}.nc"
        med = np.nanmedian(s["strain"].values)
        print(f"{save(s, out)}  frames {i},{j}  median axial strain {med:+.4%}")
    return 0


def _roi_mm(text: str):
    from .strain import StrainRoi

    r = StrainRoi.parse(text)
    return StrainRoi(tuple(v * 1e-3 for v in r.bounds), r.shape)


def _check_roi_overlaps(option: str, text: str, roi, image) -> None:
    """Refuse an ROI (m) whose bounding box misses the image, in the mm the user typed: a ROI
    given in metres (rect:0.012,...) would otherwise be reported as 1.2e-05 m."""
    from brim.units import LENGTH_TO_M

    to_m = LENGTH_TO_M.get(image["depth"].attrs.get("units", "m"), 1.0)
    z, x = image["depth"].values * to_m, image["line"].values * to_m
    if roi.shape == "rect":
        z0, z1, x0, x1 = roi.bounds
    else:
        zc, xc, r = roi.bounds
        z0, z1, x0, x1 = zc - r, zc + r, xc - r, xc + r
    if min(z0, z1) <= z.max() and max(z0, z1) >= z.min():
        if min(x0, x1) <= x.max() and max(x0, x1) >= x.min():
            return
    raise ConfigError(
        f"{option} {text} lies outside the image, which spans depth {z.min() * 1e3:.1f} to "
        f"{z.max() * 1e3:.1f} mm and lateral position {x.min() * 1e3:.1f} to "
        f"{x.max() * 1e3:.1f} mm; the ROIs are in mm (e.g. rect:12,18,7,13 is depth 12-18 mm, "
        "lateral 7-13 mm)"
    )


def _cmd_ratio(args) -> int:
    import xarray as xr

    from brim.io import open as brim_open

    from .strain import elasticity_score, strain_ratio

    s = brim_open(args.strain)
    if not isinstance(s, xr.Dataset) or "strain" not in s:
        raise FormatError(
            f"{args.strain} holds no 'strain' variable; make it with 'brim elasto strain'"
        )
    lesion, ref = _roi_mm(args.lesion), _roi_mm(args.reference)
    for option, text, roi in (
        ("--lesion", args.lesion, lesion),
        ("--reference", args.reference, ref),
    ):
        _check_roi_overlaps(option, text, roi, s)
    r = strain_ratio(s, lesion, ref)
    out = {
        "strain_ratio": r.ratio,
        "lesion_mean_abs_strain": r.lesion_mean,
        "reference_mean_abs_strain": r.reference_mean,
        "elasticity_score": elasticity_score(s, lesion),
    }
    print(json.dumps(out, indent=2))
    return 0


def _cmd_simulate(args) -> int:
    from brim.io import save

    from .rfsim import simulate_shear_wave_rf
    from .samples import phantom_pair

    if args.compression is not None and not (0 < args.compression <= 0.1):
        raise ConfigError(
            f"--compression is a fraction in (0, 0.1] (0.01 = 1 %), got {args.compression:g}"
        )
    if not (args.shear_speed > 0 and args.shear_speed < 100):
        raise ConfigError(f"--shear-speed is in m/s, in (0, 100), got {args.shear_speed:g}")
    out = output_folder(args.output)
    # the sample's phantom (stiff lesion and fat-like ROI of 'ratio's example) at the asked
    # compression and speckle; --seed used to be ignored without --compression, and
    # --compression to switch to another phantom (one inclusion, no fat)
    # (an option not given keeps the simulator's own default, the sample's value)
    seed = {} if args.seed is None else {"seed": args.seed}
    compression = {} if args.compression is None else {"compression": args.compression}
    pair = phantom_pair(**compression, **seed)
    # both simulated before either is written: a bad option leaves no half-written folder
    sw = simulate_shear_wave_rf(speed=args.shear_speed, **seed)
    print(save(pair, out / "elasto_phantom_pair.nc"))
    print(save(sw, out / "elasto_shear_wave.nc"))
    return 0


def _cmd_swe(args) -> int:
    import math

    from brim.io import save

    from .shearwave import shear_wave_elastography

    out = _out_path(args.output, args.input)
    _check_plausible(args, "density")
    rf = _read_rf(args.input, args)
    roi = _roi_mm(args.roi) if args.roi else None
    res = shear_wave_elastography(rf, push_x=args.push_x * 1e-3, density=args.density, roi=roi)
    path = save(res.maps, out)

    def kpa(v: float) -> float | None:  # JSON has no NaN: no ROI (or an empty one) is null
        return None if not math.isfinite(v) else v / 1e3

    print(
        json.dumps(
            {
                "output": str(path),
                "group_speed_m_s": res.speed,
                "youngs_modulus_kPa": kpa(res.youngs_modulus),
                "Emax_kPa": kpa(res.e_max),
                "Emean_kPa": kpa(res.e_mean),
            },
            indent=2,
            allow_nan=False,
        )
    )
    return 0


_PAIR = "$(brim samples --path elasto_phantom_pair)"

_UNITS = (
    "Ultrasound elastography: RF/channel data to strain and shear-wave stiffness. Units: "
    "positions read off an image are in mm (the ROIs --lesion, --reference and --roi, --zmax, "
    "--push-x), acquisition parameters in SI units (--pitch in m, --fs and --fc in Hz, --c in "
    "m/s, --density in kg/m^3)."
)


@command_group(
    "elasto",
    help="ultrasound elastography: RF/channel data to strain",
    epilog=examples(
        f"brim elasto strain {_PAIR} -o strain.nc",
        "brim elasto simulate -o sim/",
        "brim elasto COMMAND --help",
    ),
    # a new user met --zmax in mm beside --pitch in m without a word: the group's help says it
    description=_UNITS,
)
def register(sub: argparse._SubParsersAction) -> None:
    """Its commands: convert, beamform, displacement, strain, ratio, simulate, swe."""
    p = add_command(
        sub,
        "convert",
        _cmd_convert,
        help="read .mat/.npy RF or pybf channel HDF5 into brim NetCDF",
        examples=[
            f"brim elasto convert {_PAIR} -o pair.nc",
            "brim elasto convert rf/*.mat -o converted/ --var rf --fs 40e6 --fc 5e6 --pitch 3e-4",
        ],
    )
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="RF (.mat, .npy) or pybf channel HDF5 files"
    )
    add_output_option(p, "auto", "brim NetCDF")
    _add_rf_options(p)

    p = add_command(
        sub,
        "beamform",
        _cmd_beamform,
        help="plane-wave DAS + compounding of channel data",
        examples=[
            "brim elasto beamform $BRIM_EXTERNAL_DATA/elasto/pybf_channel/rf_dataset.hdf5 "
            "-o bmode_rf.nc --zmax 12",
            "brim elasto convert $BRIM_EXTERNAL_DATA/elasto/pybf_channel/rf_dataset.hdf5 "
            "-o channels.nc",
            "brim elasto beamform channels.nc -o bmode_iq.nc --signal iq --fnumber 1.75",
        ],
    )
    p.add_argument(
        "channel",
        help="channel data: pybf HDF5 (or its structs saved by MATLAB, .mat) or brim "
        "channel_data NetCDF",
    )
    add_output_option(p, "file", "output NetCDF file")
    p.add_argument("--fnumber", type=float, default=1.5, help="receive f-number (aperture growth)")
    p.add_argument("--zmax", type=float, help="deepest image depth (mm; default: all samples)")
    p.add_argument("--signal", choices=("rf", "iq"), default="rf", help="beamformed RF or I/Q")
    add_backend_option(p, help="kernel backend (default: numpy)")
    p.add_argument("--c", type=float, default=1540.0, help="speed of sound (m/s)")
    add_progress_option(p)

    p = add_command(
        sub,
        "displacement",
        _cmd_displacement,
        help="displacement between a pre/post RF pair",
        examples=[
            f"brim elasto displacement {_PAIR} -o displacement.nc --frames 0,1",
            "brim elasto displacement pre.mat post.mat -o d.nc --var rf --fs 40e6 --fc 5e6 "
            "--pitch 3e-4 --method phase",
        ],
    )
    _add_pair(p)

    p = add_command(
        sub,
        "strain",
        _cmd_strain,
        help="displacement + least-squares strain image",
        examples=[
            f"brim elasto strain {_PAIR} -o strain.nc",
            f"brim elasto strain {_PAIR} -o strain_dp.nc --method dp --kernel 13",
            f"brim elasto strain {_PAIR} -o strain_glue.nc --method glue",
            "brim elasto strain sequence.nc --select -o best.nc",
            "brim elasto strain sequence.nc --select --pairs 3 -o best_pairs/",
        ],
    )
    _add_pair(p)
    p.add_argument(
        "--kernel",
        type=int,
        default=9,
        help="least-squares strain kernel: odd number >= 3 of displacement estimates along depth",
    )
    p.add_argument(
        "--select",
        action="store_true",
        help="free-hand sequence: score its frame pairs (correlation x strain consistency, "
        "compression in range) and image the best one(s); --frames is not used",
    )
    p.add_argument(
        "--pairs",
        type=int,
        metavar="N",
        help="with --select: keep the N best pairs sharing no frame (default 1; N > 1: -o is a "
        "folder holding SEQ_strain_PRE-POST.nc per pair)",
    )
    p.add_argument(
        "--max-gap",
        type=int,
        default=3,
        help="with --select: largest frame distance of a candidate pair (default 3)",
    )

    p = add_command(
        sub,
        "ratio",
        _cmd_ratio,
        help="strain ratio reference / lesion (> 1: lesion stiffer) and elasticity score",
        examples=[
            f"brim elasto strain {_PAIR} -o strain.nc",
            "brim elasto ratio strain.nc --lesion rect:12,18,7,13 --reference rect:4.5,7.5,3.5,6.5",
        ],
    )
    p.add_argument("strain", help="strain NetCDF from 'brim elasto strain'")
    p.add_argument(
        "--lesion",
        required=True,
        help="rect:z0,z1,x0,x1 or circle:zc,xc,r (mm; z: depth from the probe, x: lateral)",
    )
    p.add_argument("--reference", required=True, help="reference (fat) ROI, same syntax (mm)")

    p = add_command(
        sub,
        "simulate",
        _cmd_simulate,
        help="FE + RF simulated pre/post pair and shear-wave frames",
        examples=[
            "brim elasto simulate -o sim/",
            "brim elasto simulate -o sim2/ --compression 0.02 --seed 1",
        ],
    )
    add_output_option(p, "folder", "output folder: elasto_phantom_pair.nc and elasto_shear_wave.nc")
    p.add_argument(
        "--compression",
        type=float,
        help="applied compression as a fraction, 0.01 = 1 %% (default: 0.01, the sample's)",
    )
    p.add_argument("--shear-speed", type=float, default=2.5, help="shear-wave speed (m/s)")
    p.add_argument(
        "--seed",
        type=int,
        help="random seed of the speckle (default: the sample's pair, 2026; shear wave 0)",
    )

    p = add_command(
        sub,
        "swe",
        _cmd_swe,
        help="shear-wave speed and Young's modulus from RF frames over time",
        examples=[
            "brim elasto simulate -o sim/",
            "brim elasto swe sim/elasto_shear_wave.nc -o swe.nc --push-x 0",
        ],
    )
    p.add_argument("input", help="rf_frames NetCDF with a 'time' coordinate")
    add_output_option(p, "file", "output NetCDF file")
    p.add_argument("--push-x", type=float, default=0.0, help="lateral position of the push (mm)")
    p.add_argument("--density", type=float, default=1000.0, help="tissue density (kg/m^3)")
    p.add_argument("--roi", help="ROI for Emax/Emean: rect:z0,z1,x0,x1 or circle:zc,xc,r (mm)")
