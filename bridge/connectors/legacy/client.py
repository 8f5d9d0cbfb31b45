"""Wire calls to the legacy SOAP CRM through zeep. Returns decoded dicts, never zeep objects."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import zeep
from lxml import etree

from bridge.connectors.legacy.feed import FeedReader
from bridge.soap.client import SOAP11_BINDING, SOAP12_BINDING, build_soap_client
from bridge.soap.decode import install_fast_output
from bridge.soap.encode import rendered_call
from bridge.soap.faults import map_soap_errors

SYSTEM = "legacy"
READ_OPERATIONS = (
    "ContactList_Retrieve",
    "Contact_RetrieveByEntityID",
    "Contact_RetrieveByEmailAddress",
    "Contact_RetrieveByExternalID",
)


@dataclass(frozen=True, slots=True)
class RetrievedPage:
    """One ``ContactList_Retrieve`` answer; ``records`` as :meth:`FeedReader.records` gives them."""

    records: list[dict[str, Any]]
    record_start: int | None
    more_records: bool


@dataclass(frozen=True, slots=True)
class _WirePage:
    """The answer before its records are read: the result element, kept as lxml gave it."""

    result: etree._Element | None
    record_start: int | None
    more_records: bool


def _wire_page(children: dict[str, Any]) -> _WirePage:
    return _WirePage(
        result=children["ContactList_RetrieveResult"],
        record_start=children["recordStart"],
        more_records=bool(children["moreRecords"]),
    )


def _element(elem: etree._Element) -> etree._Element:
    return elem


class LegacyClient:
    """The seven contact operations of the legacy contract, for one site."""

    def __init__(
        self,
        endpoint: str,
        *,
        username: str,
        password: str,
        site_id: int,
        wsdl: str | Path | None = None,
        soap_version: int = 11,
        timeout: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self._credentials = {"username": username, "password": password, "siteId": int(site_id)}
        self._zeep, self._service = build_soap_client(
            SYSTEM,
            endpoint,
            wsdl=wsdl,
            soap_version=soap_version,
            timeout=timeout,
            idempotent=READ_OPERATIONS,
        )
        binding = SOAP12_BINDING if soap_version == 12 else SOAP11_BINDING
        install_fast_output(
            self._zeep,
            binding,
            "ContactList_Retrieve",
            _wire_page,
            # The feed's records are read by a FeedReader straight into contacts.
            decoders={"ContactList_RetrieveResult": _element},
        )
        for operation in READ_OPERATIONS[1:]:
            install_fast_output(
                self._zeep,
                binding,
                operation,
                operator.itemgetter(f"{operation}Result"),
            )
        # Both hot calls are written from the schema's compiled writer, not built by zeep
        # per call (for a feed page, zeep's request build cost as much as its reply path).
        self._retrieve = rendered_call(self._zeep, binding, "ContactList_Retrieve", endpoint)
        self._update_insert = rendered_call(
            self._zeep, binding, "ContactList_UpdateInsert", endpoint
        )

    def __repr__(self) -> str:
        return f"LegacyClient(endpoint={self.endpoint!r}, site_id={self._credentials['siteId']})"

    @property
    def zeep_client(self) -> zeep.Client:
        return self._zeep

    def _call(self, operation: str, **kwargs: Any) -> Any:
        with map_soap_errors(SYSTEM, operation):
            return getattr(self._service, operation)(**self._credentials, **kwargs)

    def retrieve_page(
        self, since_local: datetime, record_start: int, reader: FeedReader
    ) -> RetrievedPage:
        with map_soap_errors(SYSTEM, "ContactList_Retrieve"):
            page: _WirePage = self._retrieve(
                **self._credentials,
                lastUpdateDate=since_local,
                recordStart=record_start,
                moreRecords=True,
            )
        return RetrievedPage(reader.records(page.result), page.record_start, page.more_records)

    def update_insert(self, records: Sequence[dict[str, Any]]) -> None:
        # Arrays go as plain lists: the request is written by bridge.soap.encode.
        with map_soap_errors(SYSTEM, "ContactList_UpdateInsert"):
            self._update_insert(**self._credentials, contactsList=list(records))

    def retrieve_by_entity_id(self, entity_id: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._call("Contact_RetrieveByEntityID", entityId=entity_id)
        return result

    def retrieve_by_email(self, email: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._call(
            "Contact_RetrieveByEmailAddress", emailAddress=email
        )
        return result

    def retrieve_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._call(
            "Contact_RetrieveByExternalID", externalId=external_id
        )
        return result

    def delete_by_entity_id(self, entity_id: int) -> bool:
        return bool(self._call("Contact_DeleteByEntityID", entityId=entity_id))

    def delete_by_email(self, email: str) -> bool:
        return bool(self._call("Contact_DeleteByEmailAddress", email=email))

    def close(self) -> None:
        self._zeep.transport.close()
