"""Jinja filters of the console: times, durations, rates, counts (display only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.store import Job


def when(value: datetime | None) -> str:
    """A UTC time to the second, or a dash."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes} min {rest} s"


def job_rate(job: Job) -> float | None:
    """Records read per second: over the run so far, or over the whole run once finished."""
    if job.started_at is None:
        return None
    end = job.finished_at or datetime.now(UTC)
    elapsed = (end - job.started_at).total_seconds()
    return job.num_read / elapsed if elapsed > 0 else None


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}/s"


def job_progress(job: Job) -> dict[str, Any]:
    """The live figures of a job, as the page shows them and the script polls them."""
    return {
        "status": job.status,
        "read": job.num_read,
        "written": job.num_created + job.num_updated,
        "unchanged": job.num_unchanged,
        "failed": job.num_failed,
        "conflicts": job.num_conflicts,
        "rate": rate(job_rate(job)),
        "duration": seconds(job.duration),
        "finished": job.finished_at is not None,
    }


FILTERS = {"when": when, "seconds": seconds, "rate": rate}
