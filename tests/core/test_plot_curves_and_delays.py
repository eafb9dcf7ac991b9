"""``brim plot`` of a criterion stored on two dims with one of them a single position, and of
picosecond delays.

``brim microwave estimate-propagation`` without ``--search-delay`` writes the focus criterion on
(eps_r, delay) with one delay: it used to be drawn as an empty pcolormesh (x limits ±0.04 s, no
data visible); with ``--search-delay`` the delay axis (-100..300 ps) was labelled in µs with
ticks like 0.00005 that overlapped.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import xarray as xr

from brim.plotfile import figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _criterion(delays_s):
    eps = np.linspace(3.0, 20.0, 35)
    d = np.asarray(delays_s, float)
    values = np.exp(-((eps[:, None] - 8.0 - 2e10 * d[None, :]) ** 2) / 4.0)
    return xr.Dataset(
        {
            "criterion": (
                ("eps_r", "delay"),
                values,
                {"units": "1", "long_name": "focus criterion (peak)"},
            )
        },
        coords={
            "eps_r": ("eps_r", eps, {"units": "1"}),
            "delay": ("delay", d, {"units": "s"}),
        },
    )


def test_a_plane_one_position_thick_is_drawn_as_its_curve():
    ds = _criterion([0.0])
    fig = figure(ds)
    try:
        ax = next(a for a in fig.axes if a.get_label() != "<colorbar>")
        assert len(ax.lines) == 1, "a curve, not an image"
        assert not ax.collections and not ax.images
        np.testing.assert_allclose(ax.lines[0].get_ydata(), ds["criterion"].values[:, 0])
        assert "eps_r" in ax.get_xlabel()
        assert "delay" in ax.get_title()
    finally:
        plt.close(fig)


def test_picosecond_delays_are_shown_in_ps():
    delays = np.arange(-100, 301, 50) * 1e-12
    fig = figure(_criterion(delays))
    try:
        ax = next(a for a in fig.axes if a.get_label() != "<colorbar>")
        label = ax.get_xlabel() if "delay" in ax.get_xlabel() else ax.get_ylabel()
        assert "[ps]" in label, label
        lo, hi = sorted(ax.get_xlim() if "delay" in ax.get_xlabel() else ax.get_ylim())
        assert lo <= -100 and hi >= 300 and hi - lo < 500
    finally:
        plt.close(fig)


def test_small_lengths_are_drawn_in_micrometres():
    # an axial displacement of up to 0.3 mm stored in m used to get a colour bar of -0.00025 m
    depth = np.linspace(1e-3, 28e-3, 40)
    line = np.linspace(0.0, 20e-3, 30)
    axial = -0.01 * depth[:, None] + 0.0 * line[None, :]
    ds = xr.Dataset(
        {"axial": (("depth", "line"), axial, {"units": "m", "long_name": "axial displacement"})},
        coords={"depth": ("depth", depth, {"units": "m"}), "line": ("line", line, {"units": "m"})},
    )
    fig = figure(ds)
    try:
        bar = next(a for a in fig.axes if a.get_label() == "<colorbar>")
        assert "µm" in bar.get_ylabel(), bar.get_ylabel()
        lo, hi = sorted(bar.get_ylim())
        assert lo == pytest.approx(-280, abs=1) and hi == pytest.approx(-10, abs=1)
        assert ds["axial"].attrs["units"] == "m"  # the data are not changed
    finally:
        plt.close(fig)
