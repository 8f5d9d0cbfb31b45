"""Prometheus metrics of one server process, and the hooks that feed them.

- REST calls by system and status, with latency: a listener on :mod:`bridge.http`. The
  HTTP layer reports the final answer of a call, so ``rest_retryable_responses`` counts the
  answers that lead to a retry when one is allowed (429 and 5xx).
- Sync records by direction and outcome, and run durations: fed by the control plane's
  job runner when a job it started finishes.

Metrics live in the process's registry (:mod:`bridge.metrics`), beside the facade's SOAP
metrics (:mod:`bridge.facade.metrics`); under gunicorn each worker answers ``/metrics`` for
itself.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Histogram

from bridge import http
from bridge.metrics import LATENCY_BUCKETS, REGISTRY
from bridge.store import Job
from bridge.store.repos.jobs import COUNTS
from bridge.sync.deletes import add_delete_listener
from bridge.sync.report import Counts

REST_CALLS = Counter(
    "soapbridge_rest_calls",
    "Calls to remote systems, by system and HTTP status.",
    ["system", "status"],
    registry=REGISTRY,
)
REST_RETRYABLE = Counter(
    "soapbridge_rest_retryable_responses",
    "Remote answers that are retried where the call allows it (429, 5xx), by system and status.",
    ["system", "status"],
    registry=REGISTRY,
)
REST_LATENCY = Histogram(
    "soapbridge_rest_call_seconds",
    "Duration of calls to remote systems, by system.",
    ["system"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
SYNC_RECORDS = Counter(
    "soapbridge_sync_records",
    "Records handled by sync jobs, by job type and outcome.",
    ["type", "outcome"],
    registry=REGISTRY,
)
SYNC_JOBS = Counter(
    "soapbridge_sync_jobs",
    "Sync jobs finished, by job type and status.",
    ["type", "status"],
    registry=REGISTRY,
)
SYNC_LATENCY = Histogram(
    "soapbridge_sync_job_seconds",
    "Duration of sync jobs, by job type.",
    ["type"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "soapbridge_webhook_notifications",
    "Webhook notifications received, by source and outcome (accepted, refused).",
    ["source", "outcome"],
    registry=REGISTRY,
)

DELETES = Counter(
    "soapbridge_deletes",
    "Deletes carried to a system, by system written to and outcome "
    "(deleted, flagged, gone, ignored, failed).",
    ["system", "outcome"],
    registry=REGISTRY,
)

_listening = threading.Lock()
_listener_added = False


def _on_rest_call(system: str, _operation: str, status: int, seconds: float) -> None:
    REST_CALLS.labels(system, str(status)).inc()
    REST_LATENCY.labels(system).observe(seconds)
    if status == 429 or status >= 500:
        REST_RETRYABLE.labels(system, str(status)).inc()


def _on_delete(system: str, outcome: str) -> None:
    DELETES.labels(system, outcome).inc()


def listen_to_rest_calls() -> None:
    """Count REST calls from now on (once per process)."""
    global _listener_added
    with _listening:
        if not _listener_added:
            http.add_response_listener(_on_rest_call)
            add_delete_listener(_on_delete)
            _listener_added = True


def record_counts(job_type: str, counts: Counts) -> None:
    for outcome, value in counts.as_dict().items():
        if value and outcome != "read":
            SYNC_RECORDS.labels(job_type, outcome).inc(value)


def record_job(job: Job) -> None:
    """Count a finished job: its status, duration and per-outcome record counts."""
    SYNC_JOBS.labels(job.type, job.status).inc()
    if job.duration is not None:
        SYNC_LATENCY.labels(job.type).observe(job.duration)
    # The job keeps each count of the run in its ``num_<outcome>`` column.
    record_counts(job.type, Counts(**{name: getattr(job, f"num_{name}") for name in COUNTS}))

