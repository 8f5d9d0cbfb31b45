"""A WSGI app that behaves like the legacy hosted CRM's ASMX contact service.

Serves ``/CatalystWebService/CatalystCRMWebservice.asmx`` (any case): ``GET ?WSDL`` gives
the project's contract WSDL with its addresses set to the URL the client used; ``POST``
takes SOAP 1.1 (``text/xml``) or SOAP 1.2 (``application/soap+xml``) for the seven
contact operations. Answers and faults are written byte for byte as ASMX writes them
(see :mod:`bridge.soap.contract.wire`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from bridge.emulators.kit import local_now
from bridge.emulators.kit.server import Faults
from bridge.emulators.kit.tokens import same_secret
from bridge.emulators.legacy.records import T, read_struct, write_contact
from bridge.emulators.legacy.store import BatchRejected, LegacyStore
from bridge.soap.contract import NAMESPACE, wire

SERVICE_PATH = wire.SERVICE_PATH
NOT_FOUND = "ERROR: Contact record could not be retrieved."
BAD_LOGIN = "ERROR: Invalid Username/Password or Site ID."
QUIRKS = ("empty-more", "ignore-offset")


@dataclass(slots=True)
class LegacySite:
    site_id: int = 10101
    username: str = "api@example.com"
    password: str = field(default="legacy-secret", repr=False)
    timezone: str = "Australia/Sydney"


class LegacyApp:
    """The WSGI callable; ``store`` is public so tests and the demo can inspect it."""

    def __init__(
        self, store: LegacyStore, site: LegacySite, faults: Faults, quirk: str | None = None
    ) -> None:
        if quirk is not None and quirk not in QUIRKS:
            raise ValueError(f"unknown quirk {quirk!r}; choose from {', '.join(QUIRKS)}")
        self.store = store
        self.site = site
        self.tz = ZoneInfo(site.timezone)
        self.faults = faults
        self.quirk = quirk
        self._calls = itertools.count()
        self._handlers: dict[str, Callable[[etree._Element], str]] = {
            "ContactList_Retrieve": self._retrieve,
            "ContactList_UpdateInsert": self._update_insert,
            "Contact_RetrieveByEntityID": self._by_entity_id,
            "Contact_RetrieveByEmailAddress": self._by_email,
            "Contact_RetrieveByExternalID": self._by_external_id,
            "Contact_DeleteByEntityID": self._delete_by_entity_id,
            "Contact_DeleteByEmailAddress": self._delete_by_email,
        }

    def local_now(self) -> datetime:
        return local_now(self.tz)

    # -- WSGI ------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.lower() != SERVICE_PATH:
            return wire.plain(start_response, "404 Not Found", b"Not found")
        if method == "GET":
            return wire.answer_get(environ, start_response)
        if method != "POST":
            return wire.plain(start_response, "405 Method Not Allowed", b"Method not allowed")
        version = wire.soap_version_of(environ.get("CONTENT_TYPE", ""))
        self.faults.delay()
        if self.faults.throttled():
            start_response(
                "429 Too Many Requests",
                [("Content-Type", "text/plain"), ("Retry-After", self.faults.retry_after_header())],
            )
            return [b"Too many requests"]
        if self.faults.roll():
            start_response(
                "503 Service Unavailable", [("Content-Type", "text/html"), ("Retry-After", "0")]
            )
            return [b"<html><body><h1>Service Unavailable</h1></body></html>"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        status, payload = self.handle(body, version, environ.get("HTTP_SOAPACTION"))
        start_response(
            status,
            [("Content-Type", wire.content_type(version)), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    # -- SOAP ------------------------------------------------------------------------

    def handle(self, body: bytes, version: int, soap_action: str | None) -> tuple[str, bytes]:
        """Answer one SOAP request: (HTTP status line, envelope bytes)."""
        error = "500 Internal Server Error"
        try:
            root = wire.parse_request(body)
            wrapper = wire.body_operation(root, version)
        except wire.RequestRejected as exc:
            return error, wire.fault(version, exc.message, client=True, asmx_prefix=False)
        qname = etree.QName(wrapper)
        handler = self._handlers.get(qname.localname) if qname.namespace == NAMESPACE else None
        action_ok = (
            soap_action is None
            or version == 12
            or soap_action.strip('"') == f"{NAMESPACE}/{qname.localname}"
        )
        if handler is None or not action_ok:
            message = (
                "Server did not recognize the value of HTTP Header SOAPAction: "
                f"{soap_action or ''}."
            )
            return error, wire.fault(version, message, client=True, asmx_prefix=False)
        try:
            self._authenticate(wrapper)
            children = handler(wrapper)
        except _Fault as exc:
            return error, wire.fault(version, exc.message)
        except ValueError as exc:
            return error, wire.fault(version, f"ERROR: {exc}")
        return "200 OK", wire.response(version, qname.localname, children)

    def _authenticate(self, wrapper: etree._Element) -> None:
        username = wrapper.findtext(T + "username") or ""
        password = wrapper.findtext(T + "password") or ""
        site_text = (wrapper.findtext(T + "siteId") or "").strip()
        # Compare everything, always, so timing says nothing about which part was wrong.
        ok_user = same_secret(username, self.site.username)
        ok_password = same_secret(password, self.site.password)
        ok_site = site_text == str(self.site.site_id)
        if not (ok_user and ok_password and ok_site):
            raise _Fault(BAD_LOGIN)

    # -- operations ------------------------------------------------------------------

    def _retrieve(self, wrapper: etree._Element) -> str:
        since_text = (wrapper.findtext(T + "lastUpdateDate") or "").strip()
        start_text = (wrapper.findtext(T + "recordStart") or "0").strip()
        try:
            since = (
                datetime.fromisoformat(since_text.rstrip("Z")) if since_text else datetime(1, 1, 1)
            )
            offset = int(start_text)
        except ValueError:
            raise _Fault("ERROR: lastUpdateDate or recordStart is not valid.") from None
        # An offset-less timestamp is site-local; one with an offset is converted to it.
        if since.tzinfo is not None:
            since = since.astimezone(self.tz).replace(tzinfo=None)
        call = next(self._calls)
        if self.quirk == "ignore-offset":
            offset = 0
        records, more = self.store.retrieve(since, offset)
        if self.quirk == "empty-more" and call > 0:
            records, more = [], True
        parts = ["<ContactList_RetrieveResult>"]
        parts.extend(write_contact(r) for r in records)
        parts.append("</ContactList_RetrieveResult>")
        parts.append(f"<recordStart>{offset + len(records)}</recordStart>")
        parts.append(f"<moreRecords>{'true' if more else 'false'}</moreRecords>")
        return "".join(parts)

    def _update_insert(self, wrapper: etree._Element) -> str:
        contacts = wrapper.find(T + "contactsList")
        records = (
            []
            if contacts is None
            else [
                read_struct(item, "ContactRecord")
                for item in contacts
                if item.tag == T + "ContactRecord"
            ]
        )
        try:
            self.store.update_insert(records)
        except BatchRejected as exc:
            raise _Fault(str(exc)) from None
        return ""

    def _one(self, operation: str, record: dict[str, Any] | None) -> str:
        if record is None:
            raise _Fault(NOT_FOUND)
        return write_contact(record, f"{operation}Result")

    def _entity_id(self, wrapper: etree._Element) -> int:
        try:
            return int((wrapper.findtext(T + "entityId") or "").strip())
        except ValueError:
            raise _Fault("ERROR: entityId is not a valid integer.") from None

    def _by_entity_id(self, wrapper: etree._Element) -> str:
        return self._one("Contact_RetrieveByEntityID", self.store.get(self._entity_id(wrapper)))

    def _by_email(self, wrapper: etree._Element) -> str:
        email = wrapper.findtext(T + "emailAddress") or ""
        return self._one("Contact_RetrieveByEmailAddress", self.store.find_email(email))

    def _by_external_id(self, wrapper: etree._Element) -> str:
        external = wrapper.findtext(T + "externalId") or ""
        return self._one("Contact_RetrieveByExternalID", self.store.find_external(external))

    def _delete_by_entity_id(self, wrapper: etree._Element) -> str:
        done = self.store.delete(self._entity_id(wrapper))
        return _boolean("Contact_DeleteByEntityIDResult", done)

    def _delete_by_email(self, wrapper: etree._Element) -> str:
        record = self.store.find_email(wrapper.findtext(T + "email") or "")
        done = record is not None and self.store.delete(record["entityId"])
        return _boolean("Contact_DeleteByEmailAddressResult", done)


class _Fault(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _boolean(element: str, value: bool) -> str:
    return f"<{element}>{'true' if value else 'false'}</{element}>"
