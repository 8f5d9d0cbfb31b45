"""The facade's Prometheus metrics: SOAP requests by operation and outcome, and their latency.

:func:`instrument_soap` wraps the facade's WSGI app (spyne has no hooks of its own fit for
this; wrapping reads only the ``SOAPAction`` and the answer's status, never the body). The
series live in the process's registry (:mod:`bridge.metrics`), beside the control plane's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Counter, Histogram

from bridge.metrics import LATENCY_BUCKETS, REGISTRY

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

SOAP_REQUESTS = Counter(
    "soapbridge_soap_requests",
    "SOAP requests answered by the facade, by operation and outcome (ok, fault, refused).",
    ["operation", "outcome"],
    registry=REGISTRY,
)
SOAP_LATENCY = Histogram(
    "soapbridge_soap_request_seconds",
    "Time to answer a SOAP request, by operation.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)


def soap_operation(environ: dict[str, Any]) -> str:
    """The operation a SOAP request names: SOAPAction (1.1) or the ``action`` parameter (1.2)."""
    if environ.get("REQUEST_METHOD") == "GET":
        return "wsdl"
    action = str(environ.get("HTTP_SOAPACTION") or "")
    if not action:
        for part in str(environ.get("CONTENT_TYPE") or "").split(";"):
            key, _, value = part.strip().partition("=")
            if key.lower() == "action":
                action = value
    action = action.strip().strip('"')
    name = action.rstrip("/").rsplit("/", 1)[-1]
    # Unknown names are folded so a client cannot grow the label set without bound.
    return name if name and len(name) <= 64 and name.replace("_", "").isalnum() else "unknown"


def instrument_soap(app: WSGIApp) -> WSGIApp:
    """``app`` with each request counted by operation and outcome, and timed."""

    def instrumented(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        operation = soap_operation(environ)
        started = time.perf_counter()
        seen: list[int] = []

        def recording_start_response(status: str, *args: Any) -> Any:
            seen.append(int(status.split(" ", 1)[0]))
            return start_response(status, *args)

        try:
            return app(environ, recording_start_response)
        finally:
            status = seen[-1] if seen else 500
            outcome = "ok" if status < 400 else "fault" if status >= 500 else "refused"
            SOAP_REQUESTS.labels(operation, outcome).inc()
            SOAP_LATENCY.labels(operation).observe(time.perf_counter() - started)

    return instrumented
