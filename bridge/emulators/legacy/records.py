"""The ``ContactRecord`` on the server side: lenient reading, complete writing.

Records are dicts keyed by the contract's element names (arrays as lists), with naive
site-local datetimes, the same shape the client's decoder produces. The fields, their
kinds and order come from the contract (:mod:`bridge.soap.contract.record`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from bridge.soap.contract import NAMESPACE
from bridge.soap.contract.record import DEFAULTS, NO_DATE, STRUCTS

T = f"{{{NAMESPACE}}}"
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class BadValue(ValueError):
    """A value that does not parse as its declared type."""


def _scalar(kind: str, text: str | None, name: str) -> Any:
    if kind == "s":
        return text if text is not None else ""
    text = (text or "").strip()
    if kind == "i":
        try:
            return int(text)
        except ValueError:
            raise BadValue(f"{name}: '{text}' is not an integer") from None
    if kind == "b":
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        raise BadValue(f"{name}: '{text}' is not a boolean")
    try:
        value = datetime.fromisoformat(text[:-1] if text.endswith("Z") else text)
    except ValueError:
        raise BadValue(f"{name}: '{text}' is not a dateTime") from None
    return value.replace(tzinfo=None)


# {qualified tag: (name, kind)} per struct, built once: read_struct runs per record.
_TAGS = {
    struct: {T + name: (name, kind) for name, kind in fields} for struct, fields in STRUCTS.items()
}


def read_struct(elem: etree._Element, struct: str) -> dict[str, Any]:
    """Read one struct leniently: only the elements present appear in the result."""
    spec = _TAGS[struct]
    out: dict[str, Any] = {}
    for child in elem:
        entry = spec.get(child.tag)
        if entry is None:
            continue
        name, kind = entry
        text = child.text
        # xsi:nil is only looked for where it can be (no text but blanks): one attribute
        # read per element was a good part of a write's cost.
        if (text is None or text.isspace()) and child.get(_NIL) in ("true", "1"):
            out[name] = None
        elif kind == "s":  # most elements: spared a call
            out[name] = text if text is not None else ""
        elif kind in STRUCTS:
            item_tag = T + kind
            out[name] = [read_struct(item, kind) for item in child if item.tag == item_tag]
        else:
            out[name] = _scalar(kind, text, name)
    return out


# Per struct: every field with its default (value types) or None; and its arrays.
_BLANK: dict[str, dict[str, Any]] = {
    struct: {name: DEFAULTS.get(kind) for name, kind in fields}
    for struct, fields in STRUCTS.items()
}
_ARRAYS = {
    struct: [(name, kind) for name, kind in fields if kind in STRUCTS]
    for struct, fields in STRUCTS.items()
}


def complete(record: dict[str, Any], struct: str = "ContactRecord") -> dict[str, Any]:
    """Fill every missing field with its default (value types) or None."""
    # A copy of the struct's blank record, then the values given: no per-field kind test.
    out = _BLANK[struct].copy()
    for name, value in record.items():
        if value is not None and name in out:
            out[name] = value
    for name, kind in _ARRAYS[struct]:
        out[name] = [complete(v, kind) for v in out[name] or ()]
    return out


def _fmt(kind: str, value: Any) -> str:
    if kind == "b":
        return "true" if value else "false"
    if kind == "d":
        return (value or NO_DATE).isoformat(timespec="seconds")
    if kind == "i":
        return str(int(value or 0))
    return escape(value)


def write_struct(record: dict[str, Any], struct: str, parts: list[str]) -> None:
    """Append the XML of a struct's children, in sequence order, value types always."""
    for name, kind in STRUCTS[struct]:
        value = record.get(name)
        if kind in STRUCTS:
            if value:
                parts.append(f"<{name}>")
                for item in value:
                    parts.append(f"<{kind}>")
                    write_struct(item, kind, parts)
                    parts.append(f"</{kind}>")
                parts.append(f"</{name}>")
        elif kind == "s":
            if value is not None:
                parts.append(f"<{name}>{escape(value)}</{name}>" if value else f"<{name} />")
        else:
            parts.append(f"<{name}>{_fmt(kind, value)}</{name}>")


def write_contact(record: dict[str, Any], element: str = "ContactRecord") -> str:
    parts = [f"<{element}>"]
    # Passwords are write-only: the output always carries a blank one.
    write_struct({**record, "password": ""}, "ContactRecord", parts)
    parts.append(f"</{element}>")
    return "".join(parts)
