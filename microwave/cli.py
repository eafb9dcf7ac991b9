"""``brim microwave ...``: convert, calibrate, estimate-propagation, beamform, image, metrics,
info."""

from __future__ import annotations

import argparse
import json
import math
import sys

from brim.cli import (
    add_backend_option,
    add_command,
    add_output_option,
    add_progress_option,
    check_plausible,
    command_group,
    examples,
    output_file,
    save_each,
)
from brim.errors import ConfigError
from brim.microwave.tomography import cli as tomography_cli

__all__ = ["register"]


#: Largest length (m) a breast-imaging option can mean: a larger value is millimetres typed as m.
_MAX_LENGTH_M = 1.0
#: Largest antenna delay (s) a phase-centre correction can mean (MERIT's are 10s of ps).
_MAX_DELAY_S = 1e-8


def _check_metres(option: str, values, example: str) -> None:
    """Refuse lengths that are millimetres typed where metres are asked (a silent wrong image)."""
    hint = f"lengths are in metres, from the centre (millimetres? e.g. {example})"
    for v in values:
        if not math.isnan(v):  # a NaN is left to the grid's checks, which name the setting
            check_plausible(option, v, -_MAX_LENGTH_M, _MAX_LENGTH_M, unit="m", hint=hint)


def _delay_s(value) -> float:
    """``--antenna-delay`` in seconds, refusing a number that only makes sense in ps or ns."""
    d = float(value)
    hint = "a one-way delay in seconds (picoseconds? 50 ps is 50e-12)"
    check_plausible("--antenna-delay", d, -_MAX_DELAY_S, _MAX_DELAY_S, unit="s", hint=hint)
    return d


def _parse_grid(spec: str | None):
    """``R,RES`` (hemisphere radius and step, m) or ``plane:R,RES,Z``."""
    from brim.microwave import radar

    if not spec:
        return None
    try:
        if spec.startswith("plane:"):
            r, res, z = (float(v) for v in spec[6:].split(","))
            _check_metres("--grid", (r, res, z), "plane:0.05,0.0025,0.035")
            return radar.plane_grid(r, res, z)
        r, res = (float(v) for v in spec.split(","))
        _check_metres("--grid", (r, res), "0.07,0.0025 for 70 mm at 2.5 mm")
        return radar.hemisphere_grid(r, res)
    except ValueError as exc:  # float() and the grid checks (ConfigError is a ValueError)
        raise ConfigError(
            f"bad --grid {spec!r} ({exc}); use RADIUS,STEP (m) or plane:RADIUS,STEP,Z (m)"
        ) from None


def _open(path):
    from brim.microwave.readers import open_scan

    return open_scan(path)


_FIELD_TABLE_SUFFIXES = (".exp",)


def _is_field_table(path: str, args) -> bool:
    """A measured multistatic field table: ``--field-table``, a table option, or ``.exp``."""
    from pathlib import Path

    if args.field_table or any(
        getattr(args, k) is not None for k in ("tx_radius", "rx_radius", "geometry")
    ):
        return True
    return Path(path).suffix.lower() in _FIELD_TABLE_SUFFIXES


def _read_field_table(path: str, args):
    from brim.microwave.tomography.fieldtable import read_field_table

    return read_field_table(
        path,
        geometry=args.geometry,
        tx_radius=args.tx_radius,
        rx_radius=args.rx_radius,
        n_tx=args.n_tx,
        n_rx=args.n_rx,
        freq_unit=args.freq_unit,
        index_base=args.index_base,
        time_convention={"iwt": "-iwt", "jwt": "+jwt"}.get(
            args.time_convention, args.time_convention
        ),
        polarisation=args.polarisation,
    )


def _refuse_scan_folder(path) -> None:
    """A folder of scans (MERIT's: scan CSVs beside antenna_locations.csv...) is a natural first
    try; say which files to give instead of "give a regular file"."""
    from pathlib import Path

    p = Path(path)
    if not p.is_dir():
        return
    layout = {"antenna_locations.csv", "channel_names.csv", "frequencies.csv"}
    scans = sorted(f.name for f in p.iterdir() if f.is_file() and f.name not in layout)
    example = f", e.g. {p / scans[0]}" if scans else ""
    raise ConfigError(
        f"{p} is a folder; give the scan files in it{example} (several files convert into "
        "the -o folder, one .nc each)"
    )


def _cmd_convert(args) -> int:
    from brim.io import check_input_file

    for p in args.inputs:  # missing, folder, symlink loop, FIFO, device: refused up front
        _refuse_scan_folder(p)
        check_input_file(p)
    save_each(
        args.inputs,
        args.output,
        lambda p: _read_field_table(p, args) if _is_field_table(p, args) else _open(p),
    )
    return 0


def _scan_inputs(args) -> list[str]:
    """The scan and its calibration scans (an output may overwrite none of them)."""
    extra = [getattr(args, k, None) for k in ("reference", "rotation")]
    return [args.scan, *[e for e in extra if e]]


def _cmd_calibrate(args) -> int:
    from brim.io import save

    out = output_file(args.output, inputs=_scan_inputs(args))
    ds = _calibrated(args)
    if "s_reference" in ds:
        ds = ds.drop_vars("s_reference")
    save(ds, out)
    print(out)
    return 0


def _calibrated(args):
    """The scan calibrated as ``calibrate`` and ``image`` are told (default: its own reference)."""
    from brim.microwave.radar import calibration as cal
    from brim.microwave.readers import open_scan

    ds = _open(args.scan)
    if args.reference:
        ds = cal.reference_subtraction(ds, reference=open_scan(args.reference))
    elif args.rotation:
        ds = cal.rotation_subtraction(ds, rotated=open_scan(args.rotation))
    elif args.average:
        ds = cal.average_subtraction(ds)
    else:
        ds = _own_reference_subtraction(ds)
    if args.antenna_delay:
        ds = cal.antenna_delay_calibration(ds, _delay_s(args.antenna_delay))
    return ds


def _own_reference_subtraction(ds):
    """No calibration option: subtract the reference the scan carries (``s_reference``), as a
    rotation or a reference subtraction by its ``reference_kind``; say which on stderr."""
    from brim.microwave.radar import calibration as cal

    if "s_reference" not in ds:
        raise ConfigError(
            "the scan carries no reference of its own (s_reference): give --reference REF, "
            "--rotation OTHER or --average"
        )
    kind = str(ds["s_reference"].attrs.get("reference_kind", "reference"))
    print(
        f"calibrate: subtracting the scan's own {kind} scan (s_reference); "
        "--reference, --rotation or --average choose otherwise",
        file=sys.stderr,
    )
    if kind == "rotation":
        return cal.rotation_subtraction(ds)
    return cal.reference_subtraction(ds)


def _check_eps_option(flag: str, *values: float) -> None:
    """The permittivity options' range check (1 to 100), before any file is read or written."""
    from brim.microwave.radar.beamforming import _check_eps

    _check_eps(*values, name=flag)


def _beamform(ds, args):
    from brim.microwave import radar

    methods = ["das", "dmas", "cf-das", "capon"] if args.method == "all" else [args.method]
    return radar.beamform(
        ds,
        grid=_parse_grid(args.grid),
        methods=methods,
        domain=args.domain,
        eps_r=args.eps_r,
        backend=args.backend,
        progress=args.progress,
    )


def _cmd_estimate_propagation(args) -> int:
    from brim.io import save
    from brim.microwave.radar.propagation import estimate_propagation

    _check_eps_option("--eps-min/--eps-max", args.eps_min, args.eps_max)
    out = output_file(args.output, inputs=[args.scan])
    delay: float | str = "search" if args.search_delay else "scan"
    if args.antenna_delay is not None:
        delay = _delay_s(args.antenna_delay)
    est = estimate_propagation(
        _open(args.scan),
        eps_range=(args.eps_min, args.eps_max),
        delay_s=delay,
        criterion=args.criterion,
    )
    save(est.to_dataset(), out)
    print(
        f"eps_r {est.eps_r:.2f}, antenna delay {est.delay_s * 1e12:.0f} ps "
        f"({est.delay_source}), criterion {est.criterion}"
    )
    print(out)
    return 0


def _cmd_beamform(args) -> int:
    return _write_image(args, [args.scan], lambda: _open(args.scan))


def _cmd_image(args) -> int:
    return _write_image(args, _scan_inputs(args), lambda: _calibrated(args))


def _write_image(args, inputs: list[str], scan) -> int:
    """``beamform`` and ``image``: check the options and the output, beamform ``scan()``, save."""
    from brim.io import save

    if args.eps_r is not None:
        _check_eps_option("--eps-r", args.eps_r)
    out = output_file(args.output, inputs=inputs)
    img = _beamform(scan(), args)
    save(img, out)
    print(out)
    return 0


def _cmd_metrics(args) -> int:
    import numpy as np
    import xarray as xr

    from brim.io import open as brim_open
    from brim.microwave.radar import metrics

    img = brim_open(args.image)
    if not isinstance(img, xr.Dataset):
        raise ConfigError(f"{args.image} holds a data tree, not a radar image Dataset")
    target = None
    if args.target:
        try:
            target = np.array([float(v) for v in args.target.split(",")], dtype=float)
        except ValueError:
            raise ConfigError("--target needs X,Y,Z in metres") from None
        if target.size != 3:
            raise ConfigError("--target needs three values X,Y,Z (m)")
        _check_metres("--target", target, "0.015,0,0.035 for (15, 0, 35) mm")
    from brim.microwave.radar.beamforming import _VAR as beamformer_names

    # only beamformed intensities: a thermogram, a mask or a permittivity map also lie on
    # (y, x) and used to get "SCR" and "localisation error" numbers
    radar = set(beamformer_names.values())
    names = [str(n) for n in img.data_vars if n in radar and {"x", "y"} <= set(img[n].dims)]
    if not names:
        kind = img.attrs.get("brim_schema", "this")
        raise ConfigError(
            f"{args.image} ({kind}) holds no radar image (das, dmas, cf_das or capon on x, y); "
            "make one with 'brim microwave beamform' or 'brim microwave image'"
        )
    out = {n: metrics.image_metrics(img, target=target, var=n).as_dict() for n in names}
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
_CALIBRATED_HELP = "calibrated scan (from 'brim microwave calibrate')"


def _add_common_image(p):
    """``beamform`` and ``image``: the output image and the beamformer's options."""
    add_output_option(p, "file", "image (.nc)")
    p.add_argument(
        "--method",
        default="das",
        choices=["das", "dmas", "cf-das", "capon", "all"],
        help="beamformer: delay-and-sum, delay-multiply-and-sum, coherence-factor DAS, "
        "diagonally loaded (robust) Capon, or all",
    )
    p.add_argument(
        "--beamformer",
        dest="method",
        choices=["das", "dmas", "cf-das", "capon", "all"],
        help="alias of --method",
    )
    p.add_argument(
        "--domain",
        default="frequency",
        choices=["frequency", "time"],
        help="focus the frequency-domain data directly, or time signals from an inverse chirp-Z",
    )
    p.add_argument(
        "--eps-r",
        type=float,
        default=None,
        help="relative permittivity of the homogeneous medium, 1 to 100 (default: estimated "
        "from the scan by image focus, as 'estimate-propagation' does)",
    )
    p.add_argument(
        "--grid",
        help="image points: RADIUS,STEP (m) for a hemisphere or plane:RADIUS,STEP,Z (m) for a "
        "plane (default: 0.07,0.0025, a 7 cm hemisphere at 2.5 mm)",
    )
    add_backend_option(
        p, help="numpy: Numba kernels on the CPU; cupy: the GPU (default: where the scan is)"
    )
    add_progress_option(p)


def _add_cal(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--reference", help="reference scan (empty chamber / homogeneous phantom)")
    g.add_argument("--rotation", help="the same breast rotated (rotation subtraction)")
    g.add_argument("--average", action="store_true", help="mean-channel subtraction")
    p.add_argument(
        "--antenna-delay",
        type=float,
        help="phase-centre one-way delay in s, e.g. 50e-12 (default: none)",
    )


_SCAN = "$(brim samples --path microwave_radar_scan)"


@command_group(
    "microwave",
    help="microwave radar imaging and tomography",
    epilog=examples(
        f"brim microwave image {_SCAN} -o image.nc",
        "brim microwave simulate breast -o fields.nc --tx 8 --rx 8",
        "brim microwave COMMAND --help",
    ),
    description=(
        "Microwave imaging: radar (S-parameter scans: convert, calibrate, beamform, image) and "
        "tomography (field sets: simulate, reconstruct, train, predict). Units: SI - "
        "positions, radii and --grid in m, frequencies in Hz unless a unit is typed (1GHz) or "
        "given with --freq-unit; permittivities are relative (--eps-r 9, --eps-b 10-1j)."
    ),
)
def register(sub: argparse._SubParsersAction) -> None:
    """Its commands: radar imaging (convert, calibrate, estimate-propagation, beamform, image,
    metrics, info) and tomography (simulate, reconstruct, train, predict:
    :mod:`brim.microwave.tomography.cli`)."""
    p = add_command(
        sub,
        "convert",
        _cmd_convert,
        help="read vendor/public scans into brim NetCDF",
        examples=[
            f"brim microwave convert {_SCAN} -o scan.nc",
            "brim microwave convert $BRIM_EXTERNAL_DATA/microwave/merit/B0_P3_p*.csv -o scans/",
            "brim microwave convert dielTM_dec8f.exp --tx-radius 0.72 --rx-radius 0.76 "
            "--n-rx 360 -o fields.nc",
        ],
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="Touchstone .sNp, MERIT .csv, UM-BMID .mat, NetCDF or NPZ scans; or measured "
        "multistatic field tables (.exp, or any table with --field-table)",
    )
    add_output_option(p, "auto", "brim sparameter_scan NetCDF (field_set for a field table)")
    g = p.add_argument_group(
        "field tables",
        "one row per source, receiver and frequency: indices, frequency, Re/Im total and "
        "incident field (read_field_table); read as such for .exp, with --field-table, or when "
        "a position option is given",
    )
    g.add_argument("--field-table", action="store_true", help="read the inputs as field tables")
    g.add_argument("--geometry", help="CSV kind,index,x,y of the antenna positions (m)")
    g.add_argument("--tx-radius", type=float, help="transmitter ring radius (m)")
    g.add_argument("--rx-radius", type=float, help="receiver ring radius (m)")
    g.add_argument("--n-tx", type=int, help="transmitter positions on the ring")
    g.add_argument("--n-rx", type=int, help="receiver positions on the ring")
    g.add_argument(
        "--freq-unit",
        default="auto",
        choices=["auto", "Hz", "kHz", "MHz", "GHz"],
        help="unit of the frequency column (default: from the header or the values)",
    )
    g.add_argument(
        "--index-base", type=int, default=1, help="index of the first antenna (default 1)"
    )
    g.add_argument(
        "--time-convention",
        default="+jwt",
        choices=["+jwt", "-iwt", "jwt", "iwt"],
        help="time convention of the table: jwt = exp(+jwt) (brim's), iwt = exp(-iwt), "
        "conjugated on reading (also written --time-convention=-iwt)",
    )
    g.add_argument(
        "--polarisation",
        default=None,
        choices=["TM", "TE"],
        help="polarisation of the table, stored as the 'polarisation' attribute (default: a "
        "NetCDF table's own attribute, else unset = TM)",
    )

    p = add_command(
        sub,
        "calibrate",
        _cmd_calibrate,
        help="reference / rotation / average subtraction (default: the scan's own reference)",
        examples=[
            f"brim microwave calibrate {_SCAN} -o calibrated.nc",
            f"brim microwave calibrate {_SCAN} --average -o calibrated.nc",
            f"brim microwave calibrate {_SCAN} --reference empty_chamber.nc -o calibrated.nc",
        ],
    )
    p.add_argument("scan", help=_SCAN_HELP)
    _add_cal(p)
    add_output_option(p, "file", "calibrated scan (.nc)")

    p = add_command(
        sub,
        "estimate-propagation",
        _cmd_estimate_propagation,
        help="effective permittivity (and antenna delay) of a calibrated scan by image focus",
        examples=[
            f"brim microwave calibrate {_SCAN} --average -o calibrated.nc",
            "brim microwave estimate-propagation calibrated.nc -o propagation.nc",
            "brim microwave estimate-propagation calibrated.nc --search-delay -o surface.nc",
        ],
    )
    p.add_argument("scan", help=_CALIBRATED_HELP)
    add_output_option(p, "file", "the criterion curve/surface and the estimate (.nc)")
    p.add_argument("--eps-min", type=float, default=3.0, help="smallest permittivity tried")
    p.add_argument("--eps-max", type=float, default=20.0, help="largest permittivity tried")
    p.add_argument(
        "--criterion",
        default="peak",
        choices=["peak", "pmr"],
        help="focus criterion: peak DAS intensity or peak-to-mean ratio",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--antenna-delay",
        type=float,
        help="antenna one-way delay (s) held fixed (default: the scan's antenna_delay, else 0)",
    )
    g.add_argument(
        "--search-delay",
        action="store_true",
        help="search the delay jointly (-100..300 ps; nearly degenerate with eps: a ridge)",
    )

    p = add_command(
        sub,
        "beamform",
        _cmd_beamform,
        help="DAS / DMAS / CF-DAS / Capon image of a calibrated scan",
        examples=[
            f"brim microwave calibrate {_SCAN} --average -o calibrated.nc",
            "brim microwave beamform calibrated.nc -o image.nc --method dmas",
        ],
    )
    p.add_argument("scan", help=_CALIBRATED_HELP)
    _add_common_image(p)

    p = add_command(
        sub,
        "image",
        _cmd_image,
        help="calibrate then beamform in one step",
        examples=[
            f"brim microwave image {_SCAN} -o image.nc",
            f"brim microwave image {_SCAN} -o image.nc --method all --grid plane:0.05,0.0025,0.035",
        ],
    )
    p.add_argument("scan", help=_SCAN_HELP)
    _add_cal(p)
    _add_common_image(p)

    p = add_command(
        sub,
        "metrics",
        _cmd_metrics,
        help="MERIT metrics of an image (SCR, SMR, FWHM, error)",
        examples=[
            f"brim microwave image {_SCAN} -o image.nc",
            "brim microwave metrics image.nc --target 0.015,0,0.035",
        ],
    )
    p.add_argument("image", help="image from 'brim microwave beamform' or 'image'")
    p.add_argument("--target", help="known target X,Y,Z in metres (gives the localisation error)")

    p = add_command(
        sub,
        "info",
        _cmd_info,
        help="summarise a scan file",
        examples=[f"brim microwave info {_SCAN}"],
    )
    p.add_argument("scan", help=_SCAN_HELP)

    tomography_cli.add_commands(sub)
