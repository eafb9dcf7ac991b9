"""brim.io.write_text: text outputs (CSV tables, JSON summaries, HTML reports) are replaced
atomically, like brim.save's NetCDF files."""

from __future__ import annotations

import os

import pytest

from brim.errors import MissingFileError
from brim.io import write_atomically, write_text


def test_writes_the_text_as_given_with_an_ordinary_files_mode(tmp_path):
    path = write_text(tmp_path / "table.csv", "id,dice\r\n1,0.8\r\n")
    assert path.read_bytes() == b"id,dice\r\n1,0.8\r\n"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "table.csv"]


def test_replacing_keeps_the_mode_of_the_file_replaced(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    write_text(path, '{"n_ok": 3}')
    assert path.read_text() == '{"n_ok": 3}'
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("1,0\n2,1\n")

    def half_then_fail(tmp):
        with open(tmp, "w") as f:
            f.write("1,")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomically(path, half_then_fail)
    assert path.read_text() == "1,0\n2,1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.csv"]


def test_text_the_encoding_cannot_hold_leaves_no_file(tmp_path):
    with pytest.raises(UnicodeEncodeError):
        write_text(tmp_path / "a.csv", "temperature \u00b0C", encoding="ascii")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(MissingFileError, match="folder .*missing.* does not exist"):
        write_text(tmp_path / "missing" / "a.csv", "x")
