"""Records per CPU-second of each emulator on its main read and write calls.

Each emulator runs alone in its own process (``soapbridge emulate``); this process drives
it through the project's connector as fast as it answers, ``--workers`` calls in flight.
The emulator's CPU seconds come from /proc, so the figure holds on a busy machine.

- read: the change feed read to the end (``--records`` seeded contacts);
- write: every record written back to an empty emulator by the system's main write
  call: a batch upsert (legacy UpdateInsert, Bigin upsert, 100 a call), or one create
  per record where the real API has no batch call (Engagifii CreatePersonInline, Egito
  Contact/create). A call per record costs the emulator a wake-up per call while its
  client is slower than it is (this process's connector calls ~1,000 a second), so for
  those two the write figure is the emulator's capacity: wrk (Debian package ``wrk``)
  sends the create the connector sends (captured from one real call: path, headers,
  body), each with its own contact, on ``--connections`` keep-alive connections for
  ``--seconds``; the creates through the connector (``--workers`` in flight) are printed
  beside it;
- upsert: for those two, also the connector's whole upsert of a new contact, which
  first looks the contact up (by External ID, then by email) and then creates it: the
  calls per record are printed, and the figure is records per CPU-second of all of them.

Target: >= 10,000 records per CPU-second on read and write, so a benchmark is bound by
the bridge. Run: python bench/emulators.py [--records 10000] [--kinds legacy bigin ...]
[--seconds 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from sync_e2e import Emulator, Measure, cpu_of, emulator, foreign, read_all, write_all

from bridge.connectors.egito.connector import CONTACT
from bridge.connectors.egito.mapping import contact_to_fields
from bridge.connectors.engagifii.client import NO_ORGANIZATION
from bridge.connectors.engagifii.mapping import contact_to_person
from bridge.model import Contact

KINDS = ("legacy", "bigin", "engagifii", "egito")
TARGET = 10_000.0
CREATE_SCRIPT = Path(__file__).resolve().with_name("emulators_create.lua")
#: What stands for the sequence number in a captured create (its e-mail and External ID).
MARKER = "WRKSEQ"
#: Headers wrk writes itself (the length differs per body).
OWN_HEADERS = {"content-length", "host", "connection"}
#: The kernel counts CPU time in clock ticks: a phase shorter than one reads as none.
TICK = 1 / os.sysconf("SC_CLK_TCK")


def per_cpu(records: int, cpu: float) -> float:
    """Records per CPU-second; a phase under one tick counts as one (a lower bound)."""
    return records / max(cpu, TICK)


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


def origin(target: Emulator) -> str:
    address = next(
        v for k, v in target.table.items() if k in ("endpoint", "base_url", "api_domain")
    )
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}"


def stats(target: Emulator) -> dict[str, int]:
    """The emulator's counters (its ``/_emulator/stats``): requests, answers by status."""
    with urllib.request.urlopen(f"{origin(target)}/_emulator/stats") as answer:
        return {k: int(v) for k, v in json.load(answer).items()}


def requests_served(target: Emulator) -> int:
    """Requests the emulator answered so far."""
    return stats(target).get("requests", 0)


@dataclass(frozen=True, slots=True)
class Captured:
    """One HTTP request as the connector sent it."""

    method: str
    path: str
    headers: dict[str, str]
    body: str


@contextmanager
def recording() -> Iterator[list[requests.PreparedRequest]]:
    """Every request any ``requests`` session sends meanwhile, as sent."""
    sent: list[requests.PreparedRequest] = []
    send = requests.Session.send

    def recorded(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        sent.append(request)
        return send(session, request, **kw)

    requests.Session.send = recorded  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        requests.Session.send = send  # type: ignore[method-assign]


def captured_create(target: Emulator) -> Captured:
    """The create call the connector makes for a contact (made once, for real), with
    :data:`MARKER` where the contact's e-mail and External ID go."""
    contact = Contact(
        external_id=f"ext-{MARKER}",
        email=f"{MARKER}@bench.example",
        first_name="Wrk",
        last_name="Bench",
    )
    with target.connector() as writer:
        writer.verify()  # the token (and Egito's dictionaries) first: not the call wanted
        with recording() as sent:
            CREATE_ONE[target.kind](writer, contact)
    (request,) = sent
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
    assert MARKER in body, f"{target.kind}: the create body lacks the contact's e-mail"
    parts = urlsplit(str(request.url))
    return Captured(
        str(request.method),
        parts.path + (f"?{parts.query}" if parts.query else ""),
        {k: v for k, v in request.headers.items() if k.lower() not in OWN_HEADERS},
        body,
    )


def capacity_creates(target: Emulator, seconds: float, connections: int) -> float:
    """Creates per emulator CPU-second while wrk sends them as fast as they are answered."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (Debian package wrk; scripts/install-system-deps)")
    create = captured_create(target)
    env = {
        **os.environ,
        "CREATE_METHOD": create.method,
        "CREATE_PATH": create.path,
        "CREATE_HEADERS": "\n".join(f"{k}: {v}" for k, v in create.headers.items()),
        "CREATE_BODY": create.body,
        "CREATE_MARKER": MARKER,
    }
    before, cpu = stats(target), cpu_of(target.pid)
    run = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(CREATE_SCRIPT),
            origin(target),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = cpu_of(target.pid) - cpu
    after = stats(target)
    answered = after.get("requests", 0) - before.get("requests", 0)
    created = sum(after.get(k, 0) - before.get(k, 0) for k in ("status_200", "status_201"))
    assert created == answered > 0, f"{target.kind}: {created} of {answered} created\n{run.stdout}"
    return per_cpu(created, cpu)


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


def measure(
    kind: str, records: int, workers: int, seconds: float, connections: int
) -> dict[str, Any]:
    """Records per emulator CPU-second: read, write, and for the one-per-call systems the
    creates through the connector and its upsert."""
    with emulator(kind, records) as full, full.reader(workers) as reader:
        read = Measure([full])
        with read.running():
            contacts = read_all(reader)
    assert len(contacts) == records, f"{kind}: read {len(contacts)} of {records}"
    figures: dict[str, Any] = {"read": per_cpu(records, read.cpu[kind])}
    with emulator(kind, 0) as empty:
        write = main_writes(empty, contacts, workers)
    figures["write"] = per_cpu(records, write.cpu[kind])
    if kind in CREATE_ONE:
        figures["connector"] = figures["write"]
        with emulator(kind, 0) as empty:
            figures["write"] = capacity_creates(empty, seconds, connections)
        with emulator(kind, 0) as empty:
            upsert, calls = upserts(empty, contacts, workers)
        figures["upsert"] = per_cpu(records, upsert.cpu[kind])
        figures["calls"] = calls
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk's run per create call")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    print(
        f"{args.records:,} records each, {args.workers} calls in flight; records per emulator "
        f"CPU-second (target >= {TARGET:,.0f} on read and write). One call per record "
        f"(engagifii, egito): write is the capacity, wrk on {args.connections} connections "
        f"for {args.seconds:g} s; the connector's creates and upserts beside it."
    )
    print(
        f"{'emulator':12}{'read':>10}{'write':>10}{'target':>10}        "
        f"{'via connector':>14}  {'upsert with look-ups':>22}"
    )
    ok = True
    for kind in args.kinds:
        figures = measure(kind, args.records, args.workers, args.seconds, args.connections)
        met = min(figures["read"], figures["write"]) >= TARGET
        ok = ok and met
        connector = f"{figures['connector']:14,.0f}" if "connector" in figures else f"{'-':>14}"
        upsert = (
            f"{figures['upsert']:10,.0f} ({figures['calls']:.1f} calls/record)"
            if "upsert" in figures
            else "-"
        )
        print(
            f"{kind:12}{figures['read']:10,.0f}{figures['write']:10,.0f}"
            f"{TARGET:10,.0f}  {'met' if met else 'MISSED':6}{connector}  {upsert:>22}",
            flush=True,
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
