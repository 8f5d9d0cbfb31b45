"""The attack corpus: every hostile or broken request gets a SOAP fault, and the server lives."""

from __future__ import annotations

import requests
from lxml import etree

from bridge.soap.contract.wire import SOAP11_ENV, SOAP12_ENV
from bridge.wsdl import NAMESPACE

ENV = f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body>{{}}</soap:Body></soap:Envelope>'
CREDS = "<username>u</username><password>p</password><siteId>1</siteId>"


def _retrieve(extra: str = "") -> str:
    return ENV.format(
        f'<ContactList_Retrieve xmlns="{NAMESPACE}">{CREDS}{extra}</ContactList_Retrieve>'
    )


XXE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + _retrieve("<lastUpdateDate>&x;</lastUpdateDate>")
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
    + _retrieve("<username>&lol9;</username>")
)
QUADRATIC = (
    f'<!DOCTYPE r [<!ENTITY a "{"A" * 50_000}">]>' + _retrieve("<username>" + "&a;" * 200 + "</username>")
)
DEEP = ENV.format("<a>" * 5000 + "</a>" * 5000)
WIDE = ENV.format(
    f'<ContactList_UpdateInsert xmlns="{NAMESPACE}">{CREDS}<contactsList>'
    + "<ContactRecord/>" * 2000
    + "</contactsList></ContactList_UpdateInsert>"
)

CORPUS: dict[str, tuple[bytes, dict[str, str]]] = {
    "xxe": (XXE.encode(), {}),
    "billion-laughs": (LAUGHS.encode(), {}),
    "quadratic-blowup": (QUADRATIC.encode(), {}),
    "plain-doctype": (("<!DOCTYPE soap:Envelope>" + _retrieve()).encode(), {}),
    "oversize": (_retrieve("<username>" + "x" * 300_000 + "</username>").encode(), {}),
    "deep-nesting": (DEEP.encode(), {}),
    "too-many-elements": (WIDE.encode(), {}),
    "malformed": (b"<soap:Envelope><soap:Body><unclosed></soap:Body>", {}),
    "not-xml": (b"\x00\xff garbage \xfe", {}),
    "empty": (b"", {}),
    "not-an-envelope": (b"<hello/>", {}),
    "empty-body": (ENV.format("").encode(), {}),
    "unknown-operation": (ENV.format(f'<Order_List xmlns="{NAMESPACE}"/>').encode(), {}),
    "foreign-namespace": (ENV.format('<ContactList_Retrieve xmlns="urn:other"/>').encode(), {}),
    "wrong-soapaction": (
        _retrieve().encode(),
        {"SOAPAction": f'"{NAMESPACE}/Contact_DeleteByEntityID"'},
    ),
    "wrong-type": (_retrieve("<lastUpdateDate>yesterday</lastUpdateDate>").encode(), {}),
    "wrong-int": (
        ENV.format(
            f'<Contact_RetrieveByEntityID xmlns="{NAMESPACE}"><siteId>one</siteId>'
            "</Contact_RetrieveByEntityID>"
        ).encode(),
        {},
    ),
    "soap12-body-as-soap11": (
        _retrieve().replace(SOAP11_ENV, SOAP12_ENV).encode(),
        {},
    ),
}




def test_every_attack_gets_a_soap_fault_and_the_server_keeps_serving(start_facade):
    facade = start_facade(
        "legacy",
        records=1,
        max_request_bytes=200_000,
        max_depth=40,
        max_elements=1000,
        max_text=100_000,
    )
    for name, (body, headers) in CORPUS.items():
        response = facade.post(body, headers=headers)
        assert response.status_code in (500, 413), name
        assert response.headers["Content-Type"].startswith("text/xml"), name
        root = etree.fromstring(response.content)
        fault = root.find(f"{{{SOAP11_ENV}}}Body/{{{SOAP11_ENV}}}Fault")
        assert fault is not None, name
        assert fault.findtext("faultcode") in ("soap:Client", "soap:Server"), name
        # Nothing from the entity made it back, and nothing was expanded.
        assert b"root:" not in response.content and b"lollol" not in response.content, name
    healthy = facade.call(
        "ContactList_Retrieve",
        "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>",
    )
    assert healthy.status_code == 200 and b"<ContactRecord>" in healthy.content


def test_doctype_is_refused_before_parsing(start_facade):
    facade = start_facade("legacy", records=0)
    response = facade.post(XXE.encode())
    assert b"<faultcode>soap:Client</faultcode>" in response.content
    assert b"DOCTYPE is not allowed" in response.content


def test_oversize_declared_length_is_refused_unread(start_facade):
    facade = start_facade("legacy", records=0, max_request_bytes=1000)
    response = facade.post(_retrieve("<username>" + "x" * 5000 + "</username>"))
    assert response.status_code == 413
    assert b"larger than 1000 bytes" in response.content


def test_get_and_other_methods_are_not_soap_faults_but_not_crashes(start_facade):
    facade = start_facade("legacy", records=0)
    assert requests.get(facade.url, timeout=10).status_code == 200
    assert requests.put(facade.url, data=b"x", timeout=10).status_code == 405
    assert requests.get(facade.url.replace(".asmx", ".aspx"), timeout=10).status_code == 404


def test_an_unexpected_failure_is_still_a_soap_fault(start_facade):
    facade = start_facade("legacy", records=0)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    facade.app._dispatch = broken
    response = facade.call(
        "ContactList_Retrieve",
        "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>",
    )
    assert response.status_code == 500
    assert b"<faultcode>soap:Server</faultcode><faultstring>Server was unable to process" in (
        response.content
    )
    assert b"boom" not in response.content
