"""Column types and engine settings: aware UTC datetimes, ids, JSON, SQLite pragmas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bridge.errors import ConfigError
from bridge.store import Store, new_id
from bridge.store.engine import normalize_url


def test_datetimes_come_back_aware_utc_whatever_offset_went_in(store):
    integration = store.integrations.create("tz")
    plus_five = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=plus_five)
    store.checkpoints.save(integration.id, "s2t", watermark=moment, position=None)

    watermark = store.checkpoints.get(integration.id, "s2t").watermark
    assert watermark == moment
    assert watermark.tzinfo is UTC
    assert watermark.hour == 6 and watermark.minute == 30
    assert watermark.microsecond == 123456


def test_each_datetime_written_is_its_own_even_after_a_repeated_one(store):
    # The bind processor converts a repeated datetime object once (a page's timestamp):
    # a different value, the same instant in another zone, or None still goes as given.
    integration = store.integrations.create("repeat")
    first = datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3)))
    for watermark in (
        first,
        first,
        first + timedelta(hours=1),
        None,
        first,
        first.astimezone(UTC),
        first - timedelta(microseconds=1),
    ):
        store.checkpoints.save(integration.id, "s2t", watermark=watermark, position=None)
        assert store.checkpoints.get(integration.id, "s2t").watermark == watermark


def test_sqlite_datetime_text_of_any_iso_shape_reads_back_aware_utc(tmp_path):
    # SQLite's text is read the fast way when it is what the store writes (naive UTC,
    # with or without microseconds), the long way otherwise: both give aware UTC.
    store = Store(f"sqlite:///{tmp_path / 'shapes.db'}")
    try:
        store.migrate()
        integration = store.integrations.create("shapes")
        store.checkpoints.save(integration.id, "s2t", watermark=None, position=None)
        for stored, expected in (
            ("2026-01-02 03:04:05.000006", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
            ("2026-01-02 03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
            ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),
            ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ):
            with store.engine.begin() as connection:
                connection.execute(text("UPDATE checkpoints SET watermark = :w"), {"w": stored})
            watermark = store.checkpoints.get(integration.id, "s2t").watermark
            assert watermark == expected and watermark.tzinfo is UTC, stored
    finally:
        store.dispose()


def test_naive_datetimes_are_refused(store):
    integration = store.integrations.create("naive")
    with pytest.raises(ValueError, match="naive"):
        store.checkpoints.save(integration.id, "s2t", watermark=datetime(2026, 1, 1), position=None)


def test_datetime_ordering_is_by_instant_across_offsets(store):
    # Stored as UTC, so a filter compares instants even for values given in other zones.
    integration = store.integrations.create("order")
    job = store.jobs.create(integration.id)
    earlier_in_tokyo = job.created_at.astimezone(timezone(timedelta(hours=9)))
    assert store.jobs.query(created_from=earlier_in_tokyo) == [job]
    assert store.jobs.query(created_from=earlier_in_tokyo + timedelta(milliseconds=1)) == []


def test_json_round_trips_nested_values(store):
    settings = {"nested": {"list": [1, "two", None, True], "unicode": "Zoë ✓"}, "n": 1.5}
    created = store.integrations.create("json", settings=settings)
    assert store.integrations.get(created.id).settings == settings


def test_ids_look_like_integrator_io_ids_and_sort_by_creation():
    ids = [new_id() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        store.dispose()


def test_foreign_keys_cascade_on_both_engines(store):
    integration = store.integrations.create("cascade")
    job = store.jobs.create(integration.id)
    store.jobs.add_error(job.id, "boom")
    store.checkpoints.save(integration.id, "s2t", watermark=None, position={"page": 2})

    assert store.integrations.delete(integration.id)
    assert store.jobs.get(job.id) is None
    assert store.checkpoints.get(integration.id, "s2t") is None


def test_postgresql_urls_get_psycopg3_and_other_databases_are_refused():
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ConfigError, match="unsupported database"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        normalize_url("not a url")


def test_repr_hides_the_database_password():
    store = Store("postgresql://bridge:hunter2@127.0.0.1:1/db")
    try:
        assert "hunter2" not in repr(store)
    finally:
        store.dispose()


def test_ping_says_whether_the_database_answers(store):
    assert store.ping()
    unreachable = Store("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert not unreachable.ping()
    finally:
        unreachable.dispose()
