"""Run an emulator's WSGI app as a real HTTP server on loopback.

Emulators are served by granian (a maintained HTTP server written in Rust, embedded by
:mod:`bridge.emulators.kit.granian_worker`) either in a background thread (tests, the
demo) or in the foreground (``soapbridge emulate``).
Shared fault injection (latency, a failure rate) and a small admin surface
(``/_emulator/stats``) live here so every emulator has them alike.
"""

from __future__ import annotations

import json
import math
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bridge.emulators.kit.granian_worker import GranianWorker, WSGIApp, listening_socket

STATS_PATH = "/_emulator/stats"


@dataclass(slots=True)
class Faults:
    """Fault injection shared by the emulators.

    ``fail_rate`` is the fraction of API calls answered with a server error;
    ``throttle_rate`` the fraction answered 429 with ``Retry-After: retry_after`` seconds
    (whole seconds on the wire: that is the form HTTP clients parse).
    """

    latency: float = 0.0
    fail_rate: float = 0.0
    seed: int = 7
    throttle_rate: float = 0.0
    retry_after: float = 1.0
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @classmethod
    def given(
        cls,
        faults: Faults | None,
        *,
        seed: int,
        throttle_rate: float | None = None,
        retry_after: float | None = None,
    ) -> Faults:
        """``faults`` (or new ones seeded with ``seed``) with the rates a builder was given."""
        faults = faults or cls(seed=seed)
        if throttle_rate is not None:
            faults.throttle_rate = throttle_rate
        if retry_after is not None:
            faults.retry_after = retry_after
        return faults

    def delay(self) -> None:
        if self.latency > 0:
            time.sleep(self.latency)

    def roll(self, rate: float | None = None) -> bool:
        """True when this call should fail (deterministic sequence for a given seed)."""
        threshold = self.fail_rate if rate is None else rate
        if threshold <= 0:
            return False
        with self._lock:
            return self._random.random() < threshold

    def throttled(self) -> bool:
        """True when this call should be answered 429 Too Many Requests."""
        return self.roll(self.throttle_rate) if self.throttle_rate > 0 else False

    def retry_after_header(self) -> str:
        return str(max(0, math.ceil(self.retry_after)))


class Stats:
    """Thread-safe counters an emulator exposes at ``/_emulator/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def incr(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[key] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def with_admin(app: WSGIApp, stats: Stats) -> WSGIApp:
    """Serve ``GET /_emulator/stats`` beside the app and count responses by status."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            body = json.dumps(stats.snapshot(), sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]

        def counting_start_response(status: str, headers: list[tuple[str, str]], *a: Any) -> Any:
            stats.incr(f"status_{status.split(' ', 1)[0]}")
            return start_response(status, headers, *a)

        stats.incr("requests")
        return app(environ, counting_start_response)

    return wrapped


class EmulatorServer:
    """A WSGI app listening on a loopback port, in a background thread until ``stop()``.

    The port is bound at construction (``url`` is known before ``start()``); ``threads``
    WSGI threads call the app, so that many slow calls run at once. Given the ``faults``
    the app injects, the server calls it on one thread while they add no latency (the
    cheapest way through for calls that return at once), and on one of ``threads`` while
    they do: read per call, so latency set on a running emulator takes effect at once.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        faults: Faults | None = None,
    ):
        self._socket = listening_socket(host, port)
        offload = None if faults is None else (lambda: faults.latency > 0)
        self._worker = GranianWorker(app, self._socket, threads=threads, offload=offload)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._worker.run, name=f"emulator-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve until ``stop()`` or Ctrl-C (then stopped cleanly, KeyboardInterrupt raised).

        The worker serves on its own thread: while granian runs it holds the thread that
        started it outside Python, where no signal handler runs; a join here is
        interrupted by one.
        """
        self.start()
        assert self._thread is not None
        try:
            self._thread.join()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving: the listener and every open (keep-alive) connection close."""
        if self._stopping:  # a second stop (a test's, then its fixture's) has nothing to do
            return
        self._stopping = True
        self._worker.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def print_connection_table(table: dict[str, Any]) -> None:
    """The first stdout line of ``soapbridge emulate``: a ready ``[connections.<name>]`` table."""
    sys.stdout.write(json.dumps(table) + "\n")
    sys.stdout.flush()
