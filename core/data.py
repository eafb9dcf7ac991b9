"""Bundled sample data, and the location of the real public data.

``data_samples/`` (installed as ``brim.data_samples``) holds small files made by brim's own
simulators — never copies of external data. Each modality contributes a
``make_samples(outdir)`` function through the ``brim.samples`` entry-point group;
``scripts/make_samples.py`` (or :func:`make_all`) regenerates every file bit for bit.

Real public data are never bundled: :func:`external_data` finds them through the environment
variable ``BRIM_EXTERNAL_DATA``.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path

import xarray as xr

from brim.errors import ConfigError, MissingFileError

EXTERNAL_DATA_VARIABLE = "BRIM_EXTERNAL_DATA"
SAMPLE_EPOCH = "1767225600"  # 2026-01-01T00:00:00Z: the fixed provenance time of sample files


_RESOLVED: dict[str, Path] = {}  # value of BRIM_EXTERNAL_DATA -> the folder it resolved to


def _is_brim_checkout(folder: Path) -> bool:
    """True when ``folder`` holds the pyproject.toml of the brim project."""
    try:
        text = (folder / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False
    return any(line.replace(" ", "") == 'name="brim"' for line in text.splitlines())


def _repository_roots(cwd: Path) -> list[Path]:
    """Folders of brim source checkouts: above the working directory, then brim's own."""
    roots = [folder for folder in (cwd, *cwd.parents) if _is_brim_checkout(folder)][:1]
    installed = Path(__file__).resolve().parent.parent  # the checkout of an editable install
    if _is_brim_checkout(installed) and installed not in roots:
        roots.append(installed)
    return roots


def _resolve_external_root(value: str) -> Path:
    """The folder ``BRIM_EXTERNAL_DATA=value`` names (see :func:`external_data`), or raise."""
    raw = Path(value).expanduser()
    if raw.is_absolute():
        tried = [(raw, "absolute path")]
    else:
        cwd = Path.cwd()
        tried = [(cwd / raw, "working directory")]
        tried += [(root / raw, "brim repository root") for root in _repository_roots(cwd)]
    for candidate, _ in tried:
        if candidate.is_dir():
            return candidate.resolve()
    where = "; ".join(f"{path} ({why})" for path, why in tried)
    raise MissingFileError(
        f"{EXTERNAL_DATA_VARIABLE}={value!r} is not a folder (tried {where}): point it at the "
        f"shared data folder or unset it"
    )


def external_data(
    subpath: str | os.PathLike | None = None, *, required: bool = False
) -> Path | None:
    """The real public data folder named by ``$BRIM_EXTERNAL_DATA`` (or a path inside it).

    The variable is read at each call; the folder a value names is resolved once, at its first
    use, and reused afterwards, so a later change of working directory does not move it. A
    relative value is tried against the current working directory first and, when no such
    folder exists there, against the root of the brim source checkout (the nearest folder above
    the working directory whose ``pyproject.toml`` names the project ``brim``, then the checkout
    brim is installed from). So ``export BRIM_EXTERNAL_DATA=../shared/data`` run at the
    repository root also works in a notebook kernel whose working directory is ``examples/``.

    Parameters
    ----------
    subpath : str or os.PathLike, optional
        A file or folder inside the data tree, e.g. ``"microwave/merit"``. It must exist.
    required : bool, default False
        Raise when the variable is unset, instead of returning None.

    Returns
    -------
    pathlib.Path or None
        The absolute path, or None when the variable is unset (or empty) and ``required`` is
        False.

    Raises
    ------
    brim.MissingFileError
        When the variable is set but names no folder (the message lists every path tried),
        when ``subpath`` does not exist inside it, or when it is unset and ``required`` is True.

    Examples
    --------
    >>> import brim.data
    >>> merit = brim.data.external_data("microwave/merit")  # doctest: +SKIP
    >>> if merit is None:
    ...     print("BRIM_EXTERNAL_DATA is unset")  # doctest: +SKIP
    """
    value = os.environ.get(EXTERNAL_DATA_VARIABLE, "").strip()
    if not value:
        if required:
            raise MissingFileError(
                f"{EXTERNAL_DATA_VARIABLE} is not set: point it at the shared data folder "
                f"(e.g. export {EXTERNAL_DATA_VARIABLE}=../shared/data from the repository root)"
            )
        return None
    root = _RESOLVED.get(value)
    if root is None or not root.is_dir():
        root = _RESOLVED[value] = _resolve_external_root(value)
    if subpath is None:
        return root
    path = root / subpath
    if not path.exists():
        raise MissingFileError(
            f"{EXTERNAL_DATA_VARIABLE}={value!r} (resolved to {root}) has no {str(subpath)!r}: "
            f"{path} does not exist; point the variable at a complete copy of the shared data"
        )
    return path


def sample_dir() -> Path:
    """The folder holding the bundled samples.

    Returns
    -------
    pathlib.Path
        Inside the installed package (``brim/data_samples``).
    """
    return Path(str(resources.files("brim.data_samples")))


def list_samples() -> list[str]:
    """Names of the bundled samples (file names without ``.nc``).

    Returns
    -------
    list of str
        Sorted, e.g. ``["elasto_phantom_pair", ..., "thermo_phantom_tumour"]``.

    Examples
    --------
    >>> from brim.data import list_samples
    >>> "thermo_phantom_tumour" in list_samples()
    True
    """
    return sorted(p.stem for p in sample_dir().glob("*.nc"))


def sample_path(name: str) -> Path:
    """Path of a bundled sample file.

    Parameters
    ----------
    name : str
        A name from :func:`list_samples` (``.nc`` optional).

    Returns
    -------
    pathlib.Path
        The NetCDF file.

    Raises
    ------
    ConfigError
        No such sample (the message lists those available).

    Examples
    --------
    >>> from brim.data import sample_path
    >>> sample_path("thermo_phantom_tumour").name
    'thermo_phantom_tumour.nc'
    """
    path = sample_dir() / f"{name.removesuffix('.nc')}.nc"
    if not path.is_file():
        raise ConfigError(
            f"no bundled sample {name!r}; available: {', '.join(list_samples()) or 'none'} "
            f"(regenerate them with: python scripts/make_samples.py)"
        )
    return path


def sample(name: str) -> xr.Dataset | xr.DataTree:
    """Open a bundled sample as a brim Dataset (or DataTree).

    The samples are small files made by brim's own simulators (no patient data), shipped with
    the package; :func:`list_samples` names them.

    Parameters
    ----------
    name : str
        The sample's name, e.g. ``"thermo_phantom_tumour"`` (a trailing ``.nc`` is allowed).

    Returns
    -------
    xarray.Dataset or xarray.DataTree
        The sample, validated against its schema.

    Raises
    ------
    ConfigError
        No bundled sample has that name (the message lists those that exist).

    Examples
    --------
    >>> import brim.data
    >>> "thermo_phantom_tumour" in brim.data.list_samples()
    True
    >>> ds = brim.data.sample("thermo_phantom_tumour")
    >>> ds.brim.kind, ds.temperature.dims, ds.temperature.attrs["units"]
    ('thermogram', ('y', 'x'), 'degC')
    """
    from brim.io import open as brim_open

    return brim_open(sample_path(name))


def make_all(
    outdir: str | os.PathLike | None = None, *, only: list[str] | None = None
) -> list[Path]:
    """Regenerate every modality's samples into ``outdir`` (default: the bundled folder).

    Runs each ``brim.samples`` entry point with ``SOURCE_DATE_EPOCH`` fixed, so provenance time
    stamps — and therefore the files — are identical on every run.

    Parameters
    ----------
    outdir : path-like, optional
        Destination folder (created); default the bundled samples folder.
    only : list of str, optional
        Regenerate only these modalities (entry-point names, e.g. ``["thermo"]``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(outdir) if outdir is not None else sample_dir()
    out.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SAMPLE_EPOCH
    written: list[Path] = []
    try:
        for ep in sorted(entry_points(group="brim.samples"), key=lambda e: e.name):
            if only and ep.name not in only:
                continue
            written.extend(Path(p) for p in ep.load()(out))
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return written
