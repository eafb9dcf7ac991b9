"""Schemas and I/O: round trips for every kind, bad input, atomic saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import brim
from brim import schema

sys.path.insert(0, str(Path(__file__).parent))
import factories  # noqa: E402


def test_every_kind_has_a_factory():
    assert set(factories.ALL) == set(schema.kinds())


@pytest.mark.parametrize("kind", sorted(factories.ALL))
def test_round_trip(kind, tmp_path):
    ds = factories.ALL[kind](np.random.default_rng(0))
    ds = brim.record_provenance(ds, "tests.make", params={"kind": kind, "n": np.int64(3)})
    ds.brim.validate()
    path = brim.save(ds, tmp_path / f"{kind}.nc")
    back = brim.open(path)
    assert back.brim.kind == kind
    xr.testing.assert_identical(back.drop_attrs(), ds.drop_attrs())
    for name, var in ds.variables.items():
        assert back[name].dtype == var.dtype, name
        assert back[name].attrs.get("units") == var.attrs.get("units"), name
    steps = back.brim.provenance
    assert steps[-1]["step"] == "tests.make"
    assert steps[-1]["parameters"] == {"kind": kind, "n": 3}
    assert steps[-1]["versions"]["brim"] == brim.__version__
    assert back.attrs["brim_schema"] == schema.get(kind).tag


def test_complex_values_survive_exactly(tmp_path):
    ds = factories.field_set(np.random.default_rng(1))
    back = brim.open(brim.save(ds, tmp_path / "f.nc"))
    np.testing.assert_array_equal(back.total_field.values, ds.total_field.values)
    assert back.total_field.dtype == np.complex128


def test_saved_file_mode_is_ordinary_or_kept(tmp_path):
    ds = factories.mask(np.random.default_rng(9))
    umask = os.umask(0o022)
    os.umask(umask)
    path = brim.save(ds, tmp_path / "m.nc")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    brim.save(ds, path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_datatree_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    tree = xr.DataTree.from_dict(
        {"/thermo": factories.thermogram(rng), "/microwave": factories.sparameter_scan(rng)}
    )
    back = brim.open(brim.save(tree, tmp_path / "session.nc"))
    assert isinstance(back, xr.DataTree)
    assert back["thermo"].to_dataset().brim.kind == "thermogram"
    np.testing.assert_array_equal(back["microwave"]["s"].values, tree["microwave"]["s"].values)
    back.brim.validate()


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (lambda ds: ds.drop_vars("temperature"), "missing data variable 'temperature'"),
        (lambda ds: ds.assign(temperature=ds.temperature.assign_attrs(units="K")), "units 'K'"),
        (lambda ds: ds.assign(temperature=ds.temperature.where(False, np.inf)), "inf"),
        (lambda ds: ds.rename(x="col"), "dims"),
        (lambda ds: ds.drop_vars("x"), "missing coordinate 'x'"),
        (
            lambda ds: ds.assign(temperature=ds.temperature.astype(int).assign_attrs(units="degC")),
            "dtype",
        ),
    ],
)
def test_bad_thermogram_is_rejected_before_writing(breakage, expected, tmp_path):
    ds = breakage(factories.thermogram(np.random.default_rng(3)))
    with pytest.raises(brim.SchemaError, match=expected):
        brim.save(ds, tmp_path / "bad.nc")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_nan_rejected_where_not_allowed(tmp_path):
    ds = factories.rf_frames(np.random.default_rng(4))
    ds["rf"][0, 0, 0] = np.nan
    with pytest.raises(brim.SchemaError, match="NaN"):
        ds.brim.validate()


def test_wrong_schema_in_file_is_reported(tmp_path):
    ds = factories.thermogram(np.random.default_rng(5))
    path = tmp_path / "t.nc"
    brim.save(ds, path)
    # Re-label the file as another kind behind brim's back.
    ds2 = ds.copy()
    ds2.attrs["brim_schema"] = "sparameter_scan/1"
    ds2.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(brim.SchemaError, match="missing data variable 's'"):
        brim.open(path)
    assert brim.open(path, validate=False)["temperature"].shape == (6, 8)


def test_newer_schema_version_asks_for_upgrade():
    ds = factories.mask(np.random.default_rng(6))
    ds.attrs["brim_schema"] = "mask/99"
    with pytest.raises(brim.SchemaError, match="upgrade brim"):
        ds.brim.validate()


def test_open_rejects_missing_other_format_truncated_and_empty(tmp_path):
    with pytest.raises(brim.MissingFileError):
        brim.open(tmp_path / "nope.nc")
    txt = tmp_path / "matrix.txt"
    txt.write_text("30.1 30.2\n30.3 30.4\n")
    with pytest.raises(brim.FormatError, match="read_dmr"):
        brim.open(txt)
    empty = tmp_path / "empty.nc"
    empty.touch()
    with pytest.raises(brim.FormatError, match="empty"):
        brim.open(empty)
    good = brim.save(factories.reconstruction(np.random.default_rng(7)), tmp_path / "r.nc")
    data = good.read_bytes()
    trunc = tmp_path / "trunc.nc"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(brim.FormatError, match="truncated or corrupt"):
        brim.open(trunc)
    corrupt = tmp_path / "corrupt.nc"
    corrupt.write_bytes(data[:8] + bytes(len(data) - 8))
    with pytest.raises(brim.FormatError):
        brim.open(corrupt)


def test_errors_are_brim_errors_and_builtin_types():
    assert issubclass(brim.SchemaError, brim.BrimError)
    assert issubclass(brim.SchemaError, ValueError)
    assert issubclass(brim.MissingFileError, FileNotFoundError)
    assert issubclass(brim.DependencyError, ImportError)


def test_save_rejects_unstorable_attributes(tmp_path):
    ds = factories.mask(np.random.default_rng(8))
    ds.attrs["nested"] = {"a": [1, 2], "b": "x"}  # becomes JSON
    back = brim.open(brim.save(ds, tmp_path / "m.nc"))
    assert json.loads(back.attrs["nested"]) == {"a": [1, 2], "b": "x"}
    ds.attrs["bad"] = object()
    with pytest.raises(brim.ConfigError, match="'bad'"):
        brim.save(ds, tmp_path / "m2.nc")
    with pytest.raises(brim.MissingFileError):
        brim.save(ds.drop_attrs(), tmp_path / "no" / "such" / "m.nc")


_WRITER = """
import sys, numpy as np, xarray as xr, brim
ds = xr.Dataset({"v": (("a", "b"), np.full((4000, 2000), 7.0))})
print("ready", flush=True)
while True:
    brim.save(ds, sys.argv[1])
"""


def test_killed_save_leaves_previous_file_intact(tmp_path):
    target = tmp_path / "result.nc"
    original = xr.Dataset({"v": (("a",), np.arange(10.0))}, attrs={"version": "old"})
    brim.save(original, target)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 60
        while not any(".brim-tmp-" in p.name for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "writer never started a save"
            time.sleep(0.002)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    back = brim.open(target)  # either the old file or a complete new one, never a torn one
    if back.attrs.get("version") == "old":
        np.testing.assert_array_equal(back["v"].values, np.arange(10.0))
    else:
        assert back["v"].shape == (4000, 2000) and float(back["v"].max()) == 7.0
    assert [p for p in tmp_path.iterdir() if not p.name.startswith(".")] == [target]


def test_load_numpy_reads_arrays_and_refuses_bad_files(tmp_path):
    from brim.errors import FormatError
    from brim.io import load_numpy

    a = np.arange(12.0).reshape(3, 4)
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "b.npz", a=a, b=a.T)
    np.testing.assert_array_equal(load_numpy(tmp_path / "a.npy"), a)
    got = load_numpy(tmp_path / "b.npz")
    assert sorted(got) == ["a", "b"]
    np.testing.assert_array_equal(got["b"], a.T)
    np.save(tmp_path / "obj.npy", np.array([{"k": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="never unpickles"):
        load_numpy(tmp_path / "obj.npy")
    for name in ("a.npy", "b.npz"):
        whole = (tmp_path / name).read_bytes()
        cut = tmp_path / f"cut_{name}"
        cut.write_bytes(whole[: len(whole) // 2])
        with pytest.raises(FormatError, match="truncated"):
            load_numpy(cut)


# ----------------------------------------------------------------------------- declared sizes
def _h5_declaring(path, shape, *, chunked=False):
    """An HDF5/NetCDF4 file whose 'temperature' declares ``shape`` float32 but stores nothing."""
    import h5py

    with h5py.File(path, "w") as f:
        kw = {"chunks": (1024, 1024), "compression": "gzip"} if chunked else {}
        d = f.create_dataset("temperature", shape=shape, dtype="f4", **kw)
        d.attrs["units"] = "degC"
        f.attrs["brim_schema"] = "thermogram/1"
    return path


@pytest.mark.parametrize(
    "shape, size", [((65536, 32768), "8.0 GiB"), ((1 << 20, 204800), "800.0 GiB")]
)
def test_open_refuses_a_tiny_file_declaring_a_huge_variable(tmp_path, shape, size):
    from brim.errors import ResourceError

    path = _h5_declaring(tmp_path / "bomb.nc", shape)
    assert path.stat().st_size < 20_000
    t0 = time.perf_counter()
    with pytest.raises(ResourceError) as info:
        brim.open(path)
    assert time.perf_counter() - t0 < 10  # was 26 s at 9.75 GB (8 GiB), MemoryError (800)
    msg = str(info.value)
    assert "'temperature'" in msg and size in msg and "4.0 GiB" in msg
    assert "BRIM_MAX_ARRAY_BYTES" in msg
    assert isinstance(info.value, MemoryError) and isinstance(info.value, brim.BrimError)


def test_declared_data_the_file_cannot_hold_is_refused_under_the_limit(tmp_path):
    # 3 GiB declared, below the 4 GiB limit, in chunks that were never written: no
    # compression expands a few KB into 3 GiB
    path = _h5_declaring(tmp_path / "unwritten.nc", (24576, 32768), chunked=True)
    with pytest.raises(brim.FormatError, match="more than compression can expand"):
        brim.open(path)


def test_the_size_limit_is_configurable(tmp_path, monkeypatch):
    from brim import limits
    from brim.errors import ConfigError, ResourceError

    ds = factories.ALL["thermogram"](np.random.default_rng(0))
    path = brim.save(ds, tmp_path / "t.nc")
    need = ds["temperature"].nbytes
    monkeypatch.setenv("BRIM_MAX_ARRAY_BYTES", str(need - 1))
    with pytest.raises(ResourceError, match="'temperature'"):
        brim.open(path)
    monkeypatch.setenv("BRIM_MAX_ARRAY_BYTES", "1MiB")
    assert limits.max_array_bytes() == 2**20
    brim.open(path)
    assert limits.parse_size("8GiB") == 8 * 2**30 and limits.parse_size("512 MB") == 512e6
    for bad in ("-1", "lots", "0"):
        with pytest.raises(ConfigError):
            limits.parse_size(bad)
    monkeypatch.delenv("BRIM_MAX_ARRAY_BYTES")
    assert limits.max_array_bytes() == 4 * 2**30


def test_npy_headers_are_checked_before_allocation(tmp_path):
    from brim.errors import ResourceError
    from brim.io import load_numpy

    def npy(name, shape):  # a header declaring ``shape`` before 64 x 32 float32 of data
        with open(tmp_path / name, "wb") as fh:
            np.lib.format.write_array_header_1_0(
                fh, {"descr": "<f4", "fortran_order": False, "shape": shape}
            )
            fh.write(np.zeros((64, 32), dtype="<f4").tobytes())
        return tmp_path / name

    assert load_numpy(npy("ok.npy", (64, 32))).shape == (64, 32)
    with pytest.raises(ResourceError, match="3.6 TiB"):
        load_numpy(npy("huge.npy", (10**6, 10**6)))
    with pytest.raises(brim.FormatError, match="past the end"):
        load_numpy(npy("more.npy", (64, 64)))  # twice what the file holds


def _flip_heap_object_size(data: bytes, payload: bytes, bit: int) -> bytes:
    """Flip one bit of the size of the global-heap object holding ``payload``."""
    start = data.index(b"GCOL\x01\x00\x00\x00")
    at = data.index(payload, start)
    b = bytearray(data)
    b[at - 8] ^= 1 << bit  # the 8-byte size field sits just before the object's data
    return bytes(b)


def test_a_corrupt_global_heap_is_refused_instead_of_hanging(tmp_path):
    """One flipped bit in a heap object's size made HDF5 loop forever (> 150 s in brim info)."""
    ds = factories.ALL["thermogram"](np.random.default_rng(0))
    ds["temperature"].attrs["long_name"] = "skin temperature"
    path = brim.save(ds, tmp_path / "t.nc")
    bad = tmp_path / "bad.nc"
    bad.write_bytes(_flip_heap_object_size(path.read_bytes(), b"degC", 4))
    code = (
        "import sys, brim\n"
        "try:\n"
        f"    brim.open({str(bad)!r})\n"
        "except brim.FormatError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "global heap" in proc.stdout
    # brim info opens lazily (metadata only): the same check guards it
    proc = subprocess.run(
        [sys.executable, "-m", "brim", "info", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "global heap" in proc.stderr, proc.stderr[-2000:]


# ----------------------------------------------------------------------------- value ranges
def test_values_outside_the_plausible_range_name_variable_value_and_place():
    ds = factories.ALL["thermogram"](np.random.default_rng(0))
    t = ds["temperature"].values.copy()
    t[...] = 31.5
    t[2, 3] = 5571.0  # a flipped exponent bit
    ds["temperature"].values = t
    with pytest.raises(brim.SchemaError) as info:
        schema.validate(ds)
    msg = str(info.value)
    assert "'temperature'" in msg and "5571" in msg and "y=2" in msg and "x=3" in msg
    assert "-40, 150" in msg
    t[2, 3] = -706.0  # below absolute zero (a corrupt Planck constant)
    ds["temperature"].values = t
    with pytest.raises(brim.SchemaError, match="-706"):
        schema.validate(ds)
    t[2, 3] = 45.0
    ds["temperature"].values = t
    schema.validate(ds)  # plausible values pass


def test_a_thermogram_without_a_finite_value_is_refused():
    ds = factories.ALL["thermogram"](np.random.default_rng(0))
    ds["temperature"].values = np.full(ds["temperature"].shape, np.nan, dtype="f4")
    with pytest.raises(brim.SchemaError, match="no finite value"):
        schema.validate(ds)


@pytest.mark.parametrize(
    "kind, var, value, needle",
    [
        ("sparameter_scan", "s", 1e300 + 0j, "passive"),
        ("rf_frames", "rf", 1e300, "ADC"),
        ("optical_measurement", "phase", 1e300, "photon"),
    ],
)
def test_each_kind_states_plausible_ranges(kind, var, value, needle):
    ds = factories.ALL[kind](np.random.default_rng(0))
    schema.validate(ds)
    v = ds[var].values.copy()
    v.flat[0] = value
    ds[var].values = v
    with pytest.raises(brim.SchemaError, match=needle):
        schema.validate(ds)


def test_save_refuses_out_of_range_data(tmp_path):
    ds = factories.ALL["thermogram"](np.random.default_rng(0))
    t = ds["temperature"].values.copy()
    t.flat[0] = 1.6e29
    ds["temperature"].values = t
    with pytest.raises(brim.SchemaError, match="plausible range"):
        brim.save(ds, tmp_path / "t.nc")
    assert not list(tmp_path.iterdir())


def test_require_kind_refuses_another_schema():
    scan = factories.ALL["sparameter_scan"](np.random.default_rng(0))
    with pytest.raises(brim.FormatError, match="'sparameter_scan' file, not thermogram"):
        schema.require_kind(scan, ("thermogram", "thermal_intensity"), "scan.nc")
    assert schema.require_kind(scan, "sparameter_scan") is scan
