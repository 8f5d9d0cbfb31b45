"""The window before a watermark is subtracted once: the engine's overlap counts the
reader's own (Bigin opens its feed ``overlap_seconds`` before ``since`` by itself)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.store import Store
from bridge.sync.fieldmap import FieldMap
from bridge.sync.fingerprint import Comparer
from bridge.sync.passes import DirectionPass, PassOptions
from bridge.sync.report import SOURCE_TO_TARGET

WATERMARK = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BIGIN = {"api_domain": "http://127.0.0.1:9", "accounts_url": "http://127.0.0.1:9",
         "client_id": "c", "client_secret": "s", "refresh_token": "r"}  # fmt: skip
LEGACY = {"endpoint": "http://127.0.0.1:9/x.asmx", "username": "u", "password": "p",
          "site_id": 1}  # fmt: skip


def _since(store: Store, reader_overlap: int, engine_overlap: int) -> datetime | None:
    reader = build_connector(
        ConnectionConfig("bigin", "bigin", {**BIGIN, "overlap_seconds": reader_overlap})
    )
    writer = build_connector(ConnectionConfig("crm", "legacy", dict(LEGACY)))
    integration_id = store.integrations.ensure(
        "members", source="bigin", target="legacy", direction=SOURCE_TO_TARGET
    ).id
    store.checkpoints.save(integration_id, SOURCE_TO_TARGET, watermark=WATERMARK, position=None)
    with reader, writer:
        one = DirectionPass(
            store=store,
            integration_id=integration_id,
            direction=SOURCE_TO_TARGET,
            reader=reader,
            writer=writer,
            compare=Comparer(reader, writer),
            fieldmap=FieldMap(),
            options=PassOptions(overlap=timedelta(seconds=engine_overlap)),
        )
        since, _, _ = one.start_position()
    return since


@pytest.mark.parametrize(
    ("reader_overlap", "engine_overlap", "engine_subtracts"),
    [(120, 300, 180), (0, 300, 300), (600, 300, 0)],
)
def test_the_engine_subtracts_only_what_the_reader_does_not(
    store: Store, reader_overlap: int, engine_overlap: int, engine_subtracts: int
) -> None:
    since = _since(store, reader_overlap, engine_overlap)
    assert since == WATERMARK - timedelta(seconds=engine_subtracts)
    # With the reader's own window, the feed opens max(engine, reader) before the watermark.
    opened = since - timedelta(seconds=reader_overlap)
    assert WATERMARK - opened == timedelta(seconds=max(engine_overlap, reader_overlap))
