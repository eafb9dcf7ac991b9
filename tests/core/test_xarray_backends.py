"""brim's xarray backends, used the way users use them: by their registered engine names.

xarray builds its engine table from every ``xarray.backends`` entry point in the environment and
inspects each ``open_dataset`` signature (``xarray/backends/plugins.py``); a ``**kwargs`` in any
one of them makes *every* ``xr.open_dataset`` call raise ``TypeError``, with or without
``engine=``. These tests therefore go through xarray's own registry (engine names, never the
classes), and also open plain NetCDF files with no engine, in a fresh interpreter that has not
imported brim.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr
from xarray.backends.plugins import detect_parameters, guess_engine, list_engines

import brim
from brim import data

ENGINES = (
    "brim_dmr",
    "brim_flir",
    "brim_thermal_image",
    "brim_merit",
    "brim_touchstone",
    "brim_umbmid",
    "brim_elasto_pybf",
    "brim_elasto_rf",
)


def _assert_same(a: xr.Dataset, b: xr.Dataset):
    """Same variables and values; provenance time stamps may differ between two reads."""
    assert set(a.variables) == set(b.variables)
    for k in b.variables:
        np.testing.assert_array_equal(a[k].values, b[k].values, err_msg=k)
    skip = {"brim_provenance"}
    assert {k: v for k, v in a.attrs.items() if k not in skip} == {
        k: v for k, v in b.attrs.items() if k not in skip
    }


# --------------------------------------------------------------------------- the registry
def test_every_engine_is_registered_with_an_explicit_signature():
    engines = list_engines()  # raises TypeError if any backend in the environment has **kwargs
    missing = [e for e in ENGINES if e not in engines]
    assert not missing, f"engines not registered: {missing} (re-run the editable install)"
    for name in ENGINES:
        backend = engines[name]
        params = detect_parameters(type(backend).open_dataset)
        assert params[:2] == ("filename_or_obj", "drop_variables"), name
        assert tuple(backend.open_dataset_parameters) == params, name
        kinds = {p.kind for p in inspect.signature(type(backend).open_dataset).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, name


def test_flir_engine_accepts_every_flir_parameter_by_keyword():
    from brim.thermo.flir import FlirParameters

    params = set(list_engines()["brim_flir"].open_dataset_parameters)
    fields = {f.name for f in dataclasses.fields(FlirParameters)}
    assert fields <= params, f"not accepted by engine='brim_flir': {sorted(fields - params)}"


# --------------------------------------------------------------------------- plain NetCDF
def test_plain_open_dataset_reads_netcdf_from_brim_and_from_xarray(tmp_path):
    brim_file = tmp_path / "brim.nc"
    brim.save(data.sample("thermo_phantom_tumour"), brim_file)
    plain_file = tmp_path / "plain.nc"
    xr.Dataset(
        {"t": (("y", "x"), np.arange(12.0).reshape(3, 4))}, coords={"x": [0.0, 1.0, 2.0, 3.0]}
    ).to_netcdf(plain_file)
    # A fresh interpreter that never imports brim: the user's situation in the issue.
    code = textwrap.dedent(
        f"""
        import json, sys, xarray as xr
        a = xr.open_dataset({str(brim_file)!r})
        b = xr.open_dataset({str(plain_file)!r})
        readers = [m for m in sys.modules if m.startswith("brim.") and m.endswith(".readers")]
        assert not readers, f"listing xarray's engines imported {{readers}}"
        t = a["temperature"]
        print(json.dumps([list(t.shape), float(b["t"].sum()), a.attrs["brim_schema"]]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stderr
    shape, total, schema = json.loads(out.stdout)
    assert tuple(shape) == data.sample("thermo_phantom_tumour")["temperature"].shape
    assert total == 66.0 and schema.startswith("thermogram/")
    # and in this process, where brim is imported
    with xr.open_dataset(brim_file) as a:
        np.testing.assert_array_equal(
            a["temperature"].values, data.sample("thermo_phantom_tumour")["temperature"].values
        )


def test_guess_can_open_claims_only_what_it_can_read(tmp_path, external_data):
    nc = tmp_path / "x.nc"
    brim.save(data.sample("microwave_radar_scan"), nc)
    assert not guess_engine(nc).startswith("brim_"), "a brim engine claims plain NetCDF"
    dmr = external_data / "thermo" / "dmr_ir_dev" / "T0001.txt"
    assert guess_engine(dmr) == "brim_dmr"
    flir = external_data / "thermo" / "flir" / "FLIR0674.jpg"
    assert guess_engine(flir) == "brim_flir"
    engines = list_engines()
    # xarray asks its own netCDF engines first (h5netcdf claims any .hdf5); brim's still knows
    pybf = external_data / "elasto" / "pybf_channel" / "rf_dataset.hdf5"
    assert engines["brim_elasto_pybf"].guess_can_open(pybf)
    (tmp_path / "a.s4p").write_text("# GHz S RI R 50\n")
    assert engines["brim_touchstone"].guess_can_open(tmp_path / "a.s4p")
    # generic containers are never claimed: they need engine= and their keywords
    plain_jpeg = tmp_path / "photo.jpg"
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(plain_jpeg)
    others = {
        "csv": tmp_path / "a.csv",
        "mat": external_data / "elasto" / "fieldii_dp" / "Data" / "Im0.mat",
        "npy": tmp_path / "a.npy",
        "png": external_data / "thermo" / "colombia" / "left" / "IIR0001.png",
        "jpg": plain_jpeg,
        "txt": tmp_path / "notes.txt",
        "nc": nc,
    }
    (tmp_path / "a.csv").write_text("1,2\n")
    np.save(tmp_path / "a.npy", np.zeros(3))
    (tmp_path / "notes.txt").write_text("not a matrix\n")
    for kind, path in others.items():
        claimed = [e for e in ENGINES if engines[e].guess_can_open(path)]
        assert not claimed, f"{kind}: {claimed} claim {path.name}"


# --------------------------------------------------------------------------- each engine by name
def test_engine_brim_dmr(tmp_path, external_data):
    from brim.thermo.readers import read_dmr

    real = external_data / "thermo" / "dmr_ir_dev" / "T0001.txt"
    _assert_same(xr.open_dataset(real, engine="brim_dmr"), read_dmr(real))
    # a small matrix made here, with the shape keyword passed through xarray
    values = 30.0 + np.arange(12).reshape(3, 4) / 4
    f = tmp_path / "T0007.txt"
    f.write_text("\n".join(" ".join(f"{v:.2f}" for v in row) for row in values) + "\n")
    ds = xr.open_dataset(f, engine="brim_dmr", shape=(3, 4))
    np.testing.assert_allclose(ds["temperature"].values, values, atol=1e-5)
    with pytest.raises(brim.FormatError):
        xr.open_dataset(f, engine="brim_dmr")  # default shape is the camera's 480 x 640
    dropped = xr.open_dataset(f, engine="brim_dmr", shape=(3, 4), drop_variables=["temperature"])
    assert "temperature" not in dropped


def test_engine_brim_flir_with_overrides(external_data):
    from brim.thermo.flir import read_flir

    f = external_data / "thermo" / "flir" / "FLIR0674.jpg"
    default = xr.open_dataset(f, engine="brim_flir")
    _assert_same(default, read_flir(f))
    hot = xr.open_dataset(f, engine="brim_flir", emissivity=0.5, reflected_temperature=20.0)
    _assert_same(hot, read_flir(f, emissivity=0.5, reflected_temperature=20.0))
    assert hot.attrs["flir_emissivity"] == 0.5
    # lower emissivity -> the same counts mean a hotter object
    assert float(hot["temperature"].mean()) > float(default["temperature"].mean())


def test_engine_brim_thermal_image(external_data):
    from brim.thermo.readers import read_grey

    f = external_data / "thermo" / "colombia" / "left" / "IIR0001.png"
    ds = xr.open_dataset(f, engine="brim_thermal_image")
    _assert_same(ds, read_grey(f))
    assert "mask" in ds


def test_engine_brim_merit(external_data):
    from brim.microwave.readers import read_merit

    d = external_data / "microwave" / "merit"
    ds = xr.open_dataset(d / "B0_P5_p000.csv", engine="brim_merit", reference=d / "B0_P5_p036.csv")
    assert ds["s"].shape == (76, 96) and "s_reference" in ds
    _assert_same(ds, read_merit(d / "B0_P5_p000.csv", reference=d / "B0_P5_p036.csv"))


def test_engine_brim_touchstone(tmp_path):
    from brim.microwave.readers import read_touchstone

    # A 2-port file written here by hand (Touchstone 1.1, real/imaginary pairs, GHz).
    lines = ["! brim test", "# GHz S RI R 50"]
    s = (
        np.array([[[0.1 + 0.2j, 0.3 - 0.1j], [0.5 + 0.0j, -0.2 + 0.4j]]])
        * np.array([1, 2])[:, None, None]
    )
    for f, m in zip((1.0, 2.0), s, strict=True):
        # order of a 2-port line: S11 S21 S12 S22
        vals = [m[0, 0], m[1, 0], m[0, 1], m[1, 1]]
        lines.append(f"{f} " + " ".join(f"{v.real} {v.imag}" for v in vals))
    path = tmp_path / "pair.s2p"
    path.write_text("\n".join(lines) + "\n")
    pos = np.array([[0.07, 0, 0], [-0.07, 0, 0]])
    ds = xr.open_dataset(path, engine="brim_touchstone", antenna_positions=pos)
    _assert_same(ds, read_touchstone(path, antenna_positions=pos))
    np.testing.assert_allclose(ds["freq"].values, [1e9, 2e9])
    # s[f, tx=j, rx=i] == S[f, i, j] (brim's convention)
    np.testing.assert_allclose(ds["s"].values[:, 0, 1], s[:, 1, 0])


def test_engine_brim_umbmid(tmp_path):
    import scipy.io

    from brim.microwave.readers import read_umbmid

    rng = np.random.default_rng(3)
    arr = rng.normal(size=(2, 5, 6)) + 1j * rng.normal(size=(2, 5, 6))
    scipy.io.savemat(tmp_path / "um.mat", {"fd_data": arr})
    freqs = np.linspace(1e9, 8e9, 5)
    ds = xr.open_dataset(tmp_path / "um.mat", engine="brim_umbmid", freq=freqs)
    _assert_same(ds, read_umbmid(tmp_path / "um.mat", freq=freqs))
    np.testing.assert_allclose(ds["s"].values, arr)
    np.testing.assert_allclose(ds["freq"].values, freqs)


def test_engine_brim_elasto_pybf(external_data):
    from brim.elasto.readers import read_channel_pybf

    f = external_data / "elasto" / "pybf_channel" / "rf_dataset.hdf5"
    ds = xr.open_dataset(f, engine="brim_elasto_pybf", sound_speed=1500.0)
    _assert_same(ds, read_channel_pybf(f, sound_speed=1500.0))


def test_engine_brim_elasto_rf(tmp_path, external_data):
    from brim.elasto.readers import read_rf

    kw = dict(sampling_frequency=40e6, center_frequency=6.7e6, pitch=0.2e-3)
    real = external_data / "elasto" / "fieldii_dp" / "Data" / "Im0.mat"
    _assert_same(xr.open_dataset(real, engine="brim_elasto_rf", **kw), read_rf(real, **kw))
    rf = np.random.default_rng(0).normal(size=(2, 64, 8)).astype(np.float32)
    np.save(tmp_path / "rf.npy", rf)
    ds = xr.open_dataset(tmp_path / "rf.npy", engine="brim_elasto_rf", sound_speed=1500.0, **kw)
    np.testing.assert_array_equal(ds["rf"].values, rf)
    assert float(ds["sound_speed"]) == 1500.0
    with pytest.raises(brim.ConfigError, match="sampling_frequency"):
        xr.open_dataset(tmp_path / "rf.npy", engine="brim_elasto_rf")
