"""Records/s of the SOAP facade serving 100-record ContactList_Retrieve pages.

Both sides answer the same SOAP 1.1 request for the same 100 contacts, in the same process
and run, from the request bytes to the response bytes:
- plain spyne: a spyne Application with the same models whose method returns the page as
  spyne ``ContactRecord`` objects, serialized by spyne's default Soap11 output;
- the facade: :class:`bridge.facade.FacadeApp` (XML guard, spyne parsing and dispatch,
  site check, offset paging, entityId map, the fast ``ContactRecord`` writer, the legacy
  envelope), over an in-memory connector so no CRM time is counted.
Run: python bench/facade_encode.py [--pages N] [--repeat R] [--check] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from spyne import (
    Application,
    Boolean,
    DateTime,
    Integer32,
    MethodContext,
    ServiceBase,
    Unicode,
    rpc,
)
from spyne.protocol.soap import Soap11
from spyne.server._base import ServerBase

from bridge.config import parse_config
from bridge.connectors.base import Connector, Page, Position
from bridge.emulators.legacy.records import complete
from bridge.emulators.legacy.store import seed_record
from bridge.facade import build_facade
from bridge.facade.models import ArrayOfContactRecord, from_dict
from bridge.model import Contact
from bridge.soap.contract.record import contact_to_record, record_to_contact
from bridge.wsdl import NAMESPACE

TARGET = 5.0
RECORDS_PER_PAGE = 100
TZ = ZoneInfo("Australia/Sydney")
REQUEST = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    f'<ContactList_Retrieve xmlns="{NAMESPACE}"><username>u</username><password>p</password>'
    "<siteId>1</siteId><lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate>"
    "<recordStart>0</recordStart><moreRecords>true</moreRecords></ContactList_Retrieve>"
    "</soap:Body></soap:Envelope>"
).encode()


def page_contacts() -> list[Contact]:
    rng = random.Random(1)
    contacts = []
    for i in range(RECORDS_PER_PAGE):
        record = complete(seed_record(i, rng))
        record["entityId"] = 0
        contact = record_to_contact(record, TZ)
        contact.ids = {"memory": f"crm-{i}"}
        contacts.append(contact)
    return contacts


class MemoryConnector(Connector):
    """One fixed page, as a connector would hand it over."""

    kind = "memory"

    def __init__(self, contacts: list[Contact]) -> None:
        self.contacts = contacts

    def verify(self) -> None:
        pass

    def read_changes(self, since: Any = None, resume: Any = None) -> Iterator[Page]:
        yield Page(self.contacts, Position(since, {"page": 1}), more=False)

    def upsert(self, contacts: Any) -> list[Any]:
        raise NotImplementedError

    def get(self, contact_id: str) -> Contact | None:
        return None

    def find_by_email(self, email: str) -> Contact | None:
        return None

    def delete(self, contact_id: str) -> bool:
        return False


def facade_handler(contacts: list[Contact]) -> Any:
    config = parse_config(
        {
            "connections": {"crm": {"kind": "legacy"}},
            "sites": [{"site_id": 1, "connection": "crm", "username": "u", "password": "p",
                       "timezone": TZ.key}],
        },
        env={},
    )
    app = build_facade(config)
    # Every answer is written afresh: reusing the XML of an identical cached page (which
    # the facade does in service) would time a dictionary lookup, not the encoder.
    app.facade.reuse_rendered = False
    connector = MemoryConnector(contacts)
    app.facade.connector_for = lambda name: connector
    action = f"{NAMESPACE}/ContactList_Retrieve"

    def serve() -> bytes:
        status, body = app.handle(REQUEST, 11, action)
        assert status == "200 OK", body[:300]
        return body

    return serve


def plain_spyne_handler(contacts: list[Contact]) -> Any:
    records = [contact_to_record(c, TZ) for c in contacts]
    for number, record in enumerate(records, 1):
        record["entityId"] = number

    class PlainService(ServiceBase):
        @rpc(Unicode, Unicode, Integer32, DateTime, Integer32, Boolean,
             _returns=(ArrayOfContactRecord, Integer32, Boolean),
             _out_variable_names=("ContactList_RetrieveResult", "recordStart", "moreRecords"))
        def ContactList_Retrieve(ctx, username, password, siteId, lastUpdateDate,
                                 recordStart, moreRecords):
            # A plain spyne service builds its model objects from the CRM's contacts.
            page = [from_dict(r) for r in records]
            return page, len(page), False

    app = Application([PlainService], tns=NAMESPACE, in_protocol=Soap11(validator=None),
                      out_protocol=Soap11())
    server = ServerBase(app)

    def serve() -> bytes:
        ctx = MethodContext(server, MethodContext.SERVER)
        ctx.in_string = [REQUEST]
        (p_ctx, *_) = server.generate_contexts(ctx)
        server.get_in_object(p_ctx)
        server.get_out_object(p_ctx)
        server.get_out_string(p_ctx)
        assert p_ctx.out_error is None, p_ctx.out_error
        return b"".join(p_ctx.out_string)

    return serve


def measure(serve: Any, pages: int, repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(pages):
            serve()
        best = max(best, pages * RECORDS_PER_PAGE / (time.perf_counter() - started))
    return best


def emails(body: bytes) -> list[str | None]:
    root = etree.fromstring(body)
    return [e.text for e in root.iter(f"{{{NAMESPACE}}}emailAddress")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET}x spyne")
    parser.add_argument("--profile", action="store_true", help="profile the facade path")
    args = parser.parse_args()
    contacts = page_contacts()
    facade = facade_handler(contacts)
    plain = plain_spyne_handler(contacts)
    ours_body, plain_body = facade(), plain()
    # The same page both ways before anything is timed.
    assert emails(ours_body) == emails(plain_body) and len(emails(ours_body)) == RECORDS_PER_PAGE
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(measure, facade, args.pages, 1)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    plain_rate = measure(plain, args.pages, args.repeat)
    ours_rate = measure(facade, args.pages, args.repeat)
    ratio = ours_rate / plain_rate
    print(f"page: {RECORDS_PER_PAGE} records, facade {len(ours_body):,} bytes, "
          f"spyne {len(plain_body):,} bytes")
    print(f"plain spyne (Soap11)   : {plain_rate:10,.0f} records/s")
    print(f"soapbridge facade      : {ours_rate:10,.0f} records/s (whole request path)")
    print(f"ratio                  : {ratio:10.1f}x (target >= {TARGET:.0f}x)")
    if args.check and ratio < TARGET:
        print("below target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
