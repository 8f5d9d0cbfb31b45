"""Replaying dead letters: send failed records again, after the mapping or data was fixed.

A letter is replayed from the record as the reader holds it *now* (so a fix made in the
source system is what gets sent), falling back to the stored payload when the reader no
longer has it. The current field mapping applies. Success resolves the letter and links
the record; another failure keeps the letter with one more attempt. A record the bridge
holds as deleted (flagged deleted, or on file as a tombstone) is not sent: its letter is
resolved, so a replay never brings a deleted contact back.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.config import Config
from bridge.store import Store
from bridge.store.repos.links import IdLink
from bridge.sync.engine import SyncEngine
from bridge.sync.passes import DirectionPass
from bridge.sync.payload import contact_from_json
from bridge.sync.report import SOURCE_TO_TARGET
from bridge.sync.runner import integration_spec, open_store


@dataclass(slots=True)
class ReplayResult:
    tried: int = 0
    resolved: int = 0
    failed: int = 0


def replay_dead_letters(config: Config, name: str, store: Store | None = None) -> ReplayResult:
    store = store or open_store(config)
    result = ReplayResult()
    integration = store.integrations.by_name(name)
    if integration is None:
        return result
    with integration_spec(config, name, store=store) as spec:
        engine = SyncEngine(store, spec)
        for direction in ("source-to-target", "target-to-source"):
            letters = store.dead_letters.replayable(integration.id, direction, limit=100_000)
            if not letters:
                continue
            reader, writer = (
                (spec.source, spec.target)
                if direction == SOURCE_TO_TARGET
                else (spec.target, spec.source)
            )
            helper = DirectionPass(
                store=store,
                integration_id=integration.id,
                direction=direction,
                reader=reader,
                writer=writer,
                compare=engine.compare,
                fieldmap=spec.fieldmap,
                options=spec.options,
            )
            screen = engine.screen_for(integration.id, direction)
            for letter in letters:
                result.tried += 1
                live = reader.get(letter.record_key)
                if (live is not None and live.deleted) or screen.holds_deleted(letter.record_key):
                    store.dead_letters.resolve([letter.id])
                    result.resolved += 1
                    continue
                contact = live or contact_from_json(letter.payload)
                link = (
                    store.links.get(integration.id, source_id=letter.record_key)
                    if direction == SOURCE_TO_TARGET
                    else store.links.get(integration.id, target_id=letter.record_key)
                )
                outgoing = helper.outgoing_for(contact, link)
                [outcome] = writer.upsert([outgoing])
                if not outcome.ok:
                    result.failed += 1
                    store.dead_letters.record_failure(
                        letter.id,
                        error_message=outcome.message or "refused",
                        error_code=outcome.code,
                    )
                    continue
                digest = engine.compare(contact)
                known = helper.writer_id_for(link) if link else None
                new_link: IdLink = helper.link_for(
                    letter.record_key, outcome.id or known, contact, digest
                )
                with store.transaction() as tx:
                    tx.links.save(integration.id, new_link)
                    tx.dead_letters.resolve([letter.id])
                result.resolved += 1
    return result
