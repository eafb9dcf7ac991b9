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


@pytest.fixture(scope="module")
def small_sequence_file(tmp_path_factory):
    """Four frames (0.4 % steps, 512 x 48); frame 2 only 40 % correlated with the others."""
    import brim.io

    kw = dict(n_samples=512, n_lines=48, seed=4)
    frames = []
    for c, r in zip([0.004, 0.008, 0.012], [0.99, 0.4, 0.99], strict=True):
        p = simulate_decorrelated_pair(compression=c, correlation=r, **kw)
        if not frames:
            frames.append(p["rf"].isel(frame=0).values)
        frames.append(p["rf"].isel(frame=1).values)
    seq = p.drop_vars("rf").drop_dims("frame")
    seq["rf"] = (("frame", "depth", "line"), np.stack(frames).astype(np.float32))
    seq = seq.assign_coords(frame=np.arange(len(frames)))
    return brim.io.save(seq, tmp_path_factory.mktemp("seq") / "seq.nc")


def _chosen(out: str) -> list[tuple[int, int]]:
    return [
        tuple(int(v) for v in line.split()[1].split(","))
        for line in out.splitlines()
        if line.startswith("frames ")
    ]


@pytest.mark.filterwarnings("ignore::brim.errors.BrimWarning")
def test_cli_strain_select_best_pair(small_sequence_file, tmp_path, capsys):
    import json

    import brim.io
    from brim.cli import main

    out = tmp_path / "best.nc"
    assert main(["elasto", "strain", str(small_sequence_file), "--select", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    chosen = _chosen(text)
    assert len(chosen) == 1 and not set(chosen[0]) & {2}, text
    assert "score " in text and "1 of 6 frame pairs selected" in text
    s = brim.io.open(out)
    rec = {r["step"]: r["parameters"] for r in json.loads(s.attrs["brim_provenance"])}
    assert tuple(rec["brim.elasto.estimate_displacement"]["frames"]) == chosen[0]
    gap = chosen[0][1] - chosen[0][0]
    assert abs(float(np.nanmedian(s["strain"].values)) + 0.004 * gap) < 0.001 * gap


@pytest.mark.filterwarnings("ignore::brim.errors.BrimWarning")
def test_cli_strain_select_several_pairs_writes_a_folder(small_sequence_file, tmp_path, capsys):
    from brim.cli import main

    out = tmp_path / "pairs"
    args = ["elasto", "strain", str(small_sequence_file), "--select", "--pairs", "2", "-o"]
    assert main([*args, str(out)]) == 0
    chosen = _chosen(capsys.readouterr().out)
    assert 1 <= len(chosen) <= 2
    assert len({f for p in chosen for f in p}) == 2 * len(chosen)  # no frame used twice
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"seq_strain_{i}-{j}.nc" for i, j in chosen
    )
    # --pairs without --select, and a POST file with --select: one-line errors
    assert main(["elasto", "strain", str(small_sequence_file), "--pairs", "2", "-o", "x.nc"]) == 2
    seq = str(small_sequence_file)
    assert main(["elasto", "strain", seq, seq, "--select", "-o", str(tmp_path / "y.nc")]) == 2
    assert "no POST" in capsys.readouterr().err


def test_a_pair_without_neighbour_does_not_win_by_default(small_sequence_file):
    import brim.io

    s = score_frame_pairs(brim.io.open(small_sequence_file), max_gap=3)
    full = s.isel(pair=int(np.flatnonzero((s["pre"] == 0) & (s["post"] == 3))[0]))
    assert np.isnan(float(full["consistency"]))  # first to last frame: no neighbour pair
    assert float(full["score"]) < float(full["correlation"])  # not scored as consistent
