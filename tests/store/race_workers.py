"""Code run in child processes by the concurrency tests (importable, so spawn can load it)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bridge.store import Store


def wait_for_all(barrier_dir: str, me: int, parties: int) -> None:
    """A file barrier: mark this process ready, then wait (bounded) until all are."""
    directory = Path(barrier_dir)
    (directory / f"ready-{me}").touch()
    deadline = time.monotonic() + 60
    while len(list(directory.glob("ready-*"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError("the other racer never showed up")
        time.sleep(0.002)


def allocate_entity_ids(
    url: str, barrier: Callable[[], None], seed: int, crm_ids: list[str]
) -> dict[str, int]:
    """Allocate ``crm_ids`` in shuffled batches of 20; the map this process was given."""
    store = Store(url)
    order = list(crm_ids)
    random.Random(seed).shuffle(order)
    result: dict[str, int] = {}
    barrier()
    for start in range(0, len(order), 20):
        result.update(store.entity_ids.allocate_many("site:1", order[start : start + 20]))
    store.dispose()
    return result


def count_under_lease(
    url: str, barrier: Callable[[], None], rounds: int, workdir: str
) -> tuple[int, int]:
    """``rounds`` times: take the lease, do a read-modify-write of a counter file, release.

    Inside the lease a marker file is created with O_EXCL: if two holders ever overlapped,
    the second creation fails and the overlap is counted. Returns (rounds done, overlaps).
    """
    store = Store(url)
    holder = f"pid-{os.getpid()}"
    counter = Path(workdir) / "counter"
    marker = Path(workdir) / "inside"
    done = overlaps = 0
    barrier()
    deadline = time.monotonic() + 60
    while done < rounds and time.monotonic() < deadline:
        if store.leases.acquire("integration:race", holder, timedelta(seconds=30)) is None:
            time.sleep(0.001)
            continue
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(fd)
        except FileExistsError:
            overlaps += 1
        value = int(counter.read_text())
        time.sleep(0.002)  # widen the window a lost update would need
        counter.write_text(str(value + 1))
        marker.unlink(missing_ok=True)
        assert store.leases.release("integration:race", holder)
        done += 1
    store.dispose()
    return done, overlaps


def migrate_and_ensure(url: str, barrier: Callable[[], None]) -> str:
    """What every process does at start-up: migrate, then ensure its integration exists."""
    store = Store(url)
    barrier()
    store.migrate()
    integration = store.integrations.ensure(
        "shared", source="legacy", target="bigin", direction="both"
    )
    store.dispose()
    return integration.id
