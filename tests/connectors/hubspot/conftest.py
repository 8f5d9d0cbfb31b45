"""Fixtures: the HubSpot emulator on loopback and a connector pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..harnesses import Started
from ..harnesses import hubspot as harness


@pytest.fixture
def start_hubspot() -> Iterator[Callable[..., Started]]:
    """``start_hubspot(records, emulator={...}, **settings)``; everything stops after the test."""
    started: list[Started] = []

    def start(records: int = 0, **options: Any) -> Started:
        running = harness.start(records, **options)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop()
