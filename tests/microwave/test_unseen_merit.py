"""MERIT scans that are not among the eight of ``microwave/merit`` but follow its layout.

Each variant is one real scan (``B0_P3_p000.csv``) re-written the ways MATLAB and other tools
write complex text, transposed, cut to fewer frequencies or fewer antennas, with its real side
files (``frequencies.csv``, ``channel_names.csv``, ``antenna_locations.csv``). ``brim microwave
convert`` with its defaults must give the same numbers as the original, or one
``brim: error:`` line and no output. Before the fixes a transposed scan (channels x
frequencies) and a row closed by a separator were refused, and antenna positions in mm were
read as metres (antennas 69 m from the centre) without a word.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import brim
from brim.cli import main

SIDE = ("frequencies.csv", "channel_names.csv", "antenna_locations.csv")
FIRST = "-0.025697-0.0043991i"  # the first cell of B0_P3_p000.csv


@pytest.fixture
def merit(external_data) -> Path:
    return external_data / "microwave" / "merit"


def _variant(tmp_path: Path, merit: Path, name: str, text: str, **side: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    for n in SIDE:
        if n in side:
            (d / n).write_text(side[n])
        else:
            shutil.copy(merit / n, d / n)
    (d / "scan.csv").write_text(text)
    return d / "scan.csv"


def _convert(capsys, scan: Path) -> tuple[int, str, Path]:
    out = scan.with_suffix(".nc")
    capsys.readouterr()
    code = main(["microwave", "convert", str(scan), "-o", str(out)])
    return code, capsys.readouterr().err.strip(), out


def test_text_variants_read_the_same_numbers(tmp_path, merit, capsys):
    text = (merit / "B0_P3_p000.csv").read_text()
    assert text.startswith(FIRST)
    rows = [r.split(",") for r in text.split()]
    reference = brim.open(_convert(capsys, _variant(tmp_path, merit, "orig", text))[2])
    variants = {
        "spaces": text.replace(",", ", ").replace("+", " + "),
        "exponent": text.replace(FIRST, "-2.5697e-02-4.3991e-03i", 1),
        "j": text.replace("i", "j"),
        "semicolons": text.replace(",", ";"),
        "tabs": text.replace(",", "\t"),
        "crlf": text.replace("\n", "\r\n"),
        "closing_comma": text.replace("\n", ",\n"),
        "transposed": "\n".join(",".join(col) for col in zip(*rows)) + "\n",
    }
    for name, variant in variants.items():
        code, err, out = _convert(capsys, _variant(tmp_path, merit, name, variant))
        assert code == 0, (name, err)
        s = brim.open(out)["s"]
        assert s.dims == reference["s"].dims, name
        np.testing.assert_array_equal(s.values, reference["s"].values, err_msg=name)


def test_signed_zero_small_exponents_and_nan(tmp_path, merit, capsys):
    text = (merit / "B0_P3_p000.csv").read_text()
    for cell, value in (("-0i", 0j), ("1e-3+2e-4i", 1e-3 + 2e-4j), ("-0.5-0i", -0.5 + 0j)):
        code, err, out = _convert(
            capsys, _variant(tmp_path, merit, f"c{len(cell)}", text.replace(FIRST, cell, 1))
        )
        assert code == 0, err
        assert complex(brim.open(out)["s"].isel(freq=0, channel=0)) == value
    code, err, out = _convert(
        capsys, _variant(tmp_path, merit, "nan", text.replace(FIRST, "NaN+NaNi", 1))
    )
    assert code == 2 and err.startswith("brim: error: scan.csv contains 1 non-finite")
    assert "\n" not in err and not out.exists()


def test_fewer_frequencies_and_fewer_antennas(tmp_path, merit, capsys):
    lines = (merit / "B0_P3_p000.csv").read_text().split()
    freqs = (merit / "frequencies.csv").read_text().split()
    scan = _variant(
        tmp_path, merit, "f40", "\n".join(lines[:40]) + "\n",
        **{"frequencies.csv": "\n".join(freqs[:40]) + "\n"},
    )  # fmt: skip
    code, err, out = _convert(capsys, scan)
    assert code == 0, err
    ds = brim.open(out)
    assert ds.sizes["freq"] == 40 and float(ds.freq[-1]) == float(freqs[39])
    # the channels among the first 12 antennas only
    chans = np.loadtxt(merit / "channel_names.csv", delimiter=",", dtype=int)
    keep = np.flatnonzero((chans <= 12).all(axis=1))
    cells = [line.split(",") for line in lines]
    scan = _variant(
        tmp_path, merit, "a12",
        "\n".join(",".join(row[k] for k in keep) for row in cells) + "\n",
        **{
            "channel_names.csv": "\n".join(f"{a},{b}" for a, b in chans[keep]) + "\n",
            "antenna_locations.csv": "\n".join((merit / SIDE[2]).read_text().split()[:12]) + "\n",
        },
    )  # fmt: skip
    code, err, out = _convert(capsys, scan)
    assert code == 0, err
    ds = brim.open(out)
    assert ds.sizes["antenna"] == 12 and ds.sizes["channel"] == keep.size
    assert complex(ds["s"].isel(freq=0, channel=-1)) == complex(
        cells[0][keep[-1]].replace("i", "j")
    )


def test_antenna_positions_in_mm_are_refused(tmp_path, merit, capsys):
    mm = "\n".join(
        ",".join(f"{float(v) * 1000:g}" for v in line.split(","))
        for line in (merit / "antenna_locations.csv").read_text().split()
    )
    scan = _variant(
        tmp_path, merit, "mm", (merit / "B0_P3_p000.csv").read_text(),
        **{"antenna_locations.csv": mm + "\n"},
    )  # fmt: skip
    code, err, out = _convert(capsys, scan)
    assert code == 2 and "antenna_locations.csv: an antenna coordinate of 69 m" in err
    assert "\n" not in err and not out.exists()
