"""Options of brim.evaluate (and brim.record_provenance) are keyword-only; calls written for the
previous release, with the options by position, still give the same result for one release,
with a DeprecationWarning that points at the caller and names the keyword."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import xarray as xr

import brim
import brim.evaluate as ev
from brim.evaluate.strata import stratified_auroc

rng = np.random.default_rng(0)
Y = np.repeat(np.arange(20) % 2, 2)
S = Y + rng.normal(size=40)
G = np.repeat(np.arange(20), 2)

# (function, data arguments, the options as the old release took them by position, their names)
CASES = [
    (ev.aggregate_by_group, (S, G), ("max",), ["rule"]),
    (ev.auroc_ci, (Y, S), (G,), ["groups"]),
    (ev.mean_ci, (S,), (G,), ["groups"]),
    (ev.roc_band, (Y, S), (G,), ["groups"]),
    (ev.choose_threshold, (Y, S), ("spec@0.9",), ["rule"]),
    (ev.sensitivity_at_specificity, (Y, S), (0.8,), ["specificity"]),
    (ev.specificity_at_sensitivity, (Y, S), (0.8,), ["sensitivity"]),
    (ev.grouped_kfold, (G, Y), (4,), ["n_splits"]),
    (ev.grouped_split, (G, Y), (0.3,), ["val_fraction"]),
    (stratified_auroc, (Y, S, np.arange(40) % 2), (G,), ["groups"]),
]


def _same(a, b):
    if isinstance(a, xr.Dataset):
        xr.testing.assert_identical(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif hasattr(a, "__dataclass_fields__"):
        for k in a.__dataclass_fields__:
            _same(getattr(a, k), getattr(b, k))
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fn, data, old, names", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_old_positional_options_still_work_and_warn(fn, data, old, names):
    params = inspect.signature(fn).parameters
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in names)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new spelling never warns
        new = fn(*data, **dict(zip(names, old)))
    with pytest.warns(DeprecationWarning, match=f"{names[0]}=") as rec:
        legacy = fn(*data, *old)
    assert rec[0].filename == __file__
    _same(legacy, new)


def test_check_leakage_inputs_by_position_still_checks_duplicates():
    imgs = np.random.default_rng(1).normal(size=(8, 8, 8))
    imgs[7] = imgs[0]
    groups = np.arange(8)
    with pytest.warns(DeprecationWarning, match="inputs="), pytest.raises(brim.LeakageError):
        ev.check_leakage(np.arange(6), [6, 7], groups, imgs)
    with pytest.raises(brim.LeakageError):
        ev.check_leakage(np.arange(6), [6, 7], groups, inputs=imgs)


def test_record_provenance_params_by_position_still_record():
    ds = xr.Dataset({"v": ("x", [1.0])})
    with pytest.warns(DeprecationWarning, match="params="):
        old = brim.record_provenance(ds, "tests.step", {"k": 1})
    new = brim.record_provenance(ds, "tests.step", params={"k": 1})
    assert old.brim.provenance[-1]["parameters"] == new.brim.provenance[-1]["parameters"]
