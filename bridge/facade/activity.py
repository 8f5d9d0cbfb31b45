"""What legacy consumers do with the facade, for the operator console: calls and faults.

:func:`record_activity` wraps the facade's WSGI app. It looks at the first few kilobytes
of each request as the facade reads them (for ``siteId`` and the operation, which the
contract puts before any record) and, for a fault, at the answer's fault text; it never
changes what the facade reads or answers. :class:`ActivityRecorder` adds the calls up in
memory and a background thread writes them to the store once a second, so a SOAP call
costs no database write of its own.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from bridge.model import utc_now
from bridge.store import Store
from bridge.store.repos.console import ActivityBatch, FacadeFault

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: How much of a request is kept to find siteId and the operation in.
HEAD_BYTES = 4096
FLUSH_SECONDS = 1.0
_SITE = re.compile(rb"<(?:[\w.-]+:)?siteId>\s*(-?\d{1,9})\s*</")
_OPERATION = re.compile(rb"<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?(\w{1,64})")
# SOAP 1.1 <faultstring>, SOAP 1.2 <soap:Reason><soap:Text>.
_FAULT = re.compile(rb"<(?:[\w.-]+:)?(?:faultstring|Text)\b[^>]*>(.*?)</", re.DOTALL)


class ActivityRecorder:
    """Per-process tallies of facade calls, written to the store in batches."""

    def __init__(self, store: Store, *, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._batch = _empty()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def record(self, site_id: int | None, operation: str, fault: str | None) -> None:
        now = utc_now()
        with self._lock:
            batch = self._batch
            if site_id is not None:
                batch.calls[site_id] = batch.calls.get(site_id, 0) + 1
                batch.last_call[site_id] = now
                if fault is not None:
                    batch.faults[site_id] = batch.faults.get(site_id, 0) + 1
            if fault is not None:
                batch.fault_rows.append(FacadeFault(site_id, operation, fault[:2000], now))
            if self._thread is None:
                # Started on first use, not when built: gunicorn forks after building once.
                self._thread = threading.Thread(
                    target=self._loop, name="facade-activity", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            batch, self._batch = self._batch, _empty()
        if not (batch.calls or batch.fault_rows):
            return
        try:
            self.store.facade_activity.add(batch)
        except Exception:  # the console's figures are not worth failing anything for
            log.exception("writing facade activity failed")

    def _loop(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()


def _empty() -> ActivityBatch:
    return ActivityBatch(calls={}, faults={}, last_call={}, fault_rows=[])


class _HeadInput:
    """``wsgi.input`` that keeps the first :data:`HEAD_BYTES` the app reads."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.head = b""

    def read(self, *args: Any) -> bytes:
        data: bytes = self._stream.read(*args)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def record_activity(app: WSGIApp, recorder: ActivityRecorder) -> WSGIApp:
    """``app`` with each POSTed SOAP call tallied by site, and its faults kept."""

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        tee = _HeadInput(environ["wsgi.input"])
        environ["wsgi.input"] = tee
        statuses: list[int] = []

        def seeing_start_response(status: str, *args: Any) -> Any:
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, *args)

        answer = app(environ, seeing_start_response)
        fault = None
        if statuses and statuses[-1] >= 400:
            # Faults are small; keep the answer whole to read its text, and send it as is.
            body = b"".join(answer)
            answer = [body]
            found = _FAULT.search(body)
            fault = html.unescape(found.group(1).decode("utf-8", "replace")) if found else "fault"
        site = _SITE.search(tee.head)
        operation = _OPERATION.search(tee.head)
        recorder.record(
            int(site.group(1)) if site else None,
            operation.group(1).decode() if operation else "unknown",
            fault,
        )
        return answer

    return recording
