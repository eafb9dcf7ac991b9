"""Tomography subcommands of ``brim microwave``: simulate, reconstruct, train, predict.

``brim microwave simulate PHANTOM -o FIELDS [--freq ...] [--tx N] [--rx N] [--solver NAME]
[--precision double|single] [--tol TOL] [--quadrature richmond|moments]``
    PHANTOM is ``breast`` (built-in 2-D breast with a 1 cm tumour), ``breast-healthy``,
    ``random:SEED`` / ``random-healthy:SEED``, ``mwsegeval:FOLDER`` (the MWSegEval map), or a
    brim ``reconstruction`` file with a ``permittivity`` map on (y, x).
``brim microwave reconstruct FIELDS -o MAP [--method ...] [--grid CELLS:WIDTH] [--freq ...]``
``brim microwave train FIELDS... -o MODEL_DIR``
    Field sets must carry ``attrs["tumour"]`` (0/1) and ``attrs["phantom_id"]`` (the group),
    as written by ``simulate``; reports grouped cross-validation and saves an MLP.
``brim microwave predict MODEL_DIR FIELDS... [-o CSV]``
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from brim.cli import (
    add_backend_option,
    add_command,
    add_output_option,
    add_progress_option,
    output_file,
    output_folder,
)
from brim.errors import ConfigError, FormatError, MissingFileError

__all__ = ["add_commands", "parse_freqs"]

_UNITS = {"": 1.0, "hz": 1.0, "k": 1e3, "khz": 1e3, "m": 1e6, "mhz": 1e6, "g": 1e9, "ghz": 1e9}


def parse_freqs(values) -> list[float]:
    """Frequencies from strings like ``1e9``, ``2GHz``, ``1.5G``, ``1,2,3GHz`` (Hz).

    Parameters
    ----------
    values : sequence of str, or None
        The command-line words.

    Returns
    -------
    list of float
        Frequencies in Hz (empty for no values).

    Examples
    --------
    >>> from brim.microwave.tomography.cli import parse_freqs
    >>> parse_freqs(["1e9", "2GHz", "1,3G"])
    [1000000000.0, 2000000000.0, 1000000000.0, 3000000000.0]
    """
    out = []
    for v in values or []:
        parts = str(v).split(",")
        unit = re.sub(r"[0-9.eE+\-]", "", parts[-1]).strip().lower()
        for p in parts:
            m = re.fullmatch(r"\s*([0-9.eE+\-]+)\s*([a-zA-Z]*)\s*", p)
            if not m:
                raise ConfigError(f"frequency {p!r} not understood; write e.g. 1e9 or 2GHz")
            u = (m.group(2) or unit).lower()
            if u not in _UNITS:
                raise ConfigError(f"unknown frequency unit {u!r}; use Hz, kHz, MHz or GHz")
            f = float(m.group(1)) * _UNITS[u]
            if not 1e6 <= f <= 3e11:  # "1" (meant as GHz) used to run, then fail at save
                raise ConfigError(
                    f"frequency {p.strip()!r} = {f:g} Hz is outside the microwave band "
                    "(1 MHz to 300 GHz); give a unit, e.g. 1GHz"
                )
            out.append(f)
    if any(f <= 0 for f in out):
        raise ConfigError("frequencies must be positive")
    return out


def _phantom(spec: str, grid_spec: str | None, background: complex):
    import numpy as np

    from brim.microwave.tomography.grid import TomographyGrid
    from brim.microwave.tomography.phantoms import (
        breast_phantom,
        mwsegeval_phantom,
        random_breast_phantom,
    )

    grid = TomographyGrid.from_spec(grid_spec) if grid_spec else TomographyGrid.centered(64, 0.12)
    if spec in ("breast", "breast-healthy"):
        tum = (0.015, 0.01, 0.005) if spec == "breast" else None
        return breast_phantom(grid, tumour=tum, background=background), 0
    if spec.startswith(("random:", "random-healthy:")):
        kind, seed = spec.split(":", 1)
        try:
            s = int(seed)
        except ValueError:
            raise ConfigError(f"random phantom seed must be an integer, got {seed!r}") from None
        ph = random_breast_phantom(grid, s, tumour=kind == "random", background=background)
        return ph, s
    if spec.startswith("mwsegeval:"):
        ph = mwsegeval_phantom(spec.split(":", 1)[1], tumour=(0.01, 0.01, 0.005))
        return (ph.on_grid(grid) if grid_spec else ph), 0  # default: the map's own 0.5 mm grid
    path = Path(spec)
    if not path.exists():
        raise MissingFileError(
            f"phantom {spec!r} is neither a built-in name (breast, breast-healthy, random:SEED, "
            "random-healthy:SEED, "
            "mwsegeval:FOLDER) nor an existing file"
        )
    if grid_spec:
        raise ConfigError(
            f"--grid does not apply to the phantom file {spec}: its grid is the file's x and y "
            "(resample the file, or drop --grid)"
        )
    import brim

    ds = brim.open(path)
    if "permittivity" not in ds:
        raise FormatError(f"{path} has no 'permittivity' variable")
    from brim.microwave.tomography.grid import TomographyGrid as G

    g = G.from_coords(ds["x"].values, ds["y"].values)
    eps = np.asarray(ds["permittivity"].values, complex)
    return (g, eps), 0


def _parse_complex(option: str, text: str) -> complex:
    """A finite complex number such as ``10-1j`` from the command line."""
    import numpy as np

    try:
        value = complex(text.replace(" ", ""))
    except ValueError:
        raise ConfigError(f"{option} needs a complex number such as 10-1j, got {text!r}") from None
    if not np.isfinite(value):
        raise ConfigError(f"{option} must be finite, got {text!r}")
    return value


def _cmd_simulate(args) -> int:
    import numpy as np

    from brim.io import save
    from brim.microwave.tomography.forward import add_noise, simulate
    from brim.microwave.tomography.grid import refined_grid, ring_positions
    from brim.microwave.tomography.phantoms import BreastPhantom

    phantom_file = [args.phantom] if Path(args.phantom).is_file() else []
    out = output_file(args.output, inputs=phantom_file)
    freqs = parse_freqs(args.freq) or [1e9]
    if not 0 < args.radius <= 5:  # a field_set's antennas lie within 5 m (brim.schema)
        raise ConfigError(
            f"--radius is the antenna ring radius in metres, in (0, 5]; got {args.radius:g}"
            + (" (millimetres? 75 mm is 0.075)" if args.radius > 5 else "")
        )
    eps_b = _parse_complex("--eps-b", args.eps_b) if args.eps_b else 1.0
    ph, seed = _phantom(args.phantom, args.grid, eps_b)
    if isinstance(ph, BreastPhantom):
        grid, perm = ph.grid, ph.permittivity
        eps_b = ph.eps_background(freqs[0])
        tumour = int(ph.tumour_centre is not None)
    else:
        grid, perm = ph
        tumour = None
    if args.quadrature == "moments":  # the object on the 8x refined grid, for the cell moments
        if isinstance(ph, BreastPhantom):
            perm = ph.on_grid(refined_grid(grid, factor=8), supersample=2).permittivity
        else:  # a map file: piecewise constant per cell
            perm = np.repeat(np.repeat(perm, 8, axis=-2), 8, axis=-1)
    tx = ring_positions(args.tx, args.radius)
    rx = ring_positions(args.rx, args.radius, offset=np.pi / args.rx)
    tol = args.tol if args.tol is not None else (1e-5 if args.precision == "single" else 1e-8)
    ds = simulate(
        perm,
        grid,
        freqs,
        tx,
        rx,
        eps_b=eps_b,
        backend=args.backend,
        solver=args.solver,
        precision=args.precision,
        tol=tol,
        quadrature=args.quadrature,
        supersample=8,
    )
    if args.noise:
        ds = add_noise(ds, args.noise, seed=args.seed)
    if tumour is not None:
        ds.attrs["tumour"] = tumour
        ds.attrs["phantom_id"] = f"{args.phantom.split(':')[0].replace('-healthy', '')}:{seed}"
    # the provenance is that of the steps (brim.microwave.simulate, brim.microwave.add_noise),
    # recorded by themselves; the phantom spec, which no step sees, is an attribute
    ds.attrs["phantom"] = Path(args.phantom).name if phantom_file else str(args.phantom)
    save(ds, out)
    print(f"wrote {out}: {len(freqs)} freq x {args.tx} tx x {args.rx} rx")
    return 0


#: Largest |eps_r| a reconstruction file may hold (brim.schema's plausible range).
_EPS_MAX = 1000.0


def _cmd_reconstruct(args) -> int:
    import numpy as np

    import brim
    from brim.io import save
    from brim.microwave.tomography.grid import TomographyGrid
    from brim.microwave.tomography.inverse import invert
    from brim.schema import require_kind

    dst = output_file(args.output, inputs=[args.fields])
    ds = require_kind(brim.open(args.fields), "field_set", Path(args.fields).name)
    if args.grid:
        grid = TomographyGrid.from_spec(args.grid)
    elif args.object_radius is not None:
        if not args.object_radius > 0:
            raise ConfigError(f"--object-radius must be positive; got {args.object_radius}")
        width = 2.2 * args.object_radius  # the object with a 10 % margin on each side
        cells = max(16, min(64, int(np.ceil(width / _cell_size(ds)))))
        grid = TomographyGrid.centered(cells, width)
    else:
        r = float(np.hypot(ds["rx_x"].values, ds["rx_y"].values).min())
        grid = TomographyGrid.centered(32, 1.4 * r)
        print(
            f"no --grid or --object-radius: the domain spans 1.4 x the receiver radius "
            f"({1.4 * r:.3g} m, {1e3 * grid.d:.3g} mm cells); give --object-radius (m) to size "
            "it from the object",
            file=sys.stderr,
        )
    calibrate = args.calibrate
    if calibrate is None:  # measured sets (read_field_table / convert) are calibrated
        calibrate = "auto" if _is_measured(ds) else "none"
    if calibrate != "none":
        ds = _calibrated(ds, calibrate)
    freqs = parse_freqs(args.freq) or None
    noise = args.noise_level if args.noise_level is not None else ds.attrs.get("noise_level")
    res = invert(
        ds,
        grid,
        method=args.method,
        freq=freqs,
        iterations=(
            args.iterations
            if args.iterations is not None or args.method in ("csi", "mr-csi")
            else 8
        ),
        regularization=args.regularization,
        noise_level=None if noise is None else float(noise),
        weight=args.weight,
        backend=args.backend,
        progress=args.progress,
        polarisation=args.polarisation,
    )
    if not np.all(np.isfinite(res.permittivity)):  # never write a NaN map
        from brim.errors import SolverError

        raise SolverError(f"{args.method} produced a non-finite map; nothing written to {dst}")
    top = float(np.abs(res.permittivity).max())
    if top > _EPS_MAX:  # the reconstruction schema's bound: say why, not "the file is corrupt"
        from brim.errors import SolverError

        raise SolverError(
            f"{args.method} gave an implausible map on {grid.ny}x{grid.nx} cells: |eps_r| reaches "
            f"{top:.4g} "
            f"(breast tissue < 100); nothing written to {dst}. "
            + (
                "Born assumes a weak scatterer: try --method csi (default) or dbim"
                if args.method == "born"
                else "try --object-radius, a fixed --weight or --method csi"
            )
        )
    out = res.to_dataset()
    save(out, dst)
    last = res.history[-1]
    print(
        f"wrote {dst}: {args.method} ({res.parameters['polarisation']}) on "
        f"{grid.ny}x{grid.nx} cells, "
        f"final data misfit {last.get('final_misfit', last['misfit']):.3g}; iterations "
        + ", ".join(f"{s['iterations']} ({_stop_reason(s['reason'])})" for s in res.stopping)
    )
    return 0


def _stop_reason(reason: str) -> str:
    """Why a solve stopped, as the run summary says it ("iterations" read as a count)."""
    return "the --iterations limit" if reason == "iterations" else reason


def _is_measured(ds) -> bool:
    """A field set read from a measured table (``read_field_table``), not a simulation."""
    return "time_convention_read" in ds.attrs


def _calibrated(ds, mode: str):
    """``calibrate_gain`` against the line-source incident field of the file's geometry."""
    import numpy as np

    from brim.microwave.tomography.forward import background_wavenumber, line_source_field
    from brim.microwave.tomography.inverse import calibrate_gain

    if ds.attrs.get("source_model", "line") != "line":
        raise ConfigError("--calibrate needs line-source transmitters (source_model 'line')")
    f = ds["freq"].values
    eps_b = ds["eps_background"].values if "eps_background" in ds else np.ones(f.size)
    sim = line_source_field(
        ds["rx_x"].values,
        ds["rx_y"].values,
        ds["tx_x"].values,
        ds["tx_y"].values,
        f,
        background_wavenumber(f, eps_b),
    )
    out = calibrate_gain(ds, sim, mode=mode)
    print(
        f"calibrated ({out.attrs['calibration_mode']}; measured incident field spread "
        f"{out.attrs['incident_spread_db']:.1f} dB)",
        file=sys.stderr,
    )
    return out


def _cell_size(ds) -> float:
    """A tenth of the shortest wavelength in the background (m)."""
    import numpy as np
    from scipy.constants import c

    eps_b = np.asarray(ds["eps_background"].values) if "eps_background" in ds else np.ones(1)
    n_b = float(np.sqrt(np.max(np.abs(eps_b.real))))
    return float(c / (np.max(ds["freq"].values) * n_b * 10))


def _load_training(paths):
    import numpy as np
    import xarray as xr

    import brim
    from brim.microwave.tomography.classify import sinogram_features

    x, y, g = [], [], []
    for p in paths:
        ds = brim.open(p)
        if not isinstance(ds, xr.Dataset) or "total_field" not in ds:
            kind = getattr(ds, "attrs", {}).get("brim_schema", "another kind of")
            raise FormatError(
                f"{Path(p).name} is a {kind} file, not a field set (total_field): make field "
                "sets with 'brim microwave simulate' or 'brim microwave convert' of a field table"
            )
        x.append(sinogram_features(ds))
        if "tumour" in ds.attrs:
            y.append(int(ds.attrs["tumour"]))
            g.append(str(ds.attrs.get("phantom_id", p)))
    if len({a.size for a in x}) > 1:
        raise ConfigError("field sets differ in size: use one set-up for all files")
    return np.stack(x), np.asarray(y), np.asarray(g)


def _cmd_train(args) -> int:
    import numpy as np

    from brim.microwave.tomography.classify import evaluate, train_classifier

    x, y, g = _load_training(args.fields)  # a wrong file is refused before the folder is made
    output_folder(args.output, inputs=args.fields)
    if y.size != x.shape[0]:
        raise FormatError("every training file needs attrs 'tumour' and 'phantom_id'")
    if len(np.unique(y)) < 2:
        raise ConfigError("training needs both tumour and tumour-free field sets")
    if len(np.unique(g)) >= 2 * args.folds:
        res = evaluate(x, y, g, model="logistic", n_splits=args.folds)
        print(res.summary())
    else:
        print(
            f"no cross-validated estimate: {len(np.unique(g))} phantoms, "
            f"{2 * args.folds} needed for {args.folds} grouped folds"
        )
    train_classifier(x, y, g, args.output, epochs=args.epochs)
    print(f"saved classifier to {args.output}")
    return 0


def _cmd_predict(args) -> int:
    from brim.io import write_text
    from brim.microwave.tomography.classify import predict_files

    out = output_file(args.output, inputs=args.fields, suffix=".csv") if args.output else None
    x, _, _ = _load_training(args.fields)
    p = predict_files(args.model, x)
    lines = ["file,tumour_probability"] + [f"{f},{v:.6f}" for f, v in zip(args.fields, p)]
    if out is not None:
        write_text(out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add simulate / reconstruct / train / predict to the ``brim microwave`` subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subparsers of the ``brim microwave`` group.
    """
    p = add_command(
        subparsers,
        "simulate",
        _cmd_simulate,
        help="simulate a tomography field set from a phantom",
        examples=[
            "brim microwave simulate breast -o fields.nc --tx 8 --rx 8",
            "brim microwave simulate random:3 -o fields3.nc --freq 1GHz 2GHz --noise 0.01",
        ],
    )
    p.add_argument(
        "phantom",
        help="breast | breast-healthy | random:SEED | random-healthy:SEED | mwsegeval:DIR | FILE",
    )
    add_output_option(p, "file", "field set (.nc)")
    p.add_argument("--freq", nargs="+", help="frequencies, e.g. 1GHz 2GHz (default 1 GHz)")
    p.add_argument("--tx", type=int, default=16, help="transmitters on a ring")
    p.add_argument("--rx", type=int, default=16, help="receivers on a ring")
    p.add_argument("--radius", type=float, default=0.075, help="antenna ring radius (m)")
    p.add_argument("--grid", help="simulation grid CELLS:WIDTH_M, e.g. 64x64:0.12")
    p.add_argument("--eps-b", help="background permittivity, e.g. 10-1j (default 1)")
    p.add_argument("--noise", type=float, default=0.0, help="relative complex noise level")
    p.add_argument("--seed", type=int, default=0, help="seed of the added noise")
    add_backend_option(p, help="array backend: CPU or GPU")
    p.add_argument(
        "--solver",
        default="bicgstab",
        choices=["bicgstab", "gmres"],
        help="forward Krylov solver: bicgstab (default) or gmres (hard, high-contrast cases)",
    )
    p.add_argument(
        "--precision",
        default="double",
        choices=["double", "single"],
        help="complex128 (default) or complex64 FFTs and Krylov vectors (about 2x faster)",
    )
    p.add_argument(
        "--tol",
        type=float,
        default=None,
        help="forward-solver relative residual (default 1e-8; 1e-5 with --precision single)",
    )
    p.add_argument(
        "--quadrature",
        default="richmond",
        choices=["richmond", "moments"],
        help="cell integrals: richmond (constant field per cell, O(d^2)) or moments "
        "(second-order moment-corrected, ~30x more accurate at 20 cells/wavelength)",
    )

    p = add_command(
        subparsers,
        "reconstruct",
        _cmd_reconstruct,
        help="quantitative permittivity reconstruction",
        examples=[
            "brim microwave simulate breast -o fields.nc --tx 8 --rx 8",
            "brim microwave reconstruct fields.nc -o map.nc",
            "brim microwave reconstruct fields.nc -o map.nc --method dbim --regularization tv",
            "brim microwave convert horns.exp -o horns.nc --tx-radius 0.72 --rx-radius 0.76",
            "brim microwave reconstruct horns.nc -o map.nc --object-radius 0.05 --polarisation TE",
        ],
    )
    p.add_argument("fields", help="field set (from 'brim microwave simulate')")
    add_output_option(p, "file", "reconstruction (.nc)")
    p.add_argument(
        "--method",
        default="csi",
        choices=["born", "bim", "dbim", "csi", "mr-csi"],
        help="Born, Born / distorted-Born iterative, contrast-source or multiplicative CSI "
        "(default csi: it converges on measured TM and TE data with its default stopping rule)",
    )
    p.add_argument(
        "--grid",
        help="inversion grid CELLS:WIDTH_M, e.g. 32x32:0.1 (default: from --object-radius, "
        "else 32x32 over 1.4x the receiver ring radius)",
    )
    p.add_argument(
        "--object-radius",
        type=float,
        help="radius (m) of the region holding the object: the default grid spans 2.2 x it "
        "with cells of a tenth of the shortest background wavelength (16-64 per side)",
    )
    p.add_argument(
        "--calibrate",
        default=None,
        choices=["none", "auto", "per_tx", "per_pair", "reference"],
        help="calibrate measured fields against the model's line-source incident field first "
        "(calibrate_gain; auto: reference receivers for directive antennas, else per "
        "transmitter); default auto for measured sets (from 'brim microwave convert'), "
        "none for simulated ones",
    )
    p.add_argument(
        "--polarisation",
        default=None,
        choices=["TM", "TE"],
        help="TM (E_z) or TE (H_z, transverse E in the cells) model; default the file's "
        "'polarisation' attribute, else TM",
    )
    p.add_argument("--freq", nargs="+", help="frequencies to use (hopped low to high)")
    p.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="iteration cap per frequency (default 8 for bim/dbim; 500 for csi/mr-csi, which "
        "stop earlier on a misfit plateau or at the noise level)",
    )
    p.add_argument(
        "--regularization",
        default="tikhonov",
        choices=["tikhonov", "tv"],
        help="Tikhonov or total-variation regularisation",
    )
    p.add_argument(
        "--noise-level",
        type=float,
        default=None,
        help="relative data noise for the discrepancy principle (default: the file's "
        "'noise_level' attribute, else GCV)",
    )
    p.add_argument(
        "--weight", type=float, default=None, help="fixed regularisation weight (default: chosen)"
    )
    add_backend_option(p, help="array backend: CPU or GPU")
    add_progress_option(p)

    p = add_command(
        subparsers,
        "train",
        _cmd_train,
        help="train a tumour classifier on simulated field sets",
        examples=[
            "for s in 1 2 3 4 5 6; do brim microwave simulate random:$s -o t$s.nc --tx 8 --rx 8; "
            "brim microwave simulate random-healthy:$s -o h$s.nc --tx 8 --rx 8; done",
            "brim microwave train t*.nc h*.nc -o model/ --folds 3",
        ],
    )
    p.add_argument(
        "fields", nargs="+", help="field sets with attrs 'tumour' (0/1) and 'phantom_id'"
    )
    add_output_option(p, "folder", "model folder to write")
    p.add_argument("--epochs", type=int, default=60, help="training epochs")
    p.add_argument(
        "--folds", type=int, default=3, help="grouped (by phantom) cross-validation folds"
    )

    p = add_command(
        subparsers,
        "predict",
        _cmd_predict,
        help="tumour probability of field sets",
        examples=[
            "brim microwave simulate random:9 -o new.nc --tx 8 --rx 8",
            "brim microwave predict model/ new.nc -o scores.csv",
        ],
    )
    p.add_argument("model", help="model directory from 'brim microwave train'")
    p.add_argument("fields", nargs="+", help="field sets to score")
    add_output_option(p, "file", "CSV file (default: print only)", required=False)
