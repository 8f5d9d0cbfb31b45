"""Legacy -> Bigin full sync through the emulators: contacts/s and peak memory.

Each emulator runs in its own process (``soapbridge emulate``), as the real systems are
remote. Every comparison runs twice: with no added latency (everything, both emulators
included, competes for this machine's two cores: a CPU-bound floor), and with a network
round trip added to every call on both sides (``--latency``, 150 ms by default: a hosted
SOAP service or a SaaS API answers in 100-500 ms). In the same run:
- the naive loop: read every page into memory, then create 100 at a time, sequentially;
- the engine: ``SyncEngine`` (streaming, pipelined pages, concurrent batch upserts,
  id links and checkpoints in a SQLite store).
Then the engine's peak RSS for a small and a large sync, each in a fresh process.

The target (>= 3x the naive loop) is checked on the run with latency.
Run: python bench/sync_e2e.py [--records 10000] [--latency 0.15] [--rss 10000 200000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.store import Store
from bridge.sync import PassOptions, SyncEngine, SyncSpec

TARGET_SPEED = 3.0
TARGET_RSS = 1.25


@contextmanager
def emulator(kind: str, records: int, latency: float) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge",
            "emulate",
            kind,
            "--port",
            "0",
            "--records",
            str(records),
            "--latency",
            str(latency),
            "--threads",
            "16",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
        yield table
    finally:
        process.terminate()
        process.wait(timeout=30)


def connectors(
    legacy: dict[str, Any], bigin: dict[str, Any], read_ahead: int = 1
) -> tuple[Any, Any]:
    settings = {k: v for k, v in legacy.items() if k != "kind"}
    settings["read_ahead"] = read_ahead
    source = build_connector(ConnectionConfig("crm", "legacy", settings))
    settings = {k: v for k, v in bigin.items() if k != "kind"}
    settings["max_calls_per_second"] = 0  # the emulator has no daily credit limit here
    target = build_connector(ConnectionConfig("bigin", "bigin", settings))
    return source, target


def naive(legacy: dict[str, Any], bigin: dict[str, Any]) -> int:
    source, target = connectors(legacy, bigin)
    with source, target:
        everything = [c for page in source.read_changes() for c in page.contacts]
        for start in range(0, len(everything), 100):
            batch = [c.copy(ids={}) for c in everything[start : start + 100]]
            outcomes = target.upsert(batch)
            assert all(o.ok for o in outcomes)
        return len(everything)


def engine(legacy: dict[str, Any], bigin: dict[str, Any], workers: int) -> int:
    source, target = connectors(legacy, bigin, read_ahead=workers)
    with tempfile.TemporaryDirectory() as folder, source, target:
        store = Store(f"sqlite:///{folder}/bench.db")
        store.migrate()
        spec = SyncSpec(
            "bench", source, target, "source-to-target", options=PassOptions(workers=workers)
        )
        report = SyncEngine(store, spec).run()
        assert report.totals.failed == 0
        store.dispose()
        return report.totals.created


def timed(label: str, records: int, latency: float, run: Any) -> float:
    with emulator("legacy", records, latency) as legacy, emulator("bigin", 0, latency) as bigin:
        started = time.perf_counter()
        done = run(legacy, bigin)
        elapsed = time.perf_counter() - started
    assert done == records, f"{label}: {done} of {records}"
    rate = records / elapsed
    print(f"{label:<28}: {rate:8,.0f} contacts/s ({records:,} in {elapsed:.1f} s)", flush=True)
    return rate


def child_rss(records: int, latency: float, workers: int) -> None:
    """In a fresh process: one engine sync of ``records``; print peak RSS in MiB."""
    with emulator("legacy", records, latency) as legacy, emulator("bigin", 0, latency) as bigin:
        started = time.perf_counter()
        engine(legacy, bigin, workers)
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": records, "peak_rss_mib": peak, "seconds": elapsed}))


def measure_rss(records: int, latency: float, workers: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child-rss",
            str(records),
            "--latency",
            str(latency),
            "--workers",
            str(workers),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"engine peak RSS at {records:>7,} : {result['peak_rss_mib']:7.1f} MiB "
        f"({records / result['seconds']:,.0f} contacts/s)",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added per call")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--rss", type=int, nargs=2, default=[10_000, 200_000], metavar=("SMALL", "LARGE")
    )
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child-rss", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_rss:
        child_rss(args.child_rss, args.latency, args.workers)
        return 0

    ratio = 0.0
    for latency in (0.0, args.latency):
        print(f"legacy -> Bigin, {args.records:,} contacts, {latency * 1000:.0f} ms added per call")
        slow = timed("  naive loop (sequential)", args.records, latency, naive)
        fast = timed(
            f"  engine ({args.workers} workers)",
            args.records,
            latency,
            lambda a, b: engine(a, b, args.workers),
        )
        ratio = fast / slow
        print(f"{'  speed ratio':<28}: {ratio:8.1f}x")
    print(f"{'speed ratio with latency':<28}: {ratio:8.1f}x (target >= {TARGET_SPEED:.0f}x)")
    ok = ratio >= TARGET_SPEED
    if not args.skip_rss:
        # Memory is measured without added latency: the fastest run holds the most in flight.
        small, large = (measure_rss(n, 0.0, args.workers) for n in args.rss)
        growth = large["peak_rss_mib"] / small["peak_rss_mib"]
        print(f"{'RSS large / small':<28}: {growth:8.2f}x (target <= {TARGET_RSS}x)")
        ok = ok and growth <= TARGET_RSS
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
