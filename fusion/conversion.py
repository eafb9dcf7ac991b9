"""Convert public optical data to brim NetCDF: Zhu-lab maps and .mat/CSV measurements.

What :func:`convert` reads, and what it writes:

* ``DOT_filtering`` .mat volumes (``volume7all`` / ``maskall``, Zhu lab, US-guided DOT
  reconstructions of phantoms): ``mua`` (scan, z, y, x) in mm⁻¹ and ``target_mask``;
* ``DOT-guided-PAT-reconstruction`` .npy maps (``mua-<nm>.npy``, ``mus-<nm>.npy``, phantom maps
  ``mua-<contrast>-<nm>-scan<k>.npy``) and whole patient folders: ``mua``/``musp`` in mm⁻¹; a
  patient folder with ``mua`` at two or more wavelengths also gets ``hbo2``, ``hb``, ``hbt``
  (µM) and ``so2`` maps through an extinction table;
* optical measurements (.mat, CSV, NetCDF; :func:`brim.fusion.read_measurement`):
  the validated ``optical_measurement`` with positions in m.

Absorption and scattering are stored in mm⁻¹ (the unit the brim conventions name for optical
coefficients). The public maps are in cm⁻¹ (the source repositories' unit; neither file format
stores it), so that is the default, recorded in ``attrs["converted_from_units"]``; give
``units`` for maps in another unit. Saturation outside [0, 1] is flagged: a warning (and a log
line) with the fraction of voxels concerned, an error when no voxel at all lies in [0, 1] (a
map that is not a fraction, e.g. a percentage).

Lengths: the maps do not store their pixel size, so their coordinates stay voxel indices
(``px``) unless ``pixel_size`` (m; and ``depth_spacing`` for volumes) is given.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, FormatError, MissingFileError, warn
from brim.fusion._units import INVERSE_LENGTH_TO_PER_MM, check_plausible_m, per_mm_factor

__all__ = ["convert", "convert_map", "check_so2", "PARAMS", "MAP_UNITS"]


#: absorption/scattering units a map may be given in (``units=``, ``--units``)
MAP_UNITS = ("mm-1", "cm-1", "m-1")
#: unit of the public Zhu-lab maps (their repositories' unit; not stored in the files)
ZHU_LAB_UNITS = "cm-1"
#: keys accepted in a ``--params`` file (acquisition presets)
PARAMS = (
    "units",
    "position_units",
    "modulation_frequency",
    "pixel_size",
    "depth_spacing",
    "extinction",
    "hemoglobin",
)


def check_so2(so2: ArrayLike, *, where: str = "sO2") -> float:
    """Flag oxygen saturation outside [0, 1]; return the fraction of finite values outside.

    Parameters
    ----------
    so2 : array_like
        Saturation values (fraction, 1 = fully oxygenated); NaN ignored.
    where : str
        What the values are (named in the message).

    Returns
    -------
    float
        Fraction of finite values outside [0, 1] (a warning is issued when > 0).

    Raises
    ------
    FormatError
        No finite value lies in [0, 1]: not a saturation fraction (a percentage?).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from brim.fusion import check_so2
    >>> check_so2([0.6, 0.7, np.nan])
    0.0
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_so2([0.6, 0.7, 1.2, -0.1])
    0.5
    >>> caught[0].category.__name__
    'BrimWarning'
    >>> check_so2([60, 70])  # a percentage
    Traceback (most recent call last):
    ...
    brim.errors.FormatError: sO2: all 2 values lie outside [0, 1] (range 60 to 70); ...
    """
    a = np.asarray(so2, dtype=np.float64)
    fin = a[np.isfinite(a)]
    if fin.size == 0:
        return 0.0
    out = (fin < 0) | (fin > 1)
    if out.all():
        raise FormatError(
            f"{where}: all {fin.size} values lie outside [0, 1] (range {fin.min():.3g} to "
            f"{fin.max():.3g}); sO2 is a fraction - a percentage must be divided by 100"
        )
    frac = float(out.mean())
    if frac > 0:
        msg = (
            f"{where}: {100 * frac:.1f} % of {fin.size} values lie outside [0, 1] (range "
            f"{fin.min():.3g} to {fin.max():.3g}); unphysical saturation (negative HbO2 or Hb "
            "from noise, or wavelengths/extinction table that do not fit the data)"
        )
        warn(msg)
    return frac


def _to_per_mm(ds: xr.Dataset, units: str, assumed: bool, names=("mua", "musp")) -> xr.Dataset:
    """Convert the coefficient variables of ``ds`` from ``units`` to mm-1 (recorded in attrs)."""
    f = per_mm_factor(units, "the map")
    for v in names:
        if v in ds:
            attrs = {**ds[v].attrs, "units": "mm-1"}
            attrs.pop("note", None)
            ds[v] = (ds[v].dims, np.asarray(ds[v].values, dtype=np.float64) * f, attrs)
    ds.attrs["converted_from_units"] = units
    how = "the source repositories' unit; the files do not store it" if assumed else "given"
    ds.attrs["units_note"] = f"absorption/scattering converted to mm-1 from {units} ({how})"
    if "units as used" in str(ds.attrs.get("note", "")):
        ds.attrs["note"] = "pixel size not stored in the file; coordinates are pixel indices"
    return ds


def _set_spacing(ds: xr.Dataset, pixel_size, depth_spacing) -> xr.Dataset:
    """Replace voxel-index coordinates by lengths in m when the spacing is given."""
    if pixel_size is not None:
        h = float(check_plausible_m(pixel_size, "pixel_size"))
        if not (np.isfinite(h) and h > 0):
            raise ConfigError(f"pixel_size must be a finite length > 0 (m), got {pixel_size}")
        for c in ("y", "x"):
            if c in ds.coords:
                ds = ds.assign_coords({c: (c, np.arange(ds.sizes[c]) * h, {"units": "m"})})
        ds.attrs.pop("note", None)
    if depth_spacing is not None and "z" in ds.coords:
        h = float(check_plausible_m(depth_spacing, "depth_spacing"))
        if not (np.isfinite(h) and h > 0):
            raise ConfigError(f"depth_spacing must be a finite length > 0 (m), got {depth_spacing}")
        ds = ds.assign_coords(
            z=("z", (np.arange(ds.sizes["z"]) + 0.5) * h, {"units": "m", "long_name": "depth"})
        )
    return ds


def _check_units(units):
    if units is not None and units not in MAP_UNITS:
        raise ConfigError(f"units must be one of {list(MAP_UNITS)}, got {units!r}")


@provenance.step
def convert_map(
    path: str | os.PathLike,
    *,
    units: str | None = None,
    pixel_size: float | None = None,
    depth_spacing: float | None = None,
    extinction: str | os.PathLike | xr.Dataset | None = None,
    hemoglobin: bool = True,
) -> xr.Dataset:
    """One Zhu-lab map file or patient folder as a brim ``reconstruction`` in mm⁻¹.

    Parameters
    ----------
    path : path-like
        A ``DOT_filtering`` .mat volume, a ``mua-*.npy``/``mus-*.npy`` map, or a patient folder
        of such maps.
    units : {"mm-1", "cm-1", "m-1"}, optional
        Unit of the stored values; default cm⁻¹ (the source repositories' unit).
    pixel_size : float, optional
        In-plane voxel size, m (default: voxel indices, units ``px``).
    depth_spacing : float, optional
        Spacing of the depth layers of a volume, m.
    extinction : path-like or xarray.Dataset, optional
        Extinction table for the haemoglobin maps (default Prahl's, bundled).
    hemoglobin : bool
        Add ``hbo2``, ``hb``, ``hbt``, ``so2`` for a folder with ``mua`` at >= 2 wavelengths.

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` with ``mua`` and/or ``musp`` in mm-1.

    Raises
    ------
    MissingFileError
        No such file or folder.
    FormatError
        Not a map brim knows, or a saturation map that is not a fraction.
    ConfigError
        Unknown ``units`` or a bad spacing.

    Examples
    --------
    A patient folder with μa and μs′ maps at two wavelengths (cm⁻¹) gains the haemoglobin
    maps:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from brim.fusion import convert_map
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "p1"
    >>> folder.mkdir()
    >>> for wl, mua in ((780, 0.05), (830, 0.06)):
    ...     np.save(folder / f"mua-{wl}.npy", np.full((4, 5), mua))
    ...     np.save(folder / f"mus-{wl}.npy", np.full((4, 5), 8.0))
    >>> ds = convert_map(folder, units="cm-1")
    >>> sorted(ds.data_vars)
    ['hb', 'hbo2', 'hbt', 'mua', 'musp', 'so2']
    >>> ds.mua.attrs["units"], round(float(ds.mua.max()), 4), round(float(ds.so2.mean()), 3)
    ('mm-1', 0.006, 0.83)
    """
    from brim.fusion import public_data
    from brim.fusion.extinction import read_extinction
    from brim.schema import stamp

    _check_units(units)
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"no such file or folder: {p}")
    if p.is_dir():
        ds = public_data.read_dot_pat_patient(p, units=ZHU_LAB_UNITS if units is None else units)
    elif p.suffix.lower() == ".npy":
        da = public_data.read_dot_pat_map(p, units=ZHU_LAB_UNITS if units is None else units)
        ds = da.to_dataset(name=da.name)
        ds.attrs.update({k: v for k, v in da.attrs.items() if k in ("source_file", "note")})
        if np.isfinite(da.attrs.get("wavelength_nm", np.nan)):
            ds = ds.expand_dims(wavelength=[float(da.attrs["wavelength_nm"])])
            ds["wavelength"].attrs["units"] = "nm"
    elif p.suffix.lower() == ".mat":
        ds = public_data.read_dot_filtering(p)
    else:
        raise FormatError(
            f"{p.name}: not a Zhu-lab map (DOT_filtering .mat, mua-/mus-*.npy or a folder of them)"
        )
    ds = _to_per_mm(ds, ZHU_LAB_UNITS if units is None else units, assumed=units is None)
    ds = _set_spacing(ds, pixel_size, depth_spacing)
    if hemoglobin and "mua" in ds and "wavelength" in ds["mua"].dims and ds.sizes["wavelength"] > 1:
        from brim.fusion.reconstruction import hemoglobin as hb_maps

        ext = extinction
        if ext is not None and not isinstance(ext, xr.Dataset):
            ext = read_extinction(ext)
        hb = hb_maps(ds, extinction=ext)
        for v in ("hbo2", "hb", "hbt", "so2"):
            ds[v] = hb[v]
        check_so2(ds["so2"].values, where=f"{p.name}: sO2 map")
    return stamp(ds, "reconstruction")


def _is_map(p: Path) -> bool:
    if p.is_dir() or p.suffix.lower() == ".npy":
        return True
    if p.suffix.lower() == ".mat":
        from brim.io import read_mat

        return "volume7all" in read_mat(p)  # read again by the reader: files of kilobytes
    return False


@provenance.step
def convert(
    path: str | os.PathLike,
    *,
    units: str | None = None,
    position_units: str | None = None,
    modulation_frequency: float | None = None,
    pixel_size: float | None = None,
    depth_spacing: float | None = None,
    extinction: str | os.PathLike | xr.Dataset | None = None,
    hemoglobin: bool = True,
) -> xr.Dataset:
    """Any optical input brim knows as a brim Dataset in SI lengths and mm⁻¹ coefficients.

    Maps (``DOT_filtering`` .mat, ``mu*.npy``, patient folders) go through
    :func:`convert_map`; measurements (.mat with ``amplitude``/``phase``, CSV, NetCDF) through
    :func:`brim.fusion.read_measurement`.

    Parameters
    ----------
    path : path-like
        The input file or folder.
    units : {"mm-1", "cm-1", "m-1"}, optional
        Unit of a map's values (default cm⁻¹ for the Zhu-lab maps).
    position_units : {"mm", "m", "cm", "um"}, optional
        Unit of the optode positions of a .mat measurement (default mm).
    modulation_frequency : float, optional
        Hz, for a CSV measurement without its frequency comment.
    pixel_size, depth_spacing : float, optional
        Voxel size of a map (m).
    extinction : path-like or xarray.Dataset, optional
        Extinction table for the haemoglobin maps.
    hemoglobin : bool
        Add haemoglobin and sO2 maps to a multi-wavelength patient folder.

    Returns
    -------
    xarray.Dataset
        A ``reconstruction`` (maps) or an ``optical_measurement``.

    Raises
    ------
    MissingFileError, FormatError, ConfigError
        As the readers; an option that does not apply to the input (``units`` for a
        measurement, ``position_units`` for a map) is a ConfigError.

    Examples
    --------
    A Zhu-lab absorption map stored in cm⁻¹ becomes a ``reconstruction`` in mm⁻¹:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from brim.fusion import convert
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mua-800.npy"
    >>> np.save(path, np.full((4, 5), 0.05))  # cm-1
    >>> ds = convert(path, units="cm-1")
    >>> ds.brim.kind, ds.mua.attrs["units"], round(float(ds.mua.max()), 6)
    ('reconstruction', 'mm-1', 0.005)
    """
    from brim.fusion.measurement import read_measurement

    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"no such file or folder: {p}")
    if _is_map(p):
        if position_units is not None or modulation_frequency is not None:
            raise ConfigError(
                f"{p.name} is a map: position_units/modulation_frequency apply to measurements"
            )
        return convert_map(
            p,
            units=units,
            pixel_size=pixel_size,
            depth_spacing=depth_spacing,
            extinction=extinction,
            hemoglobin=hemoglobin,
        )
    if units is not None or pixel_size is not None or depth_spacing is not None:
        raise ConfigError(
            f"{p.name} is a measurement: units/pixel_size/depth_spacing apply to maps "
            f"(absorption units {sorted(INVERSE_LENGTH_TO_PER_MM)})"
        )
    return read_measurement(
        p, modulation_frequency=modulation_frequency, position_units=position_units
    )
