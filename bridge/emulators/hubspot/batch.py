"""The batch endpoints: read, create, update, upsert, archive (100 inputs each).

Envelope [V]: ``{"status": "COMPLETE", "results": [...], "startedAt", "completedAt"}``, and
with per-input errors ``numErrors``/``errors`` and HTTP 207. ``results`` are not promised
in input order [V2], so clients match them by id or by their unique key. See the app's
module docstring for what is inferred.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.emulators.hubspot.schema import iso_ms
from bridge.emulators.hubspot.store import Record, Refused

if TYPE_CHECKING:
    from bridge.emulators.hubspot.app import HubSpotApp

MAX_INPUTS = 100
NOT_FOUND = "Could not get some CONTACT objects, they may be deleted or not exist."


def _refused(exc: Refused, ids: list[str]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": exc.category,
        "message": exc.message,
        "context": {**exc.context, "ids": ids},
    }


def _envelope(
    app: HubSpotApp,
    results: list[Record],
    errors: list[dict[str, Any]],
    ok_status: int,
    names: list[str] | None = None,
) -> tuple[int, Any]:
    stamp = iso_ms(app.store.now_ms())
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": [app.render(r, names if names is not None else r.props) for r in results],
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return 207, body
    return ok_status, body


def handle(
    app: HubSpotApp, action: str, body: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise Refused(400, "VALIDATION_ERROR", "inputs must be a list of objects")
    if len(inputs) > MAX_INPUTS:
        raise Refused(400, "VALIDATION_ERROR", f"At most {MAX_INPUTS} inputs per batch")
    handlers = {
        "read": _read,
        "create": _create,
        "update": _update,
        "upsert": _upsert,
        "archive": _archive,
    }
    if action not in handlers:
        raise Refused(404, "OBJECT_NOT_FOUND", f"No batch action {action}")
    with app.store.lock:
        return handlers[action](app, inputs, body, query)


def _id_property(app: HubSpotApp, body: dict[str, Any], *, email_ok: bool) -> str | None:
    name = body.get("idProperty")
    if not name or (name == "hs_object_id" and email_ok):
        return None
    prop = app.store.properties.get(str(name))
    if (
        prop is None
        or not prop.unique
        or (name == "email" and not email_ok)
        or name == "hs_object_id"
    ):
        raise Refused(
            400,
            "VALIDATION_ERROR",
            f"Unable to perform update/upsert by non-unique 0-1 property {name}",
        )
    return str(name)


def _read(
    app: HubSpotApp, inputs: list[dict[str, Any]], body: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    id_property = _id_property(app, body, email_ok=True)
    names = [str(p) for p in body.get("properties") or []] or None
    found: list[Record] = []
    missing: list[str] = []
    for item in inputs:
        key = str(item.get("id") or "")
        record = app.find(key, id_property, query.get("archived") == "true")
        if record is None:
            missing.append(key)
        else:
            found.append(record)
    if missing and not found:
        raise Refused(
            404,
            "OBJECT_NOT_FOUND",
            "Could not get some CONTACT objects, they may be deleted or not exist.",
        )
    errors = (
        [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not exist. "
                "Check that ids are valid.",
                "context": {"ids": missing},
            }
        ]
        if missing
        else []
    )
    return _envelope(
        app,
        found,
        errors,
        200,
        names
        or ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    )


def _create(
    app: HubSpotApp, inputs: list[dict[str, Any]], body: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    traced = bool(inputs) and all(i.get("objectWriteTraceId") for i in inputs)
    emails = [str((i.get("properties") or {}).get("email") or "").lower() for i in inputs]
    seen: set[str] = set()
    for email in emails:
        if email and email in seen:
            raise Refused(409, "CONFLICT", "Duplicate emails in the batch")
        seen.add(email)
    results: list[Record] = []
    errors: list[dict[str, Any]] = []
    for item in inputs:
        try:
            results.append(app.store.create(item.get("properties") or {}))
        except Refused as exc:
            if not traced:
                raise
            errors.append(
                {
                    "status": "error",
                    "category": exc.category,
                    "message": exc.message,
                    "context": {"objectWriteTraceId": [str(item["objectWriteTraceId"])]},
                }
            )
    return _envelope(app, results, errors, 201)


def _update(
    app: HubSpotApp, inputs: list[dict[str, Any]], body: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    id_property = _id_property(app, body, email_ok=False)
    results: list[Record] = []
    errors: list[dict[str, Any]] = []
    for item in inputs:
        key = str(item.get("id") or "")
        if id_property is None and key.isdigit() and int(key) in app.store.merged_into:
            continue  # old ids of merged records: left out, no error [V2]
        record = app.find(key, id_property, False)
        if record is None or (id_property is None and record.id != int(key)):
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": NOT_FOUND,
                    "context": {"ids": [key]},
                }
            )
            continue
        try:
            results.append(app.store.update(record.id, item.get("properties") or {}))
        except Refused as exc:
            errors.append(_refused(exc, [key]))
    return _envelope(app, results, errors, 200)


def _upsert(
    app: HubSpotApp, inputs: list[dict[str, Any]], body: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    results: list[Record] = []
    created: set[int] = set()
    errors: list[dict[str, Any]] = []
    for item in inputs:
        name = str(item.get("idProperty") or body.get("idProperty") or "")
        id_property = _id_property(app, {"idProperty": name}, email_ok=True)
        if id_property is None:
            raise Refused(
                400, "VALIDATION_ERROR", "upsert needs idProperty (email or a unique property)"
            )
        key = str(item.get("id") or "")
        props = dict(item.get("properties") or {})
        try:
            if not key:
                raise Refused(400, "VALIDATION_ERROR", f"Missing {id_property} value")
            record = app.store.by_unique(id_property, key)
            if record is None:
                record = app.store.create({**props, id_property: key})
                created.add(record.id)
            else:
                record = app.store.update(record.id, props)
            results.append(record)
        except Refused as exc:
            if id_property == "email":
                raise  # partial upserts are not supported on email [V]
            errors.append(_refused(exc, [key]))
    status, envelope = _envelope(app, results, errors, 200)
    for entry, record in zip(envelope["results"], results, strict=True):
        entry["new"] = record.id in created
    return status, envelope


def _archive(
    app: HubSpotApp, inputs: list[dict[str, Any]], body: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    for item in inputs:
        key = str(item.get("id") or "")
        if key.isdigit():
            app.store.archive(int(key))
    return 204, None
