"""Touchstone files brim has not seen: scikit-rf's real measured networks and the ways VNAs and
people re-save them.

The real files are scikit-rf's own example data (``skrf/data/*.sNp``: a ring-slot measurement,
WR-2.2 and WR-1.5 waveguide standards, a 3-port tee, ...), copied to a temporary folder. The
variants are written here from ``ntwk1.s2p`` (1-10 GHz, 91 frequencies): other frequency units,
RI / MA / DB pairs, no option line, comments everywhere, CRLF + tabs + a byte-order mark,
Touchstone 2 keywords, an upper-case suffix, a wrapped 4-port (multistatic tx x rx) file and a
2-port noise block. Each must read to ``s[f, tx=j, rx=i] = S[f, i, j]`` of the original, through
:func:`read_touchstone` and ``brim microwave convert`` with its defaults; broken files must be
refused with one ``brim: error:`` line that names the problem and leave no output file.

Before the fixes: a byte-order mark was refused as a truncated file; frequencies that went down
in a 2-port file (or a unit typed in one record only) were taken by scikit-rf for the start of
a noise block and all records after the first lower frequency vanished without a word (91 ->
1 frequencies); a 4-port file named ``.s2p`` failed with a numpy message; Touchstone 2 files
cut short (or with a wrong ``[Number of Frequencies]``) read silently or with a numpy message; a
negative frequency was kept; port impedances of 50 and 75 ohm became one z0 = 50; a NaN error
named no file; antenna positions of the wrong shape or in mm were accepted; a sweep in Hz
without an option line (read as GHz: 1e18 Hz) or GHz numbers under '# Hz' (1 Hz) were read
without a word (convert then refused them as a "corrupt" file).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from brim.cli import main
from brim.errors import FormatError
from brim.microwave.readers import open_scan, read_touchstone

skrf = pytest.importorskip("skrf")
DATA = Path(skrf.data.pwd)
REAL = sorted(p.name for p in DATA.glob("*.s*p"))
UNIT = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}


def _expected(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """scikit-rf's own reading of a file: (f in Hz, s[f, tx, rx] = S[f, rx, tx])."""
    net = skrf.Network(str(path))
    return net.f, np.transpose(net.s, (0, 2, 1))


def _pair(z: complex, fmt: str) -> str:
    if fmt == "RI":
        return f"{z.real:.15g} {z.imag:.15g}"
    a, deg = abs(z), np.degrees(np.angle(z))
    return f"{a:.15g} {deg:.15g}" if fmt == "MA" else f"{20 * np.log10(a):.15g} {deg:.15g}"


def _touchstone(
    f: np.ndarray,
    s: np.ndarray,
    *,
    unit: str = "GHz",
    fmt: str = "RI",
    option: bool = True,
    sep: str = " ",
    wrap: int | None = None,
) -> str:
    """Touchstone v1 text of ``s[f, i, j]`` (the N-port matrix S_ij), as a VNA writes it."""
    n = s.shape[1]
    out = ["! written by a test", "!"]
    if option:
        out.append(f"# {unit} S {fmt} R 50")
    for k in range(len(f)):
        # a 2-port record is S11 S21 S12 S22; other port counts go row by row
        order = [(i, j) for j in range(n) for i in range(n)] if n == 2 else None
        order = order or [(i, j) for i in range(n) for j in range(n)]
        pairs = [_pair(s[k, i, j], fmt) for i, j in order]
        freq = f"{f[k] / UNIT[unit]:.15g}"
        if wrap:
            rows = [pairs[m : m + wrap] for m in range(0, len(pairs), wrap)]
            out.append(sep.join([freq, *rows[0]]))
            out += [sep + sep.join(r) for r in rows[1:]]
        else:
            out.append(sep.join([freq, *pairs]))
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def ntwk1() -> tuple[np.ndarray, np.ndarray]:
    net = skrf.Network(str(DATA / "ntwk1.s2p"))
    return net.f, net.s


def _convert(capsys, path: Path) -> tuple[int, str, Path]:
    out = path.parent / (path.name + ".nc")
    capsys.readouterr()
    code = main(["microwave", "convert", str(path), "-o", str(out)])
    return code, capsys.readouterr().err.strip(), out


@pytest.mark.parametrize("name", REAL)
def test_real_files_read_as_scikit_rf_transposed(tmp_path, name):
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    ds = read_touchstone(path)
    f, s = _expected(DATA / name)
    assert ds["s"].dims == ("freq", "tx", "rx") and ds["s"].shape == s.shape
    np.testing.assert_array_equal(ds["freq"].values, f)
    np.testing.assert_array_equal(ds["s"].values, s)
    assert float(ds["z0"]) == 50.0


def test_real_two_port_element_order(tmp_path):
    # ntwk1.s2p line 1 of data: f, S11, S21, S12, S22 (RI); s[tx=0, rx=1] is S21, into port 1
    path = tmp_path / "ntwk1.s2p"
    shutil.copy(DATA / "ntwk1.s2p", path)
    ds = open_scan(path)
    assert complex(ds["s"].isel(freq=0, tx=0, rx=1)) == complex(0.926746562, -0.170089428)
    assert complex(ds["s"].isel(freq=0, tx=1, rx=1)) == complex(0.0234769169, -0.121728077)


@pytest.mark.parametrize("fmt", ["RI", "MA", "DB"])
@pytest.mark.parametrize("unit", list(UNIT))
def test_units_and_formats_read_the_same_numbers(tmp_path, ntwk1, capsys, unit, fmt):
    f, s = ntwk1
    path = tmp_path / f"ntwk1_{unit}_{fmt}.s2p"
    path.write_text(_touchstone(f, s, unit=unit, fmt=fmt))
    ds = read_touchstone(path)
    np.testing.assert_allclose(ds["freq"].values, f, rtol=1e-14)
    np.testing.assert_allclose(ds["s"].values, np.transpose(s, (0, 2, 1)), rtol=1e-12, atol=1e-14)
    code, err, out = _convert(capsys, path)
    assert code == 0 and out.exists(), err
    back = open_scan(out)
    np.testing.assert_array_equal(back["s"].values, ds["s"].values)
    np.testing.assert_array_equal(back["freq"].values, ds["freq"].values)


def _variants(f: np.ndarray, s: np.ndarray) -> dict[str, bytes]:
    ri = _touchstone(f, s)
    lines = ri.splitlines()
    data = lines[3:]
    ts2 = (
        "[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 2\n[Two-Port Data Order] 21_12\n"
        f"[Number of Frequencies] {len(f)}\n[Network Data]\n" + "\n".join(data) + "\n[End]\n"
    )
    # the same data in the other 2-port order: S11 S12 S21 S22
    swapped = [" ".join(t[:3] + t[5:7] + t[3:5] + t[7:]) for t in (d.split() for d in data)]
    noise = "! noise parameters: f NFmin |Gopt| angle Rn\n1.0 0.5 0.3 10 0.2\n5.0 0.7 0.3 20 0.2\n"
    return {
        # Touchstone defaults without an option line: GHz S MA R 50
        "no_option_line.s2p": _touchstone(f, s, fmt="MA", option=False).encode(),
        "crlf_tabs_bom.s2p": b"\xef\xbb\xbf"
        + _touchstone(f, s, sep="\t").replace("\n", "\r\n").encode(),
        "comments_everywhere.s2p": (
            "! head\n"
            + lines[2]
            + " ! the option line\n! between\n"
            + "\n".join(d + " ! inline" for d in data)
            + "\n! end\n"
        ).encode(),
        "lower_case_option.s2p": ri.replace("# GHz S RI R 50", "# ghz s ri r 50").encode(),
        "UPPER.S2P": ri.encode(),
        "touchstone2.s2p": ts2.encode(),
        "touchstone2.ts": ts2.encode(),
        "touchstone2_12_21.s2p": ts2.replace("21_12", "12_21")
        .replace("\n".join(data), "\n".join(swapped))
        .encode(),
        "noise_block.s2p": (ri + noise).encode(),
    }


@pytest.mark.parametrize(
    "name",
    [
        "no_option_line.s2p",
        "crlf_tabs_bom.s2p",
        "comments_everywhere.s2p",
        "lower_case_option.s2p",
        "UPPER.S2P",
        "touchstone2.s2p",
        "touchstone2.ts",
        "touchstone2_12_21.s2p",
        "noise_block.s2p",
    ],
)
def test_text_variants_read_the_same_numbers(tmp_path, ntwk1, capsys, name):
    f, s = ntwk1
    path = tmp_path / name
    path.write_bytes(_variants(f, s)[name])
    ds = read_touchstone(path)
    np.testing.assert_allclose(ds["freq"].values, f, rtol=1e-14)
    np.testing.assert_allclose(ds["s"].values, np.transpose(s, (0, 2, 1)), rtol=1e-12, atol=1e-14)
    # convert picks Touchstone by the .sNp suffix, or .ts (Touchstone 2's own suffix, which
    # it called "unknown scan format '.ts'")
    code, err, out = _convert(capsys, path)
    assert code == 0 and out.exists(), err
    np.testing.assert_array_equal(open_scan(out)["s"].values, ds["s"].values)


def _four_port(s2: np.ndarray) -> np.ndarray:
    """A 4-port (tx x rx of four antennas) built from the real 2-port blocks."""
    s4 = np.zeros((len(s2), 4, 4), complex)
    s4[:, :2, :2] = s4[:, 2:, 2:] = s2
    s4[:, :2, 2:] = 0.1 * s2
    s4[:, 2:, :2] = 0.2j * s2
    return s4


def test_wrapped_four_port_reads_as_scikit_rf(tmp_path, ntwk1, capsys):
    f, s2 = ntwk1
    s4 = _four_port(s2)
    path = tmp_path / "multistatic.s4p"
    path.write_text(_touchstone(f, s4, unit="MHz", wrap=4))  # 4 pairs a line, a row a line
    ds = read_touchstone(
        path, antenna_positions=[[0.07, 0, 0], [0, 0.07, 0], [-0.07, 0, 0], [0, -0.07, 0]]
    )
    fs, ss = _expected(path)
    np.testing.assert_array_equal(ds["s"].values, ss)
    np.testing.assert_allclose(ds["s"].values, np.transpose(s4, (0, 2, 1)), rtol=1e-12, atol=1e-14)
    # S_ij = wave out of port i for a wave into port j: tx = j, rx = i
    assert complex(ds["s"].isel(freq=3, tx=2, rx=0)) == pytest.approx(s4[3, 0, 2], rel=1e-12)
    np.testing.assert_array_equal(ds["antenna_x"].values, [0.07, 0, -0.07, 0])
    code, err, out = _convert(capsys, path)
    assert code == 0, err
    np.testing.assert_array_equal(open_scan(out)["s"].values, ds["s"].values)


def _broken(f: np.ndarray, s: np.ndarray) -> dict[str, tuple[str, str]]:
    """name -> (file text, what the error must say)."""
    ri = _touchstone(f[:6], s[:6])
    head, data = ri.splitlines()[:3], ri.splitlines()[3:]
    s4 = _touchstone(f[:3], _four_port(s[:3]), wrap=4)
    ts2 = (
        "[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 2\n[Two-Port Data Order] 21_12\n"
        "[Number of Frequencies] 6\n[Network Data]\n" + "\n".join(data) + "\n[End]\n"
    )

    def join(rows):
        return "\n".join(head + rows) + "\n"

    nan_row = data[2].split()
    nan_row[3] = "NaN"
    return {
        "not_increasing.s2p": (
            join([data[0], data[2], data[1], *data[3:]]),
            "line 6: frequency 1.1 after 1.2",
        ),
        # a unit typed in one record only (MHz in a GHz file): 1000 then 1.1
        "unit_in_one_row.s2p": (
            join([data[0].replace("1 ", "1000 ", 1), *data[1:]]),
            "frequency 1.1 after 1000",
        ),
        "duplicate.s2p": (join([data[0], data[1], data[1], *data[2:]]), "frequency 1.1 after 1.1"),
        "not_increasing.s1p": (
            "# GHz S RI R 50\n1 0.1 0\n3 0.2 0\n2 0.3 0\n",
            "line 4: frequency 2 after 3",
        ),
        "nan.s2p": (join([*data[:2], " ".join(nan_row), *data[3:]]), "nan.s2p: S-parameter data"),
        "truncated_last_line.s2p": (ri.rstrip("\n").rsplit(" ", 3)[0] + "\n", "truncated"),
        "truncated_wrapped.s4p": (s4.rsplit("\n", 3)[0] + "\n", "truncated"),
        "four_ports_as.s2p": (s4, "another port count than its suffix '.s2p'"),
        "two_ports_as.s4p": (ri, "another port count than its suffix '.s4p'"),
        "no_data.s2p": ("! only a header\n# GHz S RI R 50\n", "no frequency records"),
        "not_a_number.s2p": (
            join([data[0], data[1].replace(data[1].split()[2], "abc"), *data[2:]]),
            "line 5: 'abc' is not a number",
        ),
        "negative_frequency.s2p": (
            join([data[0].replace("1 ", "-1 ", 1), *data[1:]]),
            "negative frequency",
        ),
        "no_ports.s0p": (ri, "no ports"),
        "ts2_short.s2p": (
            ts2.replace("[Number of Frequencies] 6", "[Number of Frequencies] 7"),
            "truncated",
        ),
        "ts2_cut.s2p": (ts2.replace(data[-1], " ".join(data[-1].split()[:5])), "truncated"),
        # Hz numbers with no option line (read as GHz), GHz numbers under '# Hz'
        "hz_without_option_line.s2p": (
            _touchstone(f[:6], s[:6], unit="Hz", option=False),
            "1e+18..1.5e+18 Hz (without a unit Touchstone reads GHz)",
        ),
        "ghz_numbers_under_hz.s2p": (
            ri.replace("# GHz", "# Hz"),
            "1..1.5 Hz (the option line says 'hz')",
        ),
        "ts2_two_impedances.s2p": (
            ts2.replace("[Number of Ports] 2", "[Number of Ports] 2\n[Reference] 50 75"),
            "port reference impedances differ",
        ),
    }


BROKEN = [
    "not_increasing.s2p",
    "unit_in_one_row.s2p",
    "duplicate.s2p",
    "not_increasing.s1p",
    "nan.s2p",
    "truncated_last_line.s2p",
    "truncated_wrapped.s4p",
    "four_ports_as.s2p",
    "two_ports_as.s4p",
    "no_data.s2p",
    "not_a_number.s2p",
    "negative_frequency.s2p",
    "no_ports.s0p",
    "ts2_short.s2p",
    "ts2_cut.s2p",
    "ts2_two_impedances.s2p",
    "hz_without_option_line.s2p",
    "ghz_numbers_under_hz.s2p",
]


@pytest.mark.parametrize("name", BROKEN)
def test_broken_files_are_refused(tmp_path, ntwk1, capsys, name):
    text, says = _broken(*ntwk1)[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FormatError) as err:
        read_touchstone(path)
    assert says in str(err.value), str(err.value)
    code, msg, out = _convert(capsys, path)
    assert code != 0 and not out.exists()
    assert msg.startswith("brim: error:") and says in msg and "Traceback" not in msg


def test_reference_of_another_sweep_or_port_count_is_refused(tmp_path, ntwk1):
    f, s = ntwk1
    scan = tmp_path / "scan.s2p"
    scan.write_text(_touchstone(f, s))
    empty = tmp_path / "empty.s2p"
    empty.write_text(_touchstone(f, 0.5 * s, unit="MHz", fmt="MA"))
    ds = read_touchstone(scan, reference=empty)
    np.testing.assert_allclose(
        ds["s_reference"].values, 0.5 * np.transpose(s, (0, 2, 1)), rtol=1e-12, atol=1e-14
    )
    assert ds["s_reference"].attrs["reference_kind"] == "empty"
    other_grid = tmp_path / "other_grid.s2p"
    other_grid.write_text(_touchstone(f[::2], s[::2]))
    with pytest.raises(FormatError, match=r"reference other_grid.s2p has 46 frequencies.*91"):
        read_touchstone(scan, reference=other_grid)
    shifted = tmp_path / "shifted.s2p"
    shifted.write_text(_touchstone(f + 1e6, s))
    with pytest.raises(FormatError, match="reference shifted.s2p .*same frequency sweep"):
        read_touchstone(scan, reference=shifted)
    one_port = tmp_path / "one_port.s1p"
    one_port.write_text(_touchstone(f, s[:, :1, :1]))
    with pytest.raises(
        FormatError, match="reference one_port.s1p has 1 ports, the scan scan.s2p 2"
    ):
        read_touchstone(scan, reference=one_port)


@pytest.mark.parametrize(
    "positions, says",
    [
        ([[0.07, 0, 0], [-0.07, 0, 0], [0, 0.07, 0]], r"2 ports .* shape \(3, 3\)"),
        ([0.07, -0.07], r"shape \(2,\)"),
        ([[70.0, 0, 0], [-70.0, 0, 0]], "are these mm or cm"),  # a 7 cm ring typed in mm
    ],
)
def test_antenna_positions_of_wrong_shape_or_in_mm_are_refused(tmp_path, ntwk1, positions, says):
    f, s = ntwk1
    path = tmp_path / "scan.s2p"
    path.write_text(_touchstone(f, s))
    with pytest.raises(FormatError, match=says):
        read_touchstone(path, antenna_positions=positions)
    ok = read_touchstone(path, antenna_positions=[[0.07, 0, 0], [-0.07, 0, 0]])
    np.testing.assert_array_equal(ok["antenna_x"].values, [0.07, -0.07])


def test_port_impedance_of_the_option_line_is_kept(tmp_path, ntwk1):
    f, s = ntwk1
    path = tmp_path / "z75.s2p"
    path.write_text(_touchstone(f, s).replace("R 50", "R 75"))
    ds = read_touchstone(path)
    assert float(ds["z0"]) == 75.0 and ds["z0"].attrs["units"] == "ohm"
    np.testing.assert_allclose(ds["s"].values, np.transpose(s, (0, 2, 1)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("matrix", ["Full", "Upper"])
def test_touchstone2_four_ports_named_s2p_follow_the_keyword(tmp_path, ntwk1, matrix):
    # Touchstone 2: [Number of Ports] rules, whatever the suffix; Upper holds j >= i only
    f, s2 = ntwk1
    s4 = _four_port(s2)
    s4 = 0.5 * (s4 + np.transpose(s4, (0, 2, 1)))  # reciprocal, so Upper says it all
    rows = []
    for k in range(len(f)):
        for i in range(4):
            pairs = [_pair(s4[k, i, j], "RI") for j in range(4) if matrix == "Full" or j >= i]
            rows.append((f"{f[k] / 1e9:.15g} " if i == 0 else " ") + " ".join(pairs))
    path = tmp_path / "four.s2p"
    path.write_text(
        f"[Version] 2.0\n# GHz S RI R 50\n[Number of Ports] 4\n[Number of Frequencies] {len(f)}\n"
        f"[Matrix Format] {matrix}\n[Network Data]\n" + "\n".join(rows) + "\n[End]\n"
    )
    ds = read_touchstone(path)
    np.testing.assert_allclose(ds["s"].values, np.transpose(s4, (0, 2, 1)), rtol=1e-12, atol=1e-14)
