"""Every public step of brim.fusion records itself: its name by the one rule, its arguments and
the SHA-256 of the files it read (issue 18); no record is written by hand."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from brim import fusion, provenance

FUSION = Path(fusion.__file__).resolve().parent


def _sha(p) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def _last(obj) -> dict:
    return provenance.steps(obj)[-1]


def test_public_readers_record_their_files(tmp_path):
    from PIL import Image

    img = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (24, 1))
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray((img > 128).astype(np.uint8) * 255).save(tmp_path / "m.png")
    ds = fusion.read_busi(tmp_path / "a.png", tmp_path / "m.png", size=16)
    rec = _last(ds)
    assert rec["step"] == "brim.fusion.read_busi"
    assert rec["parameters"] == {"image": "a.png", "mask": "m.png", "size": 16}
    shas = [f["sha256"] for f in rec["inputs"]]
    assert shas == [_sha(tmp_path / "a.png"), _sha(tmp_path / "m.png")]

    folder = tmp_path / "p1"
    folder.mkdir()
    for q, v in (("mua", 0.05), ("mus", 8.0)):
        for wl in (780, 830):
            np.save(folder / f"{q}-{wl}.npy", np.full((3, 4), v))
    da = fusion.read_dot_pat_map(folder / "mua-780.npy")
    assert _last(da)["step"] == "brim.fusion.read_dot_pat_map"
    assert _last(da)["inputs"][0]["sha256"] == _sha(folder / "mua-780.npy")
    ds = fusion.read_dot_pat_patient(folder)
    assert [s["step"] for s in provenance.steps(ds)] == ["brim.fusion.read_dot_pat_patient"]
    files = {f["path"]: f["sha256"] for f in _last(ds)["inputs"]}
    assert files["p1"] is None and files["mus-830.npy"] == _sha(folder / "mus-830.npy")
    assert len(files) == 5  # the folder and its four maps

    from scipy.io import savemat

    vol = np.random.default_rng(0).random((1, 5, 6, 7))
    savemat(tmp_path / "v.mat", {"volume7all": vol, "maskall": (vol > 0.5).astype(np.uint8)})
    ds = fusion.read_dot_filtering(tmp_path / "v.mat")
    assert _last(ds)["step"] == "brim.fusion.read_dot_filtering"
    assert _last(ds)["inputs"][0]["sha256"] == _sha(tmp_path / "v.mat")


def test_extinction_and_arrays_record_themselves():
    from brim.fusion.extinction import DEFAULT_EXTINCTION

    ext = fusion.read_extinction()
    assert _last(ext)["step"] == "brim.fusion.read_extinction"
    assert _last(ext)["inputs"][0]["sha256"] == _sha(DEFAULT_EXTINCTION)
    ds = fusion.measurement_from_arrays(
        np.ones((1, 1, 2)), np.zeros((1, 1, 2)), [780.0], [[0, 0]], [[0.02, 0], [0.03, 0]], 0.0
    )
    rec = _last(ds)
    assert rec["step"] == "brim.fusion.measurement_from_arrays"
    assert rec["parameters"]["modulation_frequency"] == 0.0
    assert rec["parameters"]["position_units"] == "m"


def test_convert_map_records_itself(tmp_path):
    np.save(tmp_path / "mua-800.npy", np.full((2, 3), 0.05))
    ds = fusion.convert_map(tmp_path / "mua-800.npy", units="cm-1")
    assert [s["step"] for s in provenance.steps(ds)] == ["brim.fusion.convert_map"]
    assert _last(ds)["parameters"]["units"] == "cm-1"


def test_readers_inside_a_step_are_not_recorded_twice(tmp_path):
    np.save(tmp_path / "mua-800.npy", np.full((2, 3), 0.05))
    ds = fusion.convert(tmp_path / "mua-800.npy", units="cm-1")
    assert [s["step"] for s in provenance.steps(ds)] == ["brim.fusion.convert"]


# hand-written records that remain: the CLI's brim.open of a file (a command record, the same
# spelling as brim.open) and the simulators, whose names are inside the shipped sample files
_HAND_WRITTEN_ALLOWED = {"cli.py": 1, "simulate.py": 2}


@pytest.mark.parametrize("path", sorted(FUSION.glob("*.py")), ids=lambda p: p.name)
def test_no_record_written_by_hand(path):
    calls = len(re.findall(r"\brecord\(", path.read_text(encoding="utf-8")))
    assert calls <= _HAND_WRITTEN_ALLOWED.get(path.name, 0), f"{path.name}: {calls} record(...)"
