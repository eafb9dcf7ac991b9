"""Optical measurements re-saved the ways a lab saves them: every variant reads to the same
numbers or is refused with a :class:`brim.BrimError` naming the problem and the fix.

Made from the bundled samples (``fusion_measurement``; the Monte Carlo ``fusion_mmc/d10_z15``
with its standard errors) written by brim's own CSV writer, then edited as a spreadsheet, a
MATLAB user or another acquisition program would: BOM/CRLF, semicolons with decimal commas,
renamed/reordered/extra columns, phase in degrees, other length and wavelength units, the
frequency in MHz, missing/duplicate/NaN rows; .mat v5 and v7.3, transposed positions, float32.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import brim
from brim.cli import main
from brim.errors import BrimError, FormatError
from brim.fusion import read_measurement, write_measurement_csv

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402

SAMPLES = Path(__file__).parents[2] / "data_samples"
MMC = SAMPLES / "fusion_mmc" / "d10_z15.nc"
VARS = ("amplitude", "phase", "amplitude_rel_se", "phase_se")
POS = ("source_x", "source_y", "detector_x", "detector_y")


@pytest.fixture(scope="module")
def original():
    return read_measurement(MMC)


@pytest.fixture(scope="module")
def csv_lines(original, tmp_path_factory):
    p = write_measurement_csv(original, tmp_path_factory.mktemp("csv") / "m.csv")
    return p.read_text().splitlines()


def _same(got, ref, rtol=0.0):
    for v in VARS:
        if v in ref:
            np.testing.assert_allclose(got[v].values, ref[v].values, rtol=rtol, atol=0, err_msg=v)
    for c in (*POS, "wavelength"):
        np.testing.assert_allclose(got[c].values, ref[c].values, rtol=max(rtol, 1e-15), err_msg=c)
    assert float(got.modulation_frequency) == pytest.approx(float(ref.modulation_frequency))


def _table(lines):
    """(comment, header cells, rows of cells) of brim's CSV."""
    return lines[0], lines[1].split(","), [r.split(",") for r in lines[2:]]


def _write(tmp_path, text, name="v.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_written_csv_reads_back(original, csv_lines, tmp_path):
    _same(read_measurement(_write(tmp_path, "\n".join(csv_lines) + "\n")), original)


def _semicolon(lines):
    return [ln.replace(",", ";").replace(".", ",") for ln in lines]


def _reordered(lines):
    comment, head, rows = _table(lines)
    order = [6, 5, 8, 7, 4, 3, 2, 1, 0]
    names = {
        "wavelength_nm": "Wavelength (nm)",
        "source_x_m": "Source_X_m",
        "phase_rad": "PHASE_RAD",
    }
    head = ["channel", *(names.get(head[i], head[i]) for i in order), "gain"]
    body = [[str(k), *(r[i] for i in order), "1.0"] for k, r in enumerate(rows)]
    return [comment] + [",".join(r) for r in [head, *body]]


def _unit_columns(lines, *, phase_deg=False, pos=None, wl=None, mhz=False):
    comment, head, rows = _table(lines)
    rows = [[float(x) for x in r] for r in rows]
    if mhz:
        comment = f"# modulation_frequency_mhz={float(comment.split('=')[1]) / 1e6!r}"
    if phase_deg:
        head[6], head[8] = "phase_deg", "phase_se_deg"
        for r in rows:
            r[6], r[8] = np.degrees(r[6]), np.degrees(r[8])
    if pos:
        unit, f = pos
        for j in range(1, 5):
            head[j] = head[j][:-1] + unit
            for r in rows:
                r[j] *= f
    if wl:
        unit, f = wl
        head[0] = "wavelength_" + unit
        for r in rows:
            r[0] *= f
    return [comment, ",".join(head), *(",".join(repr(float(x)) for x in r) for r in rows)]


def _unit_symbols(lines):
    comment, head, *rows = _unit_columns(lines, phase_deg=True, pos=("um", 1e6))
    head = head.replace("phase_se_deg", "phase_se [°]").replace("phase_deg", "Phase (°)")
    return [comment, head.replace("_um", " (µm)"), *rows]


def _blank_rows(lines):
    return [*lines, ",,,,,,,,", ",,,,,,,,"]


def _low_precision(lines):
    comment, head, rows = _table(lines)
    return [comment, ",".join(head), *(",".join(f"{float(x):.7g}" for x in r) for r in rows)]


SAME = {
    "bom_crlf": (lambda ls: ls, "\r\n", "utf-8-sig", 0.0),
    "utf16_bom": (lambda ls: ls, "\r\n", "utf-16", 0.0),
    "semicolon_decimal_comma": (_semicolon, "\r\n", "utf-8-sig", 0.0),
    "excel_sep_line": (lambda ls: ["sep=;", *_semicolon(ls)], "\n", "utf-8", 0.0),
    "tabs": (lambda ls: [ln.replace(",", "\t") for ln in ls], "\n", "utf-8", 0.0),
    "reordered_capitalised_extra": (_reordered, "\n", "utf-8", 0.0),
    "phase_degrees": (lambda ls: _unit_columns(ls, phase_deg=True), "\n", "utf-8", 1e-14),
    "positions_mm": (lambda ls: _unit_columns(ls, pos=("mm", 1e3)), "\n", "utf-8", 1e-14),
    "positions_cm": (lambda ls: _unit_columns(ls, pos=("cm", 1e2)), "\n", "utf-8", 1e-14),
    "wavelength_um": (lambda ls: _unit_columns(ls, wl=("um", 1e-3)), "\n", "utf-8", 1e-14),
    "frequency_mhz": (lambda ls: _unit_columns(ls, mhz=True), "\n", "utf-8", 0.0),
    "unit_symbols_in_header": (_unit_symbols, "\n", "utf-8", 1e-14),
    "spreadsheet_blank_rows": (_blank_rows, "\n", "utf-8", 0.0),
    "seven_digits": (_low_precision, "\n", "utf-8", 1e-6),
}


@pytest.mark.parametrize("name", SAME)
def test_csv_variant_reads_the_same(name, original, csv_lines, tmp_path):
    edit, eol, enc, rtol = SAME[name]
    p = _write(tmp_path, eol.join(edit(list(csv_lines))) + eol, encoding=enc)
    _same(read_measurement(p), original, rtol=rtol)


def _phase_deg_named_rad(lines):
    comment, head, rows = _table(lines)
    return [
        comment,
        ",".join(head),
        *(",".join(r[:6] + [repr(float(np.degrees(float(r[6]))))] + r[7:]) for r in rows),
    ]


def _rename(old, new):
    return lambda ls: [ls[0], ls[1].replace(old, new), *ls[2:]]


def _db_amplitude(lines):
    comment, head, rows = _table(lines)
    head[5] = "amplitude_dB"
    return [
        comment,
        ",".join(head),
        *(",".join(r[:5] + [repr(float(20 * np.log10(float(r[5]))))] + r[6:]) for r in rows),
    ]


def _ln_in_amplitude(lines):
    comment, head, rows = _table(lines)
    return [
        comment,
        ",".join(head),
        *(",".join(r[:5] + [repr(float(np.log(float(r[5]))))] + r[6:]) for r in rows),
    ]


def _drop(k):
    return lambda ls: ls[:2] + [r for i, r in enumerate(ls[2:]) if i != k]


def _nan_row(lines):
    comment, head, rows = _table(lines)
    rows[3][5] = "NaN"
    return [comment, ",".join(head), *(",".join(r) for r in rows)]


REFUSED = {
    # (edit, words the message must hold)
    "phase_without_unit": (_rename("phase_rad", "phase"), ["without a unit", "phase_<unit>"]),
    "amplitude_db": (_db_amplitude, ["logarithmic", "10**(dB / 20)"]),
    "ln_amplitude_in_amplitude": (_ln_in_amplitude, ["amplitude must be >= 0", "not dB"]),
    "positions_mm_in_m_columns": (
        lambda ls: _unit_columns(ls, pos=("m", 1e3)),
        ["beyond 0.5 m", "metres"],
    ),
    "wavelength_um_in_nm_column": (
        lambda ls: [
            *_unit_columns(ls, wl=("um", 1e-3))[:1],
            _unit_columns(ls, wl=("um", 1e-3))[1].replace("wavelength_um", "wavelength_nm"),
            *_unit_columns(ls, wl=("um", 1e-3))[2:],
        ],
        ["not optical wavelengths in nm", "780"],
    ),
    "wavelength_m_in_nm_column": (
        lambda ls: [
            *_unit_columns(ls, wl=("m", 1e-9))[:1],
            _unit_columns(ls, wl=("m", 1e-9))[1].replace("wavelength_m", "wavelength_nm"),
            *_unit_columns(ls, wl=("m", 1e-9))[2:],
        ],
        ["not optical wavelengths in nm"],
    ),
    "missing_row": (_drop(40), ["incomplete table", "1 of 504", "drop the incomplete"]),
    "duplicate_pair": (lambda ls: [*ls, ls[7]], ["duplicate of line 8"]),
    "nan_row": (_nan_row, ["line 6", "NaN"]),
    "no_frequency_line": (lambda ls: ls[1:], ["no modulation frequency", "140e6"]),
    "frequency_mhz_as_hz": (
        lambda ls: ["# modulation_frequency_hz=140", *ls[1:]],
        ["MHz given as Hz", "140e6"],
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_csv_variant_is_refused(name, csv_lines, tmp_path):
    edit, words = REFUSED[name]
    p = _write(tmp_path, "\n".join(edit(list(csv_lines))) + "\n")
    with pytest.raises(BrimError) as err:
        read_measurement(p)
    assert p.name in str(err.value)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_phase_beyond_a_turn_in_a_rad_column_warns(original, tmp_path):
    """Degrees under a ``phase_rad`` header: the schema refuses only beyond 100 rad (an unwrapped
    phase may pass 2 pi), so brim warns from 2 pi on; it used to read them silently."""
    one = original.isel(wavelength=[1], source=[0])
    keep = np.flatnonzero(np.abs(one.phase.values[0, 0]) < np.radians(95))  # within the schema
    assert keep.size >= 3
    lines = write_measurement_csv(one.isel(detector=keep), tmp_path / "m.csv").read_text()
    p = _write(tmp_path, "\n".join(_phase_deg_named_rad(lines.splitlines())) + "\n")
    with pytest.warns(brim.BrimWarning, match="beyond 2 pi: if these are degrees, name the col"):
        read_measurement(p)


def test_mat_phase_in_degrees_warns(original, tmp_path):
    one = original.isel(wavelength=[1], source=[0])
    keep = np.flatnonzero(np.abs(one.phase.values[0, 0]) < np.radians(95))  # within the schema
    m = _mat_vars(one.isel(detector=keep))
    m["phase"] = np.degrees(m["phase"])
    p = tmp_path / "m.mat"
    scipy.io.savemat(p, m)
    with pytest.warns(brim.BrimWarning, match="beyond 2 pi: if these are degrees, convert it"):
        read_measurement(p)


@pytest.mark.parametrize("unit", ["deg", "um"])
def test_netcdf_with_other_units_attributes_reads_the_same(unit, original, tmp_path):
    ds = original.copy()
    if unit == "deg":
        for v in ("phase", "phase_se"):
            ds[v] = ds[v].copy(data=np.degrees(ds[v].values)).assign_attrs(units="deg")
    else:
        ds = ds.assign_coords(
            wavelength=("wavelength", ds.wavelength.values / 1e3, {"units": "um"})
        )
    ds.to_netcdf(tmp_path / "m.nc")
    _same(read_measurement(tmp_path / "m.nc"), original, rtol=1e-14)


def test_dropped_wavelength_reads_the_rest(original, csv_lines, tmp_path):
    keep = [ln for ln in csv_lines[2:] if not ln.startswith("808.0,")]
    got = read_measurement(_write(tmp_path, "\n".join(csv_lines[:2] + keep) + "\n"))
    _same(got, original.sel(wavelength=[740.0, 780.0, 830.0]))


# --- MATLAB ---------------------------------------------------------------------------------


def _mat_vars(ds, *, dtype=np.float64):
    return {
        "amplitude": ds.amplitude.values.astype(dtype),
        "phase": ds.phase.values.astype(dtype),
        "wavelength": ds.wavelength.values.astype(dtype),
        "source_pos": np.c_[ds.source_x.values, ds.source_y.values].astype(dtype) * 1e3,
        "detector_pos": np.c_[ds.detector_x.values, ds.detector_y.values].astype(dtype) * 1e3,
        "frequency": float(ds.modulation_frequency),
    }


def _plain(ds):
    return ds.drop_vars(["amplitude_rel_se", "phase_se"])


@pytest.mark.parametrize("how", ["v5", "v73", "transposed_positions", "v73_transposed_positions"])
def test_mat_variant_reads_the_same(how, original, tmp_path):
    m = _mat_vars(original)
    if "transposed" in how:
        m["source_pos"], m["detector_pos"] = m["source_pos"].T, m["detector_pos"].T
    p = tmp_path / "m.mat"
    savemat73(p, m) if how.startswith("v73") else scipy.io.savemat(p, m)
    _same(read_measurement(p), _plain(original), rtol=1e-15)


def test_mat_float32_reads_to_single_precision(original, tmp_path):
    p = tmp_path / "m.mat"
    scipy.io.savemat(p, _mat_vars(original, dtype=np.float32))
    _same(read_measurement(p), _plain(original), rtol=1e-6)


MAT_REFUSED = {
    "positions_in_m": (
        lambda m: {
            **m,
            "source_pos": m["source_pos"] / 1e3,
            "detector_pos": m["detector_pos"] / 1e3,
        },
        ["too short for diffuse light", "position_units='m'"],
    ),
    "wavelength_in_m": (
        lambda m: {**m, "wavelength": m["wavelength"] * 1e-9},
        ["not optical wavelengths in nm"],
    ),
    "frequency_in_mhz": (lambda m: {**m, "frequency": 140.0}, ["MHz given as Hz"]),
    "amplitude_permuted": (
        lambda m: {**m, "amplitude": m["amplitude"].transpose(2, 1, 0)},
        ["'amplitude' has shape (14, 9, 4)", "transposed"],
    ),
    "no_frequency": (
        lambda m: {k: v for k, v in m.items() if k != "frequency"},
        ["missing MATLAB variables ['frequency']"],
    ),
}


@pytest.mark.parametrize("name", MAT_REFUSED)
def test_mat_variant_is_refused(name, original, tmp_path):
    edit, words = MAT_REFUSED[name]
    p = tmp_path / "m.mat"
    scipy.io.savemat(p, edit(_mat_vars(original)))
    with pytest.raises(FormatError) as err:
        read_measurement(p)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_mat_positions_in_m_read_with_position_units(original, tmp_path):
    m = _mat_vars(original)
    m["source_pos"], m["detector_pos"] = m["source_pos"] / 1e3, m["detector_pos"] / 1e3
    p = tmp_path / "m.mat"
    scipy.io.savemat(p, m)
    _same(read_measurement(p, position_units="m"), _plain(original), rtol=1e-15)


# --- CLI ------------------------------------------------------------------------------------


def _run(capsys, *argv):
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip()


def test_cli_convert_refuses_without_partial_output(csv_lines, tmp_path, capsys):
    p = _write(tmp_path, "\n".join(csv_lines[1:]) + "\n")  # no frequency line
    code, err = _run(capsys, "fusion", "convert", p, "-o", tmp_path / "out.nc")
    assert code != 0 and "no modulation frequency" in err and "Traceback" not in err
    assert not (tmp_path / "out.nc").exists()
    code, err = _run(
        capsys, "fusion", "convert", p, "--modulation-frequency", "140e6", "-o", tmp_path / "out.nc"
    )
    assert code == 0, err


def test_cli_convert_lab_csv_gives_the_same_file(original, csv_lines, tmp_path, capsys):
    p = _write(tmp_path, "\r\n".join(_reordered(_unit_columns(csv_lines, phase_deg=True))), "l.csv")
    code, err = _run(capsys, "fusion", "convert", p, "-o", tmp_path / "out.nc")
    assert code == 0, err
    _same(brim.open(tmp_path / "out.nc"), original, rtol=1e-14)


def test_cli_reconstruct_semicolon_csv_gives_the_same_map(tmp_path, capsys):
    """``brim fusion reconstruct`` on a semicolon/decimal-comma CSV of the sample measurement:
    the same map (mua, hence HbT) as on the NetCDF sample."""
    meas = read_measurement(SAMPLES / "fusion_measurement.nc")
    lines = write_measurement_csv(meas, tmp_path / "m.csv").read_text().splitlines()
    variant = _write(tmp_path, "\r\n".join(_semicolon(lines)) + "\r\n", "lab.csv", "utf-8-sig")
    outs = []
    for src in (SAMPLES / "fusion_measurement.nc", variant):
        out = tmp_path / f"map_{src.suffix[1:]}.nc"
        code, err = _run(
            capsys,
            "fusion",
            "reconstruct",
            src,
            "--reference",
            SAMPLES / "fusion_reference.nc",
            "--roi",
            "0,0,20,7.5",
            "--nonlinear-iterations",
            "0",
            "-o",
            out,
        )
        assert code == 0, err
        outs.append(brim.open(out))
    np.testing.assert_array_equal(outs[1].mua.values, outs[0].mua.values)
    np.testing.assert_array_equal(outs[1].lesion_delta_mua.values, outs[0].lesion_delta_mua.values)
