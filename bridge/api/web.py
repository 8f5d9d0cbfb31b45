"""HTTP plumbing of the control plane: the error envelope, JSON answers, list paging.

Every refusal is integrator.io's envelope, ``{"errors": [{"code", "message", "field"?}]}``
[V], raised anywhere in a handler as :class:`ApiError`. Lists answer a bare JSON array and
page with ``skip``/``limit`` plus an RFC 8288 ``Link`` header (``rel="next"``/``"prev"``),
as integrator.io does [V]; the default page is 100 and the largest 1000. A request body's
strings (values and keys, at any depth) must be text: a control character other than tab,
newline and carriage return, or an unpaired surrogate, is refused (422 ``invalid_text``
naming the field) before anything is stored; emoji and markup are stored as sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SKIP = 10**9
#: Not text: C0 controls but tab, newline and carriage return; DEL and the C1 controls;
#: unpaired surrogates (``"\ud800"`` in JSON decodes to one, and no encoding stores it).
#: PostgreSQL refuses NUL in text; terminals and log viewers act on escapes.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
T = TypeVar("T")


class ApiError(Exception):
    """A refusal with its HTTP status and one or more envelope entries."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def envelope(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            entry["field"] = self.field
        return {"errors": [entry]}


def invalid(field: str, message: str, code: str = "invalid_field") -> ApiError:
    """A 422 for one field of a request body or query."""
    return ApiError(422, code, message, field=field)


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, "not_found", f"{kind} not found for the given id {ident!r}")


def found(record: T | None, kind: str, ident: str) -> T:
    """``record`` as the store gave it; a 404 naming ``kind`` and ``ident`` when it had none."""
    if record is None:
        raise not_found(kind, ident)
    return record


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(data, status=status, headers=headers, content_type="application/json")


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.envelope(), error.status, headers)


def iso(value: datetime | None) -> str | None:
    """integrator.io's timestamp form: UTC, milliseconds, ``Z``."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_time(field: str, text: str) -> datetime:
    """An ISO-8601 query value as an aware datetime (naive means UTC)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(field, f"`{field}` must be an ISO-8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_json(raw: bytes, message: str = "the request body is not valid JSON") -> Any:
    """``raw`` parsed; 400 for anything that is not JSON, including nesting too deep to
    parse (the decoder recurses: ``[[[...`` ten thousand deep raises RecursionError)."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", message) from None


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 for bad JSON, 422 for anything but an object or for
    a string in it that is not text (:func:`check_text`)."""
    body = parse_json(request.get_data(cache=True) or b"{}")
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_body", "the request body must be a JSON object")
    check_text(body)
    return body


def check_text(value: Any, field: str = "") -> None:
    """422 ``invalid_text`` for the first string in ``value`` (a parsed JSON document)
    holding a character that is not text (:data:`NOT_TEXT`); the field is named as the
    API's refusals name it (``settings.mapping.defaults.title``, ``install[0].name``)."""
    stack: list[tuple[str, Any]] = [(field, value)]
    while stack:  # a loop, not recursion: the document may be as deep as JSON allows
        where, item = stack.pop()
        if isinstance(item, str):
            found = NOT_TEXT.search(item)
            if found:
                raise invalid(
                    where or "body",
                    f"`{where or 'body'}` holds U+{ord(found.group()):04X}, which is not "
                    "text (of the control characters only tab and newlines are allowed)",
                    "invalid_text",
                )
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                # A key that is not text is named with U+FFFD in its place, so the
                # refusal itself stays encodable.
                name = NOT_TEXT.sub("\ufffd", key)
                path = f"{where}.{name}" if where else name
                stack.append((path, child))
                if name != key:
                    stack.append((path, key))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in reversed(list(enumerate(item))))


def _int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid(name, f"`{name}` must be an integer", "invalid_query_params") from None
    if not low <= value <= high:
        raise invalid(name, f"`{name}` must be between {low} and {high}", "invalid_query_params")
    return value


@dataclass(frozen=True, slots=True)
class PageRequest:
    skip: int
    limit: int

    @classmethod
    def from_request(cls, request: Request) -> PageRequest:
        return cls(
            skip=_int_arg(request, "skip", 0, 0, MAX_SKIP),
            limit=_int_arg(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        )


def paged_response(
    request: Request, page: PageRequest, items: Sequence[Any], total: int, *, exact: bool = True
) -> Response:
    """``items`` as a bare array with a ``Link`` header to the neighbouring pages.

    ``total`` is the number of items in all pages (``X-Total-Count``) when ``exact``; else
    only enough of a count to tell whether a next page exists, and no header is sent.
    """
    links = []
    if page.skip + page.limit < total:
        links.append((page.skip + page.limit, "next"))
    if page.skip > 0:
        links.append((max(page.skip - page.limit, 0), "prev"))
    headers = {"X-Total-Count": str(total)} if exact else {}
    if links:
        base = request.base_url
        others = [(k, v) for k, v in request.args.items(multi=True) if k not in ("skip", "limit")]
        headers["Link"] = ", ".join(
            f'<{base}?{urlencode([*others, ("skip", skip), ("limit", page.limit)])}>; rel="{rel}"'
            for skip, rel in links
        )
    return json_response(list(items), 200, headers)
