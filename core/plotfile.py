"""``brim plot``: one picture file from any brim (or vendor) file.

:func:`figure` draws a Dataset with :func:`brim.plotting.plot_variable` and returns the
matplotlib Figure; :func:`plot_file` opens a file (a brim NetCDF file, or any vendor format a
modality reader opens, see :func:`brim.fileinfo.open_any`), draws it and writes the picture.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from brim._outputs import check_creatable, make_folder, same_file
from brim.errors import ConfigError, FormatError, require

__all__ = ["IMAGE_SUFFIXES", "figure", "plot_file"]

#: Suffixes of picture files: ``brim plot`` writes them, :func:`brim.save` refuses them.
IMAGE_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".pdf", ".svg", ".svgz", ".tif", ".tiff", ".gif", ".bmp",
    ".webp", ".eps", ".ps", ".pgf",
)  # fmt: skip


def figure(
    ds: xr.Dataset | xr.DataTree,
    var: str | None = None,
    *,
    sel: Mapping[str, Any] | Sequence[str] | None = None,
    part: str | None = None,
    db: bool | None = None,
    layout: str = "auto",
    node: str | None = None,
    title: str | None = None,
):
    """The picture of one variable as a matplotlib Figure (never shown).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataTree
        The data. For a DataTree, ``node`` names the group (default: the first group holding
        data variables).
    var, sel, part, db, layout
        As in :func:`brim.plotting.plot_variable`.
    node : str, optional
        Group path of a DataTree (e.g. ``/thermo``).
    title : str, optional
        A line added above the picture (e.g. the file name).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; close it with ``matplotlib.pyplot.close(fig)`` when done.

    Raises
    ------
    ConfigError
        Unknown variable, node or dimension (the message lists what exists).
    """
    from brim.plotting import plot_variable

    if isinstance(ds, xr.DataTree):
        nodes = {n.path: n for n in ds.subtree if n.has_data and n.data_vars}
        if node is None:
            if not nodes:
                raise ConfigError("nothing to plot: no group of this file holds data variables")
            node = next(iter(nodes))
        if node not in nodes:
            raise ConfigError(f"no group {node!r} with data; groups: {', '.join(nodes)}")
        ds = nodes[node].to_dataset(inherit=True)
    elif node is not None:
        raise ConfigError(f"--node {node}: this file has no groups")
    ax = plot_variable(ds, var, sel=sel, part=part, db=db, layout=layout)
    fig = ax.figure
    if title:
        old = fig._suptitle
        sup = old.get_text() if old is not None else ""
        # keep a placed title's place (above a facet grid); a title that constrained layout
        # places itself is left to it: given a y, the layout no longer makes room for it and
        # the two lines sat over the panels' titles (a DOT volume's orthogonal slices)
        placed = old is not None and not getattr(old, "_autopos", True)
        where = {"y": old.get_position()[1], "va": old.get_va()} if placed else {}
        fig.suptitle(f"{title}\n{sup}" if sup else title, fontsize=11, **where)
    return fig


def plot_file(
    path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    var: str | None = None,
    sel: Mapping[str, Any] | Sequence[str] | None = None,
    part: str | None = None,
    db: bool | None = None,
    layout: str = "auto",
    node: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw a file's data and write the picture (PNG, PDF, SVG...: chosen by the suffix).

    Parameters
    ----------
    path : path-like
        A brim NetCDF file, or a vendor file any brim reader opens.
    output : path-like
        The picture; its suffix picks the format (``.png``, ``.pdf``, ``.svg``...).
    var, sel, part, db, layout, node
        As in :func:`figure`.
    dpi : int
        Resolution of raster pictures.

    Returns
    -------
    pathlib.Path
        The picture written.

    Raises
    ------
    ConfigError
        ``output`` is not a picture suffix, is the input itself, or its folder is missing;
        bad variable or selection.
    FormatError
        No brim reader opens ``path``.

    Examples
    --------
    >>> from brim.data import sample_path
    >>> plot_file(sample_path("thermo_phantom_tumour"), "t.png")  # doctest: +SKIP
    """
    require("matplotlib", "viz")

    from brim.fileinfo import open_any
    from brim.io import write_atomically

    src, out = Path(path), Path(output)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise ConfigError(
            f"-o {out}: a picture needs an image suffix ({', '.join(IMAGE_SUFFIXES[:4])}...); "
            f"to write data use the command that makes them (NetCDF .nc)"
        )
    if same_file(out, src):  # through links and hard links too
        raise ConfigError(f"-o {out} is the input file; choose another name")
    check_creatable(out.parent, "the output folder")  # before anything is read or drawn
    try:
        obj, _reader = open_any(src)
    except FormatError as exc:
        tried = getattr(exc, "readers_tried", None)
        if not tried or len(tried) < 3:
            raise
        # every reader's refusal on one line is ~1,500 characters: say what to do instead
        raise FormatError(
            f"{src}: no brim reader opens this file ({len(tried)} tried), so there is nothing "
            f"to draw; 'brim info {src}' shows what it holds and why each reader refused; a "
            "raw vendor file is converted first (brim thermo|microwave|elasto|fusion convert)"
        ) from exc
    import matplotlib.pyplot as plt

    fig = figure(obj, var, sel=sel, part=part, db=db, layout=layout, node=node, title=src.name)
    try:
        make_folder(out.parent, "the output folder")  # as every command's -o does
        # atomic, as brim.save: a full disk or an interrupt never leaves a truncated picture
        fmt = out.suffix.lower().lstrip(".")
        write_atomically(
            out, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
        )
    finally:
        plt.close(fig)
    return out
