"""The DOT-guided-PAT maps and Prahl's extinction table as other labs and tools save them: each
variant of the real files reads to the same numbers, or is refused with a brim error naming the
problem and the fix (never a silently scaled or swapped value)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from brim.errors import BrimError, ConfigError, FormatError
from brim.fusion import read_dot_pat_map, read_dot_pat_patient, read_extinction


@pytest.fixture(scope="module")
def dot_pat(external_data):
    return external_data / "fusion" / "dot_pat"


@pytest.fixture(scope="module")
def patient(dot_pat):
    ds = read_dot_pat_patient(dot_pat / "p1")
    assert ds["mua"].shape == (4, 62, 66) and ds["mua"].attrs["units"] == "cm-1"
    return ds


def _folder(dot_pat: Path, tmp_path: Path, edit=None, drop=()) -> Path:
    """A copy of patient p1 with each map passed through ``edit(name, array)``."""
    out = tmp_path / "p1"
    out.mkdir()
    for f in sorted((dot_pat / "p1").glob("*.npy")):
        if f.name not in drop:
            a = np.load(f)
            np.save(out / f.name, a if edit is None else edit(f.name, a))
    return out


SAME_MAPS = {
    "float32": lambda n, a: a.astype(np.float32),
    "float64": lambda n, a: a.astype(np.float64),
    "big-endian": lambda n, a: a.astype(a.dtype.newbyteorder(">")),
    "Fortran order": lambda n, a: np.asfortranarray(a),
    "complex with zero imaginary part": lambda n, a: a.astype(np.complex128),
}


@pytest.mark.parametrize("variant", SAME_MAPS)
def test_map_variant_reads_the_same_numbers(variant, dot_pat, patient, tmp_path):
    ds = read_dot_pat_patient(_folder(dot_pat, tmp_path, SAME_MAPS[variant]))
    for v in ("mua", "musp"):
        # float32 keeps 7 digits of the float64 mus maps
        tol = 1e-6 if variant == "float32" else 0.0
        np.testing.assert_allclose(ds[v].values, patient[v].values, rtol=tol)
    assert ds["wavelength"].values.tolist() == [770.0, 780.0, 800.0, 830.0]


def test_a_missing_wavelength_reads_the_others(dot_pat, patient, tmp_path):
    d = _folder(dot_pat, tmp_path, drop=("mua-800.npy", "mus-800.npy"))
    ds = read_dot_pat_patient(d)
    assert ds["wavelength"].values.tolist() == [770.0, 780.0, 830.0]
    np.testing.assert_array_equal(
        ds["mua"].values, patient["mua"].sel(wavelength=[770.0, 780.0, 830.0]).values
    )


@pytest.mark.parametrize("units,scale", [("m-1", 100.0), ("mm-1", 0.1)])
def test_maps_in_another_unit_read_when_given(units, scale, dot_pat, patient, tmp_path):
    d = _folder(dot_pat, tmp_path, lambda n, a: a.astype(np.float64) * scale)
    ds = read_dot_pat_patient(d, units=units)
    assert ds["mua"].attrs["units"] == units and ds["musp"].attrs["units"] == units
    np.testing.assert_allclose(ds["mua"].values, patient["mua"].values * scale, rtol=1e-6)
    one = read_dot_pat_map(d / "mus-780.npy", units=units)
    assert one.attrs["units"] == units and "as given" in one.attrs["note"]


REFUSED_MAPS = {
    # variant: (edit, drop, error, words)
    "maps in m-1 read as cm-1": (
        lambda n, a: a.astype(np.float64) * 100,
        (),
        FormatError,
        ("median mua 7.65", "m-1", "units='m-1'"),
    ),
    "maps in mm-1 read as cm-1": (
        lambda n, a: a.astype(np.float64) / 10,
        (),
        FormatError,
        ("median musp 0.736", "units='mm-1'"),
    ),
    "one map transposed": (
        lambda n, a: a.T.copy() if n == "mua-800.npy" else a,
        (),
        FormatError,
        ("mua-800.npy has shape (66, 62)", "transposed?"),
    ),
    "a scattering map missing": (None, ("mus-800.npy",), FormatError, ("each wavelength",)),
    "NaN block": (
        lambda n, a: np.where(np.arange(a.shape[0])[:, None] < 5, np.nan, a),
        (),
        FormatError,
        ("330 NaN",),
    ),
    "complex map": (lambda n, a: a * (1 + 0.1j), (), FormatError, ("real-valued", "complex")),
}


@pytest.mark.parametrize("variant", REFUSED_MAPS)
def test_map_variant_is_refused_naming_the_problem(variant, dot_pat, tmp_path):
    edit, drop, error, words = REFUSED_MAPS[variant]
    d = _folder(dot_pat, tmp_path, edit, drop)
    with pytest.raises(error) as info:
        read_dot_pat_patient(d)
    for w in words:
        assert w in str(info.value)


def test_single_map_in_m1_is_refused_and_unknown_units_too(dot_pat, tmp_path):
    p = tmp_path / "mua-780.npy"
    np.save(p, np.load(dot_pat / "p1" / "mua-780.npy") * 100.0)
    with pytest.raises(FormatError, match="units='m-1'"):
        read_dot_pat_map(p)
    with pytest.raises(ConfigError, match="units must be one of"):
        read_dot_pat_map(p, units="1/cm")


def test_phantom_scan_in_float64_reads_the_same(dot_pat, tmp_path):
    src = dot_pat / "phantom-experiment-sni" / "mus-40-800-scan2.npy"
    p = tmp_path / src.name
    np.save(p, np.load(src).astype(np.float64).T.copy().T)
    np.testing.assert_array_equal(read_dot_pat_map(p).values, read_dot_pat_map(src).values)


# ----------------------------------------------------------------------------- extinction


def _table(dot_pat: Path) -> tuple[list[str], list[list[str]]]:
    lines = (dot_pat / "optical_extinction_coeff.csv").read_text(encoding="utf-8-sig").splitlines()
    return lines, [ln.split(",") for ln in lines if ln[:1].isdigit()]


def _rows(data, fw=lambda w: w, fe=lambda e: e, order=(0, 1, 2), sep=","):
    out = []
    for r in data:
        vals = [float(r[0]), float(r[1]), float(r[2])]
        vals = [fw(vals[0]), fe(vals[1]), fe(vals[2])]
        out.append(sep.join(repr(vals[i]) for i in order))
    return out


EXT_SAME = {
    "CRLF": lambda lines, data: "\r\n".join(lines) + "\r\n",
    "BOM": lambda lines, data: "\ufeff" + "\n".join(lines),
    "semicolons": lambda lines, data: "\n".join(ln.replace(",", ";") for ln in lines),
    "semicolons and decimal commas": lambda lines, data: (
        "lambda;HbO2;Hb\n" + "\n".join(";".join(c.replace(".", ",") for c in r) for r in data)
    ),
    "blanks": lambda lines, data: "\n".join(ln.replace(",", "  ") for ln in lines),
    "trailing commas": lambda lines, data: "\n".join(ln + "," for ln in lines),
    "no header": lambda lines, data: "\n".join(",".join(r) for r in data),
    "units in the column names": lambda lines, data: (
        "lambda (nm),HbO2 (cm-1/M),Hb (cm-1/M)\n" + "\n".join(",".join(r) for r in data)
    ),
    "columns Hb then HbO2": lambda lines, data: (
        "lambda,Hb,HbO2\n" + "\n".join(_rows(data, order=(0, 2, 1)))
    ),
    "columns deoxy then oxy": lambda lines, data: (
        "wavelength,deoxyHb,oxyHb\n" + "\n".join(_rows(data, order=(0, 2, 1)))
    ),
    "mm-1/M units row": lambda lines, data: (
        "lambda,HbO2,Hb\nnm,mm-1/M,mm-1/M\n" + "\n".join(_rows(data, fe=lambda e: e / 10))
    ),
    "cm-1/mM units row": lambda lines, data: (
        "lambda,HbO2,Hb\nnm,cm-1/mM,cm-1/mM\n" + "\n".join(_rows(data, fe=lambda e: e / 1000))
    ),
    "M-1 cm-1 in names": lambda lines, data: (
        "lambda_nm,HbO2 [M^-1 cm^-1],Hb [M^-1 cm^-1]\n" + "\n".join(_rows(data))
    ),
    "L/(mol cm)": lambda lines, data: (
        "lambda,HbO2,Hb\nnm,L/(mol cm),L/(mol cm)\n" + "\n".join(_rows(data))
    ),
    "wavelength in um": lambda lines, data: (
        "lambda,HbO2,Hb\num,cm-1/M,cm-1/M\n" + "\n".join(_rows(data, fw=lambda w: w / 1000))
    ),
}


@pytest.mark.parametrize("variant", EXT_SAME)
def test_extinction_variant_reads_the_same_table(variant, dot_pat, tmp_path):
    lines, data = _table(dot_pat)
    ref = read_extinction(dot_pat / "optical_extinction_coeff.csv")
    p = tmp_path / "ext.csv"
    p.write_bytes(EXT_SAME[variant](lines, data).encode("utf-8"))
    ext = read_extinction(p)
    np.testing.assert_allclose(ext.wavelength.values, ref.wavelength.values, rtol=1e-12)
    np.testing.assert_allclose(ext.eps_hbo2.values, ref.eps_hbo2.values, rtol=1e-12)
    np.testing.assert_allclose(ext.eps_hb.values, ref.eps_hb.values, rtol=1e-12)
    # Prahl's published value at 800 nm: HbO2 816, Hb 761.72 cm-1/M
    at = ext.sel(wavelength=800.0)
    assert (float(at.eps_hbo2), float(at.eps_hb)) == pytest.approx((816.0, 761.72))


EXT_REFUSED = {
    "cm-1/mM without units": (
        lambda lines, data: "\n".join(_rows(data, fe=lambda e: e / 1000)),
        ("another unit", "206 cm-1/M"),
    ),
    "um without units": (
        lambda lines, data: "\n".join(_rows(data, fw=lambda w: w / 1000)),
        ("not in nm", "'um'"),
    ),
    "unknown extinction unit": (
        lambda lines, data: (
            "lambda,HbO2,Hb\nnm,cm-1/(mg/ml),cm-1/(mg/ml)\n" + "\n".join(_rows(data))
        ),
        ("line 2", "unknown extinction unit", "cm-1/M"),
    ),
    "a fourth column": (
        lambda lines, data: "lambda,HbO2,Hb,H2O\n" + "\n".join(",".join(r) + ",0.1" for r in data),
        ("line 2", "expected 3 finite numbers"),
    ),
}


@pytest.mark.parametrize("variant", EXT_REFUSED)
def test_extinction_variant_is_refused_naming_the_problem(variant, dot_pat, tmp_path):
    make, words = EXT_REFUSED[variant]
    lines, data = _table(dot_pat)
    p = tmp_path / "ext.csv"
    p.write_text(make(lines, data), encoding="utf-8")
    with pytest.raises(FormatError) as info:
        read_extinction(p)
    for w in words:
        assert w in str(info.value)


# ----------------------------------------------------------------------------- the CLI


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "brim", "fusion", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_convert_with_a_semicolon_swapped_extinction_gives_the_same_haemoglobin(
    dot_pat, tmp_path
):
    lines, data = _table(dot_pat)
    ext = tmp_path / "ext.csv"
    ext.write_text("lambda;Hb;HbO2\n" + "\n".join(_rows(data, order=(0, 2, 1), sep=";")))
    outs = []
    for name, table in (("a", dot_pat / "optical_extinction_coeff.csv"), ("b", ext)):
        params = tmp_path / f"{name}.json"
        params.write_text(json.dumps({"extinction": str(table)}))
        out = tmp_path / f"{name}.nc"
        run = _cli("convert", dot_pat / "p1", "--params", params, "-o", out)
        assert run.returncode == 0, run.stderr
        outs.append(xr.load_dataset(out))
    for v in ("hbo2", "hb", "so2"):
        np.testing.assert_allclose(outs[1][v].values, outs[0][v].values, rtol=1e-12)


def test_cli_convert_refuses_mm1_maps_read_as_cm1(dot_pat, tmp_path):
    d = _folder(dot_pat, tmp_path, lambda n, a: a.astype(np.float64) / 10)
    out = tmp_path / "p1.nc"
    run = _cli("convert", d, "-o", out)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "units='mm-1'" in run.stderr
    assert not out.exists()
    assert issubclass(FormatError, BrimError)


@pytest.mark.parametrize(("units", "scale"), [("m-1", 100.0), ("mm-1", 0.1)])
def test_cli_convert_with_units_reads_maps_in_that_unit(units, scale, dot_pat, tmp_path):
    """``--units`` reaches the reader: the maps in m-1 (or mm-1) convert to the same mm-1 maps."""
    d = _folder(dot_pat, tmp_path, lambda n, a: a.astype(np.float64) * scale)
    ref, out = tmp_path / "ref.nc", tmp_path / "p1.nc"
    assert _cli("convert", dot_pat / "p1", "-o", ref).returncode == 0
    run = _cli("convert", d, "--units", units, "-o", out)
    assert run.returncode == 0, run.stderr
    a, b = xr.load_dataset(ref), xr.load_dataset(out)
    for v in ("mua", "musp", "hbt", "so2"):
        np.testing.assert_allclose(b[v].values, a[v].values, rtol=1e-5, atol=1e-9)
    assert b.attrs["converted_from_units"] == units
