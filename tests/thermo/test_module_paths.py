"""The split of bioheat.py and phantom.py (issue 18): every public name stays importable from
``brim.thermo`` and, for one release, from its old module path with a DeprecationWarning that
names the new one."""

from __future__ import annotations

import importlib
import warnings

import pytest

import brim.thermo

OLD = {
    "brim.thermo.bioheat": {
        "assemble": "brim.thermo.pennes",
        "BioheatProblem": "brim.thermo.pennes",
        "radiative_h": "brim.thermo.pennes",
        "RHO_BLOOD": "brim.thermo.pennes",
        "solve_steady": "brim.thermo.steady",
        "solve_pennes": "brim.thermo.steady",
        "BioheatSolution": "brim.thermo.steady",
        "solve_transient": "brim.thermo.transient",
        "TransientSolution": "brim.thermo.transient",
        "skin_temperature": "brim.thermo.skin",
        "staircase_correction": "brim.thermo.skin",
    },
    "brim.thermo.phantom": {
        "solve_phantom": "brim.thermo.simulate",
        "simulate_thermogram": "brim.thermo.simulate",
        "Simulation": "brim.thermo.simulate",
        "simulate_dynamic": "brim.thermo.dynamic",
        "simulate_cohort": "brim.thermo.cohort",
        "smooth_on_surface": "brim.thermo.skin",
    },
}


@pytest.mark.parametrize(
    ("old", "name", "new"), [(o, n, m) for o, names in OLD.items() for n, m in names.items()]
)
def test_old_path_warns_and_returns_the_moved_object(old, name, new):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.") + r"\." + name):
        obj = getattr(module, name)
    assert obj is getattr(importlib.import_module(new), name)


def test_names_that_stayed_do_not_warn_and_unknown_names_fail():
    phantom = importlib.import_module("brim.thermo.phantom")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert phantom.build_phantom is brim.thermo.build_phantom
        assert callable(phantom.random_spec)
    for mod in ("brim.thermo.bioheat", "brim.thermo.phantom"):
        with pytest.raises(AttributeError):
            _ = importlib.import_module(mod).no_such_name


def test_every_public_thermo_name_resolves_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for name in brim.thermo.__all__:
            assert getattr(brim.thermo, name) is not None


def test_options_are_keyword_only_and_old_positional_calls_warn():
    import inspect

    import numpy as np

    from brim.thermo import classify, features, pennes, phantom, segmentation

    for fn in (
        phantom.build_phantom,
        pennes.radiative_h,
        features.features_table,
        classify.load_cohort,
        classify.cnn_spec,
        classify.cnn_config,
        classify.cnn_fit_predict,
        segmentation.unet_spec,
    ):
        positional = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.default is not p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        assert not positional, (fn.__qualname__, positional)
    spec = phantom.PhantomSpec(voxel=8e-3, heterogeneity=0.0, vessels=(0, 0))
    with pytest.warns(DeprecationWarning, match="spec="):
        old = phantom.build_phantom(spec, seed=0)
    new = phantom.build_phantom(spec=spec, seed=0)
    np.testing.assert_array_equal(old.labels, new.labels)
    with pytest.warns(DeprecationWarning, match="emissivity="):
        assert pennes.radiative_h(32.0, 21.0, 0.9) == pennes.radiative_h(32.0, 21.0, emissivity=0.9)
