"""The confound audit of issue 24 on the 40 DMR-IR development patients.

Usage::

    BRIM_EXTERNAL_DATA=../shared/data python benchmarks/thermo_confounds.py [--cnn] [--epochs 30]
        [--seed 0] [--threads 2]

Patient-grouped 5-fold cross-validation (``--seed``, default 0; 500 group-bootstrap
resamples) of the features models (relative features: plain, period-matched training,
inverse-probability weights; static features) and, with ``--cnn``, of the CNN on the
normalised map and on the left-right difference image, next to the nuisance-only baselines
(patient-id order = acquisition period, text format, room temperature). Every run is scored
overall and inside the strata of each nuisance (thirds of a numeric one):
:meth:`brim.evaluate.ConfoundAudit.stratified_table`. Only 13 of the 40 patients (5 sick) fall
in the middle third of the id order, the only period holding both classes, so every
within-period interval is wide.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    from brim.data import external_data
    from brim.evaluate import confound_audit
    from brim.thermo.classify import (
        _cnn_inputs,
        cnn_fit_predict,
        confound_report,
        corrected_fit_predict,
        feature_columns,
        features_fit_predict,
        load_cohort,
        nuisances,
        period_strata,
    )

    ap = argparse.ArgumentParser()
    ap.add_argument("--cnn", action="store_true", help="add the two CNNs (minutes on a CPU)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="seed of the folds, CNNs and bootstrap")
    args = ap.parse_args()
    root = external_data("thermo", required=True) / "dmr_ir_dev"
    t0 = time.perf_counter()
    cohort = load_cohort(root, labels=root / "id_diagnosis.csv")
    print(f"{len(cohort.files)} thermograms, {int(cohort.labels.sum())} sick "
          f"(loaded in {time.perf_counter() - t0:.0f} s)")  # fmt: skip
    if not args.cnn:
        audit = confound_report(
            cohort, corrections=("match", "ipw"), permutation=True, seed=args.seed
        )
    else:
        rel = cohort.features[:, feature_columns(cohort.feature_names)]
        st = period_strata(cohort)
        cnn = cnn_fit_predict(epochs=args.epochs, seed=args.seed, num_threads=args.threads)
        models = {
            "features (relative)": (features_fit_predict, rel),
            "features (relative, ipw)": (corrected_fit_predict(correction="ipw"), (rel, st)),
            "CNN (normalised map)": (cnn, cohort.maps),
            "CNN (difference image)": (cnn, _cnn_inputs(cohort, "difference")),
        }
        nu = {k: v for k, v in nuisances(cohort).items() if np.all(np.isfinite(v))}
        audit = confound_audit(nu, cohort.labels, cohort.patients, models=models,
                               permutation=False, n_splits=5, n_bootstrap=500,
                               seed=args.seed)  # fmt: skip
    print("\nNuisance-only baselines:")
    for r in audit.rows:
        print(f"  {r['name']:<26} {r['auroc']:.2f} [{r['low']:.2f}, {r['high']:.2f}]")
    if audit.permutation:
        p = audit.permutation
        print(f"  label permutation          {p['auroc']:.2f} [{p['low']:.2f}, {p['high']:.2f}]")
    print()
    print(audit.stratified_table())
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
