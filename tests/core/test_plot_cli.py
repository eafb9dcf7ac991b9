"""``brim plot`` and ``ds.brim.plot``: pictures of every brim kind, checked on their content.

Each bundled sample is drawn through the CLI and the PNG is read back (not blank, many colours);
the Figure behind it is checked for what a reader needs (mm axes, a colour bar or legend with
the unit, a title naming the slice). Synthetic volumes with a known peak check the three
orthogonal radar slices, labelled depth slices, honest complex labels and ``--sel``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr

import brim
from brim.cli import main
from brim.data import list_samples, sample_path
from brim.errors import ConfigError
from brim.plotfile import figure

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import factories  # noqa: E402

PERCEPTUAL = {"viridis", "magma", "cividis", "gray", "inferno", "plasma", "brim_categories"}


def _colorbars(fig):
    return [a for a in fig.axes if a.get_label() == "<colorbar>"]


def _panels(fig):
    """Axes that show an image (not colour bars)."""
    return [
        a
        for a in fig.axes
        if a.get_label() != "<colorbar>"
        and (a.images or any(type(c).__name__ == "QuadMesh" for c in a.collections))
    ]


def _png_content(path: Path) -> tuple[float, int, tuple[int, int]]:
    """(pixel standard deviation, number of distinct colours, (height, width)) of a PNG."""
    img = mpimg.imread(path)
    assert img.ndim == 3, f"{path} is not an RGB(A) picture"
    rgb = (img[..., :3] * 255).round().astype(np.uint8).reshape(-1, 3)
    colours = np.unique(rgb[:, 0].astype(np.int64) << 16 | rgb[:, 1] << 8 | rgb[:, 2]).size
    return float(rgb.std()), int(colours), img.shape[:2]


# What each bundled sample's picture must show (sample name -> checks); a sample added later
# gets the generic checks only.
EXPECT = {
    "thermo_phantom_tumour": {"cbar": "°C", "axes_mm": True, "legend": "tumour"},
    "thermo_phantom_healthy": {"cbar": "°C", "axes_mm": True, "legend": "breast"},
    "elasto_phantom_pair": {"cbar": "dB", "axes_mm": True, "title": "frame = 0"},
    "fusion_ultrasound": {"axes_mm": True, "legend": "lesion"},
    "fusion_measurement": {"xlabel": "mm", "legend": "780 nm"},
    "fusion_reference": {"xlabel": "mm", "legend": "740 nm"},
    "microwave_radar_scan": {"cbar": "dB", "xlabel": "GHz"},
}


@pytest.mark.parametrize("name", list_samples())
def test_brim_plot_writes_a_picture_of_each_sample(name, tmp_path, capsys):
    out = tmp_path / f"{name}.png"
    assert main(["plot", str(sample_path(name)), "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    std, colours, (h, w) = _png_content(out)
    assert h > 200 and w > 200
    assert std > 20, f"{name}: the picture is nearly blank (pixel std {std:.1f})"
    assert colours > 64, f"{name}: only {colours} distinct colours"

    fig = figure(brim.open(sample_path(name)))
    try:
        want = EXPECT.get(name, {})
        panels = _panels(fig) or [a for a in fig.axes if a.lines]
        assert panels, f"{name}: no image or line drawn"
        main_ax = panels[0]
        title = main_ax.get_title()
        assert title and ("—" in title or "vs" in title), f"{name}: title {title!r}"
        cbars = _colorbars(fig)
        assert cbars or main_ax.get_legend() is not None, f"{name}: no colour bar or legend"
        if "cbar" in want:
            assert any(want["cbar"] in c.get_ylabel() for c in cbars), [
                c.get_ylabel() for c in cbars
            ]
        if want.get("axes_mm"):
            assert "mm" in main_ax.get_xlabel() and "mm" in main_ax.get_ylabel()
        if "xlabel" in want:
            assert want["xlabel"] in main_ax.get_xlabel()
        if "legend" in want:
            legend = main_ax.get_legend()
            assert legend is not None
            assert any(want["legend"] in t.get_text() for t in legend.get_texts())
        if "title" in want:
            assert want["title"] in title
        for ax in panels:
            for im in ax.images:
                assert im.get_cmap().name in PERCEPTUAL
    finally:
        plt.close(fig)


def test_thermogram_axes_are_the_coordinates_in_mm_rows_down():
    ds = brim.open(sample_path("thermo_phantom_tumour"))
    ax = ds.brim.plot()
    try:
        x_mm = ds["x"].values * 1e3
        y_mm = ds["y"].values * 1e3
        left, right = sorted(ax.get_xlim())
        assert left <= x_mm.min() and right >= x_mm.max() and right - left < 1.05 * np.ptp(x_mm)
        bottom, top = ax.get_ylim()
        assert bottom > top, "a thermogram is an image: rows (y) go down"
        assert abs(max(bottom, top) - y_mm.max()) < 2 * np.diff(y_mm).mean()
        # the colour limits come from the body, not from the cold background
        im = ax.images[0]
        body = ds["temperature"].values[ds["body_mask"].values > 0]
        assert im.norm.vmin > ds["temperature"].min() + 1
        assert np.percentile(body, 1) >= im.norm.vmin - 1e-6
    finally:
        plt.close(ax.figure)


def _radar_volume(peak=(0.035, -0.01, 0.015)):
    """A (z, y, x) intensity volume in metres with one Gaussian peak at ``peak``."""
    z = np.arange(0, 0.0701, 0.0025)
    y = np.arange(-0.05, 0.0501, 0.0025)
    x = np.arange(-0.05, 0.0501, 0.0025)
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    r2 = (zz - peak[0]) ** 2 + (yy - peak[1]) ** 2 + (xx - peak[2]) ** 2
    das = np.exp(-r2 / (2 * 0.006**2)) + 1e-4
    ds = xr.Dataset(
        {"das": (("z", "y", "x"), das, {"units": "1", "long_name": "das intensity"})},
        coords={
            "z": ("z", z, {"units": "m"}),
            "y": ("y", y, {"units": "m"}),
            "x": ("x", x, {"units": "m"}),
        },
    )
    return brim.schema.stamp(ds, "reconstruction")


def test_radar_volume_is_three_orthogonal_slices_through_the_peak_in_db(tmp_path):
    ds = _radar_volume()
    fig = figure(ds)
    try:
        panels = _panels(fig)
        assert len(panels) == 3
        titles = [a.get_title() for a in panels]
        assert "z = 35 mm" in titles[0] and "y = -10 mm" in titles[1]
        assert "x = 15 mm" in titles[2]
        for a in panels:
            assert "mm" in a.get_xlabel() and "mm" in a.get_ylabel()
            lo, hi = a.get_ylim()
            assert lo < hi, "physical planes have their vertical axis pointing up"
        (cbar,) = _colorbars(fig)
        assert "dB" in cbar.get_ylabel()
        # the z-plane panel shows 10 log10(I / max) with the peak at 0 dB
        shown = np.asarray(panels[0].images[0].get_array())
        assert shown.max() == pytest.approx(0.0, abs=1e-9)
        expected = 10 * np.log10(ds["das"].sel(z=0.035).values / ds["das"].values.max())
        np.testing.assert_allclose(np.sort(shown.ravel()), np.sort(expected.ravel()), atol=1e-9)
    finally:
        plt.close(fig)
    brim.save(ds, tmp_path / "vol.nc")
    assert main(["plot", str(tmp_path / "vol.nc"), "-o", str(tmp_path / "vol.png")]) == 0
    std, colours, (h, w) = _png_content(tmp_path / "vol.png")
    assert w > 2 * h and std > 20 and colours > 64


def test_sel_takes_nearest_coordinate_with_or_without_unit():
    ds = _radar_volume()
    a = ds.brim.plot(sel=["z=34mm"])
    b = ds.brim.plot(sel={"z": 0.0341})
    try:
        assert "z = 35 mm" in a.get_title() and "z = 35 mm" in b.get_title()
        np.testing.assert_array_equal(a.images[0].get_array(), b.images[0].get_array())
        assert len(_panels(a.figure)) == 1
    finally:
        plt.close(a.figure)
        plt.close(b.figure)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--var", "nope"], ["nope", "das"]),
        (["--sel", "q=1"], ["'q'", "z", "y", "x"]),
        (["--sel", "z=35"], ["outside", "35mm"]),
        (["--sel", "z"], ["DIM=VALUE"]),
        (["--sel", "z=3furlong"], ["furlong"]),
    ],
)
def test_bad_var_or_sel_is_a_one_line_error_listing_what_exists(args, words, tmp_path, capsys):
    brim.save(_radar_volume(), tmp_path / "vol.nc")
    rc = main(["plot", str(tmp_path / "vol.nc"), "-o", str(tmp_path / "x.png"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("brim: error:") and err.count("\n") == 1
    for w in words:
        assert w in err
    assert not (tmp_path / "x.png").exists()


def test_bad_selection_raises_config_error_from_the_accessor():
    with pytest.raises(ConfigError, match="its dimensions: z"):
        _radar_volume().brim.plot(sel={"time": 0})


def test_optical_maps_are_labelled_depth_slices():
    rng = np.random.default_rng(1)
    z = np.arange(1.25, 20, 2.5)
    mua = 0.003 + 1e-4 * rng.random((2, z.size, 10, 12))
    mua[1, 4, 5, 6] = 0.02  # a lesion at 780 nm, depth 11.25 mm
    ds = xr.Dataset(
        {"mua": (("wavelength", "z", "y", "x"), mua, {"units": "mm-1", "long_name": "mua"})},
        coords={
            "wavelength": ("wavelength", [740.0, 780.0], {"units": "nm"}),
            "z": ("z", z, {"units": "mm", "long_name": "depth"}),
            "y": ("y", np.arange(10) * 2.0, {"units": "mm"}),
            "x": ("x", np.arange(12) * 2.0, {"units": "mm"}),
        },
    )
    ds = brim.schema.stamp(ds, "reconstruction")
    fig = figure(ds, sel=["wavelength=780"])
    try:
        panels = _panels(fig)
        assert len(panels) == z.size
        assert [a.get_title() for a in panels] == [f"z = {v:g} mm" for v in z]
        (cbar,) = _colorbars(fig)
        assert "mm⁻¹" in cbar.get_ylabel()
        assert "wavelength = 780 nm" in fig._suptitle.get_text()
        assert np.asarray(panels[4].images[0].get_array()).max() == pytest.approx(0.02)
    finally:
        plt.close(fig)


def _permittivity():
    rng = np.random.default_rng(2)
    eps = 10 + rng.random((8, 9)) - 1j * (1 + rng.random((8, 9)))
    ds = xr.Dataset(
        {
            "permittivity": (
                ("y", "x"),
                eps,
                {"units": "1", "long_name": "complex relative permittivity eps' - j eps''"},
            )
        },
        coords={
            "y": ("y", np.arange(8) * 3e-3, {"units": "m"}),
            "x": ("x", np.arange(9) * 3e-3, {"units": "m"}),
        },
    )
    return brim.schema.stamp(ds, "reconstruction")


def test_complex_maps_show_honestly_labelled_parts():
    ds = _permittivity()
    fig = figure(ds)
    try:
        panels = _panels(fig)
        assert len(panels) == 2
        labels = [c.get_ylabel() for c in _colorbars(fig)]
        assert "ε′" in labels[0] and "Re(" in labels[0]
        assert "−ε″" in labels[1] and "Im(" in labels[1]
        np.testing.assert_allclose(
            panels[1].images[0].get_array(),
            ds["permittivity"].values.imag[::-1]
            if panels[1].yaxis_inverted()
            else ds["permittivity"].values.imag,
        )
    finally:
        plt.close(fig)
    ax = ds.brim.plot(part="abs")
    try:
        (label,) = [c.get_ylabel() for c in _colorbars(ax.figure)]
        assert label.startswith("|relative permittivity|")
        assert "eps'" not in label and "j" not in label.replace("[", "")
        np.testing.assert_allclose(
            np.sort(np.asarray(ax.images[0].get_array()).ravel()),
            np.sort(np.abs(ds["permittivity"].values).ravel()),
        )
    finally:
        plt.close(ax.figure)


def test_masks_are_categories_with_a_legend_of_label_names():
    m = np.zeros((20, 30), "u1")
    m[2:18, 3:27] = 1
    m[5:15, 5:12] = 2
    m[5:15, 16:25] = 3
    ds = xr.Dataset(
        {"mask": (("y", "x"), m, {"units": "1"})},
        coords={
            "y": ("y", np.arange(20) * 2e-3, {"units": "m"}),
            "x": ("x", np.arange(30) * 2e-3, {"units": "m"}),
        },
        attrs={"labels": '{"background": 0, "body": 1, "right_breast": 2, "left_breast": 3}'},
    )
    ax = brim.schema.stamp(ds, "mask").brim.plot()
    try:
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert texts == ["0: background", "1: body", "2: right_breast", "3: left_breast"]
        im = ax.images[0]
        rgba = im.cmap(im.norm(np.asarray(im.get_array())))
        colours = {tuple(np.round(c, 4)) for c in rgba.reshape(-1, 4)}
        assert len(colours) == 4, "one distinct colour per label"
        assert not _colorbars(ax.figure), "categories get a legend, not a continuous colour bar"
    finally:
        plt.close(ax.figure)


def test_strain_image_has_depth_and_lateral_in_mm_and_percent():
    depth = np.arange(0.001, 0.03, 0.0005)
    line = np.arange(0.0, 0.02, 0.00025)
    strain = np.full((depth.size, line.size), -0.01)
    ds = xr.Dataset(
        {"strain": (("depth", "line"), strain, {"units": "1", "long_name": "axial strain"})},
        coords={"depth": ("depth", depth, {"units": "m"}), "line": ("line", line, {"units": "m"})},
    )
    ds = brim.schema.stamp(ds, "strain_image")
    ax = ds.brim.plot()
    try:
        assert "depth" in ax.get_ylabel() and "mm" in ax.get_ylabel()
        assert "lateral" in ax.get_xlabel() and "mm" in ax.get_xlabel()
        assert ax.yaxis_inverted(), "depth grows downwards"
        (cbar,) = _colorbars(ax.figure)
        assert "%" in cbar.get_ylabel()
        assert np.asarray(ax.images[0].get_array()) == pytest.approx(-1.0)
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("kind", sorted(factories.ALL))
def test_every_kind_draws_with_perceptual_colour_maps(kind):
    ds = factories.ALL[kind](np.random.default_rng(0))
    fig = figure(ds)
    try:
        assert _panels(fig) or any(a.lines for a in fig.axes)
        for ax in fig.axes:
            for im in [*ax.images, *ax.collections]:
                cmap = getattr(im, "cmap", None)
                if cmap is not None and cmap.name not in ("from_list",):
                    assert cmap.name != "jet"
    finally:
        plt.close(fig)


def test_plot_refuses_a_data_suffix_and_save_refuses_a_picture_suffix(tmp_path, capsys):
    src = sample_path("thermo_phantom_tumour")
    assert main(["plot", str(src), "-o", str(tmp_path / "x.nc")]) == 2
    assert "image suffix" in capsys.readouterr().err
    ds = brim.open(src)
    for suffix in (".png", ".PNG", ".jpg", ".pdf", ".svg"):
        with pytest.raises(ConfigError, match="brim plot"):
            brim.save(ds, tmp_path / f"x{suffix}")
        assert not (tmp_path / f"x{suffix}").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_cli_writing_netcdf_refuses_a_picture_name(tmp_path, capsys):
    out = tmp_path / "image.png"
    rc = main(
        ["microwave", "calibrate", str(sample_path("microwave_radar_scan")), "--average",
         "-o", str(out)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "brim plot" in err
    assert not out.exists()


def test_a_multimodal_file_is_drawn_and_described_by_group(tmp_path, capsys):
    tree = xr.DataTree.from_dict(
        {
            "/thermo": brim.open(sample_path("thermo_phantom_tumour")),
            "/elasto": brim.open(sample_path("fusion_ultrasound")),
        }
    )
    brim.save(tree, tmp_path / "session.nc")
    out = tmp_path / "t.png"
    args = ["plot", str(tmp_path / "session.nc"), "-o", str(out)]
    assert main([*args, "--node", "/thermo"]) == 0
    assert _png_content(out)[0] > 20
    assert main([*args, "--node", "/nope"]) == 2
    err = capsys.readouterr().err
    assert "/thermo" in err and "/elasto" in err
    assert main(["info", str(tmp_path / "session.nc")]) == 0
    text = capsys.readouterr().out
    assert "== node /thermo" in text and "schema: thermogram/1 (valid)" in text
    assert "schema: mask/1 (valid)" in text


def test_given_axes_get_one_panel_the_slice_through_the_peak():
    fig, ax = plt.subplots()
    try:
        out = _radar_volume().brim.plot(ax=ax, cmap="viridis")
        assert out is ax and len(_panels(fig)) == 1
        assert "z = 35 mm (through the peak)" in ax.get_title()
        assert ax.images[0].get_cmap().name == "viridis"
    finally:
        plt.close(fig)


def test_all_nan_data_is_a_clear_error_not_an_empty_picture(tmp_path):
    ds = _radar_volume()
    ds["das"][:] = np.nan
    with pytest.raises(ConfigError, match="no finite value"):
        ds.brim.plot()
    with pytest.raises(ConfigError, match="no finite value at z = 35 mm"):
        ds.brim.plot(sel={"z": "35mm"})


def test_plot_creates_the_output_folder_like_every_command(tmp_path, capsys):
    """``-o new/sub/x.png`` makes the folders, as the data commands' ``-o`` does (it was
    "folder new/sub does not exist"); an input that cannot be read leaves no folder behind."""
    out = tmp_path / "new" / "sub" / "x.png"
    assert main(["plot", str(sample_path("thermo_phantom_tumour")), "-o", str(out)]) == 0
    assert out.stat().st_size > 1000
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not a netcdf file")
    assert main(["plot", str(bad), "-o", str(tmp_path / "other" / "y.png")]) == 2
    assert "brim: error" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
