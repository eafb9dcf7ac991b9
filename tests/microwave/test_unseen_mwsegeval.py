"""The MWSegEval breast as other labs and tools save it: each variant of the real folder reads
to the same permittivity map, or is refused with a brim error naming the problem (no traceback,
no silently wrong grid, frequency or loss)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from brim.errors import BrimError, FormatError, MissingFileError
from brim.io import read_mat
from brim.microwave.tomography.phantoms import load_mwsegeval, mwsegeval_phantom

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from matlab73 import savemat73  # noqa: E402


@pytest.fixture(scope="module")
def source(external_data):
    return external_data / "microwave" / "mwsegeval"


@pytest.fixture(scope="module")
def reference(source):
    ds = load_mwsegeval(source)
    assert ds["permittivity"].shape == (225, 225) and float(ds["freq"]) == 1e9
    return ds


@pytest.fixture(scope="module")
def raw(source):
    return read_mat(source / "data" / "input_forwardModel.mat")["input_forwardModel"]


@pytest.fixture(scope="module")
def raw_rec(source):
    path = source / "data" / "input_reconstructedModel.mat"
    return read_mat(path)["input_reconstructedModel"]


def _copy(source: Path, tmp_path: Path) -> Path:
    root = tmp_path / "mwsegeval"
    shutil.copytree(source, root)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # the shared copy is read-only
    return root


def _nodes(source: Path, axis: str) -> np.ndarray:
    return np.loadtxt(source / "Configuration" / f"{axis}Nodes.txt")


def _write(root: Path, name: str, text: str) -> None:
    (root / "Configuration" / name).write_bytes(text.encode("utf-8"))


def _save_map(root: Path, eps) -> None:
    scipy.io.savemat(root / "data" / "input_forwardModel.mat", {"input_forwardModel": eps})


def _save_rec(root: Path, eps) -> None:
    scipy.io.savemat(
        root / "data" / "input_reconstructedModel.mat", {"input_reconstructedModel": eps}
    )


def _rec(root: Path):
    return read_mat(root / "data" / "input_reconstructedModel.mat")["input_reconstructedModel"]


def _lines(values, *, fmt="{:.6f}", sep="\n") -> str:
    return sep.join(fmt.format(v) for v in values)


# each variant edits the copied folder; all of them carry the same map, grid and frequency
SAME = {
    "v7.3": lambda r, s, e: savemat73(
        r / "data" / "input_forwardModel.mat", {"input_forwardModel": e}
    ),
    "single precision": lambda r, s, e: _save_map(r, e.astype(np.complex64)),
    "extra variable": lambda r, s, e: scipy.io.savemat(
        r / "data" / "input_forwardModel.mat", {"input_forwardModel": e, "note": "CSI run 3"}
    ),
    "eps' + j eps''": lambda r, s, e: _save_map(r, np.conj(e)),
    "CRLF and BOM": lambda r, s, e: (
        [
            _write(r, f"{a}Nodes.txt", "\ufeff" + _lines(_nodes(s, a), sep="\r\n") + "\r\n")
            for a in "xy"
        ]
        + [_write(r, "frequency.txt", "\ufeff1e9\r\n")]
    ),
    "comma separated": lambda r, s, e: [
        _write(r, f"{a}Nodes.txt", _lines(_nodes(s, a), sep=",")) for a in "xy"
    ],
    "semicolons and blanks": lambda r, s, e: [
        _write(r, f"{a}Nodes.txt", _lines(_nodes(s, a), sep="; ")) for a in "xy"
    ],
    "header line": lambda r, s, e: [
        _write(r, f"{a}Nodes.txt", f"{a} nodes\n" + _lines(_nodes(s, a))) for a in "xy"
    ],
    "mm with a header naming it": lambda r, s, e: [
        _write(r, f"{a}Nodes.txt", f"{a} (mm)\n" + _lines(_nodes(s, a) * 1e3, fmt="{:.4f}"))
        for a in "xy"
    ],
    "frequency in GHz, unit named": lambda r, s, e: _write(r, "frequency.txt", "1 GHz\n"),
    "frequency in MHz, unit named": lambda r, s, e: _write(r, "frequency.txt", "1000 MHz\n"),
    "descending y nodes": lambda r, s, e: [
        _save_map(r, e[::-1]),
        _save_rec(r, _rec(r)[::-1]),  # both maps on the nodes as the files give them
        _write(r, "yNodes.txt", _lines(_nodes(s, "y")[::-1])),
    ],
    "lower-case configuration folder": lambda r, s, e: (r / "Configuration").rename(
        r / "configuration"
    ),
}


@pytest.mark.parametrize("variant", SAME)
def test_variant_reads_the_same_map(variant, source, reference, raw, tmp_path):
    root = _copy(source, tmp_path)
    SAME[variant](root, source, raw)
    ds = load_mwsegeval(root)
    assert float(ds["freq"]) == 1e9
    np.testing.assert_allclose(ds["x"].values, reference["x"].values, atol=1e-9)
    np.testing.assert_allclose(ds["y"].values, reference["y"].values, atol=1e-9)
    tol = 1e-6 if variant == "single precision" else 1e-12  # complex64 keeps 7 digits
    np.testing.assert_allclose(
        ds["permittivity"].values, reference["permittivity"].values, rtol=tol
    )
    np.testing.assert_array_equal(  # the reconstruction on the same grid, in the same order
        ds["reconstructed_permittivity"].values, reference["reconstructed_permittivity"].values
    )


REFUSED = {
    # variant: (edit, error class, words the message must hold)
    "nodes in mm, no unit": (
        lambda r, s, e: [
            _write(r, f"{a}Nodes.txt", _lines(_nodes(s, a) * 1e3, fmt="{:.4f}")) for a in "xy"
        ],
        FormatError,
        ("xNodes.txt", "112 m", "millimetres"),
    ),
    "nodes in m, header says mm": (
        lambda r, s, e: [
            _write(r, f"{a}Nodes.txt", "x [mm]\n" + _lines(_nodes(s, a))) for a in "xy"
        ],
        FormatError,
        ("xNodes.txt", "0.000112 m"),
    ),
    "frequency in GHz, no unit": (
        lambda r, s, e: _write(r, "frequency.txt", "1\n"),
        FormatError,
        ("frequency.txt", "1 Hz", "GHz"),
    ),
    "two frequencies": (
        lambda r, s, e: _write(r, "frequency.txt", "1e9\n2e9\n"),
        FormatError,
        ("frequency.txt", "one frequency", "2 values"),
    ),
    "real-only map": (
        lambda r, s, e: _save_map(r, e.real.copy()),
        FormatError,
        ("real", "complex"),
    ),
    "NaN outside the breast": (
        lambda r, s, e: _save_map(r, np.where(np.isclose(e, e[0, 0]), np.nan, e)),
        FormatError,
        ("NaN", "coupling medium"),
    ),
    "renamed variable": (
        lambda r, s, e: scipy.io.savemat(r / "data" / "input_forwardModel.mat", {"eps": e}),
        FormatError,
        ("input_forwardModel", "holds eps"),
    ),
    "non-square map transposed": (
        lambda r, s, e: [
            _save_map(r, e[10:200].T.copy()),
            _write(r, "yNodes.txt", _lines(_nodes(s, "y")[10:200])),
        ],
        FormatError,
        ("(225, 190)", "transposed"),
    ),
    "text in the node list": (
        lambda r, s, e: _write(r, "xNodes.txt", _lines(_nodes(s, "x")) + "\nend\n"),
        FormatError,
        ("xNodes.txt", "line 226", "'end'"),
    ),
    "no Configuration folder": (
        lambda r, s, e: shutil.rmtree(r / "Configuration"),
        MissingFileError,
        ("Configuration not found", "xNodes.txt"),
    ),
    "no frequency file": (
        lambda r, s, e: (r / "Configuration" / "frequency.txt").unlink(),
        MissingFileError,
        ("frequency.txt not found",),
    ),
}


@pytest.mark.parametrize("variant", REFUSED)
def test_variant_is_refused_naming_the_problem(variant, source, raw, tmp_path):
    edit, error, words = REFUSED[variant]
    root = _copy(source, tmp_path)
    edit(root, source, raw)
    with pytest.raises(error) as info:
        load_mwsegeval(root)
    for w in words:
        assert w in str(info.value)


def test_non_square_map_reads_and_builds_a_phantom(source, raw, raw_rec, tmp_path):
    root = _copy(source, tmp_path)
    _save_map(root, raw[10:200])
    _save_rec(root, raw_rec[10:200])
    _write(root, "yNodes.txt", _lines(_nodes(source, "y")[10:200]))
    ds = load_mwsegeval(root)
    assert ds["permittivity"].shape == (190, 225)
    assert float(ds["y"][0]) == pytest.approx(-0.051)
    np.testing.assert_array_equal(ds["permittivity"].values, raw[10:200])
    np.testing.assert_array_equal(ds["reconstructed_permittivity"].values, raw_rec[10:200])
    ph = mwsegeval_phantom(root)
    assert ph.permittivity(1e9).shape == (190, 225)


@pytest.mark.parametrize("variant", ["frequency in GHz, no unit", "nodes in mm, no unit"])
def test_cli_refuses_without_traceback_or_output(variant, source, raw, tmp_path):
    root = _copy(source, tmp_path)
    REFUSED[variant][0](root, source, raw)
    out = tmp_path / "fields.nc"
    run = subprocess.run(
        [sys.executable, "-m", "brim", "microwave", "simulate", f"mwsegeval:{root}", "-o",
         str(out), "--tx", "4", "--rx", "4"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "brim: error:" in run.stderr
    assert not out.exists()
    assert issubclass(REFUSED[variant][1], BrimError)


def test_one_cell_of_the_other_sign_does_not_flip_the_whole_map(source, reference, raw, tmp_path):
    # a reconstruction's noise may give a few cells eps'' < 0; the map keeps its convention
    root = _copy(source, tmp_path)
    noisy = raw.copy()
    noisy[5, 7] = np.conj(noisy[5, 7])
    _save_map(root, noisy)
    eps = load_mwsegeval(root)["permittivity"].values
    ref = reference["permittivity"].values
    assert eps[5, 7] == noisy[5, 7]
    eps[5, 7] = ref[5, 7]
    np.testing.assert_array_equal(eps, ref)


def test_cli_simulate_puts_the_map_on_the_grid_asked_for(source, tmp_path):
    """``--grid`` with ``mwsegeval:DIR`` was ignored: the fields came on the 225 x 225 map grid."""
    import brim

    out = tmp_path / "fields.nc"
    run = subprocess.run(
        [sys.executable, "-m", "brim", "microwave", "simulate", f"mwsegeval:{source}", "-o",
         str(out), "--tx", "4", "--rx", "8", "--grid", "48x48:0.12"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    ds = brim.open(out)
    assert ds.attrs["grid"] == "48x48:0.12"
    step = ds.brim.provenance[-1]
    assert step["parameters"]["grid"]["nx"] == 48 and step["parameters"]["grid"]["d"] == 0.0025
    again = subprocess.run(
        [sys.executable, "-m", "brim", "microwave", "simulate", str(out), "-o",
         str(tmp_path / "again.nc"), "--grid", "32x32:0.12"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode != 0 and "--grid does not apply" in again.stderr
    assert "Traceback" not in again.stderr and not (tmp_path / "again.nc").exists()


# --- the reconstruction (data/input_reconstructedModel.mat) --------------------------------


def test_the_reconstruction_reads_on_the_true_maps_grid(source, reference, raw, raw_rec):
    ds = reference  # load_mwsegeval(source): the real folder, both maps
    rec = ds["reconstructed_permittivity"]
    assert rec.dims == ("y", "x") and rec.attrs["units"] == "1"
    np.testing.assert_array_equal(rec.values, raw_rec)  # eps' - j eps'' as stored: unchanged
    np.testing.assert_array_equal(ds["permittivity"].values, raw)
    # the same breast: the coupling medium at the corners, the breast where the true map has
    # it (the CSI inversion blurs it: not equal, but correlated, r = 0.71; transposed 0.10)
    assert abs(rec.values[0, 0] - raw[0, 0]) < 0.05
    r = np.corrcoef(rec.values.real.ravel(), raw.real.ravel())[0, 1]
    r_transposed = np.corrcoef(rec.values.real.T.ravel(), raw.real.ravel())[0, 1]
    assert r > 0.6 and r_transposed < 0.3, (r, r_transposed)
    assert np.all(rec.values.imag <= 0)  # lossy in brim's convention


def test_a_reconstruction_in_the_other_sign_convention_is_conjugated(
    source, reference, raw_rec, tmp_path
):
    root = _copy(source, tmp_path)
    _save_rec(root, np.conj(raw_rec))  # eps' + j eps'', as some inversion codes write it
    ds = load_mwsegeval(root)
    np.testing.assert_array_equal(ds["reconstructed_permittivity"].values, raw_rec)


REC_REFUSED = {
    # variant: (edit of the reconstruction, words the message must hold)
    "real-only": (lambda e: e.real.copy(), ("input_reconstructedModel.mat", "real")),
    "NaN outside the breast": (
        lambda e: np.where(np.abs(e - e[0, 0]) < 0.05, np.nan, e),
        ("input_reconstructedModel.mat", "NaN", "the reconstruction needs"),
    ),
    "cropped": (lambda e: e[10:200].copy(), ("input_reconstructedModel.mat", "(190, 225)")),
    "transposed": (
        lambda e: e[10:200].T.copy(),
        ("input_reconstructedModel.mat", "(225, 190)", "does not match"),
    ),
}


@pytest.mark.parametrize("variant", REC_REFUSED)
def test_a_broken_reconstruction_is_refused_naming_its_file(variant, source, raw_rec, tmp_path):
    edit, words = REC_REFUSED[variant]
    root = _copy(source, tmp_path)
    _save_rec(root, edit(raw_rec))
    with pytest.raises(FormatError) as info:
        load_mwsegeval(root)
    for w in words:
        assert w in str(info.value), str(info.value)
    # the forward model alone still reads, and builds the phantom
    assert "reconstructed_permittivity" not in load_mwsegeval(root, reconstructed=False)
    assert mwsegeval_phantom(root).permittivity(1e9).shape == (225, 225)


def test_a_renamed_reconstruction_variable_is_named(source, raw_rec, tmp_path):
    root = _copy(source, tmp_path)
    scipy.io.savemat(root / "data" / "input_reconstructedModel.mat", {"eps_csi": raw_rec})
    with pytest.raises(FormatError, match="input_reconstructedModel.*holds eps_csi"):
        load_mwsegeval(root)


def test_without_the_reconstruction_file_the_true_map_reads_alone(source, reference, tmp_path):
    root = _copy(source, tmp_path)
    (root / "data" / "input_reconstructedModel.mat").unlink()
    ds = load_mwsegeval(root)
    assert "reconstructed_permittivity" not in ds
    np.testing.assert_array_equal(ds["permittivity"].values, reference["permittivity"].values)
    with pytest.raises(MissingFileError, match="input_reconstructedModel.mat not found"):
        load_mwsegeval(root, reconstructed=True)
