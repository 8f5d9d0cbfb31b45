"""Real SOAP clients against the facade: zeep, suds, PHP SoapClient, node ``soap``.

Each pages through every contact (each exactly once), upserts and reads back, over every
CRM whose connector exists. Bigin carries 2,500 contacts (past its 2,000-record page
limit); the others a few hundred, to keep the suite quick.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import zeep
from reference import REFERENCE_WSDL

from bridge.connectors.registry import connector_kinds

from .harness import PASSWORD, SITE_ID, USERNAME, FacadeStarter

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "tests" / "interop"
SERVICE = "{http://tempuri.org/CatalystDeveloperService/CatalystCRMWebservice}CatalystCRMWebservice"
RECORDS = {"bigin": 2500, "legacy": 300, "engagifii": 300, "egito": 300}
KINDS = [k for k in ("bigin", "engagifii", "egito", "legacy") if k in connector_kinds()]


@pytest.fixture(scope="module", params=KINDS)
def facade(request):
    # Module-scoped: seeding 2,500 contacts once serves every client below.
    starter = FacadeStarter()
    running = starter(request.param, records=RECORDS[request.param])
    running.kind = request.param
    running.expected = RECORDS[request.param]
    yield running
    starter.stop()


def _zeep(wsdl: str, address: str, binding: str = "CatalystCRMWebserviceSoap") -> object:
    client = zeep.Client(wsdl)
    return client, client.create_service(f"{SERVICE.rsplit('}', 1)[0]}}}{binding}", address)


def _page_all(service) -> list[int]:
    ids, start = [], 0
    while True:
        r = service.ContactList_Retrieve(USERNAME, PASSWORD, SITE_ID, "0001-01-01T00:00:00",
                                         start, True)
        records = r.ContactList_RetrieveResult.ContactRecord if r.ContactList_RetrieveResult else []
        ids.extend(rec.entityId for rec in records)
        assert r.recordStart == start + len(records)
        start = r.recordStart
        if not r.moreRecords:
            return ids


def test_zeep_from_the_original_wsdl_pages_every_contact_once_and_upserts(facade):
    client, service = _zeep(str(REFERENCE_WSDL), facade.url)
    ids = _page_all(service)
    assert len(ids) == facade.expected and len(set(ids)) == facade.expected
    record = client.get_type("ns0:ContactRecord")(
        entityId=0, externalId="ZEEP-1", emailAddress="zeep.consumer@example.com",
        firstName="Zee", lastName="Pee", deleted=False, dateOfBirth="0001-01-01T00:00:00",
        createDate="0001-01-01T00:00:00", lastUpdateDate="0001-01-01T00:00:00", MasterOptIn=True,
    )
    service.ContactList_UpdateInsert(USERNAME, PASSWORD, SITE_ID, {"ContactRecord": [record]})
    found = service.Contact_RetrieveByEmailAddress(USERNAME, PASSWORD, SITE_ID,
                                                   "zeep.consumer@example.com")
    assert found.externalId == "ZEEP-1" and found.entityId > 0
    again = service.Contact_RetrieveByEntityID(USERNAME, PASSWORD, SITE_ID, found.entityId)
    assert again.emailAddress == "zeep.consumer@example.com"


def test_soap12_round_trip(facade):
    _, service = _zeep(facade.url + "?WSDL", facade.url, "CatalystCRMWebserviceSoap12")
    r = service.ContactList_Retrieve(USERNAME, PASSWORD, SITE_ID, "0001-01-01T00:00:00", 0, True)
    assert len(r.ContactList_RetrieveResult.ContactRecord) == min(100, facade.expected)
    assert r.moreRecords is (facade.expected > 100)
    with pytest.raises(zeep.exceptions.Fault, match="Invalid Username"):
        service.ContactList_Retrieve(USERNAME, "nope", SITE_ID, "0001-01-01T00:00:00", 0, True)


def test_suds_builds_records_by_type_name_and_upserts(facade):
    suds_client = pytest.importorskip("suds.client")
    client = suds_client.Client(facade.url + "?WSDL", cache=None)
    contacts = client.factory.create("ArrayOfContactRecord")
    record = client.factory.create("ContactRecord")
    record.entityId = 0
    record.externalId = "SUDS-1"
    record.emailAddress = "suds.consumer@example.com"
    record.lastName = "Suds"
    record.deleted = False
    record.MasterOptIn = False
    for name in ("dateOfBirth", "createDate", "lastUpdateDate"):
        setattr(record, name, "0001-01-01T00:00:00")
    contacts.ContactRecord.append(record)
    client.service.ContactList_UpdateInsert(USERNAME, PASSWORD, SITE_ID, contacts)
    found = client.service.Contact_RetrieveByEmailAddress(USERNAME, PASSWORD, SITE_ID,
                                                          "suds.consumer@example.com")
    assert found.externalId == "SUDS-1"
    # suds parses slowly: three pages show the paging shape without walking 2,500 contacts.
    seen, start = [], 0
    for _ in range(3):
        r = client.service.ContactList_Retrieve(USERNAME, PASSWORD, SITE_ID,
                                                "0001-01-01T00:00:00", start, True)
        result = r.ContactList_RetrieveResult
        records = result.ContactRecord if result and hasattr(result, "ContactRecord") else []
        seen.extend(rec.entityId for rec in records)
        assert r.recordStart == start + len(records)
        start = r.recordStart
        if not r.moreRecords:
            break
    assert len(seen) == len(set(seen)) == min(300, facade.expected + 1)


def _run_client(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(result: dict, facade, external_id: str) -> None:
    assert result["count"] == result["unique"] >= facade.expected
    assert result["upserted_external_id"] == external_id
    assert result["upserted_entity_id"] > 0
    assert "Invalid Username/Password or Site ID." in result["fault"]


def test_php_soapclient_pages_and_upserts(facade):
    php = shutil.which("php")
    if php is None:
        pytest.skip("php is not installed (scripts/install-system-deps installs php-cli php-soap)")
    if "soap" not in subprocess.run([php, "-m"], capture_output=True, text=True).stdout:
        pytest.skip("the PHP soap extension is not installed (Debian php-soap)")
    result = _run_client([php, str(INTEROP / "php" / "client.php"), facade.url + "?WSDL",
                          USERNAME, PASSWORD, str(SITE_ID)])
    _check(result, facade, "PHP-1")


def test_node_soap_pages_and_upserts(facade):
    node = shutil.which("node")
    folder = INTEROP / "node"
    if node is None:
        pytest.skip("node is not installed (scripts/install-system-deps installs nodejs npm)")
    if not (folder / "node_modules" / "soap").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True,
                       capture_output=True, timeout=300)
    result = _run_client([node, str(folder / "client.js"), facade.url + "?WSDL",
                          USERNAME, PASSWORD, str(SITE_ID)])
    _check(result, facade, "NODE-1")


def test_batches_past_the_crm_limit_lookups_and_deletes(facade):
    # 150 contacts in one call: the connector splits them at its CRM's limit (Bigin: 100).
    records = "".join(
        f"<ContactRecord><externalId>BATCH-{i}</externalId>"
        f"<emailAddress>batch{i}@example.com</emailAddress><firstName>B</firstName>"
        f"<lastName>Atch{i}</lastName><password></password></ContactRecord>"
        for i in range(150)
    )
    saved = facade.call("ContactList_UpdateInsert", f"<contactsList>{records}</contactsList>")
    assert saved.status_code == 200, saved.content[:500]
    for i in (0, 99, 100, 149):
        by_ext = facade.call("Contact_RetrieveByExternalID",
                             f"<externalId>BATCH-{i}</externalId>")
        assert by_ext.status_code == 200, by_ext.content[:300]
        assert f"batch{i}@example.com".encode() in by_ext.content
    # Upserting again by External ID updates in place (same entityId), never duplicates.
    before = facade.call("Contact_RetrieveByEmailAddress",
                         "<emailAddress>batch7@example.com</emailAddress>").content
    entity_id = before.split(b"<entityId>")[1].split(b"<")[0].decode()
    again = ("<contactsList><ContactRecord><externalId>BATCH-7</externalId>"
             "<emailAddress>batch7@example.com</emailAddress><lastName>Renamed</lastName>"
             "</ContactRecord></contactsList>")
    assert facade.call("ContactList_UpdateInsert", again).status_code == 200
    after = facade.call("Contact_RetrieveByEntityID", f"<entityId>{entity_id}</entityId>")
    assert b"<lastName>Renamed</lastName>" in after.content
    deleted = facade.call("Contact_DeleteByEntityID", f"<entityId>{entity_id}</entityId>")
    assert b">true<" in deleted.content
    gone = facade.call("Contact_RetrieveByEntityID", f"<entityId>{entity_id}</entityId>")
    assert gone.status_code == 500 and b"could not be retrieved" in gone.content
    by_mail = facade.call("Contact_DeleteByEmailAddress", "<email>batch8@example.com</email>")
    assert b">true<" in by_mail.content


# The 2,000-record page limit is Bigin's: this one runs over the Bigin facade only.
@pytest.mark.parametrize("facade", ["bigin"], indirect=True)
def test_a_deep_offset_past_bigins_2000_limit_without_a_saved_position(facade):
    from lxml import etree

    from bridge.facade.state import MemoryCursorMap
    from bridge.wsdl import NAMESPACE

    t = f"{{{NAMESPACE}}}"

    def retrieve(start):
        response = facade.call(
            "ContactList_Retrieve",
            f"<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>{start}"
            "</recordStart>",
        )
        assert response.status_code == 200, response.content[:300]
        wrapper = etree.fromstring(response.content)[0][0]
        emails = [r.findtext(t + "emailAddress") for r in wrapper[0]]
        return emails, int(wrapper.findtext(t + "recordStart"))

    walked, start = [], 0
    while True:
        emails, start = retrieve(start)
        walked.extend(emails)
        if len(emails) < 100:
            break
    pager = facade.app.facade.pager
    pager.cursors = MemoryCursorMap()  # a server that never saw this consumer
    pager.cache.invalidate(facade.app.facade.connector_for("crm"))
    emails, next_start = retrieve(2400)
    assert emails == walked[2400:2500] and next_start == 2400 + len(emails)
