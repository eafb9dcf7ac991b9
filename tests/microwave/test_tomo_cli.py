"""``brim microwave simulate / reconstruct / train / predict``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import brim
from brim.cli import main
from brim.data import sample_path
from brim.microwave.tomography.cli import parse_freqs


def test_parse_freqs():
    assert parse_freqs(["1e9", "2GHz", "500MHz"]) == [1e9, 2e9, 5e8]
    assert parse_freqs(["1,2,3GHz"]) == [1e9, 2e9, 3e9]


def test_simulate_then_reconstruct(tmp_path, capsys):
    f = tmp_path / "fields.nc"
    rc = main(
        [
            "microwave",
            "simulate",
            "breast",
            "-o",
            str(f),
            "--freq",
            "1GHz",
            "--tx",
            "8",
            "--rx",
            "8",
            "--grid",
            "32x32:0.12",
            "--eps-b",
            "10-1j",
            "--noise",
            "0.01",
        ]
    )
    assert rc == 0
    ds = brim.open(f)
    assert ds["total_field"].dims == ("freq", "tx", "rx")
    assert ds["total_field"].shape == (1, 8, 8)
    assert ds.attrs["tumour"] == 1
    assert np.abs(ds["scattered_field"].values).max() > 0
    out = tmp_path / "map.nc"
    rc = main(
        [
            "microwave",
            "reconstruct",
            str(f),
            "-o",
            str(out),
            "--method",
            "born",
            "--grid",
            "16x16:0.12",
        ]
    )
    assert rc == 0
    rec = brim.open(out)
    assert rec["permittivity"].shape == (16, 16)
    assert rec.attrs["brim_schema"].startswith("reconstruction")
    # the breast interior is denser than the 10-1j coupling medium on average
    assert rec["permittivity"].values.real.max() > 10
    # a fixed weight reaches invert(weight=) and is recorded; a bad one is a clean error
    fixed = tmp_path / "fixed.nc"
    argv = ["microwave", "reconstruct", str(f), "-o", str(fixed), "--method", "born"]
    argv += ["--grid", "16x16:0.12"]
    assert main([*argv, "--weight", "1e-3"]) == 0
    rec = brim.open(fixed)
    assert [h["weight"] for h in json.loads(rec.attrs["history"])] == [1e-3]
    step = json.loads(rec.attrs["brim_provenance"])[-1]
    assert step["parameters"]["weight"] == 1e-3 and step["parameters"]["method"] == "born"
    assert main([*argv, "--weight", "-1"]) == 2


def test_train_and_predict(tmp_path, capsys):
    files = []
    for s in range(4):
        for kind in ("random", "random-healthy"):
            p = tmp_path / f"{kind}_{s}.nc"
            assert (
                main(
                    [
                        "microwave",
                        "simulate",
                        f"{kind}:{s}",
                        "-o",
                        str(p),
                        "--tx",
                        "4",
                        "--rx",
                        "4",
                        "--grid",
                        "16x16:0.11",
                    ]
                )
                == 0
            )
            files.append(str(p))
    model = tmp_path / "model"
    assert main(["microwave", "train", *files, "-o", str(model), "--epochs", "3"]) == 0
    csv = tmp_path / "p.csv"
    assert main(["microwave", "predict", str(model), *files[:2], "-o", str(csv)]) == 0
    lines = csv.read_text().splitlines()
    assert lines[0] == "file,tumour_probability" and len(lines) == 3


def test_simulate_solver_and_precision_options_agree(tmp_path):
    outs = {}
    for solver, extra in [("bicgstab", []), ("gmres", []), ("gmres", ["--precision", "single"])]:
        f = tmp_path / f"{solver}{len(extra)}.nc"
        argv = ["microwave", "simulate", "breast", "-o", str(f), "--tx", "4", "--rx", "6"]
        argv += ["--grid", "24x24:0.12", "--eps-b", "10-1j", "--solver", solver, *extra]
        assert main(argv) == 0
        outs[solver, len(extra)] = brim.open(f)
    a = outs["bicgstab", 0]["scattered_field"].values
    b = outs["gmres", 0]["scattered_field"].values
    c = outs["gmres", 2]["scattered_field"].values
    # double: both solve to the default relative residual 1e-8; single: to 1e-5
    assert np.linalg.norm(a - b) / np.linalg.norm(a) <= 1e-6
    assert np.linalg.norm(c - b) / np.linalg.norm(b) <= 1e-4
    assert '"precision": "single"' in outs["gmres", 2].attrs["brim_provenance"]


def test_simulate_moment_quadrature_option(tmp_path):
    """--quadrature moments: same data model, a field within the Richmond error of plain cells."""
    outs = {}
    for quad in ("richmond", "moments"):
        f = tmp_path / f"{quad}.nc"
        argv = ["microwave", "simulate", "breast", "-o", str(f), "--tx", "4", "--rx", "6"]
        argv += ["--grid", "24x24:0.12", "--eps-b", "10-1j", "--quadrature", quad]
        assert main(argv) == 0
        outs[quad] = brim.open(f)
    a = outs["richmond"]["scattered_field"].values
    b = outs["moments"]["scattered_field"].values
    rel = np.linalg.norm(a - b) / np.linalg.norm(a)
    # 5 mm cells in a breast at 1 GHz: the two quadratures differ by the Richmond error (~1 %)
    assert 1e-4 < rel < 0.1, rel
    assert outs["moments"].attrs["quadrature"] == "moments (8x)"


@pytest.mark.parametrize(
    "argv",
    [
        ["microwave", "simulate", "no-such-phantom", "-o", "x.nc"],
        ["microwave", "simulate", "breast", "-o", "x.nc", "--freq", "fast"],
        ["microwave", "simulate", "random:abc", "-o", "x.nc"],
        ["microwave", "simulate", "breast", "-o", "x.nc", "--solver", "cg"],
        ["microwave", "simulate", "breast", "-o", "x.nc", "--precision", "single", "--tol", "1e-9"],
    ],
)
def test_bad_input_exits_with_error(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) != 0
    assert "brim: error:" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


@pytest.mark.parametrize("value", ["abc", "nan", "1+infj"])
def test_simulate_rejects_a_bad_background_permittivity(tmp_path, capsys, value):
    """--eps-b abc crashed with a bare ValueError; nan was accepted."""
    out = tmp_path / "f.nc"
    argv = ["microwave", "simulate", "breast", "-o", str(out), "--eps-b", value]
    assert main(argv) != 0
    assert "--eps-b" in capsys.readouterr().err
    assert not out.exists()


def test_simulate_records_its_steps_not_a_hand_written_cli_record(tmp_path):
    """The file's provenance is the chain of the steps the command ran (issue 18)."""
    f = tmp_path / "noisy.nc"
    argv = ["microwave", "simulate", "breast", "-o", str(f), "--tx", "4", "--rx", "4"]
    assert main([*argv, "--grid", "16x16:0.11", "--noise", "0.01", "--seed", "3"]) == 0
    ds = brim.open(f)
    chain = json.loads(ds.attrs["brim_provenance"])
    assert [s["step"] for s in chain] == ["brim.microwave.simulate", "brim.microwave.add_noise"]
    assert chain[1]["parameters"]["seed"] == 3 and ds.attrs["phantom"] == "breast"


def _write_table(path, fs, *, conjugate=False):
    """A Fresnel-layout table (1-based indices, GHz); pairs next to a source are left out."""
    rows = []
    n_tx, n_rx = fs["total_field"].shape[1:]
    for k, f in enumerate(fs["freq"].values):
        for t in range(n_tx):
            for r in range(n_rx):
                if (r - (n_rx // n_tx) * t) % n_rx in (0, 1, n_rx - 1):
                    continue
                tot = fs["total_field"].values[k, t, r]
                inc = fs["incident_field"].values[k, t, r]
                if conjugate:
                    tot, inc = np.conj(tot), np.conj(inc)
                rows.append([t + 1, r + 1, f / 1e9, tot.real, tot.imag, inc.real, inc.imag])
    np.savetxt(path, rows, fmt="%.17g")


def test_convert_reads_field_tables_then_reconstruct(tmp_path, capsys):
    from brim.microwave.tomography import TomographyGrid, ring_positions, simulate
    from brim.microwave.tomography.phantoms import disk_fraction
    from brim.schema import validate

    grid = TomographyGrid.centered(32, 0.12)
    eps = 1 + 1.0 * disk_fraction(grid, 0.0, 0.0, 0.02)
    fs = simulate(eps, grid, [2e9, 3e9], ring_positions(8, 0.5), ring_positions(24, 0.6))
    exp = tmp_path / "cyl.exp"
    _write_table(exp, fs)
    out = tmp_path / "fields.nc"
    argv = ["microwave", "convert", str(exp), "-o", str(out)]
    assert main([*argv, "--tx-radius", "0.5", "--rx-radius", "0.6", "--n-rx", "24"]) == 0
    back = brim.open(out)
    validate(back, "field_set")
    m = back["mask"].values
    assert m.sum() == 2 * 8 * 21
    np.testing.assert_allclose(back["scattered_field"].values[m], fs["scattered_field"].values[m])
    # any suffix with --field-table; a table written with exp(-iwt) is conjugated on reading
    txt = tmp_path / "cyl_conj.txt"
    _write_table(txt, fs, conjugate=True)
    out2 = tmp_path / "fields2.nc"
    argv = ["microwave", "convert", str(txt), "-o", str(out2), "--field-table"]
    argv += ["--tx-radius", "0.5", "--rx-radius", "0.6", "--n-rx", "24"]
    assert main([*argv, "--time-convention", "iwt", "--freq-unit", "GHz"]) == 0
    np.testing.assert_allclose(brim.open(out2)["total_field"].values, back["total_field"].values)
    # the converted measurement reconstructs with the default CSI settings
    rec = tmp_path / "map.nc"
    argv = ["microwave", "reconstruct", str(out), "-o", str(rec), "--method", "csi"]
    assert main([*argv, "--grid", "16x16:0.08"]) == 0
    printed = capsys.readouterr().out
    assert "iterations" in printed and (
        "plateau" in printed or "(the --iterations limit)" in printed
    )
    assert "(iterations)" not in printed  # the stopping reason is not read as a count
    peak = brim.open(rec)["permittivity"].values.real.max()
    assert 1.6 < peak < 2.4, peak


def test_reconstruct_sizes_the_grid_from_the_object_region(tmp_path, capsys):
    """A far ring (0.9 m; the field_set schema refuses antennas beyond 1 m): the antenna-sized
    default spans 1.26 m; --object-radius 0.05 gives 0.11 m in 16 cells (the minimum; a tenth
    of the 10 cm wavelength would give 11)."""
    from brim.io import save
    from brim.microwave.tomography import TomographyGrid, ring_positions, simulate
    from brim.microwave.tomography.phantoms import disk_fraction

    g = TomographyGrid.centered(24, 0.1)
    fs = simulate(1 + 0.3 * disk_fraction(g, 0, 0, 0.02), g, [3e9], ring_positions(8, 0.9),
                  ring_positions(8, 0.9, offset=0.5))  # fmt: skip
    f = tmp_path / "far.nc"
    save(fs, f)
    out = tmp_path / "a.nc"
    argv = ["microwave", "reconstruct", str(f), "--method", "born"]
    assert main([*argv, "-o", str(out), "--object-radius", "0.05"]) == 0
    rec = brim.open(out)
    assert rec.sizes["x"] == 16
    width = float(rec.x[-1] - rec.x[0]) * 16 / 15
    assert width == pytest.approx(0.11)
    assert "--object-radius" not in capsys.readouterr().err
    out2 = tmp_path / "b.nc"
    assert main([*argv, "-o", str(out2)]) == 0
    assert "--object-radius" in capsys.readouterr().err  # says the default comes from antennas
    rec2 = brim.open(out2)
    assert float(rec2.x[-1] - rec2.x[0]) * 32 / 31 == pytest.approx(1.4 * 0.9)
    assert main([*argv, "-o", str(tmp_path / "c.nc"), "--object-radius", "-1"]) != 0


def test_measured_horn_table_end_to_end_with_default_settings(tmp_path, capsys):
    """Directive 'horns' (cos^5 about boresight) with unknown complex gains per transmitter and
    frequency, written as a measured table: convert, then reconstruct with --calibrate auto and
    the default CSI settings. The reference-receiver calibration is chosen by itself."""
    from brim.microwave.tomography import TomographyGrid, ring_positions, simulate
    from brim.microwave.tomography.phantoms import disk_fraction

    grid = TomographyGrid.centered(32, 0.12)
    eps = 1 + 1.0 * disk_fraction(grid, 0.0, 0.0, 0.02)
    tx_pos, rx_pos = ring_positions(8, 0.5), ring_positions(24, 0.6)
    fs = simulate(eps, grid, [2e9, 3e9], tx_pos, rx_pos)
    tx, rx = np.stack(tx_pos, axis=1), np.stack(rx_pos, axis=1)
    to_rx = rx[None] - tx[:, None]
    bore = -tx / np.linalg.norm(tx, axis=1, keepdims=True)
    cos = np.einsum("trk,tk->tr", to_rx, bore) / np.linalg.norm(to_rx, axis=2)
    pattern = np.maximum(np.clip(cos, 0, 1) ** 5, 1e-2)[None]
    rng = np.random.default_rng(5)
    gain = rng.uniform(0.5, 2.0, (2, 8, 1)) * np.exp(1j * rng.uniform(-np.pi, np.pi, (2, 8, 1)))
    meas = fs.copy()
    inc = fs["incident_field"].values * pattern * gain
    meas["incident_field"] = fs["incident_field"].copy(data=inc)
    meas["total_field"] = fs["total_field"].copy(data=inc + gain * fs["scattered_field"].values)
    table = tmp_path / "horns.exp"
    _write_table(table, meas)
    conv = tmp_path / "horns.nc"
    argv = ["microwave", "convert", str(table), "-o", str(conv)]
    assert main([*argv, "--tx-radius", "0.5", "--rx-radius", "0.6", "--n-rx", "24"]) == 0
    rec = tmp_path / "map.nc"
    argv = ["microwave", "reconstruct", str(conv), "-o", str(rec), "--method", "csi"]
    assert main([*argv, "--grid", "16x16:0.08", "--calibrate", "auto"]) == 0
    assert "calibrated (reference" in capsys.readouterr().err
    peak = brim.open(rec)["permittivity"].values.real.max()
    assert 1.6 < peak < 2.4, peak


def test_reconstruct_of_a_radar_scan_names_the_kind_it_needs(tmp_path, capsys):
    # a radar scan has no receiver ring (rx_x): it crashed with KeyError 'rx_x'
    out = tmp_path / "eps.nc"
    code = main(["microwave", "reconstruct", str(sample_path("microwave_radar_scan")),
                 "-o", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "microwave_radar_scan.nc" in err and "field_set" in err, err
    assert "\n" not in err and "Traceback" not in err
    assert not out.exists()
