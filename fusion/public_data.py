"""Loaders of public data sets: the Zhu-lab DOT maps and the BUSI ultrasound images.

- ``DOT_filtering`` (OpticalUltrasoundImaging, MIT): reconstructed absorption volumes with
  target masks (.mat).
- ``DOT-guided-PAT-reconstruction``: μa / μs′ maps (.npy, cm⁻¹ as the source repository uses).
- BUSI (Al-Dhabyani et al., Data in Brief 28, 104863, 2020): B-mode images with lesion masks.

Pixel spacing is not stored in these files: their coordinates are pixel (voxel) indices.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from brim import provenance
from brim.errors import ConfigError, FormatError, MissingFileError, check_positive
from brim.io import check_input_file, load_numpy, read_mat

__all__ = [
    "read_dot_filtering",
    "read_dot_pat_map",
    "read_dot_pat_patient",
    "read_busi",
    "busi_pairs",
    "image_hash",
]


def _need_folder(path) -> Path:
    p = Path(path)
    if not p.is_dir():
        if p.exists():
            raise FormatError(f"{p} is not a folder")
        raise MissingFileError(f"no such folder: {p}")
    return p


@provenance.step
def read_dot_filtering(path: str | os.PathLike) -> xr.Dataset:
    """Reconstructed absorption volumes with target masks (Zhu lab ``DOT_filtering`` .mat).

    The files hold ``volume7all`` (float, cases x 33 x 65 x 7) and ``maskall`` (uint8, same),
    saved as MATLAB v5/v7 or v7.3 (:func:`brim.io.read_mat`).
    The grid spacing is not stored in the files; the coordinates are therefore voxel indices
    (units ``px``). The depth axis (7 layers) becomes ``z``.

    Parameters
    ----------
    path : path-like
        A ``DOT_filtering`` .mat file (e.g. ``twotars.mat``).

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` kind with ``mua`` (case, z, y, x) and ``target_mask``.

    Examples
    --------
    A two-case file of the published layout (cases x 33 x 65 x 7), written with SciPy:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> from brim.fusion import read_dot_filtering
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "twotars.mat"
    >>> vol = np.full((2, 33, 65, 7), 0.05)
    >>> mask = np.zeros(vol.shape, np.uint8)
    >>> mask[:, 15:18, 30:34, 2:4] = 1
    >>> savemat(path, {"volume7all": vol, "maskall": mask})
    >>> ds = read_dot_filtering(path)
    >>> ds.brim.kind, ds.mua.dims, ds.mua.shape
    ('reconstruction', ('scan', 'z', 'y', 'x'), (2, 7, 33, 65))
    >>> int(ds.target_mask.sum()), ds.x.attrs["units"]
    (48, 'px')
    """
    from brim.schema import stamp

    p = check_input_file(path)
    m = read_mat(p)
    if "volume7all" not in m or "maskall" not in m:
        raise FormatError(f"{p.name}: expected the variables 'volume7all' and 'maskall'")
    vol = np.asarray(m["volume7all"], dtype=np.float64)
    bad = int(np.count_nonzero(~np.isfinite(vol)))
    if bad:  # a reconstructed volume has a value in every voxel
        raise FormatError(f"{p.name}: 'volume7all' has {bad} NaN or infinite values")
    mask = np.asarray(m["maskall"]).astype(np.uint8)
    if vol.ndim == 3:
        vol, mask = vol[None], mask[None]
    if vol.ndim != 4 or vol.shape != mask.shape:
        raise FormatError(f"{p.name}: unexpected shapes {vol.shape} / {mask.shape}")
    vol = np.moveaxis(vol, -1, 1)  # (case, z, y, x)
    mask = np.moveaxis(mask, -1, 1)
    nc, nz, ny, nx = vol.shape
    ds = xr.Dataset(
        {
            "mua": (("scan", "z", "y", "x"), vol, {"units": "unknown", "long_name": "absorption"}),
            "target_mask": (("scan", "z", "y", "x"), mask),
        },
        coords={
            "z": ("z", np.arange(nz, dtype=float), {"units": "px", "long_name": "depth"}),
            "y": ("y", np.arange(ny, dtype=float), {"units": "px"}),
            "x": ("x", np.arange(nx, dtype=float), {"units": "px"}),
        },
        attrs={
            "source_file": p.name,
            "origin": "OpticalUltrasoundImaging/DOT_filtering (MIT)",
            "note": "grid spacing not stored in the file; coordinates are voxel indices",
        },
    )
    return stamp(ds, "reconstruction")


# The .npy maps store no unit. A map's median is checked against tissue (units given in
# another unit than the file's are caught, e.g. NIRFAST's mm-1 maps read as cm-1): absorption
# at or above whole blood's, ~0.5 mm-1 at 750-830 nm, is no tissue or phantom; reduced
# scattering of breast tissue is 0.5-1.5 mm-1 (Durduran et al. 2010) and of any soft tissue
# below ~3 mm-1 in the NIR (Jacques 2013): a median under 0.1 mm-1 (5x below breast) or over
# 5 mm-1 is another unit. Values are per mm.
_MEDIAN_PER_MM = {"mua": (-np.inf, 0.5), "musp": (0.1, 5.0)}
_WHY_MEDIAN = {
    "mua": "whole blood absorbs ~0.5 mm-1 at 750-830 nm",
    "musp": "breast tissue scatters 0.5-1.5 mm-1 (Durduran 2010)",
}
DOT_PAT_UNITS = ("cm-1", "mm-1", "m-1")


def _check_dot_pat_values(da: xr.DataArray, units: str, name: str) -> None:
    """Refuse a map whose median is no tissue value in ``units`` (see :data:`_MEDIAN_PER_MM`),
    then one with a value outside the schema's plausible range."""
    from brim.fusion._units import per_mm_factor
    from brim.schema import check_ranges

    quantity = str(da.name)
    med = float(np.median(da.values))
    lo, hi = _MEDIAN_PER_MM[quantity]
    if lo <= med * per_mm_factor(units, name) <= hi:
        check_ranges(da, "reconstruction")  # plausible mua / musp in its units
        return
    fits = [u for u in DOT_PAT_UNITS if lo <= med * per_mm_factor(u, name) <= hi]
    hint = f"; is it in {fits[0]}? pass units={fits[0]!r}" if fits else ""
    where = f"at or above {hi:g}" if lo == -np.inf else f"outside {lo:g}-{hi:g}"
    raise FormatError(
        f"{name}: median {quantity} {med:g} {units} is {med * per_mm_factor(units, name):g} "
        f"mm-1, {where} mm-1 ({_WHY_MEDIAN[quantity]}): the map is not in {units}{hint} "
        "(CLI: brim fusion convert --units)"
    )


@provenance.step
def read_dot_pat_map(path: str | os.PathLike, *, units: str = "cm-1") -> xr.DataArray:
    """One μa or μs′ map of the ``DOT-guided-PAT-reconstruction`` data (.npy, no pickles).

    File names are ``mua-<nm>.npy`` / ``mus-<nm>.npy`` (patient) or
    ``mua-<contrast>-<nm>-scan<k>.npy`` (phantoms). Values are kept as stored (any float
    dtype or byte order, as float64); the source repository works in cm^-1 (the default
    ``units``, an assumption stated in ``note``). The file stores no orientation: a map saved
    transposed reads transposed.

    Parameters
    ----------
    path : path-like
        One ``mua-*.npy`` or ``mus-*.npy`` file.
    units : {"cm-1", "mm-1", "m-1"}
        The unit the map is in (recorded; the plausibility checks use it).

    Returns
    -------
    xarray.DataArray
        ``mua`` or ``musp`` on ``(y, x)`` (pixel coordinates), in ``units``, with
        ``wavelength_nm`` (NaN when the name has none) and ``source_file`` attributes.

    Raises
    ------
    FormatError
        Not a 2-D real map, an .npz archive, a name that is not ``mua-``/``mus-``, non-finite
        values, or a median that is no tissue value in ``units`` (μa at or above whole
        blood's 0.5 mm-1; μs′ outside 0.1-5 mm-1): the message names the unit that fits.
    ConfigError
        ``units`` is not one of cm-1, mm-1, m-1.
    SchemaError
        A value outside the plausible range of a reconstruction.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from brim.fusion import read_dot_pat_map
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mua-780.npy"
    >>> np.save(path, np.full((4, 5), 0.05))
    >>> da = read_dot_pat_map(path)
    >>> da.name, da.dims, da.attrs["wavelength_nm"], da.attrs["units"]
    ('mua', ('y', 'x'), 780.0, 'cm-1')
    """
    da = _dot_pat_map(path, units)
    _check_dot_pat_values(da, units, da.attrs["source_file"])
    return da


def _dot_pat_map(path, units: str) -> xr.DataArray:
    """:func:`read_dot_pat_map` without the median check (a folder checks its layout first)."""
    if units not in DOT_PAT_UNITS:
        raise ConfigError(f"units must be one of {list(DOT_PAT_UNITS)}, got {units!r}")
    p = check_input_file(path)
    arr = load_numpy(p)
    if isinstance(arr, dict):
        raise FormatError(f"{p.name}: an .npz archive, expected one .npy map")
    if arr.ndim != 2:
        raise FormatError(f"{p.name}: expected a 2-D map, got shape {arr.shape}")
    if arr.dtype.kind == "c" and not np.any(arr.imag):
        arr = arr.real  # a complex array that holds real values: the same map
    if arr.dtype.kind not in "fiu":  # a complex map would lose its imaginary part
        raise FormatError(f"{p.name}: expected a real-valued map, got dtype {arr.dtype}")
    parts = p.stem.split("-")
    quantity = {"mua": "mua", "mus": "musp"}.get(parts[0])
    if quantity is None:
        raise FormatError(f"{p.name}: file name must start with 'mua-' or 'mus-'")
    nums = [t for t in parts[1:] if t.isdigit()]
    wl = float(nums[-1]) if nums else np.nan
    da = xr.DataArray(
        arr.astype(np.float64),
        dims=("y", "x"),
        coords={
            "y": ("y", np.arange(arr.shape[0], dtype=float), {"units": "px"}),
            "x": ("x", np.arange(arr.shape[1], dtype=float), {"units": "px"}),
        },
        name=quantity,
        attrs={
            "units": units,
            "wavelength_nm": wl,
            "source_file": p.name,
            "note": "units as used by the source repository (cm^-1); pixel size not stored"
            if units == "cm-1"
            else f"units {units} as given; pixel size not stored",
        },
    )
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:  # a reconstructed map has a value in every pixel
        raise FormatError(f"{p.name}: the map has {bad} NaN or infinite values")
    return da


@provenance.step(inputs=("folder",))
def read_dot_pat_patient(folder: str | os.PathLike, *, units: str = "cm-1") -> xr.Dataset:
    """All ``mua-<nm>.npy`` / ``mus-<nm>.npy`` maps of one patient folder as a reconstruction.

    A patient folder holds one map per quantity and wavelength, all on the same grid, and the
    same wavelengths for both quantities. Phantom folders (``mua-<contrast>-<nm>-scan<k>.npy``,
    several maps per wavelength) are not patient folders: read their maps with
    :func:`read_dot_pat_map`.

    Parameters
    ----------
    folder : path-like
        The patient folder, e.g. ``fusion/dot_pat/p1``.
    units : {"cm-1", "mm-1", "m-1"}
        The unit of the maps (see :func:`read_dot_pat_map`).

    Returns
    -------
    xarray.Dataset
        ``reconstruction`` kind with ``mua`` and/or ``musp`` (wavelength, y, x), in ``units``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from brim.fusion import read_dot_pat_patient
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "p1"
    >>> folder.mkdir()
    >>> for wl in (780, 830):
    ...     np.save(folder / f"mua-{wl}.npy", np.full((4, 5), 0.05))
    ...     np.save(folder / f"mus-{wl}.npy", np.full((4, 5), 8.0))
    >>> ds = read_dot_pat_patient(folder)
    >>> sorted(ds.data_vars), ds.mua.dims, ds.wavelength.values.tolist()
    (['mua', 'musp'], ('wavelength', 'y', 'x'), [780.0, 830.0])

    Raises
    ------
    MissingFileError
        The folder does not exist or holds no ``mu*.npy`` map.
    FormatError
        A map has no wavelength in its name, two maps share a quantity and wavelength, the maps
        differ in shape, or ``mua`` and ``mus`` maps exist at different wavelengths.
    """
    from brim.schema import stamp

    d = _need_folder(folder)
    files = sorted(d.glob("mu*.npy"))
    if not files:
        raise MissingFileError(f"{d}: no mua-*.npy / mus-*.npy maps")
    provenance.add_inputs(*files)
    das = [_dot_pat_map(f, units) for f in files]
    maps: dict[str, dict[float, xr.DataArray]] = {"mua": {}, "musp": {}}
    for da in das:
        name, wl = da.attrs["source_file"], da.attrs["wavelength_nm"]
        if np.isnan(wl):
            raise FormatError(f"{d.name}/{name}: no wavelength in the file name (mua-<nm>.npy)")
        if da.shape != das[0].shape:
            flipped = " (transposed?)" if da.shape == das[0].shape[::-1] else ""
            raise FormatError(
                f"{d.name}: {name} has shape {da.shape} but {das[0].attrs['source_file']} has "
                f"{das[0].shape}{flipped}; all maps of a patient must share one grid"
            )
        same = maps[str(da.name)].get(wl)
        if same is not None:
            raise FormatError(
                f"{d.name}: {same.attrs['source_file']} and {name} are both {da.name} at "
                f"{wl:g} nm; a patient folder holds one map per quantity and wavelength (for "
                f"phantom scans, read each map with read_dot_pat_map)"
            )
        maps[str(da.name)][wl] = da
    if maps["mua"] and maps["musp"] and maps["mua"].keys() != maps["musp"].keys():
        raise FormatError(
            f"{d.name}: mua maps at {sorted(maps['mua'])} nm but mus maps at "
            f"{sorted(maps['musp'])} nm; each wavelength needs both maps"
        )
    for da in das:  # the layout is right: now the unit
        _check_dot_pat_values(da, units, f"{d.name}/{da.attrs['source_file']}")
    out = {}
    for q, byw in maps.items():
        if byw:
            wl = sorted(byw)
            stacked = xr.concat([byw[w] for w in wl], dim="wavelength", combine_attrs="drop")
            stacked = stacked.assign_coords(wavelength=("wavelength", wl, {"units": "nm"}))
            stacked.attrs["units"] = units
            out[q] = stacked
    ds = xr.Dataset(out, attrs={"source_folder": d.name})
    return stamp(ds, "reconstruction")


def _grey_image(path):
    """The image file ``path`` decoded as 8-bit grey (a PIL image), or FormatError.

    RGB, RGBA, palette and 1-bit files are converted with Pillow's luminance rule; 16-bit grey
    files (``I;16``/``I`` modes) are scaled to 8 bits (/ 257), not clipped at 255 (Pillow's
    ``convert("L")`` would turn every pixel above 255 white).
    """
    from PIL import Image

    from brim.io import read_image

    # the image reader shared with brim.thermo: refuses folders, FIFOs, damaged files and
    # headers declaring more pixels than Pillow's decompression-bomb limit
    with read_image(check_input_file(path), what="image") as im:
        if im.mode.startswith("I"):
            a = np.asarray(im, dtype=np.float64)
            a = a / 257.0 if a.max(initial=0) > 255 else a
            g = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
        else:
            g = im.convert("L")
    # A B-mode image spans 2-8 cm of depth by 3-6 cm of width at >= 100 pixels a side (BUSI:
    # ~500 x 500); a 65535 x 1 "image" is a damaged header, not a scan to segment.
    w, h = g.size
    if min(w, h) < 16 or max(w, h) > 10 * min(w, h):
        raise FormatError(
            f"{Path(path).name}: a {w} x {h} pixel image is not an ultrasound image (each side "
            f">= 16 pixels and an aspect ratio <= 10 expected); the header may be damaged"
        )
    return g


#: A BUSI lesion-mask file name: ``NAME_mask.png``, or ``NAME_mask_1.png``, ``NAME_mask_2.png``
#: for a second and third lesion of the same image ``NAME.png``.
_BUSI_MASK = re.compile(r"^(?P<image>.+)_mask(?:_(?P<k>\d+))?$")


def _busi_image_of(path: str | os.PathLike) -> Path | None:
    """The image a BUSI lesion-mask file belongs to (``NAME_mask*.png`` -> ``NAME.png``), if the
    name is a mask name and that image exists beside it; otherwise None."""
    p = Path(path)
    m = _BUSI_MASK.match(p.stem)
    if m is None:
        return None
    image = p.with_name(m["image"] + p.suffix)
    return image if image.is_file() else None


def _extra_busi_masks(mask: Path) -> list[Path]:
    """The further lesion masks ``NAME_mask_1.png``, ``NAME_mask_2.png``... beside ``NAME_mask.png``
    (in number order); none for a mask of another name."""
    m = _BUSI_MASK.match(mask.stem)
    if m is None or m["k"] is not None:
        return []
    pattern = re.compile(re.escape(m["image"]) + r"_mask_(\d+)" + re.escape(mask.suffix) + "$")
    found = [(int(k[1]), q) for q in mask.parent.iterdir() if (k := pattern.match(q.name))]
    return [q for _, q in sorted(found)]


def _lesion(path) -> np.ndarray:
    """A lesion-mask file as a boolean array: pixels of at least 128 (of 255) are lesion; a mask
    whose values all lie below 128 (a 0/1 label image) counts every non-zero pixel."""
    a = np.asarray(_grey_image(path))
    return a > (127 if a.max(initial=0) > 127 else 0)


def image_hash(path: str | os.PathLike) -> str:
    """SHA-256 of the decoded pixel values (duplicates across folders share it).

    Parameters
    ----------
    path : path-like
        An image file (PNG or any format Pillow reads).

    Returns
    -------
    str
        Hexadecimal SHA-256 of the 8-bit grey pixels and the image shape.

    Examples
    --------
    The same pixels saved under two names share the hash:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from brim.fusion import image_hash
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> img = Image.fromarray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64))
    >>> img.save(d / "a.png")
    >>> img.save(d / "b.png")
    >>> Image.fromarray(np.zeros((64, 64), np.uint8)).save(d / "c.png")
    >>> len(image_hash(d / "a.png")), image_hash(d / "a.png") == image_hash(d / "b.png")
    (64, True)
    >>> image_hash(d / "a.png") == image_hash(d / "c.png")
    False
    """
    arr = np.asarray(_grey_image(path))
    h = hashlib.sha256(arr.tobytes())
    h.update(str(arr.shape).encode())
    return h.hexdigest()


def busi_pairs(root: str | os.PathLike) -> list[tuple[Path, Path, str]]:
    """(image, mask, label) triples of a BUSI folder, in either of its two layouts.

    - ``images/NAME.png`` with ``masks/NAME.png`` (or ``masks/NAME_mask.png``);
    - the published layout, ``Dataset_BUSI_with_GT/{benign,malignant,normal}/``: ``NAME.png``
      beside its ``NAME_mask.png`` (the folder itself or its class subfolders).

    The mask returned is ``NAME_mask.png`` even where the published set adds
    ``NAME_mask_1.png``, ``NAME_mask_2.png`` for further lesions of the image:
    :func:`read_busi` reads them with it and takes the union. The label is the word before the
    first space or parenthesis of the file name (``"benign (12).png"`` -> ``"benign"``).

    Parameters
    ----------
    root : path-like
        A BUSI folder: one with ``images/`` and ``masks/``, or ``Dataset_BUSI_with_GT`` (or one
        of its class folders).

    Returns
    -------
    list of (pathlib.Path, pathlib.Path, str)
        ``(image, mask, label)`` in file-name order.

    Raises
    ------
    MissingFileError
        No such folder, no image, or an image without its mask.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from brim.fusion import busi_pairs
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for sub in ("images", "masks"):
    ...     (root / sub).mkdir()
    ...     for name in ("benign (1).png", "malignant (1).png"):
    ...         Image.fromarray(np.zeros((64, 64), np.uint8)).save(root / sub / name)
    >>> [(image.name, mask.parent.name, label) for image, mask, label in busi_pairs(root)]
    [('benign (1).png', 'masks', 'benign'), ('malignant (1).png', 'masks', 'malignant')]
    """
    r = _need_folder(root)
    out = []
    if (r / "images").is_dir():
        images = sorted((r / "images").glob("*.png"))
        where = f"{r}: no images/*.png"
    else:  # the published layout: masks beside their images, maybe in class folders
        images = sorted(
            q for q in [*r.glob("*.png"), *r.glob("*/*.png")] if _BUSI_MASK.match(q.stem) is None
        )
        where = f"{r}: no images/*.png, nor NAME.png images beside NAME_mask.png masks"
    for img in images:
        if img.parent.name == "images":
            m = r / "masks" / img.name
            if not m.exists():
                m = r / "masks" / f"{img.stem}_mask{img.suffix}"
        else:
            m = img.with_name(f"{img.stem}_mask{img.suffix}")
        if not m.exists():
            raise MissingFileError(f"{img.name}: no mask {m}")
        label = img.name.split(" ")[0].split("(")[0].strip() or "unknown"
        out.append((img, m, label))
    if not out:
        raise MissingFileError(where)
    return out


@provenance.step(inputs=("image", "mask"))
def read_busi(
    image: str | os.PathLike,
    mask: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    *,
    size: int | None = None,
) -> xr.Dataset:
    """One BUSI B-mode image (grey, 0..1) with its lesion mask as a brim ``mask`` Dataset.

    Pixel spacing is unknown for BUSI, so coordinates are pixels. Colour (RGB, RGBA) images
    become grey by luminance, 16-bit grey images are scaled to 8 bits.

    The lesion mask is the union of the mask files: the published BUSI set draws a second or
    third lesion of one image in ``NAME_mask_1.png``, ``NAME_mask_2.png`` beside
    ``NAME_mask.png``, so a mask named ``NAME_mask.png`` brings those files along (their names
    are kept in the ``mask_files`` attribute). The union, not the first lesion alone, because
    the image shows every lesion: a segmenter scored on the first mask only would be counted
    wrong where it finds the second lesion. Mask pixels of at least 128 (of 255) are lesion; a
    mask whose values all lie below 128 (0/1 label images) counts every non-zero pixel.

    Parameters
    ----------
    image : path-like
        The B-mode image, PNG or any format PIL reads.
    mask : path-like or sequence of path-like, optional
        Its lesion mask file(s), of the image's size; the union is taken.
    size : int, optional
        Resize both to ``size x size`` (bilinear for the image, nearest for the mask).

    Returns
    -------
    xarray.Dataset
        ``mask`` kind with ``image`` and ``mask`` (all zeros without a mask file).

    Raises
    ------
    FormatError
        An image file is not readable, or truncated or corrupt, or a mask has another size
        than the image.
    ConfigError
        ``size`` is not a positive integer.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from brim.fusion import read_busi
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> img = np.zeros((40, 60), np.uint8)
    >>> img[10:20, 20:35] = 255
    >>> Image.fromarray(img).save(folder / "benign (1).png")
    >>> Image.fromarray(img).save(folder / "benign (1)_mask.png")
    >>> ds = read_busi(folder / "benign (1).png", folder / "benign (1)_mask.png")
    >>> ds.brim.kind, dict(ds.sizes), int(ds["mask"].sum())
    ('mask', {'y': 40, 'x': 60}, 150)

    A second lesion in ``benign (1)_mask_1.png`` joins the first:

    >>> second = np.zeros((40, 60), np.uint8)
    >>> second[30:35, 5:10] = 255
    >>> Image.fromarray(second).save(folder / "benign (1)_mask_1.png")
    >>> ds = read_busi(folder / "benign (1).png", folder / "benign (1)_mask.png")
    >>> int(ds["mask"].sum()), ds["mask"].attrs["mask_files"]
    (175, '["benign (1)_mask.png", "benign (1)_mask_1.png"]')
    """
    from PIL import Image

    from brim.schema import stamp

    if size is not None:
        size = check_positive("size", size, integer=True)
    g = _grey_image(image)
    shape = g.size[::-1]
    if size:
        g = g.resize((size, size), Image.Resampling.BILINEAR)
    img = np.asarray(g, dtype=np.float32) / 255.0
    data: dict[str, tuple] = {"image": (("y", "x"), img, {"units": "1"})}
    if mask is not None:
        files = [Path(mask)] if isinstance(mask, (str, os.PathLike)) else [Path(q) for q in mask]
        if len(files) == 1:
            files += _extra_busi_masks(files[0])
            provenance.add_inputs(*files[1:])
        lesion = np.zeros(shape, bool)
        for q in files:
            one = _lesion(q)
            if one.shape != lesion.shape:
                raise FormatError(
                    f"{q.name}: the mask is {one.shape[1]} x {one.shape[0]} pixels but the "
                    f"image {Path(image).name} is {shape[1]} x {shape[0]}; a mask must be "
                    f"drawn on its own image"
                )
            lesion |= one
        g = Image.fromarray(lesion.astype(np.uint8))
        if size:
            g = g.resize((size, size), Image.Resampling.NEAREST)
        data["mask"] = (
            ("y", "x"),
            np.asarray(g, dtype=np.uint8),
            {
                "labels": json.dumps({"1": "lesion"}),
                "mask_files": json.dumps([q.name for q in files], ensure_ascii=False),
            },
        )
    else:
        data["mask"] = (("y", "x"), np.zeros(img.shape, np.uint8))
    ds = xr.Dataset(
        data,
        coords={
            "y": ("y", np.arange(img.shape[0], dtype=float), {"units": "px"}),
            "x": ("x", np.arange(img.shape[1], dtype=float), {"units": "px"}),
        },
        attrs={"source_file": Path(image).name},
    )
    return stamp(ds, "mask")
