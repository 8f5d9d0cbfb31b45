"""Jobs (one run of an integration: status, counts, timings) and their record errors.

Statuses follow integrator.io: ``queued`` -> ``running`` -> ``completed`` | ``failed`` |
``canceled``. Counts are added with ``UPDATE ... SET n = n + k`` so a job's counters stay
right even when several workers report into the same job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, select, update

from bridge.errors import NotFound
from bridge.store.models import JobErrorRow, JobRow
from bridge.store.repos.base import (
    Record,
    Repository,
    existing,
    filter_conditions,
    ms,
    new_row,
    now_utc,
)
from bridge.store.types import UTCDateTime, utc

QUEUED, RUNNING, COMPLETED, FAILED, CANCELED = (
    "queued",
    "running",
    "completed",
    "failed",
    "canceled",
)
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELED)
FINISHED = (COMPLETED, FAILED, CANCELED)
COUNTS = ("read", "created", "updated", "unchanged", "failed", "conflicts", "deleted")

# On the table, not the mapped class: no job object of a session needs keeping in step,
# and a Core UPDATE skips the ORM's bulk-update steps (which cost more than the UPDATE).
_JOBS = cast(Table, JobRow.__table__)
_ADD_COUNTS = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"))
    .values(
        {f"num_{name}": _JOBS.c[f"num_{name}"] + bindparam(name) for name in COUNTS}
        | {"last_modified": bindparam("now", type_=UTCDateTime)}
    )
)


@dataclass(frozen=True, slots=True)
class Job(Record):
    id: str
    integration_id: str
    type: str
    direction: str | None
    status: str
    num_read: int
    num_created: int
    num_updated: int
    num_unchanged: int
    num_failed: int
    num_conflicts: int
    num_deleted: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_modified: datetime

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (or None while not finished)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class JobError(Record):
    id: int
    job_id: str
    record_key: str | None
    code: str | None
    message: str
    source: str | None
    created_at: datetime


class JobFilters(TypedDict, total=False):
    """Which jobs a listing or a count is of; ``created_from``/``created_to`` are inclusive."""

    integration_id: str | None
    status: str | None
    created_from: datetime | None
    created_to: datetime | None
    job_type: str | None


class JobRepo(Repository):
    def create(
        self, integration_id: str, *, type: str = "flow", direction: str | None = None
    ) -> Job:
        counts = {f"num_{name}": 0 for name in COUNTS}
        job = {"integration_id": integration_id, "type": type, "direction": direction}
        return self._add(new_row(JobRow, **job, status=QUEUED, **counts), Job)

    def _set(self, job_id: str, only_from: tuple[str, ...], **values: Any) -> Job:
        """Update a job whose status is one of ``only_from``; the job as it is after."""
        with self._write() as session:
            values["last_modified"] = ms(now_utc())
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(only_from))
                .values(**values)
            )
            row = existing(session, JobRow, job_id, "job", populate_existing=True)
            return Job.from_row(row)

    def start(self, job_id: str) -> Job:
        return self._set(job_id, (QUEUED,), status=RUNNING, started_at=ms(now_utc()))

    def add_counts(self, job_id: str, **deltas: int) -> None:
        """Add to counters by name: ``add_counts(id, read=100, created=3)``."""
        unknown = set(deltas) - set(COUNTS)
        if unknown:
            raise TypeError(f"unknown job counter(s): {', '.join(sorted(unknown))}")
        values = {name: deltas.get(name, 0) for name in COUNTS}
        # One UPDATE built once, no read back: the sync adds a page's counts in every
        # page's commit (counters not named add 0).
        with self._write() as session:
            result = session.execute(
                _ADD_COUNTS, {"job_id": job_id, "now": ms(now_utc()), **values}
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no job {job_id}")

    def finish(self, job_id: str, status: str = COMPLETED, error: str | None = None) -> Job:
        """End a queued or running job; a job already finished keeps its first ending."""
        if status not in FINISHED:
            raise ValueError(f"a job finishes as one of {', '.join(FINISHED)}, not {status!r}")
        return self._set(
            job_id, (QUEUED, RUNNING), status=status, error=error, finished_at=ms(now_utc())
        )

    def cancel(self, job_id: str) -> Job:
        return self.finish(job_id, CANCELED)

    def abandon_running(self, integration_id: str, error: str) -> int:
        """Mark jobs left ``running`` by a crashed worker as failed (call under the lease)."""
        now = ms(now_utc())
        return self._change(
            update(JobRow)
            .where(JobRow.integration_id == integration_id, JobRow.status == RUNNING)
            .values(status=FAILED, error=error, finished_at=now, last_modified=now)
        )

    def purge_finished(self, before: datetime) -> int:
        """Delete jobs (and their errors) that finished before ``before``; how many."""
        finished = (JobRow.status.in_(FINISHED), JobRow.finished_at < utc(before))
        return self._change(delete(JobRow).where(*finished))

    def get(self, job_id: str) -> Job | None:
        return self._get(JobRow, job_id, Job)

    def query(self, *, skip: int = 0, limit: int = 100, **filters: Unpack[JobFilters]) -> list[Job]:
        """Jobs newest first."""
        query = select(JobRow).where(*filter_conditions(filters, _FILTERS))
        query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc())
        return self._list(query, Job, skip=skip, limit=limit)

    def count(self, **filters: Unpack[JobFilters]) -> int:
        return self._count(JobRow, *filter_conditions(filters, _FILTERS))

    def add_error(
        self,
        job_id: str,
        message: str,
        *,
        code: str | None = None,
        record_key: str | None = None,
        source: str | None = None,
    ) -> JobError:
        row = JobErrorRow(
            job_id=job_id,
            message=message,
            code=code,
            record_key=record_key,
            source=source,
            created_at=ms(now_utc()),
        )
        return self._add(row, JobError)

    def errors(self, job_id: str, *, skip: int = 0, limit: int = 1000) -> list[JobError]:
        query = select(JobErrorRow).filter_by(job_id=job_id).order_by(JobErrorRow.id)
        return self._list(query, JobError, skip=skip, limit=limit)


#: The condition each of :class:`JobFilters` adds to a query.
_FILTERS: dict[str, Callable[[Any], ColumnElement[bool]]] = {
    "integration_id": lambda value: JobRow.integration_id == value,
    "status": lambda value: JobRow.status == value,
    "job_type": lambda value: JobRow.type == value,
    "created_from": lambda value: JobRow.created_at >= utc(value),
    "created_to": lambda value: JobRow.created_at <= utc(value),
}
