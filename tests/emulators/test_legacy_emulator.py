"""The legacy emulator on the wire: what a client that never heard of zeep sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
import zeep
from lxml import etree
from reference import REFERENCE_WSDL

from bridge.wsdl import NAMESPACE

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def envelope(op: str, inner: str, *, password: str = "legacy-secret") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Body>'
        f'<{op} xmlns="{NAMESPACE}"><username>api@example.com</username><password>{password}</password>'
        f"<siteId>10101</siteId>{inner}</{op}></soap:Body></soap:Envelope>"
    ).encode()


def post(url: str, op: str, body: bytes, **headers: str) -> requests.Response:
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{NAMESPACE}/{op}"',
        **headers,
    }
    return requests.post(url, data=body, headers=headers, timeout=10)


def test_response_wire_format_is_asmx(start_legacy):
    legacy = start_legacy(records=120)
    body = envelope(
        "ContactList_Retrieve",
        "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>100</recordStart>"
        "<moreRecords>false</moreRecords>",
    )
    response = post(legacy.table["endpoint"], "ContactList_Retrieve", body)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap=')
    assert (
        f'<ContactList_RetrieveResponse xmlns="{NAMESPACE}"><ContactList_RetrieveResult><ContactRecord>'
        in text
    )
    assert "<recordStart>120</recordStart><moreRecords>false</moreRecords>" in text
    root = etree.fromstring(response.content)
    records = root.findall(f".//{{{NAMESPACE}}}ContactRecord")
    assert len(records) == 20
    # Value types always present, password always blank.
    first = records[0]
    for name in (
        "entityId",
        "deleted",
        "dateOfBirth",
        "createDate",
        "lastUpdateDate",
        "MasterOptIn",
    ):
        assert first.find(f"{{{NAMESPACE}}}{name}") is not None
    assert first.findtext(f"{{{NAMESPACE}}}password") in ("", None)


def test_faults_are_http_500_with_the_asmx_bytes(start_legacy):
    legacy = start_legacy(records=1)
    body = envelope("Contact_RetrieveByEntityID", "<entityId>1</entityId>", password="nope")
    response = post(legacy.table["endpoint"], "Contact_RetrieveByEntityID", body)
    assert response.status_code == 500
    assert (
        "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Server was unable to process "
        "request. ---&gt; ERROR: Invalid Username/Password or Site ID.</faultstring><detail /></soap:Fault>"
    ) in response.text


def test_soap12_faults_use_receiver_and_reason_text(start_legacy):
    legacy = start_legacy(records=1)
    body = envelope("Contact_RetrieveByEntityID", "<entityId>424242</entityId>").replace(
        SOAP11.encode(), b"http://www.w3.org/2003/05/soap-envelope"
    )
    response = requests.post(
        legacy.table["endpoint"],
        data=body,
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        timeout=10,
    )
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    assert "<soap:Value>soap:Receiver</soap:Value>" in response.text
    assert "ERROR: Contact record could not be retrieved.</soap:Text>" in response.text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<not-closed", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DOCTYPE"),
        (b"", "empty"),
    ],
)
def test_bad_requests_get_client_faults_and_the_server_keeps_serving(start_legacy, body, words):
    legacy = start_legacy(records=1)
    response = post(legacy.table["endpoint"], "ContactList_Retrieve", body)
    assert response.status_code == 500
    assert "<faultcode>soap:Client</faultcode>" in response.text
    assert words in response.text
    ok = post(
        legacy.table["endpoint"],
        "Contact_DeleteByEntityID",
        envelope("Contact_DeleteByEntityID", "<entityId>5</entityId>"),
    )
    assert ok.status_code == 200


def test_wrong_soap_action_is_refused(start_legacy):
    legacy = start_legacy(records=1)
    body = envelope("Contact_DeleteByEntityID", "<entityId>5</entityId>")
    response = post(
        legacy.table["endpoint"],
        "Contact_DeleteByEntityID",
        body,
        SOAPAction=f'"{NAMESPACE}/Other"',
    )
    assert response.status_code == 500
    assert "did not recognize the value of HTTP Header SOAPAction" in response.text


def test_path_is_case_insensitive_and_wsdl_carries_the_callers_address(start_legacy):
    legacy = start_legacy(records=1)
    base = legacy.server.url
    for path in (
        "/CatalystWebService/CatalystCRMWebservice.asmx",
        "/catalystwebservice/catalystcrmwebservice.ASMX",
    ):
        response = requests.get(f"{base}{path}?WSDL", timeout=10)
        assert response.status_code == 200
        doc = etree.fromstring(response.content)
        addresses = doc.xpath("//*[local-name()='address']/@location")
        assert addresses == [f"{base}{path}"] * 2
    assert requests.get(f"{base}/elsewhere", timeout=10).status_code == 404


def test_a_client_built_from_the_reference_wsdl_pages_through_unchanged(start_legacy):
    legacy = start_legacy(records=250)
    client = zeep.Client(str(REFERENCE_WSDL))
    service = client.create_service(
        f"{{{NAMESPACE}}}CatalystCRMWebserviceSoap", legacy.table["endpoint"]
    )
    seen: list[int] = []
    start, more = 0, True
    from datetime import datetime

    while more:
        result = service.ContactList_Retrieve(
            username="api@example.com",
            password="legacy-secret",
            siteId=10101,
            lastUpdateDate=datetime(1, 1, 1),
            recordStart=start,
            moreRecords=True,
        )
        records = (
            result.ContactList_RetrieveResult.ContactRecord
            if result.ContactList_RetrieveResult
            else []
        )
        seen.extend(r.entityId for r in records)
        start, more = result.recordStart, result.moreRecords
    assert len(seen) == len(set(seen)) == 250
    contact = {
        "externalId": "REF-1",
        "emailAddress": "ref@example.com",
        "entityId": 0,
        "deleted": False,
        "dateOfBirth": datetime(1, 1, 1),
        "createDate": datetime(1, 1, 1),
        "lastUpdateDate": datetime(1, 1, 1),
        "MasterOptIn": True,
    }
    service.ContactList_UpdateInsert(
        username="api@example.com",
        password="legacy-secret",
        siteId=10101,
        contactsList={"ContactRecord": [contact]},
    )
    found = service.Contact_RetrieveByExternalID(
        username="api@example.com", password="legacy-secret", siteId=10101, externalId="REF-1"
    )
    assert found.emailAddress == "ref@example.com" and found.MasterOptIn is True


def test_emulate_command_prints_the_connection_table_first(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "legacy", "--port", "0", "--records", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = process.stdout.readline()
        table = json.loads(line)
        assert set(table) == {"kind", "endpoint", "username", "password", "site_id", "timezone"}
        assert table["kind"] == "legacy"
        response = requests.get(table["endpoint"] + "?wsdl", timeout=10)
        assert response.status_code == 200 and b"ContactList_Retrieve" in response.content
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_emulate_help_documents_fault_injection():
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "emulate", "legacy", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in ("--fail-rate", "--throttle-rate", "--retry-after", "--latency", "--quirk", "--records", "--port", "--timezone"):
        assert flag in out
