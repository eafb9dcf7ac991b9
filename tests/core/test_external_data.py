"""``brim.data.external_data``: where ``$BRIM_EXTERNAL_DATA`` points, from any working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

import brim
import brim.data

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(monkeypatch):
    """An empty resolution cache, and the variable unset, for each test."""
    monkeypatch.setattr(brim.data, "_RESOLVED", {})
    monkeypatch.delenv("BRIM_EXTERNAL_DATA", raising=False)
    return monkeypatch


@pytest.fixture
def tree(tmp_path):
    """A fake checkout ``work/repo`` (brim's pyproject, ``examples/``) and ``work/shared/data``."""
    repo = tmp_path / "work" / "repo"
    (repo / "examples").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "brim"\n')
    data = tmp_path / "work" / "shared" / "data"
    (data / "microwave" / "merit").mkdir(parents=True)
    return repo, data


def test_unset_gives_none_and_required_raises(fresh):
    assert brim.data.external_data() is None
    assert brim.data.external_data("microwave/merit") is None
    fresh.setenv("BRIM_EXTERNAL_DATA", "  ")
    assert brim.data.external_data() is None
    with pytest.raises(brim.MissingFileError, match="BRIM_EXTERNAL_DATA is not set"):
        brim.data.external_data(required=True)


def test_relative_to_working_directory(fresh, tree):
    repo, data = tree
    fresh.chdir(repo)
    fresh.setenv("BRIM_EXTERNAL_DATA", "../shared/data")
    assert brim.data.external_data() == data.resolve()
    assert brim.data.external_data("microwave/merit") == data.resolve() / "microwave" / "merit"


def test_relative_path_set_at_the_root_works_from_examples(fresh, tree):
    """A notebook kernel runs in examples/: the README's relative path still finds the data."""
    repo, data = tree
    fresh.chdir(repo / "examples")
    assert not (repo / "examples" / "../shared/data").exists()  # cwd alone would fail
    fresh.setenv("BRIM_EXTERNAL_DATA", "../shared/data")
    assert brim.data.external_data() == data.resolve()


def test_resolved_once_then_independent_of_the_working_directory(fresh, tree, tmp_path):
    repo, data = tree
    fresh.chdir(repo)
    fresh.setenv("BRIM_EXTERNAL_DATA", "../shared/data")
    first = brim.data.external_data()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fresh.chdir(elsewhere)  # ../shared/data means nothing from here
    assert brim.data.external_data() == first == data.resolve()


def test_wrong_relative_path_fails_loudly(fresh, tree):
    repo, _ = tree
    fresh.chdir(repo / "examples")
    fresh.setenv("BRIM_EXTERNAL_DATA", "../shared/dta")
    with pytest.raises(brim.MissingFileError) as info:
        brim.data.external_data()
    msg = str(info.value)
    assert "BRIM_EXTERNAL_DATA='../shared/dta'" in msg
    assert str(repo / "examples" / "../shared/dta") in msg  # the working-directory try
    assert str(repo / "../shared/dta") in msg  # the repository-root try
    assert "\n" not in msg


def test_wrong_absolute_path_and_missing_subpath_fail_loudly(fresh, tree, tmp_path):
    _, data = tree
    fresh.setenv("BRIM_EXTERNAL_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(brim.MissingFileError, match="nowhere.*absolute path"):
        brim.data.external_data("microwave/merit")
    fresh.setenv("BRIM_EXTERNAL_DATA", str(data))
    with pytest.raises(brim.MissingFileError, match="has no 'elasto/fieldii_dp'"):
        brim.data.external_data("elasto/fieldii_dp")


def test_a_file_is_not_a_data_folder(fresh, tmp_path):
    f = tmp_path / "data.txt"
    f.write_text("x")
    fresh.setenv("BRIM_EXTERNAL_DATA", str(f))
    with pytest.raises(brim.MissingFileError, match="is not a folder"):
        brim.data.external_data()


@pytest.mark.skipif(
    not (REPO.parent / "shared" / "data").is_dir(), reason="no ../shared/data next to this checkout"
)
def test_readme_example_from_the_real_examples_folder(fresh):
    fresh.chdir(REPO / "examples")
    fresh.setenv("BRIM_EXTERNAL_DATA", "../shared/data")
    merit = brim.data.external_data("microwave/merit")
    assert merit == (REPO.parent / "shared" / "data" / "microwave" / "merit").resolve()
    assert (merit / "frequencies.csv").is_file()
