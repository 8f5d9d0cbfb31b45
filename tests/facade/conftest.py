"""Fixtures: the facade served on loopback over a CRM emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .harness import FacadeStarter, RunningFacade


@pytest.fixture
def start_facade() -> Iterator[Callable[..., RunningFacade]]:
    """``start_facade(kind, records=N, **facade_options)``; everything stops after the test."""
    starter = FacadeStarter()
    yield starter
    starter.stop()
