"""Robustness of the tomography solvers (issue 21): CSI/MR-CSI never return a NaN map, zero
data give a clear error, DBIM without a noise level does not diverge."""

from __future__ import annotations

import pytest

from brim.cli import main
from brim.errors import SolverError
from brim.io import save
from brim.microwave.tomography import TomographyGrid, add_noise, ring_positions, simulate
from brim.microwave.tomography.inverse import invert
from brim.microwave.tomography.phantoms import disk_fraction


@pytest.fixture(scope="module")
def small():
    gf = TomographyGrid.centered(32, 0.12)
    tx = ring_positions(10, 0.15)
    rx = ring_positions(10, 0.15, offset=0.2)
    gi = TomographyGrid.centered(16, 0.12)
    return gf, tx, rx, gi


def _flipped(ds):
    """Scattered field of the opposite sign: the data imply a contrast below the background."""
    out = ds.copy()
    out["total_field"] = 2 * ds["incident_field"] - ds["total_field"]
    out["scattered_field"] = -ds["scattered_field"]
    return out


@pytest.mark.parametrize("method", ["csi", "mr-csi"])
def test_csi_clipped_first_estimate_raises_instead_of_nan(small, method):
    gf, tx, rx, gi = small
    eps = 1 + 0.5 * disk_fraction(gf, 0.01, 0.0, 0.025)
    ds = _flipped(add_noise(simulate(eps, gf, [1e9], tx, rx), 0.01, seed=0))
    # before the fix: an all-NaN map, no error (eta_d = 1 / 1e-300)
    with pytest.raises(SolverError, match="clipped to the background in every cell"):
        invert(ds, gi, method=method, iterations=5)


def test_cli_never_writes_a_nan_map(small, tmp_path, capsys):
    gf, tx, rx, gi = small
    eps = 1 + 0.5 * disk_fraction(gf, 0.01, 0.0, 0.025)
    f = tmp_path / "flipped.nc"
    save(_flipped(simulate(eps, gf, [1e9], tx, rx)), f)
    out = tmp_path / "map.nc"
    argv = ["microwave", "reconstruct", str(f), "-o", str(out), "--method", "csi"]
    rc = main([*argv, "--grid", "16x16:0.12", "--iterations", "5"])
    assert rc != 0
    assert not out.exists()
    assert "clipped" in capsys.readouterr().err


def test_csi_zero_scattered_field_is_a_clear_error(small):
    gf, tx, rx, gi = small
    ds = simulate(1 + 0.5 * disk_fraction(gf, 0.01, 0.0, 0.025), gf, [1e9], tx, rx)
    ds["total_field"] = ds["incident_field"].copy()
    ds["scattered_field"] = ds["scattered_field"] * 0
    for method in ("csi", "mr-csi"):
        with pytest.raises(SolverError, match="no scattered field"):  # was ZeroDivisionError
            invert(ds, gi, method=method, iterations=3)


def test_dbim_without_noise_level_does_not_diverge(small):
    """20 % noise, no noise level: before the fix the Levenberg-Marquardt weight collapsed
    (1.2e5 -> 0.45), the misfit rose 0.23 -> 2.3 and the peak reached 2.76 for a true 1.5."""
    gf, tx, rx, gi = small
    eps = 1 + (0.5 - 0.05j) * disk_fraction(gf, 0.01, 0.0, 0.025)
    ds = add_noise(simulate(eps, gf, [1e9], tx, rx), 0.2, seed=1)
    res = invert(ds, gi, method="dbim", iterations=40)
    accepted = [h["misfit"] for h in res.history if not h.get("rejected")]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(accepted, accepted[1:])), accepted
    assert res.history[-1]["final_misfit"] < 0.25
    assert res.permittivity.real.max() < 1.8
    weights = [h["weight"] for h in res.history if h.get("weight")]
    assert min(weights) > 100  # no collapse on the noise floor (was 0.45)
    assert res.stopping[0]["iterations"] <= 40
