"""Fixtures for the connector battery: start a harness, stop it after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .harnesses import Harness, Started


@pytest.fixture
def start_harness() -> Iterator[Callable[..., Started]]:
    """``start_harness(harness, records=..., **faults)``; everything started stops after."""
    started: list[Started] = []

    def start(harness: Harness, records: int = 0, **options: Any) -> Started:
        running = harness.start(records, **options)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop()
