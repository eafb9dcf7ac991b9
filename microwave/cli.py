"""``brim microwave ...``: convert, calibrate, beamform, image, metrics, info."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from brim.cli import add_progress_option
from brim.errors import ConfigError
from brim.microwave import tomography_cli

__all__ = ["register"]


def _parse_grid(spec: str | None):
    """``R,RES`` (hemisphere radius and step, m) or ``plane:R,RES,Z``."""
    from brim.microwave import radar

    if not spec:
        return None
    try:
        if spec.startswith("plane:"):
            r, res, z = (float(v) for v in spec[6:].split(","))
            return radar.plane_grid(r, res, z)
        r, res = (float(v) for v in spec.split(","))
        return radar.hemisphere_grid(r, res)
    except ValueError as exc:  # float() and the grid checks (ConfigError is a ValueError)
        raise ConfigError(
            f"bad --grid {spec!r} ({exc}); use RADIUS,STEP (m) or plane:RADIUS,STEP,Z (m)"
        ) from None


def _open(path):
    from brim.microwave.readers import open_scan

    return open_scan(path)


def _calibrate(ds, args):
    from brim.microwave import calibration as cal
    from brim.microwave.readers import open_scan

    if getattr(args, "reference", None):
        ds = cal.reference_subtraction(ds, open_scan(args.reference))
    elif getattr(args, "rotation", None):
        ds = cal.rotation_subtraction(ds, open_scan(args.rotation))
    elif getattr(args, "average", False):
        ds = cal.average_subtraction(ds)
    if getattr(args, "antenna_delay", None):
        ds = cal.antenna_delay_calibration(ds, float(args.antenna_delay))
    return ds


def _cmd_convert(args) -> int:
    from brim.io import save

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for p in args.inputs:
        ds = _open(p)
        target = out / (Path(p).stem + ".nc")
        save(ds, target)
        print(target)
    return 0


def _cmd_calibrate(args) -> int:
    from brim.io import save

    if not (args.reference or args.rotation or args.average):
        raise ConfigError("give --reference REF, --rotation OTHER or --average")
    ds = _calibrate(_open(args.scan), args)
    if "s_reference" in ds:
        ds = ds.drop_vars("s_reference")
    save(ds, args.output)
    print(args.output)
    return 0


def _beamform(ds, args):
    from brim.microwave import radar

    methods = ["das", "dmas", "cf-das"] if args.method == "all" else [args.method]
    return radar.beamform(
        ds,
        grid=_parse_grid(args.grid),
        methods=methods,
        domain=args.domain,
        eps_r=args.eps_r,
        backend=args.backend,
        progress=args.progress,
    )


def _cmd_beamform(args) -> int:
    from brim.io import save

    img = _beamform(_open(args.scan), args)
    save(img, args.output)
    print(args.output)
    return 0


def _cmd_image(args) -> int:
    from brim.io import save

    ds = _calibrate(_open(args.scan), args)
    if not (args.reference or args.rotation or args.average):
        from brim.microwave import calibration as cal

        if "s_reference" not in ds:
            raise ConfigError("give --reference, --rotation or --average (no reference in file)")
        ds = cal.reference_subtraction(ds)
    img = _beamform(ds, args)
    save(img, args.output)
    print(args.output)
    return 0


def _cmd_metrics(args) -> int:
    from brim.io import open as brim_open
    from brim.microwave import metrics

    img = brim_open(args.image)
    target = None
    if args.target:
        try:
            target = np.array([float(v) for v in args.target.split(",")], dtype=float)
        except ValueError:
            raise ConfigError("--target needs X,Y,Z in metres") from None
        if target.size != 3:
            raise ConfigError("--target needs three values X,Y,Z (m)")
    names = [n for n in img.data_vars if {"x", "y"} <= set(img[n].dims)]
    out = {n: metrics.image_metrics(img, target, var=n).as_dict() for n in names}
    print(json.dumps(out, indent=2))
    return 0


def _cmd_info(args) -> int:
    ds = _open(args.scan)
    s = ds["s"]
    print(f"{args.scan}: sparameter_scan, s dims {dict(s.sizes)}")
    f = ds["freq"].values
    print(f"  frequencies: {f.size} from {f.min() / 1e9:.3f} to {f.max() / 1e9:.3f} GHz")
    if "antenna" in ds.sizes:
        print(f"  antennas: {ds.sizes['antenna']}")
    if "s_reference" in ds:
        print(f"  reference scan: {ds['s_reference'].attrs.get('reference_kind')}")
    return 0


_SCAN_HELP = "scan file (any format 'convert' reads)"


def _add_common_image(p):
    p.add_argument(
        "--method",
        default="das",
        choices=["das", "dmas", "cf-das", "all"],
        help="beamformer: delay-and-sum, delay-multiply-and-sum, coherence-factor DAS, or all",
    )
    p.add_argument(
        "--beamformer",
        dest="method",
        choices=["das", "dmas", "cf-das", "all"],
        help="alias of --method",
    )
    p.add_argument(
        "--domain",
        default="frequency",
        choices=["frequency", "time"],
        help="focus the frequency-domain data directly, or time signals from an inverse chirp-Z",
    )
    p.add_argument(
        "--eps-r", type=float, default=8.0, help="relative permittivity of the homogeneous medium"
    )
    p.add_argument(
        "--grid",
        help="image points: RADIUS,STEP (m) for a hemisphere or plane:RADIUS,STEP,Z (m) for a "
        "plane (default: 0.07,0.0025, a 7 cm hemisphere at 2.5 mm)",
    )
    p.add_argument(
        "--backend",
        choices=["numpy", "cupy"],
        help="numpy: Numba kernels on the CPU; cupy: the GPU (default: where the scan is)",
    )
    add_progress_option(p)


def _add_cal(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--reference", help="reference scan (empty chamber / homogeneous phantom)")
    g.add_argument("--rotation", help="the same breast rotated (rotation subtraction)")
    g.add_argument("--average", action="store_true", help="mean-channel subtraction")
    p.add_argument("--antenna-delay", type=float, help="phase-centre one-way delay (s)")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``microwave`` command group."""
    parser = subparsers.add_parser("microwave", help="microwave radar imaging and tomography")
    sub = parser.add_subparsers(dest="microwave_command", metavar="COMMAND")
    parser.set_defaults(func=lambda a: (parser.print_help(), 2)[1])

    p = sub.add_parser("convert", help="read vendor/public scans into brim NetCDF")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="Touchstone .sNp, MERIT .csv, UM-BMID .mat, NetCDF or NPZ scans",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("calibrate", help="reference / rotation / average subtraction")
    p.add_argument("scan", help=_SCAN_HELP)
    _add_cal(p)
    p.add_argument("-o", "--output", required=True, help="calibrated scan (.nc)")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser("beamform", help="DAS / DMAS / CF-DAS image of a calibrated scan")
    p.add_argument("scan", help="calibrated scan (from 'brim microwave calibrate')")
    p.add_argument("-o", "--output", required=True, help="image (.nc)")
    _add_common_image(p)
    p.set_defaults(func=_cmd_beamform)

    p = sub.add_parser("image", help="calibrate then beamform in one step")
    p.add_argument("scan", help=_SCAN_HELP)
    _add_cal(p)
    p.add_argument("-o", "--output", required=True, help="image (.nc)")
    _add_common_image(p)
    p.set_defaults(func=_cmd_image)

    p = sub.add_parser("metrics", help="MERIT metrics of an image (SCR, SMR, FWHM, error)")
    p.add_argument("image", help="image from 'brim microwave beamform' or 'image'")
    p.add_argument("--target", help="known target X,Y,Z in metres (gives the localisation error)")
    p.set_defaults(func=_cmd_metrics)

    p = sub.add_parser("info", help="summarise a scan file")
    p.add_argument("scan", help=_SCAN_HELP)
    p.set_defaults(func=_cmd_info)

    tomography_cli.add_commands(sub)
    return parser
