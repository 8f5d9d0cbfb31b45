"""The store's work per page of a sync, in this process: CPU per contact, beside SQLite's own.

A real :class:`~bridge.sync.passes.DirectionPass` (with its feed screen and job) syncs
100-contact pages into a SQLite store from a reader that hands over ready pages, to a
writer that answers at once, with a comparer that reads one field: what is left is the
pass's store work per page (the screen and link look-ups, the links saved, the checkpoint
and the job counts, the commits) and the little Python around it. Three kinds of page:
fresh (every link new, as in a first full sync), changed (every link updated) and
unchanged (nothing written).

Beside each, the **limit**: the same SQL (look-ups, INSERT/UPDATE of the links, the
checkpoint upsert, the job counts, one read and one write transaction per page) run by
the sqlite3 module alone on a fresh store of the same schema, in the same run. The ratio
is what SQLAlchemy and the pass add to the database's own work.

Run: python bench/sync_store.py [--pages 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.connectors.base import Page, Position, UpsertOutcome, UpsertStatus
from bridge.model import Contact
from bridge.store import Store
from bridge.sync.deletes import FeedScreen, side_refs
from bridge.sync.fieldmap import FieldMap
from bridge.sync.passes import DirectionPass, PassOptions

SIZE = 100
KINDS = ("fresh", "changed", "unchanged")


class Side:
    """A connector reduced to what a pass asks of it: its system, and upserts answered at once."""

    overlap = 0

    def __init__(self, system: str) -> None:
        self.system = system

    def upsert(self, contacts: list[Contact]) -> list[UpsertOutcome]:
        return [UpsertOutcome(UpsertStatus.UPSERTED, id=f"B{c.external_id}") for c in contacts]


def pages(count: int, generation: int) -> list[Page]:
    now = datetime.now(UTC)
    return [
        Page(
            [
                Contact(
                    external_id=f"{n}-{i}",
                    email=f"p{n}-{i}@example.com",
                    ids={"legacy": f"{n * SIZE + i}"},
                    first_name=f"g{generation}",
                    updated_at=now,
                )
                for i in range(SIZE)
            ],
            Position(since=None, cursor={"offset": (n + 1) * SIZE}),
            more=True,
        )
        for n in range(count)
    ]


def cpu_per_contact(contacts: int, run: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """This process's CPU microseconds per contact of ``run(*args, **kwargs)``."""
    started = time.process_time()
    run(*args, **kwargs)
    return (time.process_time() - started) / contacts * 1e6


def engine_round(store: Store, count: int, name: str) -> list[float]:
    integration = store.integrations.create(name).id
    job = store.jobs.create(integration, direction="source-to-target").id
    store.jobs.start(job)
    reader, writer = Side("legacy"), Side("bigin")
    source, target = side_refs(integration, reader, writer, None, None)  # type: ignore[arg-type]
    one = DirectionPass(
        store=store,
        integration_id=integration,
        direction="source-to-target",
        reader=reader,  # type: ignore[arg-type]
        writer=writer,  # type: ignore[arg-type]
        compare=lambda contact: f"digest-{contact.first_name}",  # type: ignore[arg-type]
        fieldmap=FieldMap(),
        options=PassOptions(workers=1),
        job_id=job,
        screen=FeedScreen(store, source, target),
    )
    figures = []
    for fresh, generation in ((True, 0), (False, 1), (False, 1)):
        feed = pages(count, generation)
        figures.append(cpu_per_contact(count * SIZE, one.sync_pages, feed, fresh=fresh))
    assert store.links.count(integration) == count * SIZE
    return figures


LOOKUP_TOMBSTONES = (
    "SELECT record_id FROM tombstones WHERE integration_id = ? AND side = ? "
    "AND record_id IN (SELECT value FROM json_each(?))"
)
LOOKUP_LINKS = (
    "SELECT source_id, target_id, external_id, email, source_hash, target_hash, created_at, "
    "updated_at FROM id_links WHERE integration_id = ? AND source_id IN "
    "(SELECT value FROM json_each(?))"
)
LOOKUP_ROWS = (
    "SELECT id, source_id, target_id, external_id, email, source_hash, target_hash FROM "
    "id_links WHERE integration_id = ? AND source_id IN (SELECT value FROM json_each(?)) UNION "
    "SELECT id, source_id, target_id, external_id, email, source_hash, target_hash FROM "
    "id_links WHERE integration_id = ? AND target_id IN (SELECT value FROM json_each(?))"
)
INSERT_LINK = (
    "INSERT INTO id_links (integration_id, source_id, target_id, external_id, email, "
    "source_hash, target_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_LINK = (
    "UPDATE id_links SET source_id = ?, target_id = ?, external_id = ?, email = ?, "
    "source_hash = ?, target_hash = ?, updated_at = ? WHERE id = ?"
)
SAVE_CHECKPOINT = (
    "INSERT INTO checkpoints (integration_id, direction, watermark, position, updated_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (integration_id, direction) DO UPDATE SET "
    "watermark = excluded.watermark, position = excluded.position, "
    "updated_at = excluded.updated_at"
)
ADD_COUNTS = (
    "UPDATE jobs SET num_read = num_read + ?, num_created = num_created + ?, "
    "num_updated = num_updated + ?, num_unchanged = num_unchanged + ?, "
    "last_modified = ? WHERE id = ?"
)


def sqlite_round(path: Path, integration: str, job: str, count: int) -> list[float]:
    """The same statements per page, through the sqlite3 module alone."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")

    def page_work(n: int, generation: int) -> None:
        ids = [str(n * SIZE + i) for i in range(SIZE)]
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        db.execute("BEGIN")
        db.execute(LOOKUP_TOMBSTONES, (integration, "source", json.dumps(ids))).fetchall()
        links = db.execute(LOOKUP_LINKS, (integration, json.dumps(ids))).fetchall()
        db.execute("COMMIT")
        digest = f"digest-g{generation}"
        if links and links[0][4] == digest:
            written: list[str] = []
        else:
            written = ids
        db.execute("BEGIN IMMEDIATE")
        if written:
            targets = json.dumps([f"B{n}-{i}" for i in range(SIZE)])
            stored = db.execute(
                LOOKUP_ROWS, (integration, json.dumps(written), integration, targets)
            ).fetchall()
            rows = [
                (i, f"B{n}-{k}", f"{n}-{k}", f"p{n}-{k}@example.com", digest, digest)
                for k, i in enumerate(written)
            ]
            if stored:
                by_source = {row[1]: row[0] for row in stored}
                db.executemany(UPDATE_LINK, [(*r, now, by_source[r[0]]) for r in rows])
            else:
                db.executemany(INSERT_LINK, [(integration, *r, now, now) for r in rows])
        position = json.dumps({"resume": {"cursor": {"offset": (n + 1) * SIZE}}})
        db.execute(SAVE_CHECKPOINT, (integration, "source-to-target", None, position, now))
        db.execute(ADD_COUNTS, (SIZE, 0, len(written), SIZE - len(written), now, job))
        db.execute("COMMIT")

    def feed(generation: int) -> None:
        for n in range(count):
            page_work(n, generation)

    figures = [cpu_per_contact(count * SIZE, feed, generation) for generation in (0, 1, 1)]
    db.close()
    return figures


def best(rounds: Iterable[list[float]]) -> list[float]:
    return [min(column) for column in zip(*rounds, strict=True)]


def measure(count: int, rounds: int) -> Iterator[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/engine.db")
        store.migrate()
        engine = best(engine_round(store, count, f"bench-{n}") for n in range(rounds))
        store.dispose()
        alone = Store(f"sqlite:///{folder}/alone.db")
        alone.migrate()
        plain = []
        for n in range(rounds):
            integration = alone.integrations.create(f"alone-{n}").id
            job = alone.jobs.create(integration).id
            plain.append(sqlite_round(Path(folder) / "alone.db", integration, job, count))
        alone.dispose()
    yield from zip(KINDS, engine, best(plain), strict=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages of 100 per kind")
    parser.add_argument("--rounds", type=int, default=5, help="best of this many rounds")
    args = parser.parse_args(argv)
    print(f"store work per contact, {args.pages} pages of {SIZE}, best of {args.rounds}")
    print(f"  {'page':12}{'pass, µs':>12}{'sqlite3 alone, µs':>20}{'ratio':>8}")
    for kind, engine, plain in measure(args.pages, args.rounds):
        print(f"  {kind:12}{engine:12.1f}{plain:20.1f}{engine / plain:8.1f}")


if __name__ == "__main__":
    main()
