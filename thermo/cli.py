"""``brim thermo ...``: the thermography command line (a thin shell over brim.thermo).

Subcommands (each accepts raw files — DMR ``.txt``, FLIR ``.jpg``, grey ``.png`` — or brim
``.nc`` files)::

    brim thermo convert INPUT... -o OUTDIR [--emissivity E] [--reflected-temp C]
                        [--atmospheric-temp C] [--humidity RH] [--distance M]
    brim thermo segment INPUT... -o OUTDIR [--method classical|unet] [--model PATH]
    brim thermo features INPUT... -o features.csv
    brim thermo train DATA_DIR --labels LABELS.csv -o MODEL_DIR [--method cnn|features]
    brim thermo predict MODEL_DIR INPUT... -o scores.csv
    brim thermo simulate -o OUTDIR [--n N] [--seed S]
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from brim.cli import add_progress_option
from brim.errors import ConfigError, MissingFileError

_INPUTS_HELP = "thermograms: DMR .txt, FLIR .jpg, grey .png or brim .nc files"


def _inputs(paths: list[str]) -> list[Path]:
    out = []
    for p in paths:
        q = Path(p)
        if not q.exists():
            raise MissingFileError(f"no such file or folder: {p}")
        out.append(q)
    return out


def _outdir(path: str) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"output {p} exists and is not a folder")
    p.mkdir(parents=True, exist_ok=True)
    return p


def _progress(items, on: bool, desc: str):
    if not on or len(items) < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc)


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write a CSV atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def _cmd_convert(args) -> int:
    from brim.io import save
    from brim.thermo.readers import read

    files = _inputs(args.inputs)
    out = _outdir(args.output)
    over = {
        "emissivity": args.emissivity,
        "reflected_temperature": args.reflected_temp,
        "atmospheric_temperature": args.atmospheric_temp,
        "relative_humidity": args.humidity,
        "object_distance": args.distance,
    }
    if args.humidity is not None and not (0 <= args.humidity <= 1):
        raise ConfigError(f"--humidity is a fraction in [0, 1] (0.5 = 50 %), got {args.humidity}")
    for f in _progress(files, args.progress, "convert"):
        ds = read(f, **over)
        dst = out / f"{f.stem if f.is_file() else f.name}.nc"
        save(ds, dst)
        print(dst)
    return 0


def _load(path: Path):
    from brim.thermo.readers import read

    return read(path)


def _cmd_segment(args) -> int:
    from brim.io import save
    from brim.thermo.segmentation import segment

    files = _inputs(args.inputs)
    out = _outdir(args.output)
    if args.method == "unet" and not args.model:
        raise ConfigError("--method unet needs --model PATH (a folder saved by the U-Net trainer)")
    for f in _progress(files, args.progress, "segment"):
        seg = segment(_load(f), method=args.method, model=args.model)
        dst = out / f"{f.stem}_seg.nc"
        save(seg, dst)
        print(dst)
    return 0


def _cmd_features(args) -> int:
    from brim.thermo.features import FEATURE_UNITS, extract_features
    from brim.thermo.segmentation import segment_classical

    files = _inputs(args.inputs)
    rows = []
    for f in _progress(files, args.progress, "features"):
        ds = _load(f)
        feats = extract_features(ds, segment_classical(ds))
        rows.append({"file": f.name, "patient": ds.attrs.get("patient", ""), **feats})
    cols = ["file", "patient", *FEATURE_UNITS]
    _write_csv(Path(args.output), rows, cols)
    units = Path(args.output).with_suffix(".units.csv")
    _write_csv(
        units, [{"feature": k, "units": v} for k, v in FEATURE_UNITS.items()], ["feature", "units"]
    )
    print(args.output)
    return 0


def _cmd_train(args) -> int:
    from brim.thermo.classify import train

    data = Path(args.data_dir)
    if not data.is_dir():
        raise MissingFileError(f"DATA_DIR {data} is not a folder")
    out = train(
        data,
        args.labels,
        args.output,
        method=args.method,
        epochs=args.epochs,
        seed=args.seed,
        progress=args.progress,
    )
    print(out)
    return 0


def _cmd_predict(args) -> int:
    from brim.thermo.classify import predict_files

    files = []
    for f in _inputs(args.inputs):
        files.extend(
            sorted(x for x in f.iterdir() if x.suffix.lower() in (".txt", ".jpg", ".nc"))
            if f.is_dir()
            else [f]
        )
    rows = predict_files(args.model_dir, files)
    _write_csv(Path(args.output), rows, ["file", "patient", "score"])
    print(args.output)
    return 0


def _cmd_simulate(args) -> int:
    from brim.thermo.phantom import simulate_cohort

    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    out = _outdir(args.output)
    simulate_cohort(args.n, seed=args.seed, outdir=out)
    for f in sorted(out.glob("*.nc")):
        print(f)
    print(out / "labels.csv")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``thermo`` command group to the ``brim`` CLI."""
    p = subparsers.add_parser("thermo", help="infrared thermography: convert, segment, classify")
    sub = p.add_subparsers(dest="thermo_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    q = sub.add_parser("convert", help="raw thermal files -> brim thermogram files (.nc)")
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    q.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    q.add_argument("--emissivity", type=float, metavar="E", help="object emissivity (skin: 0.98)")
    q.add_argument("--reflected-temp", type=float, metavar="C", help="reflected temperature, degC")
    q.add_argument(
        "--atmospheric-temp", type=float, metavar="C", help="atmospheric temperature, degC"
    )
    q.add_argument("--humidity", type=float, metavar="RH", help="relative humidity, fraction 0-1")
    q.add_argument("--distance", type=float, metavar="M", help="object distance, m")
    add_progress_option(q)
    q.set_defaults(func=_cmd_convert)

    q = sub.add_parser("segment", help="segment body, midline, breasts, folds")
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    q.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    q.add_argument(
        "--method",
        choices=("classical", "unet"),
        default="classical",
        help="classical (thresholds + geometry) or a trained U-Net",
    )
    q.add_argument("--model", metavar="PATH", help="U-Net folder (for --method unet)")
    add_progress_option(q)
    q.set_defaults(func=_cmd_segment)

    q = sub.add_parser("features", help="asymmetry / hot-spot / vessel / texture features -> CSV")
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    q.add_argument("-o", "--output", required=True, metavar="features.csv", help="output CSV")
    add_progress_option(q)
    q.set_defaults(func=_cmd_features)

    q = sub.add_parser("train", help="train a classifier on labelled thermograms")
    q.add_argument(
        "data_dir", metavar="DATA_DIR", help="folder of labelled thermograms (.txt, .jpg or .nc)"
    )
    q.add_argument("--labels", required=True, metavar="LABELS.csv", help="ID,Diagnosis CSV")
    q.add_argument(
        "-o", "--output", required=True, metavar="MODEL_DIR", help="model folder to write"
    )
    q.add_argument(
        "--method",
        choices=("cnn", "features"),
        default="features",
        help="handcrafted features + logistic regression, or a CNN",
    )
    q.add_argument("--epochs", type=int, default=30, help="CNN epochs (default 30)")
    q.add_argument("--seed", type=int, default=0, help="random seed")
    add_progress_option(q)
    q.set_defaults(func=_cmd_train)

    q = sub.add_parser("predict", help="score thermograms with a trained model -> CSV")
    q.add_argument("model_dir", metavar="MODEL_DIR", help="folder from 'brim thermo train'")
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    q.add_argument("-o", "--output", required=True, metavar="scores.csv", help="output CSV")
    q.set_defaults(func=_cmd_predict)

    q = sub.add_parser("simulate", help="simulate a labelled cohort with the bioheat phantom")
    q.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    q.add_argument("--n", type=int, default=4, help="number of subjects (default 4)")
    q.add_argument("--seed", type=int, default=0, help="random seed")
    q.set_defaults(func=_cmd_simulate)
    return p
