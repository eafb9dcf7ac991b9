"""Public names of brim.fusion: one object per name, whatever was imported first (issue 18)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import brim.fusion


def _submodules() -> list[str]:
    return [info.name for info in pkgutil.iter_modules(brim.fusion.__path__)]


def test_no_submodule_shares_a_name_with_a_public_name():
    clash = sorted(set(_submodules()) & set(brim.fusion.__all__))
    assert not clash, f"submodules named like public functions: {clash}"
    assert "reconstruction" in _submodules() and "reconstruct" in brim.fusion.__all__


@pytest.mark.parametrize(
    "first",
    ["", "import brim.fusion.reconstruction; ", "from brim.fusion.reconstruction import *; "],
)
def test_reconstruct_is_the_function_whatever_was_imported_first(first):
    code = (
        f"{first}import inspect; from brim.fusion import reconstruct; "
        "print(inspect.isfunction(reconstruct), reconstruct.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "brim.fusion.reconstruction"], out.stdout + out.stderr


def test_every_submodule_imports_without_changing_a_public_name():
    before = {name: getattr(brim.fusion, name) for name in brim.fusion.__all__}
    for name in _submodules():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module(f"brim.fusion.{name}")
    after = {name: getattr(brim.fusion, name) for name in brim.fusion.__all__}
    changed = [n for n in before if before[n] is not after[n]]
    assert not changed, changed


def test_the_old_readers_path_warns_and_gives_the_same_objects():
    from brim.fusion import extinction, measurement, public_data

    for module, name in (
        (measurement, "read_measurement"),
        (measurement, "positions_to_m"),
        (extinction, "read_extinction"),
        (extinction, "DEFAULT_EXTINCTION"),
        (public_data, "read_busi"),
        (public_data, "image_hash"),
    ):
        with pytest.warns(DeprecationWarning, match=f"import {name} from brim.fusion"):
            old = getattr(importlib.import_module("brim.fusion.readers"), name)
        assert old is getattr(module, name)
    with pytest.raises(AttributeError):
        importlib.import_module("brim.fusion.readers").no_such_name  # noqa: B018


def test_the_split_modules_hold_one_concept_each():
    """The readers of measurements know nothing of extinction tables or public data sets."""
    from brim.fusion import extinction, measurement, public_data

    assert set(measurement.__all__).isdisjoint(extinction.__all__)
    assert set(measurement.__all__).isdisjoint(public_data.__all__)
    assert "read_busi" not in vars(measurement) and "read_extinction" not in vars(measurement)


def test_options_made_keyword_only_still_accept_old_positional_calls():
    """Options moved after ``*`` keep working positionally for one release, with a warning."""
    from brim.fusion import diffusion as dif
    from brim.fusion import extinction, reconstruction, simulate

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 4)), rng.standard_normal(6)
    pen = np.linspace(1.0, 2.0, 4)
    ext = extinction.read_extinction()
    props = dif.OpticalProperties(0.005, 1.0, 1.33, 0.0)
    det = [[12.0, 0.0, 0.0]]
    calls = [
        (extinction.extinction_at, ([780.0], ext), {"extinction": ext}),
        (simulate.mua_from_hemoglobin, (10.0, 5.0, [780.0], ext), {"extinction": ext}),
        (reconstruction.tikhonov, (a, b, 0.1, pen), {"penalty": pen}),
        (reconstruction.cgls, (a, b, 20, 0.1, pen), {"alpha": 0.1, "penalty": pen}),
        (
            dif.sphere_exact,
            ([-12.0, 0, 0], det, [0, 0, 0], 4.0, props, 0.01, 2.0),
            {"musp_inside": 2.0},
        ),
    ]
    for fn, args, options in calls:
        new = fn(*args[: len(args) - len(options)], **options)
        with pytest.warns(DeprecationWarning, match="by position is deprecated"):
            old = fn(*args)
        np.testing.assert_array_equal(old, new)
    from brim.fusion.plotting import plot_depth_slices

    for fn, options in [(c[0], c[2]) for c in calls] + [(plot_depth_slices, {"var": None})]:
        params = inspect.signature(fn).parameters
        assert all(params[name].kind is inspect.Parameter.KEYWORD_ONLY for name in options), fn
