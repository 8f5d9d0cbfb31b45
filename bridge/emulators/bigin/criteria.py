"""The search ``criteria`` language of Bigin (and Zoho CRM): ``(Field:operator:value)``.

Conditions combine with ``and`` / ``or`` inside parentheses, e.g.
``((Last_Name:equals:Doe)and(Email:starts_with:j))``. Parentheses and commas inside a
value are escaped with a backslash. Operators: ``equals``, ``not_equal``, ``starts_with``,
``in`` (comma-separated values), ``between`` (two values), ``greater_than``,
``greater_equal``, ``less_than``, ``less_equal``. [V] for the syntax and the first
operators (search-records page, Nango); the full operator list follows Zoho CRM [I].
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]
OPERATORS = (
    "equals",
    "not_equal",
    "starts_with",
    "in",
    "between",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
)


class CriteriaError(ValueError):
    """The criteria string does not parse."""


def _split_values(raw: str) -> list[str]:
    values, current, escaped = [], [], False
    for char in raw:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return values


def _comparable(value: Any) -> Any:
    """Strings compare case-insensitively; datetimes and numbers as themselves."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "").lower()
    return str(value).lower() if value is not None else None


def _coerce(text: str, like: Any) -> Any:
    if isinstance(like, datetime):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CriteriaError(f"{text!r} is not a datetime") from None
    return text.lower()


def condition(field: str, operator: str, raw: str) -> Predicate:
    if operator not in OPERATORS:
        raise CriteriaError(f"unknown operator {operator!r}")
    values = _split_values(raw)

    def test(record: dict[str, Any]) -> bool:
        actual = _comparable(record.get(field))
        if actual is None:
            return False
        wanted = [_coerce(v, actual) for v in values]
        if operator == "equals":
            return actual in wanted
        if operator == "not_equal":
            return actual not in wanted
        if operator == "in":
            return actual in wanted
        if operator == "starts_with":
            return isinstance(actual, str) and actual.startswith(wanted[0])
        if operator == "between":
            return len(wanted) == 2 and wanted[0] <= actual <= wanted[1]
        first = wanted[0]
        if operator == "greater_than":
            return bool(actual > first)
        if operator == "greater_equal":
            return bool(actual >= first)
        if operator == "less_than":
            return bool(actual < first)
        return bool(actual <= first)

    return test


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.pos = 0

    def parse(self) -> Predicate:
        predicate = self._expression()
        if self.pos != len(self.text):
            raise CriteriaError(f"unexpected text at {self.pos}: {self.text[self.pos :]!r}")
        return predicate

    def _expression(self) -> Predicate:
        terms = [self._term()]
        joins = []
        while True:
            rest = self.text[self.pos :].lower()
            join = next((j for j in ("and", "or") if rest.startswith(j)), None)
            if join is None:
                break
            self.pos += len(join)
            joins.append(join)
            terms.append(self._term())
        return _combine(terms, joins)

    def _term(self) -> Predicate:
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise CriteriaError(f"expected '(' at {self.pos}")
        if self.text.startswith("((", self.pos) or self._group_starts_nested():
            self.pos += 1
            inner = self._expression()
            self._expect(")")
            return inner
        end = self._closing(self.pos)
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        parts = body.split(":", 2)
        if len(parts) != 3 or not parts[0]:
            raise CriteriaError(f"a condition is (Field:operator:value), got ({body})")
        return condition(parts[0].strip(), parts[1].strip().lower(), parts[2])

    def _group_starts_nested(self) -> bool:
        return self.text[self.pos + 1 : self.pos + 2] == "("

    def _closing(self, start: int) -> int:
        escaped = False
        for index in range(start + 1, len(self.text)):
            char = self.text[index]
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == ")":
                return index
        raise CriteriaError("unbalanced parentheses")

    def _expect(self, char: str) -> None:
        if self.text[self.pos : self.pos + 1] != char:
            raise CriteriaError(f"expected {char!r} at {self.pos}")
        self.pos += 1


def _combine(terms: list[Predicate], joins: list[str]) -> Predicate:
    # "and" binds tighter than "or", as in Zoho's examples.
    groups: list[list[Predicate]] = [[terms[0]]]
    for join, term in zip(joins, terms[1:], strict=True):
        if join == "and":
            groups[-1].append(term)
        else:
            groups.append([term])
    return lambda record: any(all(t(record) for t in group) for group in groups)


def parse_criteria(text: str) -> Predicate:
    """A predicate over stored records (values as stored: datetimes stay datetimes)."""
    if not text or not text.strip():
        raise CriteriaError("empty criteria")
    return _Parser(text).parse()
