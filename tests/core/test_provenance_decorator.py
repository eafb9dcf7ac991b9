"""The provenance decorator: one naming rule, bound arguments with defaults, chains in order."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import warnings

import numpy as np
import pytest
import xarray as xr

import brim
from brim import provenance

PACKAGES = ("thermo", "microwave", "elasto", "fusion")
RULE = re.compile(
    r"^brim\.(thermo|microwave|elasto|fusion|learn|evaluate|schema)\.[a-z_][a-z0-9_]*$"
)


def _decorated_steps():
    """Every function decorated with @provenance.step in the modality packages: (module, fn)."""
    found = []
    for pkg in PACKAGES:
        package = importlib.import_module(f"brim.{pkg}")
        for info in pkgutil.walk_packages(package.__path__, f"brim.{pkg}."):
            # the walk imports the deprecated old module paths and reads their moved names too
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    module = importlib.import_module(info.name)
                except ImportError as exc:  # an optional extra (torch, skrf) not installed
                    pytest.skip(f"{info.name} needs a missing extra: {exc}")
                members = inspect.getmembers(module, callable)
            for _, obj in members:
                if getattr(obj, "__module__", None) == info.name and hasattr(obj, "__brim_step__"):
                    found.append((info.name, obj))
    return found


def test_every_decorated_step_follows_the_one_naming_rule():
    steps = _decorated_steps()
    # the public steps converted in issue 18 (a floor: the walk must find at least these)
    expected = {
        "brim.microwave.simulate",
        "brim.microwave.add_noise",
        "brim.microwave.beamform",
        "brim.microwave.calibrate_gain",
        "brim.microwave.read_merit",
        "brim.microwave.to_time_domain",
        "brim.elasto.beamform",
        "brim.elasto.estimate_displacement",
        "brim.elasto.strain_image",
        "brim.elasto.read_rf",
        "brim.fusion.fit_background",
        "brim.fusion.reconstruct",
        "brim.fusion.read_measurement",
        "brim.thermo.read_dmr",
        "brim.thermo.segment_classical",
    }
    names = {fn.__brim_step__: (mod, fn) for mod, fn in steps}
    assert expected <= set(names), sorted(expected - set(names))
    by_name: dict[str, set[str]] = {}
    for module, fn in steps:
        name = fn.__brim_step__
        assert RULE.match(name), f"{module}.{fn.__name__}: step name {name!r} breaks the rule"
        package = module.split(".")[1]
        assert name == f"brim.{package}.{fn.__name__}", (module, name)
        by_name.setdefault(name, set()).add(f"{module}.{fn.__qualname__}")
    clashes = {k: v for k, v in by_name.items() if len(v) > 1}
    assert not clashes, f"two functions record the same step name: {clashes}"
    print(f"{len(steps)} decorated steps, {len(by_name)} names")


def test_step_name_rule():
    def f():
        pass

    f.__module__ = "brim.microwave.radar"
    assert provenance.step_name(f) == "brim.microwave.f"
    f.__module__ = "brim.parallel"
    assert provenance.step_name(f) == "brim.f"
    f.__module__ = "brim.learn.train"
    assert provenance.step_name(f) == "brim.learn.f"


def _field_set(rng):
    from brim.microwave import field_set_dataset

    shape = (2, 3, 4)
    inc = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    tot = inc + 0.1 * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    return field_set_dataset(
        tot, inc, [1e9, 2e9], np.zeros(3), np.arange(3.0), np.ones(4), np.arange(4.0)
    )


def test_bound_arguments_with_defaults_are_recorded_and_bulky_values_summarised():
    """A synthetic step: positional, keyword and default arguments all land in the record;
    a Dataset and a 10 000-element array are summarised, a generator named by its type."""

    @provenance.step
    def scale(ds, factor, *, offset=0.5, weights=None, seed=None):
        provenance.note(derived=int(factor) * 2)
        out = ds.copy()
        out["total_field"] = out["total_field"] * factor + offset
        return out

    scale.__module__ = __name__  # not inside brim: named by module and function
    ds = _field_set(np.random.default_rng(0))
    out = scale(ds, 3, weights=np.ones(10_000), seed=np.random.default_rng(1))
    rec = out.brim.provenance[-1]
    p = rec["parameters"]
    assert p["factor"] == 3 and p["offset"] == 0.5  # offset: the default, applied
    assert p["derived"] == 6  # provenance.note from inside the step
    assert p["weights"] == "<array shape=(10000,) float64>"
    assert p["seed"] == "<Generator PCG64>"
    assert p["ds"].startswith("<Dataset schema=field_set")
    assert "sizes={'freq': 2, 'tx': 3, 'rx': 4}" in p["ds"]
    assert "0x" not in json.dumps(rec)  # nothing address-dependent: two runs record the same
    assert ds.attrs.get(provenance.ATTR) is None  # the input is not modified


def test_add_noise_and_simulate_now_record_and_a_chain_keeps_both_in_order():
    from brim.microwave import add_noise, simulate
    from brim.microwave.tomography import TomographyGrid as Grid
    from brim.microwave.tomography import ring_positions

    grid = Grid.centered(8, 0.06)
    xx, yy = np.meshgrid(grid.x, grid.y)
    eps = np.where(np.hypot(xx, yy) < 0.015, 2.0 - 0.1j, 1.0)
    ring = ring_positions(4, 0.05)
    fields = simulate(eps, grid, [1e9], ring, ring)
    noisy = add_noise(fields, 0.01, seed=7)
    chain = noisy.brim.provenance
    assert [s["step"] for s in chain] == ["brim.microwave.simulate", "brim.microwave.add_noise"]
    sim, noise = (s["parameters"] for s in chain)
    # every bound argument of simulate, defaults included (tol, solver, quadrature ...)
    expected = set(inspect.signature(simulate).parameters)
    assert set(sim) == expected, expected ^ set(sim)
    assert sim["tol"] == 1e-8 and sim["solver"] == "bicgstab" and sim["freq"] == [1e9]
    assert sim["grid"] == {"nx": grid.nx, "ny": grid.ny, "d": grid.d, "x0": grid.x0, "y0": grid.y0}
    assert noise == {
        "fields": noise["fields"],
        "level": 0.01,
        "seed": 7,
    } and noise["fields"].startswith("<Dataset schema=field_set")
    assert len(fields.brim.provenance) == 1  # the earlier result keeps its own chain


def test_nested_steps_record_once_and_tuple_results_are_recorded():
    from brim.microwave import simulate
    from brim.microwave.tomography import TomographyGrid as Grid
    from brim.microwave.tomography import ring_positions

    grid = Grid.centered(6, 0.05)
    ring = ring_positions(3, 0.04)
    ds, field, info = simulate(np.full((6, 6), 1.5), grid, 1e9, ring, ring, return_fields=True)
    assert [s["step"] for s in ds.brim.provenance] == ["brim.microwave.simulate"]
    assert isinstance(field, np.ndarray)


def test_reader_records_its_file_by_name_and_sha256(tmp_path):
    """A decorated reader hashes the file named by its ``path`` parameter; folders stay out."""
    from brim.thermo import read_dmr

    rng = np.random.default_rng(3)
    path = tmp_path / "secret_folder_name" / "IR_0001.txt"
    path.parent.mkdir()
    path.write_text("\n".join(" ".join(f"{v:.2f}" for v in row) for row in 30 + rng.random((4, 6))))
    ds = read_dmr(path, shape=None)
    (rec,) = ds.brim.provenance
    assert rec["step"] == "brim.thermo.read_dmr"
    assert rec["parameters"]["path"] == "IR_0001.txt"
    assert "shape" in rec["parameters"] and rec["parameters"]["shape"] is None
    import hashlib

    assert rec["inputs"] == [
        {"path": "IR_0001.txt", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    ]
    assert "secret_folder_name" not in json.dumps(rec)


def test_deprecated_positional_generator_of_add_noise_still_records():
    from brim.microwave import add_noise

    ds = _field_set(np.random.default_rng(0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = add_noise(ds, 0.1, np.random.default_rng(2))
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert caught[0].filename == __file__  # the warning points at the caller
    new = add_noise(ds, 0.1, seed=np.random.default_rng(2))
    np.testing.assert_array_equal(out["total_field"].values, new["total_field"].values)
    assert out.brim.provenance[-1]["step"] == "brim.microwave.add_noise"


def test_public_steps_no_longer_hand_write_other_spellings():
    """No modality module outside the CLI records a step under another spelling by hand."""
    import pathlib

    root = pathlib.Path(brim.__file__).resolve().parent.parent
    literal = re.compile(r"record\(\s*\w+,\s*\"([^\"]+)\"")
    bad = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            if path.name in ("cli.py", "tomography_cli.py", "samples.py", "pipelines.py"):
                continue  # command records (file hashes of a command line) and sample files
            for name in literal.findall(path.read_text()):
                if not RULE.match(name):
                    bad.append(f"{path.relative_to(root)}: {name}")
    assert not bad, bad


def test_record_still_accepts_explicit_steps():
    ds = xr.Dataset({"a": ("x", np.arange(3.0))})
    out = provenance.record(ds, "tests.explicit", params={"k": np.int64(2)})
    assert out.brim.provenance[-1]["parameters"] == {"k": 2}


def test_cli_convert_records_the_step_once_by_its_function_name(tmp_path):
    """``brim fusion convert`` no longer writes a 'brim fusion convert' record: the decorated
    brim.fusion.convert records the map file with its SHA-256 and the command's settings."""
    import hashlib

    from brim.cli import main

    src = tmp_path / "mua-800.npy"
    np.save(src, np.full((2, 3), 0.05))
    out = tmp_path / "map.nc"
    assert main(["fusion", "convert", str(src), "--units", "cm-1", "-o", str(out)]) == 0
    chain = brim.open(out).brim.provenance
    assert [s["step"] for s in chain] == ["brim.fusion.convert"]
    assert chain[0]["parameters"]["units"] == "cm-1"
    assert chain[0]["parameters"]["path"] == "mua-800.npy"
    assert chain[0]["inputs"][0]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_cli_register_keeps_both_file_hashes_without_a_command_spelling(tmp_path):
    """``brim fusion register``: the fixed file's read (brim.open, SHA-256) starts the chain,
    register_images follows and names the moving file's SHA-256 in its summary."""
    import hashlib

    import brim.data
    from brim.cli import main

    us = brim.data.sample("fusion_ultrasound")
    fixed, moving = tmp_path / "fixed.nc", tmp_path / "moving.nc"
    brim.save(us, fixed)
    brim.save(us.roll(x=3, roll_coords=False), moving)
    out = tmp_path / "reg.nc"
    assert main(["fusion", "register", str(fixed), str(moving), "-o", str(out)]) == 0
    chain = brim.open(out).brim.provenance
    steps = [s["step"] for s in chain]
    assert steps[-2:] == ["brim.open", "brim.fusion.register_images"], steps
    assert chain[-2]["inputs"][0]["sha256"] == hashlib.sha256(fixed.read_bytes()).hexdigest()
    sha_moving = hashlib.sha256(moving.read_bytes()).hexdigest()[:12]
    assert f"from=moving.nc@{sha_moving}" in chain[-1]["parameters"]["moving"]
    assert not any(" " in s for s in steps)  # no 'brim fusion register' spelling


def test_a_bound_method_argument_is_named_not_dumped():
    """simulate(phantom.permittivity, ...): the record names the method; the phantom's arrays
    (its repr) stay out."""
    from brim.microwave import breast_phantom, ring_positions, simulate
    from brim.microwave.tomography import TomographyGrid as Grid

    grid = Grid.centered(12, 0.14)
    ph = breast_phantom(grid)
    ring = ring_positions(4, 0.065)
    ds = simulate(ph.permittivity, grid, [1e9], ring, ring, eps_b=ph.eps_background(1e9))
    rec = ds.brim.provenance[-1]["parameters"]
    # named by its defining module (wherever the microwave package keeps BreastPhantom)
    assert rec["permittivity"] == f"{type(ph).__module__}.BreastPhantom.permittivity"
    assert rec["permittivity"].startswith("brim.microwave.")
    assert len(ds.attrs[provenance.ATTR]) < 4000


# --- warnings raised inside a step point at the user's call, not at the wrapper ---------------


@provenance.step
def _warns_at_level(ds, *, level=3):
    warnings.warn("suspicious input", UserWarning, stacklevel=level)
    return ds


@provenance.step
def _warns_through_brim_warn(ds, *, category=brim.BrimWarning):
    from brim.errors import warn

    warn("suspicious input", category=category)
    return ds


@provenance.step
def _outer_step(ds):
    return _warns_at_level(ds)  # the line a nested warning points at


def _caught(call):
    """The warnings of ``call()`` and the line that called this (where the lambda is written)."""
    line = inspect.currentframe().f_back.f_lineno
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught, line


def test_a_warning_in_a_step_body_at_stacklevel_3_points_at_the_callers_line():
    ds = xr.Dataset({"v": ("x", [1.0])})
    caught, line = _caught(lambda: _warns_at_level(ds))
    assert len(caught) == 1
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)
    # the documented extra frame: stacklevel=2 names the wrapper in brim/provenance.py
    caught, _ = _caught(lambda: _warns_at_level(ds, level=2))
    assert caught[0].filename.endswith("provenance.py")
    # nested: the inner step's caller is the outer step's body (its wrapper adds the same frame)
    caught, _ = _caught(lambda: _outer_step(ds))
    src = inspect.getsourcelines(_outer_step.__wrapped__)
    assert caught[0].filename == __file__ and caught[0].lineno == src[1] + 2  # decorator, def


def test_brim_errors_warn_skips_every_brim_frame_whatever_the_category():
    ds = xr.Dataset({"v": ("x", [1.0])})
    for category in (brim.BrimWarning, DeprecationWarning):
        caught, _ = _caught(
            lambda category=category: _warns_through_brim_warn(ds, category=category)
        )
        assert caught[0].category is category
        # the step body lives in this test file, outside brim: the warning names it
        assert caught[0].filename == __file__
        assert not caught[0].filename.endswith(("provenance.py", "errors.py"))


def test_positional_options_goes_above_step_and_warns_at_the_callers_line():
    from brim.deprecation import positional_options

    @positional_options
    @provenance.step
    def scale(ds, *, factor=2.0):
        return ds * factor

    ds = xr.Dataset({"v": ("x", [1.0])})
    caught, line = _caught(lambda: scale(ds, 3.0))
    assert [w.category for w in caught] == [DeprecationWarning]
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out = scale(ds, 3.0)
    assert float(out["v"][0]) == 3.0
    assert provenance.steps(out)[-1]["parameters"] == {
        "ds": provenance.to_jsonable(ds),
        "factor": 3.0,
    }
    with pytest.raises(TypeError, match="above @provenance.step"):
        provenance.step(positional_options(lambda ds, *, factor=2.0: ds))


def test_dataclass_results_get_their_dataset_fields_and_provenance_list_recorded():
    import dataclasses

    @dataclasses.dataclass
    class Result:
        value: float
        maps: xr.Dataset
        provenance: list = dataclasses.field(default_factory=list)

    @provenance.step
    def analyse(ds, *, gain=2.0):
        return Result(float(ds["v"].sum()) * gain, xr.Dataset({"m": ("x", [1.0])}))

    src = provenance.record(xr.Dataset({"v": ("x", [1.0, 2.0])}), "brim.tests.read")
    res = analyse(src, gain=3.0)
    assert res.value == 9.0
    # the Dataset field continues the input's chain, like a returned Dataset
    assert [s["step"] for s in provenance.steps(res.maps)] == ["brim.tests.read", step_of(analyse)]
    assert provenance.steps(res.maps)[-1]["parameters"]["gain"] == 3.0
    # the list field holds the same chain, for a Dataset built later (restore hands it on)
    later = provenance.restore(xr.Dataset(), res.provenance)
    assert [s["step"] for s in provenance.steps(later)] == ["brim.tests.read", step_of(analyse)]


def step_of(func):
    return func.__brim_step__


def test_shear_wave_maps_continue_the_rf_chain():
    from brim.elasto import shear_wave_elastography, simulate_shear_wave_rf

    sw = simulate_shear_wave_rf(speed=2.5, n_frames=24, n_lines=32, n_samples=128)
    res = shear_wave_elastography(sw, density=1050.0)
    chain = provenance.steps(res.maps)
    assert [s["step"] for s in chain] == [
        "brim.elasto.simulate_shear_wave_rf",
        "brim.elasto.shear_wave_elastography",
    ]
    assert chain[-1]["parameters"]["density"] == 1050.0


def test_inversion_map_continues_the_field_set_chain():
    """InversionResult.to_dataset writes the chain the invert step recorded: the simulation
    that made the fields, then invert with its bound arguments (no hand-written record)."""
    from brim.microwave.tomography import TomographyGrid, invert, ring_positions, simulate

    g = TomographyGrid.centered(12, 0.06)
    eps = np.ones(g.shape)
    eps[4:8, 4:8] = 1.5
    fs = simulate(eps, g, 1e9, ring_positions(6, 0.1), ring_positions(6, 0.1))
    chain = provenance.steps(invert(fs, g, method="born", weight=1e-2).to_dataset())
    assert [s["step"] for s in chain] == ["brim.microwave.simulate", "brim.microwave.invert"]
    assert chain[-1]["parameters"]["method"] == "born"
    assert chain[-1]["parameters"]["weight"] == 1e-2
