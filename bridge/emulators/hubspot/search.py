"""``POST /crm/v3/objects/contacts/search``: filter groups, one sort, offsets, the ceiling.

Follows the documented rules [V]: filters in a group are ANDed, groups ORed; at most 5
groups, 6 filters per group and 18 in all; one sort; ``limit`` up to 200; ``after`` is a
numeric offset and paging at or past 10,000 answers 400; archived records never appear;
records appear only after the index lag. Numbers and datetimes compare as numbers
(datetimes as epoch ms, given as digits or ISO 8601), other values case-insensitively.
Ties of the sort are broken by id ascending [I: HubSpot does not say].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.emulators.hubspot.schema import BASIC_PROPERTIES, parse_ms
from bridge.emulators.hubspot.store import ContactStore, Record, Refused

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
CEILING = 10_000
NUMERIC = frozenset({"hs_object_id"})
TIMES = frozenset({"createdate", "lastmodifieddate", "hs_lastmodifieddate"})

Test = Callable[[Record], bool]


def _key(name: str) -> Callable[[Record], Any]:
    """How a record's value of ``name`` compares (None when it has none)."""
    if name == "hs_object_id":
        return lambda r: r.id
    if name in ("lastmodifieddate", "hs_lastmodifieddate"):
        return lambda r: r.updated
    if name == "createdate":
        return lambda r: r.created

    def text(r: Record) -> Any:
        value = r.props.get(name)
        return value.lower() if value is not None else None

    return text


def _operand(name: str, value: Any) -> Any:
    if value is None:
        raise Refused(400, "VALIDATION_ERROR", f"Filter on {name} needs a value")
    text = str(value)
    try:
        if name in NUMERIC:
            return int(text)
        if name in TIMES:
            return parse_ms(text)
    except ValueError:
        raise Refused(400, "VALIDATION_ERROR", f"Invalid value {text!r} for {name}") from None
    return text.lower()


def compile_filter(raw: Any) -> Test:
    if not isinstance(raw, dict) or not raw.get("propertyName") or not raw.get("operator"):
        raise Refused(400, "VALIDATION_ERROR", "A filter needs propertyName and operator")
    name, op = str(raw["propertyName"]), str(raw["operator"]).upper()
    key = _key(name)
    if op == "HAS_PROPERTY":
        return lambda r: key(r) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda r: key(r) is None
    if op in ("IN", "NOT_IN"):
        values = {_operand(name, v) for v in raw.get("values") or []}
        if op == "IN":
            return lambda r: key(r) in values
        return lambda r: key(r) not in values
    if op == "BETWEEN":
        low, high = _operand(name, raw.get("value")), _operand(name, raw.get("highValue"))
        return lambda r: (v := key(r)) is not None and low <= v <= high
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(raw.get("value") or "").lower().strip("*")
        found: Test = lambda r: token in str(key(r) or "")  # noqa: E731
        return found if op == "CONTAINS_TOKEN" else (lambda r: not found(r))
    value = _operand(name, raw.get("value"))
    compare: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda v: v == value,
        "NEQ": lambda v: v != value,
        "LT": lambda v: v < value,
        "LTE": lambda v: v <= value,
        "GT": lambda v: v > value,
        "GTE": lambda v: v >= value,
    }
    if op not in compare:
        raise Refused(400, "VALIDATION_ERROR", f"Unknown operator {op}")
    check = compare[op]
    if op == "NEQ":
        return lambda r: check(key(r))
    return lambda r: (v := key(r)) is not None and check(v)


def compile_groups(raw: Any) -> Test | None:
    groups = raw or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise Refused(400, "VALIDATION_ERROR", f"At most {MAX_GROUPS} filterGroups are allowed")
    compiled: list[list[Test]] = []
    total = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise Refused(
                400, "VALIDATION_ERROR", f"At most {MAX_FILTERS_PER_GROUP} filters per group"
            )
        total += len(filters)
        compiled.append([compile_filter(f) for f in filters])
    if total > MAX_FILTERS:
        raise Refused(400, "VALIDATION_ERROR", f"At most {MAX_FILTERS} filters in all")
    if not compiled:
        return None
    joined = [_all(tests) for tests in compiled]
    if len(joined) == 1:
        return joined[0]
    return lambda r: any(test(r) for test in joined)


def _all(tests: list[Test]) -> Test:
    """One test for a group: nested ``and`` calls are cheaper than ``all()`` over a generator."""
    if not tests:
        return lambda r: True
    joined = tests[0]
    for test in tests[1:]:
        joined = (lambda a, b: lambda r: a(r) and b(r))(joined, test)
    return joined


def id_floor(raw: Any) -> int:
    """The lowest id a one-group query can match (its ``hs_object_id`` GT/GTE), else 0.

    Lets the scan start at that id in the sorted id list instead of at the first record.
    """
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
        return 0
    floor = 0
    for f in raw[0].get("filters") or []:
        if isinstance(f, dict) and f.get("propertyName") == "hs_object_id":
            text = str(f.get("value") or "")
            if text.isdigit() and f.get("operator") in ("GT", "GTE"):
                floor = max(floor, int(text) + (1 if f.get("operator") == "GT" else 0))
    return floor


def _sort(raw: Any) -> tuple[str, bool]:
    sorts = raw or []
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise Refused(400, "VALIDATION_ERROR", "Only one sort is allowed")
    if not sorts:
        return "createdate", False
    sort = sorts[0]
    if isinstance(sort, str):
        return sort.lstrip("-"), sort.startswith("-")
    if isinstance(sort, dict) and sort.get("propertyName"):
        return str(sort["propertyName"]), str(sort.get("direction", "")).upper() == "DESCENDING"
    raise Refused(400, "VALIDATION_ERROR", "A sort needs propertyName")


def search(
    store: ContactStore, body: dict[str, Any]
) -> tuple[list[Record], list[str], dict[str, Any]]:
    """Matching records of one page, the property names to return, and the envelope extras."""
    try:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise Refused(400, "VALIDATION_ERROR", "limit and after must be numbers") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Refused(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_LIMIT}")
    if after >= CEILING:
        raise Refused(400, "VALIDATION_ERROR", f"Paging past {CEILING} results is not allowed")
    if len(str(body.get("query") or "")) > 3000:
        raise Refused(400, "VALIDATION_ERROR", "query is limited to 3000 characters")
    test = compile_groups(body.get("filterGroups"))
    name, descending = _sort(body.get("sorts"))
    query = str(body.get("query") or "").lower()
    candidates = store.searchable(id_floor(body.get("filterGroups")))
    matches = candidates if test is None else [r for r in candidates if test(r)]
    if query:
        matches = [r for r in matches if any(query in (v or "").lower() for v in r.props.values())]
    key = _key(name)
    if name in NUMERIC or name in TIMES:
        matches.sort(key=lambda r: (key(r), r.id), reverse=descending)
    else:
        matches.sort(key=lambda r: (key(r) is None, key(r) or "", r.id), reverse=descending)
    page = matches[after : after + limit]
    extras: dict[str, Any] = {"total": len(matches)}
    if after + limit < len(matches):
        extras["paging"] = {"next": {"after": str(after + limit)}}
    properties = [str(p) for p in body.get("properties") or []] or list(BASIC_PROPERTIES)
    return page, properties, extras
