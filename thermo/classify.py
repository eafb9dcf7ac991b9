"""Thermogram classification, evaluated honestly.

Two models, both run through :func:`brim.evaluate.cross_validate` (patient-grouped outer folds,
nested grouped validation split, threshold chosen on validation patients, group-bootstrap CIs):

* **features**: L2 logistic regression on the hand-made features of
  :mod:`brim.thermo.features` (asymmetry, hot spots, vessels, texture, histogram);
* **cnn**: :class:`brim.learn.ResNetClassifier` (He et al., CVPR 2016) with optional
  squeeze-and-excitation attention (Hu et al., CVPR 2018), trained by :func:`brim.learn.fit`,
  on *normalised* temperature maps: the body's
  median temperature is subtracted and the difference divided by a fixed 1 K (so the map is in
  K about the median, never rescaled per image), background set to 0.

A confound audit (:func:`brim.evaluate.confound_audit`) scores nuisance-only baselines with the
same protocol. On the DMR-IR development subset the patient-ID order and the text format of the
file are known to track the label (sick patients were acquired later, and later files were
exported in the ``;`` format): a classifier must beat those baselines, not merely reach a high
AUROC. With ``models``, the audit also scores every model inside the strata of each nuisance
(:func:`confound_report`: overall, per-stratum and pooled within-stratum AUROC with CIs);
:data:`CONFOUND_CORRECTIONS` are training options that remove a known confound (period-matched
training or inverse-probability weights). Grad-CAM (Selvaraju et al., ICCV 2017) shows where
the CNN looks; the CNN can also see the left–right difference image (:func:`difference_map`).
Recovery features of dynamic sequences join the features where a patient has a sequence
(:func:`add_recovery_features`, missing-indicator for the others).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from brim.deprecation import positional_options
from brim.errors import ConfigError, FormatError, MissingFileError, warn
from brim.io import read_table, write_text

logger = logging.getLogger(__name__)

# evaluate_cohort and train warn below this many patients in a class. With 10 patients per class
# the standard error of an AUROC of 0.8 is 0.10 (Hanley & McNeil, Radiology 143:29, 1982), a 95 %
# interval of +-0.2; and a logistic model has no more than the 10 events per predictor that
# Peduzzi et al. (J. Clin. Epidemiol. 49:1373, 1996) found necessary for stable coefficients.
MIN_PATIENTS_PER_CLASS = 10

__all__ = [
    "Cohort",
    "add_recovery_features",
    "audit_files",
    "file_nuisances",
    "CONFOUND_CORRECTIONS",
    "FeatureModel",
    "CNNModel",
    "CNN_INPUTS",
    "confound_report",
    "corrected_fit_predict",
    "period_strata",
    "cnn_config",
    "cnn_fit_predict",
    "cnn_spec",
    "features_fit_predict",
    "evaluate_cohort",
    "load_cohort",
    "difference_map",
    "normalise_map",
    "nuisances",
    "predict_files",
    "read_labels",
    "train",
]

POSITIVE = {"sick", "1", "cancer", "malignant", "yes", "true", "abnormal", "pm", "positive"}
NEGATIVE = {"healthy", "0", "normal", "no", "false", "n", "negative"}
# Refused rather than guessed: "benign" (and the Colombian cohort's "PB", patologia benigna, a
# benign finding) is "sick" for a normal-vs-abnormal question and "healthy" for a cancer-vs-not
# one; the table's author must say which ("PM", patologia maligna, is sick; "N", normal, healthy)
AMBIGUOUS = {"pb", "benign", "probably benign", "benign pathology"}
# header spellings (lower case, runs of space/_/- as one space) of the two columns read
ID_COLUMNS = ("id", "patient", "patient id", "patient no", "patient number", "subject",
              "subject id", "case", "case id")  # fmt: skip
DIAGNOSIS_COLUMNS = ("diagnosis", "label", "class", "diagnostic", "status")


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\-.#]+", " ", name.strip().lower()).strip()


def _patient_id(raw: str) -> int | None:
    """``1``, ``0001``, ``T0001``, ``PAC_1``, ``1.0`` (a spreadsheet's float) -> 1; else None."""
    m = re.fullmatch(r"(?:[A-Za-z]+[_\- ]?)?0*(\d+)(?:\.0*)?", raw.strip())
    return int(m.group(1)) if m else None


def read_labels(path: str | os.PathLike) -> dict[int, int]:
    """Read a patient-level labels table ``ID,Diagnosis`` (DMR-IR style) -> {patient: 0/1}.

    Tables as other people save them are read the same: UTF-8 with or without a byte-order
    mark, UTF-16, CRLF line ends; ``,``, ``;`` or tab separated (the header line's separator,
    as :func:`brim.io.read_table` guesses it); quoted fields; other columns (age, notes...)
    ignored; blank lines and lines starting with ``#`` skipped. The ID column may be headed
    ``ID``, ``Patient``, ``Patient ID``, ``Subject``, ``Case`` (any case, ``_``/``-`` for
    spaces) and the diagnosis column ``Diagnosis``, ``Label``, ``Class``, ``Diagnostic`` or
    ``Status``. IDs ``1``, ``0001``, ``T0001`` and ``PAC_1`` are the same patient.

    Diagnosis values, case and surrounding spaces ignored: sick = ``Sick``, ``1``, ``cancer``,
    ``malignant``, ``yes``, ``true``, ``abnormal``, ``positive``, ``PM``; healthy =
    ``Healthy``, ``0``, ``normal``, ``no``, ``false``, ``negative``, ``N``. ``benign`` and ``PB``
    (the Colombian cohort's benign finding) are refused: whether benign counts as sick depends
    on the question asked; write Healthy or Sick.

    Parameters
    ----------
    path : path-like
        The CSV file.

    Returns
    -------
    dict of int to int
        Patient id -> label (1 = sick).

    Raises
    ------
    FormatError
        Not a text table (a spreadsheet: save it as CSV), no ID or diagnosis column, an ID or
        diagnosis that cannot be read, or a patient listed twice with different diagnoses (the
        message names the patient and both lines).
    MissingFileError
        No such file.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"no such labels file: {p}")
    # read_text refuses a spreadsheet workbook ("save the sheet as CSV"); the separator is
    # the header line's, quoted fields are read the CSV way
    table = read_table(p, what="ID,Diagnosis labels CSV", blanks=False, quoting=True)
    if not table.rows:
        raise FormatError(f"{p.name}: empty; a CSV with columns 'ID,Diagnosis' is expected")
    _, header, header_line = table.rows[0]
    keys = [_header_key(h) for h in header]

    def column(names: tuple[str, ...], role: str) -> int:
        found = [i for i, k in enumerate(keys) if k in names]
        if len(found) > 1:
            both = ", ".join(repr(header[i]) for i in found)
            raise FormatError(f"{p.name}: columns {both} could each be the {role}; keep one")
        if not found:
            raise FormatError(
                f"{p.name}: no {role} column in the header {header_line.strip()!r}; a CSV with "
                f"columns 'ID,Diagnosis' is expected (the {role} may be headed "
                f"{', '.join(names)})"
            )
        return found[0]

    i_id = column(ID_COLUMNS, "patient ID")
    i_dx = column(DIAGNOSIS_COLUMNS, "diagnosis")
    out: dict[int, int] = {}
    first_line: dict[int, tuple[int, str]] = {}
    for n, row, _ in table.rows[1:]:
        if max(i_id, i_dx) >= len(row):
            raise FormatError(
                f"{p.name}: line {n}: {len(row)} field(s) where the header has {len(header)}"
            )
        raw_id, raw_dx = row[i_id].strip(), row[i_dx]
        diag = " ".join(raw_dx.split()).lower()
        pid = _patient_id(raw_id)
        if pid is None:
            raise FormatError(
                f"{p.name}: line {n}: ID {raw_id!r} is not a patient number (1, 0001, T0001)"
            )
        if diag in POSITIVE:
            label = 1
        elif diag in NEGATIVE:
            label = 0
        elif diag in AMBIGUOUS:
            raise FormatError(
                f"{p.name}: line {n}: diagnosis {raw_dx.strip()!r} of patient {raw_id} is a "
                "benign finding, sick for a normal-vs-abnormal question and healthy for a "
                "cancer-vs-not one; write Healthy or Sick for each such patient"
            )
        elif not diag:
            raise FormatError(
                f"{p.name}: line {n}: patient {raw_id} has no diagnosis; write Healthy or Sick, "
                "or remove the line"
            )
        else:
            raise FormatError(
                f"{p.name}: line {n}: diagnosis {raw_dx.strip()!r} is neither Healthy nor Sick"
            )
        if pid in out and out[pid] != label:
            n0, raw0 = first_line[pid]
            raise FormatError(
                f"{p.name}: patient {pid} is listed twice with different diagnoses: line {n0} "
                f"({raw0}) and line {n} ({raw_dx.strip()}); keep the right one"
            )
        out[pid] = label
        first_line.setdefault(pid, (n, raw_dx.strip()))
    if not out:
        raise FormatError(f"{p.name}: no labelled patients")
    return out


# ----------------------------------------------------------------------------- data
def normalise_map(
    temperature: np.ndarray, body: np.ndarray, *, factor: int = 8, scale: float = 1.0
) -> np.ndarray:
    """Normalised temperature map for the CNN: (T - body median) / ``scale`` K, block-averaged.

    Parameters
    ----------
    temperature : ndarray (y, x), degC
    body : ndarray (y, x) bool
        Body mask; background is set to 0 after normalisation.
    factor : int
        Block-average downsampling factor (480 x 640 -> 60 x 80 with 8).
    scale : float
        Fixed divisor in K (not a per-image rescaling).

    Returns
    -------
    numpy.ndarray of float32
        The map, shape ``(y // factor, x // factor)``, in units of ``scale`` K.
    """
    t = np.asarray(temperature, np.float64)
    med = np.nanmedian(t[body])
    z = np.where(body & np.isfinite(t), (t - med) / scale, 0.0)
    return _block_mean(z, factor)


def _block_mean(z: np.ndarray, factor: int) -> np.ndarray:
    """``factor`` x ``factor`` block average (edges that do not fill a block are dropped)."""
    h, w = (z.shape[0] // factor) * factor, (z.shape[1] // factor) * factor
    z = z[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return z.astype(np.float32)


def difference_map(
    temperature: np.ndarray,
    mask: np.ndarray,
    *,
    midline_x: float | None = None,
    factor: int = 8,
) -> np.ndarray:
    """Left–right difference image for the CNN: each pixel minus its mirror image, per patient.

    The thermogram is mirrored about the body midline (column ``midline_x``); the map is
    ``T(x) - T(mirror(x))`` where both the pixel and its mirror image lie on the body (0
    elsewhere): ``L - R`` on the patient's left side, ``R - L`` on the right (the map is
    antisymmetric, so a warm tumour is positive on its own side). It is divided by the
    patient's own temperature spread (the standard deviation over the body), so it does not
    change when a constant is added to the image (room, camera offset) nor when the image is
    scaled (camera gain): a per-patient normalisation of the bilateral ΔT map (Qi & Head 2001).

    Parameters
    ----------
    temperature : ndarray (y, x)
        Temperature, degC (or a grey-level image).
    mask : ndarray (y, x) of int
        Segmentation labels (0 background, anything else body), as in
        :func:`brim.thermo.segment_classical`'s ``mask``.
    midline_x : float, optional
        Column of the body midline, px; default: the centre column of the body mask.
    factor : int
        Block-average downsampling factor (as :func:`normalise_map`).

    Returns
    -------
    numpy.ndarray of float32
        The map, shape ``(y // factor, x // factor)``, in units of the body's temperature
        standard deviation.

    References
    ----------
    Qi H, Head JF (2001). Asymmetry analysis using automatic segmentation and classification
    for breast cancer detection in thermograms. Proc IEEE EMBS 23:2866-2869.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.thermo.classify import difference_map
    >>> t = np.full((4, 8), 30.0)
    >>> t[1, 6] = 32.0  # a warm spot on one side
    >>> d = difference_map(t, np.ones((4, 8), int), midline_x=3.5, factor=1)
    >>> bool(d[1, 6] > 0), bool(d[1, 1] < 0), float(d[1, 6] + d[1, 1])
    (True, True, 0.0)
    >>> bool(np.allclose(difference_map(t + 5.0, np.ones((4, 8), int), factor=1), d))
    True
    """
    from brim.thermo.features import _mirror_left

    t = np.asarray(temperature, np.float64)
    body = (np.asarray(mask) > 0) & np.isfinite(t)
    if midline_x is None:
        cols = np.flatnonzero(body.any(axis=0))
        midline_x = 0.5 * (cols[0] + cols[-1]) if cols.size else 0.5 * (t.shape[1] - 1)
    src, ok = _mirror_left(t, float(midline_x))
    both = body & body[:, src] & ok[None, :]
    sd = float(np.std(t[body])) if body.any() else 0.0
    d = np.where(both, t - t[:, src], 0.0) / (sd if sd > 1e-9 else 1.0)
    return _block_mean(d, factor)


#: Prefix of the period-robust features (:mod:`brim.thermo.body_relative`) in a cohort.
RELATIVE_PREFIX = "rel_"
#: Feature sets of the features model: ``relative`` (the default: blind to room, camera and
#: acquisition period by construction) or ``static`` (every feature of
#: :func:`brim.thermo.extract_features`, absolute temperatures included).
FEATURE_SETS = ("relative", "static")


def feature_columns(names: Sequence[str], feature_set: str = "relative") -> list[int]:
    """Indices of a feature set's columns in a cohort's ``feature_names``.

    Parameters
    ----------
    names : sequence of str
        ``Cohort.feature_names``.
    feature_set : {"relative", "static"}
        See :data:`FEATURE_SETS`.

    Returns
    -------
    list of int
        Column indices, in ``names`` order.

    Raises
    ------
    ConfigError
        An unknown feature set, or one with no column in ``names``.

    Examples
    --------
    >>> from brim.thermo.classify import feature_columns
    >>> feature_columns(["mean_left", "rel_abs_delta_mean", "abs_delta_mean"])
    [1]
    >>> feature_columns(["mean_left", "rel_abs_delta_mean"], "static")
    [0]
    """
    if feature_set not in FEATURE_SETS:
        raise ConfigError(f"unknown feature set {feature_set!r}; use one of {FEATURE_SETS}")
    rel = feature_set == "relative"
    cols = [i for i, n in enumerate(names) if n.startswith(RELATIVE_PREFIX) == rel]
    if not cols:
        raise ConfigError(f"the cohort has no {feature_set} features")
    return cols


@dataclass
class Cohort:
    """Thermograms of a labelled cohort, ready for the two models."""

    files: list[str]
    patients: np.ndarray
    labels: np.ndarray
    maps: np.ndarray  # (n, h, w) normalised maps
    features: np.ndarray  # (n, k)
    feature_names: list[str]
    meta: list[dict] = field(default_factory=list)
    difference: np.ndarray | None = None  # (n, h, w) left-right difference maps


def _one(path: Path, factor: int):
    from brim.thermo.body_relative import RELATIVE_FEATURE_UNITS, relative_features
    from brim.thermo.features import extract_features
    from brim.thermo.readers import read
    from brim.thermo.segmentation import body_mask, segment_classical

    ds = read(path)
    seg = segment_classical(ds)
    feats = extract_features(ds, seg)
    if "temperature" in ds:  # relative features need degC; grey images get NaN (imputed later)
        rel = relative_features(ds, seg, base=feats)
    else:
        rel = dict.fromkeys(RELATIVE_FEATURE_UNITS, float("nan"))
    feats = {**feats, **{f"{RELATIVE_PREFIX}{k}": v for k, v in rel.items()}}
    t = ds["temperature"].values if "temperature" in ds else ds["intensity"].values
    if t.ndim == 3:
        t = t[0]
    body = body_mask(t)
    bg = t[~body & np.isfinite(t)]
    pid = ds.attrs.get("patient")
    try:
        pid = int(pid) if pid is not None else patient_of(path)
    except (TypeError, ValueError):
        pid = patient_of(path)
    meta = {
        "file": path.name,
        "patient": pid,
        "text_format": ds.attrs.get("dmr_text_format", ""),
        "background_median": float(np.median(bg)) if bg.size else float("nan"),
        "body_median": float(np.nanmedian(t[body])),
    }
    mid = float(seg["midline_x"]) if "midline_x" in seg else None
    diff = difference_map(t, np.asarray(seg["mask"].values), midline_x=mid, factor=factor)
    return normalise_map(t, body, factor=factor), feats, meta, diff


def patient_of(path: str | os.PathLike) -> int | None:
    """Patient id from a file name (:func:`brim.thermo.readers.patient_from_name`).

    The DMR conventions (``T0012``, ``PAC_12_ST``, ``12_frontal_static_20130410``) and names
    that are the ID (``0012``, ``patient_12``, ``SIM0012``) give the patient. A camera's
    counter (``IMG_0042``, ``FLIR1234``, ``IR_<date>_<shot>``) and any other name give none:
    their last number is no patient id, and would give the file another patient's label.

    Parameters
    ----------
    path : path-like
        The file (only its name is used).

    Returns
    -------
    int or None
        The patient id; None when the name does not state one.
    """
    from brim.thermo.readers import patient_from_name

    return patient_from_name(path, warn_unknown=False)


def _listing(items: Sequence[object], limit: int = 8) -> str:
    """``a, b, c`` or ``a, b, ... (n in all)``: a short list for a message."""
    shown = ", ".join(str(x) for x in items[:limit])
    return shown if len(items) <= limit else f"{shown}, ... ({len(items)} in all)"


def _match_labels(
    files: Sequence[Path], lab: dict[int, int] | None, *, inputs: object, labels: object
) -> tuple[list[Path], list[int | None]]:
    """The files of labelled patients and their patient ids; say what does not match.

    Thermograms of patients the table does not list, and patients the table lists with no
    thermogram, are each one warning naming them (never a silent loss); no match at all is an
    error that shows the two sets of IDs side by side.
    """
    pids = [patient_of(f) for f in files]
    unnamed = [f.name for f, p in zip(files, pids, strict=True) if p is None]
    if unnamed:
        warn(
            f"{len(unnamed)} of {len(files)} thermograms' names give no patient id: "
            f"{_listing(unnamed)} (a camera's counter or another naming; their numbers are no "
            "patient id); name each file by its patient as the labels table's ID gives it "
            "(T0042.txt, PAC_42_ST.txt, patient_42.txt or 0042.txt)"
        )
    if lab is None:
        if not files:
            raise MissingFileError(f"no thermogram (.txt, .jpg, .nc) found in {inputs}")
        return list(files), pids
    table = Path(labels).name if isinstance(labels, (str, os.PathLike)) else "the labels"
    keep = [(f, p) for f, p in zip(files, pids, strict=True) if p is not None and p in lab]
    if not files:
        raise MissingFileError(
            f"no labelled thermogram found in {inputs}: it holds no .txt, .jpg or .nc file"
        )
    if not keep:
        found = sorted({p for p in pids if p is not None})
        raise MissingFileError(
            f"no labelled thermogram in {inputs}: none belongs to a patient of {table}; the "
            f"files are of patient(s) {_listing(found) or 'none (no number in their names)'}, "
            "the table lists "
            f"{_listing(sorted(lab))}; the table's IDs must be the patient numbers of the file "
            "names (T0012.txt and PAC_12_ST.txt are patient 12)"
        )
    unlabelled = [f.name for f, p in zip(files, pids, strict=True) if p is None or p not in lab]
    if unlabelled:
        warn(
            f"{len(unlabelled)} of {len(files)} thermograms have no label in {table} and are "
            f"left out: {_listing(unlabelled)}"
        )
    missing = sorted(set(lab) - {p for _, p in keep})
    if missing:
        warn(
            f"{len(missing)} of {len(lab)} patients of {table} have no thermogram in {inputs}: "
            f"{_listing(missing)}"
        )
    return [f for f, _ in keep], [p for _, p in keep]


@positional_options
def load_cohort(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    labels: str | os.PathLike | dict[int, int] | None = None,
    factor: int = 8,
    progress: bool = False,
    dynamic: str | os.PathLike | None = None,
) -> Cohort:
    """Read, segment and featurise thermograms; attach patient-level labels.

    Parameters
    ----------
    inputs : folder or list of files
        Raw thermograms (DMR ``.txt``, FLIR ``.jpg``) or brim ``.nc`` thermograms.
    labels : CSV path or dict, optional
        Patient-level ``ID,Diagnosis``; files of unlabelled patients are skipped.
    factor : int
        CNN map downsampling factor.
    progress : bool
        Show a progress bar.
    dynamic : path-like, optional
        Folder of dynamic-protocol sequences (``PAC_<id>_DN<k>.txt``): adds the recovery
        features and their missing-indicator (:func:`add_recovery_features`).

    Returns
    -------
    Cohort
        Files, patients, labels (-1 where unlabelled), feature matrix and CNN maps.
    """
    if isinstance(inputs, (str, os.PathLike)) and Path(inputs).is_dir():
        files = sorted(
            f
            for f in Path(inputs).iterdir()
            if f.suffix.lower() in (".txt", ".jpg", ".jpeg", ".nc") and f.is_file()
        )
    elif isinstance(inputs, (str, os.PathLike)):
        files = [Path(inputs)]
    else:
        files = [Path(f) for f in inputs]
    lab = read_labels(labels) if isinstance(labels, (str, os.PathLike)) else labels
    keep, keep_pids = _match_labels(files, lab, inputs=inputs, labels=labels)
    it = keep
    if progress:
        from tqdm import tqdm

        it = tqdm(keep, desc="thermograms")
    maps, feats, metas, diffs = [], [], [], []
    for f in it:
        m, ft, meta, d = _one(f, factor)
        maps.append(m)
        diffs.append(d)
        feats.append(ft)
        metas.append(meta)
    names = sorted(k for k in feats[0] if k != "calibrated")
    X = np.array([[ft[k] for k in names] for ft in feats], float)
    pids = np.array(
        [meta["patient"] if meta["patient"] is not None else i for i, meta in enumerate(metas)]
    )
    if lab is not None:  # labels go by the patient of the file name: its attribute must agree
        for meta, pid in zip(metas, keep_pids, strict=True):
            if meta["patient"] != pid:
                raise FormatError(
                    f"{meta['file']}: its name says patient {pid}, its 'patient' attribute "
                    f"{meta['patient']}; its label would be another patient's: rename the file "
                    "or correct the attribute"
                )
    y = np.array([lab[int(p)] for p in pids]) if lab is not None else np.full(len(keep), -1)
    cohort = Cohort(
        [str(f) for f in keep], pids, y, np.stack(maps), X, names, metas, np.stack(diffs)
    )
    return cohort if dynamic is None else add_recovery_features(cohort, dynamic)


#: Column of the missing-indicator of the recovery features (1 = the patient has a sequence).
HAS_SEQUENCE = f"{RELATIVE_PREFIX}has_sequence"


def _sequences_in(folder: Path) -> dict[int, list[Path]]:
    """Frame files of the dynamic protocol in a folder, by patient (``PAC_<id>_DN<k>``)."""
    from brim.thermo.readers import parse_dmr_name

    out: dict[int, list[Path]] = {}
    for f in sorted(folder.iterdir()):
        info = parse_dmr_name(f.name)
        if (
            f.is_file()
            and f.suffix.lower() in (".txt", ".nc")
            and info.get("protocol") == "dynamic"
            and "side" not in info  # PAC_<id>_DN<k>-esq.png etc. are masks, not frames
            and isinstance(info.get("patient"), int)
        ):
            out.setdefault(int(info["patient"]), []).append(f)
    return out


def _sequence_features(seq: xr.Dataset) -> dict[str, float]:
    """Recovery features of one sequence, segmented from its true masks or its first frame."""
    from brim.thermo.recovery import recovery_features
    from brim.thermo.segmentation import segment_classical, segmentation_from_masks

    first = seq.isel(time=0) if "time" in seq.dims else seq
    seg = segmentation_from_masks(first) if "breast_mask" in seq else segment_classical(first)
    return recovery_features(seq, seg)


def add_recovery_features(
    cohort: Cohort,
    sequences: str | os.PathLike | dict[int, xr.Dataset],
    *,
    interval: float = 15.0,
) -> Cohort:
    """The cohort with the dynamic-protocol recovery features of the patients that have them.

    Every name of :data:`brim.thermo.recovery.RECOVERY_FEATURE_UNITS` becomes a relative
    feature column ``rel_<name>`` (rates and left–right differences: blind to room and
    camera offsets like the other relative features), plus the missing-indicator
    ``rel_has_sequence`` (1 where the patient has a usable sequence). Patients without a
    sequence get NaN, which the features model replaces by the training mean (0 after its
    standardisation); the indicator lets the model tell "no sequence" from "average recovery".
    This is the *missing-indicator* method (one model for all patients), not a separate model
    for the patients with sequences. Should sequence availability track the acquisition
    period, the indicator is itself a nuisance: check it with :func:`confound_report`.

    Parameters
    ----------
    cohort : Cohort
        From :func:`load_cohort`.
    sequences : folder or dict of int -> xarray.Dataset
        A folder of DMR dynamic-protocol frames (``PAC_<id>_DN<k>.txt``, any patients; read
        with :func:`brim.thermo.read_frames`), or sequences already read, by patient id.
    interval : float
        Seconds between the frames of a folder's sequences (15 s in the DMR protocol).

    Returns
    -------
    Cohort
        A new cohort with the recovery columns appended (``meta`` gains ``has_sequence``).

    Raises
    ------
    MissingFileError
        ``sequences`` is a path but not a folder.

    Warns
    -----
    BrimWarning
        A patient's sequence cannot give recovery features (fewer than two frames, a
        segmentation without breasts): the patient is treated as having none.
    """
    from brim.thermo.readers import read_frames
    from brim.thermo.recovery import RECOVERY_FEATURE_UNITS

    if isinstance(sequences, (str, os.PathLike)):
        folder = Path(sequences)
        if not folder.is_dir():
            raise MissingFileError(f"no such folder of dynamic sequences: {folder}")
        frames = _sequences_in(folder)
        seqs: dict[int, Any] = {p: frames[p] for p in frames}
    else:
        seqs = dict(sequences)
    names = list(RECOVERY_FEATURE_UNITS)
    extra = np.full((len(cohort.files), len(names) + 1), np.nan)
    extra[:, -1] = 0.0
    cache: dict[int, dict[str, float] | None] = {}
    for i, pid in enumerate(cohort.patients):
        pid = int(pid)
        if pid not in seqs:
            continue
        if pid not in cache:
            seq = seqs[pid]
            try:
                ds = read_frames(seq, interval=interval) if isinstance(seq, list) else seq
                cache[pid] = _sequence_features(ds)
            except (ConfigError, FormatError) as exc:
                warn(f"patient {pid}: no recovery features from its sequence ({exc})")
                cache[pid] = None
        feats = cache[pid]
        if feats is not None:
            extra[i, :-1] = [feats[k] for k in names]
            extra[i, -1] = 1.0
    cols = [f"{RELATIVE_PREFIX}{k}" for k in names] + [HAS_SEQUENCE]
    keep = [j for j, c in enumerate(cols) if c not in cohort.feature_names]
    meta = [{**m, "has_sequence": bool(extra[i, -1])} for i, m in enumerate(cohort.meta)]
    return replace(
        cohort,
        features=np.c_[cohort.features, extra[:, keep]],
        feature_names=[*cohort.feature_names, *(cols[j] for j in keep)],
        meta=meta,
    )


def nuisances(cohort: Cohort) -> dict[str, np.ndarray]:
    """Nuisance variables that must NOT predict the label: ID order, text format, room.

    Parameters
    ----------
    cohort : Cohort
        From :func:`load_cohort`.

    Returns
    -------
    dict of str to numpy.ndarray
        One value per thermogram for each nuisance.
    """
    out = {
        "patient_id_order": np.argsort(np.argsort(cohort.patients)).astype(float),
        "text_format_semicolon": np.array(
            [1.0 if m.get("text_format") == "semicolon" else 0.0 for m in cohort.meta]
        ),
        "background_temperature": np.array([m["background_median"] for m in cohort.meta]),
    }
    return out


def file_nuisances(files: Sequence[str | os.PathLike]) -> dict[str, np.ndarray]:
    """Nuisances read from file names and the first bytes only (no image decoding).

    ``patient_id_order`` (rank of the patient id) and ``text_format_semicolon`` (1 for the
    ``;``-separated DMR export). Cheap enough to audit a whole database.

    Parameters
    ----------
    files : sequence of path-like
        The thermogram files.

    Returns
    -------
    dict of str to numpy.ndarray
        ``patient_id_order`` and ``text_format_semicolon``, one value per file.
    """
    from brim.io import read_text
    from brim.thermo.readers import dmr_format

    ids = np.array([patient_of(f) if patient_of(f) is not None else -1 for f in files], float)
    fmt = []
    for f in files:
        head = read_text(f, what="DMR temperature matrix", encoding="latin-1", limit=4096)
        fmt.append(1.0 if dmr_format(head) == "semicolon" else 0.0)
    return {
        "patient_id_order": np.argsort(np.argsort(ids)).astype(float),
        "text_format_semicolon": np.array(fmt),
    }


def audit_files(
    data_dir: str | os.PathLike, labels: str | os.PathLike, **cv_kwargs
):  # -> brim.evaluate.ConfoundAudit
    """Confound audit of a DMR-style folder from names and formats alone.

    Parameters
    ----------
    data_dir : path-like
        Folder of DMR-style thermogram files.
    labels : path-like
        Patient-level ``ID,Diagnosis`` CSV (:func:`read_labels`).
    **cv_kwargs
        Options of :func:`brim.evaluate.confound_audit` (e.g. ``n_splits``, ``seed``).

    Returns
    -------
    brim.evaluate.ConfoundAudit
        :func:`brim.evaluate.confound_audit` of :func:`file_nuisances` against the labels
        (grouped by patient, the same protocol as the classifiers).
    """
    from brim.evaluate import confound_audit

    lab = read_labels(labels)
    files = sorted(
        f for f in Path(data_dir).iterdir() if f.suffix.lower() == ".txt" and patient_of(f) in lab
    )
    if not files:
        raise MissingFileError(f"no labelled .txt thermogram in {data_dir}")
    g = np.array([patient_of(f) for f in files])
    y = np.array([lab[int(p)] for p in g])
    return confound_audit(file_nuisances(files), y, g, **cv_kwargs)


# ----------------------------------------------------------------------------- models
def _standardise(Xtr, *others):
    mu = np.nanmean(Xtr, axis=0)
    sd = np.nanstd(Xtr, axis=0)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    mu[~np.isfinite(mu)] = 0.0
    return [np.nan_to_num((X - mu) / sd) for X in (Xtr, *others)], (mu, sd)


def features_fit_predict(X_train, y_train, X_val, y_val, X_test):
    """``fit_predict`` of the features model (logistic regression via brim.evaluate).

    Parameters
    ----------
    X_train, y_train : array_like
        Training features (n, k) and labels.
    X_val, y_val : array_like
        Validation fold (the labels are not used).
    X_test : array_like
        Test fold.

    Returns
    -------
    tuple of numpy.ndarray
        Scores of the validation and test rows.
    """
    from brim.evaluate import logistic_fit_predict

    (a, b, c), _ = _standardise(np.asarray(X_train), np.asarray(X_val), np.asarray(X_test))
    return logistic_fit_predict(a, y_train, b, y_val, c)


#: Training options that remove a known confound (``confound_correction`` of :func:`train`):
#: ``none``; ``match`` (train on cases and controls matched on the nuisance stratum,
#: :func:`brim.evaluate.strata.matched_indices`); ``ipw`` (inverse-probability weights that make
#: the label independent of the stratum, :func:`brim.evaluate.strata.balancing_weights`).
CONFOUND_CORRECTIONS = ("none", "match", "ipw")


def _check_correction(correction: str) -> None:
    if correction not in CONFOUND_CORRECTIONS:
        raise ConfigError(
            f"unknown confound correction {correction!r}; use one of {CONFOUND_CORRECTIONS}"
        )


def _weighted_logistic(Z: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1e-2):
    """Intercept and coefficients of an L2 logistic regression with sample weights.

    Minimises ``sum_i w_i [log(1 + exp(z_i)) - y_i z_i] + l2 / 2 |coef|^2`` (intercept not
    penalised) with L-BFGS; ``Z`` is already standardised.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    A = np.c_[np.ones(len(Z)), Z]
    yf = np.asarray(y, float)

    def loss(beta):
        z = A @ beta
        val = np.sum(w * (np.logaddexp(0.0, z) - yf * z)) + 0.5 * l2 * beta[1:] @ beta[1:]
        grad = A.T @ (w * (expit(z) - yf))
        grad[1:] += l2 * beta[1:]
        return val, grad

    beta = minimize(loss, np.zeros(A.shape[1]), jac=True, method="L-BFGS-B").x
    return float(beta[0]), beta[1:]


def _corrected_training_set(y, strata, correction: str, seed: int = 0):
    """Rows and sample weights of a training set after a confound correction."""
    from brim.evaluate.strata import balancing_weights, matched_indices

    _check_correction(correction)
    y = np.asarray(y)
    if correction == "match":
        idx = matched_indices(y, strata, seed=seed)
        return idx, np.ones(idx.size)
    if correction == "ipw":
        w = balancing_weights(y, strata)
        idx = np.flatnonzero(w > 0)
        return idx, w[idx]
    return np.arange(y.size), np.ones(y.size)


@positional_options
def corrected_fit_predict(*, correction: str = "ipw", seed: int = 0):
    """A ``fit_predict`` of the features model trained with a confound correction.

    Its inputs are a tuple ``(features, strata)``: the feature matrix and the nuisance stratum
    of each sample (e.g. :func:`period_strata`). On each training fold the correction of
    :data:`CONFOUND_CORRECTIONS` is applied with the training rows' strata only; scoring uses
    the features only.

    Parameters
    ----------
    correction : {"none", "match", "ipw"}
        ``match``: train on cases matched 1:1 to controls of the same stratum; ``ipw``: train
        with inverse-probability weights making the label independent of the stratum
        (Hernán & Robins 2020, ch. 12).
    seed : int
        Seed of the random matching.

    Returns
    -------
    callable
        ``fit_predict((X, strata)_train, y_train, (X, strata)_val, y_val, (X, strata)_test)``.

    Raises
    ------
    ConfigError
        An unknown correction (at call time: a training fold with no stratum holding both
        classes).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.thermo.classify import corrected_fit_predict
    >>> rng = np.random.default_rng(0)
    >>> st = np.repeat(["early", "late"], 20)
    >>> y = np.tile([0, 1], 20)
    >>> X = (y + rng.normal(0, 0.5, 40))[:, None]
    >>> fp = corrected_fit_predict(correction="ipw")
    >>> v, t = fp((X, st), y, (X[:4], st[:4]), y[:4], (X[:4], st[:4]))
    >>> bool(t[1] > t[0])
    True
    """
    _check_correction(correction)

    def fit_predict(X_train, y_train, X_val, y_val, X_test):
        (Xtr, st), (Xv, _), (Xte, _) = X_train, X_val, X_test
        idx, w = _corrected_training_set(y_train, st, correction, seed)
        (a, b, c), _ = _standardise(np.asarray(Xtr)[idx], np.asarray(Xv), np.asarray(Xte))
        b0, coef = _weighted_logistic(a, np.asarray(y_train)[idx], w)

        def prob(Z):
            return 1.0 / (1.0 + np.exp(-np.clip(b0 + Z @ coef, -30, 30)))

        return prob(b), prob(c)

    return fit_predict


def period_strata(cohort: Cohort, *, n_strata: int = 3) -> np.ndarray:
    """Acquisition-period strata of a cohort: ``n_strata`` quantile blocks of the patient-id order.

    On DMR-IR the patient id follows the acquisition date, so its blocks stand for periods.

    Parameters
    ----------
    cohort : Cohort
        From :func:`load_cohort`.
    n_strata : int
        Number of blocks.

    Returns
    -------
    numpy.ndarray of str
        One stratum label per thermogram (see :func:`brim.evaluate.strata.strata_from_values`).
    """
    from brim.evaluate.strata import strata_from_values

    return strata_from_values(nuisances(cohort)["patient_id_order"], n_strata=n_strata)


#: Inputs of the thermogram CNN: ``map`` (:func:`normalise_map`) or ``difference`` (the
#: left–right difference image of :func:`difference_map`).
CNN_INPUTS = ("map", "difference")


def _cnn_inputs(cohort: Cohort, cnn_input: str) -> np.ndarray:
    """The cohort's CNN maps of one input kind."""
    if cnn_input not in CNN_INPUTS:
        raise ConfigError(f"unknown CNN input {cnn_input!r}; use one of {CNN_INPUTS}")
    if cnn_input == "map":
        return cohort.maps
    if cohort.difference is None:
        raise ConfigError("the cohort has no difference maps (load it with load_cohort)")
    return cohort.difference


CNN_NORM = "batch"
CNN_DOWNSAMPLE = "avgpool"


@positional_options
def cnn_spec(*, attention: bool = True, width: int = 16) -> dict:
    """Spec of the thermogram CNN: :class:`brim.learn.ResNetClassifier` (He et al. 2016), three
    residual stages (widths ``width``, ``2 width``, ``4 width``; 2x down-sampling between
    stages), optional squeeze-and-excitation attention (Hu et al. 2018), one logit.

    Batch normalisation (``norm="batch"``): group normalisation on these small, coarse maps
    acts like instance normalisation, rescaling each image's features to unit variance, and
    Grad-CAM then no longer follows the warm spot. Average-pool down-sampling
    (``downsample="avgpool"``) keeps the coarse Grad-CAM grid centred on its blocks.

    Parameters
    ----------
    attention : bool
        Add squeeze-and-excitation blocks.
    width : int
        Channels of the first stage.

    Returns
    -------
    dict
        A :func:`brim.learn.build_model` spec.
    """
    return {
        "class": "ResNetClassifier",
        "kwargs": {
            "in_channels": 1,
            "n_outputs": 1,
            "widths": [int(width), 2 * int(width), 4 * int(width)],
            "blocks_per_stage": 1,
            "attention": bool(attention),
            "norm": CNN_NORM,
            "downsample": CNN_DOWNSAMPLE,
        },
    }


@positional_options
def cnn_config(
    *,
    epochs: int = 30,
    lr: float = 2e-3,
    batch: int = 8,
    seed: int = 0,
    num_threads: int | None = None,
    progress: bool = False,
):
    """The :class:`brim.learn.TrainConfig` of the thermogram CNN (AdamW, class-weighted BCE,
    all epochs: no validation split inside a training fold).

    Parameters
    ----------
    epochs : int
        Training epochs.
    lr : float
        Learning rate.
    batch : int
        Batch size.
    seed : int
        Seed of the initialisation, shuffling and augmentation.
    num_threads : int, optional
        torch CPU threads during training.
    progress : bool
        Show a progress bar.

    Returns
    -------
    brim.learn.TrainConfig
    """
    from brim.learn import TrainConfig

    return TrainConfig(
        epochs=epochs,
        lr=lr,
        batch_size=batch,
        seed=seed,
        patience=None,
        class_weighting=True,
        weight_decay=1e-4,
        num_threads=num_threads,
        progress=progress,
    )


def cnn_augment():
    """Training augmentation: left-right flips and 1-px shifts (no intensity change).

    Returns
    -------
    brim.learn.Compose
        The transform applied to each training sample.
    """
    from brim.learn import Compose, RandomFlip, RandomShift

    return Compose([RandomFlip((-1,)), RandomShift(1)])


@dataclass
class CNNModel:
    """A trained thermogram CNN (a :class:`brim.learn.ResNetClassifier`)."""

    net: Any
    attention: bool
    width: int
    factor: int
    shape: tuple
    input: str = "map"  # "map" (normalise_map) or "difference" (difference_map)

    def predict(self, maps: np.ndarray) -> np.ndarray:
        """Probability of disease of each normalised map (n, h, w).

        Parameters
        ----------
        maps : numpy.ndarray
            Maps from :func:`normalise_map`, shape (n, h, w).

        Returns
        -------
        numpy.ndarray
            Probabilities in [0, 1], shape (n,).
        """
        from brim.learn import ArrayDataset, predict

        ds = ArrayDataset(np.ascontiguousarray(maps, np.float32))
        return np.asarray(predict(self.net, ds)["score"].values, float)


def train_cnn(
    maps: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 30,
    attention: bool = True,
    width: int = 16,
    lr: float = 2e-3,
    batch: int = 8,
    seed: int = 0,
    factor: int = 8,
    num_threads: int | None = None,
    progress: bool = False,
) -> CNNModel:
    """Train the thermogram CNN with :func:`brim.learn.fit` (:func:`cnn_spec`,
    :func:`cnn_config`, :func:`cnn_augment`).

    Parameters
    ----------
    maps : numpy.ndarray
        Training maps (n, h, w) from :func:`normalise_map`.
    y : numpy.ndarray
        Labels (n,), 0/1.
    epochs, lr, batch, seed, num_threads, progress
        Training options, see :func:`cnn_config`.
    attention, width
        Architecture, see :func:`cnn_spec`.
    factor : int
        Down-sampling factor the maps were made with (stored with the model).

    Returns
    -------
    CNNModel
    """
    from brim.learn import ArrayDataset, build_model, fit

    maps = np.ascontiguousarray(maps, np.float32)
    net = build_model(cnn_spec(attention=attention, width=width), seed=seed)
    data = ArrayDataset(maps, np.asarray(y), transform=cnn_augment(), seed=seed)
    cfg = cnn_config(
        epochs=epochs, lr=lr, batch=batch, seed=seed, num_threads=num_threads, progress=progress
    )
    res = fit(net, data, val_data=None, config=cfg)
    return CNNModel(res.model, attention, width, factor, tuple(maps.shape[1:]))


@positional_options
def cnn_fit_predict(
    *,
    epochs: int = 30,
    attention: bool = True,
    width: int = 16,
    seed: int = 0,
    num_threads: int | None = None,
):
    """A ``fit_predict`` for :func:`brim.evaluate.cross_validate` training the CNN from scratch.

    Parameters
    ----------
    epochs, seed, num_threads
        Training options, see :func:`cnn_config`.
    attention, width
        Architecture, see :func:`cnn_spec`.

    Returns
    -------
    callable
        ``fit_predict(X_train, y_train, X_val, y_val, X_test) -> (val scores, test scores)``.
    """

    def fit_predict(X_train, y_train, X_val, y_val, X_test):
        model = train_cnn(
            np.asarray(X_train),
            np.asarray(y_train),
            epochs=epochs,
            attention=attention,
            width=width,
            seed=seed,
            num_threads=num_threads,
        )
        return model.predict(np.asarray(X_val)), model.predict(np.asarray(X_test))

    return fit_predict


def grad_cam(model: CNNModel, maps: np.ndarray) -> np.ndarray:
    """Grad-CAM maps (n, h, w), each scaled to a maximum of 1, of the CNN's last residual stage.

    Thin wrapper over :func:`brim.evaluate.grad_cam` (Selvaraju et al., ICCV 2017) with
    the model's default layer (its last residual stage, ``cam_layer``).

    Parameters
    ----------
    model : CNNModel
        The trained CNN.
    maps : numpy.ndarray
        Normalised maps (n, h, w), or one map (h, w).

    Returns
    -------
    numpy.ndarray
        Grad-CAM maps (n, h, w) in [0, 1].
    """
    from brim.evaluate import grad_cam as core_grad_cam

    maps = np.asarray(maps, np.float32)
    if maps.ndim == 2:
        maps = maps[None]
    return np.stack(
        [
            np.asarray(core_grad_cam(model.net, m, target_layer=model.net.cam_layer).values)
            for m in maps
        ]
    )


@dataclass
class FeatureModel:
    """Logistic regression on standardised features (weights and scaling)."""

    names: list[str]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray  # intercept first

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probability of disease of each feature row.

        Parameters
        ----------
        X : numpy.ndarray
            Features (n, len(names)), NaN allowed (the training mean is used).

        Returns
        -------
        numpy.ndarray
            Probabilities in [0, 1], shape (n,).
        """
        Z = np.nan_to_num((np.asarray(X, float) - self.mean) / self.std)
        return 1.0 / (1.0 + np.exp(-np.clip(self.weights[0] + Z @ self.weights[1:], -30, 30)))


def train_features(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    strata: np.ndarray | None = None,
    confound_correction: str = "none",
    seed: int = 0,
) -> FeatureModel:
    """Fit :func:`brim.evaluate.logistic_fit` on the NaN-tolerant standardised features.

    Parameters
    ----------
    X : numpy.ndarray
        Features (n, k), NaN allowed.
    y : numpy.ndarray
        Labels (n,), 0/1.
    names : list of str
        The k feature names.
    strata : numpy.ndarray, optional
        Nuisance stratum of each row (e.g. :func:`period_strata`); needed by a correction.
    confound_correction : {"none", "match", "ipw"}
        See :func:`corrected_fit_predict`; ``none`` is the plain :func:`logistic_fit`.
    seed : int
        Seed of the random matching.

    Returns
    -------
    FeatureModel
    """
    from brim.evaluate import logistic_fit

    if confound_correction != "none":
        if strata is None:
            raise ConfigError(f"confound_correction={confound_correction!r} needs strata")
        idx, w = _corrected_training_set(y, strata, confound_correction, seed)
        (Z,), (mu, sd) = _standardise(np.asarray(X, float)[idx])
        b0, coef = _weighted_logistic(Z, np.asarray(y)[idx], w)
        return FeatureModel(list(names), mu, sd, np.r_[b0, coef])
    (Z,), (mu, sd) = _standardise(np.asarray(X, float))
    m = logistic_fit(Z, y)
    coef = m.coef / m.scale  # fold logistic_fit's own (near-identity) scaling into the weights
    return FeatureModel(list(names), mu, sd, np.r_[m.intercept - coef @ m.mean, coef])


# ----------------------------------------------------------------------------- evaluation
@dataclass
class Evaluation:
    """Cross-validated results of both models, the ΔT rule and the confound audit."""

    results: dict
    audit: Any
    cohort: Cohort

    def table(self) -> str:
        """Markdown table of each model's pooled AUROC (95 % CI), sensitivity, specificity.

        Returns
        -------
        str
        """
        lines = ["| model | AUROC | 95 % CI | sensitivity | specificity |", "|---|---|---|---|---|"]
        for name, r in self.results.items():
            a = r.pooled.auroc
            lines.append(
                f"| {name} | {a.auroc:.3f} | {a.low:.3f}-{a.high:.3f} | "
                f"{r.pooled.sensitivity:.2f} | {r.pooled.specificity:.2f} |"
            )
        return "\n".join(lines)

    def confound_table(self) -> str:
        """Markdown table of the nuisance-only baselines and the label permutation.

        Returns
        -------
        str
        """
        lines = ["| nuisance-only baseline | AUROC | 95 % CI | flagged |", "|---|---|---|---|"]
        for row in self.audit.rows:
            lines.append(
                f"| {row['name']} | {row['auroc']:.3f} | {row['low']:.3f}-{row['high']:.3f} | "
                f"{'YES' if row['flagged'] else 'no'} |"
            )
        p = self.audit.permutation
        if p:
            lines.append(
                f"| label permutation ({p['model']}) | {p['auroc']:.3f} | "
                f"{p['low']:.3f}-{p['high']:.3f} | {'ok' if p['ok'] else 'LEAK?'} |"
            )
        return "\n".join(lines)


def _warn_few_patients(labels, patients, what: str) -> None:
    """Warn (BrimWarning) when a class has fewer than MIN_PATIENTS_PER_CLASS patients."""
    labels, patients = np.asarray(labels), np.asarray(patients)
    counts = {int(c): np.unique(patients[labels == c]).size for c in (0, 1)}
    logger.info("%s: %d healthy and %d sick patients", what, counts[0], counts[1])
    few = {c: n for c, n in counts.items() if n < MIN_PATIENTS_PER_CLASS}
    if few:
        names = ", ".join(f"{n} {'sick' if c else 'healthy'}" for c, n in few.items())
        warn(
            f"{what} on only {names} patient(s) (fewer than {MIN_PATIENTS_PER_CLASS} per class): "
            "the model and its AUROC are too uncertain to mean much"
        )


def evaluate_cohort(
    cohort: Cohort,
    *,
    models: Sequence[str] = ("features", "cnn", "delta_t_rule"),
    feature_set: str = "relative",
    n_splits: int = 5,
    cnn_epochs: int = 30,
    cnn_width: int = 16,
    seed: int = 0,
    n_bootstrap: int = 1000,
    num_threads: int | None = None,
) -> Evaluation:
    """Grouped cross-validation of the models plus the confound audit.

    Parameters
    ----------
    cohort : Cohort
        From :func:`load_cohort`, every thermogram labelled.
    models : sequence of {"features", "cnn", "cnn_difference", "delta_t_rule"}
        The models cross-validated (``cnn_difference``: the CNN on :func:`difference_map`).
    feature_set : {"relative", "static"}
        Features of the ``features`` model (see :func:`train`).
    n_splits : int
        Patient-grouped folds.
    cnn_epochs, cnn_width : int
        CNN training epochs and width.
    seed : int
        Seed of the folds, the CNN and the bootstrap.
    n_bootstrap : int
        Bootstrap resamples of the confidence intervals.
    num_threads : int, optional
        torch CPU threads for the CNN.

    Returns
    -------
    Evaluation
        ``results`` (name -> :class:`brim.evaluate.CVResult`), ``audit``
        (:class:`brim.evaluate.ConfoundAudit`).
    """
    from brim.evaluate import confound_audit, cross_validate

    y, g = cohort.labels, cohort.patients
    if np.any(y < 0):
        raise ConfigError("the cohort has unlabelled thermograms")
    _warn_few_patients(y, g, "cross-validation")
    kw: dict[str, Any] = dict(
        n_splits=n_splits, seed=seed, n_bootstrap=n_bootstrap, aggregate="mean"
    )
    results = {}
    for m in models:
        if m == "features":
            results[m] = cross_validate(
                features_fit_predict,
                cohort.features[:, feature_columns(cohort.feature_names, feature_set)],
                y,
                g,
                name=f"features (logistic, {feature_set})",
                **kw,
            )
        elif m in ("cnn", "cnn_difference"):
            diff = m == "cnn_difference"
            results[m] = cross_validate(
                cnn_fit_predict(
                    epochs=cnn_epochs, width=cnn_width, seed=seed, num_threads=num_threads
                ),
                _cnn_inputs(cohort, "difference" if diff else "map"),
                y,
                g,
                name="CNN on the left-right difference image"
                if diff
                else "CNN (ResNet + attention)",
                **kw,
            )
        elif m == "delta_t_rule":
            k = cohort.feature_names.index("abs_delta_mean")
            x = cohort.features[:, k : k + 1]

            def rule(X_train, y_train, X_val, y_val, X_test):
                return np.asarray(X_val)[:, 0], np.asarray(X_test)[:, 0]

            results[m] = cross_validate(rule, x, y, g, name="|ΔT| rule", check_inputs=False, **kw)
        else:
            raise ConfigError(f"unknown model {m!r}")
    audit = confound_audit(nuisances(cohort), y, g, **kw)
    return Evaluation(results, audit, cohort)


# ----------------------------------------------------------------------------- train / predict
def train(
    data_dir: str | os.PathLike,
    labels: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    method: str = "features",
    feature_set: str = "relative",
    confound_correction: str = "none",
    cnn_input: str = "map",
    epochs: int = 30,
    seed: int = 0,
    progress: bool = False,
    cohort: Cohort | None = None,
    dynamic: str | os.PathLike | None = None,
) -> Path:
    """Train on every labelled thermogram of ``data_dir`` and save the model to ``outdir``.

    ``features``: ``model.json`` (names, scaling, weights); ``cnn``: a
    :func:`brim.learn.save_checkpoint` checkpoint (``model.safetensors`` + ``brim_model.json``)
    plus ``model.json``. Only a trained model is saved; its evaluation belongs to
    :func:`evaluate_cohort`.

    Parameters
    ----------
    data_dir : path-like
        Folder of thermograms (see :func:`load_cohort`).
    labels : path-like
        Patient-level ``ID,Diagnosis`` CSV.
    outdir : path-like
        Folder of the saved model (created).
    method : {"features", "cnn"}
        The model trained.
    feature_set : {"relative", "static"}
        Features of the ``features`` model (:data:`FEATURE_SETS`): ``relative`` (default) uses
        only features relative to the patient's own body, blind to room, camera and
        acquisition period by construction; ``static`` every feature, absolute temperatures
        included (the default of earlier releases: on DMR-IR it learns the acquisition period).
    confound_correction : {"none", "match", "ipw"}
        Training option of the ``features`` model that removes the acquisition-period
        confound (:data:`CONFOUND_CORRECTIONS`, strata of :func:`period_strata`): ``match``
        trains on sick patients matched 1:1 to healthy ones of the same period, ``ipw`` weights
        every patient so that the label is independent of the period. ``none`` (default):
        unchanged training.
    cnn_input : {"map", "difference"}
        Input of the ``cnn`` model (:data:`CNN_INPUTS`): the normalised temperature map
        (:func:`normalise_map`, default) or the left–right difference image
        (:func:`difference_map`), which holds no absolute temperature and only what differs
        between the breasts.
    epochs : int
        CNN training epochs.
    seed : int
        Training seed.
    progress : bool
        Show progress bars.
    cohort : Cohort, optional
        The cohort of ``data_dir`` already loaded with :func:`load_cohort` (not read again).
    dynamic : path-like, optional
        Folder of dynamic-protocol sequences: the recovery features and their missing-indicator
        join the relative features (:func:`add_recovery_features`).

    Returns
    -------
    pathlib.Path
        ``outdir``.
    """
    if method not in ("features", "cnn"):
        raise ConfigError(f"unknown method {method!r}; use 'cnn' or 'features'")
    if cohort is None:
        cohort = load_cohort(data_dir, labels=labels, progress=progress, dynamic=dynamic)
    elif dynamic is not None and HAS_SEQUENCE not in cohort.feature_names:
        cohort = add_recovery_features(cohort, dynamic)
    if len(np.unique(cohort.labels)) < 2:
        kind = "sick" if cohort.labels[0] == 1 else "healthy"
        raise ConfigError(
            f"training needs both healthy and sick patients; the {len(set(cohort.patients))} "
            f"labelled patients with a thermogram are all {kind}"
        )
    _warn_few_patients(cohort.labels, cohort.patients, "training")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cfg: dict = {"method": method, "n_train": len(cohort.files), "seed": seed}
    _check_correction(confound_correction)
    if cnn_input not in CNN_INPUTS:
        raise ConfigError(f"unknown CNN input {cnn_input!r}; use one of {CNN_INPUTS}")
    if method != "features" and confound_correction != "none":
        raise ConfigError("confound_correction applies to the features model only")
    if method == "features":
        cols = feature_columns(cohort.feature_names, feature_set)
        fm = train_features(
            cohort.features[:, cols],
            cohort.labels,
            [cohort.feature_names[i] for i in cols],
            strata=period_strata(cohort) if confound_correction != "none" else None,
            confound_correction=confound_correction,
            seed=seed,
        )
        cfg["feature_set"] = feature_set
        if confound_correction != "none":
            cfg["confound_correction"] = confound_correction
        cfg.update(
            names=fm.names, mean=fm.mean.tolist(), std=fm.std.tolist(), weights=fm.weights.tolist()
        )
    else:
        from brim.learn import save_checkpoint

        cm = train_cnn(
            _cnn_inputs(cohort, cnn_input), cohort.labels, epochs=epochs, seed=seed,
            progress=progress,
        )  # fmt: skip
        cfg.update(attention=cm.attention, width=cm.width, factor=cm.factor, shape=list(cm.shape))
        if cnn_input != "map":
            cfg["input"] = cnn_input
        save_checkpoint(
            cm.net, out, config={"thermo": cfg, "train": cnn_config(epochs=epochs).to_dict()}
        )
    write_text(out / "model.json", json.dumps(cfg, indent=1))
    return out


def confound_report(
    cohort: Cohort,
    *,
    feature_sets: Sequence[str] = FEATURE_SETS,
    corrections: Sequence[str] = (),
    n_strata: int = 3,
    n_splits: int = 5,
    seed: int = 0,
    n_bootstrap: int = 500,
    permutation: bool = False,
):  # -> brim.evaluate.ConfoundAudit
    """Grouped-CV confound audit of the features models, by stratum of every nuisance.

    Each feature set's logistic model (and, with ``corrections``, the relative-features model
    trained with each confound correction against the period strata of :func:`period_strata`)
    and each nuisance alone (patient-id order, text format, room temperature; those with a
    single value in the cohort are left out) are
    cross-validated with the same patient-grouped folds by
    :func:`brim.evaluate.confound_audit`; every run's out-of-fold scores are then scored
    overall and *within* the strata of each nuisance (``n_strata`` quantile blocks of a numeric
    one). A model that learnt the period has a high overall but a chance-level within-period
    AUROC.

    Parameters
    ----------
    cohort : Cohort
        From :func:`load_cohort`, every thermogram labelled.
    feature_sets : sequence of {"relative", "static"}
        Feature sets to evaluate, each as ``features (<set>)``.
    corrections : sequence of {"match", "ipw"}
        Confound corrections to evaluate on the first feature set, each as
        ``features (<set>, <correction>)``.
    n_strata : int
        Strata of a numeric nuisance (for the patient-id order: acquisition periods).
    n_splits : int
        Patient-grouped folds.
    seed : int
        Seed of the folds, the matching and the bootstraps.
    n_bootstrap : int
        Bootstrap resamples of the intervals.
    permutation : bool
        Add the label-permutation run of the audit.

    Returns
    -------
    brim.evaluate.ConfoundAudit
        ``rows`` (nuisance-only baselines), ``strata`` (per nuisance, per run a
        :class:`brim.evaluate.strata.StratifiedAUROC`) and
        :meth:`~brim.evaluate.ConfoundAudit.stratified_table`.

    Raises
    ------
    ConfigError
        Unlabelled thermograms, an unknown feature set or correction.
    """
    from brim.evaluate import confound_audit

    y, g = cohort.labels, cohort.patients
    if np.any(y < 0):
        raise ConfigError("the cohort has unlabelled thermograms")
    nuisance = {  # a nuisance with one value (one room, one format) cannot be audited
        k: v for k, v in nuisances(cohort).items() if np.all(np.isfinite(v)) and np.ptp(v) > 0
    }
    models: dict[str, tuple[Any, Any]] = {}
    for fs in feature_sets:
        cols = feature_columns(cohort.feature_names, fs)
        models[f"features ({fs})"] = (features_fit_predict, cohort.features[:, cols])
    if corrections:
        fs = feature_sets[0] if feature_sets else "relative"
        X = cohort.features[:, feature_columns(cohort.feature_names, fs)]
        st = period_strata(cohort, n_strata=n_strata)
        for c in corrections:
            fp = corrected_fit_predict(correction=c, seed=seed)
            models[f"features ({fs}, {c})"] = (fp, (X, st))
    return confound_audit(
        nuisance,
        y,
        g,
        models=models,
        n_strata=n_strata,
        permutation=permutation,
        seed=seed,
        n_splits=n_splits,
        n_bootstrap=n_bootstrap,
    )


def stratified_evaluation(
    cohort: Cohort,
    *,
    feature_sets: Sequence[str] = FEATURE_SETS,
    n_strata: int = 3,
    n_splits: int = 5,
    seed: int = 0,
    n_bootstrap: int = 500,
) -> dict[str, Any]:
    """Grouped-CV AUROC of the features models and the nuisance baselines, by acquisition period.

    The period section of :func:`confound_report`: scores within strata of the patient-id
    order (a proxy of the acquisition period: ``n_strata`` quantile blocks).

    Parameters
    ----------
    cohort : Cohort
        From :func:`load_cohort`, every thermogram labelled.
    feature_sets : sequence of {"relative", "static"}
        Feature sets to evaluate.
    n_strata : int
        Period strata (quantile blocks of the patient-id order).
    n_splits : int
        Patient-grouped folds.
    seed : int
        Seed of the folds and the bootstraps.
    n_bootstrap : int
        Bootstrap resamples of the intervals.

    Returns
    -------
    dict of str -> StratifiedAUROC
        One entry per model (``features (relative)``, ``features (static)``) and per nuisance
        (``nuisance: <name>``).

    Raises
    ------
    ConfigError
        Unlabelled thermograms, an unknown feature set, or no period stratum with both classes.
    """
    audit = confound_report(
        cohort,
        feature_sets=feature_sets,
        n_strata=n_strata,
        n_splits=n_splits,
        seed=seed,
        n_bootstrap=n_bootstrap,
    )
    out = audit.strata["patient_id_order"]
    if any(v is None for v in out.values()):
        raise ConfigError("no acquisition period holds both classes: within-period AUROC undefined")
    return out


def load_model(model_dir: str | os.PathLike) -> FeatureModel | CNNModel:
    """Load a model saved by :func:`train`.

    Parameters
    ----------
    model_dir : path-like
        The folder :func:`train` wrote.

    Returns
    -------
    FeatureModel or CNNModel
        Both have ``predict``.
    """
    p = Path(model_dir)
    if not (p / "model.json").exists():
        raise MissingFileError(f"{p} holds no brim thermo model (model.json missing)")
    cfg = _read_model_json(p / "model.json")
    if cfg["method"] == "features":
        return FeatureModel(
            cfg["names"], np.array(cfg["mean"]), np.array(cfg["std"]), np.array(cfg["weights"])
        )
    from brim.learn import load_checkpoint

    net = load_checkpoint(p)
    return CNNModel(
        net, cfg["attention"], cfg["width"], cfg["factor"], tuple(cfg["shape"]),
        cfg.get("input", "map"),
    )  # fmt: skip


def _read_model_json(path: Path) -> dict:
    """``model.json`` of a saved thermo model, with every key :func:`load_model` uses checked.

    A truncated, hand-edited or foreign file gives a FormatError naming the file and the
    missing or malformed key (it was a JSONDecodeError or KeyError).
    """
    from brim.io import display_path, read_text

    name = display_path(path)
    try:
        cfg = json.loads(read_text(path, what="thermo model"))
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            f"the file is truncated or damaged: train the model again or restore it"
        ) from None
    except RecursionError:
        raise FormatError(f"{name}: JSON nested too deeply; not a brim thermo model") from None
    if not isinstance(cfg, dict):
        raise FormatError(f"{name}: holds a JSON {type(cfg).__name__}, not a brim thermo model")
    method = cfg.get("method")
    need = (
        None
        if not isinstance(method, str)
        else {"features": ("names", "mean", "std", "weights"), "cnn": _CNN_KEYS}.get(method)
    )
    if need is None:
        raise FormatError(f"{name}: unknown method {method!r} (expected 'features' or 'cnn')")
    missing = [k for k in need if k not in cfg]
    if missing:
        raise FormatError(
            f"{name}: missing key(s) {missing} of a {method} model (it needs {list(need)}); "
            f"the file is incomplete: train the model again or restore it"
        )

    def bad(key: str, why: str):
        raise FormatError(f"{name}: key {key!r} {why}; the file is damaged")

    if method == "features":
        names = cfg["names"]
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            bad("names", "must be a non-empty list of feature names")
        n = len(names)
        for key, size in (("mean", n), ("std", n), ("weights", n + 1)):
            v = cfg[key]
            if not isinstance(v, list) or any(
                isinstance(e, bool) or not isinstance(e, (int, float)) for e in v
            ):
                bad(key, "must be a list of numbers")
            if len(v) != size:
                bad(key, f"has {len(v)} values for {n} features (expected {size})")
            if not np.all(np.isfinite(np.asarray(v, float))):
                bad(key, "holds NaN or infinite values")
        if np.any(np.asarray(cfg["std"], float) <= 0):
            bad("std", "holds values <= 0 (feature scales are positive)")
    else:
        if not isinstance(cfg["attention"], bool):
            bad("attention", "must be true or false")
        if cfg.get("input", "map") not in CNN_INPUTS:
            bad("input", f"must be one of {list(CNN_INPUTS)}")
        for key in ("width", "factor"):
            v = cfg[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad(key, "must be a whole number >= 1")
        shape = cfg["shape"]
        if not (
            isinstance(shape, list)
            and len(shape) == 2
            and all(isinstance(e, int) and not isinstance(e, bool) and e >= 1 for e in shape)
        ):
            bad("shape", "must be two whole numbers >= 1 (the map height and width)")
    return cfg


_CNN_KEYS = ("attention", "width", "factor", "shape")


def predict_files(
    model_dir: str | os.PathLike,
    inputs: Sequence[str | os.PathLike],
    *,
    dynamic: str | os.PathLike | None = None,
) -> list[dict]:
    """Scores (probability of disease) of each input: rows ``file, patient, score``.

    Parameters
    ----------
    model_dir : path-like
        A model saved by :func:`train`.
    inputs : sequence of path-like
        Thermogram files.
    dynamic : path-like, optional
        Folder of dynamic-protocol sequences, for a model trained with recovery features
        (:func:`add_recovery_features`); patients without one (or every patient, when no
        folder is given) are scored as having no sequence.

    Returns
    -------
    list of dict
        One row per input.
    """
    model = load_model(model_dir)
    cohort = load_cohort([Path(f) for f in inputs], labels=None, factor=getattr(model, "factor", 8))
    if isinstance(model, FeatureModel):
        if HAS_SEQUENCE in model.names and HAS_SEQUENCE not in cohort.feature_names:
            cohort = add_recovery_features(cohort, {} if dynamic is None else dynamic)
        idx = [cohort.feature_names.index(n) for n in model.names]
        scores = model.predict(cohort.features[:, idx])
    else:
        maps = _cnn_inputs(cohort, model.input)
        if tuple(maps.shape[1:]) != tuple(model.shape):
            raise FormatError(
                f"images give {maps.shape[1:]} maps, the CNN was trained on {model.shape}"
            )
        scores = model.predict(maps)
    return [
        {"file": Path(f).name, "patient": m.get("patient", ""), "score": float(s)}
        for f, m, s in zip(cohort.files, cohort.meta, scores)
    ]


def scores_dataset(rows: list[dict]) -> xr.Dataset:
    """Prediction rows as a Dataset (dim ``file``).

    Parameters
    ----------
    rows : list of dict
        From :func:`predict_files`.

    Returns
    -------
    xarray.Dataset
        ``score`` (probability, units "1") on dim ``file``.
    """
    return xr.Dataset(
        {"score": ("file", [r["score"] for r in rows], {"units": "1"})},
        coords={"file": [r["file"] for r in rows]},
    )


def plot_grad_cam_overlays(
    model: CNNModel, maps: np.ndarray, path: str | os.PathLike, *, titles=None
) -> Path:
    """Save a figure of Grad-CAM overlays (inferno, alpha 0.45) on normalised maps (grey, K).

    Drawn on a :class:`matplotlib.figure.Figure` of its own, so the caller's matplotlib backend
    (e.g. a notebook's inline backend) is never switched.

    Parameters
    ----------
    model : CNNModel
        The trained CNN.
    maps : numpy.ndarray
        Normalised maps (n, h, w).
    path : path-like
        Image file written (PNG).
    titles : list of str, optional
        One title per map.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from matplotlib.figure import Figure

    cams = grad_cam(model, maps)
    scores = model.predict(maps)
    n = len(maps)
    fig = Figure(figsize=(3.2 * n, 2.8))
    axes = fig.subplots(1, n, squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(maps[i], cmap="gray")
        ax.imshow(cams[i], cmap="inferno", alpha=0.45, vmin=0, vmax=1)
        label = titles[i] if titles is not None else f"#{i}"
        ax.set_title(f"{label}: p={scores[i]:.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    return out


def write_report(
    evaluation: Evaluation,
    outdir: str | os.PathLike,
    *,
    cnn_model: CNNModel | None = None,
    n_cam: int = 4,
) -> Path:
    """Write the evaluation report: one :func:`brim.evaluate.report` folder per model (with the
    confound audit), Grad-CAM overlays when a CNN is given, and ``summary.md`` with the AUROC
    and confound tables.

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`evaluate_cohort`.
    outdir : path-like
        Report folder (created).
    cnn_model : CNNModel, optional
        A CNN whose Grad-CAM overlays are drawn.
    n_cam : int
        Number of overlays.

    Returns
    -------
    pathlib.Path
        The ``summary.md`` file.
    """
    from brim.evaluate import report

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# brim.thermo classification report",
        "",
        evaluation.table(),
        "",
        evaluation.confound_table(),
        "",
    ]
    for name, res in evaluation.results.items():
        html = report(res, out / name, audit=evaluation.audit, title=res.name)
        lines.append(f"- {res.name}: {html.relative_to(out)}")
    if cnn_model is not None:
        c = evaluation.cohort
        pick = np.r_[np.flatnonzero(c.labels == 1)[: n_cam // 2], np.flatnonzero(c.labels == 0)]
        pick = pick[:n_cam]
        titles = [f"{Path(c.files[i]).stem} ({'sick' if c.labels[i] else 'healthy'})" for i in pick]
        fig = plot_grad_cam_overlays(cnn_model, c.maps[pick], out / "grad_cam.png", titles=titles)
        lines.append(f"- Grad-CAM overlays: {fig.relative_to(out)}")
    return write_text(out / "summary.md", "\n".join(lines) + "\n")
