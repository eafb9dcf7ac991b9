"""``brim info``: attributes that matter, ranges and NaN counts read in blocks, vendor files."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

import brim
from brim.cli import main
from brim.data import list_samples, sample_path
from brim.errors import FormatError
from brim.fileinfo import describe, open_any, variable_stats


@pytest.mark.parametrize("name", list_samples())
def test_info_on_each_sample_names_schema_and_true_ranges(name, capsys):
    path = sample_path(name)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    ref = xr.open_dataset(path, engine="h5netcdf")  # read here independently of brim.info
    try:
        assert f"schema: {ref.attrs['brim_schema']} (valid)" in out
        assert "read with" in out
        for n, v in ref.data_vars.items():
            if v.ndim == 0 or v.dtype.kind not in "fiu":
                continue
            values = np.asarray(v.values, dtype=float)
            line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"{n} "))
            assert f"{np.nanmin(values):.6g} .. {np.nanmax(values):.6g}" in line, line
            if v.dtype.kind == "f":
                assert f"NaN {int(np.isnan(values).sum())}/{values.size}" in line
    finally:
        ref.close()


def test_info_shows_subject_and_acquisition_values(capsys):
    assert main(["info", str(sample_path("thermo_phantom_tumour"))]) == 0
    out = capsys.readouterr().out
    assert "subject: patient=phantom-tumour, view=frontal" in out
    assert "emissivity                   0.98 1" in out  # the 0-d variable, with its unit
    assert "provenance:" in out and "brim.thermo.simulate_thermogram" in out
    assert main(["info", str(sample_path("elasto_phantom_pair"))]) == 0
    out = capsys.readouterr().out
    assert "sampling_frequency" in out and "20000000.0 Hz" in out


class _RecordingArray(BackendArray):
    """A lazily read array that records how many elements each read asks for."""

    def __init__(self, data: np.ndarray):
        self.data, self.shape, self.dtype, self.reads = data, data.shape, data.dtype, []

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._raw
        )

    def _raw(self, key):
        out = self.data[key]
        self.reads.append(int(np.size(out)))
        return out


@pytest.mark.parametrize("dtype", ["f4", "f8", "c16", "i2"])
def test_ranges_are_read_block_by_block_and_exact(dtype):
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((40, 30, 20)) * 100).astype(dtype)
    if dtype == "c16":
        data = data + 1j * rng.standard_normal(data.shape)
    if data.dtype.kind in "fc":
        data[3, 4, 5] = np.nan
        data[30, 0, :7] = np.nan
    backend = _RecordingArray(data)
    var = xr.Variable(("a", "b", "c"), indexing.LazilyIndexedArray(backend))
    block = 5000  # bytes: far below the 192-384 kB variable
    st = variable_stats(var, block_bytes=block)
    assert backend.reads, "the variable was not read through its lazy array"
    assert max(backend.reads) * data.dtype.itemsize <= block
    assert sum(backend.reads) == data.size  # every value read exactly once
    mag = np.abs(data) if data.dtype.kind == "c" else data
    assert st.minimum == pytest.approx(float(np.nanmin(mag)))
    assert st.maximum == pytest.approx(float(np.nanmax(mag)))
    if data.dtype.kind in "fc":
        assert st.nan == 8
    else:
        assert st.nan is None


def test_a_variable_over_the_limit_is_skipped_and_says_so(tmp_path, capsys):
    ds = xr.Dataset({"big": (("t", "x"), np.ones((200, 1000))), "small": ("x", np.arange(1000.0))})
    brim.save(ds, tmp_path / "f.nc")
    text = describe(tmp_path / "f.nc", range_limit=100_000)
    big = next(ln for ln in text.splitlines() if ln.strip().startswith("big "))
    small = next(ln for ln in text.splitlines() if ln.strip().startswith("small "))
    assert "range skipped: 1.6 MB > limit 100.0 kB" in big
    assert "0 .. 999" in small
    assert main(["info", str(tmp_path / "f.nc"), "--range-limit", "0.1"]) == 0
    assert "range skipped" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "f.nc"), "--range-limit", "0"]) == 0  # 0: no limit
    assert "range skipped" not in capsys.readouterr().out


def test_info_on_an_unreadable_file_names_the_readers_tried(tmp_path, capsys):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a known format" * 10)
    with pytest.raises(FormatError, match="no brim reader opens this file"):
        open_any(junk)
    assert main(["info", str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and "brim_dmr" in err and err.count("\n") == 1


def test_strain_output_carries_a_schema(tmp_path, capsys):
    from brim.elasto.pipelines import strain_from_file

    strain = strain_from_file(sample_path("elasto_phantom_pair"))
    assert brim.schema.kind_of(strain) == "strain_image"
    brim.schema.validate(strain)
    brim.save(strain, tmp_path / "strain.nc")
    assert main(["info", str(tmp_path / "strain.nc")]) == 0
    assert "schema: strain_image/1 (valid)" in capsys.readouterr().out
    # and a strain image whose coordinates are not physical breaks the schema
    bad = strain.assign_coords(depth=strain["depth"].assign_attrs(units="sample"))
    with pytest.raises(brim.SchemaError, match="depth"):
        brim.schema.validate(bad)


def test_info_reads_vendor_files_and_shows_the_calibration(external_data, capsys):
    flir = external_data / "thermo" / "flir" / "FLIR0674.jpg"
    assert main(["info", str(flir)]) == 0
    out = capsys.readouterr().out
    assert "read with xarray engine 'brim_flir'" in out
    ds = xr.open_dataset(flir, engine="brim_flir")
    cal = next(ln for ln in out.splitlines() if ln.startswith("FLIR calibration used:"))
    assert f"emissivity {ds.attrs['flir_emissivity']:.6g}" in cal
    for key, name in (("r1", "R1"), ("r2", "R2"), ("b", "B"), ("f", "F"), ("o", "O")):
        assert f"{name} {ds.attrs[f'flir_planck_{key}']:.6g}" in cal
    t = ds["temperature"].values
    assert f"{np.nanmin(t):.6g} .. {np.nanmax(t):.6g}" in out

    dmr = external_data / "thermo" / "dmr_dynamic" / "PAC_64_DN0.txt"
    assert main(["info", str(dmr)]) == 0
    out = capsys.readouterr().out
    assert "read with xarray engine 'brim_dmr'" in out
    assert "subject: patient=64, view=frontal, protocol=dynamic, frame=0" in out


def test_plot_reads_a_vendor_file(external_data, tmp_path):
    import matplotlib.image as mpimg

    out = tmp_path / "flir.png"
    dmr = external_data / "thermo" / "dmr_dynamic" / "PAC_64_DN0.txt"
    assert main(["plot", str(dmr), "-o", str(out)]) == 0
    img = mpimg.imread(out)
    assert img[..., :3].std() > 0.05


# --- files no brim reader claims: a raw summary of .mat and HDF5 files ------------------------


def test_info_summarises_a_mat_file_no_reader_claims(tmp_path, capsys):
    import scipy.io

    vol = np.linspace(0.002, 0.02, 24).reshape(2, 3, 4)
    vol[0, 0, 0] = np.nan
    f = tmp_path / "recon.mat"
    scipy.io.savemat(f, {"mua": vol, "mask": (vol > 0.01).astype(np.uint8), "info": {"nm": 780}})
    assert main(["info", str(f)]) == 0
    out = capsys.readouterr().out
    assert "no brim reader claims this file" in out and "MATLAB 5.0 MAT-file" in out
    assert "readers tried:" in out and "brim_dmr" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "float64" in lines["mua"] and "(2, 3, 4)" in lines["mua"]
    assert f"{np.nanmin(vol):.6g} .. {np.nanmax(vol):.6g}" in lines["mua"]
    assert "NaN 1/24" in lines["mua"]
    assert "uint8" in lines["mask"] and "0 .. 1" in lines["mask"]
    assert "struct" in lines["info"]


@pytest.mark.filterwarnings("error::UserWarning")  # h5netcdf's phony_dims notice is not for users
@pytest.mark.parametrize("matlab", [False, True])
def test_info_summarises_a_plain_or_matlab_73_hdf5_file(tmp_path, capsys, matlab):
    import h5py

    f = tmp_path / ("v73.mat" if matlab else "dump.h5")
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    data[1, 1] = np.nan
    with h5py.File(f, "w", userblock_size=512 if matlab else 0) as h:
        d = h.create_dataset("grp/sig", data=data)
        # a null dataspace: valid HDF5 that h5netcdf cannot map (it raised a bare TypeError)
        h.create_dataset("nothing", data=h5py.Empty("f8"))
        if matlab:
            d.attrs["MATLAB_class"] = np.bytes_("single")
    if matlab:
        with open(f, "r+b") as fh:
            fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64")
    text = describe(f)
    assert "no brim reader claims this file" in text
    assert ("MATLAB v7.3" in text) is matlab
    (line,) = [x for x in text.splitlines() if x.startswith("  /grp/sig")]
    assert "float32" in line and "(3, 4)" in line and "0 .. 11" in line and "NaN 1/12" in line
    assert ("single" in line) is matlab
    assert "/nothing" in text and "no values" in text


def test_info_still_refuses_a_file_that_is_neither_mat_nor_hdf5(tmp_path):
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"MATLAB 5.0 MAT-file, but truncated" + b"\x00" * 3)
    with pytest.raises(FormatError, match="no brim reader opens this file"):
        describe(junk)


def test_info_on_the_real_dot_filtering_volume(external_data, capsys):
    f = external_data / "fusion" / "dot_filtering" / "twotars.mat"
    assert main(["info", str(f)]) == 0
    out = capsys.readouterr().out
    assert "no brim reader claims this file" in out
    (vol,) = [x for x in out.splitlines() if x.strip().startswith("volume7all")]
    assert "double" in vol and "(1, 33, 65, 7)" in vol and "NaN 0/15015" in vol
    import scipy.io

    v = scipy.io.loadmat(f)["volume7all"]
    assert f"{v.min():.6g} .. {v.max():.6g}" in vol  # the range of the real values
    (mask,) = [x for x in out.splitlines() if x.strip().startswith("maskall")]
    assert "0 .. 1" in mask


def test_info_summarises_a_npy_array_no_reader_claims(tmp_path, capsys):
    """A bare .npy used to be "no brim reader opens this file" and nine readers' complaints."""
    a = np.linspace(0.01, 0.3, 62 * 66, dtype=np.float32).reshape(62, 66)
    a[3, 4] = np.nan
    f = tmp_path / "map.npy"
    np.save(f, a)
    assert main(["info", str(f)]) == 0
    out = capsys.readouterr().out
    assert "raw contents of a NumPy .npy array" in out and "hint:" not in out
    (line,) = [x for x in out.splitlines() if x.startswith("  float32")]
    assert "(62, 66)" in line and f"{np.nanmin(a):.6g} .. {np.nanmax(a):.6g}" in line
    assert "NaN 1/4092" in line
    assert out.index("(62, 66)") < out.index("readers tried:")


def test_info_summarises_a_text_table_no_reader_claims(tmp_path, capsys):
    f = tmp_path / "labels.csv"
    f.write_text("\ufeffID;Diagnosis\r\n1;Healthy\r\n12;Sick\r\n\r\n")
    assert main(["info", str(f)]) == 0
    out = capsys.readouterr().out
    assert "a text file, not a brim Dataset" in out
    assert "rows: 3 non-empty, 2 column(s) (separated by ';')" in out
    assert "  ID;Diagnosis" in out


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("channel_names.csv", "MERIT scan folder's metadata table"),
        ("Configuration/xNodes.txt", "MWSegEval folder"),
        ("p1/mua-800.npy", "brim fusion convert"),
        ("optical_extinction_coeff.csv", "brim.fusion.read_extinction"),
    ],
)
def test_info_on_a_companion_file_says_what_reads_it(name, says, tmp_path, capsys):
    f = tmp_path / name
    f.parent.mkdir(parents=True, exist_ok=True)
    if f.suffix == ".npy":
        np.save(f, np.full((4, 5), 0.05))
    else:
        f.write_text("1,2\n2,3\n")
    assert main(["info", str(f)]) == 0
    hint = [x for x in capsys.readouterr().out.splitlines() if x.startswith("hint:")]
    assert len(hint) == 1 and says in hint[0]


def test_info_still_refuses_binary_junk_and_a_text_file_named_like_netcdf(tmp_path):
    junk = tmp_path / "junk.dat"
    junk.write_bytes(b"\x00\x01\x02\x03 not text" * 20)
    with pytest.raises(FormatError, match="no brim reader opens this file"):
        describe(junk)
    nc = tmp_path / "scan.nc"
    nc.write_text("not a netcdf file\n")
    with pytest.raises(FormatError, match="no brim reader opens this file"):
        describe(nc)


def test_info_on_a_grey_picture_says_an_ultrasound_image_is_read_elsewhere(tmp_path, capsys):
    # a BUSI B-mode PNG was described as an "8-bit grey thermal image" with no other word
    from PIL import Image

    f = tmp_path / "benign (1).png"
    Image.fromarray(np.linspace(0, 255, 40 * 50).reshape(40, 50).astype(np.uint8)).save(f)
    assert main(["info", str(f)]) == 0
    hint = [x for x in capsys.readouterr().out.splitlines() if x.startswith("hint:")]
    assert len(hint) == 1 and "brim fusion segment-us" in hint[0]


def test_info_checks_the_values_not_only_the_structure(tmp_path, capsys):
    # a thermogram in K labelled degC (written around brim.save's check) was reported "(valid)"
    ds = brim.open(sample_path("thermo_phantom_tumour"))
    f = tmp_path / "kelvin.nc"
    ds.assign(temperature=ds.temperature + 273.15).to_netcdf(f, engine="h5netcdf")
    assert main(["info", str(f)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("schema:"))
    assert "VALUES OUT OF RANGE" in line and "'temperature'" in line, line
    assert main(["info", str(sample_path("thermo_phantom_tumour"))]) == 0
    assert "schema: thermogram/1 (valid)" in capsys.readouterr().out
