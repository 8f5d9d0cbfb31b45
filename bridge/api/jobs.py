"""``/v1/jobs``, ``/v1/jobs/{_id}``, ``/v1/jobs/{_id}/joberrors`` and ``/v1/tokenInfo``.

Job filters are integrator.io's [V]: ``_integrationId``, ``status``, ``type``,
``createdAt_gte`` and ``createdAt_lte`` (inclusive, ISO-8601); newest jobs first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from bridge.api.context import ApiContext
from bridge.api.documents import job_document, job_error_document
from bridge.api.web import (
    PageRequest,
    invalid,
    iso,
    json_response,
    paged_response,
    parse_time,
)
from bridge.store.repos.jobs import STATUSES

JOB_TYPES = ("flow", "webhook")


def list_jobs(ctx: ApiContext, request: Request) -> Response:
    page = PageRequest.from_request(request)
    filters = job_filters(request.args)
    jobs = ctx.store.jobs.query(**filters, skip=page.skip, limit=page.limit)
    total = ctx.store.jobs.count(**filters)
    return paged_response(request, page, [job_document(j) for j in jobs], total)


def job_filters(args: Mapping[str, str]) -> dict[str, Any]:
    """The store query for integrator.io's job filters in ``args`` (checked; 422 if bad)."""
    status = args.get("status")
    if status is not None and status not in STATUSES:
        raise invalid("status", f"`status` must be one of {', '.join(STATUSES)}")
    job_type = args.get("type")
    if job_type is not None and job_type not in JOB_TYPES:
        raise invalid("type", f"`type` must be one of {', '.join(JOB_TYPES)}")
    filters: dict[str, Any] = {
        "integration_id": args.get("_integrationId"),
        "status": status,
        "created_from": (
            parse_time("createdAt_gte", args["createdAt_gte"])
            if "createdAt_gte" in args
            else None
        ),
        "created_to": (
            parse_time("createdAt_lte", args["createdAt_lte"])
            if "createdAt_lte" in args
            else None
        ),
    }
    filters["job_type"] = job_type
    return filters


def get_job(ctx: ApiContext, request: Request, _id: str) -> Response:
    return json_response(job_document(ctx.job(_id)))


def list_job_errors(ctx: ApiContext, request: Request, _id: str) -> Response:
    ctx.job(_id)
    page = PageRequest.from_request(request)
    errors = ctx.store.jobs.errors(_id, skip=page.skip, limit=page.limit + 1)
    total = page.skip + len(errors)
    return paged_response(
        request, page, [job_error_document(e) for e in errors[: page.limit]], total, exact=False
    )


def token_info(ctx: ApiContext, request: Request) -> Response:
    """integrator.io answers the token's user [V]; tokens here have no users, only names."""
    token = ctx.token
    assert token is not None  # the router authenticated the request
    return json_response(
        {
            "_userId": token.id,
            "_tokenId": token.id,
            "name": token.name,
            "scope": "*",
            "createdAt": iso(token.created_at),
        }
    )
