"""``brim plot`` of real public files, looked at as a new user would.

A grey breast crop of the Colombian cohort (106 x 139 px) was stretched into the axes' 4:3 box
(pixels 1.6 times wider than tall, another breast's shape); a DOT_filtering volume drawn as
orthogonal slices had its file-name title written over the panels' titles.
"""

from __future__ import annotations

import matplotlib
import pytest

from brim.plotfile import figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _image_axes(fig):
    return [a for a in fig.axes if a.images or a.collections]


def test_a_breast_crop_in_pixels_keeps_square_pixels(external_data):
    from brim.fileinfo import open_any

    ds, _ = open_any(external_data / "thermo" / "colombia" / "left" / "IIR0001.png")
    assert (ds.sizes["y"], ds.sizes["x"]) == (139, 106)  # taller than wide
    fig = figure(ds, title="IIR0001.png")
    try:
        fig.canvas.draw()
        (ax,) = [a for a in _image_axes(fig) if a.get_xlabel().startswith("x")]
        assert ax.get_aspect() == 1.0
        box = ax.get_window_extent()
        assert box.height / box.width == pytest.approx(139 / 106, rel=0.03)
        assert ax.get_ylim()[0] > ax.get_ylim()[1]  # row 0 at the top, as the picture
        width, height = fig.get_size_inches()
        assert width < height  # the figure follows the crop: no empty band beside it
    finally:
        plt.close(fig)


def test_a_dot_volume_file_title_sits_above_the_slice_titles(external_data):
    from brim.fusion import convert_map

    ds = convert_map(external_data / "fusion" / "dot_filtering" / "twotars.mat")
    fig = figure(ds, layout="orthogonal", title="twotars.nc")
    try:
        fig.canvas.draw()
        sup = fig._suptitle
        assert sup.get_text().startswith("twotars.nc\n")
        top = max(a.title.get_window_extent().y1 for a in fig.axes if a.get_title())
        assert sup.get_window_extent().y0 >= top - 1  # above the panels' titles, not over
        # the in-plane slice (y, x: the same voxel pitch) is square; depth keeps its own pitch
        (plane,) = [a for a in _image_axes(fig) if a.get_title().startswith("z =")]
        assert plane.get_aspect() == 1.0
    finally:
        plt.close(fig)


def _radar_image():
    import numpy as np
    import xarray as xr

    c = np.linspace(-0.02, 0.02, 9)
    z = np.linspace(0.0, 0.04, 5)
    zz, yy, xx = np.meshgrid(z, c, c, indexing="ij")
    das = np.exp(-((xx - 0.005) ** 2 + yy**2 + (zz - 0.03) ** 2) / 1e-4)
    attrs = {"delay_model": "homogeneous", "brim_schema": "reconstruction/1"}
    m = {"units": "m"}
    coords = {"x": ("x", c, m), "y": ("y", c, m), "z": ("z", z, m)}
    return xr.Dataset({"das": (("z", "y", "x"), das)}, coords=coords, attrs=attrs)


@pytest.mark.parametrize(
    ("layout", "planes"), [("orthogonal", ["z =", "y =", "x ="]), ("slices", ["z ="] * 5)]
)
def test_an_asked_for_layout_of_a_radar_image_is_drawn(layout, planes):
    """``brim plot image.nc --layout orthogonal`` drew the same single peak slice as without
    it: the radar picture ignored the layout the user asked for."""
    fig = figure(_radar_image(), layout=layout)
    try:
        titles = sorted(a.get_title() for a in _image_axes(fig) if a.get_title())
        assert [t[:3] for t in titles] == sorted(planes)
    finally:
        plt.close(fig)


def test_a_radar_image_without_a_layout_keeps_its_own_picture():
    fig = figure(_radar_image())
    try:
        assert [a.get_title() for a in _image_axes(fig)][0].startswith("DAS — z = 30 mm")
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (("fusion", "dot_filtering", "twotars.mat"), "brim fusion convert"),
        (("microwave", "mwsegeval", "data", "input_forwardModel.mat"), "mwsegeval:FOLDER"),
        (("microwave", "mwsegeval", "data", "input_reconstructedModel.mat"), "mwsegeval:FOLDER"),
    ],
)
def test_info_of_a_public_mat_file_says_what_reads_it(external_data, path, says):
    """``brim info`` of these .mat files listed their arrays and nine readers' refusals but
    not the command that reads them, and ``brim plot`` sent the user back to ``brim info``."""
    from brim.fileinfo import describe

    text = describe(external_data.joinpath(*path))
    (hint,) = [line for line in text.splitlines() if line.startswith("hint: ")]
    assert says in hint


def test_an_unphysical_saturation_map_keeps_the_0_to_1_scale(external_data):
    """The DOT-guided-PAT patient's sO2 map holds noise values from -1.34 to 1.58: it was
    drawn on a signed grey scale from -1.6 to 1.6, as if a saturation could be negative; the
    scale is now the physical 0..1, values beyond it shown by the colour bar's arrows."""
    import warnings

    from brim.fusion import convert_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the converter's own warning about those values
        ds = convert_map(external_data / "fusion" / "dot_pat" / "p1")
    assert float(ds["so2"].min()) < 0 < 1 < float(ds["so2"].max())
    fig = figure(ds, "so2")
    try:
        (ax,) = [a for a in _image_axes(fig) if a.get_xlabel().startswith("x")]
        image = (ax.images or ax.collections)[0]
        assert image.get_clim() == (0.0, 1.0)
        assert image.get_cmap().name != "gray"
        assert image.colorbar.extend == "both"
    finally:
        plt.close(fig)


def test_the_targets_of_a_dot_volume_are_outlined_on_every_slice(external_data):
    """The DOT_filtering volume's ``target_mask`` (stored per scan, as the absorption) was not
    drawn: only a mask on exactly (z, y, x) was outlined, and only in the depth-slice layout."""
    from matplotlib.contour import ContourSet

    from brim.fusion import convert_map

    ds = convert_map(external_data / "fusion" / "dot_filtering" / "twotars.mat")
    assert ds["target_mask"].dims == ("scan", "z", "y", "x")
    for layout in ("orthogonal", "slices"):
        fig = figure(ds, layout=layout)
        try:
            panels = [a for a in fig.axes if a.get_title()[:3] in ("z =", "y =", "x =")]
            with_target = [
                a for a in panels if any(isinstance(c, ContourSet) for c in a.get_children())
            ]
            # every orthogonal slice crosses the targets; depth slices where they are
            assert len(with_target) == (3 if layout == "orthogonal" else 5), layout
            assert any("target_mask" in t.get_text() for t in fig.texts)
        finally:
            plt.close(fig)


def test_depth_slices_of_a_wide_volume_fill_their_panels(external_data):
    """``--layout slices`` of the 65 x 33 voxel DOT_filtering volume drew each slice in a
    square panel: the image filled half its height, white bands above and below."""
    from brim.fusion import convert_map

    ds = convert_map(external_data / "fusion" / "dot_filtering" / "twotars.mat")
    fig = figure(ds, layout="slices")
    try:
        fig.canvas.draw()
        panels = [a for a in fig.axes if a.get_title().startswith("z =")]
        assert len(panels) == 7
        for ax in panels:
            drawn, cell = ax.get_position(), ax.get_position(original=True)
            # the image fills most of its panel both ways (was 54 % of its height)
            assert min(drawn.height / cell.height, drawn.width / cell.width) > 0.7
    finally:
        plt.close(fig)
