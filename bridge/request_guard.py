"""What stands between a client's socket and the bridge's apps under ``soapbridge serve``.

**Slow bodies.** gunicorn's gthread worker reads a request body in the thread that runs
the app, so a client sending one byte every 100 ms holds a thread for as long as it
likes; two dozen of them held every thread of a two-worker server. :class:`BodyGuard`
reads the whole body before the app runs, under two deadlines kept by one watchdog
thread per process (:class:`Deadlines`): a body not complete after ``grace`` seconds
(default 2: a consumer on the same network sends megabytes in milliseconds) goes on
only if one of the worker's few *slow slots* is free (default: a quarter of its
threads), and then for ``timeout`` seconds at most (default 60). A body cut off gets
408 and the connection is closed: the watchdog shuts the socket for reading, which wakes
the blocked ``recv``. So slow senders hold at most the slow slots for long, and the
other threads keep serving. A client that hangs up mid-body is one INFO line.

**Slow headers.** :class:`GuardedThreadWorker` arms the same deadline when a request's
first byte arrives, so a client trickling its headers is cut (its connection closed) by
the same rules; the guard carries that deadline on through the body.

**Refusals before the app.** gunicorn answers a request line or headers past its limits
itself, with an HTML page; :class:`GuardedThreadWorker` answers those two in the API's
JSON error envelope (414 ``uri_too_long``, 431 ``headers_too_large``).
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import _DEFER, DEFAULT_WORKER_DATA_TIMEOUT, ThreadWorker

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: ``refuse(environ, status_line, message)`` -> (headers, body) in the caller's format.
Refuser = Callable[[dict[str, Any], str, str], tuple[list[tuple[str, str]], bytes]]
CHUNK = 64 * 1024


@dataclass(eq=False)
class _Ticket:
    sock: socket.socket | None
    started: float
    deadline: float
    slow: bool = False
    done: bool = False
    cut: bool = False


class Deadlines:
    """One watchdog thread per process: cuts body reads that outlive their deadline.

    It wakes at most every ``TICK`` seconds: every request arms a deadline and nearly all
    are disarmed long before it, so waking at each one would cost a thread switch per
    request; a cut a tenth of a second late costs nothing.
    """

    TICK = 0.1

    def __init__(self, *, grace: float = 2.0, timeout: float = 60.0, slow_slots: int = 2):
        self.grace = grace
        self.timeout = timeout
        self.slow_slots = slow_slots
        self._heap: list[tuple[float, int, _Ticket]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._slow_in_use = 0
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket | None) -> _Ticket:
        now = time.monotonic()
        ticket = _Ticket(sock, now, now + self.grace)
        with self._cond:
            if self._thread is None:
                # Started on first use: gunicorn builds the app before forking workers,
                # and a thread does not survive a fork.
                self._thread = threading.Thread(
                    target=self._watch, name="body-deadlines", daemon=True
                )
                self._thread.start()
            heapq.heappush(self._heap, (ticket.deadline, next(self._order), ticket))
            if self._heap[0][2] is ticket:
                self._cond.notify()  # the watchdog sleeps until a later deadline
        return ticket

    def disarm(self, ticket: _Ticket) -> None:
        with self._cond:
            if ticket.done:
                return
            ticket.done = True
            if ticket.slow:
                self._slow_in_use -= 1

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, _, ticket = heapq.heappop(self._heap)
                    if not ticket.done:
                        self._expire(ticket)
                wait = max(self._heap[0][0] - now, self.TICK) if self._heap else None
                self._cond.wait(wait)

    def _expire(self, ticket: _Ticket) -> None:
        if not ticket.slow and self._slow_in_use < self.slow_slots:
            ticket.slow = True
            self._slow_in_use += 1
            ticket.deadline = ticket.started + self.timeout
            heapq.heappush(self._heap, (ticket.deadline, next(self._order), ticket))
            return
        ticket.cut = True
        if ticket.sock is not None:
            # Wakes the thread blocked in recv() with an end of stream (OSError: the
            # client closed it already).
            with contextlib.suppress(OSError):
                ticket.sock.shutdown(socket.SHUT_RD)


@dataclass(frozen=True, eq=False)
class BodyGuard:
    """WSGI middleware: the request body read in full, within :class:`Deadlines`."""

    app: WSGIApp
    deadlines: Deadlines
    _: KW_ONLY
    # Larger declared bodies go to the app unread: it refuses them by their length.
    max_bytes: int
    refuse: Refuser

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # The worker armed the request's deadline when its first byte came (headers are
        # in now); the body read goes on under the same one.
        ticket = _REQUEST.__dict__.pop("ticket", None)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # the app refuses it as it sees fit
        if not chunked and (declared <= 0 or declared > self.max_bytes):
            if ticket is not None:
                self.deadlines.disarm(ticket)
            return self.app(environ, start_response)
        wanted = declared if not chunked else self.max_bytes + 1
        if ticket is None:
            ticket = self.deadlines.arm(environ.get("gunicorn.socket"))
        body, failure = b"", None
        try:
            body = _read(environ["wsgi.input"], wanted)
        except Exception as exc:  # whatever the transport raised, the body did not come
            failure = exc
        finally:
            self.deadlines.disarm(ticket)
        complete = len(body) == wanted or (chunked and failure is None)
        if ticket.cut and not complete:
            log.info(
                "request body too slow: %d of %s bytes in %.1f s; answered 408",
                len(body),
                declared if not chunked else "chunked",
                time.monotonic() - ticket.started,
            )
            return self._refuse(
                environ,
                start_response,
                "408 Request Timeout",
                "The request body was not received in time.",
            )
        if not complete:
            log.info(
                "client closed the connection after %d of %s body bytes (%s)",
                len(body),
                declared if not chunked else "chunked",
                type(failure).__name__ if failure else "end of stream",
            )
            return self._refuse(
                environ, start_response, "400 Bad Request", "The request body ended early."
            )
        environ["wsgi.input"] = io.BytesIO(body)
        # The app gets the length it can read, also for a chunked body past the limit (one
        # byte past it): every app refuses that by its length. Without a length, werkzeug
        # cut such a body silently at its app's limit and parsed the rest as the form.
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _refuse(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        status: str,
        message: str,
    ) -> list[bytes]:
        headers, body = self.refuse(environ, status, message)
        start_response(
            status,
            [*headers, ("Content-Length", str(len(body))), ("Connection", "close")],
        )
        return [body]


def _read(stream: Any, wanted: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < wanted:
        chunk = stream.read(min(CHUNK, wanted - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


#: The deadline the worker armed for the request its thread is reading.
_REQUEST = threading.local()


class GuardedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker with the request deadline running from the first byte.

    Headers, too, are read in the request's thread, so a client trickling its headers
    would hold a thread as a slow body does: the deadline (:class:`Deadlines`, the app's
    :class:`BodyGuard`'s) is armed once the connection has data, and the guard carries it
    on through the body. An over-long request line or header is answered in JSON.
    """

    def handle(self, conn: Any) -> Any:
        guard = self.wsgi
        if not isinstance(guard, BodyGuard):
            return super().handle(conn)
        # As gunicorn does: a connection without data goes back to the poller rather than
        # holding a thread; its deadline starts when its first byte arrives.
        fresh = not conn.initialized and not conn.data_ready
        if fresh and not conn.wait_for_data(DEFAULT_WORKER_DATA_TIMEOUT):
            return _DEFER
        ticket = guard.deadlines.arm(conn.sock)
        _REQUEST.ticket = ticket
        try:
            return super().handle(conn)
        finally:
            _REQUEST.__dict__.pop("ticket", None)
            guard.deadlines.disarm(ticket)

    _REFUSALS: dict[type[Exception], tuple[int, str, str, str]] = {
        LimitRequestLine: (
            414,
            "URI Too Long",
            "uri_too_long",
            "the request line (URL) is too long",
        ),
        LimitRequestHeaders: (
            431,
            "Request Header Fields Too Large",
            "headers_too_large",
            "the request headers are too large",
        ),
    }

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        refusal = self._REFUSALS.get(type(exc))
        if refusal is None:
            super().handle_error(req, client, addr, exc)
            return
        status, reason, code, message = refusal
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], code)
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        try:
            util.write_nonblock(client, head + body)
        except Exception:  # the client is gone; nothing to answer
            self.log.debug("Failed to send error message.")
