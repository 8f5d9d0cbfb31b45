"""The emulators' HTTP server (an embedded granian worker) on a real loopback port."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bridge.emulators.kit.server import EmulatorServer, Faults

SLOW = 0.5


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Answers what it was sent: method, path, query, the declared length, the body's."""
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("the app failed")
    if path == "/slow":
        time.sleep(SLOW)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    answer = json.dumps(
        {
            "method": environ["REQUEST_METHOD"],
            "path": path,
            "query": environ["QUERY_STRING"],
            "declared": environ.get("CONTENT_LENGTH"),
            "received": len(body),
            "chunked": "HTTP_TRANSFER_ENCODING" in environ,
        }
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
    )
    return [answer]


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    running = EmulatorServer(echo, threads=4)
    yield running.start()
    running.stop()


def call(
    connection: http.client.HTTPConnection, method: str, path: str, body: Any = None, **kw: Any
) -> tuple[int, dict[str, Any]]:
    connection.request(method, path, body=body, **kw)
    response = connection.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else {}


def test_port_is_known_before_start_and_one_connection_serves_many_calls():
    server = EmulatorServer(echo)
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        server.start()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for n in range(3):
            status, seen = call(connection, "POST", f"/p?n={n}", body=b"x" * n)
            assert status == 200
            assert seen == {
                "method": "POST",
                "path": "/p",
                "query": f"n={n}",
                "declared": str(n),
                "received": n,
                "chunked": False,
            }
        assert connection.sock is not None  # kept alive: never reconnected in between
    finally:
        server.stop()


def test_a_chunked_body_reaches_the_app_whole_with_its_length(server: EmulatorServer):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = (b"y" * 1000 for _ in range(50))
    status, seen = call(connection, "POST", "/c", body=chunks, encode_chunked=True)
    assert status == 200
    assert seen["declared"] == "50000" and seen["received"] == 50000 and not seen["chunked"]


def test_a_large_body_arrives_whole(server: EmulatorServer):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    status, seen = call(connection, "PUT", "/big", body=b"z" * (20 * 1024 * 1024))
    assert status == 200 and seen["received"] == 20 * 1024 * 1024


def test_an_app_error_is_a_500_and_the_server_keeps_serving(server: EmulatorServer):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/boom")
    assert connection.getresponse().status == 500
    fresh = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    assert call(fresh, "GET", "/after")[0] == 200


def test_slow_calls_run_side_by_side(server: EmulatorServer):
    def slow(_: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        return call(connection, "GET", "/slow")[0]

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(slow, range(4))) == [200] * 4
    # One after another they take 4 x SLOW; four threads answer them together.
    assert time.monotonic() - started < 3 * SLOW


def test_with_faults_quick_calls_share_one_thread_and_slow_ones_run_side_by_side():
    faults = Faults()
    threads: set[int] = set()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        threads.add(threading.get_ident())
        faults.delay()
        return echo(environ, start_response)

    def one(path: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        status, seen = call(connection, "POST", path, body=b"abc")
        assert status != 200 or seen["received"] == 3  # the body arrives on every path
        return status

    server = EmulatorServer(app, threads=4, faults=faults).start()
    try:
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(one, ["/quick"] * 40)) == [200] * 40
        assert len(threads) == 1  # no latency: every call on the server's one thread
        faults.latency = SLOW  # set on the running server, as the console does
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(one, ["/slow-now"] * 4)) == [200] * 4
        assert time.monotonic() - started < 3 * SLOW  # not 4 x SLOW one after another
        assert len(threads) > 2
        assert one("/boom") == 500  # a failure on a pool thread is answered too
        faults.latency = 0.0
        assert one("/after") == 200
    finally:
        server.stop()


def test_stop_closes_kept_alive_connections_and_the_listener():
    server = EmulatorServer(echo).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    assert call(connection, "GET", "/first")[0] == 200
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    assert not any(t.name == f"emulator-{server.port}" for t in threading.enumerate())
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        call(connection, "GET", "/again")
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", server.port), timeout=2),
    ):
        pass
    server.stop()  # a second stop has nothing left to do


def test_ctrl_c_stops_a_foreground_emulator():
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "egito", "--port", "0", "--records", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["kind"] == "egito"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 1  # click's exit status for an interrupt
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
