"""Readers refuse bad input with FormatError / ConfigError naming the file and the problem."""

import numpy as np
import pytest

from brim import fusion as rd
from brim.errors import ConfigError, FormatError
from brim.fusion import simulate as sim
from brim.fusion.extinction import DEFAULT_EXTINCTION


@pytest.fixture(scope="module")
def meas():
    # 9 sources x 14 detectors: a transposed matrix cannot pass for the right one
    return sim.simulate_measurement(None, wavelengths=(780.0, 830.0))


def _mat(meas, path, **override):
    """Write ``meas`` as a .mat measurement, with some variables replaced."""
    from scipy.io import savemat

    variables = {
        "amplitude": meas.amplitude.values,
        "phase": meas.phase.values,
        "wavelength": meas.wavelength.values,
        "source_pos": np.stack([meas.source_x, meas.source_y], 1) * 1e3,  # mm, the .mat layout
        "detector_pos": np.stack([meas.detector_x, meas.detector_y], 1) * 1e3,
        "frequency": 140e6,
    }
    variables.update(override)
    savemat(path, variables)
    return path


def _csv_lines(meas, tmp_path):
    """The lines of ``meas`` written as a measurement CSV (comment, header, then data)."""
    return rd.write_measurement_csv(meas, tmp_path / "good.csv").read_text().splitlines()


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------------ .mat files


@pytest.mark.parametrize(
    "layout", [lambda a: a.transpose(0, 2, 1), lambda a: a[:, :, :-1], lambda a: a.reshape(2, -1)]
)
def test_mat_wrong_shape_is_refused_not_reshaped(meas, tmp_path, layout):
    p = _mat(
        meas, tmp_path / "m.mat", amplitude=layout(meas.amplitude.values),
        phase=layout(meas.phase.values),
    )  # fmt: skip
    with pytest.raises(FormatError, match=r"m\.mat.*'amplitude'.*\(2, 9, 14\)"):
        rd.read_measurement(p)


def test_mat_matlab_layouts_still_load(meas, tmp_path):
    one = meas.isel(wavelength=[0])
    p = _mat(
        one, tmp_path / "one.mat", amplitude=one.amplitude.values[0], phase=one.phase.values[0]
    )
    np.testing.assert_array_equal(rd.read_measurement(p).amplitude.values, one.amplitude.values)
    single = meas.isel(detector=[0])  # MATLAB drops the trailing singleton dimension
    p = _mat(
        single, tmp_path / "s.mat", amplitude=single.amplitude.values[..., 0],
        phase=single.phase.values[..., 0],
    )  # fmt: skip
    np.testing.assert_array_equal(rd.read_measurement(p).phase.values, single.phase.values)


@pytest.mark.parametrize("name, value", [("amplitude", np.nan), ("phase", np.inf)])
def test_mat_non_finite_values_are_refused(meas, tmp_path, name, value):
    a = meas[name].values.copy()
    a[1, 2, 3] = value
    with pytest.raises(FormatError, match=rf"m\.mat.*{name!r}.*NaN or infinite"):
        rd.read_measurement(_mat(meas, tmp_path / "m.mat", **{name: a}))


@pytest.mark.parametrize(
    "override, match",
    [
        ({"frequency": np.zeros(0)}, "'frequency'"),
        ({"frequency": -1.0}, "'frequency'"),
        ({"source_pos": np.zeros((9, 1))}, "'source_pos'"),
        ({"wavelength": "abc"}, "'wavelength'"),
    ],
)
def test_mat_bad_metadata_is_refused(meas, tmp_path, override, match):
    with pytest.raises(FormatError, match=rf"m\.mat.*{match}"):
        rd.read_measurement(_mat(meas, tmp_path / "m.mat", **override))


def test_mat_negative_amplitude_names_the_file(meas, tmp_path):
    p = _mat(meas, tmp_path / "neg.mat", amplitude=-meas.amplitude.values)
    with pytest.raises(FormatError, match=r"neg\.mat.*amplitude must be >= 0"):
        rd.read_measurement(p)


# ------------------------------------------------------------------------------------- CSV files


def test_csv_duplicate_row_is_refused(meas, tmp_path):
    lines = _csv_lines(meas, tmp_path)
    p = _write(tmp_path / "dup.csv", lines + [lines[2]])
    with pytest.raises(FormatError, match=rf"dup\.csv, line {len(lines) + 1}: duplicate of line 3"):
        rd.read_measurement(p)


@pytest.mark.parametrize("keep", [0.5, 0.2])
def test_csv_truncated_last_row_is_refused(meas, tmp_path, keep):
    lines = _csv_lines(meas, tmp_path)
    cut = lines[-1][: int(len(lines[-1]) * keep)]
    p = _write(tmp_path / "cut.csv", lines[:-1] + [cut])
    with pytest.raises(FormatError, match=rf"cut\.csv, line {len(lines)}: .*truncated"):
        rd.read_measurement(p)


def test_csv_one_standard_error_column_is_refused(meas, tmp_path):
    lines = _csv_lines(meas, tmp_path)
    body = [ln + ",0.01" for ln in lines[2:]]
    p = _write(tmp_path / "se.csv", lines[:1] + [lines[1] + ",amplitude_rel_se"] + body)
    with pytest.raises(FormatError, match=r"se\.csv: the standard-error columns .* both"):
        rd.read_measurement(p)


def test_standard_errors_must_be_both_non_negative_and_shaped(meas):
    args = (meas.amplitude.values, meas.phase.values, meas.wavelength.values,
            np.stack([meas.source_x, meas.source_y], 1),
            np.stack([meas.detector_x, meas.detector_y], 1), 140e6)  # fmt: skip
    se = np.full(meas.amplitude.shape, 0.01)
    with pytest.raises(FormatError, match="both standard errors"):
        rd.measurement_from_arrays(*args, amplitude_rel_se=se)
    with pytest.raises(FormatError, match="phase_se must be >= 0"):
        rd.measurement_from_arrays(*args, amplitude_rel_se=se, phase_se=-se)
    with pytest.raises(FormatError, match="amplitude_rel_se has shape"):
        rd.measurement_from_arrays(*args, amplitude_rel_se=se[:1], phase_se=se)


def test_csv_ragged_row_is_refused(meas, tmp_path):
    lines = _csv_lines(meas, tmp_path)
    p = _write(tmp_path / "rag.csv", lines[:4] + [lines[4] + ",1.0"] + lines[5:])
    with pytest.raises(FormatError, match=r"rag\.csv, line 5: 8 fields, expected 7"):
        rd.read_measurement(p)


@pytest.mark.parametrize(
    "comment",
    [
        "# modulation_frequency_hz=abc",
        "# modulation_frequency_hz 140e6",
        "# modulation_frequency_hz=",
        "# modulation_frequency_hz=-5",
        "# modulation_frequency_hz=nan",
    ],
)
def test_csv_malformed_frequency_comment_is_refused(meas, tmp_path, comment):
    lines = _csv_lines(meas, tmp_path)
    p = _write(tmp_path / "f.csv", [comment] + lines[1:])
    with pytest.raises(FormatError, match=r"f\.csv, line 1: malformed comment"):
        rd.read_measurement(p)


@pytest.mark.parametrize("column, value", [(5, "nan"), (6, "inf"), (1, "-inf")])
def test_csv_non_finite_values_are_refused(meas, tmp_path, column, value):
    lines = _csv_lines(meas, tmp_path)
    fields = lines[3].split(",")
    fields[column] = value
    p = _write(tmp_path / "nf.csv", lines[:3] + [",".join(fields)] + lines[4:])
    with pytest.raises(FormatError, match=r"nf\.csv, line 4: NaN or infinite"):
        rd.read_measurement(p)


def test_csv_bad_frequency_argument_is_refused(meas, tmp_path):
    lines = _csv_lines(meas, tmp_path)
    p = _write(tmp_path / "nofreq.csv", lines[1:])
    with pytest.raises(ConfigError, match="modulation_frequency"):
        rd.read_measurement(p, modulation_frequency=-140e6)
    assert float(rd.read_measurement(p, modulation_frequency=0).modulation_frequency) == 0.0


def test_csv_not_text_is_refused(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00\x81 binary")
    with pytest.raises(FormatError, match=r"bin\.csv: line 1, column 1: .* not valid UTF-8"):
        rd.read_measurement(p)


# ----------------------------------------------------------------------------- extinction tables


@pytest.mark.parametrize("bad", ["701,1", "701,1,2,3", "701,abc,2", "701,nan,2"])
def test_extinction_ragged_or_bad_line_is_refused(tmp_path, bad):
    lines = DEFAULT_EXTINCTION.read_text().splitlines()
    p = _write(tmp_path / "ext.csv", lines[:8] + [bad] + lines[8:])
    with pytest.raises(FormatError, match=r"ext\.csv, line 9"):
        rd.read_extinction(p)


def test_extinction_duplicate_wavelength_is_refused(tmp_path):
    p = _write(tmp_path / "ext.csv", ["nm,a,b", "700,1,2", "702,3,4", "700,5,6"])
    with pytest.raises(FormatError, match=r"ext\.csv: wavelengths \[700\.0\] nm appear twice"):
        rd.read_extinction(p)


# ------------------------------------------------------------------------------ DOT-PAT folders


def _maps(folder, shapes):
    """Write constant maps ``{file name: shape}`` into ``folder``."""
    folder.mkdir()
    for name, shape in shapes.items():
        np.save(folder / name, np.full(shape, 0.1))
    return folder


def test_patient_duplicate_wavelength_is_refused(tmp_path):
    d = _maps(tmp_path / "p", {"mua-780.npy": (4, 4), "mua-x-780.npy": (4, 4)})
    with pytest.raises(FormatError, match=r"mua-780\.npy and mua-x-780\.npy are both mua at 780"):
        rd.read_dot_pat_patient(d)


def test_patient_reader_refuses_a_phantom_folder(external_data):
    with pytest.raises(FormatError, match="scan1.npy and .*scan2.npy are both mua at 750 nm"):
        rd.read_dot_pat_patient(external_data / "fusion/dot_pat/phantom-experiment-sni")


def test_patient_mismatched_shapes_are_refused(tmp_path):
    d = _maps(tmp_path / "p", {"mua-780.npy": (4, 4), "mua-800.npy": (5, 4)})
    with pytest.raises(FormatError, match=r"mua-800\.npy has shape \(5, 4\) but mua-780\.npy"):
        rd.read_dot_pat_patient(d)


def test_patient_unmatched_wavelengths_are_refused(tmp_path):
    shapes = {"mua-780.npy": (4, 4), "mua-800.npy": (4, 4), "mus-780.npy": (4, 4)}
    d = _maps(tmp_path / "p", shapes)
    with pytest.raises(FormatError, match=r"mua maps at \[780\.0, 800\.0\] nm but mus maps"):
        rd.read_dot_pat_patient(d)


def test_patient_map_without_wavelength_is_refused(tmp_path):
    d = _maps(tmp_path / "p", {"mua-left.npy": (4, 4), "mua-right.npy": (4, 4)})
    with pytest.raises(FormatError, match=r"mua-left\.npy: no wavelength"):
        rd.read_dot_pat_patient(d)


# ----------------------------------------------------------------------------------- BUSI images


@pytest.fixture
def png(tmp_path):
    from PIL import Image

    p = tmp_path / "ok.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(p)
    return p


@pytest.mark.parametrize("keep", [0.5, 0.0])
def test_busi_corrupt_png_is_refused(png, tmp_path, keep):
    data = png.read_bytes()
    bad = tmp_path / "bad.png"
    bad.write_bytes(data[: int(len(data) * keep)] if keep else b"not a png")
    with pytest.raises(FormatError, match=r"bad\.png: not a readable image"):
        rd.read_busi(bad)
    with pytest.raises(FormatError, match=r"bad\.png"):
        rd.read_busi(png, bad)
    with pytest.raises(FormatError, match=r"bad\.png"):
        rd.image_hash(bad)


@pytest.mark.parametrize("size", [-3, 2.5, 0])
def test_busi_bad_size_is_refused(png, size):
    with pytest.raises(ConfigError, match="size"):
        rd.read_busi(png, size=size)
