"""The process's Prometheus registry: every surface registers its metrics here.

One registry per process (not the library's global one), so ``/metrics`` shows exactly
the bridge's own series; under gunicorn each worker answers for itself. The facade's SOAP
metrics (:mod:`bridge.facade.metrics`) and the control plane's REST, sync and webhook
metrics (:mod:`bridge.api.metrics`) are defined beside the code that feeds them and meet
here, so neither entry point imports the other.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def exposition() -> tuple[bytes, str]:
    """The text format body and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
