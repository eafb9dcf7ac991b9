"""One table of the radar beamformers on the four real MERIT phantoms (issue 20).

B0_P3, B0_P5 (homogeneous BRIGID phantom) and B10E_P3, B10E_P5 (heterogeneous) x DAS, DMAS,
CF-DAS and the diagonally loaded Capon beamformer, with ONE set of defaults for all four:
rotation subtraction (p000 - p036), the effective permittivity estimated from each scan by image
focus (``estimate_propagation``, antenna delay 0: MERIT gives geometric antenna positions and no
reference measurement), a 7 cm hemisphere at 2.5 mm (Capon at 5 mm). Prints a Markdown table
with SCR, SMR, FWHM and the localisation error against the published tumour centres.

``--explore`` instead prints the DAS localisation errors (mm) of the alternatives tried against
the defaults (issue 20; the numbers in ``docs/guide/microwave_radar.md``): other focus criteria
for eps_r, the best single (eps_r, antenna delay) chosen with the answer (a bound for that model
family), a relative delay of the lowest antenna ring, a rigid z shift of the antennas, a
late-time gate and frequency compounding (about 5 minutes on 2 cores).

Usage::

    BRIM_EXTERNAL_DATA=/path/to/data python scripts/radar_merit_table.py [--methods das,dmas]
        [--json out.json] [--explore]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

PHANTOMS = ("B0_P3", "B0_P5", "B10E_P3", "B10E_P5")


def load_cases(merit, phantoms=PHANTOMS):
    """``name -> (rotation-subtracted scan, tumour centre (m))`` of the MERIT phantoms."""
    from brim.microwave import readers
    from brim.microwave.radar import calibration
    from brim.microwave.radar.comparison import MERIT_TARGETS

    cases = {}
    for name in phantoms:
        scan = readers.read_merit(merit / f"{name}_p000.csv", reference=merit / f"{name}_p036.csv")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # residual-energy notes of rotation subtraction
            cal = calibration.rotation_subtraction(scan)
        cases[name] = (cal.drop_vars("s_reference"), MERIT_TARGETS[name[-2:]])
    return cases


def _errors(cases, image, label, rows):
    """Append ``{variant, phantom: error mm}``: ``image(scan) -> (DAS values, points)``."""
    import numpy as np

    row = {"variant": label}
    for name, (scan, target) in cases.items():
        v, pts = image(scan)
        row[name] = round(1e3 * float(np.linalg.norm(pts[np.nanargmax(v)] - target)), 1)
    rows.append(row)
    print(row, file=sys.stderr, flush=True)


def explore(cases):
    """The alternatives of issue 20, each measured on every phantom with one setting."""
    import numpy as np

    from brim.microwave.radar import beamform, hemisphere_grid, homogeneous_delays
    from brim.microwave.radar.calibration import time_gate
    from brim.microwave.radar.propagation import (
        EPS_RANGE,
        energy_concentration,
        estimate_propagation,
    )

    grid, coarse = hemisphere_grid(0.07, 2.5e-3), hemisphere_grid(0.07, 5e-3)
    pts = grid.points

    def das(scan, eps, on=grid):
        return beamform(scan, grid=on, methods=["das"], eps_r=float(eps)).das.values[on.mask]

    def delayed(scan, delay):
        return scan.assign({"antenna_delay": ("antenna", np.broadcast_to(delay, (24,)).copy())})

    def default(scan):
        return das(scan, estimate_propagation(scan).eps_r), pts

    rows: list = []
    _errors(cases, default, "defaults (peak criterion, delay 0)", rows)
    eps_grid = np.geomspace(*EPS_RANGE, 35)

    def entropy(v):
        p = v / v.sum()
        return -float((p * np.log(p + 1e-300)).sum())

    criteria = {
        "peak-to-mean ratio": lambda v: v.max() / v.mean(),
        "energy concentration (1 %)": energy_concentration,
        "minimum entropy": lambda v: -entropy(v),
    }
    for label, crit in criteria.items():

        def by_criterion(scan, crit=crit):
            best = max(eps_grid, key=lambda e: crit(das(scan, e, coarse)))
            return das(scan, best), pts

        _errors(cases, by_criterion, f"eps_r by {label}", rows)
    # the best single (eps_r, delay) for all four, chosen WITH the answer: a bound
    eps_b, delays = np.round(np.geomspace(4, 14, 12), 2), np.arange(-100e-12, 201e-12, 50e-12)
    err = np.zeros((len(cases), eps_b.size, delays.size))
    for k, (scan, target) in enumerate(cases.values()):
        for j, d in enumerate(delays):
            for i, e in enumerate(eps_b):
                v = das(delayed(scan, d), e)
                err[k, i, j] = 1e3 * np.linalg.norm(pts[np.argmax(v)] - target)
    i, j = np.unravel_index(np.argmin(err.max(axis=0)), err.shape[1:])
    rows.append(
        {"variant": f"oracle: best single eps_r {eps_b[i]}, delay {delays[j] * 1e12:.0f} ps"}
        | {n: round(float(e), 1) for n, e in zip(cases, err[:, i, j], strict=True)}
    )
    for d1 in (-100e-12, -50e-12, 50e-12):

        def ring1(scan, d1=d1):
            s = delayed(scan, np.where(scan["antenna_z"].values < 0.02, d1, 0.0))
            return das(s, estimate_propagation(s).eps_r), pts

        _errors(cases, ring1, f"lowest ring delayed {d1 * 1e12:+.0f} ps (eps_r re-estimated)", rows)

    def z_shift(scan):
        s = scan.assign_coords(antenna_z=scan["antenna_z"] + 5e-3)
        return das(s, estimate_propagation(s).eps_r), pts

    _errors(cases, z_shift, "antennas moved +5 mm in z", rows)

    def late_gate(scan):
        eps = estimate_propagation(scan).eps_r
        pos = np.column_stack([scan[f"antenna_{k}"].values for k in "xyz"])
        t = homogeneous_delays(pts, pos, eps)
        t_max = float((t[:, scan["tx"].values] + t[:, scan["rx"].values]).max())
        return das(time_gate(scan, 0.0, t_max + 0.5e-9), eps), pts

    _errors(cases, late_gate, "late-time gate (longest round trip + 0.5 ns)", rows)
    for n_bands in (2, 3, 4):

        def compound(scan, n_bands=n_bands):
            eps = estimate_propagation(scan).eps_r
            edges = np.linspace(0, scan.sizes["freq"], n_bands + 1).astype(int)
            bands = [das(scan.isel(freq=slice(a, b)), eps) for a, b in zip(edges, edges[1:])]
            return sum(v / v.max() for v in bands), pts

        _errors(cases, compound, f"frequency compounding, {n_bands} bands", rows)
    return rows


def main(argv=None) -> int:
    from brim.data import external_data
    from brim.microwave.radar.comparison import compare_beamformers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="das,dmas,cf-das,capon")
    ap.add_argument("--json", help="also write the rows as JSON")
    ap.add_argument("--explore", action="store_true", help="the alternatives tried (DAS errors)")
    args = ap.parse_args(argv)
    merit = external_data("microwave/merit")
    if merit is None:
        print("set BRIM_EXTERNAL_DATA (the MERIT scans are in microwave/merit)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    if args.explore:
        import pandas as pd

        table = pd.DataFrame(explore(load_cases(merit)))
    else:
        table, _ = compare_beamformers(load_cases(merit), methods=args.methods.split(","))
    print(table.to_markdown(index=False))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table.to_dict(orient="records"), fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
