"""Handlers for the Bigin v2 record and watch endpoints (the app does auth and limits).

Listing [V: S7 recorded ``info``; V2: S8]: ``fields`` is required (at most 50),
``per_page`` at most 200, ``page`` reaches the first 2,000 records only, beyond that
``page_token`` from ``info.next_page_token`` (expiring after ``page_token_ttl``),
``sort_by`` ``id|Created_Time|Modified_Time`` (default ``id desc``), ``If-Modified-Since``
(304 when nothing changed), 204 with no body when there is nothing to return. The error
codes for a page past 2,000 (``DISCRETE_PAGINATION_LIMIT_EXCEEDED``) and for a bad page
token follow Zoho CRM [I].
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bridge.emulators.bigin.criteria import CriteriaError, parse_criteria
from bridge.emulators.bigin.http import Reply, Request, error
from bridge.emulators.bigin.limits import write_cost
from bridge.emulators.bigin.watch import WatchError

if TYPE_CHECKING:
    from bridge.emulators.bigin.app import BiginApp

PAGE_LIMIT = 2000
MAX_PER_PAGE = 200
MAX_WRITE = 100
MAX_FIELDS = 50
SORT_FIELDS = ("id", "Created_Time", "Modified_Time")


def parse_time(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise error(400, "INVALID_DATA", f"{what} is not a valid datetime", param=what) from None
    if value.tzinfo is None:
        raise error(400, "INVALID_DATA", f"{what} needs a UTC offset", param=what)
    return value


def _int(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error(400, "INVALID_DATA", f"{name} must be a number", param=name) from None
    if value < low or (high is not None and value > high):
        raise error(400, "INVALID_DATA", f"{name} is out of range", param=name, maximum=high)
    return value


def _fields(request: Request) -> list[str]:
    raw = request.query.get("fields")
    if not raw:
        raise error(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            param="fields",
        )
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if len(fields) > MAX_FIELDS:
        raise error(400, "LIMIT_EXCEEDED", "too many fields", param="fields", limit=MAX_FIELDS)
    return fields


def list_records(app: BiginApp, request: Request, module: str) -> Reply:
    fields = _fields(request)
    per_page = _int(request, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    token_text = request.query.get("page_token")
    if token_text:
        with app.page_lock:
            state = app.page_tokens.get(token_text)
        if state is None or state["module"] != module or state["expiry"] <= app.now():
            raise error(
                400, "INVALID_DATA", "the page token is invalid or expired", param="page_token"
            )
        since, sort_by, order, offset = (
            state["since"],
            state["sort_by"],
            state["sort_order"],
            state["offset"],
        )
        limit = None
    else:
        page = _int(request, "page", 1, 1, None)
        sort_by = request.query.get("sort_by") or "id"
        order = (request.query.get("sort_order") or "desc").lower()
        if sort_by not in SORT_FIELDS or order not in ("asc", "desc"):
            raise error(400, "INVALID_DATA", "invalid sort_by or sort_order", param="sort_by")
        header = request.headers.get("if-modified-since")
        since = parse_time(header, "If-Modified-Since") if header else None
        offset = (page - 1) * per_page
        if offset >= PAGE_LIMIT:
            raise error(
                400,
                "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                f"cannot fetch more than {PAGE_LIMIT} records with page; use page_token",
                limit=PAGE_LIMIT,
            )
        limit = PAGE_LIMIT
    app.charge(1)
    end = offset + per_page if limit is None else min(offset + per_page, limit)
    total, chunk = app.store.select_slice(
        module,
        sort_by=sort_by,
        descending=order == "desc",
        start=offset,
        stop=end,
        modified_after=since,
    )
    if since is not None and not total:
        raise Reply(304)
    if not chunk:
        raise Reply(204)
    more = total > offset + len(chunk)
    next_token, expiry = None, None
    if more:
        next_token = secrets.token_hex(24)
        expiry = app.now() + timedelta(seconds=app.page_token_ttl)
        with app.page_lock:
            if len(app.page_tokens) > 1000:
                # A long-running emulator would otherwise keep every token ever issued.
                now = app.now()
                for stale in [t for t, v in app.page_tokens.items() if v["expiry"] <= now]:
                    del app.page_tokens[stale]
            app.page_tokens[next_token] = {
                "module": module,
                "since": since,
                "sort_by": sort_by,
                "sort_order": order,
                "offset": offset + len(chunk),
                "expiry": expiry,
            }
    info = {
        "per_page": per_page,
        "next_page_token": next_token,
        "count": len(chunk),
        "sort_by": sort_by,
        "page": offset // per_page + 1,
        "previous_page_token": token_text or None,
        "page_token_expiry": app.render_time(expiry) if expiry else None,
        "sort_order": order,
        "more_records": more,
    }
    return Reply(200, {"data": [app.render(r, fields) for r in chunk], "info": info})


def search_records(app: BiginApp, request: Request, module: str) -> Reply:
    given = [k for k in ("criteria", "email", "phone", "word") if request.query.get(k)]
    if len(given) != 1:
        raise error(
            400,
            "REQUIRED_PARAM_MISSING" if not given else "INVALID_QUERY",
            "give exactly one of criteria, email, phone, word",
            param="criteria",
        )
    kind, value = given[0], request.query[given[0]]
    predicate: Callable[[dict[str, Any]], bool]
    if kind == "criteria":
        try:
            predicate = parse_criteria(value)
        except CriteriaError as exc:
            raise error(
                400, "INVALID_QUERY", f"invalid criteria: {exc}", param="criteria"
            ) from None
    elif kind == "email":
        wanted = value.strip().lower()
        predicate = lambda r: (r.get("Email") or "").lower() == wanted  # noqa: E731
    elif kind == "phone":
        predicate = lambda r: value in (r.get("Phone"), r.get("Mobile"), r.get("Home_Phone"))  # noqa: E731
    else:
        if len(value) < 2:
            raise error(400, "INVALID_QUERY", "word needs at least 2 characters", param="word")
        needle = value.lower()
        predicate = lambda r: any(  # noqa: E731
            isinstance(v, str) and needle in v.lower() for v in r.values()
        )
    per_page = _int(request, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    page = _int(request, "page", 1, 1, None)
    app.charge(1)
    # The search index trails writes (Nango measured 10-20 s) [V2]; search_lag mimics it.
    visible_until = app.now() - timedelta(seconds=app.search_lag)
    _total, rows = app.store.select_slice(
        module,
        where=lambda r: r["Modified_Time"] <= visible_until and predicate(r),
        sort_by="id",
        descending=False,
        stop=PAGE_LIMIT,
    )
    chunk = rows[(page - 1) * per_page : page * per_page]
    if not chunk:
        raise Reply(204)
    more = len(rows) > page * per_page
    info = {"count": len(chunk), "page": page, "per_page": per_page, "more_records": more}
    return Reply(200, {"data": [app.render(r) for r in chunk], "info": info})


def get_record(app: BiginApp, module: str, record_id: str) -> Reply:
    app.charge(1)
    record = app.store.get(module, record_id)
    if record is None:
        raise Reply(204)
    return Reply(200, {"data": [app.render(record)]})


def _rows(request: Request) -> list[Any]:
    body = request.json()
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise error(
            400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", param="data"
        )
    if len(rows) > MAX_WRITE:
        raise error(
            400,
            "LIMIT_EXCEEDED",
            f"a write takes at most {MAX_WRITE} records",
            limit=MAX_WRITE,
            api_name="data",
        )
    return rows


def write_records(
    app: BiginApp, request: Request, module: str, mode: str, record_id: str | None = None
) -> Reply:
    rows = _rows(request)
    if record_id is not None:
        rows = [dict(rows[0], id=record_id) if isinstance(rows[0], dict) else rows[0]]
    dup_fields = None
    if mode == "upsert":
        body = request.json()
        raw = body.get("duplicate_check_fields")
        if raw is not None:
            unique = app.store.modules[module].spec.unique
            if not isinstance(raw, list) or not raw or not set(raw) <= set(unique):
                raise error(
                    400,
                    "INVALID_DATA",
                    "duplicate_check_fields must name unique fields",
                    param="duplicate_check_fields",
                )
            dup_fields = [str(f) for f in raw]
    app.charge(write_cost(len(rows)))
    entries, events = app.store.write(module, rows, mode, dup_fields)
    app.notify(module, events, request.base_url)
    ok = any(e.get("status") == "success" for e in entries)
    if not ok:
        status = 400
    elif mode == "insert":
        status = 201 if len(rows) == 1 else 202
    else:
        status = 200
    return Reply(status, {"data": [app.render_entry(e) for e in entries]})


def delete_records(app: BiginApp, request: Request, module: str, record_id: str | None) -> Reply:
    if record_id is not None:
        ids = [record_id]
    else:
        ids = [i for i in (request.query.get("ids") or "").split(",") if i.strip()]
        if not ids:
            raise error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                param="ids",
            )
        if len(ids) > MAX_WRITE:
            raise error(400, "LIMIT_EXCEEDED", "at most 100 ids", limit=MAX_WRITE)
    app.charge(1)
    entries, events = app.store.delete(module, ids)
    app.notify(module, events, request.base_url)
    ok = any(e.get("status") == "success" for e in entries)
    return Reply(200 if ok else 400, {"data": entries})


# -- watch ------------------------------------------------------------------------------


def _channel_entry(app: BiginApp, channel: dict[str, Any], base: str, message: str) -> dict:
    module = channel["events"][0].partition(".")[0]
    return {
        "code": "SUCCESS",
        "details": {
            "events": [
                {
                    "channel_expiry": app.render_time(channel["channel_expiry"]),
                    "resource_uri": f"{base}/bigin/v1/{module}",
                    "resource_id": "7618134000000002179",
                    "resource_name": module,
                    "channel_id": channel["channel_id"],
                }
            ]
        },
        "message": message,
        "status": "success",
    }


def watch(app: BiginApp, request: Request) -> Reply:
    app.charge(1)
    base = app.api_domain or request.base_url
    if request.method in ("POST", "PUT"):
        body = request.json()
        items = body.get("watch") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise error(400, "REQUIRED_PARAM_MISSING", "watch is required", param="watch")
        replace = request.method == "PUT"
        message = (
            "Successfully updated the watch details"
            if replace
            else "Successfully subscribed for actions-watch of the given module"
        )
        entries = []
        for raw in items:
            try:
                channel = app.channels.subscribe(raw, replace=replace)
            except WatchError as exc:
                entries.append(exc.entry)
                continue
            entries.append(_channel_entry(app, channel, base, message))
        ok = any(e["status"] == "success" for e in entries)
        return Reply((200 if replace else 201) if ok else 400, {"watch": entries})
    if request.method == "GET":
        channels = app.channels.active()
        wanted_id, wanted_module = request.query.get("channel_id"), request.query.get("module")
        channels = [
            c
            for c in channels
            if (not wanted_id or c["channel_id"] == wanted_id)
            and (not wanted_module or any(e.startswith(wanted_module + ".") for e in c["events"]))
        ]
        if not channels:
            raise Reply(204)
        listed = [
            dict(c, channel_expiry=app.render_time(c["channel_expiry"]), fields=None)
            for c in channels
        ]
        info = {"per_page": 200, "count": len(listed), "page": 1, "more_records": False}
        return Reply(200, {"watch": listed, "info": info})
    if request.method == "DELETE":
        ids = [i for i in (request.query.get("channel_ids") or "").split(",") if i.strip()]
        if not ids:
            raise error(
                400, "REQUIRED_PARAM_MISSING", "channel_ids is required", param="channel_ids"
            )
        entries = []
        for channel_id in ids:
            removed = app.channels.remove(channel_id.strip())
            if removed is None:
                entries.append(
                    {
                        "code": "INVALID_DATA",
                        "details": {"channel_id": channel_id},
                        "message": "no such channel",
                        "status": "error",
                    }
                )
                continue
            module = removed["events"][0].partition(".")[0]
            entries.append(
                {
                    "code": "SUCCESS",
                    "details": {
                        "resource_uri": f"{base}/bigin/v1/{module}",
                        "resource_id": "7618134000000002179",
                        "channel_id": channel_id,
                    },
                    "message": "Successfully un-subscribed from actions-watch",
                    "status": "success",
                }
            )
        ok = any(e["status"] == "success" for e in entries)
        return Reply(200 if ok else 400, {"watch": entries})
    raise error(405, "METHOD_NOT_ALLOWED", "method not allowed")
