"""One table of the radar beamformers on the four real MERIT phantoms (issue 20).

B0_P3, B0_P5 (homogeneous BRIGID phantom) and B10E_P3, B10E_P5 (heterogeneous) x DAS, DMAS,
CF-DAS and the diagonally loaded Capon beamformer, with ONE set of defaults for all four:
rotation subtraction (p000 - p036), the effective permittivity estimated from each scan by image
focus (``estimate_propagation``, antenna delay 0: MERIT gives geometric antenna positions and no
reference measurement), a 7 cm hemisphere at 2.5 mm (Capon at 5 mm). Prints a Markdown table
with SCR, SMR, FWHM and the localisation error against the published tumour centres.

Usage::

    BRIM_EXTERNAL_DATA=/path/to/data python scripts/radar_merit_table.py [--methods das,dmas]
        [--json out.json]
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


def main(argv=None) -> int:
    from brim.data import external_data
    from brim.microwave.radar.comparison import compare_beamformers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="das,dmas,cf-das,capon")
    ap.add_argument("--json", help="also write the rows as JSON")
    args = ap.parse_args(argv)
    merit = external_data("microwave/merit")
    if merit is None:
        print("set BRIM_EXTERNAL_DATA (the MERIT scans are in microwave/merit)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    table, _ = compare_beamformers(load_cases(merit), methods=args.methods.split(","))
    print(table.to_markdown(index=False))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table.to_dict(orient="records"), fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
