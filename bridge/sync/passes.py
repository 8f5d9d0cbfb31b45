"""One direction of one integration: read pages, compare, upsert, link, checkpoint.

A pass streams the reader's change feed a page at a time. For each page it decides per
record whether the writer must hear of it (fingerprints against the id links), upserts
those in the writer's batches, and then, in one store transaction, saves the page's id
links, its dead letters and the checkpoint that says the page is done. Upserts of a few
pages run concurrently (``workers``) while the next page is read, but pages are committed
strictly in order, so a checkpoint never runs ahead of a page that is not yet written.

A crash anywhere leaves the checkpoint at the last committed page: the next run resumes
there and re-sends at most the pages that were in flight, which the writer matches by
External ID or email (an update, not a duplicate). A record with neither key has nothing
to be matched by: if a crash falls between its write and its checkpoint, the resend
creates it a second time.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bridge.connectors.base import Connector, Page, Position, UpsertOutcome, UpsertStatus
from bridge.model import Contact, utc_now
from bridge.store import Repositories, Store
from bridge.store.repos.links import IdLink, normalize_email
from bridge.sync.collector import quiet_collector
from bridge.sync.deletes import DeleteOptions, FeedScreen
from bridge.sync.fieldmap import FieldMap
from bridge.sync.fingerprint import Comparer
from bridge.sync.payload import contact_to_json
from bridge.sync.report import SOURCE_TO_TARGET, Counts, PlannedWrite

log = logging.getLogger(__name__)
# How far behind our clock a remote's change times may run and still count as "during".
READ_CLOCK_MARGIN = timedelta(seconds=2)

ProgressCallback = Callable[[str, Counts, int | None], None]


@dataclass(slots=True)
class PassOptions:
    full: bool = False
    dry_run: bool = False
    overlap: timedelta = timedelta(minutes=5)
    workers: int = 4
    conflict_policy: str = "latest"
    deletes: DeleteOptions = field(default_factory=DeleteOptions)


@dataclass(slots=True)
class ConflictBook:
    """Records changed on the target side since the last run, seen before the source pass."""

    changed: dict[str, datetime | None] = field(default_factory=dict)
    policy: str = "latest"

    def source_wins(self, target_id: str, source_time: datetime | None) -> bool:
        if self.policy == "source":
            return True
        if self.policy == "target":
            return False
        target_time = self.changed.get(target_id)
        if source_time is None or target_time is None:
            return source_time is not None
        return source_time >= target_time


@dataclass(slots=True)
class _Work:
    """One record the writer must hear of."""

    contact: Contact
    reader_id: str
    link: IdLink | None
    digest: str


@dataclass(slots=True)
class _PageJob:
    page: Page
    work: list[_Work]
    counts: Counts
    max_seen: datetime | None
    future: Future[list[UpsertOutcome]] | None = None
    # Pushed records (a webhook) are not a page of the feed: no checkpoint moves.
    checkpoint: bool = True


class _KeyMatcher:
    """A page's candidate links by External ID and email, oldest first.

    A record matches the first link, by either key, that has no id on the reader's side
    yet (a link made from the other side that this record has not been tied to).
    """

    def __init__(self, links: list[IdLink], reader_id_of: Callable[[IdLink], str | None]):
        self._order = {id(link): n for n, link in enumerate(links)}
        self._by_external: dict[str, list[IdLink]] = {}
        self._by_email: dict[str, list[IdLink]] = {}
        for link in links:
            if reader_id_of(link) is not None:
                continue
            if link.external_id:
                self._by_external.setdefault(link.external_id, []).append(link)
            if link.email:
                self._by_email.setdefault(link.email, []).append(link)

    def match(self, contact: Contact) -> IdLink | None:
        candidates = [
            *(self._by_external.get(contact.external_id or "") or ()),
            *(self._by_email.get(normalize_email(contact.email) or "") or ()),
        ]
        return min(candidates, key=lambda link: self._order[id(link)], default=None)


@dataclass(kw_only=True, eq=False)
class DirectionPass:
    """Sync ``reader`` -> ``writer`` for one integration and direction."""

    store: Store
    integration_id: str
    direction: str
    reader: Connector
    writer: Connector
    compare: Comparer
    fieldmap: FieldMap
    options: PassOptions
    #: The run's job, which hears each page's counts and record errors.
    job_id: str | None = None
    #: What the pass has done so far (what ``run`` returns).
    counts: Counts = field(init=False, default_factory=Counts)
    #: Target records changed since the last run (a two-way run's source pass).
    conflicts: ConflictBook | None = None
    #: Told the running counts after every committed page.
    on_progress: ProgressCallback | None = None
    #: The writes a dry run would make.
    planned: list[PlannedWrite] = field(init=False, default_factory=list)
    #: Where the pass keeps its checkpoint: the direction itself (None), or a key of its
    #: own for a slice of the feed (a partition of a full sync, bridge.sync.partition).
    checkpoint_key: str | None = None
    #: Takes records the bridge holds as deleted out of the feed (bridge.sync.deletes).
    screen: FeedScreen | None = None

    def __post_init__(self) -> None:
        self._checkpoint = self.checkpoint_key or self.direction
        # When this pass began reading (carried in the checkpoint across a resume).
        self._started = utc_now() - READ_CLOCK_MARGIN
        self._watermark: datetime | None = None
        self._watermark_read = False
        # Links are kept as (source_id, target_id); which one is "ours" depends on direction.
        self._reader_is_source = self.direction == SOURCE_TO_TARGET

    # -- link orientation ------------------------------------------------------------

    def _reader_id_of(self, link: IdLink) -> str | None:
        return link.source_id if self._reader_is_source else link.target_id

    def _writer_id_of(self, link: IdLink) -> str | None:
        return link.target_id if self._reader_is_source else link.source_id

    def _reader_hash_of(self, link: IdLink) -> str | None:
        return link.source_hash if self._reader_is_source else link.target_hash

    def _link(self, reader_id: str, writer_id: str | None, contact: Contact, digest: str) -> IdLink:
        ids = (reader_id, writer_id) if self._reader_is_source else (writer_id, reader_id)
        return IdLink(
            source_id=ids[0],
            target_id=ids[1],
            external_id=contact.external_id,
            email=contact.email,
            source_hash=digest,
            target_hash=digest,
        )

    # -- the pass --------------------------------------------------------------------

    def start_position(self) -> tuple[datetime | None, Position | None, datetime | None]:
        """(since, resume position, max change time seen so far) from the checkpoint."""
        checkpoint = self.store.checkpoints.get(self.integration_id, self._checkpoint)
        if checkpoint is None or self.options.full:
            return None, None, None
        if checkpoint.position:
            resume = Position.from_json(checkpoint.position["resume"])
            seen = checkpoint.position.get("max_seen")
            started = checkpoint.position.get("started")
            if started:
                self._started = datetime.fromisoformat(started)
            return resume.since, resume, datetime.fromisoformat(seen) if seen else None
        # The reader may open its feed before ``since`` by itself (its ``overlap``): only
        # what our overlap asks for beyond that is subtracted here.
        extra = max(self.options.overlap - self.reader.overlap, timedelta(0))
        since = checkpoint.watermark - extra if checkpoint.watermark else None
        return since, None, None

    def run(self) -> Counts:
        since, resume, max_seen = self.start_position()
        old = self.store.checkpoints.get(self.integration_id, self._checkpoint)
        watermark = None if old is None else old.watermark
        fresh = self.store.links.count(self.integration_id) == 0
        log.info(
            "%s %s: reading %s",
            self.integration_id,
            self.direction,
            f"from {resume.cursor}" if resume else (f"since {since}" if since else "everything"),
        )
        pages = self.reader.read_changes(since=since, resume=resume)
        max_seen = self.sync_pages(pages, fresh=fresh, max_seen=max_seen)
        if max_seen is not None and max_seen >= self._started:
            # A record changed while the feed was being read. On an offset-paged feed that
            # moves it behind the reader and shifts the rest forward, so one record may
            # have been stepped over: keep the old watermark, and the next run reads this
            # window again (records already in step cost a read, not a write).
            log.info(
                "%s %s: records changed during the read; the window stays open",
                self.integration_id,
                self.direction,
            )
            max_seen = None
        if not self.options.dry_run:
            self.store.checkpoints.save(
                self.integration_id,
                self._checkpoint,
                watermark=_later(watermark, max_seen),
                position=None,
            )
        return self.counts

    def sync_pages(
        self, pages: Iterable[Page], *, fresh: bool, max_seen: datetime | None = None
    ) -> datetime | None:
        """Sync ``pages`` in order, each checkpointed as it commits; the latest change seen.

        ``fresh`` (no id links existed when the run began) skips matching by keys.
        """
        in_flight: deque[_PageJob] = deque()
        workers = max(1, self.options.workers)
        pool = ThreadPoolExecutor(workers, thread_name_prefix=f"sync-{self.direction}")
        with quiet_collector(), pool:
            for page in pages:
                job = self._prepare(page, fresh)
                max_seen = _later(max_seen, job.max_seen)
                job.max_seen = max_seen
                if job.work and not self.options.dry_run:
                    contacts = [self.outgoing_for(w.contact, w.link) for w in job.work]
                    job.future = pool.submit(self.writer.upsert, contacts)
                in_flight.append(job)
                while in_flight and (len(in_flight) > workers or _done(in_flight[0])):
                    self._commit(in_flight.popleft())
            while in_flight:
                self._commit(in_flight.popleft())
        return max_seen

    def outgoing_for(self, contact: Contact, link: IdLink | None) -> Contact:
        """The record as the writer gets it: mapped, and carrying only the writer's id.

        The reader's id means nothing to the writer (and two connections of one kind
        would even share the key), so only the id the link knows for the writer goes.
        """
        writer_id = self._writer_id_of(link) if link else None
        mapped = self.fieldmap.outgoing(contact, reverse=not self._reader_is_source)
        # A shallow copy: writers read their contacts, never change them.
        return mapped.replace(ids={self.writer.system: writer_id} if writer_id else {})

    def writer_id_for(self, link: IdLink) -> str | None:
        return self._writer_id_of(link)

    def link_for(
        self, reader_id: str, writer_id: str | None, contact: Contact, digest: str
    ) -> IdLink:
        return self._link(reader_id, writer_id, contact, digest)

    def push(self, contacts: list[Contact]) -> Counts:
        """Sync these records now (e.g. the ids a webhook named), outside the change feed.

        The same comparison, upsert, links and dead letters as a page of the feed; the
        checkpoint does not move, so the next scheduled run still reads its whole window
        (and finds these records unchanged).
        """
        page = Page(contacts=contacts, position=Position(since=None), more=False)
        job = self._prepare(page, fresh=False)
        job.checkpoint = False
        if job.work and not self.options.dry_run:
            done: Future[list[UpsertOutcome]] = Future()
            done.set_result(
                self.writer.upsert([self.outgoing_for(w.contact, w.link) for w in job.work])
            )
            job.future = done
        self._commit(job)
        return self.counts

    def _prepare(self, page: Page, fresh: bool) -> _PageJob:
        counts = Counts(read=len(page.contacts))
        system = self.reader.system
        contacts = page.contacts
        if self.screen is not None:
            self.screen.file_flagged(contacts)
        # The page's look-ups in one read transaction (one session, not one per look-up).
        with self.store.reading() as reads:
            if self.screen is not None:
                contacts, counts.unchanged = self.screen.screen(contacts, reads)
            readable = [(c, c.ids.get(system)) for c in contacts]
            ids = [rid for _, rid in readable if rid]
            links = (
                reads.links.by_source_ids(self.integration_id, ids)
                if self._reader_is_source
                else reads.links.by_target_ids(self.integration_id, ids)
            )
            unlinked = [c for c, rid in readable if rid and rid not in links]
            by_keys = None if fresh or not unlinked else self._links_by_keys(reads, unlinked)
        work: list[_Work] = []
        seen: set[str] = set()
        max_seen: datetime | None = None
        for contact, reader_id in readable:
            max_seen = _later(max_seen, contact.updated_at)
            if not reader_id or reader_id in seen:
                counts.unchanged += 1 if reader_id else 0
                continue
            seen.add(reader_id)
            link = links.get(reader_id) or (by_keys.match(contact) if by_keys else None)
            digest = self.compare(contact)
            if link is not None and self._reader_hash_of(link) == digest:
                counts.unchanged += 1
                continue
            if not self._wins_conflict(link, contact, counts):
                continue
            work.append(_Work(contact, reader_id, link, digest))
        return _PageJob(page, work, counts, max_seen)

    def _links_by_keys(self, reads: Repositories, contacts: list[Contact]) -> _KeyMatcher:
        """Links made from the other side that these records may belong to: one look-up
        per page, not per record (a resumed run has many records without links)."""
        found = reads.links.find_by_keys(
            self.integration_id,
            external_ids=[c.external_id for c in contacts if c.external_id],
            emails=[c.email for c in contacts if c.email],
        )
        return _KeyMatcher(found, self._reader_id_of)

    def _wins_conflict(self, link: IdLink | None, contact: Contact, counts: Counts) -> bool:
        if self.conflicts is None or link is None:
            return True
        writer_id = self._writer_id_of(link)
        if writer_id is None or writer_id not in self.conflicts.changed:
            return True
        counts.conflicts += 1
        if self.conflicts.source_wins(writer_id, contact.updated_at):
            # The target's version loses: the reverse pass must not send it back.
            self.conflicts.changed.pop(writer_id, None)
            return True
        return False

    def _commit(self, job: _PageJob) -> None:
        counts = job.counts
        if self.options.dry_run:
            for work in job.work:
                self._plan(work)
                counts.created += work.link is None
                counts.updated += work.link is not None
            self._finish_page(counts)
            return
        outcomes = job.future.result() if job.future is not None else []
        links: list[IdLink] = []
        letters: list[tuple[_Work, UpsertOutcome]] = []
        for work, outcome in zip(job.work, outcomes, strict=True):
            if not outcome.ok:
                counts.failed += 1
                letters.append((work, outcome))
                continue
            known = self._writer_id_of(work.link) if work.link else None
            links.append(self._link(work.reader_id, outcome.id or known, work.contact, work.digest))
            if outcome.status is UpsertStatus.CREATED or (
                outcome.status is UpsertStatus.UPSERTED and work.link is None
            ):
                counts.created += 1
            elif outcome.status is UpsertStatus.UNCHANGED:
                counts.unchanged += 1
            else:
                counts.updated += 1
        position: dict[str, Any] = {
            "resume": job.page.position.to_json(),
            "max_seen": job.max_seen.isoformat() if job.max_seen else None,
            "started": self._started.isoformat(),
        }
        watermark = self._kept_watermark() if job.checkpoint else None
        with self.store.transaction() as tx:
            tx.links.save_many(self.integration_id, links)
            if self.screen is not None:
                self.screen.written(tx, [i for link in links if (i := self._writer_id_of(link))])
            for work, outcome in letters:
                tx.dead_letters.add(
                    self.integration_id,
                    self.direction,
                    work.reader_id,
                    contact_to_json(work.contact),
                    error_message=outcome.message or "refused",
                    error_code=outcome.code,
                )
                if self.job_id:
                    tx.jobs.add_error(
                        self.job_id,
                        record_key=work.reader_id,
                        code=outcome.code,
                        message=_error_text(outcome),
                        source=self.writer.system,
                    )
            if job.checkpoint:
                tx.checkpoints.save(
                    self.integration_id,
                    self._checkpoint,
                    watermark=watermark,
                    position=position,
                )
            if self.job_id:
                tx.jobs.add_counts(self.job_id, **counts.as_dict())
        self._finish_page(counts)

    def _kept_watermark(self) -> datetime | None:
        """The watermark every page's checkpoint keeps, read once per pass: only the end
        of this pass moves it (under the integration's lease)."""
        if not self._watermark_read:
            old = self.store.checkpoints.get(self.integration_id, self._checkpoint)
            self._watermark = None if old is None else old.watermark
            self._watermark_read = True
        return self._watermark

    def _plan(self, work: _Work) -> None:
        key = work.contact.external_id or work.contact.email or work.reader_id
        self.planned.append(
            PlannedWrite(
                direction=self.direction,
                action="update" if work.link else "create",
                key=key,
                name=work.contact.display_name,
            )
        )

    def _finish_page(self, counts: Counts) -> None:
        self.counts.add(counts)
        if self.on_progress is not None:
            self.on_progress(self.direction, self.counts, None)


def scan_changed(
    store: Store, integration_id: str, reader: Connector, compare: Comparer, since: datetime | None
) -> Iterator[tuple[str, datetime | None]]:
    """Target records that changed since their last sync (for conflict detection)."""
    for page in reader.read_changes(since=since):
        ids = [c.ids[reader.system] for c in page.contacts if c.ids.get(reader.system)]
        links = store.links.by_target_ids(integration_id, ids)
        for contact in page.contacts:
            link = links.get(contact.ids.get(reader.system, ""))
            if link is not None and link.target_hash != compare(contact):
                yield str(link.target_id), contact.updated_at


def _done(job: _PageJob) -> bool:
    return job.future is None or job.future.done()


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _error_text(outcome: UpsertOutcome) -> str:
    text = outcome.message or "refused"
    return f"{text} (field {outcome.field})" if outcome.field else text
