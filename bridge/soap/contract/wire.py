"""Byte-level pieces of the legacy wire format, shared by every server that speaks it.

The legacy service is ASP.NET ASMX: envelope prefix ``soap`` for both versions, response
wrappers unprefixed in the default namespace, faults as HTTP 500 with the ASMX
"Server was unable to process request. --->" text. Consumers match on those bytes, so the
emulator and the facade both write them from here. :func:`parse_request` is the XML guard
in front of any parsing: no DOCTYPE, bounded size, depth, element count, text length and
attributes per element.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from lxml import etree

from bridge.wsdl import NAMESPACE, wsdl_bytes

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
ASMX_PREFIX = "Server was unable to process request. ---> "

_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="{env}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
)
_TAIL = "</soap:Body></soap:Envelope>"
HEAD11 = _HEAD.format(env=SOAP11_ENV)
HEAD12 = _HEAD.format(env=SOAP12_ENV)

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


# The service's path (matched in any case) and the address the shipped WSDL carries (a
# GET ?WSDL answers with the caller's own).
SERVICE_PATH = "/catalystwebservice/catalystcrmwebservice.asmx"
PLACEHOLDER_ADDRESS = b"http://localhost/CatalystWebService/CatalystCRMWebservice.asmx"


def answer_get(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A GET on the service, as ASMX answers it: ``?WSDL`` gives the contract, else a line."""
    query = {k.lower() for k in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
    if "wsdl" not in query:
        return plain(
            start_response, "200 OK", b"CatalystCRMWebservice: append ?WSDL for the contract."
        )
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    address = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('PATH_INFO')}"
    attribute = address.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    document = wsdl_bytes().replace(PLACEHOLDER_ADDRESS, attribute.encode())
    start_response(
        "200 OK",
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(document)))],
    )
    return [document]


def plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    """A short text answer (outside SOAP: GETs, wrong methods, wrong paths)."""
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


def escape_text(text: str) -> str:
    """Text content as lxml writes it (a carriage return survives the parse as ``&#13;``)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def envelope_ns(version: int) -> str:
    return SOAP12_ENV if version == 12 else SOAP11_ENV


def content_type(version: int) -> str:
    return SOAP12_CONTENT_TYPE if version == 12 else SOAP11_CONTENT_TYPE


def soap_version_of(content_type_header: str) -> int:
    """12 for ``application/soap+xml``, else 11 (``text/xml``)."""
    return 12 if "application/soap+xml" in content_type_header.lower() else 11


def wrap(version: int, body_xml: str) -> bytes:
    """A whole response envelope around already-serialized body content."""
    head = HEAD12 if version == 12 else HEAD11
    return (head + body_xml + _TAIL).encode("utf-8")


def response(version: int, operation: str, children_xml: str) -> bytes:
    """``<{operation}Response xmlns="...">children</...>`` in an envelope."""
    if children_xml:
        inner = f'<{operation}Response xmlns="{NAMESPACE}">{children_xml}</{operation}Response>'
    else:
        inner = f'<{operation}Response xmlns="{NAMESPACE}" />'
    return wrap(version, inner)


def fault(version: int, message: str, *, client: bool = False, asmx_prefix: bool = True) -> bytes:
    """A fault envelope exactly as ASMX writes it (no whitespace between the two elements).

    ``client`` marks the caller's fault (malformed request) rather than the server's.
    """
    text = escape((ASMX_PREFIX if asmx_prefix else "") + message)
    if version == 12:
        code = "soap:Sender" if client else "soap:Receiver"
        body = (
            f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason>'
            "<soap:Detail /></soap:Fault>"
        )
    else:
        code = "soap:Client" if client else "soap:Server"
        body = (
            f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>"
            "<detail /></soap:Fault>"
        )
    return wrap(version, body)


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Bounds on a request before and while it is parsed (API-gateway style)."""

    max_bytes: int = 8 * 1024 * 1024
    max_depth: int = 32
    max_elements: int = 500_000
    max_text: int = 1024 * 1024
    #: Attributes on one element. The contract uses one or two (``xsi:nil``, ``xsi:type``);
    #: spyne's reading of an element is quadratic in its attributes (100,000 of them in a
    #: 1.2 MB request held a worker for 45 s), so a few hundred costs nothing and no more
    #: are read.
    max_attributes: int = 256


class RequestRejected(Exception):
    """The request is not acceptable XML; ``message`` is safe to send back."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_request(body: bytes, limits: XmlLimits | None = None) -> etree._Element:
    """Parse a SOAP request after the guard checks; raise :class:`RequestRejected`."""
    limits = limits or XmlLimits()
    if len(body) > limits.max_bytes:
        raise RequestRejected(f"Request is larger than {limits.max_bytes} bytes.", status=413)
    # SOAP forbids DTDs in messages; refusing them up front removes every entity attack.
    if _DOCTYPE.search(body):
        raise RequestRejected("DOCTYPE is not allowed in SOAP messages.")
    if not body.strip():
        raise RequestRejected("Request body is empty.")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise RequestRejected(f"Request is not well-formed XML: {exc.msg}") from None
    if not _within_limits_by_size(body, root, limits):
        _walk(root, limits)
    depth = _depth(root, limits.max_depth)
    if depth > limits.max_depth:
        raise RequestRejected(f"Request is nested deeper than {limits.max_depth} levels.")
    return root


# Encodings in which every "<" and "=" of the markup is that one byte, and no other
# character contains it (ASCII and UTF-8; libxml2 also reads UTF-16, EBCDIC, ...).
_ASCII_MARKUP = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def _within_limits_by_size(body: bytes, root: etree._Element, limits: XmlLimits) -> bool:
    """True when the body's bytes alone show no element, text or attribute count can pass
    its limit: every element starts with a ``<``, every attribute has its ``=``, a text
    has no more characters than the body has bytes (no DOCTYPE, so no entity expands).
    A walk of every element cost a third of the legacy emulator's reading of a write."""
    encoding = (root.getroottree().docinfo.encoding or "").lower()
    return (
        encoding in _ASCII_MARKUP
        and len(body) <= limits.max_text
        and body.count(b"<") <= limits.max_elements
        and body.count(b"=") <= limits.max_attributes
    )


def _walk(root: etree._Element, limits: XmlLimits) -> None:
    """Check each element's text length and attributes, and their count, in order."""
    for count, elem in enumerate(root.iter(), 1):
        if count > limits.max_elements:
            raise RequestRejected(f"Request has more than {limits.max_elements} elements.")
        text = elem.text
        if text is not None and len(text) > limits.max_text:
            raise RequestRejected(f"A text value is longer than {limits.max_text} characters.")
        if len(elem.attrib) > limits.max_attributes:
            raise RequestRejected(f"An element has more than {limits.max_attributes} attributes.")


def _depth(root: etree._Element, cap: int) -> int:
    """``cap + 1`` when an element lies deeper than ``cap`` levels (the root is level 1),
    else ``cap``: libxml2 answers "is there an element at level cap + 1" in one XPath
    call, where a walk in Python cost a fifth of the legacy emulator's time per write."""
    return cap + 1 if _deeper_than(cap)(root) else cap


@functools.lru_cache(maxsize=8)
def _deeper_than(cap: int) -> etree.XPath:
    # Elements at level ``cap``, then any child that is not text (lxml's children).
    return etree.XPath("boolean(/" + "/".join(["*"] * cap) + "/node()[not(self::text())])")


def body_operation(root: etree._Element, version: int) -> etree._Element:
    """The first element in the SOAP Body (the operation's wrapper)."""
    env = envelope_ns(version)
    if root.tag != f"{{{env}}}Envelope":
        other = SOAP12_ENV if version == 11 else SOAP11_ENV
        if root.tag == f"{{{other}}}Envelope":
            raise RequestRejected("SOAP version does not match the Content-Type.")
        raise RequestRejected("Request is not a SOAP envelope.")
    body = root.find(f"{{{env}}}Body")
    if body is None or len(body) == 0:
        raise RequestRejected("SOAP Body is missing or empty.")
    for child in body:
        if isinstance(child.tag, str):
            return child
    raise RequestRejected("SOAP Body is empty.")
