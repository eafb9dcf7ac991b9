"""The per-file child of ``brim batch``: forked safely, and every way it can end is reported.

The child used to be forked straight from the (multi-threaded) Dask worker; a lock another
thread held at that moment stayed held in the child for ever, and a healthy file was reported
as timed out. It is now forked by a single-threaded server (:mod:`brim._isolation`).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the per-file timeout forks")

SAMPLE = str(Path(__file__).resolve().parents[2] / "data_samples" / "thermo_phantom_tumour.nc")

_MODULE = """
import threading

import numpy as np
import xarray as xr

LOCK = threading.Lock()


def needs_the_lock(path):
    with LOCK:
        return xr.Dataset({"a": ("x", np.arange(3.0))})
"""


def test_a_lock_held_by_another_thread_does_not_stall_the_file(tmp_path, monkeypatch):
    """Another thread of the worker holds a lock the pipeline takes: the file still finishes.

    With a fork from the worker, the child inherits the lock held and waits until the timeout.
    """
    from brim.parallel import _run_one

    (tmp_path / "brim_lock_pipeline.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import brim_lock_pipeline as mod

    held, release = threading.Event(), threading.Event()

    def hold():
        with mod.LOCK:
            held.set()
            release.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        rec = _run_one(mod.needs_the_lock, SAMPLE, str(tmp_path / "o.nc"), {}, 20.0)
    finally:
        release.set()
        holder.join()
    assert rec.status == "ok", rec.error
    assert rec.seconds < 20


def _killed(path):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_that_is_killed_is_reported_with_the_signal(tmp_path):
    from brim.parallel import _run_one

    rec = _run_one(_killed, SAMPLE, str(tmp_path / "o.nc"), {}, 60.0)
    assert rec.status == "error"
    assert rec.error == f"the process working on this file died (signal {int(signal.SIGKILL)})"
    assert not (tmp_path / "o.nc").exists()


def test_a_pipeline_that_cannot_be_sent_is_reported_not_raised(tmp_path):
    from brim.parallel import _run_one

    lock = threading.Lock()

    def closes_over_a_lock(path):
        with lock:
            pass

    rec = _run_one(closes_over_a_lock, SAMPLE, str(tmp_path / "o.nc"), {}, 60.0)
    assert rec.status == "error"
    assert "cannot be sent to a worker process" in rec.error and "lock" in rec.error


def test_the_servers_stop_when_asked(tmp_path):
    from brim import _isolation
    from brim.parallel import _run_one

    rec = _run_one("validate", SAMPLE, str(tmp_path / "o.nc"), {}, 60.0)
    assert rec.status == "ok", rec.error
    processes = [s.process for s in _isolation._servers.values()]
    assert processes and all(p.poll() is None for p in processes)
    _isolation.shutdown()
    assert not _isolation._servers
    assert all(p.poll() is not None for p in processes)


_WARM_MODULE = """
import sys
import threading
import time

import brim


def reads(path):
    warm = "h5netcdf" in sys.modules  # imported by brim.open, not by import brim
    ds = brim.open(path)
    ds.attrs["h5netcdf_at_start"] = int(warm)
    return ds


def starts_a_thread(path):
    import brim_thread_at_import  # noqa: F401

    return brim.open(path)
"""


def test_later_files_inherit_the_modules_the_first_imported(tmp_path, monkeypatch):
    """The server imports what a file's child imported, so the next child starts warm
    (the first file of a batch pays the I/O stack's imports, about 1.5 s, once)."""
    import brim
    from brim import _isolation
    from brim.parallel import _run_one

    _isolation.shutdown()
    (tmp_path / "brim_warm_pipeline.py").write_text(_WARM_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import brim_warm_pipeline as mod

    for i in range(2):
        rec = _run_one(mod.reads, SAMPLE, str(tmp_path / f"o{i}.nc"), {}, 60.0)
        assert rec.status == "ok", rec.error
    assert brim.open(tmp_path / "o0.nc").attrs["h5netcdf_at_start"] == 0
    assert brim.open(tmp_path / "o1.nc").attrs["h5netcdf_at_start"] == 1
    _isolation.shutdown()


def test_a_server_that_gained_a_thread_retires(tmp_path, monkeypatch):
    """A module that starts a thread when imported would make the server unsafe to fork from:
    the server answers, then stops, and the next file gets a fresh one."""
    from brim import _isolation
    from brim.parallel import _run_one

    _isolation.shutdown()
    (tmp_path / "brim_warm_pipeline2.py").write_text(_WARM_MODULE)
    (tmp_path / "brim_thread_at_import.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import brim_warm_pipeline2 as mod

    rec = _run_one(mod.reads, SAMPLE, str(tmp_path / "a.nc"), {}, 60.0)
    assert rec.status == "ok", rec.error
    first = next(iter(_isolation._servers.values())).process
    rec = _run_one(mod.starts_a_thread, SAMPLE, str(tmp_path / "b.nc"), {}, 60.0)
    assert rec.status == "ok", rec.error
    assert first.poll() is not None and not _isolation._servers
    rec = _run_one(mod.reads, SAMPLE, str(tmp_path / "c.nc"), {}, 60.0)
    assert rec.status == "ok", rec.error
    assert next(iter(_isolation._servers.values())).process.pid != first.pid
    _isolation.shutdown()


def test_a_module_on_a_path_added_after_the_server_started(tmp_path, monkeypatch):
    """The caller's sys.path travels with every call (a notebook adds folders as it goes)."""
    from brim import _isolation
    from brim.parallel import _run_one

    rec = _run_one("validate", SAMPLE, str(tmp_path / "a.nc"), {}, 60.0)
    assert rec.status == "ok", rec.error
    server = next(iter(_isolation._servers.values())).process
    late = tmp_path / "late"
    late.mkdir()
    (late / "brim_late_pipeline.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(late))
    import brim_late_pipeline as mod

    rec = _run_one(mod.needs_the_lock, SAMPLE, str(tmp_path / "b.nc"), {}, 60.0)
    assert rec.status == "ok", rec.error
    assert next(iter(_isolation._servers.values())).process is server
    _isolation.shutdown()


def _writes_pid_and_hangs(path, pid_file):
    from pathlib import Path as P

    P(pid_file).write_text(str(os.getpid()))
    import time

    time.sleep(600)


def test_stopping_a_busy_server_stops_its_child(tmp_path):
    """``shutdown`` while a file is running (a notebook's batch interrupted, the kernel
    restarting) must not leave the file's child behind, stuck."""
    from brim import _isolation
    from brim.parallel import _run_one

    pid_file = tmp_path / "child.pid"
    result = {}

    def run():
        result["rec"] = _run_one(
            _writes_pid_and_hangs, SAMPLE, str(tmp_path / "o.nc"), {"pid_file": str(pid_file)}, 300
        )

    caller = threading.Thread(target=run)
    caller.start()
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        caller.join(0.1)
    assert pid_file.exists(), result.get("rec")  # the file's child never started
    child = int(pid_file.read_text())
    os.kill(child, 0)  # running
    _isolation.shutdown()
    caller.join(30)
    assert not caller.is_alive()
    assert result["rec"].status == "error" and "died" in result["rec"].error
    for _ in range(50):  # the child is killed by the server on its way out
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        caller.join(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the file's child outlived its server")


def test_a_pipeline_from_a_module_loaded_by_file_path(tmp_path):
    """A module loaded from its file, its folder not on sys.path (``spec_from_file_location``,
    pytest's importlib mode), cannot be imported by the server: its functions travel by value.
    Before, the file failed with "the call cannot be loaded in a worker process"."""
    import importlib.util
    import sys

    from brim.parallel import _run_one

    path = tmp_path / "hidden" / "brim_file_pipeline.py"
    path.parent.mkdir()
    path.write_text(
        "import numpy as np\nimport xarray as xr\n\n\n"
        "def makes(path):\n    return xr.Dataset({'a': ('x', np.arange(3.0))})\n"
    )
    spec = importlib.util.spec_from_file_location("brim_file_pipeline", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["brim_file_pipeline"] = mod
    try:
        spec.loader.exec_module(mod)
        rec = _run_one(mod.makes, SAMPLE, str(tmp_path / "o.nc"), {}, 60.0)
    finally:
        del sys.modules["brim_file_pipeline"]
    assert rec.status == "ok", rec.error
