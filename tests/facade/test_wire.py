"""The facade's bytes on the wire: WSDL, envelopes, faults, lookups, lenient upserts."""

from __future__ import annotations

import re

import pytest
import requests
from lxml import etree

from bridge.soap.contract.wire import SOAP12_ENV
from bridge.wsdl import NAMESPACE, wsdl_bytes

T = f"{{{NAMESPACE}}}"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
FAULT_PREFIX = (
    b"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Server was unable to "
    b"process request. ---&gt; ERROR: "
)


def test_wsdl_is_the_contract_with_the_callers_address(start_facade):
    facade = start_facade("legacy", records=0)
    for url in (facade.url + "?WSDL", facade.url.lower() + "?wsdl"):
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        served = etree.fromstring(response.content)
        addresses = [e.get("location") for e in served.iter() if e.tag.endswith("address")]
        path = url.split("?")[0]
        assert addresses == [path, path]
    contract = etree.fromstring(wsdl_bytes())
    # Same schema (types, elements, order) and the same bindings and SOAPActions.
    assert etree.tostring(served.find(f"{{{WSDL_NS}}}types")) == etree.tostring(
        contract.find(f"{{{WSDL_NS}}}types")
    )
    bindings = served.findall(f"{{{WSDL_NS}}}binding")
    assert [b.get("name") for b in bindings] == [
        "CatalystCRMWebserviceSoap",
        "CatalystCRMWebserviceSoap12",
    ]
    actions = {e.get("soapAction") for e in served.iter() if e.get("soapAction")}
    assert f"{NAMESPACE}/ContactList_Retrieve" in actions and len(actions) == 7


def test_spyne_models_declare_the_contracts_types_in_order():
    from bridge.facade import models

    contract = etree.fromstring(wsdl_bytes())
    schema = contract.find(f"{{{WSDL_NS}}}types")[0]
    xs = "{http://www.w3.org/2001/XMLSchema}"
    for model in (models.ContactRecord, models.Address, models.PhoneNo, models.Relationship,
                  models.CrmForms, models.CrmFormFields):
        name = model.get_type_name()
        declared = schema.find(f"{xs}complexType[@name='{name}']")
        wanted = [e.get("name") for e in declared.iter(f"{xs}element")]
        assert list(model._type_info) == wanted, name
    assert models.ArrayOfContactRecord.get_type_name() == "ArrayOfContactRecord"


def test_retrieve_answer_has_the_legacy_shape(start_facade):
    facade = start_facade("legacy", records=3)
    response = facade.call(
        "ContactList_Retrieve",
        "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>"
        "<moreRecords>false</moreRecords>",
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    body = response.content
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap=')
    assert f'<ContactList_RetrieveResponse xmlns="{NAMESPACE}">'.encode() in body
    root = etree.fromstring(body)
    wrapper = root[0][0]
    records = wrapper.find(T + "ContactList_RetrieveResult").findall(T + "ContactRecord")
    assert len(records) == 3
    assert wrapper.findtext(T + "recordStart") == "3"
    assert wrapper.findtext(T + "moreRecords") == "false"
    first = records[0]
    names = [etree.QName(child).localname for child in first]
    from bridge.facade.models import ContactRecord

    order = list(ContactRecord._type_info)
    # Sequence order kept; every value type present (strings may be omitted when None).
    assert names == sorted(names, key=order.index)
    for required in ("entityId", "deleted", "dateOfBirth", "createDate", "lastUpdateDate",
                     "MasterOptIn"):
        assert required in names
    assert first.find(T + "password").text is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first.findtext(T + "lastUpdateDate"))


def test_bad_credentials_get_the_legacy_fault_and_no_data(start_facade):
    facade = start_facade("legacy", records=3)
    inner = "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>"
    for kwargs in ({"password": "nope"}, {"username": "other"}, {"site_id": 1}):
        response = facade.call("ContactList_Retrieve", inner, **kwargs)
        assert response.status_code == 500
        assert FAULT_PREFIX + b"Invalid Username/Password or Site ID.</faultstring><detail />" in (
            response.content
        )
        assert b"ContactRecord" not in response.content


def test_soap12_round_trip_and_fault(start_facade):
    facade = start_facade("legacy", records=2)
    inner = "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>"
    response = facade.call("ContactList_Retrieve", inner, version=12)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/soap+xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP12_ENV}}}Envelope" and root.prefix == "soap"
    assert len(root[0][0].find(T + "ContactList_RetrieveResult")) == 2
    bad = facade.call("ContactList_Retrieve", inner, version=12, password="x")
    assert bad.status_code == 500
    fault = etree.fromstring(bad.content)[0][0]
    assert fault.findtext(f"{{{SOAP12_ENV}}}Code/{{{SOAP12_ENV}}}Value") == "soap:Receiver"
    assert "Invalid Username" in fault.findtext(f"{{{SOAP12_ENV}}}Reason/{{{SOAP12_ENV}}}Text")


def test_lenient_upsert_then_lookups_and_deletes(start_facade):
    facade = start_facade("legacy", records=0)
    # What real consumers send: no value-type elements, an empty password.
    records = (
        "<contactsList><ContactRecord><externalId>EXT-1</externalId>"
        "<emailAddress>ann@example.com</emailAddress><firstName>Ann</firstName>"
        "<lastName>Lee</lastName><password></password></ContactRecord>"
        "<ContactRecord><emailAddress>bob@example.com</emailAddress><lastName>Bo</lastName>"
        "</ContactRecord></contactsList>"
    )
    assert facade.call("ContactList_UpdateInsert", records).status_code == 200
    found = facade.call(
        "Contact_RetrieveByEmailAddress", "<emailAddress>ann@example.com</emailAddress>"
    )
    assert found.status_code == 200
    result = etree.fromstring(found.content)[0][0][0]
    assert etree.QName(result).localname == "Contact_RetrieveByEmailAddressResult"
    entity_id = int(result.findtext(T + "entityId"))
    assert entity_id > 0 and result.findtext(T + "externalId") == "EXT-1"
    by_id = facade.call("Contact_RetrieveByEntityID", f"<entityId>{entity_id}</entityId>")
    assert b"ann@example.com" in by_id.content
    by_ext = facade.call("Contact_RetrieveByExternalID", "<externalId>EXT-1</externalId>")
    assert b"ann@example.com" in by_ext.content
    deleted = facade.call("Contact_DeleteByEntityID", f"<entityId>{entity_id}</entityId>")
    assert b"<Contact_DeleteByEntityIDResult>true</Contact_DeleteByEntityIDResult>" in (
        deleted.content
    )
    gone = facade.call("Contact_RetrieveByEntityID", f"<entityId>{entity_id}</entityId>")
    assert gone.status_code == 500
    assert FAULT_PREFIX + b"Contact record could not be retrieved." in gone.content
    by_mail = facade.call("Contact_DeleteByEmailAddress", "<email>bob@example.com</email>")
    assert b"<Contact_DeleteByEmailAddressResult>true<" in by_mail.content
    again = facade.call("Contact_DeleteByEmailAddress", "<email>bob@example.com</email>")
    assert b"<Contact_DeleteByEmailAddressResult>false<" in again.content


def test_partial_upsert_failure_names_the_failed_records(start_facade):
    from bridge.connectors.base import UpsertOutcome, UpsertStatus

    facade = start_facade("legacy", records=0)
    connector = facade.app.facade.connector_for("crm")
    real_upsert = connector.upsert

    def upsert(contacts):
        # The CRM refuses the second record only (as Bigin does per record).
        good = real_upsert([c for i, c in enumerate(contacts) if i != 1])
        return [good[0], UpsertOutcome(UpsertStatus.FAILED, code="INVALID_DATA",
                                       message="invalid data"), *good[1:]]

    connector.upsert = upsert
    records = "".join(
        f"<ContactRecord><externalId>E{i}</externalId><emailAddress>p{i}@example.com"
        f"</emailAddress><lastName>P{i}</lastName></ContactRecord>"
        for i in range(3)
    )
    response = facade.call("ContactList_UpdateInsert", f"<contactsList>{records}</contactsList>")
    assert response.status_code == 500
    assert b"1 of 3 contacts could not be saved" in response.content
    assert b"#2 (E1): invalid data" in response.content
    connector.upsert = real_upsert
    for i in (0, 2):
        ok = facade.call("Contact_RetrieveByExternalID", f"<externalId>E{i}</externalId>")
        assert ok.status_code == 200


def test_site_credentials_never_open_another_sites_data(start_facade):
    sites = [
        {"site_id": 1, "connection": "crm", "username": "a", "password": "pa"},
        {"site_id": 2, "connection": "crm", "username": "b", "password": "pb"},
    ]
    facade = start_facade("legacy", records=2, sites=sites)
    inner = "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>"
    assert facade.call("ContactList_Retrieve", inner, site_id=1, username="a",
                       password="pa").status_code == 200
    crossed = facade.call("ContactList_Retrieve", inner, site_id=2, username="a", password="pa")
    assert crossed.status_code == 500 and b"ContactRecord" not in crossed.content


def test_attributes_per_element_are_limited_before_spyne_reads_them():
    import time

    from bridge.soap.contract.wire import RequestRejected, XmlLimits, parse_request

    many = " ".join(f'a{i}="x"' for i in range(100_000))
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<Op {many}/></soap:Body></soap:Envelope>"
    ).encode()
    started = time.process_time()
    with pytest.raises(RequestRejected, match="more than 256 attributes"):
        parse_request(body)
    assert time.process_time() - started < 2.0  # refused in linear time
    few = body.replace(many.encode(), b'a="1" b="2"')
    assert parse_request(few, XmlLimits(max_attributes=2)) is not None
    with pytest.raises(RequestRejected, match="more than 1 attributes"):
        parse_request(few, XmlLimits(max_attributes=1))
