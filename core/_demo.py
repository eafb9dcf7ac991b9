"""What the modalities' ``brim demo`` sections share (private; see :mod:`brim.demo`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import xarray as xr


def bundled_or_simulated(
    names: Sequence[str], simulate: Callable[[], Iterable[xr.Dataset | xr.DataTree]]
) -> tuple[list[xr.Dataset], str]:
    """A demo's input: the bundled samples ``names``, or ``simulate()`` where they are missing.

    The samples are missing in a source checkout before ``scripts/make_samples.py`` has run;
    ``simulate`` then makes the same data with the modality's simulators.

    Parameters
    ----------
    names : sequence of str
        The bundled samples the demo reads (:func:`brim.data.sample` names).
    simulate : callable
        Makes the datasets of ``names``, in that order.

    Returns
    -------
    (list of xarray.Dataset, str)
        The datasets, and where they came from in words (for the demo's summary).

    Raises
    ------
    FormatError
        A sample opens as a DataTree (the demos draw Datasets).
    """
    import brim.data
    from brim.errors import ConfigError, FormatError

    try:
        found = [brim.data.sample(name) for name in names]
        origin = f"bundled sample {', '.join(names)}"
    except ConfigError:  # no such bundled sample: not generated yet
        found = list(simulate())
        origin = "simulated now (bundled sample not generated yet)"
    datasets = []
    for name, ds in zip(names, found, strict=True):
        if not isinstance(ds, xr.Dataset):
            raise FormatError(f"the demo input {name} is a DataTree, not a Dataset")
        datasets.append(ds)
    return datasets, origin
