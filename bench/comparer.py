"""The sync comparer's CPU per contact, against the long way it stands for, in one run.

Every contact a sync reads is fingerprinted in the form both sides can hold
(:class:`bridge.sync.fingerprint.Comparer`). Its definition is the long way: the contact
mapped to the inner side's wire record and back, then to the outer side's and back, then
:func:`canonical`, JSON with sorted keys and sha256. The comparer takes short cuts (each
connector's ``normalize`` without the wire record, the JSON text written directly) that must
give the same digests; this bench checks that they do for every contact it reads, and
prints the CPU microseconds per contact of both ways, measured in alternating rounds.

Contacts come from the emulators (``--records`` from each of legacy and Bigin), read as a
sync reads them: legacy -> Bigin fingerprints legacy's contacts (Bigin inner), Bigin ->
legacy Bigin's (legacy inner, change times dropped first).

Run: python bench/comparer.py [--records 5000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack

from sync_e2e import emulator, read_all

from bridge.connectors.base import Connector
from bridge.connectors.bigin.connector import BiginConnector
from bridge.connectors.bigin.mapping import held_by_round_trip
from bridge.connectors.legacy.connector import LegacyConnector
from bridge.model import Contact
from bridge.soap.contract.record import contact_to_record, record_to_contact
from bridge.sync.fingerprint import _ENCODER, Comparer, _keeps_change_times, canonical

Digest = Callable[[Contact], str]


def round_trip(connector: Connector) -> Callable[[Contact], Contact]:
    """The connector's normalize as its definition says: to the wire record and back."""
    if isinstance(connector, BiginConnector):
        field = connector.external_id_field
        return lambda contact: held_by_round_trip(contact, field)
    assert isinstance(connector, LegacyConnector)
    tz, kind = connector.tz, connector.company_entity_type

    def legacy(contact: Contact) -> Contact:
        record = contact_to_record(contact, tz, include_password=True, company_entity_type=kind)
        return record_to_contact(record, tz, kind)

    return legacy


def long_way(first: Connector, second: Connector) -> Digest:
    """The digest as the comparer defines it, every step taken in full."""
    outer, inner = round_trip(first), round_trip(second)
    # As the comparer does: change times dropped first when the inner side carries them.
    drop_times = _keeps_change_times(second)

    def digest(contact: Contact) -> str:
        if drop_times:
            contact = contact.replace(created_at=None, updated_at=None)
        text = _ENCODER.encode(canonical(outer(inner(contact))))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    return digest


def cpu_per_contact(digest: Digest, contacts: list[Contact]) -> float:
    started = time.process_time()
    for contact in contacts:
        digest(contact)
    return (time.process_time() - started) / len(contacts) * 1e6


def direction(
    name: str, first: Connector, second: Connector, contacts: list[Contact], rounds: int
) -> None:
    short, full = Comparer(first, second), long_way(first, second)
    wrong = sum(short(c) != full(c) for c in contacts)
    assert not wrong, f"{name}: {wrong} of {len(contacts)} digests differ from the long way"
    times: dict[str, list[float]] = {"comparer": [], "long way": []}
    for _ in range(rounds):
        times["comparer"].append(cpu_per_contact(short, contacts))
        times["long way"].append(cpu_per_contact(full, contacts))
    best = {way: min(values) for way, values in times.items()}
    print(f"\n{name}: {len(contacts):,} contacts, {rounds} rounds each, CPU µs per contact")
    print(f"  {'':12}{'min':>8}{'median':>8}")
    for way, values in times.items():
        print(f"  {way:12}{min(values):8.2f}{statistics.median(values):8.2f}")
    print(
        f"  comparer / long way (min): {best['comparer'] / best['long way']:.2f}; same digests: all"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with ExitStack() as stack:
        legacy = stack.enter_context(emulator("legacy", args.records))
        bigin = stack.enter_context(emulator("bigin", args.records))
        source = stack.enter_context(legacy.connector())
        target = stack.enter_context(bigin.connector())
        from_legacy, from_bigin = read_all(source), read_all(target)
        direction("legacy -> Bigin", source, target, from_legacy, args.rounds)
        direction("Bigin -> legacy", target, source, from_bigin, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
