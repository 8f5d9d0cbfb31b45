"""Translate zeep and requests failures into the project's error tree, once, here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import zeep.exceptions
from lxml import etree

from bridge.errors import (
    AuthError,
    BridgeError,
    NotFound,
    ProtocolError,
    RateLimited,
    RemoteError,
    TransientError,
)
from bridge.http import transport_errors

# ASMX wraps every server exception as "Server was unable to process request. ---> <msg>".
_ASMX_PREFIX = re.compile(r"^\s*Server was unable to process request\.\s*-+>\s*", re.IGNORECASE)
_AUTH_WORDS = re.compile(
    r"(invalid|incorrect|wrong|bad)\s.*(user ?name|password|site|credential|token)"
    r"|(user ?name|password|site ?id|credential|token)s?\s.*(invalid|incorrect|not valid|denied)"
    r"|not authori[sz]ed|authentication",
    re.IGNORECASE,
)
_NOT_FOUND_WORDS = re.compile(
    r"could not be (retrieved|found)|not found|does not exist", re.IGNORECASE
)


def fault_message(fault_text: str | None) -> str:
    """The server's own message, without the ASMX boilerplate prefix."""
    return _ASMX_PREFIX.sub("", fault_text or "").strip() or "SOAP fault without a message"


def classify_fault(message: str, *, system: str, code: str | None = None) -> BridgeError:
    """The project error for a legacy fault message (the contract declares no fault types)."""
    if _AUTH_WORDS.search(message):
        return AuthError(message, system=system)
    if _NOT_FOUND_WORDS.search(message):
        return NotFound(message, system=system, code=code)
    return RemoteError(message, system=system, code=code, status=500)


@contextmanager
def map_soap_errors(system: str, operation: str) -> Iterator[None]:
    """Run a SOAP call, turning every foreign failure into a :class:`BridgeError`."""
    with transport_errors(system, operation):
        try:
            yield
        except zeep.exceptions.Fault as exc:
            code = exc.code if isinstance(exc.code, str) else None
            raise classify_fault(fault_message(exc.message), system=system, code=code) from exc
        except zeep.exceptions.TransportError as exc:
            raise _http_refusal(exc.status_code, system, operation) from exc
        except (zeep.exceptions.XMLSyntaxError, etree.XMLSyntaxError) as exc:
            raise ProtocolError(
                f"{operation}: the server sent malformed XML: {exc}", system=system
            ) from exc
        except zeep.exceptions.ValidationError as exc:
            raise ProtocolError(
                f"{operation}: message does not fit the contract: {exc}", system=system
            ) from exc
        except zeep.exceptions.Error as exc:
            raise ProtocolError(f"{operation}: {exc}", system=system) from exc


def _http_refusal(status: int, system: str, operation: str) -> BridgeError:
    """The error for an HTTP status other than 200 (zeep raises faults, not these)."""
    if status == 429:
        return RateLimited(f"{operation}: rate limited (HTTP 429)", system=system)
    if status in (401, 403):
        return AuthError(f"{operation}: access refused (HTTP {status})", system=system)
    if status >= 500:
        return TransientError(f"{operation}: server error HTTP {status}", system=system)
    return RemoteError(f"{operation}: unexpected HTTP {status}", system=system, status=status)
