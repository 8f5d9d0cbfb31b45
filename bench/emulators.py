"""Records per CPU-second of each emulator on its main read and write calls.

Each emulator runs alone in its own process (``soapbridge emulate``); this process drives
it through the project's connector as fast as it answers, ``--workers`` calls in flight.
The emulator's CPU seconds come from /proc, so the figure holds on a busy machine.

- read: the change feed read to the end (``--records`` seeded contacts);
- write: every record written back to an empty emulator by the system's main write
  call: a batch upsert (legacy UpdateInsert, Bigin upsert, 100 a call), or one create
  per record where the real API has no batch call (Engagifii CreatePersonInline, Egito
  Contact/create);
- upsert: for those two, also the connector's whole upsert of a new contact, which
  first looks the contact up (by External ID, then by email) and then creates it: the
  calls per record are printed, and the figure is records per CPU-second of all of them.

Target: >= 10,000 records per CPU-second on read and write, so a benchmark is bound by
the bridge. Run: python bench/emulators.py [--records 10000] [--kinds legacy bigin ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from sync_e2e import Emulator, Measure, emulator, foreign, read_all, write_all

from bridge.connectors.egito.connector import CONTACT
from bridge.connectors.egito.mapping import contact_to_fields
from bridge.connectors.engagifii.client import NO_ORGANIZATION
from bridge.connectors.engagifii.mapping import contact_to_person
from bridge.model import Contact

KINDS = ("legacy", "bigin", "engagifii", "egito")
TARGET = 10_000.0


def _engagifii_create(writer: Any, contact: Contact) -> None:
    body = contact_to_person(contact, writer.external_id_field)
    writer.client.create_person(NO_ORGANIZATION, body)


def _egito_create(writer: Any, contact: Contact) -> None:
    fields = contact_to_fields(contact, writer.dictionaries, writer.external_id_field)
    writer.client.create(CONTACT, fields)


#: The main write call of the systems that write one record per call (no batch call).
CREATE_ONE: dict[str, Callable[[Any, Contact], None]] = {
    "engagifii": _engagifii_create,
    "egito": _egito_create,
}


def requests_served(target: Emulator) -> int:
    """Requests the emulator answered so far (its ``/_emulator/stats``)."""
    address = next(
        v for k, v in target.table.items() if k in ("endpoint", "base_url", "api_domain")
    )
    parts = urlsplit(address)
    with urllib.request.urlopen(f"{parts.scheme}://{parts.netloc}/_emulator/stats") as answer:
        return int(json.load(answer).get("requests", 0))


def main_writes(target: Emulator, contacts: list[Contact], workers: int) -> Measure:
    """Every contact written by the system's main write call; the emulator's CPU."""
    with target.connector() as writer:
        create_one = CREATE_ONE.get(target.kind)
        if create_one is not None:
            writer.verify()  # the token (and Egito's dictionaries) before the clock starts
            fresh = [foreign(c) for c in contacts]
        measure = Measure([target])
        with measure.running():
            if create_one is None:
                write_all(writer, contacts, workers)
            else:
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(lambda c: create_one(writer, c), fresh))
    return measure


def upserts(target: Emulator, contacts: list[Contact], workers: int) -> tuple[Measure, float]:
    """The connector's upsert of new contacts (look-ups included); calls per record."""
    before = requests_served(target)
    with target.connector() as writer:
        measure = Measure([target])
        with measure.running():
            write_all(writer, contacts, workers)
    return measure, (requests_served(target) - before) / len(contacts)


def measure(kind: str, records: int, workers: int) -> dict[str, Any]:
    """Records per emulator CPU-second: read, write, and upsert (one-per-call systems)."""
    with emulator(kind, records) as full, full.reader(workers) as reader:
        read = Measure([full])
        with read.running():
            contacts = read_all(reader)
    assert len(contacts) == records, f"{kind}: read {len(contacts)} of {records}"
    figures: dict[str, Any] = {"read": records / max(read.cpu[kind], 1e-9)}
    with emulator(kind, 0) as empty:
        write = main_writes(empty, contacts, workers)
    figures["write"] = records / max(write.cpu[kind], 1e-9)
    if kind in CREATE_ONE:
        with emulator(kind, 0) as empty:
            upsert, calls = upserts(empty, contacts, workers)
        figures["upsert"] = records / max(upsert.cpu[kind], 1e-9)
        figures["calls"] = calls
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    print(
        f"{args.records:,} records each, {args.workers} calls in flight; records per emulator "
        f"CPU-second (target >= {TARGET:,.0f} on read and write)"
    )
    print(f"{'emulator':12}{'read':>10}{'write':>10}{'target':>10}  {'upsert with look-ups':>22}")
    ok = True
    for kind in args.kinds:
        figures = measure(kind, args.records, args.workers)
        met = min(figures["read"], figures["write"]) >= TARGET
        ok = ok and met
        upsert = (
            f"{figures['upsert']:10,.0f} ({figures['calls']:.1f} calls/record)"
            if "upsert" in figures
            else "-"
        )
        print(
            f"{kind:12}{figures['read']:10,.0f}{figures['write']:10,.0f}"
            f"{TARGET:10,.0f}  {'met' if met else 'MISSED':6}{upsert:>16}",
            flush=True,
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
