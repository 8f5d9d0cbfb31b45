"""HubSpot reads that page: the full id walk, the search change feed, the archived list.

**Full read** (no ``since``): the list endpoint, 100 a page in ascending id order with its
``after`` cursor [V]. It has no depth limit and a write cannot shift it (ids never move).

**Change feed** (``since``): search [V] on ``lastmodifieddate`` between a lower bound and an
upper bound fixed when the feed opens (so a record written during the read cannot move
in front of the reader; it is the next run's), sorted by ``hs_object_id`` ascending, 200 a
page. Each page is a fresh query whose lower bound on ``hs_object_id`` has moved past the
last id seen, so ``after`` stays 0 and the 10,000-result ceiling is never reached however
many records changed; a tie of thousands of records on one millisecond (a bulk import)
costs nothing extra because the order is the id. The position (upper bound, last id) is
all a resume needs. Search shows a write only after a short index lag [V]: the feed opens
``overlap`` before ``since`` so a record indexed late is read by the next run.

**Archived list** (the deletions feed): ``archived=true`` pages every archived record with
its ``archivedAt`` [V]; it cannot be filtered by time, so the filter on ``since`` is ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.connectors.hubspot.client import SYSTEM, HubSpotClient
from bridge.connectors.hubspot.mapping import epoch_ms, parse_time
from bridge.connectors.kit.paging import LoopGuard

CONTACTS = "/crm/v3/objects/contacts"
LIST_LIMIT = 100
SEARCH_LIMIT = 200


@dataclass(slots=True)
class Fetched:
    records: list[dict[str, Any]]
    cursor: dict[str, Any]
    more: bool


def walk(
    client: HubSpotClient, properties: str, cursor: dict[str, Any], *, archived: bool = False
) -> Iterator[Fetched]:
    """The list endpoint from ``cursor`` (``{"after": id}``) to the end."""
    after = cursor.get("after")
    guard = LoopGuard(SYSTEM)
    while True:
        params: dict[str, Any] = {"limit": LIST_LIMIT, "properties": properties}
        if after:
            params["after"] = after
        if archived:
            params["archived"] = "true"
        _, body = client.call("GET", CONTACTS, params=params)
        body = body or {}
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        more = bool(after)
        records = list(body.get("results") or [])
        guard.check(records, more, f"after={params.get('after')}")
        yield Fetched(records, {"after": str(after)} if more else {}, more)
        if not more:
            return


def search_window(
    client: HubSpotClient,
    properties: list[str],
    lower: datetime,
    cursor: dict[str, Any],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[Fetched]:
    """Records modified in [lower, upper], by id, from ``cursor`` (``upper``, ``last_id``)."""
    upper = str(cursor.get("upper") or epoch_ms(now()))
    last_id = str(cursor.get("last_id") or "0")
    guard = LoopGuard(SYSTEM)
    while True:
        filters = [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": epoch_ms(lower)},
            {"propertyName": "lastmodifieddate", "operator": "LTE", "value": upper},
            {"propertyName": "hs_object_id", "operator": "GT", "value": last_id},
        ]
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": properties,
            "limit": SEARCH_LIMIT,
            "after": "0",
        }
        _, answer = client.call("POST", CONTACTS + "/search", json=body, search=True)
        answer = answer or {}
        records = list(answer.get("results") or [])
        more = bool((answer.get("paging") or {}).get("next")) and bool(records)
        guard.check(records, more, f"hs_object_id > {last_id}")
        if records:
            last_id = str(records[-1].get("id"))
        yield Fetched(records, {"upper": upper, "last_id": last_id}, more)
        if not more:
            return


def archived_since(client: HubSpotClient, since: datetime | None) -> Iterator[list[str]]:
    """Ids archived at or after ``since`` (all when None), one list per non-empty page."""
    # Our times are whole seconds: a feed may repeat an id near ``since``, never miss one.
    floor = since.replace(microsecond=0) if since is not None else None
    for fetched in walk(client, "hs_object_id", {}, archived=True):
        ids = []
        for record in fetched.records:
            at = parse_time(record.get("archivedAt"))
            if floor is None or (at is not None and at >= floor):
                ids.append(str(record.get("id")))
        if ids:
            yield ids
