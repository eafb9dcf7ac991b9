"""Unseen-data audit of the thermography label tables: the DMR-IR ``ID,Diagnosis`` table as
other people save it, matched to thermograms, through ``brim thermo train`` and ``predict``.

Every variant is made from the real development table (``dmr_ir_dev/id_diagnosis.csv``): it
either reads to the same patients and labels, or is refused with a FormatError /
MissingFileError naming the problem. The expected labels are read here with the csv module
from the plain original table (Healthy = 0, Sick = 1), not by the code under test.
"""

from __future__ import annotations

import csv
import shutil
import warnings
import zipfile

import pytest

from brim.cli import main
from brim.errors import BrimWarning, FormatError, MissingFileError
from brim.thermo.classify import load_cohort, patient_of, read_labels


@pytest.fixture(scope="module")
def dev(external_data):
    return external_data / "thermo" / "dmr_ir_dev"


@pytest.fixture(scope="module")
def rows(dev):
    """(id text, diagnosis text) of the original table, in its order."""
    with open(dev / "id_diagnosis.csv", newline="") as fh:
        return [(r["ID"], r["Diagnosis"]) for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def truth(rows):
    return {int(i): {"Healthy": 0, "Sick": 1}[d] for i, d in rows}


def _table(rows, header="ID,Diagnosis", sep=",", line=None, label=None):
    line = line or (lambda i, d: f"{i}{sep}{d}")
    label = label or (lambda d: d)
    return header + "\n" + "".join(line(i, label(d)) + "\n" for i, d in rows)


def _other(d):
    return "Sick" if d == "Healthy" else "Healthy"


# each: rows -> the bytes of a table that holds the same patients and labels
SAME = {
    "utf8_bom": lambda r: ("\ufeff" + _table(r)).encode(),
    "utf16": lambda r: _table(r).encode("utf-16"),
    "crlf": lambda r: _table(r).replace("\n", "\r\n").encode(),
    "semicolon": lambda r: _table(r, "ID;Diagnosis", ";").encode(),
    "tab": lambda r: _table(r, "ID\tDiagnosis", "\t").encode(),
    "id_label_lower": lambda r: _table(r, "id,label").encode(),
    "patient_diagnosis": lambda r: _table(r, "patient,diagnosis").encode(),
    "patient_id_semicolon_utf16_crlf": lambda r: (
        _table(r, "Patient ID;Diagnosis", ";").replace("\n", "\r\n").encode("utf-16")
    ),
    "patient_underscore_tab": lambda r: _table(r, "PATIENT_ID\tLabel", "\t").encode(),
    # extra columns, quoted fields, the separator inside a quoted note, diagnosis not 2nd
    "extra_quoted_columns": lambda r: _table(
        r, '"Age","ID","Notes","Diagnosis"', line=lambda i, d: f'52,"{i}","seen, twice","{d}"'
    ).encode(),
    # a European spreadsheet: ';' separated, decimal commas in another column
    "semicolon_decimal_comma": lambda r: _table(
        r, "ID;Diagnosis;BMI", line=lambda i, d: f"{i};{d};24,5"
    ).encode(),
    "labels_01": lambda r: _table(r, label=lambda d: "1" if d == "Sick" else "0").encode(),
    "yes_no": lambda r: _table(r, label=lambda d: "yes" if d == "Sick" else "no").encode(),
    "case_and_spaces": lambda r: _table(r, label=lambda d: f"  {d.upper()} ").encode(),
    "sick_lower": lambda r: _table(r, label=str.lower).encode(),
    # the Colombian cohort's codes: N = normal, PM = malignant pathology
    "n_pm": lambda r: _table(r, label=lambda d: "PM" if d == "Sick" else "N").encode(),
    "ids_T0001": lambda r: _table(r, line=lambda i, d: f"T{int(i):04d},{d}").encode(),
    "ids_0001": lambda r: _table(r, line=lambda i, d: f"{int(i):04d},{d}").encode(),
    "ids_float": lambda r: _table(r, line=lambda i, d: f"{int(i)}.0,{d}").encode(),
    "listed_twice_same_label": lambda r: (
        _table(r) + f"T{int(r[0][0]):04d},{r[0][1].lower()}\n"
    ).encode(),
    "blank_and_comment_lines": lambda r: (
        "# DMR-IR labels, exported 2024-05-02\n\n"
        + _table(r).replace("\n", "\n\n", 5)
        + "\n# end of table\n   \n"
    ).encode(),
}


@pytest.mark.parametrize("variant", sorted(SAME))
def test_variant_reads_to_the_same_labels(variant, rows, truth, tmp_path):
    p = tmp_path / "labels.csv"
    p.write_bytes(SAME[variant](rows))
    assert read_labels(p) == truth


# each: rows -> (bytes, fragments the error message must hold)
REFUSED = {
    # today's rule "the later row wins" trained on a label the table's author never meant
    "listed_twice_conflicting": lambda r: (
        (_table(r) + f"T{int(r[0][0]):04d},{_other(r[0][1])}\n").encode(),
        [f"patient {int(r[0][0])} is listed twice", "line 2 ", f"line {len(r) + 2} "],
    ),
    "pb_benign": lambda r: (
        (_table(r) + "999,PB\n").encode(),
        ["line 42", "'PB'", "benign", "Healthy or Sick"],
    ),
    "benign_word": lambda r: ((_table(r) + "999,Benign\n").encode(), ["benign"]),
    "empty_diagnosis": lambda r: (
        (_table(r) + "999,\n").encode(),
        ["line 42", "patient 999 has no diagnosis"],
    ),
    "unknown_diagnosis": lambda r: ((_table(r) + "999,Maybe\n").encode(), ["'Maybe'"]),
    "id_not_a_number": lambda r: (
        (_table(r) + "Mrs Smith,Sick\n").encode(),
        ["line 42", "'Mrs Smith'", "not a patient number"],
    ),
    "no_diagnosis_column": lambda r: (b"ID,Age\n1,45\n", ["no diagnosis column", "ID,Diagnosis"]),
    "no_id_column": lambda r: (b"Name,Diagnosis\nX,Sick\n", ["no patient ID column"]),
    "two_id_columns": lambda r: (
        b"ID,Patient,Diagnosis\n1,12,Sick\n",
        ["'ID', 'Patient'", "keep one"],
    ),
    "short_row": lambda r: (b"Age,ID,Diagnosis\n45,1,Sick\n46\n", ["line 3", "1 field"]),
    "header_only": lambda r: (b"ID,Diagnosis\n\n# nothing yet\n", ["no labelled patients"]),
    "empty_file": lambda r: (b"", ["empty"]),
}


def _xlsx(path):
    with zipfile.ZipFile(path, "w") as z:  # the container of an Excel workbook
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")


@pytest.mark.parametrize("variant", sorted(REFUSED))
def test_variant_is_refused_naming_the_problem(variant, rows, tmp_path):
    data, says = REFUSED[variant](rows)
    p = tmp_path / "labels.csv"
    p.write_bytes(data)
    with pytest.raises(FormatError) as err:
        read_labels(p)
    for s in says:
        assert s in str(err.value), (s, str(err.value))


@pytest.mark.parametrize("name", ["labels.xlsx", "labels.csv"])
def test_spreadsheet_given_as_labels_says_save_as_csv(name, tmp_path):
    # used to say "byte 0x8b is not valid UTF-8 text" (a renamed .xlsx reads the same)
    p = tmp_path / name
    _xlsx(p)
    with pytest.raises(FormatError, match="save the sheet as CSV"):
        read_labels(p)


def test_camera_shot_number_is_no_patient():
    # IR_<date>_<shot>: the reader's naming with no patient; the shot 1 was patient 1's label
    assert patient_of("IR_20130410_1.txt") is None
    assert patient_of("T0012.txt") == 12
    assert patient_of("PAC_12_ST.txt") == 12


@pytest.fixture(scope="module")
def subset(dev, rows, tmp_path_factory):
    """Six real thermograms (the first three healthy and three sick patients) in a folder."""
    out = tmp_path_factory.mktemp("dmr6")
    pick = [r for r in rows if r[1] == "Healthy"][:3] + [r for r in rows if r[1] == "Sick"][:3]
    for i, _ in pick:
        shutil.copy(dev / f"T{int(i):04d}.txt", out)
    return out, pick


def test_unmatched_files_and_patients_are_each_named(subset, truth, tmp_path):
    # used to drop unlabelled thermograms and table rows without a file without a word
    folder, pick = subset
    listed = pick[1:]  # the first thermogram has no label; two listed patients no file
    p = tmp_path / "labels.csv"
    p.write_text(_table([*listed, ("5000", "Sick"), ("5001", "Healthy")]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cohort = load_cohort(folder, labels=p)
    said = [str(w.message) for w in caught if issubclass(w.category, BrimWarning)]
    first = f"T{int(pick[0][0]):04d}.txt"
    assert any("1 of 6 thermograms have no label in labels.csv" in s and first in s for s in said)
    assert any("2 of 7 patients of labels.csv have no thermogram" in s and "5000, 5001" in s
               for s in said)  # fmt: skip
    assert sorted(cohort.patients.tolist()) == sorted(int(i) for i, _ in listed)
    assert all(truth[int(q)] == y for q, y in zip(cohort.patients, cohort.labels, strict=True))


def test_no_file_matches_shows_both_id_sets(subset, tmp_path):
    folder, pick = subset
    p = tmp_path / "labels.csv"
    p.write_text(_table([(str(1000 + int(i)), d) for i, d in pick]))
    with pytest.raises(MissingFileError) as err:
        load_cohort(folder, labels=p)
    msg = str(err.value)
    assert "no labelled thermogram" in msg
    assert f"patient(s) {int(pick[0][0])}" in msg and f"lists {1000 + int(pick[0][0])}" in msg


def _train(folder, labels, out):
    return main(
        ["thermo", "train", str(folder), "--labels", str(labels), "-o", str(out), "--no-audit",
         "--no-progress"]
    )  # fmt: skip


def test_cli_train_predict_same_with_a_variant_table(subset, tmp_path, capsys):
    folder, pick = subset
    plain, variant = tmp_path / "plain.csv", tmp_path / "variant.csv"
    plain.write_text(_table(pick))
    # another lab's table: UTF-16, CRLF, ';', other header words, T-ids, an extra column,
    # comments, lower-case labels, one patient listed twice with the same label, rows reordered
    other = "# labels\r\nPatient ID;Age;Diagnosis\r\n" + "".join(
        f'T{int(i):04d};5{k};"{d.lower()} "\r\n' for k, (i, d) in enumerate([*pick[::-1], pick[0]])
    )
    variant.write_bytes(other.encode("utf-16"))
    with pytest.warns(BrimWarning, match="fewer than 10 per class"):
        assert _train(folder, plain, tmp_path / "m_plain") == 0
        assert _train(folder, variant, tmp_path / "m_variant") == 0
    out = capsys.readouterr().out
    assert "training on 6 thermograms of 6 patients (3 healthy, 3 sick)" in out
    m0 = (tmp_path / "m_plain" / "model.json").read_text()
    assert m0 == (tmp_path / "m_variant" / "model.json").read_text()
    for m in ("m_plain", "m_variant"):
        assert main(["thermo", "predict", str(tmp_path / m), str(folder),
                     "-o", str(tmp_path / f"{m}.csv")]) == 0  # fmt: skip
    s0 = (tmp_path / "m_plain.csv").read_text()
    assert s0 == (tmp_path / "m_variant.csv").read_text()
    assert len(s0.splitlines()) == 7


def test_cli_train_refuses_conflicting_table_without_model_folder(subset, tmp_path, capsys):
    folder, pick = subset
    p = tmp_path / "labels.csv"
    p.write_text(_table([*pick, (pick[2][0], _other(pick[2][1]))]))
    assert _train(folder, p, tmp_path / "m") == 2
    err = capsys.readouterr().err
    assert f"patient {int(pick[2][0])} is listed twice" in err and "line 4 " in err
    assert "line 8 " in err
    assert not (tmp_path / "m").exists()
