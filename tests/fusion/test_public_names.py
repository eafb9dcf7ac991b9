"""Public names of brim.fusion: one object per name, whatever was imported first (issue 18)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import warnings

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
