"""No module has the name of a public function of its package (docs/conventions.md).

Importing such a module makes Python bind it onto the package over the function: in a notebook,
``brim.thermo.relative_features(ds, seg)`` raised "'module' object is not callable" once anything
had imported ``brim.thermo.relative_features`` (the module, now ``body_relative``).
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

PACKAGES = [
    "brim",
    "brim.thermo",
    "brim.microwave",
    "brim.microwave.radar",
    "brim.microwave.tomography",
    "brim.elasto",
    "brim.fusion",
    "brim.learn",
    "brim.evaluate",
    "brim.schema",
]
# deprecated module paths kept for one release, each a forwarding shim
DEPRECATED_PATHS = {"brim.thermo.relative_features"}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_named_like_a_public_function_of_its_package(package):
    pkg = importlib.import_module(package)
    modules = {info.name for info in pkgutil.iter_modules(pkg.__path__)}
    clashes = []
    for name in sorted(set(pkg.__all__) & modules):
        if f"{package}.{name}" in DEPRECATED_PATHS:
            continue
        if not isinstance(getattr(pkg, name), types.ModuleType):
            clashes.append(name)
    assert not clashes, f"{package}: modules named like its public functions: {clashes}"


def test_the_deprecated_relative_features_path_is_a_shim_only():
    shim = importlib.import_module("brim.thermo.relative_features")
    assert shim.__doc__.startswith("Deprecated module path")
    import brim.thermo

    assert callable(brim.thermo.relative_features)
