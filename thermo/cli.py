"""``brim thermo ...``: the thermography command line (a thin shell over brim.thermo).

Subcommands (each accepts raw files — DMR ``.txt``, FLIR ``.jpg``, grey ``.png`` — or brim
``.nc`` files)::

    brim thermo convert INPUT... -o OUTPUT [--emissivity E] [--reflected-temp C]
                        [--atmospheric-temp C] [--humidity RH] [--distance M]
    brim thermo segment INPUT... -o OUTPUT [--method classical|unet] [--model PATH]
    brim thermo features INPUT... -o features.csv
    brim thermo train DATA_DIR --labels LABELS.csv -o MODEL_DIR [--method cnn|features]
                      [--confound-correction none|match|ipw] [--cnn-input map|difference]
                      [--dynamic DIR]
    brim thermo predict MODEL_DIR INPUT... -o scores.csv
    brim thermo simulate -o OUTDIR [--n N] [--seed S]

``convert`` and ``segment`` follow brim's output rule: one input, ``-o`` is the output file;
several inputs, ``-o`` is a folder (created); outputs never overwrite an input or each other.
"""

from __future__ import annotations

import argparse
import csv
import io
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
    progress_bar,
    save_each,
)
from brim.errors import ConfigError, FormatError, MissingFileError

_INPUTS_HELP = "thermograms: DMR .txt, FLIR .jpg, grey .png or brim .nc files"


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write a CSV atomically (see :func:`brim.io.write_text`)."""
    from brim.io import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    w = csv.DictWriter(table, fieldnames=columns, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    write_text(path, table.getvalue())


def _cmd_convert(args) -> int:
    from brim.thermo.readers import read

    files = existing_paths(args.inputs)
    over = {
        "emissivity": args.emissivity,
        "reflected_temperature": args.reflected_temp,
        "atmospheric_temperature": args.atmospheric_temp,
        "relative_humidity": args.humidity,
        "object_distance": args.distance,
    }
    check_plausible("--humidity", args.humidity, 0, 1, hint="a fraction, 0.5 = 50 %")
    for flag, value in (
        ("--reflected-temp", args.reflected_temp),
        ("--atmospheric-temp", args.atmospheric_temp),
    ):
        # 300 (kelvin typed as degC) used to give skin at -15 degC without a word
        kelvin = value is not None and value > 150
        slip = f"kelvin? {value:g} K is {value - 273.15:.2f} degC" if kelvin else ""
        check_plausible(flag, value, -60, 150, unit="degC", hint=slip)
    check_plausible("--distance", args.distance, 0, 100, unit="m", hint="cm? mm? give metres")
    check_plausible("--interval", args.interval, 1e-3, 3600, unit="s", hint="seconds per frame")
    if args.interval is not None and not all(f.is_dir() for f in files):
        raise ConfigError("--interval applies to a folder of frames (one sequence), not to a file")

    def convert(f):
        # --any-shape: DMR matrices of any size (cropped, resized), also the frames of a
        # folder; other formats are unaffected
        folder = Path(f).is_dir()
        dmr = args.any_shape and (folder or Path(f).suffix.lower() in (".txt", ".csv", ".dat"))
        timing = {"interval": args.interval} if args.interval is not None else {}
        return read(f, **over, **({"shape": None} if dmr else {}), **timing)

    save_each(files, args.output, convert, progress=args.progress, desc="convert")
    return 0


def _load(path: Path):
    from brim.thermo.readers import read

    return read(path)


def _require_frontal(ds, path: Path) -> None:
    """Refuse a thermogram whose name says it is not a frontal view (DMR-IR lateral views)."""
    view = ds.attrs.get("view", "frontal")
    if view != "frontal":
        raise ConfigError(
            f"{path.name}: a {view!r} view (from its name): the classical segmentation and the "
            "features look for two breasts in a frontal view; give the patient's frontal "
            "thermogram"
        )


def _cmd_segment(args) -> int:
    from brim.thermo.segmentation import segment

    files = existing_paths(args.inputs)
    if args.method == "unet" and not args.model:
        raise ConfigError("--method unet needs --model PATH (a folder saved by the U-Net trainer)")

    def one(f: Path):
        ds = _load(f)
        if args.method == "classical":
            _require_frontal(ds, f)
        return segment(ds, method=args.method, model=args.model)

    save_each(
        files,
        args.output,
        one,
        tag="_seg",
        progress=args.progress,
        desc="segment",
    )
    return 0


def _cmd_features(args) -> int:
    from brim.thermo.features import FEATURE_UNITS, extract_features
    from brim.thermo.segmentation import segment_classical

    files = existing_paths(args.inputs)
    out = output_file(args.output, inputs=files, suffix=".csv")
    units = out.with_suffix(".units.csv")
    output_file(units, inputs=files, suffix=None)
    rows = []
    for f in progress_bar(files, on=args.progress, desc="features"):
        ds = _load(f)
        _require_frontal(ds, f)
        try:
            feats = extract_features(ds, segment_classical(ds))
        except FormatError as exc:  # e.g. missing cells inside a breast: name the file
            raise FormatError(f"{f.name}: {exc}") from None
        rows.append({"file": f.name, "patient": ds.attrs.get("patient", ""), **feats})
    cols = ["file", "patient", *FEATURE_UNITS]
    calibrated = {bool(r["calibrated"]) for r in rows}
    if len(calibrated) > 1:  # one units file cannot be right for both
        grey = ", ".join(r["file"] for r in rows if not r["calibrated"])
        raise ConfigError(
            f"uncalibrated grey images ({grey}) and calibrated thermograms in one table: their "
            "temperature features are in different units (grey levels vs degC/K); run them apart"
        )
    unit_of = dict(FEATURE_UNITS)
    if calibrated == {False}:  # grey PNGs: the 'degC'/'K' features are grey levels
        unit_of = {k: "grey level" if v in ("degC", "K") else v for k, v in unit_of.items()}
    _write_csv(out, rows, cols)
    _write_csv(
        units, [{"feature": k, "units": v} for k, v in unit_of.items()], ["feature", "units"]
    )
    print(out)
    return 0


def _cmd_train(args) -> int:
    from brim.errors import check_positive
    from brim.thermo.classify import confound_report, load_cohort, read_labels, train

    # every input is checked before the model folder is created or a thermogram is read
    data = Path(args.data_dir)
    if not data.is_dir():
        raise MissingFileError(f"DATA_DIR {data} is not a folder")
    check_positive("--epochs", args.epochs, integer=True)
    if args.seed < 0:  # numpy's generators refuse it, after the whole cohort has been read
        raise ConfigError(f"--seed must be a whole number >= 0, got {args.seed}")
    if args.dynamic is not None and not Path(args.dynamic).is_dir():
        raise MissingFileError(f"--dynamic {args.dynamic} is not a folder")
    labels = read_labels(args.labels)
    # a failure from here on leaves no empty model folder: brim.cli removes it (its _run)
    model_dir = output_folder(args.output, inputs=[data, args.labels])
    # the path, not the table read above: load_cohort names the file in what it says
    cohort = load_cohort(data, labels=args.labels, progress=args.progress, dynamic=args.dynamic)
    n_sick = len({p for p, y in zip(cohort.patients, cohort.labels, strict=True) if y == 1})
    n_patients = len(set(cohort.patients))
    print(
        f"training on {len(cohort.files)} thermograms of {n_patients} patients "
        f"({n_patients - n_sick} healthy, {n_sick} sick) of the {len(labels)} listed in "
        f"{Path(args.labels).name}"
    )
    if args.dynamic is not None:
        n_seq = sum(bool(m.get("has_sequence")) for m in cohort.meta)
        print(
            f"recovery features: {n_seq} of {len(cohort.files)} thermograms have a dynamic "
            "sequence; the others get the training mean and a missing-indicator"
        )
    out = train(
        data,
        args.labels,
        model_dir,
        method=args.method,
        feature_set=args.features,
        confound_correction=args.confound_correction,
        cnn_input=args.cnn_input,
        epochs=args.epochs,
        seed=args.seed,
        progress=args.progress,
        cohort=cohort,
    )
    print(out)
    if args.method == "features" and not args.no_audit:
        print(
            "\nConfound audit: grouped 5-fold CV on these patients, overall, within periods "
            "(thirds of the patient-id order)\nand within the other nuisances' strata (text "
            "format; room temperature, in thirds).\nNot evidence of clinical accuracy; a model "
            "whose within-stratum AUROC is near 0.5 learnt the nuisance, not the disease."
        )
        try:
            audit = confound_report(
                cohort,
                feature_sets=(
                    args.features,
                    *(f for f in ("relative", "static") if f != args.features),
                ),
                corrections=("match", "ipw"),
                seed=args.seed,
            )
        except ConfigError as exc:
            print(f"  (no confound audit: {exc})")
            return 0
        print("\nNuisance-only baselines (AUROC [95 % CI]):")
        for row in audit.rows:
            flag = "  <- predicts the label" if row["flagged"] else ""
            ci = f"[{row['low']:.2f}, {row['high']:.2f}]"
            print(f"  {row['name']:<26} {row['auroc']:.2f} {ci}{flag}")
        print()
        print(audit.stratified_table())
    return 0


def _cmd_predict(args) -> int:
    from brim.thermo.classify import predict_files

    files = []
    for f in existing_paths(args.inputs):
        files.extend(
            sorted(x for x in f.iterdir() if x.suffix.lower() in (".txt", ".jpg", ".nc"))
            if f.is_dir()
            else [f]
        )
    out = output_file(args.output, inputs=files, suffix=".csv")
    rows = predict_files(args.model_dir, files, dynamic=args.dynamic)
    _write_csv(out, rows, ["file", "patient", "score"])
    print(out)
    return 0


def _cmd_simulate(args) -> int:
    from brim.thermo.cohort import simulate_cohort

    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    out = output_folder(args.output)
    simulate_cohort(args.n, seed=args.seed, outdir=out)
    for f in sorted(out.glob("*.nc")):
        print(f)
    print(out / "labels.csv")
    return 0


_T = "$(brim samples --path thermo_phantom_tumour)"
_H = "$(brim samples --path thermo_phantom_healthy)"


@command_group(
    "thermo",
    help="infrared thermography: convert, segment, classify",
    epilog=examples(
        f"brim thermo segment {_T} -o tumour_seg.nc",
        "brim thermo simulate -o cohort/ --n 8",
        "brim thermo COMMAND --help",
    ),
    description=(
        "Infrared thermography: raw camera files (DMR-IR matrices, FLIR radiometric JPEGs, "
        "grey crops) to calibrated thermograms, breast segmentation, asymmetry features and "
        "patient-grouped classifiers. Units: temperatures in degC (--reflected-temp, "
        "--atmospheric-temp), --distance in m, --humidity and --emissivity as fractions 0-1, "
        "--interval in s."
    ),
)
def register(sub: argparse._SubParsersAction) -> None:
    """Its commands: convert, segment, features, train, predict, simulate."""
    q = add_command(
        sub,
        "convert",
        _cmd_convert,
        help="raw thermal files -> brim thermogram files (.nc)",
        examples=[
            f"brim thermo convert {_T} -o tumour.nc",
            f"brim thermo convert {_T} {_H} -o thermograms/",
            "brim thermo convert $BRIM_EXTERNAL_DATA/thermo/flir/ax8.jpg -o ax8.nc "
            "--emissivity 0.98 --distance 0.8",
        ],
    )
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    add_output_option(q, "auto", "thermogram NetCDF")
    q.add_argument("--emissivity", type=float, metavar="E", help="object emissivity (skin: 0.98)")
    q.add_argument("--reflected-temp", type=float, metavar="C", help="reflected temperature, degC")
    q.add_argument(
        "--atmospheric-temp", type=float, metavar="C", help="atmospheric temperature, degC"
    )
    q.add_argument("--humidity", type=float, metavar="RH", help="relative humidity, fraction 0-1")
    q.add_argument("--distance", type=float, metavar="M", help="object distance, m")
    q.add_argument(
        "--any-shape",
        action="store_true",
        help="accept DMR temperature matrices of any size (default: the DMR-IR 480 x 640 only)",
    )
    q.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help="seconds between the frames of a folder (a sequence); frames numbered in their "
        "names are timed number x S (default: 15 for DMR dynamic frames PAC_<id>_DN<k>, else "
        "the frame count)",
    )
    add_progress_option(q)

    q = add_command(
        sub,
        "segment",
        _cmd_segment,
        help="segment body, midline, breasts, folds",
        examples=[
            f"brim thermo segment {_T} -o tumour_seg.nc",
            f"brim thermo segment {_T} {_H} -o masks/",
        ],
    )
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    add_output_option(q, "auto", "mask NetCDF (<input stem>_seg.nc in a folder)")
    q.add_argument(
        "--method",
        choices=("classical", "unet"),
        default="classical",
        help="classical (thresholds + geometry) or a trained U-Net",
    )
    q.add_argument("--model", metavar="PATH", help="U-Net folder (for --method unet)")
    add_progress_option(q)

    q = add_command(
        sub,
        "features",
        _cmd_features,
        help="asymmetry / hot-spot / vessel / texture features -> CSV",
        examples=[f"brim thermo features {_T} {_H} -o features.csv"],
    )
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    add_output_option(
        q, "file", "output CSV (units go to <name>.units.csv)", metavar="features.csv"
    )
    add_progress_option(q)

    q = add_command(
        sub,
        "train",
        _cmd_train,
        help="train a classifier on labelled thermograms",
        examples=[
            "brim thermo simulate -o cohort/ --n 8",
            "brim thermo train cohort/ --labels cohort/labels.csv -o model/",
            "brim thermo train cohort/ --labels cohort/labels.csv -o cnn/ --method cnn --epochs 5",
            "brim thermo train cohort/ --labels cohort/labels.csv -o diff/ --method cnn "
            "--cnn-input difference --epochs 5",
        ],
    )
    q.add_argument(
        "data_dir", metavar="DATA_DIR", help="folder of labelled thermograms (.txt, .jpg or .nc)"
    )
    q.add_argument(
        "--labels",
        required=True,
        metavar="LABELS.csv",
        help="patient labels table: ID,Diagnosis (Healthy/Sick, 0/1, N/PM; ',' ';' or tab "
        "separated; other columns ignored); IDs are the patients the file names state "
        "(T0012, PAC_12_..., patient_12, 0012, IIR0012; a camera's IMG_0042 states none)",
    )
    add_output_option(q, "folder", "model folder to write", metavar="MODEL_DIR")
    q.add_argument(
        "--method",
        choices=("cnn", "features"),
        default="features",
        help="handcrafted features + logistic regression, or a CNN",
    )
    q.add_argument(
        "--features",
        choices=("relative", "static"),
        default="relative",
        help="features of the features model: relative to the patient's own body (blind to room, "
        "camera and acquisition period; default) or static (absolute temperatures included)",
    )
    q.add_argument(
        "--confound-correction",
        choices=("none", "match", "ipw"),
        default="none",
        help="features model: remove the acquisition-period confound by training on sick patients "
        "matched to healthy ones of the same period (match) or with inverse-probability weights "
        "(ipw); default none",
    )
    q.add_argument(
        "--dynamic",
        metavar="DIR",
        help="folder of dynamic-protocol sequences (PAC_<id>_DN<k>.txt): recovery features join "
        "the relative features for patients that have one (missing-indicator for the others)",
    )
    q.add_argument(
        "--no-audit",
        action="store_true",
        help="skip the cross-validated, period-stratified evaluation printed after training",
    )
    q.add_argument(
        "--cnn-input",
        choices=("map", "difference"),
        default="map",
        help="CNN input: the normalised temperature map (default) or the left-right difference "
        "image (each pixel minus its mirror image about the midline, per-patient normalised)",
    )
    q.add_argument("--epochs", type=int, default=30, help="CNN epochs (default 30)")
    q.add_argument("--seed", type=int, default=0, help="random seed")
    add_progress_option(q)

    q = add_command(
        sub,
        "predict",
        _cmd_predict,
        help="score thermograms with a trained model -> CSV",
        examples=[
            "brim thermo train cohort/ --labels cohort/labels.csv -o model/",
            f"brim thermo predict model/ {_T} {_H} -o scores.csv",
        ],
    )
    q.add_argument("model_dir", metavar="MODEL_DIR", help="folder from 'brim thermo train'")
    q.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS_HELP)
    add_output_option(q, "file", "output CSV", metavar="scores.csv")
    q.add_argument(
        "--dynamic",
        metavar="DIR",
        help="folder of dynamic-protocol sequences, for a model trained with --dynamic",
    )

    q = add_command(
        sub,
        "simulate",
        _cmd_simulate,
        help="simulate a labelled cohort with the bioheat phantom",
        examples=["brim thermo simulate -o cohort/ --n 8 --seed 1"],
    )
    add_output_option(q, "folder", "output folder: thermograms and labels.csv", metavar="OUTDIR")
    q.add_argument("--n", type=int, default=4, help="number of subjects (default 4)")
    q.add_argument("--seed", type=int, default=0, help="random seed")
