"""Frame-pair selection for free-hand sequences (issue 22): clean pairs win, decorrelated lose."""

import numpy as np
import pytest

from brim.elasto.glue import simulate_decorrelated_pair
from brim.elasto.pair_selection import score_frame_pairs, select_frame_pairs
from brim.errors import ConfigError, SchemaError

DECORRELATED = {3}  # a frame whose speckle is only 40 % correlated with the rest


@pytest.fixture(scope="module")
def sequence():
    """Six frames of one phantom compressed in 0.4 % steps; frame 3 moved out of plane."""
    kw = dict(n_samples=640, n_lines=64, seed=3)
    comp = [0.004, 0.008, 0.012, 0.016, 0.02]
    rho = [0.99, 0.99, 0.4, 0.99, 0.99]
    frames = []
    for c, r in zip(comp, rho, strict=True):
        p = simulate_decorrelated_pair(compression=c, correlation=r, **kw)
        if not frames:
            frames.append(p["rf"].isel(frame=0).values)
        frames.append(p["rf"].isel(frame=1).values)
    seq = p.drop_vars("rf").drop_dims("frame")
    seq["rf"] = (("frame", "depth", "line"), np.stack(frames).astype(np.float32))
    return seq.assign_coords(frame=np.arange(len(frames)))


def test_pairs_with_decorrelated_frames_score_low(sequence):
    s = score_frame_pairs(sequence, max_gap=3)
    assert s.sizes["pair"] == 12
    assert np.all(np.diff(s["score"].values) <= 0)  # best first
    best = {int(s["pre"][0]), int(s["post"][0])}
    assert not best & DECORRELATED
    clean = [
        float(c) for i, j, c in zip(s.pre.values, s.post.values, s.correlation.values, strict=True)
        if not {int(i), int(j)} & DECORRELATED
    ]  # fmt: skip
    mixed = [
        float(c) for i, j, c in zip(s.pre.values, s.post.values, s.correlation.values, strict=True)
        if len({int(i), int(j)} & DECORRELATED) == 1
    ]  # fmt: skip
    assert min(clean) > max(mixed) + 0.1


def test_selection_returns_disjoint_clean_pairs(sequence):
    pairs = select_frame_pairs(sequence, n_pairs=2, max_gap=3)
    frames = [f for p in pairs for f in p]
    assert len(frames) == len(set(frames))
    assert not set(frames) & DECORRELATED


def test_the_compression_window_is_applied(sequence):
    s = score_frame_pairs(sequence, max_gap=1, strain_range=(0.03, 0.05))
    assert not s["in_range"].any()  # 0.4 % steps, far below 3 %
    assert np.all(s["score"].values == 0)
    with pytest.raises(ConfigError, match="strain_range"):
        select_frame_pairs(sequence, max_gap=1, strain_range=(0.03, 0.05))


def test_bad_input(sequence):
    with pytest.raises(ConfigError, match="at least 2 frames"):
        score_frame_pairs(sequence.isel(frame=[0]))
    with pytest.raises(SchemaError):
        score_frame_pairs(sequence.drop_vars("rf"))
    with pytest.raises(ConfigError, match="max_gap"):
        score_frame_pairs(sequence, max_gap=0)
    with pytest.raises(ConfigError, match="n_pairs"):
        select_frame_pairs(sequence, n_pairs=0)
