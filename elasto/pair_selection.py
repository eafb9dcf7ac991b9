"""Frame-pair selection for free-hand strain imaging: which two frames make a good strain image?

In a free-hand sequence the probe moves in every direction and compresses unevenly; most frame
pairs give noisy strain. Each candidate pair ``(i, j)`` (``1 <= j - i <= max_gap``) is scored
here by the quantities of Jiang, Hall & Sommer (2006):

* **motion-compensated correlation**: the median normalised cross-correlation of the RF windows
  at the estimated displacement (out-of-plane and lateral motion lower it);
* **strain consistency**: the correlation between the strain image of ``(i, j)`` and that of the
  neighbouring pair ``(i + 1, j + 1)`` (or ``(i - 1, j - 1)`` at the end of the sequence) — a
  real stiffness pattern persists from pair to pair, noise does not; a pair with neither
  neighbour (first frame to last) is given the median consistency of the others;
* **compression in range**: the mean axial strain must lie in ``strain_range`` (too little and
  the strain is lost in noise; too much and the speckle decorrelates).

The score is the product ``correlation x consistency`` for pairs whose compression is in
range, 0 otherwise; :func:`select_frame_pairs` returns the best non-overlapping pairs.

References
----------
Jiang J, Hall TJ, Sommer AM (2006). A novel performance descriptor for ultrasonic strain
imaging: a preliminary study. IEEE Trans Ultrason Ferroelectr Freq Control 53(6):1088-1102.

Varghese T, Ophir J (1997). A theoretical framework for performance characterization of
elastography: the strain filter. IEEE Trans Ultrason Ferroelectr Freq Control 44(1):164-172.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import ConfigError, SchemaError

__all__ = ["best_pairs", "score_frame_pairs", "select_frame_pairs"]


def _frames(seq: xr.Dataset) -> int:
    if not isinstance(seq, xr.Dataset) or "rf" not in seq:
        raise SchemaError("a frame sequence is an rf_frames Dataset with an 'rf' variable")
    if "frame" not in seq["rf"].dims or seq.sizes["frame"] < 2:
        raise ConfigError("frame-pair selection needs an 'rf' sequence with at least 2 frames")
    return int(seq.sizes["frame"])


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    m = np.isfinite(a) & np.isfinite(b)
    if m.sum() < 3:
        return float("nan")
    x, y = a[m] - a[m].mean(), b[m] - b[m].mean()
    d = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / d) if d > 0 else float("nan")


@provenance.step
def score_frame_pairs(
    seq: xr.Dataset,
    *,
    max_gap: int = 3,
    strain_range: Sequence[float] = (0.002, 0.03),
    kernel: int = 9,
    method: str = "ncc",
    progress: bool = False,
) -> xr.Dataset:
    """Score every frame pair of a sequence for strain imaging.

    Parameters
    ----------
    seq : xarray.Dataset
        ``rf_frames`` with ``rf`` on (frame, depth, line) and its acquisition parameters.
    max_gap : int
        Largest frame distance ``j - i`` considered.
    strain_range : (float, float)
        Accepted range of the mean absolute axial strain (fraction, e.g. 0.002 = 0.2 %).
    kernel : int
        Least-squares strain kernel (:func:`brim.elasto.strain_image`).
    method : {"ncc", "phase", "dp"}
        Displacement estimator (:func:`brim.elasto.estimate_displacement`).
    progress : bool
        Show a progress bar (tqdm).

    Returns
    -------
    xarray.Dataset
        On dim ``pair``: ``pre`` and ``post`` (frame indices), ``correlation`` (median NCC),
        ``mean_strain`` (mean axial strain, signed), ``consistency`` (NCC of the pair's strain
        image with its neighbour's; NaN without a neighbour, scored as the median of the
        others), ``in_range`` (bool) and ``score``; sorted best first.

    Raises
    ------
    SchemaError
        Not an ``rf_frames`` Dataset.
    ConfigError
        Fewer than two frames, ``max_gap`` below 1 or a bad ``strain_range``.

    Examples
    --------
    >>> import brim.data
    >>> from brim.elasto.pair_selection import score_frame_pairs
    >>> seq = brim.data.sample("elasto_phantom_pair")  # two frames: one candidate pair
    >>> s = score_frame_pairs(seq)
    >>> int(s.pre[0]), int(s.post[0]), bool(s.in_range[0])
    (0, 1, True)
    """
    from brim.elasto.displacement import estimate_displacement
    from brim.elasto.strain import strain_image

    n = _frames(seq)
    if int(max_gap) < 1:
        raise ConfigError(f"max_gap must be at least 1, got {max_gap}")
    lo, hi = (float(v) for v in strain_range)
    if not 0 <= lo < hi:
        raise ConfigError(
            f"strain_range must be (low, high) with 0 <= low < high, got {strain_range}"
        )
    pairs = [(i, j) for i in range(n) for j in range(i + 1, min(i + int(max_gap), n - 1) + 1)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pairs), desc="frame pairs", unit="pair")
    strain: dict[tuple[int, int], np.ndarray] = {}
    corr, mean = {}, {}
    edge = kernel // 2
    import warnings

    for i, j in pairs:
        disp = estimate_displacement(seq, method=method, frames=(i, j))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unreliable-strain warnings: the score says it
            s = strain_image(disp, kernel=kernel)["strain"].values
        core = s[edge : s.shape[0] - edge] if s.shape[0] > 2 * edge + 2 else s
        strain[(i, j)] = core
        corr[(i, j)] = float(np.nanmedian(disp["correlation"].values))
        mean[(i, j)] = float(np.nanmean(core))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    rows = []
    cons_of = {}
    for i, j in pairs:
        nb = (i + 1, j + 1) if (i + 1, j + 1) in strain else (i - 1, j - 1)
        cons_of[(i, j)] = _ncc(strain[(i, j)], strain[nb]) if nb in strain else float("nan")
    finite = [c for c in cons_of.values() if np.isfinite(c)]
    # a pair without a neighbour (first to last frame) gets the median consistency, not a
    # perfect one: otherwise it wins by default over every pair that could be checked
    neutral = float(np.median(finite)) if finite else 1.0
    for i, j in pairs:
        cons = cons_of[(i, j)]
        in_range = lo <= abs(mean[(i, j)]) <= hi
        quality = corr[(i, j)] * max(neutral if np.isnan(cons) else cons, 0.0)
        rows.append((i, j, corr[(i, j)], mean[(i, j)], cons, in_range, quality * in_range))
    rows.sort(key=lambda r: -r[-1])
    cols = list(zip(*rows, strict=True))
    return xr.Dataset(
        {
            "pre": ("pair", np.asarray(cols[0], np.int64)),
            "post": ("pair", np.asarray(cols[1], np.int64)),
            "correlation": ("pair", np.asarray(cols[2]), {"units": "1"}),
            "mean_strain": ("pair", np.asarray(cols[3]), {"units": "1"}),
            "consistency": ("pair", np.asarray(cols[4]), {"units": "1"}),
            "in_range": ("pair", np.asarray(cols[5], bool)),
            "score": ("pair", np.asarray(cols[6]), {"units": "1"}),
        },
        attrs={"strain_range": [lo, hi], "max_gap": int(max_gap), "method": method},
    )


def select_frame_pairs(
    seq: xr.Dataset, *, n_pairs: int = 1, max_gap: int = 3, **kwargs
) -> list[tuple[int, int]]:
    """The best frame pairs of a sequence, sharing no frame, best first: :func:`best_pairs` of
    the :func:`score_frame_pairs` table.

    Parameters
    ----------
    seq : xarray.Dataset
        ``rf_frames`` with ``rf`` on (frame, depth, line).
    n_pairs : int
        As in :func:`best_pairs`; checked before any pair is scored.
    max_gap : int
        Largest frame distance considered.
    **kwargs
        Passed to :func:`score_frame_pairs` (``strain_range``, ``kernel``, ``method``,
        ``progress``).

    Returns
    -------
    list of (int, int)
        ``(pre, post)`` frame indices, as :func:`best_pairs` returns them.

    Raises
    ------
    SchemaError, ConfigError
        As :func:`score_frame_pairs` (bad sequence or options) and :func:`best_pairs`
        (``n_pairs`` below 1, or no pair with its compression in range).

    Examples
    --------
    >>> import brim.data
    >>> from brim.elasto.pair_selection import select_frame_pairs
    >>> select_frame_pairs(brim.data.sample("elasto_phantom_pair"))
    [(0, 1)]
    """
    if int(n_pairs) < 1:
        raise ConfigError(f"n_pairs must be at least 1, got {n_pairs}")
    return best_pairs(score_frame_pairs(seq, max_gap=max_gap, **kwargs), n_pairs=n_pairs)


def best_pairs(scores: xr.Dataset, *, n_pairs: int = 1) -> list[tuple[int, int]]:
    """The best pairs of a :func:`score_frame_pairs` table that share no frame, best first.

    Parameters
    ----------
    scores : xarray.Dataset
        From :func:`score_frame_pairs` (sorted best first).
    n_pairs : int
        How many pairs to return at most (pairs scoring 0 are never returned).

    Returns
    -------
    list of (int, int)
        ``(pre, post)`` frame indices.

    Raises
    ------
    ConfigError
        ``n_pairs`` below 1, or no pair with its compression in range.

    Examples
    --------
    >>> import brim.data
    >>> from brim.elasto.pair_selection import best_pairs, score_frame_pairs
    >>> best_pairs(score_frame_pairs(brim.data.sample("elasto_phantom_pair")))
    [(0, 1)]
    """
    if int(n_pairs) < 1:
        raise ConfigError(f"n_pairs must be at least 1, got {n_pairs}")
    used: set[int] = set()
    out: list[tuple[int, int]] = []
    for i, j, s in zip(scores["pre"].values, scores["post"].values, scores["score"].values,
                       strict=True):  # fmt: skip
        if s <= 0 or i in used or j in used:
            continue
        out.append((int(i), int(j)))
        used |= {int(i), int(j)}
        if len(out) == int(n_pairs):
            break
    if not out:
        raise ConfigError(
            "no frame pair has its mean strain in strain_range "
            f"{tuple(scores.attrs['strain_range'])}: widen it or check the sequence"
        )
    return out
