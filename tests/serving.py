"""Waiting for a ``soapbridge serve`` that a test started to answer."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest
import requests


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
