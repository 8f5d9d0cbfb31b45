"""Fast, schema-driven encoding of hot SOAP requests (the mirror of :mod:`bridge.soap.decode`).

Profiling a Bigin -> legacy sync shows zeep spending about half of the engine's CPU on
rendering ``ContactList_UpdateInsert``: per element it validates kwargs, builds
``CompoundValue`` objects and renders one lxml element at a time. Here the request
wrapper's schema, read from the same zeep ``Client``, is compiled once into writers that
append text to a list, and the body is parsed once by lxml into the envelope zeep sends.
zeep still sets the HTTP headers, runs its egress plugins, posts through the transport,
parses the answer and raises faults: :func:`install_fast_input` swaps only the
serialization of one operation's input message.

The output is what zeep writes for the same values, element for element: ``None`` omits an
optional element (``xsi:nil`` where the schema allows it, else an error, as zeep's strict
mode), an empty list omits an array, value types are written in their XML form. A test
compares the two on the same records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zeep
from lxml import etree
from zeep.exceptions import ValidationError
from zeep.wsdl.messages.base import SerializedMessage
from zeep.xsd import ComplexType, Element
from zeep.xsd.types.builtins import Boolean, Integer, String

from bridge.soap.contract.wire import escape_text

XSI = "http://www.w3.org/2001/XMLSchema-instance"

# writer(value, parts): append the XML of one element holding ``value``.
Writer = Callable[[Any, list[str]], None]


def _lexical(xsd_type: Any) -> Callable[[Any], str]:
    """How one simple value becomes text: fast paths, else zeep's own ``xmlvalue``."""
    if isinstance(xsd_type, Boolean):
        return lambda value: "true" if value else "false"
    if isinstance(xsd_type, Integer):
        return lambda value: str(int(value))
    if isinstance(xsd_type, String):
        return lambda value: escape_text(str(value))
    render: Callable[[Any], str] = xsd_type.xmlvalue
    return lambda value: escape_text(render(value))


class SchemaEncoder:
    """Compiles writers for a zeep client's types, memoized per type."""

    def __init__(self, client: zeep.Client) -> None:
        self._client = client
        self._cache: dict[Any, Callable[[Any, list[str]], None]] = {}

    def for_element(self, qname: str) -> Callable[[dict[str, Any]], str]:
        """``encode(children)``: a global element (an operation's wrapper) as XML text."""
        element = self._client.get_element(qname)
        tag, namespace = element.qname.localname, element.qname.namespace
        content = self._content(element.type)

        def encode(children: dict[str, Any]) -> str:
            parts = [f'<{tag} xmlns="{namespace}" xmlns:xsi="{XSI}">']
            content(children, parts)
            parts.append(f"</{tag}>")
            return "".join(parts)

        return encode

    def _content(self, xsd_type: ComplexType) -> Callable[[Any, list[str]], None]:
        """Writes the children of a complex value (a dict, or a list for an ArrayOfX)."""
        key = xsd_type.qname or id(xsd_type)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        elements: list[tuple[str, Element]] = list(xsd_type.elements)
        holder: list[Writer] = []
        if len(elements) == 1 and elements[0][1].max_occurs == "unbounded":

            def write_items(value: Any, parts: list[str]) -> None:
                item = holder[0]
                for one in value:
                    item(one, parts)

            self._cache[key] = write_items
            holder.append(self._element(elements[0][1], elements[0][0]))
            return write_items

        writers: list[tuple[str, Writer]] = []

        def write_fields(value: Any, parts: list[str]) -> None:
            get = value.get
            for name, writer in writers:
                writer(get(name), parts)

        self._cache[key] = write_fields
        writers.extend((name, self._element(element, name)) for name, element in elements)
        return write_fields

    def _element(self, element: Element, name: str) -> Writer:
        tag = element.qname.localname
        optional = element.min_occurs == 0
        nillable = bool(element.nillable)
        xsd_type = element.type
        if isinstance(xsd_type, ComplexType):
            content = self._content(xsd_type)
            is_array = _is_array(xsd_type)

            def write_complex(value: Any, parts: list[str]) -> None:
                if value is None or (is_array and not value):
                    _absent(tag, name, optional, nillable, parts)
                    return
                parts.append(f"<{tag}>")
                content(value, parts)
                parts.append(f"</{tag}>")

            return write_complex
        lexical = _lexical(xsd_type)

        def write_simple(value: Any, parts: list[str]) -> None:
            if value is None:
                _absent(tag, name, optional, nillable, parts)
                return
            parts.append(f"<{tag}>{lexical(value)}</{tag}>")

        return write_simple


def _is_array(xsd_type: ComplexType) -> bool:
    elements = list(xsd_type.elements)
    return len(elements) == 1 and elements[0][1].max_occurs == "unbounded"


def _absent(tag: str, name: str, optional: bool, nillable: bool, parts: list[str]) -> None:
    if optional:
        return
    if nillable:
        parts.append(f'<{tag} xsi:nil="true"/>')
        return
    raise ValidationError(f"Missing element {name}")


def install_fast_input(client: zeep.Client, binding_name: str, operation: str) -> None:
    """Make zeep serialize ``operation``'s request with a :class:`SchemaEncoder`.

    The call keeps zeep's signature (keyword arguments named as the wrapper's children).
    """
    binding = client.wsdl.bindings[binding_name]
    op = binding.get(operation)
    message = op.input
    encode = SchemaEncoder(client).for_element(message.body.qname.text)
    env = message.nsmap["soap-env"]
    head = f'<soap-env:Envelope xmlns:soap-env="{env}"><soap-env:Body>'
    tail = "</soap-env:Body></soap-env:Envelope>"
    action = f'"{op.soapaction}"' if op.soapaction else '""'

    def serialize(*args: Any, **kwargs: Any) -> SerializedMessage:
        if args:
            raise TypeError(f"{operation} takes keyword arguments only")
        envelope = etree.fromstring((head + encode(kwargs) + tail).encode("utf-8"))
        return SerializedMessage(path=None, headers={"SOAPAction": action}, content=envelope)

    # An instance attribute shadows the message's serialize for this operation only.
    message.serialize = serialize
