"""A new user's first mistakes give one ``brim: error:`` line, never a traceback or a partial file.

Found by trying brim as a first-time user (issue 18's review): an output on a file system that
refuses the write (full disk, read-only mount, /proc) crashed with a traceback; a picture written
when the disk fills was left truncated; a UserWarning raised in brim's code showed its Python
source line; ``brim fusion simulate --depth 0.015`` (m for mm) ran into a cryptic error.
"""

from __future__ import annotations

import argparse
import errno
import os
import warnings

import numpy as np
import pytest
import xarray as xr

import brim
from brim.cli import _cli_diagnostics, _dispatch, main


def _tiny() -> xr.Dataset:
    return xr.Dataset({"v": (("y", "x"), np.arange(16.0).reshape(4, 4))})


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_refused_write_is_one_line_naming_the_output(tmp_path, capsys, code):
    """A full disk or a read-only mount, met while saving: one line with ``-o``, status 2."""
    out = tmp_path / "result.nc"

    def command(args):
        brim.save(_tiny(), tmp_path / "ok.nc")  # a real write first, then the file system refuses
        tmp = tmp_path / ".result.brim-tmp-1-2-ab.nc"
        raise OSError(code, os.strerror(code), str(tmp))

    status = _dispatch(argparse.Namespace(output=str(out)), command)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("brim: error: cannot write -o ")
    assert str(out) in err and os.strerror(code) in err and "brim-tmp" not in err


def test_save_into_proc_is_one_line(capsys):
    """``-o /proc/x.nc``: /proc refuses new files (as root, past the up-front checks)."""
    status = _dispatch(
        argparse.Namespace(output="/proc/x.nc"), lambda a: brim.save(_tiny(), "/proc/x.nc")
    )
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("brim: error:") and err.count("\n") == 1
    assert "/proc/x.nc" in err


def test_another_os_error_is_not_hidden():
    """An OSError that is no refused write (a network error: a bug or a cluster) keeps its
    traceback."""

    def command(args):
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    with pytest.raises(ConnectionRefusedError):
        _dispatch(argparse.Namespace(output="x.nc"), command)


def test_plot_leaves_no_truncated_picture_when_the_write_fails(tmp_path, monkeypatch):
    """The disk fills while the PNG is written: no picture, no temporary left behind."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from brim.plotfile import plot_file

    src = tmp_path / "map.nc"
    brim.save(_tiny(), src)
    out = tmp_path / "map.png"

    def half_written(self, fname, **kw):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG\r\n")  # the first bytes, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(fname))

    monkeypatch.setattr(Figure, "savefig", half_written)
    with pytest.raises(OSError):
        plot_file(src, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.nc"]


def test_plot_still_writes_its_format(tmp_path):
    """The atomic write keeps the format of the suffix (the temporary's name ends in .nc)."""
    pytest.importorskip("matplotlib")
    from brim.plotfile import plot_file

    src = tmp_path / "map.nc"
    brim.save(_tiny(), src)
    plot_file(src, tmp_path / "map.pdf", dpi=30)
    assert (tmp_path / "map.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_user_warning_raised_in_brim_is_one_line():
    """A UserWarning from brim's own code (``check_so2`` in ``brim fusion convert``) is shown as
    ``brim: warning: ...`` without the Python source line; other libraries' keep theirs."""
    import brim.fusion.conversion as conversion

    with _cli_diagnostics(0):
        own = warnings.formatwarning("sO2 outside [0, 1]", UserWarning, conversion.__file__, 256)
        other = warnings.formatwarning("x", UserWarning, np.__file__, 1)
    assert own == "brim: warning: sO2 outside [0, 1]\n"
    assert not other.startswith("brim:")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--depth", "0.015"], ["--depth 0.015 mm", "give mm"]),
        (["--diameter", "0.01"], ["--diameter 0.01 mm", "give mm"]),
        (["--so2", "65"], ["--so2 65", "fraction"]),
        (["--depth", "5", "--diameter", "15"], ["through the surface", "over 7.5 mm"]),
    ],
)
def test_fusion_simulate_refuses_lengths_in_m(tmp_path, capsys, argv, words):
    """``--depth 0.015`` (metres typed for mm) said "lesion must lie below the surface"."""
    out = tmp_path / "sim"
    assert main(["fusion", "simulate", "-o", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and err.count("\n") == 1
    assert all(w in err for w in words), err
    assert not out.exists()


def test_plot_of_a_file_no_reader_opens_is_a_short_line_with_what_to_do(tmp_path, capsys):
    """``brim plot Im0.mat`` (a raw MAT-file) printed every reader's refusal on one line of
    ~1,500 characters; now a short line pointing to ``brim info`` and the convert commands."""
    junk = tmp_path / "raw.bin"
    junk.write_bytes(b"\x00\x01 raw samples of no known layout" * 8)
    out = tmp_path / "raw.png"
    assert main(["plot", str(junk), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brim: error:") and err.count("\n") == 1 and len(err) < 400, err
    assert f"brim info {junk}" in err and "convert" in err
    assert not out.exists()
