"""Readers: measurement round trips and the real public maps (load and plot)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from brim import fusion as rd
from brim.errors import FormatError, MissingFileError
from brim.fusion import simulate as sim
from brim.fusion.extinction import DEFAULT_EXTINCTION

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402


@pytest.fixture(scope="module")
def meas():
    return sim.simulate_measurement(None, wavelengths=(780.0, 830.0))


def test_measurement_roundtrips(meas, tmp_path):
    from scipy.io import savemat

    import brim

    # NetCDF
    p = brim.save(meas, tmp_path / "m.nc")
    back = rd.read_measurement(p)
    np.testing.assert_array_equal(back.amplitude.values, meas.amplitude.values)
    # CSV (long format)
    c = rd.write_measurement_csv(meas, tmp_path / "m.csv")
    back = rd.read_measurement(c)
    np.testing.assert_allclose(back.amplitude.values, meas.amplitude.values, rtol=1e-15)
    np.testing.assert_allclose(back.phase.values, meas.phase.values, rtol=1e-15)
    assert float(back.modulation_frequency) == 140e6
    # .mat with INTEGER positions (mm, the .mat layout): back as float64 metres, same values
    src = np.round(np.stack([meas.source_x, meas.source_y], 1) * 1e3).astype(np.int32)
    det = np.round(np.stack([meas.detector_x, meas.detector_y], 1) * 1e3).astype(np.int32)
    variables = {
        "amplitude": meas.amplitude.values,
        "phase": meas.phase.values,
        "wavelength": meas.wavelength.values,
        "source_pos": src,
        "detector_pos": det,
        "frequency": 140e6,
    }
    savemat(tmp_path / "m.mat", variables)
    back = rd.read_measurement(tmp_path / "m.mat")
    assert back.source_x.dtype == np.float64
    np.testing.assert_array_equal(back.source_x.values, meas.source_x.values)
    np.testing.assert_array_equal(back.amplitude.values, meas.amplitude.values)
    # the same variables saved as MATLAB v7.3 (HDF5, column-major) read to the same numbers
    v73 = savemat73(tmp_path / "m73.mat", {**variables, "position_units": "mm"})
    back73 = rd.read_measurement(v73)
    for name in ("amplitude", "phase", "source_x", "detector_y", "wavelength"):
        np.testing.assert_array_equal(back73[name].values, back[name].values)
    assert float(back73.modulation_frequency) == 140e6


def test_standard_errors_roundtrip_through_csv_and_netcdf(meas, tmp_path):
    """A measurement with per-value standard errors (as a device's repeated acquisitions give)
    keeps them through the CSV layout and NetCDF, so reconstruct can weigh by them."""
    import brim

    rng = np.random.default_rng(0)
    a_se = rng.uniform(0.002, 0.03, meas.amplitude.shape)
    p_se = rng.uniform(0.001, 0.02, meas.amplitude.shape)
    src = np.stack([meas.source_x, meas.source_y], 1)
    det = np.stack([meas.detector_x, meas.detector_y], 1)
    m = rd.measurement_from_arrays(
        meas.amplitude.values, meas.phase.values, meas.wavelength.values, src, det, 140e6,
        amplitude_rel_se=a_se, phase_se=p_se,
    )  # fmt: skip
    assert m.phase_se.attrs["units"] == "rad"
    c = rd.write_measurement_csv(m, tmp_path / "se.csv")
    assert c.read_text().splitlines()[1].endswith(",amplitude_rel_se,phase_se_rad")
    for back in (rd.read_measurement(c), rd.read_measurement(brim.save(m, tmp_path / "se.nc"))):
        np.testing.assert_allclose(back.amplitude_rel_se.values, a_se, rtol=1e-15)
        np.testing.assert_allclose(back.phase_se.values, p_se, rtol=1e-15)
    # without errors the CSV has no such columns and the measurement no such variables
    plain = rd.read_measurement(rd.write_measurement_csv(meas, tmp_path / "plain.csv"))
    assert "amplitude_rel_se" not in plain and "phase_se" not in plain


def test_bad_measurement_files(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FormatError):
        rd.read_measurement(tmp_path / "bad.csv")
    with pytest.raises(MissingFileError):
        rd.read_measurement(tmp_path / "none.nc")
    (tmp_path / "x.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(FormatError):
        rd.read_measurement(tmp_path / "x.mat")
    with pytest.raises(FormatError):
        rd.measurement_from_arrays(np.ones((1, 2, 3)), np.ones((1, 2, 2)), [800], [[0, 0], [1, 1]],
                                   [[5, 0], [6, 0], [7, 0]], 0.0)  # fmt: skip


def test_bundled_extinction_is_the_prahl_subset(external_data, tmp_path):
    full = rd.read_extinction(external_data / "fusion/dot_pat/optical_extinction_coeff.csv")
    sub = rd.read_extinction()
    on = full.sel(wavelength=sub.wavelength)
    np.testing.assert_array_equal(on.eps_hbo2.values, sub.eps_hbo2.values)
    np.testing.assert_array_equal(on.eps_hb.values, sub.eps_hb.values)
    # Prahl's published value at 800 nm: HbO2 816, Hb 761.72 cm-1/M
    np.testing.assert_allclose(rd.extinction_at([800.0])[0], [816.0, 761.72])
    regen = rd.write_extinction_subset(
        external_data / "fusion/dot_pat/optical_extinction_coeff.csv", tmp_path / "s.csv"
    )
    assert regen.read_text() == DEFAULT_EXTINCTION.read_text()
    with pytest.raises(FormatError):
        rd.extinction_at([600.0])


def test_real_maps_load_and_plot(external_data, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brim.fusion import plotting
    from brim.schema import validate

    two = rd.read_dot_filtering(external_data / "fusion/dot_filtering/twotars.mat")
    validate(two)
    assert two.mua.sizes == {"scan": 1, "z": 7, "y": 33, "x": 65}
    assert two.target_mask.values.any()
    # the targets are where absorption is high: mean inside mask > mean outside
    m = two.target_mask.values > 0
    assert two.mua.values[m].mean() > two.mua.values[~m].mean()
    p1 = rd.read_dot_pat_patient(external_data / "fusion/dot_pat/p1")
    validate(p1)
    assert list(p1.wavelength.values) == [770.0, 780.0, 800.0, 830.0]
    assert 0.0 < float(p1.mua.min()) and float(p1.mua.max()) < 1.0  # cm-1, breast range
    assert float(p1.musp.min()) > 0.5
    ph = rd.read_dot_pat_map(
        external_data / "fusion/dot_pat/phantom-experiment-sni/mua-40-830-scan2.npy"
    )
    assert ph.attrs["wavelength_nm"] == 830.0 and ph.shape == (64, 64)
    fig, axs = plt.subplots(1, 3)
    plotting.plot_depth_slices(two.isel(scan=0), var="mua", ax=axs[0])
    plotting.plot_map(p1.mua.sel(wavelength=800.0), ax=axs[1])
    plotting.plot_map(ph, ax=axs[2])
    fig.savefig(tmp_path / "maps.png")
    plt.close(fig)
    assert (tmp_path / "maps.png").stat().st_size > 5000


def test_pickled_npy_is_refused(tmp_path):
    p = tmp_path / "mua-800.npy"
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="pickle"):
        rd.read_dot_pat_map(p)


def test_busi_reader(external_data):
    pairs = rd.busi_pairs(external_data / "fusion/busi_dev")
    assert len(pairs) == 60
    assert {lab for _, _, lab in pairs} == {"benign", "malignant"}
    ds = rd.read_busi(pairs[0][0], pairs[0][1], size=64)
    assert ds.image.shape == (64, 64) and ds["mask"].values.any()
    assert isinstance(ds, xr.Dataset)
