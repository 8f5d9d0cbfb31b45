"""kill -9 a running ``soapbridge sync``; the reruns lose and duplicate nothing.

Two kinds of trial: kills at three fixed points of the checkpoint (on both databases, and
direction ``both``), and kills at seeded random moments in each direction, a moment being
"when the writer holds a random number of the records, plus a random fraction of a
second" (mid-batch, mid-checkpoint, or before anything was written). The seed is printed
and named in every failure; ``SOAPBRIDGE_CRASH_SEED=<seed>`` replays a failed trial.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.emulators.kit.server import Faults
from bridge.store import Store

from .conftest import write_config

RECORDS = 700


SEED_ENV = "SOAPBRIDGE_CRASH_SEED"


def start_sync(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", "sync", "members", "--config", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def offset_of(store: Store) -> int:
    integration = store.integrations.by_name("members")
    if integration is None:
        return -1
    checkpoint = store.checkpoints.get(integration.id, "source-to-target")
    if checkpoint is None or not checkpoint.position:
        return -1
    return int(checkpoint.position["resume"]["cursor"].get("offset", 0))


def kill_when(process: subprocess.Popen, store: Store, offset: int, extra: float) -> None:
    """SIGKILL once the checkpoint passed ``offset`` (plus ``extra`` seconds, mid-write)."""
    deadline = time.monotonic() + 120
    while offset_of(store) < offset:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.02)
    time.sleep(extra)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


# SQLite one way is the random trials' (below); these keep PostgreSQL and ``both``.
@pytest.mark.parametrize(
    ("backend", "direction"), [("postgresql", "source-to-target"), ("sqlite", "both")]
)
def test_kill_9_at_several_points_then_rerun_converges(
    request, start_legacy, start_bigin, tmp_path, backend, direction
):
    if backend == "sqlite":
        store_url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        store_url = str(request.getfixturevalue("postgres").create_database())
    legacy = start_legacy(records=RECORDS, faults=Faults(latency=0.03))
    bigin = start_bigin(records=0, faults=Faults(latency=0.02))
    config = write_config(tmp_path / "bridge.toml", store_url, legacy, bigin, direction)
    store = Store(store_url)
    store.migrate()
    # The last point leaves three pages or more, so the run cannot finish before its kill.
    for offset, extra in ((100, 0.0), (250, 0.05), (400, 0.07)):
        kill_when(start_sync(config), store, offset, extra)
    assert 0 < offset_of(store) < RECORDS  # it really stopped part-way
    final = start_sync(config)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    report = json.loads(out)
    assert report["totals"]["failed"] == 0

    bigin_rows = bigin.app.store.select("Contacts")
    keys = [r.get("External_ID") for r in bigin_rows]
    assert len(keys) == len(set(keys)) == RECORDS, "lost or duplicated on Bigin"
    legacy_rows = legacy.app.store.all_records()
    assert len(legacy_rows) == RECORDS, "duplicated on the legacy side"
    assert set(keys) == {r["externalId"] for r in legacy_rows}
    by_key = {r["External_ID"]: r for r in bigin_rows}
    for row in legacy_rows:
        assert by_key[row["externalId"]]["Email"] == row["emailAddress"]
    # A run after everything settled writes nothing.
    again = start_sync(config)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    totals = json.loads(out)["totals"]
    assert totals["created"] == totals["updated"] == 0
    store.dispose()


def crash_seed() -> int:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    print(f"crash trials: {SEED_ENV}={seed}")
    return seed


def kill_at_random(
    process: subprocess.Popen, held: Callable[[], int], target: int, extra: float
) -> bool:
    """SIGKILL once the writer holds ``target`` records, ``extra`` s later; True if it ran."""
    deadline = time.monotonic() + 120
    while held() < target and process.poll() is None:
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.01)
    time.sleep(extra)
    running = process.poll() is None
    if running:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    outcome = f"killed holding {held()}" if running else "finished first"
    print(f"  target {target} records + {extra:.2f} s: {outcome}")
    return running


RANDOM_RECORDS = 600
RANDOM_KILLS = 3


@pytest.mark.parametrize("direction", ["source-to-target", "target-to-source"])
def test_kill_9_at_seeded_random_moments_then_rerun_converges(
    start_legacy, start_bigin, tmp_path, direction
):
    seed = crash_seed()
    rng = random.Random(f"{seed}:{direction}")
    trial = f"{SEED_ENV}={seed} {direction}"
    # The reading side holds the records; writes are slowed so a run lasts a few seconds.
    if direction == "source-to-target":
        legacy = start_legacy(records=RANDOM_RECORDS, faults=Faults(latency=0.01))
        bigin = start_bigin(records=0, faults=Faults(latency=0.2))

        def held() -> int:
            return int(bigin.app.store.count("Contacts"))

    else:
        legacy = start_legacy(records=0, faults=Faults(latency=0.2))
        bigin = start_bigin(records=RANDOM_RECORDS, faults=Faults(latency=0.01))

        def held() -> int:
            return len(legacy.app.store.all_records())

    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    # Small batches: more writes, so more moments between a write and its checkpoint.
    small = {"batch_size": 20}
    config = write_config(
        tmp_path / "bridge.toml",
        store_url,
        legacy,
        bigin,
        direction,
        connections={"crm": small, "bigin": small},
    )
    killed = 0
    for _ in range(RANDOM_KILLS):
        # A target an earlier run already reached makes the moment a time after the
        # start instead: the resume's reading, its checkpoints, or a page sent again.
        target, soon, later = (
            rng.randrange(RANDOM_RECORDS),
            rng.uniform(0, 0.4),
            rng.uniform(0.8, 3),
        )
        extra = soon if target > held() else later
        killed += kill_at_random(start_sync(config), held, target, extra)
    assert killed, f"{trial}: every run finished before its kill"
    final = start_sync(config)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, f"{trial}: {err}"
    assert json.loads(out)["totals"]["failed"] == 0, trial

    bigin_rows = bigin.app.store.select("Contacts")
    legacy_rows = legacy.app.store.all_records()
    emails = Counter(r["Email"] for r in bigin_rows)
    legacy_emails = Counter(r["emailAddress"] for r in legacy_rows)
    assert len(bigin_rows) == len(legacy_rows) == RANDOM_RECORDS, f"{trial}: lost or duplicated"
    assert max(emails.values()) == max(legacy_emails.values()) == 1, f"{trial}: duplicated"
    assert set(emails) == set(legacy_emails), f"{trial}: the two sides hold different people"
    again = start_sync(config)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, f"{trial}: {err}"
    totals = json.loads(out)["totals"]
    assert totals["created"] == totals["updated"] == 0, f"{trial}: {totals}"
