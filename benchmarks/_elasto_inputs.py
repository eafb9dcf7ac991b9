"""RF pairs shared by the elastography benchmarks (run as ``python benchmarks/X.py``, so this
folder is on ``sys.path``)."""

from __future__ import annotations

#: Geometry of the simulated 2304 x 384 pair: 38.4 x 45 mm, 40 MHz sampling, 6.7 MHz centre
#: frequency, a 48 x 56 element FE mesh (keyword arguments of
#: :func:`brim.elasto.rfsim.simulate_pair` and :func:`brim.elasto.glue.simulate_decorrelated_pair`).
LARGE_PAIR = {
    "width": 38.4e-3,
    "height": 45e-3,
    "n_samples": 2304,
    "n_lines": 384,
    "sampling_frequency": 40e6,
    "center_frequency": 6.7e6,
    "fe_elements": (48, 56),
}


def fieldii_pair():
    """The Field II pair of Rivaz's DP code (1041 x 250, 1 % compression), or None without
    ``$BRIM_EXTERNAL_DATA/elasto/fieldii_dp``."""
    import numpy as np

    from brim.data import external_data
    from brim.elasto.readers import make_rf_frames, read_rf

    d = external_data("elasto/fieldii_dp/Data")
    if d is None:
        return None
    kw = dict(sampling_frequency=40e6, center_frequency=6.7e6, pitch=0.2e-3)
    a, b = read_rf(d / "Im0.mat", **kw), read_rf(d / "Im1.mat", **kw)
    return make_rf_frames(np.concatenate([a["rf"].values, b["rf"].values]), **kw)
