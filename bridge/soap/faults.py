"""Translate zeep and requests failures into the project's error tree, once, here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import requests
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
    try:
        yield
    except zeep.exceptions.Fault as exc:
        code = exc.code if isinstance(exc.code, str) else None
        raise classify_fault(fault_message(exc.message), system=system, code=code) from exc
    except zeep.exceptions.TransportError as exc:
        status = exc.status_code
        if status == 429:
            raise RateLimited(f"{operation}: rate limited (HTTP 429)", system=system) from exc
        if status in (401, 403):
            raise AuthError(f"{operation}: access refused (HTTP {status})", system=system) from exc
        if status >= 500:
            raise TransientError(f"{operation}: server error HTTP {status}", system=system) from exc
        raise RemoteError(
            f"{operation}: unexpected HTTP {status}", system=system, status=status
        ) from exc
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
    except requests.Timeout as exc:
        raise TransientError(f"{operation}: timed out", system=system) from exc
    except requests.ConnectionError as exc:
        raise TransientError(
            f"{operation}: connection failed ({type(exc).__name__})", system=system
        ) from exc
    except requests.RequestException as exc:
        raise TransientError(f"{operation}: {type(exc).__name__}", system=system) from exc
