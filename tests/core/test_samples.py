"""Bundled samples: made by brim's own simulators, valid, small, reproducible bit for bit."""

from __future__ import annotations

import hashlib
import json

import pytest
import xarray as xr

import brim
from brim import data


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_samples_exist_and_are_small():
    names = data.list_samples()
    assert names, "no bundled samples: run python scripts/make_samples.py"
    total = sum(data.sample_path(n).stat().st_size for n in names)
    assert total < 5 * 1024**2, f"data_samples/ is {total / 1024**2:.1f} MB (limit 5 MB)"
    modalities = {n.split("_")[0] for n in names}
    assert {"thermo", "microwave", "elasto", "fusion"} <= modalities


@pytest.mark.parametrize("name", data.list_samples())
def test_sample_opens_and_validates(name):
    obj = data.sample(name)
    obj.brim.validate()
    steps = obj.brim.provenance if hasattr(obj.brim, "provenance") else []
    assert steps, f"sample {name} records no provenance"


def _without_versions(ds):
    """The Dataset with the dependency versions taken out of its provenance."""
    out = ds.copy()
    steps = [{k: v for k, v in s.items() if k != "versions"} for s in ds.brim.provenance]
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in ("brim_provenance", "brim_version")}
    out.attrs["steps"] = json.dumps(steps, sort_keys=True)
    return out


def test_samples_regenerate_bit_for_bit(tmp_path):
    written = data.make_all(tmp_path)
    assert sorted(p.stem for p in written) == data.list_samples()
    for p in written:
        bundled = data.sample_path(p.stem)
        new, old = brim.open(p), brim.open(bundled)
        if new.brim.provenance[-1]["versions"] == old.brim.provenance[-1]["versions"]:
            # Same library versions: the bytes must be identical.
            assert _sha(p) == _sha(bundled), f"{p.name} differs when regenerated"
        else:
            # Other dependency versions are recorded in the provenance, so the bytes differ
            # there; every value, coordinate and attribute must still be identical.
            xr.testing.assert_identical(_without_versions(new), _without_versions(old))


def test_unknown_sample_names_the_available_ones():
    with pytest.raises(brim.ConfigError, match="available"):
        data.sample("no_such_sample")
