"""The facade as a WSGI app: routing, WSDL, the XML guard, spyne dispatch, legacy bytes.

A request goes: path check (any case) -> ``?WSDL`` or POST -> size limit -> the guard
(:func:`bridge.soap.contract.wire.parse_request`: no DOCTYPE, bounded depth and element count) ->
SOAP version from the Content-Type -> SOAPAction check -> spyne deserializes into the
contract's types and calls the operation -> the answer or fault is written in the legacy
wire format. Every refusal on the way is a SOAP fault; nothing escapes as a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from spyne import MethodContext
from spyne.error import Fault as SpyneFault
from spyne.server._base import ServerBase

from bridge.facade.operations import ContactFacade
from bridge.facade.service import OPERATIONS, RequestScope, build_applications
from bridge.soap.contract import wire
from bridge.wsdl import NAMESPACE

log = logging.getLogger(__name__)
SERVICE_PATH = wire.SERVICE_PATH
_ERROR = "500 Internal Server Error"
_STATUS = {413: "413 Request Entity Too Large", 500: _ERROR}


class FacadeApp:
    """WSGI callable serving the legacy contract at ``SERVICE_PATH`` (any case)."""

    def __init__(self, facade: ContactFacade, limits: wire.XmlLimits | None = None) -> None:
        self.facade = facade
        self.limits = limits or wire.XmlLimits()
        self._apps = build_applications()
        self._servers = {version: ServerBase(app) for version, app in self._apps.items()}
        # spyne logs each client error it meets with a traceback; refusals are expected here.
        logging.getLogger("spyne").setLevel(logging.CRITICAL)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.lower() != SERVICE_PATH:
            return wire.plain(start_response, "404 Not Found", b"Not found")
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            return wire.answer_get(environ, start_response)
        if method != "POST":
            return wire.plain(start_response, "405 Method Not Allowed", b"Method not allowed")
        content_type = environ.get("CONTENT_TYPE", "")
        version = wire.soap_version_of(content_type)
        try:
            body = self._read_body(environ)
            status, payload = self.handle(body, version, _soap_action(environ, content_type))
        except wire.RequestRejected as exc:
            status = _STATUS.get(exc.status, _ERROR)
            payload = wire.fault(version, exc.message, client=True, asmx_prefix=False)
        except Exception:
            # Whatever went wrong, the consumer gets a SOAP fault, never a bare 500.
            log.exception("facade: unexpected failure answering a request")
            status = _ERROR
            payload = wire.fault(version, "ERROR: The request could not be processed.")
        start_response(
            status,
            [("Content-Type", wire.content_type(version)), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        limit = self.limits.max_bytes
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            raise wire.RequestRejected("Content-Length is not a number.") from None
        if declared > limit:
            raise wire.RequestRejected(f"Request is larger than {limit} bytes.", status=413)
        stream = environ["wsgi.input"]
        # Without a length (chunked), read one byte past the limit to know it was exceeded.
        body: bytes = stream.read(declared if declared >= 0 else limit + 1)
        if len(body) > limit:
            raise wire.RequestRejected(f"Request is larger than {limit} bytes.", status=413)
        return body

    def handle(self, body: bytes, version: int, soap_action: str | None) -> tuple[str, bytes]:
        """Answer one SOAP request body: (HTTP status line, envelope bytes)."""
        root = wire.parse_request(body, self.limits)
        wrapper = wire.body_operation(root, version)
        qname = etree.QName(wrapper)
        operation = qname.localname
        known = qname.namespace == NAMESPACE and operation in OPERATIONS
        if not known or (soap_action and soap_action != f"{NAMESPACE}/{operation}"):
            message = (
                "Server did not recognize the value of HTTP Header SOAPAction: "
                f"{soap_action or ''}."
            )
            return _ERROR, wire.fault(version, message, client=True, asmx_prefix=False)
        scope = RequestScope(self.facade)
        error = self._dispatch(root, version, scope)
        if error is not None:
            return _ERROR, wire.fault(
                version,
                f"Server was unable to read request. ---> {error}",
                client=True,
                asmx_prefix=False,
            )
        if scope.fault is not None:
            return _ERROR, wire.fault(version, scope.fault.message)
        return "200 OK", wire.response(version, operation, scope.children)

    def _dispatch(self, root: etree._Element, version: int, scope: RequestScope) -> str | None:
        """Let spyne read the request and call the operation; a message if it could not."""
        server = self._servers[version]
        protocol = self._apps[version].in_protocol
        ctx = MethodContext(server, MethodContext.SERVER)
        ctx.udc = scope
        ctx.in_document = (root, {})
        try:
            protocol.decompose_incoming_envelope(ctx, protocol.REQUEST)
            (method_ctx, *_) = protocol.generate_method_contexts(ctx)
        except SpyneFault as exc:
            return str(exc.faultstring)
        server.get_in_object(method_ctx)
        if method_ctx.in_error is not None:
            return str(getattr(method_ctx.in_error, "faultstring", method_ctx.in_error))
        server.get_out_object(method_ctx)
        if method_ctx.out_error is not None:
            log.error(
                "facade: spyne could not run %s: %s",
                method_ctx.method_request_string,
                method_ctx.out_error,
            )
            return "The request could not be processed."
        return None


def _soap_action(environ: dict[str, Any], content_type: str) -> str | None:
    """SOAP 1.1's ``SOAPAction`` header, or SOAP 1.2's ``action`` Content-Type parameter."""
    header = environ.get("HTTP_SOAPACTION")
    if header is not None:
        return header.strip().strip('"') or None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "action":
            return value.strip().strip('"') or None
    return None
