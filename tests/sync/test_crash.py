"""kill -9 a running ``soapbridge sync`` at several points; the reruns lose and duplicate nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.emulators.server import Faults
from bridge.store import Store

from .conftest import write_config

RECORDS = 1000


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


@pytest.mark.parametrize(
    ("backend", "direction"),
    [("sqlite", "source-to-target"), ("postgresql", "source-to-target"), ("sqlite", "both")],
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
    for offset, extra in ((100, 0.0), (400, 0.07), (700, 0.13)):
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
