"""brim.io.read_table / parse_table, the one text-table reader, and read_text's refusal of
spreadsheet workbooks. The expected cells are written out by hand from each small table."""

from __future__ import annotations

import zipfile

import pytest

from brim.errors import FormatError
from brim.io import parse_table, read_table, read_text


def _cells(table):
    return [(r.line, r.cells) for r in table.rows]


def test_semicolons_with_decimal_commas_and_a_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("wavelength;HbO2\n650;368,5\n652;355,25\n")
    t = read_table(p, what="test table")
    assert t.separator == ";" and t.decimal_comma
    assert t.header_lines == 1
    assert _cells(t) == [(1, ["wavelength", "HbO2"]), (2, ["650", "368,5"]), (3, ["652", "355,25"])]


def test_commas_with_decimal_points_are_no_decimal_commas():
    t = parse_table("x, y\n1.5, 2.5\n")
    assert t.separator == "," and not t.decimal_comma
    assert _cells(t) == [(1, ["x", "y"]), (2, ["1.5", "2.5"])]


def test_a_semicolon_in_an_unquoted_note_of_a_comma_table_does_not_make_it_semicolons():
    t = parse_table("1,malignant,left; upper outer\n2,benign,right\n", quoting=True)
    assert t.separator == ","
    assert t.rows[0].cells == ["1", "malignant", "left; upper outer"]
    assert parse_table("0,5;0,25\n").separator == ";"  # decimal commas are not separators


def test_tabs():
    t = parse_table("a\tb\tc\n1\t2\t3\n")
    assert t.separator == "\t"
    assert t.rows[1].cells == ["1", "2", "3"]


def test_blanks_and_blank_separated_decimal_commas():
    t = parse_table("30.76  30.90\t31.00\n")
    assert t.separator == " " and t.rows[0].cells == ["30.76", "30.90", "31.00"]
    t = parse_table("30,76 30,90\n31,02 -1,5\n")
    assert t.separator == " " and t.decimal_comma
    assert t.rows[1].cells == ["31,02", "-1,5"]
    assert t.header_lines == 0


def test_csv_only_tables_never_split_on_blanks():
    assert parse_table("patient id\n1\n", blanks=False).rows[0].cells == ["patient id"]
    assert parse_table("patient id\n1\n").rows[0].cells == ["patient", "id"]


def test_byte_order_mark_and_utf16(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffID,Diagnosis\n1,Sick\n".encode())
    assert read_table(p).rows[0].cells == ["ID", "Diagnosis"]  # no '\ufeff' in the first cell
    p = tmp_path / "utf16.csv"
    p.write_bytes("ID;Diagnosis\r\n7;Healthy\r\n".encode("utf-16"))
    t = read_table(p)
    assert t.separator == ";" and _cells(t) == [(1, ["ID", "Diagnosis"]), (2, ["7", "Healthy"])]


def test_crlf_cr_blank_and_comment_lines_keep_their_numbers():
    t = parse_table("# source: lab\r\n\r\nx,y\r1,2\r\n\r\n3,4\n")
    assert t.comments == [(1, "# source: lab")]
    assert _cells(t) == [(3, ["x", "y"]), (4, ["1", "2"]), (6, ["3", "4"])]
    assert [n for n, _ in parse_table("#1\n2\n", comment=None).lines] == [1, 2]


def test_units_row_counts_as_a_header_line():
    t = parse_table("lambda,HbO2,Hb\nnm,cm-1/M,cm-1/M\n650,368,3750\n")
    assert t.header_lines == 2


def test_excel_sep_line_quotes_closing_separators_and_empty_rows():
    t = parse_table('sep=;\n"a,b";c\n1,5;2\n')
    assert t.separator == ";" and t.lines[0] == (2, '"a,b";c')
    t = parse_table('"note; with semicolon",id\n"x",1\n,,\n', quoting=True)
    assert t.separator == ","
    assert _cells(t) == [(1, ["note; with semicolon", "id"]), (2, ["x", "1"])]  # ',,' dropped
    assert parse_table("1;2;\n", strip_trailing=True).rows[0].cells == ["1", "2"]
    assert parse_table("1;2;\n").rows[0].cells == ["1", "2", ""]


def test_spreadsheet_workbooks_are_refused_with_the_fix(tmp_path):
    p = tmp_path / "labels.csv"
    with zipfile.ZipFile(p, "w") as z:  # the container of an .xlsx
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(FormatError, match=r"spreadsheet workbook \(an Excel \.xlsx\).*save the "
                       r"sheet as CSV"):  # fmt: skip
        read_table(p, what="labels CSV")
    xls = tmp_path / "old.csv"  # an OLE2 compound file with a Workbook stream
    xls.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(60) + "Workbook".encode("utf-16-le")
    )
    with pytest.raises(FormatError, match=r"\.xls\).*save the sheet as CSV"):
        read_text(xls)


def test_other_zips_are_not_called_spreadsheets(tmp_path):
    p = tmp_path / "model.json"
    with zipfile.ZipFile(p, "w") as z:  # e.g. a PyTorch checkpoint
        z.writestr("archive/data.pkl", b"\x80\x02\xff\xfe")
    with pytest.raises(FormatError) as err:
        read_text(p, what="thermo model")
    assert "spreadsheet" not in str(err.value) and "not valid UTF-8" in str(err.value)


def test_read_text_limit_reads_a_preview(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("0123456789" * 10)
    assert read_text(p, limit=25) == "0123456789012345678901234"
