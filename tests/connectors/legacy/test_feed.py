"""The feed reader gives the contacts that zeep's decoding + ``record_to_contact`` give.

Each envelope is decoded three ways from the same bytes: by a plain zeep client (zeep's
own xsd decoding, arrays unwrapped), by the schema-compiled dict decoder the client used
before, both mapped by ``record_to_contact``; and by the client's reply path with its
:class:`FeedReader`. Hostile answers are refused before any record is read.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zeep
from lxml import etree
from zeep.helpers import serialize_object

from bridge.connectors.legacy.client import LegacyClient
from bridge.connectors.legacy.feed import DATE_MEMORY, FeedReader
from bridge.emulators.legacy.records import complete, write_contact
from bridge.emulators.legacy.store import seed_record
from bridge.errors import ProtocolError, RemoteError
from bridge.model import Contact, PhoneType
from bridge.soap.client import SOAP11_BINDING, SOAP12_BINDING
from bridge.soap.contract import wire
from bridge.soap.contract.record import STRUCTS, record_to_contact, to_utc
from bridge.soap.decode import install_fast_output, parse_datetime
from bridge.soap.faults import map_soap_errors
from bridge.wsdl import wsdl_path

SYDNEY = ZoneInfo("Australia/Sydney")
OPERATION = "ContactList_Retrieve"
BINDINGS = {11: SOAP11_BINDING, 12: SOAP12_BINDING}
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def seeded(count: int) -> list[str]:
    rng = random.Random(5)
    out = []
    for i in range(count):
        record = complete(seed_record(i, rng))
        record["entityId"] = 1000 + i
        if i % 3 == 0:
            record["relationships"] = [
                {"entityId": 70 + i, "entityType": 5, "name": "Book club"},
                {"entityId": 0 if i % 2 else 80 + i, "entityType": 2, "name": f"Co {i} & Sons"},
            ]
        if i % 4 == 1:
            record["addresses"].append(dict(record["addresses"][0], addressTypeID=8))
            record["phoneNos"].append({"phoneNoTypeID": 11, "phoneNo": "code 11 survives"})
        if i % 5 == 2:
            record["deleted"] = True
            record["MasterOptIn"] = True
            record["dateOfBirth"] = datetime(1, 1, 1)
        out.append(write_contact(record))
    return out


# Records zeep reads as the schema says: every shape the feed can take.
SHAPED = [
    # Only the required elements.
    "<ContactRecord><entityId>7</entityId><deleted>false</deleted>"
    "<dateOfBirth>0001-01-01T00:00:00</dateOfBirth><createDate>0001-01-01T00:00:00</createDate>"
    "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><MasterOptIn>1</MasterOptIn>"
    "</ContactRecord>",
    # Empty CDATA keys and password (""), escaped and non-ASCII text, offset and Z dates,
    # fractions of a second, an empty array, unknown codes.
    "<ContactRecord><entityId>0</entityId><externalId><![CDATA[]]></externalId>"
    "<emailAddress><![CDATA[]]></emailAddress><contactTitle>Dr &amp; Prof</contactTitle>"
    "<deleted>true</deleted><fullName>Zo\u00eb &lt;\u4e2d&gt; \U0001f600</fullName>"
    "<password><![CDATA[]]></password>"
    "<dateOfBirth>1990-02-03T00:00:00+10:00</dateOfBirth>"
    "<createDate>2025-01-01T10:42:35Z</createDate>"
    "<lastUpdateDate>2025-03-04T05:06:07.250</lastUpdateDate>"
    "<relationships><Relationship><entityId>9</entityId><entityType>2</entityType></Relationship>"
    "<Relationship><entityId>10</entityId><entityType>2</entityType><name>Acme</name>"
    "</Relationship></relationships>"
    "<addresses><Address><addressTypeID>4</addressTypeID>"
    "<city>Nowhere</city></Address></addresses><phoneNos/>"
    "<crmForms><CrmForms><formId>3</formId><crmFormFields><CrmFormFields><fieldId>5</fieldId>"
    "<fieldTypeId>42</fieldTypeId><fieldValue>x</fieldValue></CrmFormFields>"
    "</crmFormFields></CrmForms><CrmForms><formId>4</formId><formName>Empty</formName>"
    "</CrmForms></crmForms><MasterOptIn>false</MasterOptIn></ContactRecord>",
]
# Records zeep's strict reading refuses or reads otherwise, read as the dict decoder did:
# unknown elements, a repeated element (the last wins), padded numbers and booleans, nil
# array items (skipped; zeep gives an empty item).
LENIENT = [
    f"<ContactRecord {XSI}><entityId>5</entityId><deleted>false</deleted>"
    "<relationships><Relationship xsi:nil='true'/><Relationship><entityId>9</entityId>"
    "<entityType>2</entityType><name>Acme</name></Relationship></relationships>"
    "<addresses><Address xsi:nil='1'/></addresses><crmForms><CrmForms><crmFormFields>"
    "<CrmFormFields xsi:nil='true'/></crmFormFields></CrmForms></crmForms></ContactRecord>",
    "<ContactRecord><entityId> 0042 </entityId><surprise>x</surprise>"
    "<firstName>One</firstName><firstName>Two</firstName><deleted> true </deleted>"
    "<dateOfBirth> 1980-01-01T00:00:00 </dateOfBirth><createDate/>"
    "<lastUpdateDate>2025-01-01T00:00:00</lastUpdateDate>"
    "<addresses><Address><addressTypeID> 2 </addressTypeID></Address><Other/></addresses>"
    "<MasterOptIn/></ContactRecord>",
]


def envelope(version: int, records: list[str], *, more: bool = True) -> bytes:
    inner = (
        f"<ContactList_RetrieveResult>{''.join(records)}</ContactList_RetrieveResult>"
        f"<recordStart>0</recordStart><moreRecords>{'true' if more else 'false'}</moreRecords>"
    )
    return wire.response(version, OPERATION, inner)


def answer(content: bytes) -> Any:
    """What zeep reads of an HTTP answer: status, headers, body."""
    return SimpleNamespace(
        status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"}, content=content
    )


def reply(client: zeep.Client, version: int, content: bytes) -> Any:
    binding = client.wsdl.bindings[BINDINGS[version]]
    return binding.process_reply(client, binding.get(OPERATION), answer(content))


def unwrapped(value: Any) -> Any:
    """zeep's decoded record as the wire dict: ``{"Address": [...]}`` arrays as lists."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in STRUCTS:
            return [unwrapped(v) for v in next(iter(value.values())) or []]
        return {k: unwrapped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrapped(v) for v in value]
    return value


def by_zeep(version: int, content: bytes) -> list[Contact]:
    result = reply(zeep.Client(str(wsdl_path())), version, content)
    records = unwrapped(serialize_object(result.ContactList_RetrieveResult, dict))
    return [record_to_contact(r, SYDNEY) for r in records]


def by_dict_decoder(version: int, content: bytes) -> list[Contact]:
    client = zeep.Client(str(wsdl_path()))
    install_fast_output(client, BINDINGS[version], OPERATION, lambda c: c)
    records = reply(client, version, content)["ContactList_RetrieveResult"]
    return [record_to_contact(r, SYDNEY) for r in records]


def by_feed(version: int, content: bytes, reader: FeedReader | None = None) -> list[Contact]:
    client = LegacyClient(
        "http://127.0.0.1:9/", username="u", password="p", site_id=1, soap_version=version
    )
    page = reply(client.zeep_client, version, content)
    records = (reader or FeedReader(SYDNEY)).records(page.result)
    assert [r["entityId"] for r in records] == [r["contact"].ids.get("legacy") for r in records]
    assert [r["deleted"] for r in records] == [r["contact"].deleted for r in records]
    return [r["contact"] for r in records]


@pytest.mark.parametrize("version", [11, 12])
def test_feed_equals_zeeps_decoding_and_the_dict_decoders(version: int):
    content = envelope(version, seeded(60) + SHAPED)
    got = by_feed(version, content)
    assert len(got) == 62
    assert got == by_zeep(version, content)
    assert got == by_dict_decoder(version, content)
    # The cases the envelope was built for are there to compare.
    odd = got[-1]
    assert odd.external_id is None and odd.email is None and odd.password is None
    assert odd.company is not None and odd.company.name == "Acme"
    assert [a.kind for a in odd.addresses] == [4] and odd.phones == []
    assert odd.created_at == datetime.fromisoformat("2025-01-01T10:42:35+00:00")
    assert [len(f.fields) for f in odd.forms] == [1, 0]
    assert any(c.company and not c.company.ids for c in got)
    assert any(c.deleted and c.opt_in and c.date_of_birth is None for c in got)


@pytest.mark.parametrize("version", [11, 12])
def test_lenient_records_read_as_the_dict_decoder_read_them(version: int):
    content = envelope(version, LENIENT)
    got = by_feed(version, content)
    assert got == by_dict_decoder(version, content)
    nils, odd = got
    assert [r.entity_id for r in nils.relationships] == [9] and nils.addresses == []
    assert [f.fields for f in nils.forms] == [[]]
    assert odd.ids == {"legacy": "42"} and odd.first_name == "Two" and odd.deleted


def test_an_empty_or_missing_result_is_no_records():
    assert by_feed(11, envelope(11, [], more=False)) == []
    bare = wire.response(11, OPERATION, "<moreRecords>false</moreRecords>")
    assert by_feed(11, bare) == []


def test_a_nil_record_refuses_the_page():
    content = envelope(11, [*seeded(2), f"<ContactRecord {XSI} xsi:nil='true'/>"])
    with pytest.raises(ProtocolError, match="nil ContactRecord"):
        by_feed(11, content)


def test_dates_are_remembered_and_the_memory_is_bounded():
    reader = FeedReader(SYDNEY)
    records = seeded(3)
    first = by_feed(11, envelope(11, records), reader)
    again = by_feed(11, envelope(11, records), reader)
    assert [c.updated_at for c in again] == [c.updated_at for c in first]
    many = [
        f"<ContactRecord><entityId>{i}</entityId><deleted>false</deleted>"
        f"<createDate>2025-01-01T00:00:{i % 60:02d}.{i:06d}</createDate></ContactRecord>"
        for i in range(DATE_MEMORY + 10)
    ]
    contacts = by_feed(11, envelope(11, many), reader)
    assert len({c.created_at for c in contacts}) == DATE_MEMORY + 10
    assert len(reader._instants) <= DATE_MEMORY


RECORD = seeded(1)[0]
HOSTILE = {
    "entity expansion": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    + envelope(11, [RECORD.replace("<fullName>", "<fullName>&b;")]).split(b"?>", 1)[1],
    "external entity": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM '
    b'"file:///etc/passwd">]>'
    + envelope(11, [RECORD.replace("<fullName>", "<fullName>&x;")]).split(b"?>", 1)[1],
    "bare doctype": b'<?xml version="1.0"?><!DOCTYPE e>'
    + envelope(11, [RECORD]).split(b"?>", 1)[1],
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_are_refused(body: bytes):
    client = LegacyClient("http://127.0.0.1:9/", username="u", password="p", site_id=1)
    with pytest.raises(ProtocolError, match=r"DTD|ntit"), map_soap_errors("legacy", OPERATION):
        reply(client.zeep_client, 11, body)


def test_malformed_answers_are_refused_as_before():
    # zeep reports unparsable XML at HTTP 200 as a transport error: an unexpected answer.
    client = LegacyClient("http://127.0.0.1:9/", username="u", password="p", site_id=1)
    truncated = envelope(11, seeded(2))[:-40]
    expected = pytest.raises(RemoteError, match="unexpected HTTP 200")
    with expected, map_soap_errors("legacy", OPERATION):
        reply(client.zeep_client, 11, truncated)


def test_each_reader_remembers_dates_in_its_own_time_zone():
    # Codes and flags are remembered per field for every reader; instants depend on the site.
    content = envelope(11, seeded(4))
    sydney = by_feed(11, content, FeedReader(SYDNEY))
    utc = by_feed(11, content, FeedReader(ZoneInfo("UTC")))
    again = by_feed(11, content, FeedReader(SYDNEY))
    assert [c.updated_at for c in sydney] == [c.updated_at for c in again]
    assert all(s.updated_at != u.updated_at for s, u in zip(sydney, utc, strict=True))
    assert [c.phones for c in sydney] == [c.phones for c in utc]


def test_remembered_codes_read_padded_and_unknown_texts_as_their_own():
    phones = "".join(
        f"<PhoneNo><phoneNoTypeID>{code}</phoneNoTypeID><phoneNo>n</phoneNo></PhoneNo>"
        for code in ("5", " 5 ", "99", "5", "", "99")
    )
    record = (
        f"<ContactRecord><entityId>1</entityId><deleted> 1 </deleted>"
        f"<phoneNos>{phones}</phoneNos><MasterOptIn>0</MasterOptIn></ContactRecord>"
    )
    content = envelope(11, [record, record.replace("<deleted> 1 </deleted>", "")])
    first, second = by_feed(11, content)
    assert first == by_dict_decoder(11, content)[0]
    assert [p.kind for p in first.phones] == [5, 5, 99, 5, 0, 99]
    assert [type(p.kind) for p in first.phones][:3] == [PhoneType, PhoneType, int]
    assert first.deleted and not second.deleted and not first.opt_in


def test_elements_out_of_the_contracts_order_are_read_as_in_order():
    # The reader expects the contract's order first; any other order reads the same.
    record = seeded(4)[3]
    elements = [etree.tostring(child, encoding="unicode") for child in etree.fromstring(record)]
    assert len(elements) > 10
    for order in (elements[::-1], elements[1::2] + elements[::2], elements + elements[:3]):
        content = envelope(11, [record, f"<ContactRecord>{''.join(order)}</ContactRecord>"])
        in_order, reordered = by_feed(11, content)
        assert reordered == in_order == by_dict_decoder(11, content)[0]


@pytest.mark.parametrize("zone", ["Australia/Sydney", "Australia/Lord_Howe", "America/New_York"])
def test_instants_are_to_utcs_around_every_clock_change(zone: str):
    # Each hour and half hour of the days the clocks change (gaps and folds), and others.
    tz = ZoneInfo(zone)
    days = ["2025-04-06", "2025-10-05", "2025-03-09", "2025-11-02", "2024-02-29", "1999-12-31"]
    texts = [
        f"{day}T{hour:02d}:{minute:02d}:{second:02d}{fraction}"
        for day in days
        for hour in range(24)
        for minute, second, fraction in ((0, 0, ""), (30, 0, ".5"), (59, 59, ".999999"))
    ] + [
        "0001-01-01T00:00:00",
        "2025-01-01T10:42:35Z",
        "2025-01-01T10:42:35+10:30",
        " 2025-06-01T00:00:00 ",
    ]
    reader = FeedReader(tz)
    got = [reader._instant(text) for text in texts]
    assert got == [to_utc(parse_datetime(text), tz) for text in texts]
    assert [value.utcoffset() for value in got if value is not None] == [timedelta(0)] * (
        len(texts) - 1
    )
