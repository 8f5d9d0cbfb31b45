"""Build zeep clients on the project's sessions, pointed at any endpoint.

Reads and writes travel on different sessions: a read (``ContactList_Retrieve``, the
lookups) may be retried after a timeout or a 5xx, a write may not, because it may have
happened. The transport picks the session by the operation's SOAPAction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import zeep
from requests.structures import CaseInsensitiveDict
from zeep.proxy import ServiceProxy
from zeep.transports import Transport

from bridge.http import RetryPolicy, build_session, call_name
from bridge.wsdl import NAMESPACE, wsdl_path

SOAP11_BINDING = f"{{{NAMESPACE}}}CatalystCRMWebserviceSoap"
SOAP12_BINDING = f"{{{NAMESPACE}}}CatalystCRMWebserviceSoap12"
# Every SOAP fault is an HTTP 500, and a fault is an answer, not a hiccup: only the
# statuses a proxy or an overloaded server gives are worth another try.
SOAP_RETRY = RetryPolicy(statuses=frozenset({429, 502, 503, 504}))


class SplitTransport(Transport):
    """A zeep transport that sends idempotent operations on a retrying session.

    It only moves bytes: zeep still builds and parses every message.
    """

    def __init__(
        self,
        read_session: requests.Session,
        write_session: requests.Session,
        idempotent: Collection[str],
        timeout: float = 60,
    ) -> None:
        super().__init__(session=write_session, timeout=timeout, operation_timeout=timeout)
        self.read_session = read_session
        self.idempotent = frozenset(idempotent)

    def post(
        self, address: str, message: str | bytes, headers: dict[str, str]
    ) -> requests.Response:
        operation = call_name(CaseInsensitiveDict(headers), "POST", address)
        session = self.read_session if operation in self.idempotent else self.session
        return session.post(address, data=message, headers=headers, timeout=self.operation_timeout)

    def close(self) -> None:
        self.read_session.close()
        self.session.close()


@dataclass(slots=True)
class SoapClientFactory:
    """Everything needed to build a zeep client for the legacy contract."""

    system: str
    endpoint: str
    wsdl: str | Path | None = None
    soap_version: int = 11
    timeout: float = 60.0
    idempotent: Collection[str] = ()

    def build(self) -> tuple[zeep.Client, ServiceProxy]:
        timeout = (5.0, self.timeout)
        read = build_session(self.system, timeout=timeout, retry=SOAP_RETRY, retry_post=True)
        write = build_session(self.system, timeout=timeout, retry=SOAP_RETRY, retry_post=False)
        transport = SplitTransport(read, write, self.idempotent, timeout=self.timeout)
        # Strict parsing and no DTDs: a legacy server's answer is data, never a document
        # that may pull in entities.
        settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True)
        client = zeep.Client(str(self.wsdl or wsdl_path()), transport=transport, settings=settings)
        binding = SOAP12_BINDING if self.soap_version == 12 else SOAP11_BINDING
        service = client.create_service(binding, self.endpoint)
        return client, service


def build_soap_client(
    system: str, endpoint: str, *, wsdl: str | Path | None = None, **options: Any
) -> tuple[zeep.Client, ServiceProxy]:
    """A zeep client and its service proxy bound to ``endpoint``."""
    return SoapClientFactory(system=system, endpoint=endpoint, wsdl=wsdl, **options).build()
