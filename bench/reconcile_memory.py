"""Reconciliation's peak memory: 10,000 vs 100,000 linked Bigin contacts.

For each size, a Bigin emulator (``soapbridge emulate bigin``, its own process) is seeded
with that many contacts, a SQLite store gets one id link per contact, and 1% of the
contacts are deleted at Bigin. Then a fresh process runs the reconciliation of the Bigin
side (``reconcile_side``: list every id into the store, let SQL find the linked records
that are gone, confirm each by a lookup, file tombstones) and reports its peak RSS and CPU
seconds. Memory is flat when the large run's peak stays within 1.25x of the small one's.

Run: python bench/reconcile_memory.py [--sizes 10000 100000] [--deleted 0.01]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.store import IdLink, Store
from bridge.store.repos.tombstones import TARGET, SideRef

TARGET_RSS = 1.25


@contextmanager
def bigin_emulator(records: int) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "bigin", "--port", "0",
         "--records", str(records), "--threads", "8"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)


def connection(table: dict[str, Any]) -> ConnectionConfig:
    settings = {k: v for k, v in table.items() if k != "kind"}
    settings["max_calls_per_second"] = 0
    return ConnectionConfig("bigin", "bigin", settings)


def prepare(table: dict[str, Any], url: str, deleted: float) -> tuple[str, int]:
    """Links for every contact, then delete a share at Bigin; (integration id, deleted)."""
    store = Store(url)
    store.migrate()
    integration = store.integrations.create("members")
    gone = 0
    with build_connector(connection(table)) as bigin:
        every = max(1, round(1 / deleted)) if deleted > 0 else 0
        index = 0
        for page in bigin.list_ids():
            store.links.save_many(
                integration.id,
                [IdLink(source_id=f"L{i}", target_id=i) for i in page.ids],
            )
            for record_id in page.ids:
                index += 1
                if every and index % every == 0:
                    bigin.delete(record_id)
                    gone += 1
    store.dispose()
    return integration.id, gone


def child(table_json: str, url: str, integration_id: str) -> None:
    from bridge.sync.reconcile import reconcile_side

    store = Store(url)
    with build_connector(connection(json.loads(table_json))) as bigin:
        filed = reconcile_side(store, SideRef(integration_id, TARGET, None, "bigin"), bigin)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "filed": filed,
                "rss_mb": usage.ru_maxrss / 1024,
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
        )
    )


def measure(records: int, deleted: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, bigin_emulator(records) as table:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        integration_id, gone = prepare(table, url, deleted)
        out = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(table), url, integration_id],
            capture_output=True,
            text=True,
            check=True,
        )
        result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
        result.update(records=records, deleted=gone)
        return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--deleted", type=float, default=0.01, help="share deleted at Bigin")
    args = parser.parse_args()
    small, large = (measure(n, args.deleted) for n in args.sizes)
    for run in (small, large):
        assert run["filed"] == run["deleted"], run
        print(
            f"{run['records']:>9,} linked: peak RSS {run['rss_mb']:7.1f} MB, "
            f"CPU {run['cpu_s']:6.1f} s ({run['records'] / run['cpu_s']:,.0f} ids/s), "
            f"{run['filed']:,} tombstones filed"
        )
    ratio = large["rss_mb"] / small["rss_mb"]
    verdict = "ok" if ratio <= TARGET_RSS else "OVER"
    print(f"peak RSS ratio {ratio:.2f}x (limit {TARGET_RSS}x): {verdict}")
    return 0 if ratio <= TARGET_RSS else 1


if __name__ == "__main__":
    sys.exit(main())
