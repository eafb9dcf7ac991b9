"""Measured multistatic field tables -> field_set (issue 21): layouts, geometry, masks, errors."""

import numpy as np
import pytest
import scipy.io

from brim.errors import ConfigError, FormatError, MissingFileError
from brim.microwave.tomography.fieldtable import read_field_table


def _table(seed=0, n_tx=4, n_rx=9, freqs=(2.0, 3.0), skip=2):
    """A Fresnel-like table: receivers within ``skip`` positions of the source are missing."""
    rng = np.random.default_rng(seed)
    rows = []
    truth = {}
    for f in freqs:
        for t in range(1, n_tx + 1):
            src_rx = round((t - 1) * n_rx / n_tx) + 1
            for r in range(1, n_rx + 1):
                if min(abs(r - src_rx), n_rx - abs(r - src_rx)) <= skip:
                    continue
                tot = complex(*rng.normal(size=2))
                inc = complex(*rng.normal(size=2))
                truth[(f, t, r)] = (tot, inc)
                rows.append([t, r, f, tot.real, tot.imag, inc.real, inc.imag])
    rng.shuffle(rows)
    return np.array(rows), truth


def _check(fs, truth, freqs=(2.0, 3.0), conj=False):
    assert fs.attrs["brim_schema"].startswith("field_set")
    np.testing.assert_allclose(fs["freq"].values, np.array(freqs) * 1e9)
    for (f, t, r), (tot, inc) in truth.items():
        k = list(freqs).index(f)
        got = fs["total_field"].values[k, t - 1, r - 1]
        assert got == (tot.conjugate() if conj else tot)
        assert fs["incident_field"].values[k, t - 1, r - 1] == (inc.conjugate() if conj else inc)
        assert fs["mask"].values[k, t - 1, r - 1]
    assert fs["mask"].values.sum() == len(truth)
    unmeasured = ~fs["mask"].values
    assert np.all(fs["total_field"].values[unmeasured] == 0)
    np.testing.assert_array_equal(
        fs["scattered_field"].values, fs["total_field"].values - fs["incident_field"].values
    )


def test_headerless_text_with_ring_geometry(tmp_path):
    rows, truth = _table()
    path = tmp_path / "fresnel_like.exp"
    np.savetxt(path, rows, fmt=["%d", "%d", "%.1f", "%.17g", "%.17g", "%.17g", "%.17g"])
    fs = read_field_table(path, tx_radius=0.72, rx_radius=0.76, n_rx=9)
    _check(fs, truth)
    assert fs.sizes == {"freq": 2, "tx": 4, "rx": 9}
    np.testing.assert_allclose(np.hypot(fs["tx_x"], fs["tx_y"]), 0.72)
    np.testing.assert_allclose(np.degrees(np.arctan2(fs["rx_y"], fs["rx_x"]))[:3], [0, 40, 80])
    assert fs.attrs["n_rows"] == len(truth)
    assert "read_field_table" in fs.attrs["brim_provenance"]


def test_csv_with_a_header_in_any_order_and_explicit_angles(tmp_path):
    rows, truth = _table(seed=1)
    order = [5, 6, 0, 2, 1, 3, 4]
    names = ["Einc_re", "Einc_im", "source", "frequency_GHz", "receiver", "Etot_re", "Etot_im"]
    path = tmp_path / "table.csv"
    with open(path, "w") as fh:
        fh.write(",".join(names) + "\n")
        for r in rows:
            fh.write(",".join(repr(float(r[i])) for i in order) + "\n")
    fs = read_field_table(
        path, tx_radius=1.0, rx_radius=1.0, tx_angles=[0, 90, 180, 270],
        rx_angles=np.arange(9) * 40.0,
    )  # fmt: skip
    _check(fs, truth)
    np.testing.assert_allclose(fs["tx_y"].values, [0, 1, 0, -1], atol=1e-12)


def test_mat_with_named_columns_and_conjugated_convention(tmp_path):
    rows, truth = _table(seed=2)
    names = ["tx", "rx", "freq", "total_re", "total_im", "incident_re", "incident_im"]
    path = tmp_path / "table.mat"
    scipy.io.savemat(path, {n: rows[:, i] for i, n in enumerate(names)})
    fs = read_field_table(path, tx_radius=0.7, rx_radius=0.7, n_rx=9, time_convention="-iwt")
    _check(fs, truth, conj=True)


def test_a_geometry_file_gives_the_positions(tmp_path):
    rows, truth = _table(seed=3)
    path = tmp_path / "t.txt"
    np.savetxt(path, rows)
    geo = tmp_path / "geometry.csv"
    lines = ["kind,index,x,y"]
    lines += [f"tx,{i + 1},{0.1 * i},0.5" for i in range(4)]
    lines += [f"rx,{i + 1},-0.5,{0.05 * i}" for i in range(9)]
    geo.write_text("\n".join(lines))
    fs = read_field_table(path, geometry=geo)
    _check(fs, truth)
    np.testing.assert_allclose(fs["tx_x"].values, [0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(fs["rx_y"].values, 0.05 * np.arange(9))


def test_frequencies_in_hz_are_recognised(tmp_path):
    rows, truth = _table(seed=4)
    rows[:, 2] *= 1e9
    path = tmp_path / "hz.txt"
    np.savetxt(path, rows)
    _check(read_field_table(path, tx_radius=1, rx_radius=1, n_rx=9), truth)
    rows[0, 2] = 500.0  # one row in GHz, the others in Hz: ambiguous
    np.savetxt(path, rows)
    with pytest.raises(ConfigError, match="freq_unit"):
        read_field_table(path, tx_radius=1, rx_radius=1)


def test_bad_tables_are_refused(tmp_path):
    rows, _ = _table(seed=5)
    p = tmp_path / "t.txt"
    with pytest.raises(MissingFileError):
        read_field_table(tmp_path / "missing.exp", tx_radius=1, rx_radius=1)
    np.savetxt(p, rows)
    with pytest.raises(ConfigError, match="geometry="):
        read_field_table(p)
    with pytest.raises(FormatError, match="rx index 9 but the geometry has 5"):
        read_field_table(p, tx_radius=1, rx_radius=1, n_rx=5)
    np.savetxt(p, np.vstack([rows, rows[:1]]))
    with pytest.raises(FormatError, match="more than once"):
        read_field_table(p, tx_radius=1, rx_radius=1)
    bad = rows.copy()
    bad[3, 4] = np.nan
    np.savetxt(p, bad)
    with pytest.raises(FormatError, match="NaN"):
        read_field_table(p, tx_radius=1, rx_radius=1)
    np.savetxt(p, rows[:, :5])
    with pytest.raises(FormatError, match="needs 7"):
        read_field_table(p, tx_radius=1, rx_radius=1)
    p.write_text("1 2 3.0 0.5 abc 0.4 0.1\n")
    with pytest.raises(FormatError, match="line 1"):
        read_field_table(p, tx_radius=1, rx_radius=1)
    p.write_text("0 2 3.0 0.5 0.1 0.4 0.1\n")
    with pytest.raises(FormatError, match="integers >= 1"):
        read_field_table(p, tx_radius=1, rx_radius=1)
    with pytest.raises(ConfigError, match="time_convention"):
        read_field_table(p, tx_radius=1, rx_radius=1, time_convention="exp")


def test_a_simulated_measurement_round_trips_through_a_table(tmp_path):
    """brim's own forward solver -> a Fresnel-layout table with missing pairs -> the reader."""
    from brim.microwave.tomography import TomographyGrid, ring_positions, simulate

    grid = TomographyGrid.centered(24, 0.12)
    eps = np.ones(grid.shape, complex)
    px, py = grid.points()
    eps[np.hypot(px, py).reshape(grid.shape) < 0.02] = 2.5 - 0.1j
    tx, rx = ring_positions(6, 0.5), ring_positions(24, 0.6)
    fs = simulate(eps, grid, [2e9, 3e9], tx, rx)
    rows = []
    for k, f in enumerate([2.0, 3.0]):
        for t in range(6):
            for r in range(24):
                if (r - 4 * t) % 24 in (0, 1, 23):  # near the source: not measured
                    continue
                tot = fs["total_field"].values[k, t, r]
                inc = fs["incident_field"].values[k, t, r]
                rows.append([t + 1, r + 1, f, tot.real, tot.imag, inc.real, inc.imag])
    path = tmp_path / "sim.exp"
    np.savetxt(path, rows, fmt="%.17g")
    back = read_field_table(path, tx_radius=0.5, rx_radius=0.6, n_rx=24)
    m = back["mask"].values
    np.testing.assert_allclose(back["scattered_field"].values[m], fs["scattered_field"].values[m])
    np.testing.assert_allclose(back["tx_x"].values, fs["tx_x"].values, atol=1e-12)
    np.testing.assert_allclose(back["rx_y"].values, fs["rx_y"].values, atol=1e-12)
    assert m.sum() == 2 * 6 * 21


def test_a_free_space_range_of_1_7_m_is_a_valid_field_set(tmp_path):
    """The Institut Fresnel set-ups put the antennas 1.67-1.8 m from the target."""
    from brim.schema import validate

    rows, _ = _table(seed=6)
    path = tmp_path / "far.exp"
    np.savetxt(path, rows)
    fs = read_field_table(path, tx_radius=1.67, rx_radius=1.67, n_rx=9)
    validate(fs, "field_set")
    fs.to_netcdf(tmp_path / "far.nc", engine="h5netcdf", invalid_netcdf=True)


def test_polarisation_option_and_netcdf_attribute(tmp_path):
    import xarray as xr

    rows, truth = _table()
    path = tmp_path / "t.exp"
    np.savetxt(path, rows, fmt="%.17g")
    kw = {"tx_radius": 0.72, "rx_radius": 0.76, "n_rx": 9}
    assert "polarisation" not in read_field_table(path, **kw).attrs  # unknown: TM implied
    assert read_field_table(path, polarisation="te", **kw).attrs["polarisation"] == "TE"
    with pytest.raises(ConfigError, match="polarisation"):
        read_field_table(path, polarisation="circular", **kw)
    names = ["tx", "rx", "freq", "total_re", "total_im", "incident_re", "incident_im"]
    nc = tmp_path / "t.nc"
    xr.Dataset({n: ("row", rows[:, i]) for i, n in enumerate(names)},
               attrs={"polarisation": "TE"}).to_netcdf(nc, engine="h5netcdf")  # fmt: skip
    fs = read_field_table(nc, **kw)
    _check(fs, truth)
    assert fs.attrs["polarisation"] == "TE"
    assert read_field_table(nc, polarisation="TM", **kw).attrs["polarisation"] == "TM"
