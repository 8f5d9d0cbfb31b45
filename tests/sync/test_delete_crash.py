"""kill -9 a ``soapbridge sync`` while it carries deletes; the rerun carries each delete once
and removes nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.emulators.kit.server import Faults
from bridge.store import Store

from .conftest import write_config

RECORDS = 300
DELETED = 100


def start_sync(config: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", "sync", "members", "--config", str(config), "--json",
         *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def carried(store: Store) -> int:
    integration = store.integrations.by_name("members")
    return sum(store.tombstones.outcomes(integration.id).values()) if integration else 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_while_carrying_deletes_then_rerun_carries_each_once(
    request, start_legacy, start_bigin, tmp_path, backend
):
    if backend == "sqlite":
        store_url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        store_url = str(request.getfixturevalue("postgres").create_database())
    legacy = start_legacy(records=RECORDS)
    bigin = start_bigin(records=0, faults=Faults(latency=0.03))
    config = write_config(
        tmp_path / "bridge.toml", store_url, legacy, bigin, "source-to-target", deletes="propagate"
    )
    first = start_sync(config)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert json.loads(out)["totals"]["created"] == RECORDS
    rows = legacy.app.store.all_records()
    gone = {r["externalId"] for r in rows[:: RECORDS // DELETED][:DELETED]}
    for row in rows:
        if row["externalId"] in gone:
            assert legacy.app.store.delete(row["entityId"])
    survivors = {r["externalId"] for r in rows} - gone

    store = Store(store_url)
    for at in (10, 45):
        process = start_sync(config, "--reconcile", "--confirm-deletes")
        deadline = time.monotonic() + 120
        while carried(store) < at:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no deletes were carried"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert 0 < carried(store) < DELETED  # it really stopped part-way

    final = start_sync(config, "--reconcile", "--confirm-deletes")
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err

    integration = store.integrations.by_name("members")
    assert integration is not None
    outcomes = store.tombstones.outcomes(integration.id)
    # One carried row per delete; a call cut off by the kill is repeated and finds nothing.
    assert sum(outcomes.values()) == DELETED
    assert set(outcomes) <= {"deleted", "gone"} and outcomes.get("gone", 0) <= 2
    bigin_keys = [r.get("External_ID") for r in bigin.app.store.select("Contacts")]
    assert len(bigin_keys) == len(set(bigin_keys))
    assert set(bigin_keys) == survivors  # every delete carried, nothing else removed
    assert store.links.count(integration.id) == RECORDS - DELETED
    again = start_sync(config, "--reconcile")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    totals = json.loads(out)["totals"]
    assert totals["deleted"] == totals["created"] == totals["updated"] == 0
    store.dispose()
