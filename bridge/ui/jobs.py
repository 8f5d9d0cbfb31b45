"""Console pages of jobs: the filterable list, one job with its errors, live progress.

Filters are the ``/v1/jobs`` ones, checked by the same function. A job's errors can be
retried (their dead letters replayed) or marked resolved (their letters dismissed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from bridge.api.jobs import JOB_TYPES, job_filters
from bridge.api.replays import replay
from bridge.api.web import ApiError, json_response
from bridge.runs.replay import letters_for_errors
from bridge.store.repos.jobs import STATUSES
from bridge.ui.format import job_progress

if TYPE_CHECKING:
    from bridge.ui.app import View

PAGE = 25
FILTER_KEYS = ("_integrationId", "status", "type", "createdAt_gte", "createdAt_lte")
MAX_ERRORS = 500


def list_page(view: View) -> Response:
    args = view.request.args
    chosen = {k: args[k].strip() for k in FILTER_KEYS if args.get(k, "").strip()}
    try:
        skip = max(int(args.get("skip", 0)), 0)
    except ValueError:
        skip = 0
    store = view.ctx.store
    error = None
    try:
        filters = job_filters(chosen)
    except ApiError as refusal:
        error, filters = refusal.message, {}
    jobs = store.jobs.query(**filters, skip=skip, limit=PAGE)
    total = store.jobs.count(**filters)
    names = {i.id: i.name for i in store.integrations.all(limit=10_000)}

    def page_link(to: int) -> str:
        return "/ui/jobs?" + urlencode({**chosen, "skip": to})

    return view.render(
        "jobs.html",
        title="Jobs",
        jobs=jobs,
        progress={job.id: job_progress(job) for job in jobs},
        names=names,
        chosen=chosen,
        statuses=STATUSES,
        types=JOB_TYPES,
        total=total,
        skip=skip,
        page=PAGE,
        prev_link=page_link(max(skip - PAGE, 0)) if skip > 0 else None,
        next_link=page_link(skip + PAGE) if skip + PAGE < total else None,
        error=error,
    )


def detail_page(view: View, _id: str, *, message: str | None = None, status: int = 200) -> Response:
    store = view.ctx.store
    job = view.ctx.job(_id)
    integration = store.integrations.get(job.integration_id)
    errors = store.jobs.errors(job.id, limit=MAX_ERRORS)
    letters = (
        {
            letter.record_key: letter
            for letter in letters_for_errors(view.ctx.wiring, integration, errors)
        }
        if integration is not None
        else {}
    )
    return view.render(
        "job.html",
        status,
        title=f"Job {job.id}",
        job=job,
        live=job_progress(job),
        integration=integration,
        errors=errors,
        letters=letters,
        message=message,
    )


def progress(view: View, _id: str) -> Response:
    """The job's live figures as JSON, polled by ``console.js``."""
    return json_response(job_progress(view.ctx.job(_id)))


def act_on_errors(view: View, _id: str) -> Response:
    """``retry`` or ``resolve`` one error (``error``) or all of them (``all``)."""
    store = view.ctx.store
    job = view.ctx.job(_id)
    integration = view.ctx.integration(job.integration_id)
    form = view.request.form
    errors = store.jobs.errors(job.id, limit=MAX_ERRORS)
    if form.get("error"):
        errors = [e for e in errors if str(e.id) == form["error"]]
    elif form.get("scope") != "all":
        raise ApiError(422, "invalid_field", "choose one error or all of them")
    letters = letters_for_errors(view.ctx.wiring, integration, errors)
    action = form.get("action")
    if not letters:
        text = "Nothing to do: those records have no open dead letter."
    elif action == "retry":
        result = replay(view.ctx.wiring, integration, [letter.id for letter in letters])
        text = (
            f"Retried {result.tried}: {result.resolved} succeeded, {result.failed} still failing."
        )
    elif action == "resolve":
        done = store.dead_letters.resolve([letter.id for letter in letters])
        text = f"Marked {done} resolved (not sent again)."
    else:
        raise ApiError(422, "invalid_field", "the action is retry or resolve")
    return detail_page(view, _id, message=text)
