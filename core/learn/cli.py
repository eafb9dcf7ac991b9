"""``brim learn``: grouped cross-validation from a YAML/JSON configuration.

The command is ``brim learn cv CONFIG [-o REPORT_DIR]``; its parser, with an example
configuration in its help, lives in :func:`brim.cli.register_learn` so that ``brim --help`` does
not import torch. This module reads and runs the configuration.
"""

from __future__ import annotations

import glob as _glob
import inspect
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import numpy as np

from brim.cli import register_learn
from brim.errors import ConfigError, MissingFileError, first_line

_TOP = {"name", "data", "labels", "model", "train", "augment", "protocol", "audit", "output"}
_DATA = {"files", "file", "var", "isel", "dims", "cache"}
_LABELS = {"csv", "key_column", "label_column", "group_column", "label_coord", "group_coord"}
_MODEL = {"class", "kwargs"}
_AUGMENT = {"flip", "shift"}
_BUILTIN_NUISANCE = {"order", "median", "mean", "std"}


# Keywords of cross_validate that the configuration sets elsewhere, not in 'protocol': the
# top-level 'name', the --no-progress flag, and 'folds' (Fold objects, which YAML cannot hold).
_CV_SET_ELSEWHERE = frozenset({"name", "progress", "folds"})
# Keywords that confound_audit sets itself on the cross_validate runs it makes (it takes 'seed'
# as its own keyword and passes check_inputs=False and a name for each nuisance).
_AUDIT_SETS_ITSELF = frozenset({"name", "check_inputs", "seed"})


def _keyword_options(fn) -> frozenset:
    """Names of ``fn``'s keyword-only parameters (its options), read from its signature."""
    params = inspect.signature(fn).parameters.values()
    return frozenset(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def _protocol_keys() -> frozenset:
    """Keys of the 'protocol' section: the options of :func:`brim.evaluate.cross_validate`."""
    from brim.evaluate import cross_validate

    return _keyword_options(cross_validate) - _CV_SET_ELSEWHERE


def _audit_keys() -> frozenset:
    """Keys of the 'audit' section: ``nuisance`` plus :func:`brim.evaluate.confound_audit`'s own
    options (its ``model``, ``X`` and ``seed`` come from the model and protocol sections)."""
    from brim.evaluate import confound_audit

    return (_keyword_options(confound_audit) - {"model", "X", "seed"}) | {"nuisance"}


def _check_keys(
    section: str, d: Any, allowed: AbstractSet[str], required: AbstractSet[str] = frozenset()
) -> dict:
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise ConfigError(f"config section '{section}' must be a mapping, not {type(d).__name__}")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ConfigError(
            f"config section '{section}': unknown key(s) {unknown}; allowed: {sorted(allowed)}"
        )
    missing = sorted(required - set(d))
    if missing:
        raise ConfigError(f"config section '{section}': missing key(s) {missing}")
    return d


def validate_config(cfg: Any) -> dict:
    """Check the structure of a ``brim learn cv`` configuration; raise ConfigError otherwise.

    Parameters
    ----------
    cfg : object
        The parsed YAML/JSON configuration.

    Returns
    -------
    dict
        ``cfg`` itself once checked.

    Raises
    ------
    ConfigError
        A missing or unknown key (the message lists the allowed ones), an unknown model class.
    """
    cfg = _check_keys("top level", cfg, _TOP, {"data", "labels", "model"})
    data = _check_keys("data", cfg["data"], _DATA, {"var"})
    if ("files" in data) == ("file" in data):
        raise ConfigError("config section 'data': give exactly one of 'files' or 'file'")
    labels = _check_keys("labels", cfg["labels"], _LABELS)
    if "csv" not in labels and "label_coord" not in labels:
        raise ConfigError("config section 'labels': give 'csv' or 'label_coord'")
    if "files" in data and "csv" not in labels:
        raise ConfigError("config: per-file data need a labels 'csv' with key/label/group columns")
    _check_keys("model", cfg["model"], _MODEL, {"class"})
    if not isinstance(cfg["model"].get("kwargs") or {}, dict):
        raise ConfigError(
            "config model 'kwargs' must be a mapping of argument: value, e.g. "
            "{in_channels: 1}, not " + type(cfg["model"]["kwargs"]).__name__
        )
    from brim.learn.models import MODELS

    if cfg["model"]["class"] not in set(MODELS) | {"logistic"}:
        raise ConfigError(
            f"config model class {cfg['model']['class']!r} unknown; use one of "
            f"{sorted(set(MODELS) | {'logistic'})}"
        )
    from brim.learn.train import TrainConfig

    train_keys = set(TrainConfig.__dataclass_fields__)
    _check_keys("train", cfg.get("train"), train_keys)
    augment = _check_keys("augment", cfg.get("augment"), _AUGMENT)
    shift = augment.get("shift")
    if shift not in (None, False, 0) and (
        isinstance(shift, bool) or not isinstance(shift, int) or shift < 0
    ):
        raise ConfigError(f"config augment 'shift' must be a whole number of pixels, got {shift!r}")
    _check_keys("protocol", cfg.get("protocol"), _protocol_keys())
    audit = _check_keys("audit", cfg.get("audit"), _audit_keys())
    nuis = audit.get("nuisance", [])
    if not isinstance(nuis, list):
        raise ConfigError("config audit 'nuisance' must be a list of names")
    return cfg


def _resolve(base: Path, p) -> Path:
    """``p`` relative to the configuration's folder ``base`` (``~`` is the home folder)."""
    p = Path(p).expanduser()
    return p if p.is_absolute() else base / p


def _read_csv(path: Path):
    import pandas as pd

    if not path.is_file():
        raise MissingFileError(f"labels CSV not found: {path}")
    return pd.read_csv(path)


def _column(df, name, what, path):
    if name not in df.columns:
        raise ConfigError(f"{path}: no column {name!r} for {what}; columns: {list(df.columns)}")
    missing = df[name].isna()
    if missing.any():
        raise ConfigError(
            f"{path}: column {name!r} ({what}) is empty in {int(missing.sum())} row(s), e.g. "
            f"{df[missing].iloc[0].to_dict()}; fill them in or drop those rows"
        )
    return df[name]


def _load_data(cfg: dict, base: Path):
    """Inputs, labels, groups and a table of per-sample extra columns."""
    from brim.learn.data import ArrayDataset, FileDataset

    data, lab = cfg["data"], cfg["labels"]
    df = None
    X: FileDataset | ArrayDataset | np.ndarray
    if "csv" in lab:
        csv_path = _resolve(base, lab["csv"])
        df = _read_csv(csv_path)
    if "files" in data:
        spec = data["files"]
        pats = [spec] if isinstance(spec, str) else list(spec)
        paths: list[Path] = []
        for pat in pats:
            hits = sorted(_glob.glob(str(_resolve(base, pat))))
            if not hits:
                raise MissingFileError(f"config data 'files': nothing matches {pat!r}")
            paths.extend(Path(h) for h in hits)
        if df is None:  # validate_config refuses this already
            raise ConfigError(
                "config: per-file data need a labels 'csv' with key/label/group columns"
            )
        key = _column(df, lab.get("key_column", "file"), "the file key", csv_path).astype(str)
        rows = {}
        for i, k in enumerate(key):
            rows[k] = i
            rows[Path(k).stem] = i
            rows[Path(k).name] = i
        order = []
        for p in paths:
            hit = rows.get(p.name, rows.get(p.stem))
            if hit is None:
                raise ConfigError(f"{csv_path}: no row for file {p.name}")
            order.append(hit)
        df = df.iloc[order].reset_index(drop=True)
        y = _column(df, lab.get("label_column", "label"), "labels", csv_path).to_numpy()
        g = _column(df, lab.get("group_column", "group"), "groups", csv_path).astype(str)
        X = FileDataset(
            paths,
            var=data["var"],
            labels=y,
            groups=g.to_numpy(),
            isel=data.get("isel"),
            dims=data.get("dims"),
            cache=bool(data.get("cache", True)),
        )
        images = None
    else:
        from brim.io import open as brim_open

        path = _resolve(base, data["file"])
        if not path.is_file():
            raise MissingFileError(f"config data 'file' not found: {path}")
        ds = brim_open(path, validate=False)
        if data["var"] not in ds.data_vars:
            raise ConfigError(f"{path}: no variable {data['var']!r}; has {list(ds.data_vars)}")
        da = ds[data["var"]]
        if data.get("isel"):
            try:
                da = da.isel(data["isel"])
            except (ValueError, KeyError, IndexError) as exc:
                raise ConfigError(
                    f"config data 'isel' {data['isel']} does not fit {data['var']!r} of sizes "
                    f"{dict(da.sizes)}: {first_line(exc)}"
                ) from None
        da = da.load()
        n = da.sizes[da.dims[0]]
        if "label_coord" in lab:
            for key, default in (("label_coord", None), ("group_coord", "group")):
                name_ = lab.get(key, default)
                if name_ not in ds.variables:
                    raise ConfigError(
                        f"{path}: no coordinate or variable {name_!r} for labels {key!r}; has "
                        f"{sorted(map(str, ds.variables))}"
                    )
            y = np.asarray(ds[lab["label_coord"]].values)
            g = np.asarray(ds[lab.get("group_coord", "group")].values).astype(str)
        else:
            if df is None:  # validate_config refuses this already
                raise ConfigError("config section 'labels': give 'csv' or 'label_coord'")
            if len(df) != n:
                raise ConfigError(f"{lab['csv']}: {len(df)} rows for {n} samples in {path}")
            y = _column(df, lab.get("label_column", "label"), "labels", lab["csv"]).to_numpy()
            g = _column(df, lab.get("group_column", "group"), "groups", lab["csv"])
            g = g.astype(str).to_numpy()
        images = np.asarray(da.values)
        X = ArrayDataset(images, y, g) if images.ndim >= 3 else images.reshape(n, -1)
    y = np.asarray(y)
    if not np.all(np.isin(np.unique(y), [0, 1])):
        raise ConfigError(f"labels must be 0/1, found {np.unique(y)[:10]}")
    return X, y.astype(np.int64), np.asarray(g), df, images


def _nuisance(names, X, images, df, n):
    out = {}
    for name in names:
        if name == "order":
            out[name] = np.arange(n, dtype=float)
        elif name in ("median", "mean", "std"):
            if images is not None:
                arr = images
            elif isinstance(X, np.ndarray):  # per-file data flattened for the logistic model
                arr = X
            else:
                arr = X.inputs_for_hashing()
            fn = {"median": np.median, "mean": np.mean, "std": np.std}[name]
            out[name] = np.array([fn(np.asarray(a, dtype=float)) for a in arr])
        elif df is not None and name in df.columns:
            col = df[name]
            if col.dtype.kind in "biuf":
                out[name] = col.to_numpy(dtype=float)
            else:  # categorical (e.g. file format, camera): one-hot
                cats = sorted(col.astype(str).unique())
                out[name] = (col.astype(str).to_numpy()[:, None] == np.array(cats)[None]).astype(
                    float
                )
        else:
            raise ConfigError(
                f"nuisance {name!r} is neither built-in {sorted(_BUILTIN_NUISANCE)} "
                "nor a column of the labels CSV"
            )
    return out


def run_cv_config(path, *, out=None, progress: bool = False):
    """Run a whole grouped cross-validation described by a YAML/JSON file and write the report.

    Parameters
    ----------
    path : path-like
        The configuration (see ``brim learn cv --help`` for an example).
    out : path-like, optional
        The report folder (default: the configuration's ``output``, else
        ``<config stem>_report`` beside the configuration file).
    progress : bool
        Show progress bars.

    Returns
    -------
    (CVResult, pathlib.Path)
        The result (with ``.audit`` when configured) and the HTML report's path.
    """
    from brim.config import load_params
    from brim.evaluate import confound_audit, cross_validate, logistic_fit_predict, report
    from brim.learn.data import Compose, RandomFlip, RandomShift
    from brim.learn.train import TrainConfig, make_fit_predict

    path = Path(path)
    cfg = validate_config(load_params(path))
    base = path.parent
    X, y, groups, df, images = _load_data(cfg, base)
    name = str(cfg.get("name", path.stem))
    model_cfg = cfg["model"]
    train_cfg = TrainConfig(**{"progress": False, **(cfg.get("train") or {})})
    aug = cfg.get("augment") or {}
    tfs: list[RandomFlip | RandomShift] = []
    if aug.get("flip"):
        tfs.append(RandomFlip((-1,)))
    if aug.get("shift"):
        tfs.append(RandomShift(int(aug["shift"])))
    if model_cfg["class"] == "logistic":
        if images is None and not isinstance(X, np.ndarray):
            X = np.stack([np.asarray(a).ravel() for a in X.inputs_for_hashing()])
        elif images is not None:
            X = images.reshape(len(y), -1)
        fit_predict = logistic_fit_predict
    else:
        spec = {"class": model_cfg["class"], "kwargs": dict(model_cfg.get("kwargs") or {})}
        fit_predict = make_fit_predict(
            spec, config=train_cfg, transform=Compose(tfs) if tfs else None
        )
    proto = dict(cfg.get("protocol") or {})
    result = cross_validate(fit_predict, X, y, groups, name=name, progress=progress, **proto)
    audit_cfg = cfg.get("audit")
    if audit_cfg:
        nuis = _nuisance(audit_cfg.get("nuisance", []), X, images, df, len(y))
        # the audit's own options go through as written (confound_audit's defaults apply to
        # the others); the protocol's options make its cross-validations match the classifier's
        audit_opts = {k: v for k, v in audit_cfg.items() if k != "nuisance"}
        audit_kwargs = {k: v for k, v in proto.items() if k not in _AUDIT_SETS_ITSELF}
        if "seed" in proto:
            audit_opts["seed"] = int(proto["seed"])
        result.audit = confound_audit(
            nuis, y, groups, model=fit_predict, X=X, **audit_opts, **audit_kwargs
        )
    out_dir = Path(out) if out else _resolve(base, cfg.get("output", f"{path.stem}_report"))
    page = report(result, out_dir)
    return result, page


def _cmd_cv(args) -> int:
    result, page = run_cv_config(args.config, out=args.output, progress=args.progress)
    print(result.summary())
    for f in result.folds:
        print(
            f"  fold {f.fold}: AUROC {f.auroc:.3f}  sens {f.sensitivity:.3f}  "
            f"spec {f.specificity:.3f}  threshold {f.threshold:.4g}"
        )
    if result.audit is not None:
        for r in result.audit.rows:
            flag = "FLAGGED" if r["flagged"] else "ok"
            print(f"  nuisance {r['name']}: AUROC {r['auroc']:.3f} [{flag}]")
        if result.audit.permutation is not None:
            q = result.audit.permutation
            print(f"  label permutation: AUROC {q['auroc']:.3f} [{'ok' if q['ok'] else 'CHECK'}]")
    print(f"report: {page}")
    return 0


#: The ``learn`` group's old entry point, kept for its callers: the entry point is
#: :func:`brim.cli.register_learn`, which does not import this module (nor torch) until
#: ``brim learn cv`` runs.
register = register_learn
