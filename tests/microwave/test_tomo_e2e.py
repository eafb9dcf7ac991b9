"""Measured-style tomography from the command line with default settings (issue 21).

A synthetic directive-horn measurement: a dielectric cylinder (eps 2.5, radius 15 mm, off
centre) on a far ring (8 sources at 0.5 m, 32 receivers at 0.6 m, 2/3/4 GHz, 1 % noise), each
source a cos^5 "horn" about its boresight (the incident field falls 25-40 dB away from it) with
an unknown complex gain per source and frequency (the calibration error), receivers within 60
degrees of the source unmeasured (as in the Institut Fresnel tables). The table goes through
``brim microwave convert`` and ``brim microwave reconstruct`` with the default method,
calibration and stopping rule; only the object region (``--object-radius``) is given, and
for TE the polarisation comes from the table's attribute (a NetCDF table) or the option.

Oracle: the true cylinder. Tolerances: permittivity (mean over the cells inside the cylinder)
within 10 %, centroid of the reconstructed contrast within 3 mm (the cells are 5.5 mm).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import brim
from brim.cli import main
from brim.microwave.tomography import TomographyGrid, add_noise, ring_positions, simulate
from brim.microwave.tomography.phantoms import disk_fraction

EPS, RADIUS, CENTRE = 2.5, 0.015, (0.012, -0.008)
FREQS = [2e9, 3e9, 4e9]
N_TX, N_RX, R_TX, R_RX = 8, 32, 0.5, 0.6


def _horn_table(polarisation):
    """Rows (tx, rx, freq GHz, total re/im, incident re/im) of the horn measurement."""
    grid = TomographyGrid.centered(64, 0.1)
    eps = 1 + (EPS - 1) * disk_fraction(grid, *CENTRE, RADIUS)
    tx_pos, rx_pos = ring_positions(N_TX, R_TX), ring_positions(N_RX, R_RX)
    fs = add_noise(simulate(eps, grid, FREQS, tx_pos, rx_pos, polarisation=polarisation), 0.01,
                   seed=1)  # fmt: skip
    tx, rx = np.stack(tx_pos, axis=1), np.stack(rx_pos, axis=1)
    to_rx = rx[None] - tx[:, None]
    bore = -tx / np.linalg.norm(tx, axis=1, keepdims=True)
    cos = np.einsum("trk,tk->tr", to_rx, bore) / np.linalg.norm(to_rx, axis=2)
    pattern = np.maximum(np.clip(cos, 0, 1) ** 5, 1e-2)[None]
    rng = np.random.default_rng(5)
    shape = (len(FREQS), N_TX, 1)
    gain = rng.uniform(0.5, 2.0, shape) * np.exp(1j * rng.uniform(-np.pi, np.pi, shape))
    inc = fs["incident_field"].values * pattern * gain
    tot = inc + gain * fs["scattered_field"].values
    phi_t, phi_r = np.arctan2(tx[:, 1], tx[:, 0]), np.arctan2(rx[:, 1], rx[:, 0])
    measured = np.abs(np.angle(np.exp(1j * (phi_r[None] - phi_t[:, None])))) > np.deg2rad(60)
    k, t, r = np.nonzero(np.broadcast_to(measured, tot.shape))
    f = np.asarray(FREQS)[k] / 1e9
    return np.column_stack([t + 1, r + 1, f, tot[k, t, r].real, tot[k, t, r].imag,
                            inc[k, t, r].real, inc[k, t, r].imag])  # fmt: skip


def _check_map(path):
    rec = brim.open(path)
    eps = rec["permittivity"].values
    grid = TomographyGrid.from_coords(rec.x.values, rec.y.values)
    inside = disk_fraction(grid, *CENTRE, RADIUS) > 0.99
    mean = eps[inside].mean().real
    contrast = np.clip(eps.real - 1, 0, None)
    w = np.where(contrast > 0.5 * contrast.max(), contrast, 0)
    xx, yy = np.meshgrid(grid.x, grid.y)
    cx, cy = (w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()
    return mean, float(np.hypot(cx - CENTRE[0], cy - CENTRE[1]))


def _convert(table, out, *extra):
    argv = ["microwave", "convert", str(table), "-o", str(out)]
    argv += ["--tx-radius", str(R_TX), "--rx-radius", str(R_RX), "--n-rx", str(N_RX)]
    assert main([*argv, *extra]) == 0


def test_tm_horn_table_from_the_cli_with_default_settings(tmp_path, capsys):
    """TM, an Institut-Fresnel-style text table: measured 2.49 (-0.5 %) and 0.6 mm."""
    table = tmp_path / "horns.exp"
    np.savetxt(table, _horn_table("TM"), fmt="%.17g")
    conv = tmp_path / "horns.nc"
    _convert(table, conv)
    rec = tmp_path / "map.nc"
    assert main(["microwave", "reconstruct", str(conv), "-o", str(rec), "--object-radius",
                 "0.04"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "calibrated (reference" in captured.err  # chosen by itself for directive sources
    assert "csi (TM)" in captured.out
    mean, offset = _check_map(rec)
    assert abs(mean - EPS) <= 0.1 * EPS, mean
    assert offset <= 3e-3, offset


def test_te_horn_table_from_the_cli_with_default_settings(tmp_path, capsys):
    """TE, a NetCDF table whose ``polarisation`` attribute says TE: measured 2.35 (-6 %), 0.3 mm."""
    rows = _horn_table("TE")
    names = ["tx", "rx", "freq_ghz", "total_re", "total_im", "incident_re", "incident_im"]
    table = tmp_path / "horns_te.nc"
    xr.Dataset({n: ("row", rows[:, i]) for i, n in enumerate(names)},
               attrs={"polarisation": "TE"}).to_netcdf(table, engine="h5netcdf")  # fmt: skip
    conv = tmp_path / "horns_te_fs.nc"
    _convert(table, conv)
    assert brim.open(conv).attrs["polarisation"] == "TE"
    rec = tmp_path / "map.nc"
    assert main(["microwave", "reconstruct", str(conv), "-o", str(rec), "--object-radius",
                 "0.04"]) == 0  # fmt: skip
    assert "csi (TE)" in capsys.readouterr().out
    mean, offset = _check_map(rec)
    assert abs(mean - EPS) <= 0.1 * EPS, mean
    assert offset <= 3e-3, offset
    # the same data read as TM (a text table has no attribute) and forced to TE agree
    rec_tm = tmp_path / "as_tm.nc"
    argv = ["microwave", "reconstruct", str(conv), "-o", str(rec_tm), "--object-radius", "0.04"]
    assert main([*argv, "--polarisation", "TM", "--iterations", "100"]) == 0
    mean_tm, _ = _check_map(rec_tm)
    assert abs(mean_tm - EPS) > 0.1 * EPS  # the wrong model misses the permittivity


@pytest.mark.parametrize("value", ["circular", "tm"])
def test_reconstruct_refuses_an_unknown_polarisation(tmp_path, value):
    from brim.io import save

    g = TomographyGrid.centered(8, 0.06)
    f = tmp_path / "f.nc"
    save(simulate(np.full(g.shape, 1.5), g, 1e9, ring_positions(4, 0.1),
                  ring_positions(4, 0.1)), f)  # fmt: skip
    argv = ["microwave", "reconstruct", str(f), "-o", str(tmp_path / "m.nc")]
    assert main([*argv, "--polarisation", value]) == 2


def test_convert_polarisation_option_labels_a_text_table(tmp_path):
    """A text table carries no attribute: ``convert --polarisation TE`` stores it, so the
    default ``reconstruct`` then runs the TE model."""
    table = tmp_path / "horns.txt"
    np.savetxt(table, _horn_table("TE")[:200])
    conv = tmp_path / "conv.nc"
    _convert(table, conv, "--polarisation", "TE")
    assert brim.open(conv).attrs["polarisation"] == "TE"
    plain = tmp_path / "plain.nc"
    _convert(table, plain)
    assert brim.open(plain).attrs.get("polarisation", "TM") == "TM"
    bad = ["microwave", "convert", str(table), "-o", str(tmp_path / "bad.nc")]
    assert main([*bad, "--tx-radius", "0.5", "--polarisation", "circular"]) == 2
    assert not (tmp_path / "bad.nc").exists()
