"""Records/s of the legacy client decoding 100-record ContactList_Retrieve pages.

Both sides run zeep's own reply path on the same bytes (HTTP response -> XML parse ->
plugins -> fault check -> deserialize) in the same process and run:
- plain zeep: a zeep Client on the project's WSDL, zeep's xsd deserialization;
- the client: the project's LegacyClient, whose reply path keeps the records' XML for
  its FeedReader, which reads every record straight into a canonical Contact.
Run: python bench/client_decode.py [--pages N] [--repeat R] [--check]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from zoneinfo import ZoneInfo

import requests
import zeep

from bridge.connectors.legacy.client import LegacyClient
from bridge.connectors.legacy.feed import FeedReader
from bridge.emulators.legacy.records import complete, write_contact
from bridge.emulators.legacy.store import seed_record
from bridge.soap.client import SOAP11_BINDING
from bridge.soap.contract import wire
from bridge.wsdl import wsdl_path

TARGET = 5.0
RECORDS_PER_PAGE = 100


def page_bytes() -> bytes:
    rng = random.Random(1)
    records = []
    for i in range(RECORDS_PER_PAGE):
        record = complete(seed_record(i, rng))
        record["entityId"] = 1000 + i
        records.append(record)
    inner = (
        "<ContactList_RetrieveResult>"
        + "".join(write_contact(r) for r in records)
        + "</ContactList_RetrieveResult><recordStart>100</recordStart><moreRecords>true</moreRecords>"
    )
    return wire.response(11, "ContactList_Retrieve", inner)


def fake_response(content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    response._content = content
    return response


def measure(decode, content: bytes, pages: int, repeat: int) -> float:
    """Best records/s over ``repeat`` runs of ``pages`` pages."""
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(pages):
            decode(fake_response(content))
        elapsed = time.perf_counter() - started
        best = max(best, pages * RECORDS_PER_PAGE / elapsed)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET}x plain zeep")
    args = parser.parse_args()
    content = page_bytes()
    tz = ZoneInfo("Australia/Sydney")

    plain = zeep.Client(str(wsdl_path()))
    plain_binding = plain.wsdl.bindings[SOAP11_BINDING]
    plain_op = plain_binding.get("ContactList_Retrieve")

    def plain_decode(response: requests.Response) -> object:
        result = plain_binding.process_reply(plain, plain_op, response)
        assert len(result.ContactList_RetrieveResult.ContactRecord) == RECORDS_PER_PAGE
        return result

    ours = LegacyClient("http://127.0.0.1:9/", username="u", password="p", site_id=1)
    ours_binding = ours.zeep_client.wsdl.bindings[SOAP11_BINDING]
    ours_op = ours_binding.get("ContactList_Retrieve")

    reader = FeedReader(tz)

    def ours_decode(response: requests.Response) -> object:
        page = ours_binding.process_reply(ours.zeep_client, ours_op, response)
        contacts = [r["contact"] for r in reader.records(page.result)]
        assert len(contacts) == RECORDS_PER_PAGE
        return contacts

    # Same answer from both before timing anything.
    check_plain = plain_decode(fake_response(content)).ContactList_RetrieveResult.ContactRecord
    check_ours = ours_decode(fake_response(content))
    assert [r.emailAddress for r in check_plain] == [c.email for c in check_ours]

    plain_rate = measure(plain_decode, content, args.pages, args.repeat)
    ours_rate = measure(ours_decode, content, args.pages, args.repeat)
    ratio = ours_rate / plain_rate
    print(f"page: {RECORDS_PER_PAGE} records, {len(content):,} bytes")
    print(f"plain zeep decode      : {plain_rate:10,.0f} records/s")
    print(f"soapbridge client      : {ours_rate:10,.0f} records/s (decode + map to Contact)")
    print(f"ratio                  : {ratio:10.1f}x (target >= {TARGET:.0f}x)")
    if args.check and ratio < TARGET:
        print("below target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
