"""Deletes: seen in a feed, carried to the linked record under a policy, behind a guard.

How a delete travels. Each side files what it sees as a tombstone in the store (a record
flagged ``deleted`` in its feed, a lookup that finds nothing for a linked id, a Bigin
``delete`` notification, a reconciliation, the facade's ``Contact_DeleteBy*``). After the
run's passes, :class:`DeleteCarrier` carries the tombstones whose record has an id link,
in the direction(s) the integration carries, one at a time: the remote call, then in one
transaction the "carried" mark, the link's removal, the counts and a tombstone for the
record it removed or flagged on the other side. A crash between the call and the commit
makes the rerun repeat the call, which finds nothing to delete (so each delete is carried
once and nothing else is touched).

The policy (``deletes`` option): ``propagate`` deletes the linked record, ``flag`` marks
it deleted the way its system can (:meth:`Connector.flag_deleted`), ``ignore`` only
records that the integration saw the delete. The default is ``flag``: nothing is
destroyed unless asked.

The guard: before carrying anything, the pending deletes of every direction are counted.
More than ``max_delete_fraction`` of the linked records (default 5%), or more than
``max_deletes``, and nothing is carried: the run reports the count and the deletes wait
for a run with ``confirm_deletes`` (``--confirm-deletes``, or a confirming ``/v1`` call).
A side that answered an empty list by mistake thus never wipes the other side.

Records the bridge holds as deleted are screened out of the change feeds
(:class:`FeedScreen`), so a flagged record never travels back as a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta

from bridge.connectors.base import Capability, Connector
from bridge.errors import BridgeError
from bridge.model import Contact, utc_now
from bridge.store import Repositories, Store
from bridge.store.repos.tombstones import SOURCE, TARGET, SideRef, Tombstone
from bridge.sync.report import BOTH, SOURCE_TO_TARGET, TARGET_TO_SOURCE, Counts, PlannedWrite

log = logging.getLogger(__name__)
POLICIES = ("propagate", "flag", "ignore")
DEFAULT_POLICY = "flag"
DEFAULT_MAX_FRACTION = 0.05
# How far behind our clock a deletions feed's times may run (the next read overlaps).
READ_MARGIN = timedelta(minutes=5)

#: ``listener(system, outcome)`` for every delete carried (metrics).
DeleteListener = Callable[[str, str], None]
_listeners: list[DeleteListener] = []


def add_delete_listener(listener: DeleteListener) -> None:
    """Hear of every carried delete: the system written to and the outcome."""
    if listener not in _listeners:
        _listeners.append(listener)


def _announce(system: str, outcome: str) -> None:
    for listener in list(_listeners):
        try:
            listener(system, outcome)
        except Exception:  # a metrics hook never breaks a sync
            log.exception("delete listener failed")


@dataclass(slots=True)
class DeleteOptions:
    policy: str = DEFAULT_POLICY
    max_fraction: float = DEFAULT_MAX_FRACTION
    max_deletes: int | None = None
    #: Carry the deletes even past the guard (``--confirm-deletes``).
    confirmed: bool = False
    #: List each side's ids and file tombstones for linked records that are gone.
    reconcile: bool = False

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"deletes must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if not 0 <= self.max_fraction <= 1:
            raise ValueError("max_delete_fraction must be between 0 and 1")


@dataclass(slots=True)
class DeleteResult:
    """What the carrying step did (or would do, or held back)."""

    counts: dict[str, Counts] = field(default_factory=dict)
    held: int = 0
    linked: int = 0
    planned: list[PlannedWrite] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        if not self.held:
            return None
        return (
            f"mass-delete guard: {self.held} delete(s) of {self.linked} linked record(s) "
            "wait for confirmation (--confirm-deletes); nothing was deleted"
        )


def side_refs(
    integration_id: str,
    source: Connector,
    target: Connector,
    source_connection: str | None,
    target_connection: str | None,
) -> tuple[SideRef, SideRef]:
    return (
        SideRef(integration_id, SOURCE, source_connection, source.system),
        SideRef(integration_id, TARGET, target_connection, target.system),
    )


def read_deletion_feed(store: Store, ref: SideRef, connector: Connector) -> int:
    """File the deletes a side's deletions feed reports since the last run; how many new.

    Only for connectors declaring ``Capability.DELETIONS_FEED``; the feed's watermark is a
    checkpoint of its own (``deletions-<side>``), moved to when this read began.
    """
    if not connector.can(Capability.DELETIONS_FEED):
        return 0
    key = f"deletions-{ref.side}"
    saved = store.checkpoints.get(ref.integration_id, key)
    began = utc_now() - READ_MARGIN
    filed = 0
    for ids in connector.read_deletions(saved.watermark if saved else None):
        for record_id in ids:
            filed += store.tombstones.record(ref, record_id, seen_by="feed")
    store.checkpoints.save(ref.integration_id, key, watermark=began, position=None)
    return filed


class FeedScreen:
    """Takes deletes out of a direction's feed: flagged records and records on file.

    One per pass, made under the integration's lease (bridge.sync.engine).
    """

    def __init__(self, store: Store, reader: SideRef, writer: SideRef) -> None:
        self.store = store
        self.reader = reader
        self.writer = writer
        # Whether the writer's side has flag tombstones, asked once per pass: they are
        # filed by a pass reading that side, by carrying deletes and by reconciliation,
        # all under the lease before or after this pass, so with none at its start every
        # page's revive would delete nothing.
        self._writer_flagged: bool | None = None

    def file_flagged(self, contacts: list[Contact]) -> None:
        """File the records the feed shows flagged deleted (before :meth:`screen`)."""
        system = self.reader.system
        for contact in contacts:
            record_id = contact.ids.get(system)
            if contact.deleted and record_id:
                self.store.tombstones.record(
                    self.reader,
                    record_id,
                    seen_by="feed",
                    external_id=contact.external_id,
                    email=contact.email,
                    gone=False,
                )

    def screen(
        self, contacts: list[Contact], reads: Repositories | None = None
    ) -> tuple[list[Contact], int]:
        """(contacts to sync, how many were held back as deleted), looked up through
        ``reads`` (the page's ``store.reading()``) or the store."""
        system = self.reader.system
        ids = [c.ids[system] for c in contacts if c.ids.get(system)]
        dead = (reads or self.store).tombstones.among(self.reader, ids) if ids else set()
        kept = [c for c in contacts if not c.deleted and c.ids.get(system) not in dead]
        return kept, len(contacts) - len(kept)

    def holds_deleted(self, record_id: str) -> bool:
        """Whether the reader's record ``record_id`` is on file as deleted."""
        return bool(self.store.tombstones.among(self.reader, [record_id]))

    def written(self, tx: Repositories, writer_ids: Sequence[str]) -> None:
        """Records just written again are alive: forget their flag tombstones."""
        if not writer_ids:
            return
        if self._writer_flagged is None:
            self._writer_flagged = tx.tombstones.any_flagged(self.writer)
        if self._writer_flagged:
            tx.tombstones.revive(self.writer, writer_ids)


@dataclass(eq=False)
class DeleteCarrier:
    """Carries an integration's pending tombstones to the linked records."""

    store: Store
    _: KW_ONLY
    integration_id: str
    direction: str
    refs: tuple[SideRef, SideRef]
    connectors: tuple[Connector, Connector]
    options: DeleteOptions
    dry_run: bool = False
    job_id: str | None = None

    def _legs(self) -> list[tuple[str, SideRef, SideRef, Connector]]:
        """(direction, side the delete was seen on, side to write, its connector)."""
        (source_ref, target_ref), (source, target) = self.refs, self.connectors
        legs = []
        if self.direction in (SOURCE_TO_TARGET, BOTH):
            legs.append((SOURCE_TO_TARGET, source_ref, target_ref, target))
        if self.direction in (TARGET_TO_SOURCE, BOTH):
            legs.append((TARGET_TO_SOURCE, target_ref, source_ref, source))
        return legs

    def guard(self) -> tuple[int, int, bool]:
        """(pending deletes, linked records, whether the guard holds them back)."""
        pending = sum(self.store.tombstones.count_pending(seen) for _, seen, _, _ in self._legs())
        linked = self.store.links.count(self.integration_id)
        if self.options.policy == "ignore" or self.options.confirmed or pending == 0:
            return pending, linked, False
        too_many = pending > self.options.max_fraction * linked
        if self.options.max_deletes is not None:
            too_many = too_many or pending > self.options.max_deletes
        return pending, linked, too_many

    def run(self) -> DeleteResult:
        result = DeleteResult()
        pending, result.linked, held = self.guard()
        if held:
            result.held = pending
            log.warning("%s: %s", self.integration_id, result.message)
        for direction, seen, writes, writer in self._legs():
            counts = result.counts.setdefault(direction, Counts())
            if self.dry_run or held:
                if self.dry_run:
                    self._plan(direction, seen, result)
                continue
            self._carry(direction, seen, writes, writer, counts)
        return result

    def _plan(self, direction: str, seen: SideRef, result: DeleteResult) -> None:
        action = {"propagate": "delete", "flag": "flag"}.get(self.options.policy)
        if action is None:
            return
        for stone in self.store.tombstones.pending(seen, limit=10_000):
            result.planned.append(
                PlannedWrite(
                    direction=direction,
                    action=action,
                    key=stone.external_id or stone.email or stone.record_id,
                    name=f"deleted on {stone.system} ({stone.seen_by})",
                )
            )

    def _carry(
        self, direction: str, seen: SideRef, writes: SideRef, writer: Connector, counts: Counts
    ) -> None:
        after = 0
        while batch := self.store.tombstones.pending(seen, after_id=after, limit=200):
            for stone in batch:
                after = stone.id
                self._carry_one(direction, seen, writes, writer, stone, counts)
        self._resolve_letters(direction, seen)

    def _resolve_letters(self, direction: str, seen: SideRef) -> None:
        """Dead letters of deletes that have now been carried are resolved."""
        name = _letter_direction(direction)
        letters = self.store.dead_letters.replayable(self.integration_id, name, limit=10_000)
        if not letters:
            return
        waiting = {s.record_id for s in self.store.tombstones.pending(seen, limit=100_000)}
        done = [x.id for x in letters if x.payload.get("delete") not in waiting]
        self.store.dead_letters.resolve(done)

    def _carry_one(
        self,
        direction: str,
        seen: SideRef,
        writes: SideRef,
        writer: Connector,
        stone: Tombstone,
        counts: Counts,
    ) -> None:
        link = (
            self.store.links.get(self.integration_id, source_id=stone.record_id)
            if seen.side == SOURCE
            else self.store.links.get(self.integration_id, target_id=stone.record_id)
        )
        writer_id = None
        policy = self.options.policy
        try:
            if link is not None:
                writer_id = link.target_id if seen.side == SOURCE else link.source_id
                if writer_id is None and link.email and policy != "ignore":
                    # The writer never said its id (legacy UpdateInsert answers nothing):
                    # the link's email finds the record.
                    found = writer.find_by_email(link.email)
                    writer_id = found.ids.get(writer.system) if found else None
            if writer_id is None or policy == "ignore":
                outcome = "ignored"
            elif policy == "flag" and writer.can(Capability.FLAG_DELETED):
                outcome = "flagged" if writer.flag_deleted(writer_id) else "gone"
            elif policy == "flag":
                outcome = "ignored"  # nothing to flag with on this system
            else:
                outcome = "deleted" if writer.delete(writer_id) else "gone"
        except BridgeError as exc:
            self._failed(direction, writer, stone, writer_id, exc, counts)
            return
        with self.store.transaction() as tx:
            tx.tombstones.mark_carried(self.integration_id, stone.id, outcome)
            if outcome != "ignored" and writer_id is not None:
                tx.tombstones.record(
                    writes,
                    writer_id,
                    seen_by="bridge",
                    external_id=stone.external_id,
                    email=stone.email,
                    gone=outcome != "flagged",
                )
                if seen.side == SOURCE:
                    tx.links.delete(self.integration_id, source_id=stone.record_id)
                else:
                    tx.links.delete(self.integration_id, target_id=stone.record_id)
            if self.job_id and outcome != "ignored":
                tx.jobs.add_counts(self.job_id, deleted=1)
        if outcome != "ignored":
            counts.deleted += 1
        _announce(writer.system, outcome)

    def _failed(
        self,
        direction: str,
        writer: Connector,
        stone: Tombstone,
        writer_id: str | None,
        exc: BridgeError,
        counts: Counts,
    ) -> None:
        """A refused delete: a dead letter and a job error; the next run tries again."""
        counts.failed += 1
        key = writer_id or stone.record_id
        with self.store.transaction() as tx:
            tx.dead_letters.add(
                self.integration_id,
                _letter_direction(direction),
                key,
                {"delete": stone.record_id, "system": stone.system, "policy": self.options.policy},
                error_message=str(exc),
                error_code=getattr(exc, "code", None) or type(exc).__name__,
            )
            if self.job_id:
                tx.jobs.add_error(
                    self.job_id,
                    record_key=key,
                    code=type(exc).__name__,
                    message=f"delete failed: {exc}",
                    source=writer.system,
                )
                tx.jobs.add_counts(self.job_id, failed=1)
        _announce(writer.system, "failed")


def _letter_direction(direction: str) -> str:
    """Dead letters of deletes live beside the direction's, not among its replays."""
    return f"{direction}/delete"
