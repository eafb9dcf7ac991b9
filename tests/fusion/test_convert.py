"""``brim fusion convert``: Zhu-lab maps and .mat/CSV measurements, units converted, sO2 flagged."""

import json
import warnings

import numpy as np
import pytest

import brim
from brim import fusion as rd
from brim.cli import main
from brim.errors import ConfigError, FormatError
from brim.fusion import conversion as cv
from brim.fusion import simulate as sim
from brim.fusion.reconstruction import hemoglobin

# ----------------------------------------------------------------------------- the real maps


def test_real_patient_folder_cm1_to_mm1_with_haemoglobin(external_data):
    folder = external_data / "fusion/dot_pat/p1"
    with pytest.warns(UserWarning, match=r"sO2 map: .* outside \[0, 1\]"):
        ds = cv.convert(folder)
    raw = np.load(folder / "mua-780.npy").astype(np.float64)  # cm^-1, as stored
    np.testing.assert_allclose(ds.mua.sel(wavelength=780.0).values, raw / 10, rtol=1e-12)
    raw_s = np.load(folder / "mus-830.npy")
    np.testing.assert_allclose(ds.musp.sel(wavelength=830.0).values, raw_s / 10, rtol=1e-12)
    assert ds.mua.attrs["units"] == "mm-1" and ds.attrs["converted_from_units"] == "cm-1"
    # background breast tissue: mua 0.002-0.02 /mm, musp 0.3-1.5 /mm (0.01-0.1 as raw cm-1)
    assert 0.002 < float(ds.mua.median()) < 0.02
    assert 0.3 < float(ds.musp.median()) < 1.5
    # haemoglobin from the converted maps: HbT of breast tissue, tens of uM
    assert 10 < float(ds.hbt.median()) < 100
    ds.brim.validate()


def test_real_volume_and_map(external_data):
    mat = external_data / "fusion/dot_filtering/twotars.mat"
    from scipy.io import loadmat

    raw = loadmat(mat)["volume7all"]  # (case, y, x, z)
    ds = cv.convert(mat)
    np.testing.assert_allclose(ds.mua.values, np.moveaxis(raw, -1, 1) / 10, rtol=1e-12)
    assert int(ds.target_mask.sum()) == int(loadmat(mat)["maskall"].sum())
    # units given: stored values kept; a spacing gives metres instead of voxel indices
    same = cv.convert(mat, units="mm-1", pixel_size=5e-3, depth_spacing=5e-3)
    np.testing.assert_allclose(same.mua.values, np.moveaxis(raw, -1, 1), rtol=1e-12)
    assert same.x.attrs["units"] == "m" and float(same.x[1]) == pytest.approx(5e-3)
    npy = external_data / "fusion/dot_pat/phantom-experiment-sni/mua-20-750-scan1.npy"
    one = cv.convert(npy)
    np.testing.assert_allclose(one.mua.isel(wavelength=0).values, np.load(npy) / 10, rtol=1e-6)
    assert float(one.wavelength[0]) == 750.0


def test_cli_convert_real_folder_then_hemoglobin(external_data, tmp_path, capsys):
    out = tmp_path / "p1.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the sO2 flag, tested above
        assert (
            main(["fusion", "convert", str(external_data / "fusion/dot_pat/p1"), "-o", str(out)])
            == 0
        )
        assert main(["fusion", "hemoglobin", str(out), "-o", str(tmp_path / "hb.nc")]) == 0
    hb = brim.open(tmp_path / "hb.nc")
    np.testing.assert_allclose(hb.hbt.values, brim.open(out).hbt.values, rtol=1e-12)


# ------------------------------------------------------------------------- files made here


def _maps(tmp_path, hbo2, hb, *, scale=10.0):
    """A patient folder of mua maps (cm^-1 when ``scale`` = 10) made from known haemoglobin."""
    folder = tmp_path / "patient"
    folder.mkdir()
    wl = (760.0, 800.0, 850.0)
    for w in wl:
        mua = (
            sim.mua_from_hemoglobin(1.0, 0.0, [w])[0] * hbo2
            + sim.mua_from_hemoglobin(0.0, 1.0, [w])[0] * hb
        )  # mm^-1
        np.save(folder / f"mua-{w:g}.npy", (mua * scale).astype(np.float64))
    return folder


def test_cm1_maps_give_the_haemoglobin_they_were_made_from(tmp_path):
    hbo2 = np.array([[30.0, 10.0], [25.0, 50.0]])
    hb = np.array([[10.0, 10.0], [5.0, 20.0]])
    folder = _maps(tmp_path, hbo2, hb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all sO2 in [0, 1]: no flag
        ds = cv.convert(folder)
    np.testing.assert_allclose(ds.hbo2.values, hbo2, rtol=1e-9)
    np.testing.assert_allclose(ds.so2.values, hbo2 / (hbo2 + hb), rtol=1e-9)
    # the same maps declared in m^-1 are 100x smaller in mm^-1: 100x less haemoglobin
    ds_m = cv.convert(folder, units="m-1")
    np.testing.assert_allclose(ds_m.hbt.values, (hbo2 + hb) / 100, rtol=1e-9)
    # hemoglobin() converts a cm-1 map instead of refusing it
    raw = rd.read_dot_pat_patient(folder)
    assert raw.mua.attrs["units"] == "cm-1"
    np.testing.assert_allclose(hemoglobin(raw).hbt.values, hbo2 + hb, rtol=1e-9)


def test_so2_outside_unit_interval_is_flagged(tmp_path):
    hbo2 = np.array([[30.0, 10.0], [25.0, 50.0]])
    hb = np.array([[10.0, -4.0], [5.0, 20.0]])  # one voxel with negative Hb: sO2 > 1
    with pytest.warns(UserWarning, match=r"25\.0 % of 4 values lie outside \[0, 1\]"):
        cv.convert(_maps(tmp_path, hbo2, hb))
    # a reconstructed lesion with sO2 outside [0, 1] is flagged by hemoglobin() as well
    import xarray as xr

    wl = np.array([760.0, 800.0, 850.0])
    mua = lambda o, d: np.array([sim.mua_from_hemoglobin(o, d, [w])[0] for w in wl])  # noqa: E731
    rec = xr.Dataset(
        {
            "mua": (("wavelength", "y", "x"), np.ones((3, 1, 1)) * mua(14, 6)[:, None, None]),
            "lesion_delta_mua": ("wavelength", mua(40, -5) - mua(14, 6), {"units": "mm-1"}),
            "background_mua": ("wavelength", mua(14, 6), {"units": "mm-1"}),
        },
        coords={"wavelength": ("wavelength", wl, {"units": "nm"})},
    )
    rec["mua"].attrs["units"] = "mm-1"
    with pytest.warns(UserWarning, match="lesion sO2 = 1.14 lies outside"):
        out = hemoglobin(rec)
    assert float(out.lesion_hbt) == pytest.approx(35.0, rel=1e-9)
    assert cv.check_so2([0.2, 0.7, np.nan]) == 0.0
    with pytest.raises(FormatError, match="percentage"):
        cv.check_so2([65.0, 70.0, 80.0])


def test_measurement_mat_and_csv_convert_to_si(tmp_path):
    from scipy.io import savemat

    meas = sim.simulate_measurement(None, wavelengths=(780.0, 830.0))
    pos_mm = np.stack([meas.source_x, meas.source_y], 1) * 1e3
    det_mm = np.stack([meas.detector_x, meas.detector_y], 1) * 1e3
    common = {
        "amplitude": meas.amplitude.values,
        "phase": meas.phase.values,
        "wavelength": meas.wavelength.values,
        "frequency": 140e6,
    }
    savemat(tmp_path / "mm.mat", {**common, "source_pos": pos_mm, "detector_pos": det_mm})
    savemat(
        tmp_path / "cm.mat",
        {**common, "source_pos": pos_mm / 10, "detector_pos": det_mm / 10},
    )
    a = cv.convert(tmp_path / "mm.mat")
    b = cv.convert(tmp_path / "cm.mat", position_units="cm")
    for ds in (a, b):
        assert ds.source_x.attrs["units"] == "m"
        np.testing.assert_allclose(ds.source_x.values, meas.source_x.values, rtol=1e-12)
    # a CSV with positions in mm (the older layout)
    lines = rd.write_measurement_csv(meas, tmp_path / "m.csv").read_text().splitlines()
    header = lines[1].replace("_m,", "_mm,")
    rows = []
    for ln in lines[2:]:
        v = ln.split(",")
        v[1:5] = [repr(float(t) * 1e3) for t in v[1:5]]
        rows.append(",".join(v))
    (tmp_path / "mm.csv").write_text("\n".join([lines[0], header, *rows]) + "\n")
    c = cv.convert(tmp_path / "mm.csv")
    np.testing.assert_allclose(c.detector_y.values, meas.detector_y.values, rtol=1e-12)
    # options that do not apply are refused, not ignored
    with pytest.raises(ConfigError, match="measurement"):
        cv.convert(tmp_path / "mm.mat", units="cm-1")
    with pytest.raises(ConfigError, match="units must be one of"):
        cv.convert_map(tmp_path, units="per mm")


def test_cli_convert_many_inputs_with_params(tmp_path, capsys):
    hbo2 = np.array([[30.0, 10.0]])
    hb = np.array([[10.0, 10.0]])
    folder = _maps(tmp_path, hbo2, hb)
    params = tmp_path / "preset.json"
    params.write_text(json.dumps({"units": "cm-1", "pixel_size": 1e-3, "hemoglobin": False}))
    files = sorted(str(p) for p in folder.glob("*.npy"))
    out = tmp_path / "out"
    assert main(["fusion", "convert", *files, "--params", str(params), "-o", str(out)]) == 0
    got = sorted(p.name for p in out.glob("*.nc"))
    assert got == ["mua-760.nc", "mua-800.nc", "mua-850.nc"]
    ds = brim.open(out / "mua-800.nc")
    assert ds.x.attrs["units"] == "m" and "hbt" not in ds
    assert ds.mua.attrs["units"] == "mm-1"
    # --units on the command line wins over the preset
    assert main(["fusion", "convert", files[0], "--params", str(params), "--units", "mm-1",
                 "-o", str(tmp_path / "one.nc")]) == 0  # fmt: skip
    np.testing.assert_allclose(
        brim.open(tmp_path / "one.nc").mua.values.ravel(), np.load(files[0]).ravel(), rtol=1e-12
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"unit": "cm-1"}))
    assert (
        main(["fusion", "convert", files[0], "--params", str(bad), "-o", str(tmp_path / "x")]) == 2
    )
    assert "unknown parameter" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_convert_refuses_unknown_files(tmp_path):
    p = tmp_path / "x.mat"
    from scipy.io import savemat

    savemat(p, {"something": np.ones(3)})
    with pytest.raises(FormatError):
        cv.convert(p)
    q = tmp_path / "x.png"
    q.write_bytes(b"\x89PNG")
    with pytest.raises(FormatError):
        cv.convert_map(q)
