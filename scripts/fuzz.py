"""Fuzz brim's readers and CLI entry points with a deterministic corpus of damaged files.

The corpus is built from the bundled samples (``data_samples/``), from small files in vendor
formats written from them (a DMR text matrix, a grey PNG, RF ``.npy``/``.mat`` v5/v7.3, a scan
``.npz``) and, when ``$BRIM_EXTERNAL_DATA`` is set, from the real public files. Each seed file is
mutated (truncations, bit flips, zeroed or 0xFF blocks, header edits that declare huge arrays,
NaN/inf/1e300 values, wrong formats) and special inputs are added (a folder, a FIFO, a symlink to
``/dev/zero``, a symlink loop, an empty file, a 250-character and a non-UTF-8 file name).

Every case runs one entry point (``brim info``, each group's convert/info command, and the
library readers without a command) in a child process forked from a runner that has imported
brim once, with a wall-clock limit (the child is killed) and a memory limit
(``resource.setrlimit(RLIMIT_AS)`` in the child). The outcome is classified:

``clean``      non-zero exit with a one-line ``brim: error:`` (or argparse's usage error)
``ok``         exit 0 and every output passes its schema (value ranges included)
``traceback``  an exception other than a brim error escaped (or the process crashed)
``hang``       still running at the time limit
``memory``     MemoryError, or killed at the memory limit
``garbage``    exit 0 but an output breaks its schema's plausible ranges or has no finite value

Usage::

    python scripts/fuzz.py                 # the full corpus (>= 2,000 cases), prints the table
    python scripts/fuzz.py --subset        # the bounded subset the test suite runs
    python scripts/fuzz.py --jobs 2 --json out.json --show 40

Exit status 0 when no case is a traceback, hang, memory or garbage outcome, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import struct
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
BAD = ("traceback", "hang", "memory", "garbage")
CLASSES = ("clean", "ok", *BAD)

# ----------------------------------------------------------------------------- entry points
# argv templates: {in} is the input, {out} the case's output folder.
_ACQ = ["--fs", "40e6", "--fc", "5e6", "--pitch", "3e-4"]
ENTRIES: dict[str, list[str]] = {
    "info": ["info", "{in}"],
    "thermo.convert": ["thermo", "convert", "{in}", "-o", "{out}/r.nc", "--no-progress"],
    "microwave.convert": ["microwave", "convert", "{in}", "-o", "{out}/r.nc"],
    "microwave.info": ["microwave", "info", "{in}"],
    "elasto.convert": ["elasto", "convert", "{in}", "-o", "{out}/r.nc"],
    "elasto.convert-raw": ["elasto", "convert", "{in}", "-o", "{out}/r.nc", *_ACQ],
    "fusion.background": ["fusion", "background", "{in}", "-o", "{out}/r.nc"],
    "fusion.segment-us": ["fusion", "segment-us", "{in}", "-o", "{out}/r.nc"],
    # library readers without a command of their own
    "py:read_dot_filtering": ["brim.fusion.public_data:read_dot_filtering"],
    "py:read_dot_pat_map": ["brim.fusion.public_data:read_dot_pat_map"],
}


@dataclass
class Seed:
    """One valid file and the entry points that read it."""

    name: str
    path: Path
    entries: tuple[str, ...]
    text: bool = False
    companions: tuple[Path, ...] = ()  # files the reader needs beside the input


@dataclass
class Case:
    """One fuzz case: an input (a file to write, or a special file) and an entry point."""

    id: str
    entry: str
    seed: str
    mutation: str
    suffix: str
    data: bytes | None = None  # None: a special input made by `special`
    special: str | None = None
    companions: tuple[str, ...] = ()
    result: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- seeds
def _derived_seeds(folder: Path) -> list[Seed]:
    """Small vendor-format files written from the bundled samples."""
    import h5py
    import numpy as np
    import scipy.io
    import xarray as xr
    from PIL import Image

    seeds = []
    th = xr.open_dataset(SAMPLES / "thermo_phantom_tumour.nc", engine="h5netcdf").load()
    t = np.asarray(th["temperature"].values, dtype=float)
    big = np.resize(t, (480, 640))  # the DMR-IR matrix size
    p = folder / "T0001.txt"
    np.savetxt(p, big, fmt="%.2f", delimiter=" ")
    seeds.append(Seed("dmr_space", p, ("thermo.convert",), text=True))
    p = folder / "PAC_12_DN3.txt"
    np.savetxt(p, big, fmt="%.5f", delimiter=";")
    seeds.append(Seed("dmr_semicolon", p, ("thermo.convert",), text=True))
    grey = np.clip((t - t.min()) / (np.ptp(t) or 1) * 255, 0, 255).astype(np.uint8)
    p = folder / "grey.png"
    Image.fromarray(grey).save(p)
    seeds.append(Seed("grey_png", p, ("thermo.convert", "fusion.segment-us")))

    el = xr.open_dataset(SAMPLES / "elasto_phantom_pair.nc", engine="h5netcdf").load()
    rf = np.asarray(el["rf"].values[0], dtype=np.float32)
    p = folder / "rf.npy"
    np.save(p, rf)
    seeds.append(Seed("rf_npy", p, ("elasto.convert-raw",)))
    for name, z in (("rf_mat_v5", False), ("rf_mat_v5_compressed", True)):
        p = folder / f"{name}.mat"
        scipy.io.savemat(p, {"rf": rf}, do_compression=z)
        with open(p, "r+b") as fh:  # a fixed header text (savemat writes the time)
            fh.write(b"MATLAB 5.0 MAT-file, written by brim's fuzz harness".ljust(116, b" "))
        seeds.append(Seed(name, p, ("elasto.convert-raw",)))
    p = folder / "rf_v73.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("rf", data=rf.T)  # MATLAB is column-major
    with open(p, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: fuzz".ljust(116, b" "))
        fh.write(b"\x00" * 8 + b"\x00\x02" + b"IM")
    seeds.append(Seed("rf_mat_v73", p, ("elasto.convert-raw",)))

    mw = xr.open_dataset(SAMPLES / "microwave_radar_scan.nc", engine="h5netcdf").load()
    p = folder / "scan.npz"
    np.savez(
        p,
        s=np.asarray(mw["s"].values),
        freq=np.asarray(mw["freq"].values, dtype=float),
        tx=np.asarray(mw["tx"].values) if "tx" in mw.coords else np.arange(mw.sizes["channel"]),
        rx=np.asarray(mw["rx"].values) if "rx" in mw.coords else np.arange(mw.sizes["channel"]),
    )
    seeds.append(Seed("scan_npz", p, ("microwave.convert", "microwave.info")))
    return seeds


def _sample_seeds() -> list[Seed]:
    s = SAMPLES
    return [
        Seed("thermo_nc", s / "thermo_phantom_tumour.nc", ("info", "thermo.convert")),
        Seed(
            "scan_nc",
            s / "microwave_radar_scan.nc",
            ("info", "microwave.info", "microwave.convert", "thermo.convert"),
        ),
        Seed("elasto_nc", s / "elasto_phantom_pair.nc", ("info", "elasto.convert")),
        Seed("optical_nc", s / "fusion_measurement.nc", ("info", "fusion.background")),
        Seed("us_nc", s / "fusion_ultrasound.nc", ("info", "fusion.segment-us")),
    ]


def _external_seeds(root: Path) -> list[Seed]:
    out = []

    def add(name, rel, entries, **kw):
        p = root / rel
        if p.is_file():
            out.append(Seed(name, p, entries, **kw))

    add("ext_dmr_space", "thermo/dmr_ir_dev/T0001.txt", ("thermo.convert",), text=True)
    semis = sorted((root / "thermo/dmr_ir_dev").glob("*.txt"))
    for p in semis:
        if b";" in p.read_bytes()[:2000]:
            out.append(Seed("ext_dmr_semicolon", p, ("thermo.convert",), text=True))
            break
    for p in sorted((root / "thermo/flir").glob("*.jpg"))[:3]:
        out.append(Seed(f"ext_flir_{p.stem}", p, ("thermo.convert",)))
    colombia = sorted((root / "thermo/colombia").rglob("*.png"))[:1]
    for p in colombia:
        out.append(Seed("ext_grey_rgba", p, ("thermo.convert",)))
    merit = root / "microwave/merit"
    comp = tuple(
        merit / n for n in ("frequencies.csv", "channel_names.csv", "antenna_locations.csv")
    )
    add(
        "ext_merit",
        "microwave/merit/B0_P3_p000.csv",
        ("microwave.convert",),
        text=True,
        companions=comp,
    )
    add("ext_pybf", "elasto/pybf_channel/rf_dataset.hdf5", ("elasto.convert",))
    add("ext_fieldii", "elasto/fieldii_dp/Data/Im0.mat", ("elasto.convert-raw",))
    add("ext_dot_filtering", "fusion/dot_filtering/twotars.mat", ("py:read_dot_filtering",))
    pat = sorted((root / "fusion/dot_pat").rglob("mua-770.npy"))[:1]
    for p in pat:
        out.append(Seed("ext_dot_pat", p, ("py:read_dot_pat_map",)))
    busi = sorted((root / "fusion/busi_dev/images").glob("*.png"))[:1]
    for p in busi:
        out.append(Seed("ext_busi", p, ("fusion.segment-us",)))
    return out


# ----------------------------------------------------------------------------- mutations
def _flip(data: bytes, off: int, bit: int) -> bytes:
    b = bytearray(data)
    b[off] ^= 1 << bit
    return bytes(b)


def _png_with_size(data: bytes, w: int, h: int) -> bytes:
    """The PNG with its IHDR width/height replaced (CRC fixed, so only the size is a lie)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return data
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", w, h)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return data[:16] + bytes(ihdr) + crc + data[33:]


def _npy_with_shape(data: bytes, shape: tuple[int, ...]) -> bytes:
    """The .npy with its header's shape replaced (header length kept)."""
    if not data.startswith(b"\x93NUMPY"):
        return data
    major = data[6]
    hl_size = 2 if major == 1 else 4
    start = 8 + hl_size
    (hlen,) = struct.unpack("<H" if hl_size == 2 else "<I", data[8:start])
    header = data[start : start + hlen].decode("latin-1")
    i, j = header.index("'shape':"), header.index(")", header.index("'shape':")) + 1
    new = header[:i] + f"'shape': {tuple(shape)!r}" + header[j:]
    new = new.rstrip("\n ").ljust(hlen - 1) + "\n"
    if len(new) != hlen:
        return data
    return data[:start] + new.encode("latin-1") + data[start + hlen :]


def _text_edits(data: bytes, rng: random.Random, n: int) -> list[tuple[str, bytes]]:
    text = data.decode("latin-1")
    lines = text.splitlines(keepends=True)
    out = []
    tokens = ["nan", "inf", "-inf", "1e300", "-1e300", "abc", "1e-320", "", "9" * 400]
    for i in range(n):
        k = rng.randrange(len(lines))
        parts = lines[k].split(";" if ";" in lines[k] else " ")
        j = rng.randrange(len(parts))
        tok = tokens[i % len(tokens)]
        parts[j] = tok + ("\n" if parts[j].endswith("\n") else "")
        new = lines[:k] + [(";" if ";" in lines[k] else " ").join(parts)] + lines[k + 1 :]
        out.append((f"token_{tok or 'empty'}_{i}", "".join(new).encode("latin-1")))
    nan_all = "".join(
        (";" if ";" in ln else " ").join(
            "nan" for _ in ln.strip().rstrip(";").split(";" if ";" in ln else None)
        )
        + "\n"
        for ln in lines
        if ln.strip()
    )
    out.append(("all_nan", nan_all.encode()))
    out.append(("drop_line", "".join(lines[:-3] + lines[-2:]).encode("latin-1")))
    out.append(("non_utf8_byte", data[:100] + b"\xff\xfe" + data[102:]))
    out.append(("crlf_cr", data.replace(b"\n", b"\r\r\n")))
    return out


def _h5_value_edits(seed: Path, work: Path) -> list[tuple[str, bytes]]:
    """Copies of an HDF5 seed with its largest float variable set to NaN/inf/1e300."""
    import h5py
    import numpy as np

    out = []
    with h5py.File(seed, "r") as f:
        names = []
        f.visititems(
            lambda n, o: (
                names.append((o.size, n))
                if isinstance(o, h5py.Dataset) and o.dtype.kind in "fc" and o.size > 1
                else None
            )
        )
    if not names:
        return out
    _, var = max(names)
    for label, fill in (
        ("all_nan", "nan"),
        ("one_inf", "inf"),
        ("one_1e300", 1e300),
        ("one_neg_1e300", -1e300),
        ("one_1e30", 1e30),
        ("all_zero", 0.0),
    ):
        tmp = work / f"_h5edit{seed.suffix}"
        shutil.copyfile(seed, tmp)
        with h5py.File(tmp, "r+") as f:
            d = f[var]
            a = d[()]
            if fill == "nan":
                a[...] = np.nan
            elif fill == "inf":
                a.flat[a.size // 2] = np.inf
            elif fill == 0.0:
                a[...] = 0
            else:
                top = float(np.finfo(a.dtype).max)  # 1e300 in float32 is the largest float32
                a.flat[a.size // 3] = min(max(fill, -top), top)
            d[...] = a
        out.append((f"{label}:{var}", tmp.read_bytes()))
    return out


def _heap_edits(data: bytes) -> list[tuple[str, bytes]]:
    """Bit flips in the size fields of HDF5 global heap objects (these hung the HDF5 library).

    The objects follow the 16-byte collection header; each has a 16-byte header (index,
    reference count, reserved, size) and its data padded to 8 bytes.
    """
    out = []
    start = data.find(b"GCOL\x01\x00\x00\x00")
    if start < 0:
        return out
    (csize,) = struct.unpack_from("<Q", data, start + 8)
    pos, k = start + 16, 0
    while pos + 16 <= min(start + csize, len(data)) and k < 6:
        idx, _, _, size = struct.unpack_from("<HHIQ", data, pos)
        if idx == 0:
            break
        for bit in (2, 4, 6):
            out.append((f"heap_obj{idx}_size_bit{bit}", _flip(data, pos + 8, bit)))
        pos += 16 + (size + 7) // 8 * 8
        k += 1
    return out


def _bombs(work: Path) -> list[tuple[str, str, bytes]]:
    """Tiny files that declare huge arrays: (name, suffix, bytes)."""
    import h5py
    import numpy as np

    out = []
    for label, shape, chunked in (
        ("declare_8GiB", (65536, 32768), False),
        ("declare_800GiB", (1 << 20, 204800), False),
        ("declare_3GiB_chunked", (24576, 32768), True),
    ):
        p = work / "_bomb.nc"
        with h5py.File(p, "w") as f:
            kw = {"chunks": (1024, 1024), "compression": "gzip"} if chunked else {}
            d = f.create_dataset("temperature", shape=shape, dtype="f4", **kw)
            d.attrs["units"] = "degC"
            f.attrs["brim_schema"] = "thermogram/1"
        out.append((label, ".nc", p.read_bytes()))
    # a MATLAB v7.3 (HDF5) bomb
    p = work / "_bomb.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("rf", shape=(1 << 20, 1 << 18), dtype="f8")
    out.append(("declare_2TiB_v73", ".mat", p.read_bytes()))
    # npy headers declaring more than the file holds
    small = work / "_small.npy"
    np.save(small, np.zeros((64, 32), dtype=np.float32))
    data = small.read_bytes()
    for label, shape in (("npy_declare_80GB", (100000, 100000)), ("npy_declare_1e12", (1 << 40,))):
        out.append((label, ".npy", _npy_with_shape(data, shape)))
    return out


def _mutations(seed: Seed, rng: random.Random, n_flips: int, work: Path):
    data = seed.path.read_bytes()
    muts: list[tuple[str, bytes]] = [("original", data)]
    for frac in (0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999):
        muts.append((f"truncate_{frac:g}", data[: int(len(data) * frac)]))
    head = min(len(data), 16384)
    for i in range(n_flips):
        off = rng.randrange(head) if i % 2 == 0 else rng.randrange(len(data))
        muts.append((f"flip_{off}_{i % 8}", _flip(data, off, i % 8)))
    for _ in range(max(2, n_flips // 6)):
        off = rng.randrange(max(1, len(data) - 64))
        muts.append((f"zero64_{off}", data[:off] + b"\0" * 64 + data[off + 64 :]))
        off = rng.randrange(max(1, len(data) - 64))
        muts.append((f"ff64_{off}", data[:off] + b"\xff" * 64 + data[off + 64 :]))
    if seed.text:
        muts += _text_edits(data, rng, max(6, n_flips // 3))
    if data[:8] == b"\x89HDF\r\n\x1a\n" or data[512:520] == b"\x89HDF\r\n\x1a\n":
        muts += _h5_value_edits(seed.path, work)
        muts += _heap_edits(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        for w, h in ((65535, 1), (1, 65535), (100000, 100000), (3, 3)):
            muts.append((f"png_size_{w}x{h}", _png_with_size(data, w, h)))
    if data.startswith(b"\x93NUMPY"):
        for shape in ((10**6, 10**6), (1 << 40,), (3,), (0, 5)):
            muts.append((f"npy_shape_{'x'.join(map(str, shape))}", _npy_with_shape(data, shape)))
        bad = data.replace(b"'shape'", b"'shape", 1)
        muts.append(("npy_broken_quote", bad))
    return muts


SPECIALS = ("folder", "fifo", "dev_zero", "symlink_loop", "empty", "long_name", "non_utf8_name")


def build_corpus(
    work: Path, *, n_flips: int = 40, external: Path | None = None, seed: int = 0
) -> list[Case]:
    """The deterministic list of cases (same files, same order, for the same arguments)."""
    seeds_dir = work / "seeds"
    seeds_dir.mkdir(parents=True, exist_ok=True)
    seeds = _sample_seeds() + _derived_seeds(seeds_dir)
    if external is not None:
        seeds += _external_seeds(external)
    cases: list[Case] = []
    for sd in seeds:
        rng = random.Random(f"{seed}:{sd.name}")
        muts = _mutations(sd, rng, n_flips, work)
        comps = tuple(str(c) for c in sd.companions)
        for entry in sd.entries:
            for label, data in muts:
                cases.append(
                    Case(
                        f"{sd.name}/{label}/{entry}",
                        entry,
                        sd.name,
                        label,
                        sd.path.suffix,
                        data,
                        companions=comps,
                    )
                )
    # wrong formats: every seed's original bytes under every other entry (with its suffix)
    by_entry = sorted({e for sd in seeds for e in sd.entries})
    for sd in seeds:
        data = sd.path.read_bytes()
        for entry in by_entry:
            if entry in sd.entries:
                continue
            target = next(s for s in seeds if entry in s.entries)
            cases.append(
                Case(
                    f"{sd.name}/as{target.path.suffix}/{entry}",
                    entry,
                    sd.name,
                    f"wrong_format_as_{target.path.suffix}",
                    target.path.suffix,
                    data,
                )
            )
    # declared sizes, and special inputs
    for label, suffix, data in _bombs(work):
        entries = {
            ".nc": ("info", "thermo.convert"),
            ".mat": ("elasto.convert-raw",),
            ".npy": ("elasto.convert-raw",),
        }[suffix]
        for entry in entries:
            cases.append(Case(f"bomb/{label}/{entry}", entry, "bomb", label, suffix, data))
    for entry in by_entry:
        suffix = next(s for s in seeds if entry in s.entries).path.suffix
        for sp in SPECIALS:
            cases.append(Case(f"special/{sp}/{entry}", entry, "special", sp, suffix, None, sp))
    return cases


def subset(cases: list[Case]) -> list[Case]:
    """The bounded subset run by the test suite: bundled samples only, every mutation kind.

    About 60 cases: for each seed one entry point with its original, a truncation, a header
    bit flip and NaN/inf/1e300 values; the declared-size bombs, a PNG declaring 65535 x 1
    pixels, broken .npy headers, a scan given to the thermogram converter, a corrupt HDF5 heap
    and the special inputs (folder, FIFO, /dev/zero, odd names) for three entry points.
    """
    kinds = (
        "truncate_0.5",
        "all_nan",
        "one_1e300",
        "png_size_65535x1",
        "npy_shape_1099511627776",
        "npy_broken_quote",
        "declare_8GiB",
        "declare_800GiB",
        "declare_3GiB_chunked",
        "declare_2TiB_v73",
    )
    specials = ("fifo", "dev_zero", "folder", "non_utf8_name", "long_name")
    out, seen = [], set()
    for c in cases:
        if c.seed.startswith("ext_"):
            continue
        kind = c.mutation.split(":")[0]
        key = (c.seed, kind)
        if c.seed == "special":
            if kind in specials and c.entry in ("info", "thermo.convert", "elasto.convert"):
                out.append(c)
        elif kind in kinds and key not in seen:
            seen.add(key)
            out.append(c)
        elif kind.startswith("flip_") and c.entry == "info" and (c.seed, "flip") not in seen:
            seen.add((c.seed, "flip"))
            out.append(c)
        elif kind.startswith("heap_") and c.entry == "info" and (c.seed, "heap") not in seen:
            seen.add((c.seed, "heap"))
            out.append(c)  # a corrupt global heap hung the HDF5 library
        elif c.id == "scan_nc/original/thermo.convert":
            out.append(c)  # a scan is not a thermogram
    return out


# ----------------------------------------------------------------------------- running
def _make_input(case: Case, folder: Path) -> Path:
    name = "input" + case.suffix
    if case.special == "long_name":
        name = "x" * (250 - len(case.suffix)) + case.suffix
    p = folder / name
    for c in case.companions:
        shutil.copyfile(c, folder / Path(c).name)
    if case.special == "non_utf8_name":
        raw = os.fsencode(folder) + b"/scan_\xff\xfe" + case.suffix.encode()
        with open(raw, "wb") as fh:
            fh.write(SAMPLES.joinpath("thermo_phantom_tumour.nc").read_bytes())
        return Path(os.fsdecode(raw))
    if case.special == "folder":
        p.mkdir()
    elif case.special == "fifo":
        os.mkfifo(p)
    elif case.special == "dev_zero":
        os.symlink("/dev/zero", p)
    elif case.special == "symlink_loop":
        os.symlink(p.name, p)
    elif case.special == "empty":
        p.write_bytes(b"")
    elif case.special == "long_name":
        p.write_bytes(SAMPLES.joinpath("thermo_phantom_tumour.nc").read_bytes())
    else:
        p.write_bytes(case.data or b"")
    return p


def _check_outputs(out: Path) -> str | None:
    """None when every output file opens and passes its schema; else why not."""
    import numpy as np
    import xarray as xr

    import brim

    for f in sorted(out.rglob("*.nc")):
        try:
            obj = brim.open(f)  # validates, value ranges included
        except Exception as exc:  # noqa: BLE001
            return f"{f.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        nodes = [n.to_dataset() for n in obj.subtree] if isinstance(obj, xr.DataTree) else [obj]
        for ds in nodes:
            for name, v in ds.data_vars.items():
                if v.dtype.kind in "fc" and v.size > 1 and not np.isfinite(v.values).any():
                    return f"{f.name}: variable {name!r} has no finite value"
    return None


def _check_object(obj) -> str | None:
    import numpy as np
    import xarray as xr

    from brim import schema

    if isinstance(obj, xr.DataArray):
        if obj.dtype.kind in "fc" and obj.size and not np.isfinite(obj.values).all():
            return f"{obj.name!r} holds NaN or inf"
        schema.check_ranges(obj, "reconstruction")
        return None
    if isinstance(obj, xr.Dataset):
        if obj.attrs.get(schema.ATTR):
            schema.validate(obj)
        for name, v in obj.data_vars.items():
            if v.dtype.kind in "fc" and v.size > 1 and not np.isfinite(v.values).any():
                return f"variable {name!r} has no finite value"
    return None


def _child(case: Case, folder: Path, mem_bytes: int, max_array: str) -> None:
    """Runs in the forked child: limits, run the entry, classify, write result.json, exit."""
    res: dict = {"class": "traceback", "detail": ""}
    out = folder / "out"
    try:
        out.mkdir()
        inp = _make_input(case, folder)
        so = os.open(folder / "stdout", os.O_WRONLY | os.O_CREAT)
        se = os.open(folder / "stderr", os.O_WRONLY | os.O_CREAT)
        os.dup2(so, 1)
        os.dup2(se, 2)
        os.environ["BRIM_MAX_ARRAY_BYTES"] = max_array
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        spec = ENTRIES[case.entry]
        rc = None
        try:
            if case.entry.startswith("py:"):
                import importlib

                mod, _, fn = spec[0].partition(":")
                obj = getattr(importlib.import_module(mod), fn)(inp)
                why = _check_object(obj)
                res = {"class": "garbage", "detail": why} if why else {"class": "ok"}
            else:
                from brim.cli import main

                argv = [a.replace("{in}", str(inp)).replace("{out}", str(out)) for a in spec]
                try:
                    rc = main(argv)
                except SystemExit as exc:
                    rc = exc.code if isinstance(exc.code, int) else 2
                if rc == 0:
                    why = _check_outputs(out)
                    res = {"class": "garbage", "detail": why} if why else {"class": "ok"}
        except MemoryError as exc:
            from brim.errors import BrimError

            if isinstance(exc, BrimError):  # ResourceError: a clean refusal, not an OOM
                res = {"class": "clean", "detail": str(exc).splitlines()[0][:200]}
            else:
                res = {"class": "memory", "detail": "MemoryError"}
        except Exception as exc:  # noqa: BLE001
            import traceback

            from brim.errors import BrimError

            if isinstance(exc, BrimError) and case.entry.startswith("py:"):
                res = {"class": "clean", "detail": str(exc).splitlines()[0][:200]}
            else:
                traceback.print_exc()
                cls = "memory" if isinstance(exc, MemoryError) else "traceback"
                res = {"class": cls, "detail": f"{type(exc).__name__}: {str(exc)[:200]}"}
        sys.stdout.flush()
        sys.stderr.flush()
        if rc not in (None, 0):
            err = (folder / "stderr").read_text(errors="replace")
            lines = [ln for ln in err.splitlines() if ln.strip()]
            last = lines[-1] if lines else ""
            if "Traceback (most recent call last)" in err:
                res = {"class": "traceback", "detail": last[:200]}
            elif last.startswith("brim: error:") or (": error:" in last and "usage:" in err):
                res = {"class": "clean", "detail": last[:200]}
            else:
                res = {"class": "traceback", "detail": f"exit {rc} without a brim error: {last}"}
    except BaseException as exc:  # noqa: BLE001 - the harness itself must report, not die
        res = {"class": "traceback", "detail": f"harness: {type(exc).__name__}: {exc}"[:300]}
    finally:
        try:
            (folder / "result.json").write_text(json.dumps(res))
        finally:
            os._exit(0)


def _vm_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _preload() -> None:
    """Import what the entry points need once, so forked children start fast."""
    import h5py  # noqa: F401
    import numpy  # noqa: F401
    import scipy.io  # noqa: F401
    import xarray  # noqa: F401

    import brim  # noqa: F401
    import brim.cli

    brim.cli.build_parser()  # imports every modality's CLI module
    for m in (
        "brim.io",
        "brim.schema",
        "brim.thermo.readers",
        "brim.thermo.flir",
        "brim.microwave.readers",
        "brim.elasto.readers",
        "brim.fusion.measurement",
        "brim.fusion.extinction",
        "brim.fusion.public_data",
    ):
        __import__(m)


def run(
    cases: list[Case],
    *,
    jobs: int = 2,
    timeout: float = 60.0,
    mem_bytes: int = 2 << 30,
    max_array: str = "1GiB",
    progress: bool = True,
) -> list[Case]:
    """Run every case (at most ``jobs`` at a time); fills ``case.result``."""
    _preload()
    limit = _vm_size() + mem_bytes  # RLIMIT_AS counts the mappings the child inherits
    base = Path(tempfile.mkdtemp(prefix="brim-fuzz-"))
    running: dict[int, tuple[Case, Path, float]] = {}
    todo = list(enumerate(cases))
    done = 0
    t_start = time.monotonic()
    try:
        while todo or running:
            while todo and len(running) < jobs:
                i, case = todo.pop(0)
                folder = base / f"c{i:05d}"
                folder.mkdir()
                pid = os.fork()
                if pid == 0:
                    _child(case, folder, limit, max_array)
                running[pid] = (case, folder, time.monotonic())
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                now = time.monotonic()
                for rpid, (case, folder, t0) in list(running.items()):
                    if now - t0 > timeout:
                        os.kill(rpid, signal.SIGKILL)
                        os.waitpid(rpid, 0)
                        case.result = {
                            "class": "hang",
                            "detail": f"killed after {timeout:g} s",
                            "seconds": round(now - t0, 2),
                        }
                        shutil.rmtree(folder, ignore_errors=True)
                        del running[rpid]
                        done += 1
                time.sleep(0.01)
                continue
            if pid not in running:
                continue
            case, folder, t0 = running.pop(pid)
            res_file = folder / "result.json"
            if res_file.is_file():
                case.result = json.loads(res_file.read_text())
            else:
                sig = -os.waitstatus_to_exitcode(status)
                case.result = {"class": "traceback", "detail": f"child died (signal {sig})"}
            case.result["seconds"] = round(time.monotonic() - t0, 2)
            shutil.rmtree(folder, ignore_errors=True)
            done += 1
            if progress and done % 50 == 0:
                el = time.monotonic() - t_start
                print(f"  {done}/{len(cases)} cases, {el:.0f} s", file=sys.stderr, flush=True)
    finally:
        for rpid in running:
            os.kill(rpid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)
    return cases


def table(cases: list[Case]) -> str:
    """The outcome table: one row per entry point, one column per class, and a total."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for c in cases:
        counts[c.entry][c.result.get("class", "?")] += 1
    rows = [["entry point", *CLASSES, "total"]]
    total: Counter = Counter()
    for entry in sorted(counts):
        total.update(counts[entry])
        rows.append(
            [entry, *(str(counts[entry][k]) for k in CLASSES), str(sum(counts[entry].values()))]
        )
    rows.append(["TOTAL", *(str(total[k]) for k in CLASSES), str(sum(total.values()))])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subset", action="store_true", help="run the bounded CI subset")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("--memory", type=float, default=2.0, help="GiB per case (RLIMIT_AS)")
    ap.add_argument("--flips", type=int, default=40, help="bit flips per seed file")
    ap.add_argument("--only", help="run only cases whose id contains one of these (a,b,...)")
    ap.add_argument("--json", help="write every case's outcome to this JSON file")
    ap.add_argument("--show", type=int, default=30, help="list this many bad cases")
    ap.add_argument("--no-external", action="store_true", help="ignore $BRIM_EXTERNAL_DATA")
    args = ap.parse_args(argv)
    ext = os.environ.get("BRIM_EXTERNAL_DATA")
    external = Path(ext) if ext and not args.no_external and not args.subset else None
    work = Path(tempfile.mkdtemp(prefix="brim-fuzz-corpus-"))
    try:
        t0 = time.monotonic()
        cases = build_corpus(work, n_flips=args.flips, external=external)
        if args.subset:
            cases = subset(cases)
        if args.only:
            keys = args.only.split(",")
            cases = [c for c in cases if any(k in c.id for k in keys)]
        print(
            f"{len(cases)} cases ({'subset' if args.subset else 'full corpus'}"
            f"{', with external data' if external else ''})",
            flush=True,
        )
        run(cases, jobs=args.jobs, timeout=args.timeout, mem_bytes=int(args.memory * 2**30))
        print(table(cases))
        bad = [c for c in cases if c.result.get("class") in BAD]
        by_class = Counter(c.result["class"] for c in bad)
        print(
            f"\n{len(cases)} cases in {time.monotonic() - t0:.0f} s; bad outcomes: "
            f"{dict(by_class) or 'none'}"
        )
        for c in bad[: args.show]:
            print(f"  [{c.result['class']}] {c.id}: {c.result.get('detail', '')}")
        if args.json:
            rows = [{k: v for k, v in asdict(c).items() if k != "data"} for c in cases]
            Path(args.json).write_text(json.dumps(rows, indent=1))
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
