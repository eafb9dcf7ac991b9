"""The ``.brim`` accessor on xarray Datasets and DataTrees (no subclassing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from brim import provenance as _prov
from brim import schema
from brim.backend import to_device as _to_device


@xr.register_dataset_accessor("brim")
class BrimDatasetAccessor:
    """brim methods on any ``xarray.Dataset``: ``ds.brim.validate()``, ``.to_torch()``, ..."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    @property
    def kind(self) -> str | None:
        """The brim kind named in ``attrs["brim_schema"]`` (None for a plain Dataset)."""
        return schema.kind_of(self._ds)

    def validate(self, kind: str | None = None) -> xr.Dataset:
        """Check the Dataset against its schema; raise :class:`brim.SchemaError` if it breaks it."""
        return schema.validate(self._ds, kind)

    def stamp(self, kind: str) -> xr.Dataset:
        """A copy tagged with the current schema version of ``kind``."""
        return schema.stamp(self._ds, kind)

    @property
    def provenance(self) -> list[dict]:
        """The provenance steps (parsed JSON), oldest first."""
        return _prov.steps(self._ds)

    def to_torch(
        self,
        var: str | None = None,
        *,
        dims: Sequence[str] | None = None,
        device: str | None = None,
        dtype: Any = None,
    ):
        """One variable as a ``torch.Tensor`` (DLPack, zero-copy where safe).

        See :func:`brim.torch_bridge.dataset_to_torch`.
        """
        from brim.torch_bridge import dataset_to_torch

        return dataset_to_torch(self._ds, var, dims=dims, device=device, dtype=dtype)

    def to_device(self, device: str) -> xr.Dataset:
        """A copy whose data variables live on ``device`` (``"cpu"`` NumPy, ``"cuda"`` CuPy).

        Coordinates stay NumPy arrays (they index the data).
        """
        out = self._ds.copy(deep=False)
        for name in out.data_vars:
            out[name] = out[name].copy(data=_to_device(out[name].data, device))
        return out

    def plot(
        self,
        var: str | None = None,
        *,
        sel=None,
        part: str | None = None,
        db: bool | None = None,
        layout: str = "auto",
        ax=None,
        **kw,
    ):
        """Draw one variable the way the Dataset's kind asks, with xarray's plotting.

        Thermograms in °C with mask contours, radar volumes as three orthogonal slices through
        the peak (dB), B-mode and strain with depth/lateral in mm, optical maps as labelled
        depth slices, masks as categories; lengths in mm, y up on physical x–y planes, titles
        naming the slice shown. See :func:`brim.plotting.plot_variable`.

        Parameters
        ----------
        var : str, optional
            Variable (default: the kind's main one).
        sel : mapping or list of ``"dim=value"``, optional
            Nearest-coordinate selection, e.g. ``{"z": "35mm"}`` or ``["frame=1"]``.
        part : {"real", "imag", "abs", "phase"}, optional
            Part of complex data.
        db : bool, optional
            Decibels (default: per kind).
        layout : {"auto", "orthogonal", "slices"}
            How a 3-D volume is shown.
        ax : matplotlib.axes.Axes, optional
            Draw a single panel here.
        **kw
            Passed to xarray's plotting (``vmin``, ``vmax``, ``cmap``...).

        Returns
        -------
        matplotlib.axes.Axes
            The (first) axes; all panels are in ``ax.figure.axes``.

        Examples
        --------
        >>> import brim.data
        >>> ds = brim.data.sample("thermo_phantom_tumour")  # doctest: +SKIP
        >>> ax = ds.brim.plot()  # doctest: +SKIP
        """
        from brim.plotting import plot_variable

        return plot_variable(self._ds, var, sel=sel, part=part, db=db, layout=layout, ax=ax, **kw)


@xr.register_datatree_accessor("brim")
class BrimTreeAccessor:
    """brim's methods on a multi-modal session (``xarray.DataTree``)."""

    def __init__(self, tree: xr.DataTree):
        self._tree = tree

    def validate(self) -> xr.DataTree:
        """Validate every schema-tagged node; raises :class:`brim.SchemaError` naming the node."""
        for node in self._tree.subtree:
            ds = node.to_dataset(inherit=False)
            if ds.attrs.get(schema.ATTR):
                try:
                    schema.validate(ds)
                except schema.SchemaError as exc:
                    raise schema.SchemaError(f"node {node.path}: {exc}") from None
        return self._tree

    @property
    def provenance(self) -> dict[str, list[dict]]:
        """Provenance steps per node path."""
        return {n.path: _prov.steps(n) for n in self._tree.subtree if _prov.steps(n)}
