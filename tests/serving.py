"""A ``soapbridge serve`` that a test starts: a free port, its config's tables, waiting for it."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pytest
import requests


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def toml_lines(values: Mapping[str, Any], *, skip: Collection[str] = ()) -> str:
    """``key = value`` lines of a TOML table (each value written as JSON, which TOML reads alike)."""
    return "\n".join(f"{key} = {json.dumps(value)}" for key, value in values.items() if key not in skip)


def serve_tables(store_url: str, port: int, **server: Any) -> str:
    """The ``[store]`` and ``[server]`` tables of a two-worker ``soapbridge serve`` on ``port``."""
    listen = {"host": "127.0.0.1", "port": port, "workers": 2, **server}
    return f"[store]\nurl = {json.dumps(store_url)}\n\n[server]\n{toml_lines(listen)}\n\n"


def wait_until_serving(
    process: subprocess.Popen[bytes],
    probe_url: str,
    on_failure: Callable[[], str],
    *,
    timeout: float = 60.0,
) -> None:
    """Return once ``probe_url`` answers 200. If the server dies or the time runs out, call
    ``on_failure`` (it stops what the test started and returns the server's output) and fail.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(probe_url, timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or a worker still booting on a loaded machine
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"soapbridge serve did not start:\n{on_failure()[-3000:]}")
        time.sleep(0.2)


def kill_and_read(process: subprocess.Popen[bytes]) -> str:
    """Kill a server started with ``stdout=PIPE`` and return what it printed."""
    process.kill()
    return process.stdout.read().decode(errors="replace") if process.stdout else ""
