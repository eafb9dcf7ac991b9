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
        """The brim kind named in ``attrs["brim_schema"]`` (None for a plain Dataset).

        Returns
        -------
        str or None
            E.g. ``"thermogram"``.

        Examples
        --------
        >>> import xarray as xr
        >>> import brim, brim.data
        >>> brim.data.sample("thermo_phantom_tumour").brim.kind
        'thermogram'
        >>> xr.Dataset().brim.kind is None
        True
        """
        return schema.kind_of(self._ds)

    def validate(self, kind: str | None = None) -> xr.Dataset:
        """Check the Dataset against its schema; raise :class:`brim.SchemaError` if it breaks it.

        Parameters
        ----------
        kind : str, optional
            Check against this kind instead of the one named in ``attrs["brim_schema"]``.

        Returns
        -------
        xarray.Dataset
            The Dataset itself, so calls chain.

        Raises
        ------
        SchemaError
            What is wrong (a missing variable, wrong dims, dtype or units, NaN/inf) and how to
            fix it.

        Examples
        --------
        >>> import brim, brim.data
        >>> ds = brim.data.sample("thermo_phantom_tumour")
        >>> ds.brim.validate() is ds
        True
        >>> bad = ds.assign(temperature=ds.temperature.assign_attrs(units="K"))
        >>> bad.brim.validate()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        brim.errors.SchemaError: ...'temperature' has units 'K'; expected one of ['degC']...
        """
        return schema.validate(self._ds, kind)

    def stamp(self, kind: str) -> xr.Dataset:
        """A copy tagged with the current schema version of ``kind``.

        Parameters
        ----------
        kind : str
            A registered kind (:func:`brim.schema.kinds`).

        Returns
        -------
        xarray.Dataset
            A shallow copy with ``attrs["brim_schema"]`` set.

        Examples
        --------
        >>> import xarray as xr
        >>> import brim  # registers ds.brim
        >>> xr.Dataset().brim.stamp("mask").attrs["brim_schema"].startswith("mask/")
        True
        """
        return schema.stamp(self._ds, kind)

    @property
    def provenance(self) -> list[dict]:
        """The provenance steps (parsed JSON), oldest first.

        Returns
        -------
        list of dict
            One record per step (``step``, ``parameters``, ``versions``, ``time``).

        Examples
        --------
        >>> import brim, brim.data
        >>> steps = brim.data.sample("thermo_phantom_tumour").brim.provenance
        >>> [s["step"] for s in steps]
        ['brim.thermo.simulate_thermogram']
        """
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

        Data are shared with the Dataset where DLPack can do so safely and copied where it
        cannot (negative strides, non-native byte order, read-only buffers). See
        :func:`brim.torch_bridge.dataset_to_torch`; :func:`brim.from_torch` goes back.

        Parameters
        ----------
        var : str, optional
            The variable; needed when the Dataset has several data variables.
        dims : sequence of str, optional
            Dimension order of the tensor (each of the variable's dims named once).
        device : str, optional
            ``"cpu"`` or ``"cuda"``; default: where the data are (the CPU for NumPy data, as
            read from a file).
        dtype : torch.dtype, optional
            Convert to this dtype, e.g. ``torch.float16`` to halve GPU memory (a copy).

        Returns
        -------
        torch.Tensor
            A plain tensor (no metadata): its axes follow ``dims``.

        Raises
        ------
        ConfigError
            ``dims`` does not name each of the variable's dimensions once.
        DependencyError
            torch is not installed (extra ``dl``).

        Examples
        --------
        >>> import brim, brim.data
        >>> ds = brim.data.sample("thermo_phantom_tumour")
        >>> t = ds.brim.to_torch("temperature", dims=("x", "y"))
        >>> type(t).__name__, t.dtype
        ('Tensor', torch.float32)
        >>> tuple(t.shape) == (ds.sizes["x"], ds.sizes["y"])
        True
        >>> back = brim.from_torch(t.T - 1.0, like=ds, name="temperature")
        >>> float((ds.temperature - back.temperature).max())
        1.0
        """
        from brim.torch_bridge import dataset_to_torch

        return dataset_to_torch(self._ds, var, dims=dims, device=device, dtype=dtype)

    def to_device(self, device: str) -> xr.Dataset:
        """A copy whose data variables live on ``device`` (``"cpu"`` NumPy, ``"cuda"`` CuPy).

        Coordinates stay NumPy arrays (they index the data).

        Parameters
        ----------
        device : {"cpu", "cuda", "gpu"}
            Target device (see :func:`brim.backend.to_device`).

        Returns
        -------
        xarray.Dataset
            A shallow copy with moved data variables.

        Examples
        --------
        >>> import brim, brim.data
        >>> ds = brim.data.sample("thermo_phantom_tumour")
        >>> type(ds.brim.to_device("cpu").temperature.data).__name__
        'ndarray'
        >>> gpu = ds.brim.to_device("cuda")  # doctest: +SKIP
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
        """Validate every schema-tagged node; raises :class:`brim.SchemaError` naming the node.

        Returns
        -------
        xarray.DataTree
            The tree itself, so calls chain.

        Raises
        ------
        SchemaError
            A tagged node breaks its schema (the message names the node).
        """
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
