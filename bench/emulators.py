"""Records per CPU-second of each emulator on its main read and write calls.

Each emulator runs alone in its own process (``soapbridge emulate``); this process drives
it through the project's connector as fast as it answers: the change feed read to the end,
then every record written back to an empty emulator (``--workers`` calls in flight).
The emulator's CPU seconds come from /proc, so the figure holds on a busy machine.
Target: >= 10,000 records per CPU-second, so a benchmark is bound by the bridge.
Run: python bench/emulators.py [--records 10000] [--kinds legacy bigin ...]
"""

from __future__ import annotations

import argparse
import sys

from sync_e2e import Measure, emulator, read_all, write_all

KINDS = ("legacy", "bigin", "engagifii", "egito")
TARGET = 10_000.0


def measure(kind: str, records: int, workers: int) -> tuple[float, float]:
    """(read, write) records per emulator CPU-second."""
    with emulator(kind, records) as full, emulator(kind, 0) as empty:
        with full.reader(workers) as reader:
            read = Measure([full])
            with read.running():
                contacts = read_all(reader)
        assert len(contacts) == records, f"{kind}: read {len(contacts)} of {records}"
        with empty.connector() as writer:
            write = Measure([empty])
            with write.running():
                write_all(writer, contacts, workers)
    return records / max(read.cpu[kind], 1e-9), records / max(write.cpu[kind], 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    print(f"{args.records:,} records each; emulator records per CPU-second (target >= 10,000)")
    print(f"{'emulator':12}{'read':>12}{'write':>12}")
    ok = True
    for kind in args.kinds:
        read, write = measure(kind, args.records, args.workers)
        print(f"{kind:12}{read:12,.0f}{write:12,.0f}", flush=True)
        ok = ok and min(read, write) >= TARGET
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
