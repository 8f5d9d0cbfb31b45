"""BodyGuard and its deadlines on real socket pairs: slow bodies are cut, fast ones pass."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.request_guard import BodyGuard, Deadlines


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"got %d" % len(body)]


def refuse(environ: dict[str, Any], status: str, message: str) -> tuple[list[tuple[str, str]], bytes]:
    return [("Content-Type", "text/plain")], message.encode()


@pytest.fixture
def guard() -> Iterator[BodyGuard]:
    yield BodyGuard(
        echo_app, Deadlines(grace=0.3, timeout=1.2, slow_slots=1), max_bytes=1000, refuse=refuse
    )


def call(guard: BodyGuard, length: int, send: Any) -> tuple[str, bytes, float]:
    """POST a body of ``length`` bytes that ``send(client_socket)`` delivers."""
    server, client = socket.socketpair()
    environ = {
        "CONTENT_LENGTH": str(length),
        "wsgi.input": server.makefile("rb"),
        "gunicorn.socket": server,
        "PATH_INFO": "/",
    }
    sender = threading.Thread(target=send, args=(client,), daemon=True)
    sender.start()
    answer: dict[str, str] = {}
    started = time.monotonic()
    body = b"".join(guard(environ, lambda status, headers: answer.setdefault("status", status)))
    elapsed = time.monotonic() - started
    client.close()
    server.close()
    return answer["status"], body, elapsed


def trickle(stop: threading.Event) -> Any:
    def send(sock: socket.socket) -> None:
        try:
            while not stop.is_set():
                sock.sendall(b"x")
                time.sleep(0.05)
        except OSError:
            pass

    return send


def test_a_fast_body_reaches_the_app_whole(guard):
    status, body, _ = call(guard, 500, lambda sock: sock.sendall(b"y" * 500))
    assert (status, body) == ("200 OK", b"got 500")


def test_slow_bodies_get_one_slot_then_are_cut_at_the_grace(guard):
    stop = threading.Event()
    results: list[tuple[str, bytes, float]] = []
    first = threading.Thread(target=lambda: results.append(call(guard, 900, trickle(stop))))
    first.start()
    time.sleep(0.5)  # the first one now holds the only slow slot
    second = call(guard, 900, trickle(stop))
    first.join(timeout=10)
    stop.set()
    # No slot left: cut at the grace (0.3 s). The slot holder: cut at the timeout (1.2 s).
    assert second[0] == "408 Request Timeout" and second[2] < 1.0, second
    assert results[0][0] == "408 Request Timeout" and 1.0 < results[0][2] < 3.0, results
    # The slot is free again: a fast body passes, a slow one may take the slot.
    assert call(guard, 10, lambda sock: sock.sendall(b"z" * 10))[0] == "200 OK"


def test_a_client_hanging_up_mid_body_is_one_info_line(guard, caplog):
    def hang_up(sock: socket.socket) -> None:
        sock.sendall(b"partial")
        sock.close()

    with caplog.at_level(logging.INFO, logger="bridge.request_guard"):
        status, _, elapsed = call(guard, 900, hang_up)
    assert status == "400 Bad Request" and elapsed < 1.0
    records = [r for r in caplog.records if r.name == "bridge.request_guard"]
    assert [r.levelno for r in records] == [logging.INFO]
    assert "closed the connection after 7 of 900" in records[0].getMessage()
