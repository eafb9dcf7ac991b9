"""What can a thermal camera see? Tumour detectability by bilateral asymmetry on Pennes phantoms.

For every combination of tumour diameter, tumour depth and camera NETD, the study estimates the
probability that a bilateral-asymmetry feature flags a breast with a tumour at a fixed
false-positive rate, the rate being set on healthy subjects of the same random anatomy. It
answers the device engineer's question "with this camera, which tumours could asymmetry find
at all?" under stated physics, not a clinical sensitivity.

Design (paired, so the tumour's own effect is isolated from anatomy):

1. ``n_healthy`` random subjects (:func:`brim.thermo.phantom.random_spec`: breast sizes
   differing by up to ±6 % between sides, fat layer, 2–4 superficial veins per breast, gland
   heterogeneity; Pennes bioheat, Pennes 1948) are solved at a fixed room temperature and
   rendered noiselessly (:func:`brim.thermo.camera.render_thermogram`).
2. Subjects ``0 .. n_subjects - 1`` of the same anatomy get one spherical tumour of each
   diameter and centre depth below the skin, on a random side and direction, with Gautherie's
   metabolic heat for its diameter (Gautherie 1980) and no extra veins (the conservative case:
   tumour heat alone).
3. For each NETD, camera noise (white, Gaussian, of standard deviation NETD per pixel on the
   apparent temperature: the noise model of ``render_thermogram``) is added to every image and
   the asymmetry features of :func:`brim.thermo.features.extract_features` are computed inside
   the true breast masks (mirrored about the image centre, where the phantoms are symmetric).
4. The threshold of each feature is its ``1 - false_positive_rate`` quantile over the healthy
   subjects; a tumour is detected when its image's feature exceeds it. The detection
   probability carries a Wilson 95 % interval (Wilson 1927).

Tumours whose sphere would reach the skin (centre depth below the radius plus the skin
layer plus 1 mm) are not simulated: their cells are NaN.

References
----------
Pennes HH (1948). Analysis of tissue and arterial blood temperatures in the resting human
forearm. J Appl Physiol 1(2):93-122.

Gautherie M (1980). Thermopathology of breast cancer: measurement and analysis of in vivo
temperature and blood flow. Ann NY Acad Sci 335:383-415.

Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
J Am Stat Assoc 22(158):209-212.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import xarray as xr
from scipy import stats

from brim import provenance
from brim.errors import ConfigError
from brim.thermo.segmentation import segmentation_from_masks

__all__ = ["ASYMMETRY_FEATURES", "detectability_study"]

#: The bilateral-asymmetry features the study scores (units: ``FEATURE_UNITS`` of features).
ASYMMETRY_FEATURES = ("abs_delta_mean", "asym_abs_mean", "asym_abs_p95", "abs_delta_max")

_SKIN_CLEARANCE = 1e-3  # m between the tumour sphere and the skin layer


def _features(img, seg, temperature, names):
    from brim.thermo.features import extract_features

    noisy = img.copy()
    noisy["temperature"] = (("y", "x"), temperature)
    f = extract_features(noisy, seg)
    return [f[n] for n in names]


def _render(spec, *, seed, t_ambient, h):
    from brim.thermo.camera import render_thermogram
    from brim.thermo.phantom import build_phantom
    from brim.thermo.simulate import solve_phantom

    vol = solve_phantom(build_phantom(spec=spec, seed=seed), t_ambient=t_ambient, h=h)
    return render_thermogram(vol, netd=0.0, seed=0)


def _wilson(k, n, level=0.95):
    if n == 0:
        return np.nan, np.nan
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


@provenance.step
def detectability_study(
    *,
    diameters: Sequence[float] = (0.010, 0.015, 0.020, 0.030),
    depths: Sequence[float] = (0.010, 0.020, 0.030),
    netds: Sequence[float] = (0.02, 0.05, 0.10, 0.20, 0.50, 1.00),
    n_subjects: int = 12,
    n_healthy: int = 24,
    false_positive_rate: float = 0.10,
    features: Sequence[str] = ASYMMETRY_FEATURES,
    t_ambient: float = 21.0,
    h: float = 10.0,
    voxel: float = 3e-3,
    seed: int = 0,
    progress: bool = False,
) -> xr.Dataset:
    """Probability that bilateral asymmetry detects a tumour, by diameter, depth and NETD.

    See the module documentation for the design. The cost is one Pennes solve and one
    rendering per subject and tumour (about 1 s each at the default 3 mm voxels), plus one
    feature extraction per image and NETD: the default grid takes a few minutes on 2 cores.

    Parameters
    ----------
    diameters : sequence of float
        Tumour diameters, m.
    depths : sequence of float
        Depths of the tumour centre below the skin surface, m.
    netds : sequence of float
        Camera noise-equivalent temperature differences, K (> 0).
    n_subjects : int
        Subjects with a tumour per (diameter, depth) cell.
    n_healthy : int
        Healthy subjects that set each feature's threshold (at least ``2 / false_positive_rate``).
    false_positive_rate : float
        Fraction of healthy subjects flagged, in (0, 0.5].
    features : sequence of str
        Feature names of :func:`brim.thermo.features.extract_features` to score.
    t_ambient : float
        Room temperature, degC.
    h : float
        Heat-transfer coefficient at the skin, W/m^2/K.
    voxel : float
        Voxel size of the bioheat grid, m.
    seed : int
        Seeds the anatomy, the tumour directions and the camera noise.
    progress : bool
        Show a progress bar (tqdm).

    Returns
    -------
    xarray.Dataset
        ``detection_probability``, ``low``, ``high`` (Wilson 95 % CI) on (feature, netd,
        diameter, depth), NaN where the tumour would reach the skin; ``threshold`` (feature,
        netd) in the feature's unit; ``false_positive_rate_observed`` (feature, netd) on the
        healthy subjects; coords ``diameter`` and ``depth`` in m, ``netd`` in K; attributes
        with the design (``n_subjects``, ``n_healthy``, ``false_positive_rate``).

    Raises
    ------
    ConfigError
        Empty grids, non-positive sizes or NETDs, a false-positive rate outside (0, 0.5], too
        few healthy subjects for it, or an unknown feature.

    Examples
    --------
    >>> from brim.thermo.detectability import detectability_study
    >>> res = detectability_study(diameters=[0.03], depths=[0.02], netds=[0.05],
    ...                           n_subjects=2, n_healthy=4, false_positive_rate=0.5,
    ...                           features=["abs_delta_mean"])  # doctest: +SKIP
    >>> float(res["detection_probability"].squeeze())  # doctest: +SKIP
    1.0
    """
    from brim.thermo.features import FEATURE_UNITS
    from brim.thermo.phantom import TumourSpec, random_spec

    diam = np.asarray(diameters, np.float64).ravel()
    dep = np.asarray(depths, np.float64).ravel()
    nd = np.asarray(netds, np.float64).ravel()
    features = [str(f) for f in features]
    if not (diam.size and dep.size and nd.size and features):
        raise ConfigError("diameters, depths, netds and features must not be empty")
    if np.any(~(diam > 0)) or np.any(~(dep > 0)) or np.any(~(nd > 0)):
        raise ConfigError("diameters and depths (m) and netds (K) must be positive")
    if not 0 < false_positive_rate <= 0.5:
        raise ConfigError(f"false_positive_rate must be in (0, 0.5], got {false_positive_rate}")
    if n_subjects < 1 or n_healthy * false_positive_rate < 2:
        raise ConfigError(
            f"need n_subjects >= 1 and n_healthy >= {int(np.ceil(2 / false_positive_rate))} "
            f"for a false-positive rate of {false_positive_rate} (got {n_subjects}, {n_healthy})"
        )
    unknown = [f for f in features if f not in FEATURE_UNITS]
    if unknown:
        raise ConfigError(f"unknown features {unknown}; known: {sorted(FEATURE_UNITS)}")

    root = np.random.default_rng(seed)
    n_anat = max(n_subjects, n_healthy)
    anatomy_seeds = root.integers(2**31, size=n_anat)
    specs, field_seeds = [], []
    for s in anatomy_seeds:
        rng = np.random.default_rng(int(s))
        specs.append(random_spec(rng, tumour=False, voxel=voxel))
        field_seeds.append(int(rng.integers(2**31)))
    noise_root = np.random.SeedSequence(int(root.integers(2**31)))

    cells = [(i, j) for i in range(diam.size) for j in range(dep.size)]
    feasible = {
        (i, j): dep[j] >= diam[i] / 2 + specs[0].skin_thickness + _SKIN_CLEARANCE for i, j in cells
    }
    Job = tuple[str, int, tuple[int, int] | None]  # (kind, subject, (diameter, depth) cell)
    jobs: list[Job] = [("healthy", k, None) for k in range(n_healthy)]
    for i, j in cells:
        if feasible[(i, j)]:
            jobs += [("tumour", k, (i, j)) for k in range(n_subjects)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="detectability", unit="subject")

    values: dict[Job, np.ndarray] = {}  # job -> array (netd, feature)
    for kind, k, cell in jobs:
        spec = specs[k]
        if cell is not None:
            rng = np.random.default_rng([int(anatomy_seeds[k]), *cell])
            spec = replace(
                spec,
                tumour=TumourSpec(
                    side="left" if rng.random() < 0.5 else "right",
                    diameter=float(diam[cell[0]]),
                    depth=float(dep[cell[1]]),
                    polar=float(rng.uniform(0.0, 0.7)),
                    azimuth=float(rng.uniform(0.0, 2 * np.pi)),
                ),
            )
        img = _render(spec, seed=field_seeds[k], t_ambient=t_ambient, h=h)
        seg = segmentation_from_masks(img)
        t0 = img["temperature"].values
        noise = np.random.default_rng(noise_root.spawn(1)[0]).standard_normal(t0.shape)
        values[(kind, k, cell)] = np.array(
            [_features(img, seg, t0 + netd * noise, features) for netd in nd]
        )
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()

    healthy = np.stack([values[("healthy", k, None)] for k in range(n_healthy)])  # (n, netd, f)
    threshold = np.quantile(healthy, 1.0 - false_positive_rate, axis=0)  # (netd, feature)
    fpr = (healthy > threshold).mean(axis=0)
    shape = (len(features), nd.size, diam.size, dep.size)
    prob, low, high = (np.full(shape, np.nan) for _ in range(3))
    for i, j in cells:
        if not feasible[(i, j)]:
            continue
        v = np.stack([values[("tumour", k, (i, j))] for k in range(n_subjects)])
        hits = (v > threshold).sum(axis=0)  # (netd, feature)
        for a in range(nd.size):
            for b in range(len(features)):
                prob[b, a, i, j] = hits[a, b] / n_subjects
                low[b, a, i, j], high[b, a, i, j] = _wilson(hits[a, b], n_subjects)
    dims = ("feature", "netd", "diameter", "depth")
    coords = {
        "feature": ("feature", features),
        "netd": ("netd", nd, {"units": "K", "long_name": "camera NETD"}),
        "diameter": ("diameter", diam, {"units": "m", "long_name": "tumour diameter"}),
        "depth": ("depth", dep, {"units": "m", "long_name": "tumour centre depth"}),
    }
    return xr.Dataset(
        {
            "detection_probability": (dims, prob, {"units": "1"}),
            "low": (dims, low, {"units": "1", "long_name": "Wilson 95 % lower bound"}),
            "high": (dims, high, {"units": "1", "long_name": "Wilson 95 % upper bound"}),
            "threshold": (("feature", "netd"), threshold.T, {"units": "feature unit"}),
            "false_positive_rate_observed": (("feature", "netd"), fpr.T, {"units": "1"}),
        },
        coords=coords,
        attrs={
            "n_subjects": int(n_subjects),
            "n_healthy": int(n_healthy),
            "false_positive_rate": float(false_positive_rate),
            "t_ambient_degC": float(t_ambient),
            "h_W_m2_K": float(h),
            "voxel_m": float(voxel),
            "design": "paired random anatomy; tumour heat only (Gautherie), no extra veins",
        },
    )
