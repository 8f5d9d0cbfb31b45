"""Reconciliation: list each side's ids and file tombstones for linked records that are gone.

For systems that cannot say what was deleted (Engagifii, Egito; Bigin without a webhook;
the legacy CRM, which forgets a deleted contact). Each side that declares
``Capability.LIST_IDS`` is listed page by page into the store's scratch table
(``reconcile_ids``, keyed by integration and side), the listing position checkpointed
after every page (a crash resumes the listing), and then the database finds the linked
records the listing did not name. Memory stays flat whatever the number of contacts: one
page of ids is held at a time, and candidates are read back in chunks.

A paged listing over a live list can step over a record that moved while it was being
read, so every candidate is looked up once (``get``) before it is filed: a record that
answers is alive and stays linked. Those lookups are one per missing record, and
missing records are few; a listing that came back empty by mistake costs one lookup per
link and files nothing.
"""

from __future__ import annotations

import logging

from bridge.connectors.base import Capability, Connector, Position
from bridge.store import Store
from bridge.store.repos.tombstones import SideRef

log = logging.getLogger(__name__)
CHECKPOINT_PREFIX = "reconcile-"


def reconcile_side(store: Store, ref: SideRef, connector: Connector) -> int:
    """List ``connector``'s ids, file tombstones for its linked records that are gone."""
    if not connector.can(Capability.LIST_IDS):
        log.info("%s: %s cannot list its ids; not reconciled", ref.integration_id, ref.system)
        return 0
    run_key = f"{ref.integration_id}:{ref.side}"
    checkpoint_key = CHECKPOINT_PREFIX + ref.side
    saved = store.checkpoints.get(ref.integration_id, checkpoint_key)
    resume = None
    if saved is not None and saved.position and saved.position.get("listing"):
        resume = Position.from_json(saved.position["listing"])
        log.info("%s: resuming the %s listing at %s", ref.integration_id, ref.side, resume.cursor)
    else:
        store.tombstones.scratch_clear(run_key)
    listed = 0
    for page in connector.list_ids(resume):
        listed += len(page.ids)
        with store.transaction() as tx:
            tx.tombstones.scratch_add(run_key, page.ids)
            tx.checkpoints.save(
                ref.integration_id,
                checkpoint_key,
                watermark=None,
                position={"listing": page.position.to_json()},
            )
    filed = _file_missing(store, ref, connector, run_key)
    with store.transaction() as tx:
        tx.tombstones.scratch_clear(run_key)
        tx.checkpoints.save(ref.integration_id, checkpoint_key, watermark=None, position=None)
    log.info(
        "%s: %s listed %d ids; %d linked record(s) gone",
        ref.integration_id,
        ref.system,
        listed,
        filed,
    )
    return filed


def _file_missing(store: Store, ref: SideRef, connector: Connector, run_key: str) -> int:
    filed = 0
    after = 0
    while chunk := store.tombstones.missing(ref, run_key, after_link=after, limit=500):
        for link_id, record_id, external_id, email in chunk:
            after = link_id
            contact = connector.get(record_id)
            if contact is not None and not contact.deleted:
                continue
            filed += store.tombstones.record(
                ref,
                record_id,
                seen_by="reconcile",
                external_id=external_id,
                email=email,
                gone=contact is None,
            )
    return filed
