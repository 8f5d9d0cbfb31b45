"""A rendered call posts what zeep's own call posts, and reads the answer as zeep does.

Both paths run on the project's SplitTransport with sessions that record what they are
given and answer a canned reply: the same address, headers and XML; the same result,
the same fault; the same refusal of a request XML cannot hold; the write session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import zeep
from lxml import etree
from zeep.helpers import serialize_object

from bridge.model import Address, Company, Contact, Phone
from bridge.soap.client import SOAP11_BINDING, SOAP12_BINDING, SplitTransport
from bridge.soap.contract import wire
from bridge.soap.contract.record import contact_to_record
from bridge.soap.encode import install_fast_input, rendered_call
from bridge.wsdl import wsdl_path

OPERATION = "ContactList_UpdateInsert"
ADDRESS = "http://127.0.0.1:9/CatalystCRMWebservice.asmx"
VERSIONS = {SOAP11_BINDING: 11, SOAP12_BINDING: 12}
CREDENTIALS = {"username": "api&<user>", "password": "p\u00e4ss", "siteId": 10101}


class Recording(requests.Session):
    """A session that keeps each post and answers ``reply``."""

    def __init__(self, reply: bytes, status: int = 200) -> None:
        super().__init__()
        self.reply, self.status = reply, status
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: Any, data: Any = None, json: Any = None, **kwargs: Any) -> Any:
        self.posts.append((url, data, dict(kwargs["headers"])))
        response = requests.Response()
        response.status_code = self.status
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        response._content = self.reply
        return response


def client(reply: bytes, status: int = 200) -> tuple[zeep.Client, Recording, Recording]:
    read, write = Recording(reply, status), Recording(reply, status)
    transport = SplitTransport(read, write, idempotent=["ContactList_Retrieve"])
    return zeep.Client(str(wsdl_path()), transport=transport), read, write


def records() -> list[dict[str, Any]]:
    tz = ZoneInfo("Australia/Sydney")
    contacts = [
        Contact(
            external_id="EXT-1",
            email="ada@example.com",
            first_name="Ada \r\n& <Co> \u00e9\U0001f600",
            password="s3cret",
            updated_at=datetime(2025, 6, 7, 8, 9, 10, 123456, tzinfo=UTC),
            phones=[Phone(kind=5, number="+61 400 000 000")],
            addresses=[Address(kind=1, line1="1 George St", city="Sydney")],
            company=Company("Engines & Co"),
        ),
        Contact(email="bare@example.com", deleted=True),
    ]
    return [contact_to_record(c, tz, include_password=True) for c in contacts]


def both(binding: str, reply: bytes, status: int = 200, **kwargs: Any) -> list[Any]:
    """What each path posts and returns (or raises): zeep's call, then the rendered one."""
    zeep_side, _, zeep_write = client(reply, status)
    install_fast_input(zeep_side, binding, OPERATION)
    service = zeep_side.create_service(binding, ADDRESS)
    ours, read, write = client(reply, status)
    call = rendered_call(ours, binding, OPERATION, ADDRESS)
    out = []
    for send, session in ((getattr(service, OPERATION), zeep_write), (call, write)):
        try:
            result: Any = send(**CREDENTIALS, **kwargs)
        except Exception as exc:  # compared below, whatever it is
            result = (type(exc), str(exc))
        out.append((result, session.posts))
    assert read.posts == []  # a write never goes on the retrying session
    return out


def structure(elem: etree._Element) -> tuple[Any, ...]:
    """An element as namespaced names, text, attributes and children: prefixes aside."""
    return (
        elem.tag,
        elem.text or "",
        elem.tail or "",
        sorted(elem.attrib.items()),
        [structure(child) for child in elem],
    )


def canonical(body: bytes) -> bytes:
    return etree.tostring(etree.fromstring(body), method="c14n")


@pytest.mark.parametrize("binding", [SOAP11_BINDING, SOAP12_BINDING], ids=["soap11", "soap12"])
def test_rendered_call_posts_what_zeep_posts(binding: str):
    reply = wire.response(VERSIONS[binding], OPERATION, "")
    (zeep_result, zeep_posts), (our_result, our_posts) = both(
        binding, reply, contactsList=records()
    )
    assert our_result == zeep_result
    [(zeep_url, zeep_body, zeep_headers)] = zeep_posts
    [(our_url, our_body, our_headers)] = our_posts
    assert our_url == zeep_url == ADDRESS
    assert our_headers == zeep_headers
    assert canonical(our_body) == canonical(zeep_body)
    assert our_body.startswith(zeep_body[: zeep_body.index(b"?>") + 2])
    assert len(etree.fromstring(our_body).findall(".//{*}ContactRecord")) == 2


@pytest.mark.parametrize("binding", [SOAP11_BINDING, SOAP12_BINDING], ids=["soap11", "soap12"])
def test_a_fault_is_raised_as_zeep_raises_it(binding: str):
    fault = wire.fault(VERSIONS[binding], "Invalid siteId or credentials")
    (zeep_result, _), (our_result, _) = both(binding, fault, 500, contactsList=records())
    assert our_result == zeep_result
    assert our_result[0] is zeep.exceptions.Fault and "credentials" in our_result[1]


def test_a_request_xml_cannot_hold_is_refused_before_sending():
    bad = records()
    bad[0]["firstName"] = "bell \x07"
    (zeep_result, zeep_posts), (our_result, our_posts) = both(SOAP11_BINDING, b"", contactsList=bad)
    assert our_result == zeep_result
    assert our_result[0] is etree.XMLSyntaxError
    assert zeep_posts == our_posts == []


def test_a_client_with_plugins_is_refused():
    zeep_client, _, _ = client(b"")
    zeep_client.plugins.append(object())
    with pytest.raises(ValueError, match="plugins"):
        rendered_call(zeep_client, SOAP11_BINDING, OPERATION, ADDRESS)


RETRIEVE = "ContactList_Retrieve"
FEED_RECORD = (
    "<ContactRecord><entityId>7</entityId><emailAddress>a@example.com</emailAddress>"
    "<deleted>false</deleted><dateOfBirth>0001-01-01T00:00:00</dateOfBirth>"
    "<createDate>2025-01-02T03:04:05</createDate><lastUpdateDate>2025-01-02T03:04:05</lastUpdateDate>"
    "<phoneNos><PhoneNo><phoneNoTypeID>5</phoneNoTypeID><phoneNo>1</phoneNo></PhoneNo>"
    "</phoneNos><MasterOptIn>true</MasterOptIn></ContactRecord>"
)


@pytest.mark.parametrize("binding", [SOAP11_BINDING, SOAP12_BINDING], ids=["soap11", "soap12"])
@pytest.mark.parametrize(
    "since", [datetime(1, 1, 1), datetime(2025, 6, 7, 8, 9, 10), datetime(2025, 6, 7, 8, 9, 10, 5)]
)
@pytest.mark.parametrize("status", [200, 500])
def test_a_rendered_feed_read_posts_what_zeep_posts_on_the_retrying_session(
    binding: str, since: datetime, status: int
):
    version = VERSIONS[binding]
    reply = (
        wire.response(
            version,
            RETRIEVE,
            f"<ContactList_RetrieveResult>{FEED_RECORD}</ContactList_RetrieveResult>"
            "<recordStart>100</recordStart><moreRecords>true</moreRecords>",
        )
        if status == 200
        else wire.fault(version, "Invalid siteId or credentials")
    )
    zeep_side, zeep_read, _ = client(reply, status)
    service = zeep_side.create_service(binding, ADDRESS)
    ours, read, write = client(reply, status)
    call = rendered_call(ours, binding, RETRIEVE, ADDRESS)
    kwargs = {**CREDENTIALS, "lastUpdateDate": since, "recordStart": 200, "moreRecords": True}
    results = []
    for send in (getattr(service, RETRIEVE), call):
        try:
            results.append(serialize_object(send(**kwargs), dict))
        except zeep.exceptions.Fault as exc:
            results.append((type(exc), exc.message))
    assert results[0] == results[1]
    if status == 200:
        assert results[1]["recordStart"] == 100
        assert results[1]["ContactList_RetrieveResult"]["ContactRecord"][0]["entityId"] == 7
    else:
        assert "credentials" in results[1][1]
    [(zeep_url, zeep_body, zeep_headers)] = zeep_read.posts
    [(our_url, our_body, our_headers)] = read.posts
    assert write.posts == []  # a read goes on the retrying session
    assert our_url == zeep_url == ADDRESS
    assert our_headers == zeep_headers
    # zeep writes its own prefixes (ns0:), the writer the default namespace: the same XML.
    assert structure(etree.fromstring(our_body)) == structure(etree.fromstring(zeep_body))
    assert our_body.startswith(zeep_body[: zeep_body.index(b"?>") + 2])
    assert b"<recordStart>200</recordStart>" in canonical(our_body).replace(b"ns0:", b"").replace(
        b"ns1:", b""
    )
