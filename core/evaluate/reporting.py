"""The evaluation report: an HTML page with PNG figures and a JSON file of every number."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from brim.errors import ConfigError

if TYPE_CHECKING:
    from brim.evaluate.confounds import ConfoundAudit
    from brim.evaluate.crossval import CVResult

__all__ = ["report"]


def _fmt(v, nd=3):
    if v is None:
        return "-"
    if isinstance(v, float | np.floating):
        return "n/a" if not np.isfinite(v) else f"{v:.{nd}f}"
    return html.escape(str(v))


def _table(header, rows):
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _subplots(figsize):
    """A figure without pyplot (no global state, no GUI backend involved)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _save(fig, path):
    """Write a report figure: tight layout, 100 dpi."""
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _fig_roc(result, path):
    p = result.pooled
    fig, ax = _subplots((4.5, 4.2))
    b = p.roc_band
    ax.fill_between(
        b["fpr"],
        b["low"],
        b["high"],
        step="post",
        alpha=0.25,
        label=f"{int(100 * p.auroc.level)}% group-bootstrap band",
    )
    ax.step(
        p.roc.fpr,
        p.roc.tpr,
        where="post",
        lw=2,
        label=f"AUROC {p.auroc.auroc:.3f} [{p.auroc.low:.3f}, {p.auroc.high:.3f}]",
    )
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.plot(1 - p.specificity, p.sensitivity, "o", color="C3", label="operating point")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"ROC ({result.protocol['unit']} level)")
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def _fig_calibration(result, path):
    c = result.pooled.calibration
    fig, ax = _subplots((4.5, 4.2))
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect")
    if c is not None:
        ax.plot(c.mean_predicted, c.observed, "o-", label=f"Brier {result.pooled.brier:.3f}")
        for xm, yo, n in zip(c.mean_predicted, c.observed, c.counts):
            ax.annotate(
                str(int(n)), (xm, yo), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    else:
        ax.text(0.5, 0.5, "scores are not probabilities:\nno calibration", ha="center")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed fraction positive")
    ax.set_title("Calibration")
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, path)


def _fig_confusion(result, path):
    m = result.pooled.confusion
    fig, ax = _subplots((3.8, 3.4))
    ax.imshow(m, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                str(int(m[i, j])),
                ha="center",
                va="center",
                color="white" if m[i, j] > m.max() / 2 else "black",
                fontsize=14,
            )
    ax.set_xticks([0, 1], ["pred. negative", "pred. positive"])
    ax.set_yticks([0, 1], ["negative", "positive"])
    ax.set_title("Confusion matrix (thresholds from validation)", fontsize=9)
    _save(fig, path)


def _fig_folds(result, path):
    f = result.folds
    fig, ax = _subplots((5, 3.2))
    k = np.arange(len(f))
    ax.bar(k - 0.2, [x.auroc for x in f], 0.4, label="AUROC")
    ax.bar(k + 0.2, [x.balanced_accuracy for x in f], 0.4, label="balanced accuracy")
    ax.axhline(0.5, color="k", ls=":", lw=1)
    ax.set_xticks(k, [str(x.fold) for x in f])
    ax.set_xlabel("outer fold")
    ax.set_ylim(0, 1.25)
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    ax.set_title("Per-fold test numbers")
    _save(fig, path)


def _fig_confounds(audit, path):
    rows = list(audit.rows)
    names = [r["name"] for r in rows]
    if audit.permutation is not None:
        rows.append({**audit.permutation, "name": "label permutation", "flagged": False})
        names.append("label permutation")
    fig, ax = _subplots((5, 0.5 + 0.45 * len(rows)))
    yk = np.arange(len(rows))
    a = np.array([r["auroc"] for r in rows])
    lo = np.array([r["low"] for r in rows])
    hi = np.array([r["high"] for r in rows])
    colors = ["C3" if r.get("flagged") else "C0" for r in rows]
    ax.errorbar(a, yk, xerr=[a - lo, hi - a], fmt="none", ecolor="gray")
    ax.scatter(a, yk, c=colors, zorder=3)
    ax.axvline(audit.flag_auroc, color="C3", ls="--", lw=1, label=f"flag > {audit.flag_auroc}")
    ax.axvline(0.5, color="k", ls=":", lw=1)
    ax.set_yticks(yk, names)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("AUROC of nuisance-only baseline")
    ax.legend(fontsize=8)
    _save(fig, path)


_CSS = """body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:3px 8px;
text-align:right}th{background:#eee}img{max-width:48%;margin:0.5%}.flag{color:#b00;font-weight:bold}
.note{color:#555;font-size:90%}"""


def report(
    result: CVResult,
    path: str | os.PathLike,
    *,
    audit: ConfoundAudit | None = None,
    title: str | None = None,
) -> Path:
    """Write an evaluation report into folder ``path``.

    Files: ``index.html`` (tables and figures), ``roc.png`` (ROC with group-bootstrap CI band),
    ``calibration.png``, ``confusion.png``, ``folds.png`` (per-fold numbers), ``confounds.png``
    (when an audit is given or attached as ``result.audit``), and ``results.json`` (every number:
    protocol, per-fold numbers, pooled metrics, per-unit scores, audit).

    Parameters
    ----------
    result : CVResult
        From :func:`brim.evaluate.cross_validate`.
    path : path-like
        Output folder (created).
    audit : ConfoundAudit, optional
        From :func:`brim.evaluate.confound_audit`.
    title : str, optional

    Returns
    -------
    pathlib.Path
        The HTML file.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import cross_validate, logistic_fit_predict, report
    >>> y = np.repeat([0, 1], 10)
    >>> X = np.random.default_rng(0).normal(size=(20, 2)) + 2 * y[:, None]
    >>> g = np.arange(20)
    >>> res = cross_validate(logistic_fit_predict, X, y, g, n_splits=4, n_bootstrap=50)
    >>> page = report(res, "report")
    >>> page.name, sorted(p.name for p in page.parent.glob("*.json"))
    ('index.html', ['results.json'])
    >>> sorted(p.name for p in page.parent.glob("*.png"))
    ['calibration.png', 'confusion.png', 'folds.png', 'roc.png']
    """
    if not hasattr(result, "pooled") or not hasattr(result, "folds"):
        raise ConfigError("report() takes a CVResult from brim.evaluate.cross_validate")
    if audit is not None and not (hasattr(audit, "rows") and hasattr(audit, "to_dict")):
        raise ConfigError(
            f"audit must be a ConfoundAudit from brim.evaluate.confound_audit, not "
            f"{type(audit).__name__}"
        )
    audit = audit if audit is not None else getattr(result, "audit", None)
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"report path {out} is a file; give a folder for the report")
    out.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    if audit is not None:
        data["confound_audit"] = audit.to_dict()
    figs = [
        ("roc.png", _fig_roc),
        ("calibration.png", _fig_calibration),
        ("confusion.png", _fig_confusion),
        ("folds.png", _fig_folds),
    ]
    for name, fn in figs:
        fn(result, out / name)
    if audit is not None:
        _fig_confounds(audit, out / "confounds.png")

    p = result.pooled
    a = p.auroc
    proto = result.protocol
    title = title or f"brim evaluation report: {result.name}"
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    parts.append(
        f"<p><b>AUROC {a.auroc:.3f}</b> (95% group-bootstrap CI {_fmt(a.low)} to {_fmt(a.high)}; "
        f"{a.n_pos} positive and {a.n_neg} negative {proto['unit']}s, {a.n_valid} valid "
        f"replicates).</p>"
    )
    parts.append(
        "<h2>Protocol</h2>" + _table(["setting", "value"], [(k, v) for k, v in proto.items()])
    )
    parts.append(
        "<h2>Pooled test metrics</h2>"
        + _table(
            ["metric", "value"],
            [
                ("sensitivity (fold thresholds)", p.sensitivity),
                ("specificity (fold thresholds)", p.specificity),
                ("balanced accuracy", p.balanced_accuracy),
                (f"PPV at prevalence {p.predictive.prevalence:.3g}", p.predictive.ppv),
                (f"NPV at prevalence {p.predictive.prevalence:.3g}", p.predictive.npv),
                (
                    f"sensitivity at specificity >= {proto['target_specificity']}",
                    p.sens_at_spec.sensitivity,
                ),
                (
                    f"specificity at sensitivity >= {proto['target_sensitivity']}",
                    p.spec_at_sens.specificity,
                ),
                ("Brier score", p.brier),
                ("negatives / positives", f"{p.counts['negative']} / {p.counts['positive']}"),
                ("confusion [[TN, FP], [FN, TP]]", str(p.confusion.tolist())),
            ],
        )
    )
    parts.append(
        "<p class='note'>Sensitivity at fixed specificity (and the reverse) are read off the "
        "pooled "
        "test ROC curve and are therefore optimistic; the fold thresholds above were fixed on "
        "validation data before each test fold was seen.</p>"
    )
    parts.append(
        "<h2>Per-fold numbers</h2>"
        + _table(
            [
                "fold",
                "n train",
                "n val",
                "n test",
                "test groups",
                "threshold",
                "AUROC",
                "sens",
                "spec",
                "bal. acc.",
            ],
            [
                (
                    f.fold,
                    f.n_train,
                    f.n_val,
                    f.n_test,
                    f.n_test_groups,
                    f.threshold,
                    f.auroc,
                    f.sensitivity,
                    f.specificity,
                    f.balanced_accuracy,
                )
                for f in result.folds
            ],
        )
    )
    if audit is not None:
        rows = [
            (r["name"], r["auroc"], r["low"], r["high"], "FLAGGED" if r["flagged"] else "ok")
            for r in audit.rows
        ]
        if audit.permutation is not None:
            q = audit.permutation
            rows.append(
                (
                    f"label permutation ({q['model']})",
                    q["auroc"],
                    q["low"],
                    q["high"],
                    "ok (near 0.5)" if q["ok"] else "NOT near 0.5: check for leakage",
                )
            )
        parts.append(
            f"<h2>Confound audit</h2><p>Nuisance-only baselines under the same "
            f"protocol; flagged when AUROC &gt; {audit.flag_auroc}.</p>"
            + _table(["baseline", "AUROC", "CI low", "CI high", "status"], rows)
        )
        if audit.flagged:
            parts.append(
                f"<p class='flag'>Flagged confounds: "
                f"{html.escape(', '.join(audit.flagged))}. The classifier's AUROC may "
                "owe to these rather than to the pathology.</p>"
            )
    parts.append("<h2>Figures</h2>")
    names = [n for n, _ in figs] + (["confounds.png"] if audit is not None else [])
    parts.extend(f"<img src='{n}' alt='{n[:-4]}'>" for n in names)
    parts.append("<p class='note'>Every number of this page is in results.json.</p></body></html>")
    from brim.io import write_text

    write_text(out / "results.json", json.dumps(data, indent=1, allow_nan=False))
    return write_text(out / "index.html", "".join(parts))
