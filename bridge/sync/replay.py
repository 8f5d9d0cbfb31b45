"""Replaying dead letters: send failed records again, after the mapping or data was fixed.

A letter is replayed from the record as the reader holds it *now* (so a fix made in the
source system is what gets sent), falling back to the stored payload when the reader no
longer has it. The current field mapping applies. Success resolves the letter and links
the record; another failure keeps the letter with one more attempt. A record the bridge
holds as deleted (flagged deleted, or on file as a tombstone) is not sent: its letter is
resolved, so a replay never brings a deleted contact back. Which letters, and with which
connectors, is the caller's business (:mod:`bridge.runs.replay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.store import DeadLetter, Store
from bridge.store.repos.links import IdLink
from bridge.sync.engine import SyncEngine, SyncSpec
from bridge.sync.payload import contact_from_json
from bridge.sync.report import SOURCE_TO_TARGET, TARGET_TO_SOURCE


@dataclass(slots=True)
class ReplayResult:
    tried: int = 0
    resolved: int = 0
    failed: int = 0


def replay_letters(
    store: Store, spec: SyncSpec, integration_id: str, letters: Sequence[DeadLetter]
) -> ReplayResult:
    """Send ``letters`` of one integration again through ``spec``'s live connectors.

    A letter whose record is held as deleted (flagged by its system, or tombstoned) is
    resolved without a write: replaying it would bring the record back.
    """
    result = ReplayResult()
    engine = SyncEngine(store, spec)
    for direction in (SOURCE_TO_TARGET, TARGET_TO_SOURCE):
        batch = [
            letter for letter in letters if letter.direction == direction and not letter.resolved
        ]
        if not batch:
            continue
        reader, writer = spec.ends(direction)
        helper = engine.direction_pass(integration_id, direction)
        screen = engine.screen_for(integration_id, direction)
        for letter in batch:
            result.tried += 1
            live = reader.get(letter.record_key)
            if (live is not None and live.deleted) or screen.holds_deleted(letter.record_key):
                store.dead_letters.resolve([letter.id])
                result.resolved += 1
                continue
            contact = live or contact_from_json(letter.payload)
            link = (
                store.links.get(integration_id, source_id=letter.record_key)
                if direction == SOURCE_TO_TARGET
                else store.links.get(integration_id, target_id=letter.record_key)
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
                tx.links.save(integration_id, new_link)
                tx.dead_letters.resolve([letter.id])
            result.resolved += 1
    return result
