"""One granian WSGI worker embedded in this process: the emulators' HTTP server.

granian (a maintained HTTP server written in Rust) parses HTTP, keeps connections alive
and calls the WSGI app on a pool of its own threads, for a fraction of the CPU per
request that waitress (pure Python) spent (figures: the commit that brought it in);
idle, it sleeps in the kernel. Its public entry points run it as the process (signals,
worker processes or free-threaded Python); tests and the demo need the server in a
background thread of their own process, calling an app object they hold. So this module
drives one of its workers directly, as granian's own spawners do (``granian.server.mp``),
over a listening socket made here. That is granian's internal interface: the version is
pinned in pyproject.toml, and this module is the only one that touches it
(tests/emulators/test_server.py exercises it).
"""

from __future__ import annotations

import io
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from granian import _granian as _native
from granian._futures import _new_cbscheduler
from granian._loops import loops
from granian.http import HTTP1Settings
from granian.wsgi import Response, ResponseIterWrap

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Runner = Callable[[Any, dict[str, Any]], int]
log = logging.getLogger(__name__)
BACKLOG = 1024
#: Requests a worker takes on at once before it stops accepting (granian's default is
#: the backlog; a loopback emulator never needs more than its clients' pools).
BACKPRESSURE = 256
#: Seconds an idle WSGI thread lingers before granian ends it (granian's bounds: 5-600).
THREAD_IDLE_TIMEOUT = 30
#: What granian's TLS settings read when TLS is off: (enabled, cert, key, password,
#: lowest protocol, CA, CRLs, verify clients).
NO_TLS: tuple[Any, ...] = (False, None, None, None, "tls1.3", None, [], False)
#: The compiled part, untyped here: its bundled stub lags behind its signatures.
_granian: Any = _native

_BASE_ENVIRON: dict[str, Any] = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "granian",
    "wsgi.errors": sys.stderr,
    "wsgi.input_terminated": True,
    "wsgi.multiprocess": False,
    "wsgi.multithread": True,
    "wsgi.run_once": False,
    "wsgi.version": (1, 0),
}


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (0 picks a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def wsgi_runner(app: WSGIApp) -> Callable[[Any, dict[str, Any]], int]:
    """What granian calls per request: the app with a WSGI environ, its answer sent back.

    granian's own runner copies the whole process environment into every environ; this
    one gives the WSGI keys only (an emulator has no use for the rest, and it is cheaper).
    """

    def run(proto: Any, scope: dict[str, Any]) -> int:
        response = Response()
        environ = _BASE_ENVIRON | scope
        if "CONTENT_LENGTH" not in environ and "HTTP_TRANSFER_ENCODING" in environ:
            # A chunked body, read whole here and handed on with its length, as waitress
            # (the emulators' first server) did: every app here reads by the length.
            read_whole(environ)
        body = app(environ, response)
        if isinstance(body, list):
            proto.response_bytes(response.status, response.headers, b"".join(body))
        else:
            proto.response_iter(response.status, response.headers, ResponseIterWrap(body))
        return int(response.status)

    return run


def read_whole(environ: dict[str, Any]) -> None:
    """Replace the environ's body stream with the whole body in memory, and its length."""
    data = environ["wsgi.input"].read()
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)


def offloading(run: Runner, offload: Callable[[], bool], pool: ThreadPoolExecutor) -> Runner:
    """``run`` on the calling thread, or on ``pool`` while ``offload()`` says so.

    granian answers a request when its protocol object is given a response, from any
    thread and after the call that received it has returned; so a call handed to the
    pool frees granian's thread at once. Its body is read before, on granian's thread:
    read from the pool's, it came back empty. A failure there is answered 500, as
    granian answers one on its own threads.
    """

    def answer_later(proto: Any, scope: dict[str, Any]) -> None:
        try:
            run(proto, scope)
        except Exception:
            log.exception("the app failed on %s", scope.get("PATH_INFO"))
            proto.response_bytes(500, [], b"")

    def dispatch(proto: Any, scope: dict[str, Any]) -> int:
        if offload():
            read_whole(scope)
            pool.submit(answer_later, proto, scope)
            return 0
        return run(proto, scope)

    return dispatch


class GranianWorker:
    """One granian worker serving ``app`` on ``sock`` until :meth:`stop`.

    granian calls the app on up to ``threads`` threads of its own; with ``offload``, on
    one only, and each call for which ``offload()`` is true goes on to one of ``threads``
    threads of a pool (see :func:`offloading`). One thread is the cheapest way through
    for calls that return at once: no hand-off between threads and no contention for
    the GIL (measured: the commit that brought it in).
    :meth:`run` blocks (call it on a thread of your own, or the main one); :meth:`stop`
    may come from any thread, before or after :meth:`run` started.
    """

    def __init__(
        self,
        app: WSGIApp,
        sock: socket.socket,
        *,
        threads: int,
        offload: Callable[[], bool] | None = None,
    ) -> None:
        self._app = app
        self._sock = sock
        self._threads = max(threads, 1)
        self._offload = offload
        self._pool: ThreadPoolExecutor | None = None
        self._signal = _granian.WorkerSignal()
        self._stopped = threading.Event()
        self._signal.add_cb(self._stopped.set)

    def run(self) -> None:
        loop = loops.get("asyncio")
        try:
            worker = _granian.WSGIWorker(
                1,  # worker id
                # granian closes the descriptor it is given when it stops: give it its own.
                (None, _granian.SocketHolder(os.dup(self._sock.fileno()), False, BACKLOG)),
                None,  # no IPC: no metrics collection
                1,  # runtime (I/O) threads: one does for loopback traffic
                512,  # runtime blocking threads (granian's default)
                self._threads if self._offload is None else 1,  # WSGI threads
                THREAD_IDLE_TIMEOUT,
                BACKPRESSURE,
                "1",  # HTTP/1.1 only
                HTTP1Settings(),
                None,  # no HTTP/2 settings
                None,  # no static files
                *NO_TLS,
                (None, None),  # no metrics
            )
            scheduler = _new_cbscheduler(loop, self._runner(), impl_asyncio=False)
            # Blocks outside Python until the signal (so no signal handler runs on this
            # thread meanwhile: EmulatorServer.serve_forever waits on another one).
            worker.serve_mtr(scheduler, loop, self._signal)
            self._stopped.wait()
        finally:
            loop.close()
            if self._pool is not None:
                # Calls still waiting there are answered to closed connections: none to wait for.
                self._pool.shutdown(wait=False, cancel_futures=True)

    def _runner(self) -> Runner:
        run = wsgi_runner(self._app)
        if self._offload is None:
            return run
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="emulator-call")
        return offloading(run, self._offload, self._pool)

    def stop(self) -> None:
        self._signal.set()
