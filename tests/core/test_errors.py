"""The shared parameter check: what passes, what raises, and that it stays a ValueError."""

import math

import pytest

from brim.errors import BrimError, ConfigError, check_positive


@pytest.mark.parametrize(
    ("value", "integer", "expected"), [(2.5, False, 2.5), (3, True, 3), (4.0, True, 4)]
)
def test_check_positive_accepts(value, integer, expected):
    got = check_positive("p", value, integer=integer)
    assert got == expected and type(got) is (int if integer else float)


@pytest.mark.parametrize(
    ("value", "integer"),
    [
        (0, False),
        (-1.0, False),
        (math.nan, False),
        (math.inf, False),
        ("x", False),
        (None, False),
        (2.5, True),
        (0, True),
    ],
)
def test_check_positive_rejects(value, integer):
    with pytest.raises(ConfigError, match="step") as info:
        check_positive("step", value, integer=integer)
    assert isinstance(info.value, (BrimError, ValueError))


def test_check_vector():
    from brim.errors import check_vector

    assert check_vector("axis", [0.0, 1.0, 3.0], increasing=True).tolist() == [0.0, 1.0, 3.0]
    assert check_vector("axis", [2.0, 1.0]).dtype == float  # order free unless asked
    for bad, increasing in (
        ([], False),
        ([[1.0]], False),
        ([1.0, math.nan], False),
        ([1.0, 1.0], True),
    ):
        with pytest.raises(ConfigError, match="axis"):
            check_vector("axis", bad, increasing=increasing)
