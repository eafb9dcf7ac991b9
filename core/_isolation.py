"""Run a call in a child process that can be stopped, forked from a single-threaded server.

:func:`brim.parallel.map_files` stops a file that runs past its time limit by running it in a
child process and killing that child. Forking the child straight from the Dask worker is not
safe: the worker is multi-threaded (its event loop, the task thread, the profiler; with
``scheduler="threads"`` every worker shares one process), and a child forked while another
thread holds a lock (a stdio buffer, dask's config lock, a library's mutex) inherits the lock
held and waits for it for ever, so a healthy file "times out". POSIX allows a multi-threaded
process's child only async-signal-safe calls before ``exec`` (IEEE Std 1003.1, ``fork()``).

So each calling thread gets one server: a fresh interpreter started once (``subprocess``
forks and executes at once, which is safe), with only one thread. It receives a call, forks a
child that makes it, waits for the result under the time limit, kills the child when the time is
up, and answers. Forking from the server is safe. The call's modules (imported when the server
unpickles the call) and the modules each child imported (imported by the server after the
child) are inherited by every later child: past the first file, a file costs 0.19 s instead of
1.6 s for a child forked cold (``brim batch validate`` on a bundled sample, 2-core machine). A
server that an import has given a thread retires after its answer.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.machinery
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

_HEADER = struct.Struct("<Q")
_SERVE = (
    "import sys; from brim._isolation import _serve; _serve(int(sys.argv[1]), int(sys.argv[2]))"
)
_GRACE = 60.0
"""Seconds the caller waits for the server beyond the time limit before it gives the server up
(the server answers within moments of the limit, or of its warm-up imports after a file; only a
server that hangs uses them all)."""


def _send(fh: BinaryIO, data: bytes) -> None:
    fh.write(_HEADER.pack(len(data)) + data)
    fh.flush()


def _recv(fh: BinaryIO) -> bytes | None:
    """One message, or None at the end of the stream (the other side has gone)."""
    head = fh.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (n,) = _HEADER.unpack(head)
    data = fh.read(n)
    return data if len(data) == n else None


def _read(fd: int, deadline: float, n: int | None = None) -> bytes | None:
    """``n`` bytes from ``fd`` (None: everything until it is closed).

    None when ``deadline`` (``time.monotonic``) passes first, or when the pipe closes before
    ``n`` bytes came.
    """
    chunks: list[bytes] = []
    got = 0
    while n is None or got < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(fd, 1 << 16 if n is None else n - got)
            if not chunk:
                return b"".join(chunks) if n is None else None
            chunks.append(chunk)
            got += len(chunk)
    return b"".join(chunks)


def _fork_and_wait(func: Callable, args: tuple, timeout: float) -> tuple[tuple[str, Any], list]:
    """Make ``func(*args)`` in a forked child; in the server, whose only thread this is.

    Returns the reply, ``("ok", value)``, ``("error", message)`` when the call could not be made
    or its value sent, ``("timeout", None)`` or ``("died", why)``, and the names of the modules
    the child imported.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: make the call, send its value, never return into the server
        code = 1
        try:
            os.close(rfd)
            before = set(sys.modules)
            try:
                reply: tuple[str, Any] = ("ok", func(*args))
                sent = pickle.dumps((reply, sorted(set(sys.modules) - before)))
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                sent = pickle.dumps((("error", f"{type(exc).__name__}: {exc}"), []))
            with os.fdopen(wfd, "wb") as fh:
                fh.write(sent)
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    data = None
    try:
        data = _read(rfd, time.monotonic() + timeout)
    finally:
        os.close(rfd)
        if data is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - it finished just now
                pass
        _, status = os.waitpid(pid, 0)
    if data is None:
        return ("timeout", None), []
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - nothing (or half a reply) came: the child died
        code = os.waitstatus_to_exitcode(status)
        return ("died", f"signal {-code}" if code < 0 else f"exit status {code}"), []


def _warm(modules: list) -> bool:
    """Import in the server the modules a child imported, so later children inherit them.

    A brim pipeline's first file imports its I/O stack (xarray's backends, netCDF, dask):
    about 1.5 s that every child would pay again. Returns False when an import started a
    thread: the server is then no longer safe to fork from, and retires.
    """
    for name in modules:
        if name in sys.modules or name.startswith("__"):  # done, or __main__ / __mp_main__
            continue
        try:
            importlib.import_module(name)
        except (Exception, SystemExit):  # noqa: BLE001 - e.g. a module made at run time
            pass
    return threading.active_count() == 1


def _serve(req_fd: int, resp_fd: int) -> None:
    """The server's loop: one call per message, with the caller's ``sys.path`` at that time
    (a notebook may add a folder between two batches).

    SIGTERM (the caller closing it) and Ctrl-C end the server quietly; a child still running
    is killed on the way out (``_fork_and_wait``'s cleanup), so no stuck child outlives it.
    """

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        _serve_loop(req_fd, resp_fd)
    except KeyboardInterrupt:  # the caller's Ctrl-C reaches its whole process group
        pass


def _serve_loop(req_fd: int, resp_fd: int) -> None:
    with os.fdopen(req_fd, "rb") as requests, os.fdopen(resp_fd, "wb") as replies:
        while (message := _recv(requests)) is not None:
            timeout, path, payload = pickle.loads(message)
            sys.path[:] = path
            try:
                func, args = pickle.loads(payload)  # imports the call's modules, once
            except Exception as exc:  # noqa: BLE001 - e.g. a module only the caller has
                reply: tuple[str, Any] = (
                    "error",
                    f"the call cannot be loaded in a worker process: {type(exc).__name__}: {exc}",
                )
                safe = True
            else:
                reply, modules = _fork_and_wait(func, args, timeout)
                safe = _warm(modules)
            _send(replies, pickle.dumps((reply, safe)))
            if not safe:
                return


class _Server:
    """One server process and the two pipes to it."""

    def __init__(self) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        try:
            # the caller's sys.path as PYTHONPATH: brim itself may be importable only through a
            # folder the caller added (a source checkout in a notebook)
            path = os.pathsep.join(p for p in sys.path if p)
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(req_r), str(resp_w)],
                pass_fds=(req_r, resp_w),
                env={**os.environ, "PYTHONPATH": path},
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.requests = os.fdopen(req_w, "wb")
        self.replies_fd = resp_r
        self._closing = threading.Lock()

    def call(self, payload: bytes, timeout: float) -> tuple[tuple[str, Any], bool] | None:
        """The reply and whether the server stays safe to use, or None when it has gone (it is
        then closed)."""
        try:
            _send(self.requests, pickle.dumps((timeout, list(sys.path), payload)))
            head = _read(self.replies_fd, time.monotonic() + timeout + _GRACE, _HEADER.size)
            if head is not None:
                (n,) = _HEADER.unpack(head)
                body = _read(self.replies_fd, time.monotonic() + _GRACE, n)
                if body is not None:
                    return pickle.loads(body)
        except (OSError, ValueError, pickle.UnpicklingError):  # ValueError: closed meanwhile
            pass
        except BaseException:  # Ctrl-C while waiting: the reply would come to the next call
            self.close()
            raise
        self.close()
        return None

    def close(self) -> None:
        """Stop the server, and the child it may be running (idempotent, thread-safe).

        An idle server exits when its request pipe closes; a busy one is sent SIGTERM, on
        which it kills its child and exits; one that does not is killed.
        """
        with self._closing:
            if self.replies_fd < 0:
                return
            try:
                self.requests.close()
            except OSError:  # pragma: no cover - the pipe is already broken
                pass
            try:
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:  # busy with a call: stop it and its child
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:  # pragma: no cover - a server stuck in C
                    self.process.kill()
                    self.process.wait()
            os.close(self.replies_fd)
            self.replies_fd = -1


_servers: dict[int, _Server] = {}
_servers_lock = threading.Lock()


def _importable(name: str) -> bool:
    """Whether a fresh interpreter on this ``sys.path`` can import module ``name``."""
    top = name.partition(".")[0]
    if top in sys.builtin_module_names:
        return True
    return importlib.machinery.PathFinder.find_spec(top, sys.path) is not None


def _dumps(func: Callable, args: tuple) -> bytes:
    """``(func, args)`` pickled with cloudpickle for the server.

    cloudpickle sends a function by reference (module and name) unless it lives in
    ``__main__``. A module the caller loaded from a file without its folder on ``sys.path``
    (pytest's importlib mode, ``importlib.util.spec_from_file_location``) cannot be imported by
    the server, so the functions of such a module travel by value.
    """
    import cloudpickle

    modules = {getattr(obj, "__module__", None) for obj in (func, *args) if callable(obj)} - {
        None,
        "__main__",
    }
    by_value = [sys.modules[m] for m in modules if m in sys.modules and not _importable(str(m))]
    for module in by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps((func, args))
    finally:
        for module in by_value:
            cloudpickle.unregister_pickle_by_value(module)


def call_with_timeout(func: Callable, args: tuple, timeout: float) -> tuple[str, Any]:
    """Make ``func(*args)`` in a child process that is killed after ``timeout`` seconds.

    The call is sent with ``cloudpickle`` (so functions defined in ``__main__`` or a notebook
    travel by value) to this thread's server, which forks the child (POSIX only).

    Parameters
    ----------
    func : callable
        The call; its value must be picklable.
    args : tuple
        Its positional arguments.
    timeout : float
        Seconds it may take.

    Returns
    -------
    tuple of (str, object)
        ``("ok", value)``; ``("error", message)`` when the call raised, or could not be sent or
        loaded; ``("timeout", None)``; or ``("died", why)`` when the child (or the server) died.
    """
    try:
        payload = _dumps(func, args)
    except Exception as exc:  # noqa: BLE001 - e.g. a closure over an open file or a lock
        return "error", f"the call cannot be sent to a worker process: {type(exc).__name__}: {exc}"
    me = threading.get_ident()
    with _servers_lock:
        server = _servers.get(me)
    if server is None or server.process.poll() is not None:
        server = _Server()
        with _servers_lock:
            _servers[me] = server
    answer = server.call(payload, timeout)
    if answer is None or not answer[1]:  # gone, or it retires: the next call starts another
        with _servers_lock:
            _servers.pop(me, None)
        server.close()
    if answer is None:
        code = server.process.returncode
        return "died", "its server process stopped" + (f" (exit status {code})" if code else "")
    return answer[0]


def shutdown() -> None:
    """Stop every server this process started (they also stop when this process exits)."""
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.close()


atexit.register(shutdown)
