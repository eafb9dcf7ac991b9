"""``brim plot`` pictures that a first-time user found hard to read (issue 18's review).

A radar image was titled "DAS" alone (which plane of the volume?) and its file-name title sat
in the middle of the figure, over the colour bar; a registered B-mode (no brim kind) was drawn
in viridis instead of grey.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import xarray as xr

from brim.plotfile import figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _radar_image() -> xr.Dataset:
    c = np.linspace(-0.02, 0.02, 9)
    z = np.array([0.025, 0.030, 0.035])
    zz, yy, xx = np.meshgrid(z, c, c, indexing="ij")
    das = np.exp(-((xx - 0.005) ** 2 + yy**2 + (zz - 0.030) ** 2) / 1e-4)
    attrs = {
        "delay_model": "homogeneous",
        "propagation_eps_r": 8.0,
        "propagation_eps_grid": [6.0, 8.0, 10.0],
        "propagation_curve": [0.4, 1.0, 0.5],
        "brim_schema": "reconstruction/1",
    }
    return xr.Dataset({"das": (("z", "y", "x"), das)}, coords={"x": c, "y": c, "z": z}, attrs=attrs)


def test_radar_image_title_names_its_plane_and_the_file_title_has_room():
    fig = figure(_radar_image(), title="image.nc")
    try:
        assert "DAS — z = 30 mm (through the peak)" in [a.get_title() for a in fig.axes]
        fig.canvas.draw()
        top = max(a.get_tightbbox().y1 for a in fig.axes if a.get_title())
        assert fig._suptitle.get_window_extent().y0 >= top - 1  # above the panels, not over
    finally:
        plt.close(fig)


def test_a_bmode_without_a_kind_is_grey():
    y = np.linspace(0.0005, 0.0395, 20)
    x = np.linspace(-0.02, 0.02, 30)
    img = np.random.default_rng(0).uniform(0.0, 1.0, (20, 30))
    ds = xr.Dataset(
        {"registered": (("y", "x"), img, {"units": "1", "long_name": "B-mode (log-compressed)"})},
        coords={"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})},
    )
    fig = figure(ds)
    try:
        (ax,) = [a for a in fig.axes if "mm" in a.get_xlabel()]  # not the colour bar
        mappable = (ax.images or ax.collections)[0]
        assert mappable.get_cmap().name == "gray"
    finally:
        plt.close(fig)


def test_a_wide_shallow_image_gets_a_figure_of_its_shape():
    """A B-mode 12 mm deep and 44 mm wide floated in a 6.4 x 4.8 inch figure beside a colour
    bar four times its height; the figure now follows the image's shape."""
    depth = xr.DataArray(np.linspace(1e-3, 12e-3, 24), dims="depth", attrs={"units": "m"})
    line = xr.DataArray(np.linspace(-22e-3, 22e-3, 88), dims="line", attrs={"units": "m"})
    speed = xr.DataArray(np.full((24, 88), 2.5), dims=("depth", "line"), attrs={"units": "m/s"})
    fig = figure(xr.Dataset({"speed": speed}, coords={"depth": depth, "line": line}))
    try:
        width, height = fig.get_size_inches()
        assert height < 0.6 * width
    finally:
        plt.close(fig)
