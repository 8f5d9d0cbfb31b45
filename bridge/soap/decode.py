"""Fast, schema-driven decoding of hot SOAP responses.

Profiling a 100-record ``ContactList_Retrieve`` page shows zeep spends most of its time
not in lxml but in its generic xsd machinery: per element it resolves the type, builds a
``CompoundValue``, runs validators and converts values one descriptor at a time. Here the
same schema, read from the same zeep ``Client``, is compiled once into a table of
``{tag: (key, converter)}`` per complex type, and a response is decoded with one walk of
the lxml tree into plain dicts and lists. zeep still builds and sends the request, parses
the envelope, runs plugins and raises faults: :func:`install_fast_output` swaps only the
deserialization step of one operation's output message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import zeep
from lxml import etree
from zeep.xsd import ComplexType, Element
from zeep.xsd.types.builtins import Boolean, DateTime, Decimal, Double, Float, Integer, String

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

Decoder = Callable[[etree._Element], Any]


def _text(elem: etree._Element) -> str | None:
    return elem.text


def _int(elem: etree._Element) -> int | None:
    text = elem.text
    return int(text) if text is not None and text.strip() else None


def _bool(elem: etree._Element) -> bool | None:
    text = elem.text
    if text is None:
        return None
    text = text.strip()
    return text == "true" or text == "1"


def _float(elem: etree._Element) -> float | None:
    text = elem.text
    return float(text) if text is not None and text.strip() else None


def _datetime(elem: etree._Element) -> datetime | None:
    return parse_datetime(elem.text)


def parse_datetime(text: str | None) -> datetime | None:
    """An ``xs:dateTime`` as written (naive unless it carries an offset or ``Z``)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _simple_decoder(xsd_type: Any) -> Decoder:
    if isinstance(xsd_type, Boolean):
        return _bool
    if isinstance(xsd_type, Integer):
        return _int
    if isinstance(xsd_type, DateTime):
        return _datetime
    if isinstance(xsd_type, Float | Double | Decimal):
        return _float
    if isinstance(xsd_type, String):
        return _text
    # Anything else keeps its lexical form; callers of this module only see strings then.
    return _text


def _nillable(decoder: Decoder) -> Decoder:
    def decode(elem: etree._Element) -> Any:
        if elem.get(XSI_NIL) in ("true", "1"):
            return None
        return decoder(elem)

    return decode


class SchemaDecoder:
    """Compiles decoders for a zeep client's types, memoized per type name."""

    def __init__(self, client: zeep.Client) -> None:
        self._client = client
        self._cache: dict[Any, Decoder] = {}

    def for_type(self, qname: str) -> Decoder:
        """A decoder for the named complex type (``{ns}ContactRecord``)."""
        return self._complex(self._client.get_type(qname))

    def for_element_children(self, qname: str) -> dict[str, tuple[str, Decoder, bool]]:
        """The child table of a global element's (anonymous) complex type."""
        element = self._client.get_element(qname)
        return self._table(element.type)

    def _complex(self, xsd_type: ComplexType) -> Decoder:
        key = xsd_type.qname or id(xsd_type)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        elements: list[tuple[str, Element]] = list(xsd_type.elements)
        # An ArrayOfX: one repeated child; decodes to a list.
        if len(elements) == 1 and elements[0][1].max_occurs == "unbounded":
            item = elements[0][1]
            item_tag = item.qname.text
            holder: list[Decoder] = []

            def decode_array(elem: etree._Element) -> list[Any]:
                item_decoder = holder[0]
                return [item_decoder(child) for child in elem if child.tag == item_tag]

            self._cache[key] = decode_array
            holder.append(self._for_element(item))
            return decode_array

        # {tag: (key, decoder)}; None for plain text, read inline: most children of a
        # record are strings, and a call per element was a good part of decoding.
        table: dict[str, tuple[str, Decoder | None]] = {}

        def decode_record(elem: etree._Element) -> dict[str, Any]:
            record: dict[str, Any] = dict.fromkeys(names)
            get = table.get
            for child in elem:
                entry = get(child.tag)
                if entry is not None:
                    name, decode = entry
                    record[name] = child.text if decode is None else decode(child)
            return record

        self._cache[key] = decode_record
        for tag, (name, decoder, _repeated) in self._table(xsd_type).items():
            table[tag] = (name, None if decoder is _text else decoder)
        names = [entry[0] for entry in table.values()]
        return decode_record

    def _table(self, xsd_type: ComplexType) -> dict[str, tuple[str, Decoder, bool]]:
        table: dict[str, tuple[str, Decoder, bool]] = {}
        for name, element in xsd_type.elements:
            repeated = element.max_occurs == "unbounded" or (
                isinstance(element.max_occurs, int) and element.max_occurs > 1
            )
            table[element.qname.text] = (name, self._for_element(element), repeated)
        return table

    def _for_element(self, element: Element) -> Decoder:
        xsd_type = element.type
        decoder = (
            self._complex(xsd_type)
            if isinstance(xsd_type, ComplexType)
            else _simple_decoder(xsd_type)
        )
        return _nillable(decoder) if element.nillable else decoder


def install_fast_output(
    client: zeep.Client,
    binding_name: str,
    operation: str,
    build: Callable[[dict[str, Any]], Any],
    decoders: Mapping[str, Decoder] | None = None,
) -> None:
    """Make ``operation`` return ``build(children)`` decoded by :class:`SchemaDecoder`.

    ``children`` maps each child of the response wrapper to its decoded value; a child
    named in ``decoders`` is decoded by that function instead (it may keep the element).
    Only the output deserializer is replaced; faults and everything before it stay zeep's.
    """
    binding = client.wsdl.bindings[binding_name]
    op = binding.get(operation)
    wrapper_qname = op.output.body.qname
    table = SchemaDecoder(client).for_element_children(wrapper_qname.text)
    for tag, (name, _, repeated) in table.items():
        if decoders and name in decoders:
            table[tag] = (name, decoders[name], repeated)
    body_tag = etree.QName(op.output.nsmap["soap-env"], "Body").text
    wrapper_tag = wrapper_qname.text
    names = [entry[0] for entry in table.values()]

    def deserialize(envelope: etree._Element) -> Any:
        body = envelope.find(body_tag)
        wrapper = body.find(wrapper_tag) if body is not None else None
        if wrapper is None:
            raise zeep.exceptions.XMLParseError(
                f"{operation}: the response has no {wrapper_qname.localname} element"
            )
        children: dict[str, Any] = dict.fromkeys(names)
        for child in wrapper:
            entry = table.get(child.tag)
            if entry is not None:
                children[entry[0]] = entry[1](child)
        return build(children)

    # An instance attribute shadows DocumentMessage.deserialize for this operation only.
    op.output.deserialize = deserialize
