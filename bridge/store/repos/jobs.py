"""Jobs (one run of an integration: status, counts, timings) and their record errors.

Statuses follow integrator.io: ``queued`` -> ``running`` -> ``completed`` | ``failed`` |
``canceled``. Counts are added with ``UPDATE ... SET n = n + k`` so a job's counters stay
right even when several workers report into the same job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update

from bridge.errors import NotFound
from bridge.store.models import JobErrorRow, JobRow
from bridge.store.repos.base import Repository, ms, now_utc
from bridge.store.types import UTCDateTime, new_id, utc

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

# No ORM synchronization: no job object of the session needs keeping in step (the ORM's
# "evaluate" pass over the statement cost more than the UPDATE itself).
_ADD_COUNTS = (
    update(JobRow)
    .where(JobRow.id == bindparam("job_id"))
    .execution_options(synchronize_session=False)
    .values(
        {f"num_{name}": getattr(JobRow, f"num_{name}") + bindparam(name) for name in COUNTS}
        | {"last_modified": bindparam("now", type_=UTCDateTime)}
    )
)


@dataclass(frozen=True, slots=True)
class Job:
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

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class JobError:
    id: int
    job_id: str
    record_key: str | None
    code: str | None
    message: str
    source: str | None
    created_at: datetime


class JobRepo(Repository):
    def create(
        self, integration_id: str, *, type: str = "flow", direction: str | None = None
    ) -> Job:
        now = ms(now_utc())
        row = JobRow(
            id=new_id(),
            integration_id=integration_id,
            type=type,
            direction=direction,
            status=QUEUED,
            **{f"num_{name}": 0 for name in COUNTS},
            created_at=now,
            last_modified=now,
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            return Job.from_row(row)

    def _set(self, job_id: str, only_from: tuple[str, ...], **values: Any) -> Job:
        """Update a job whose status is one of ``only_from``; the job as it is after."""
        with self._write() as session:
            values["last_modified"] = ms(now_utc())
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(only_from))
                .values(**values)
            )
            row = session.get(JobRow, job_id, populate_existing=True)
            if row is None:
                raise NotFound(f"no job {job_id}")
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
        with self._write() as session:
            result = session.execute(
                update(JobRow)
                .where(JobRow.integration_id == integration_id, JobRow.status == RUNNING)
                .values(status=FAILED, error=error, finished_at=now, last_modified=now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def purge_finished(self, before: datetime) -> int:
        """Delete jobs (and their errors) that finished before ``before``; how many."""
        with self._write() as session:
            result = session.execute(
                delete(JobRow).where(JobRow.status.in_(FINISHED), JobRow.finished_at < utc(before))
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def get(self, job_id: str) -> Job | None:
        with self._read() as session:
            row = session.get(JobRow, job_id)
            return Job.from_row(row) if row else None

    def query(
        self,
        *,
        integration_id: str | None = None,
        status: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        job_type: str | None = None,
        skip: int = 0,
        limit: int = 100,
    ) -> list[Job]:
        """Jobs newest first; ``created_from``/``created_to`` are inclusive bounds."""
        filters = _filters(integration_id, status, created_from, created_to, job_type)
        with self._read() as session:
            rows = session.scalars(
                filters(select(JobRow))
                .order_by(JobRow.created_at.desc(), JobRow.id.desc())
                .offset(skip)
                .limit(limit)
            )
            return [Job.from_row(row) for row in rows]

    def count(
        self,
        *,
        integration_id: str | None = None,
        status: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        job_type: str | None = None,
    ) -> int:
        filters = _filters(integration_id, status, created_from, created_to, job_type)
        with self._read() as session:
            return session.scalar(filters(select(func.count()).select_from(JobRow))) or 0

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
        with self._write() as session:
            session.add(row)
            session.flush()
            return _job_error(row)

    def errors(self, job_id: str, *, skip: int = 0, limit: int = 1000) -> list[JobError]:
        with self._read() as session:
            rows = session.scalars(
                select(JobErrorRow)
                .filter_by(job_id=job_id)
                .order_by(JobErrorRow.id)
                .offset(skip)
                .limit(limit)
            )
            return [_job_error(row) for row in rows]


def _job_error(row: JobErrorRow) -> JobError:
    return JobError(
        row.id, row.job_id, row.record_key, row.code, row.message, row.source, row.created_at
    )


def _filters(
    integration_id: str | None,
    status: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    job_type: str | None = None,
) -> Any:
    def apply(query: Select[Any]) -> Select[Any]:
        if integration_id is not None:
            query = query.where(JobRow.integration_id == integration_id)
        if status is not None:
            query = query.where(JobRow.status == status)
        if job_type is not None:
            query = query.where(JobRow.type == job_type)
        if created_from is not None:
            query = query.where(JobRow.created_at >= utc(created_from))
        if created_to is not None:
            query = query.where(JobRow.created_at <= utc(created_to))
        return query

    return apply
