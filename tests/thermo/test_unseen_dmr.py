"""DMR-IR temperature matrices in variants the development files do not show.

The development set holds the two DMR-IR text formats (space, 2 decimals; ``;``, 5 decimals).
Other copies of the same database are re-saved by spreadsheets and editors: comma-separated
CSV, a decimal comma, a byte-order mark, UTF-16, a header line, or the matrix converted to
kelvin or degF. Each must be read to the same numbers or refused with a one-line
brim.FormatError that names the problem, never read as a wrong temperature.
"""

from __future__ import annotations

import numpy as np
import pytest

from brim.cli import main
from brim.errors import FormatError
from brim.thermo.readers import dmr_format, read, read_dmr, read_frames


@pytest.fixture(scope="module")
def matrix():
    rng = np.random.default_rng(11)
    body = 30.0 + 2.0 * rng.standard_normal((480, 640))
    body[:, :120] = 22.0 + 0.3 * rng.standard_normal((480, 120))  # the room beside the body
    return np.round(body, 2)


def _lines(arr, sep=" ", fmt="{:.2f}", decimal="."):
    def cell(v):
        return fmt.format(v).replace(".", decimal)

    return "\r\n".join(sep.join(cell(v) for v in row) for row in arr) + "\r\n"


@pytest.mark.parametrize(
    ("sep", "decimal", "expected_format"),
    [
        (",", ".", "comma"),  # a spreadsheet's CSV export
        (", ", ".", "comma"),
        ("\t", ".", "space"),
        (" ", ",", "space"),  # decimal comma (Portuguese locale), blank-separated
        (";", ",", "semicolon"),  # decimal comma in the ;-separated format
    ],
)
def test_separators_and_decimal_commas_read_the_same_numbers(
    tmp_path, matrix, sep, decimal, expected_format
):
    path = tmp_path / "T0999.csv"
    path.write_text(_lines(matrix, sep=sep, decimal=decimal))
    ds = read(path)
    np.testing.assert_allclose(ds["temperature"].values, matrix, atol=1e-5)
    assert ds.attrs["dmr_text_format"] == expected_format


def test_a_single_column_with_a_decimal_comma_is_not_split(tmp_path):
    assert dmr_format("30,76\r\n31,02\r\n") == "space"
    path = tmp_path / "column.txt"
    path.write_text("30,76\r\n31,02\r\n")
    np.testing.assert_allclose(read_dmr(path, shape=None)["temperature"].values, [[30.76], [31.02]])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_marks_are_read(tmp_path, matrix, encoding):
    path = tmp_path / "T0998.txt"
    path.write_bytes(_lines(matrix).encode(encoding))
    np.testing.assert_allclose(read_dmr(path)["temperature"].values, matrix, atol=1e-5)


def test_real_files_resaved_as_csv_and_with_bom(external_data, tmp_path):
    for name in ("T0001.txt", "T0312.txt"):  # one file of each DMR-IR format
        src = external_data / "thermo" / "dmr_ir_dev" / name
        expected = read_dmr(src)["temperature"].values
        text = src.read_text()
        sep = ";" if ";" in text[:4096] else " "
        rows = [r.strip().rstrip(";").split(sep) for r in text.splitlines() if r.strip()]
        csv_path = tmp_path / (src.stem + ".csv")
        csv_path.write_text("\n".join(",".join(r) for r in rows) + "\n")
        np.testing.assert_array_equal(read(csv_path)["temperature"].values, expected)
        bom = tmp_path / ("bom_" + name)
        bom.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
        np.testing.assert_array_equal(read_dmr(bom)["temperature"].values, expected)


def test_degf_kelvin_header_transposed_are_refused_by_name(tmp_path, matrix):
    cases = {
        "degF": (_lines(matrix * 1.8 + 32), "degF"),
        "kelvin": (_lines(matrix + 273.15), "kelvin"),
        "header": ("temperature matrix (degC)\r\n" + _lines(matrix), "header line"),
        "transposed": (_lines(matrix.T), "transposed"),
        "empty_cell": (
            _lines(matrix, sep=";").replace(f";{matrix[0, 1]:.2f};", ";;", 1),
            "value 2 is empty",
        ),
    }
    for name, (text, phrase) in cases.items():
        path = tmp_path / f"T{name}.txt"
        path.write_text(text)
        with pytest.raises(FormatError, match=phrase) as info:
            read_dmr(path)
        assert len(str(info.value)) < 400, name  # a line, not a dump of the file's row


def test_cli_refuses_degf_matrix_with_one_line_and_no_output(tmp_path, matrix, capsys):
    path = tmp_path / "T0997.txt"
    path.write_text(_lines(matrix * 1.8 + 32))
    for command, out in (
        ("convert", tmp_path / "o.nc"),
        ("segment", tmp_path / "s.nc"),
        ("features", tmp_path / "f.csv"),
    ):
        capsys.readouterr()
        assert main(["thermo", command, str(path), "-o", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("brim: error:") and "degF" in err and "\n" not in err
        assert not out.exists()


def test_features_refuse_missing_cells_inside_the_breasts(external_data, tmp_path, capsys):
    # a damaged copy of a real thermogram: a band of NaN cells across the chest
    src = external_data / "thermo" / "dmr_ir_dev" / "T0001.txt"
    arr = read_dmr(src)["temperature"].values.astype(float)
    arr[200:260, 100:500] = np.nan
    path = tmp_path / "T0001.txt"
    np.savetxt(path, arr, fmt="%.2f")
    out = tmp_path / "f.csv"
    assert main(["thermo", "features", str(path), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("brim: error: T0001.txt:") and "breast" in err[-1]
    assert not out.exists() and not out.with_suffix(".units.csv").exists()
    one = arr.copy()
    one[np.isnan(one)] = 30.0
    one[0, 0] = np.nan  # a missing cell in the room's corner does not matter
    np.savetxt(path, one, fmt="%.2f")
    assert main(["thermo", "features", str(path), "-o", str(out), "--no-progress"]) == 0
    assert out.is_file()


def test_a_folder_of_several_patients_is_not_stacked_as_one_series(tmp_path, matrix, capsys):
    folder = tmp_path / "static"
    folder.mkdir()
    for name in ("T0001.txt", "T0012.txt"):  # the DMR-IR static files: one per patient
        (folder / name).write_text(_lines(matrix))
    with pytest.raises(FormatError, match="2 patients"):
        read(folder)
    for command, out in (("convert", tmp_path / "s.nc"), ("features", tmp_path / "f.csv")):
        capsys.readouterr()
        assert main(["thermo", command, str(folder), "-o", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("brim: error:") and "OUTDIR" in err and not out.exists()
    # frames of one patient's dynamic protocol still make a series
    for k in range(2):
        (tmp_path / f"PAC_64_DN{k}.txt").write_text(_lines(matrix))
    files = [tmp_path / f"PAC_64_DN{k}.txt" for k in range(2)]
    assert read_frames(files)["temperature"].shape == (2, 480, 640)


def test_lateral_views_are_named_and_not_segmented_as_frontal(tmp_path, matrix, capsys):
    from brim.thermo.readers import parse_dmr_name

    assert parse_dmr_name("12_lateral_left_static_20130410.txt") == {
        "patient": 12,
        "view": "lateral_left",
        "protocol": "static",
        "date": "2013-04-10",
    }
    path = tmp_path / "12_lateral_left_static_20130410.txt"
    path.write_text(_lines(matrix))
    assert read(path).attrs["view"] == "lateral_left"  # reading and converting stay possible
    for command, out in (("segment", tmp_path / "s.nc"), ("features", tmp_path / "f.csv")):
        capsys.readouterr()
        assert main(["thermo", command, str(path), "-o", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("brim: error:") and "frontal" in err and not out.exists()
