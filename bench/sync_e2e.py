"""Sync legacy <-> Bigin through the emulators: CPU per contact, against the limit.

Each emulator runs in its own process (``soapbridge emulate``), as the real systems are
remote; the engine runs in this process. CPU seconds come from the kernel (this process's
rusage, each emulator's /proc/<pid>/stat), so the figures hold on a busy machine.

1. Per direction (legacy -> Bigin, Bigin -> legacy), ``--records`` contacts, no added
   latency: the engine's CPU seconds, each emulator's, and the engine's contacts per
   CPU-second (target >= 5,000). Then the **limit**, each endpoint alone in the same run:
   the reading side's feed read as fast as it can be read (no store, no writes), the
   writing side's upserts written as fast as they can be written (``--workers`` batches
   in flight). The engine's contacts/s over the slower of the two (target >= 0.8).
   Beside it, the engine's CPU per contact against the two clients' own (read alone +
   write alone, the same clients), and the ceiling that sets: the engine's process does
   both clients' work under one interpreter lock, so with no work of its own it could
   still go no faster than one core running both clients (a ceiling below 0.8 means the
   target needs more than one core, whatever the engine does).
2. Engine vs the naive loop (read everything a page at a time, then create 100 at a
   time, one call after another) with a network
   round trip added to every call (``--latency``, 150 ms) on ``--latency-records``
   (target >= 5x).
3. A resumed run (``--resume`` contacts, stopped half-way, then rerun) against a fresh one:
   contacts written per second (target: resumed >= half of fresh).
4. The engine's peak RSS for a small and a large sync, each in a fresh process
   (target <= 1.1x).

Before them, every kind of emulator started with no client, its CPU over ``--idle-seconds``
(target < 1% of a core); after them, ``soapbridge --help``'s CPU seconds (target <= 0.3).
Last, every figure of the run in one table beside its target.

Run: python bench/sync_e2e.py [--records 50000] [--skip-rss] [--idle-seconds 10] [--check]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.config import ConnectionConfig
from bridge.connectors.base import Connector, Page
from bridge.connectors.registry import build_connector
from bridge.model import Company, Contact
from bridge.store import Store
from bridge.sync import PassOptions, SyncEngine, SyncSpec

TARGET_RATE = 5_000.0
TARGET_FRACTION = 0.8
TARGET_SPEED = 5.0
TARGET_RESUME = 0.5
TARGET_RSS = 1.1
TARGET_IDLE = 0.01
TARGET_HELP = 0.3
IDLE_KINDS = ("legacy", "bigin", "engagifii", "egito", "hubspot")
NO_LIMITS = {"bigin": ["--concurrency", "0"], "engagifii": ["--rate-limit", "0"]}


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the closing table: a figure of the issue, as measured in this run."""

    figure: str
    measured: str
    target: str
    met: bool


@dataclass
class Emulator:
    kind: str
    table: dict[str, Any]
    pid: int

    def connector(self, **settings: Any) -> Connector:
        values = {k: v for k, v in self.table.items() if k != "kind"}
        if self.kind == "bigin":
            values["max_calls_per_second"] = 0  # no daily credit limit on the emulator here
        values.update(settings)
        return build_connector(ConnectionConfig(self.kind, self.kind, values))

    def reader(self, workers: int) -> Connector:
        """A connector reading as the engine does (legacy pages requested ahead)."""
        return self.connector(read_ahead=workers) if self.kind == "legacy" else self.connector()


@contextmanager
def emulator(kind: str, records: int, latency: float = 0.0) -> Iterator[Emulator]:
    args = ["--port", "0", "--records", str(records), "--latency", str(latency)]
    # No vendor limits: each endpoint answers as fast as it can.
    args += ["--threads", "16", *NO_LIMITS.get(kind, [])]
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", kind, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield Emulator(kind, json.loads(process.stdout.readline()), process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


@dataclass
class Measure:
    """Wall and CPU seconds of one phase: this process and each emulator."""

    emulators: list[Emulator]
    wall: float = 0.0
    engine: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def running(self) -> Iterator[Measure]:
        before = {e.kind: cpu_of(e.pid) for e in self.emulators}
        mine, started = own_cpu(), time.perf_counter()
        yield self
        self.wall = time.perf_counter() - started
        self.engine = own_cpu() - mine
        self.cpu = {e.kind: cpu_of(e.pid) - before[e.kind] for e in self.emulators}


def run_engine(reader: Connector, writer: Connector, workers: int, store_dir: str) -> int:
    store = Store(f"sqlite:///{store_dir}/bench-{time.monotonic_ns()}.db")
    store.migrate()
    spec = SyncSpec(
        "bench", reader, writer, "source-to-target", options=PassOptions(workers=workers)
    )
    report = SyncEngine(store, spec).run()
    store.dispose()
    assert report.totals.failed == 0, report.totals
    return report.totals.created + report.totals.updated


def read_all(reader: Connector) -> list[Contact]:
    return [c for page in reader.read_changes() for c in page.contacts]


def count_all(reader: Connector) -> int:
    """The feed read to its end, each page dropped once counted, as the engine drops it:
    holding every contact instead made the collector walk them all again and again (about
    20 µs per record of the client's CPU at 50,000), which is no part of reading."""
    return sum(len(page.contacts) for page in reader.read_changes())


def foreign(contact: Contact) -> Contact:
    """A contact as another system gets it: no ids of the system it came from."""
    company = Company(contact.company.name) if contact.company else None
    return contact.copy(ids={}, company=company)


def foreign_batches(contacts: list[Contact]) -> list[list[Contact]]:
    """Batches of 100 as the writer is handed them, made before the writes are measured:
    copying every contact while the feed read alone still holds them all cost about as
    much CPU as the upserts themselves, and is no part of the writing client."""
    return [
        [foreign(c) for c in contacts[start : start + 100]]
        for start in range(0, len(contacts), 100)
    ]


@contextmanager
def frozen() -> Iterator[None]:
    """Objects that exist now kept out of the collector's walks meanwhile: the writes alone
    are handed every contact at once, which the engine never holds (see :func:`count_all`)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def write_all(writer: Connector, contacts: list[Contact], workers: int) -> None:
    write_batches(writer, foreign_batches(contacts), workers)


def write_batches(writer: Connector, batches: list[list[Contact]], workers: int) -> None:
    with ThreadPoolExecutor(workers) as pool:
        for outcomes in pool.map(writer.upsert, batches):
            assert all(o.ok for o in outcomes)


def direction(
    reading: str, writing: str, records: int, workers: int, store_dir: str, table: list[Row]
) -> bool:
    """One direction: the engine, then each endpoint alone; prints and checks the figures."""
    print(f"\n{reading} -> {writing}, {records:,} contacts, no added latency")
    with ExitStack() as stack:
        source = stack.enter_context(emulator(reading, records))
        engine_sink = stack.enter_context(emulator(writing, 0))
        alone_sink = stack.enter_context(emulator(writing, 0))
        with source.reader(workers) as reader, engine_sink.connector() as writer:
            engine = Measure([source, engine_sink])
            with engine.running():
                done = run_engine(reader, writer, workers, store_dir)
            assert done == records, f"engine wrote {done} of {records}"
        with source.reader(workers) as reader:
            read = Measure([source])
            with read.running():
                counted = count_all(reader)
            assert counted == records
            batches = foreign_batches(read_all(reader))  # the writes' input, not measured
        with alone_sink.connector() as writer, frozen():
            write = Measure([alone_sink])
            with write.running():
                write_batches(writer, batches, workers)

    rate = records / engine.engine
    print(
        f"  {'':34}{'wall s':>8}{'engine CPU-s':>14}{reading + ' CPU-s':>14}{writing + ' CPU-s':>14}"
    )
    print(
        f"  {'engine (' + str(workers) + ' workers)':34}{engine.wall:8.1f}{engine.engine:14.2f}"
        f"{engine.cpu[reading]:14.2f}{engine.cpu[writing]:14.2f}"
    )
    print(f"  {'engine contacts per CPU-second':34}{rate:8,.0f}  (target >= {TARGET_RATE:,.0f})")
    read_rate, write_rate = records / read.wall, records / write.wall
    for label, measure, kind, speed in (
        (f"limit: {reading} feed read alone", read, reading, read_rate),
        (f"limit: {writing} upserts alone", write, writing, write_rate),
    ):
        per_cpu = records / max(measure.cpu[kind], 1e-9)
        print(
            f"  {label:34}{speed:8,.0f} contacts/s; {kind} emulator "
            f"{per_cpu:,.0f} records/CPU-s; client {records / measure.engine:,.0f}/CPU-s"
        )
    fraction = (records / engine.wall) / min(read_rate, write_rate)
    print(
        f"  {'engine / limit':34}{fraction:8.2f}  ({records / engine.wall:,.0f} contacts/s"
        f" of {min(read_rate, write_rate):,.0f}; target >= {TARGET_FRACTION})"
    )
    # What the engine cannot go below: its process reads and writes with the same two
    # clients, whose Python work shares one interpreter lock (about one core).
    clients = (read.engine + write.engine) / records * 1e6
    print(
        f"  {'CPU per contact, microseconds':34}{engine.engine / records * 1e6:8.0f}  (the two "
        f"clients alone {clients:.0f}: read {read.engine / records * 1e6:.0f} + write "
        f"{write.engine / records * 1e6:.0f})"
    )
    print(
        f"  {'one-core ceiling of engine / limit':34}{1e6 / clients / min(read_rate, write_rate):8.2f}"
        "  (the clients' work alone, on one core, against the limit)"
    )
    # Nor can the engine's run use more than the machine's cores: there the engine and both
    # emulators share them, where each endpoint alone had its client and emulator only.
    cores = os.cpu_count() or 1
    emulators = (read.cpu[reading] + write.cpu[writing]) / records * 1e6
    best = min(1e6 / clients, cores * 1e6 / (clients + emulators))
    print(
        f"  {f'ceiling on {cores} cores':34}{best / min(read_rate, write_rate):8.2f}"
        f"  (the same, with both emulators' CPU per contact, {emulators:.0f} µs, on the cores)"
    )
    way = f"{reading} -> {writing}, {records:,}"
    table.append(
        Row(
            f"engine contacts per CPU-second, {way}",
            f"{rate:,.0f}",
            f">= {TARGET_RATE:,.0f}",
            rate >= TARGET_RATE,
        )
    )
    table.append(
        Row(
            f"engine / slower endpoint alone, {way}",
            f"{fraction:.2f}",
            f">= {TARGET_FRACTION}",
            fraction >= TARGET_FRACTION,
        )
    )
    return rate >= TARGET_RATE and fraction >= TARGET_FRACTION


def naive(reader: Connector, writer: Connector) -> int:
    everything = read_all(reader)
    for start in range(0, len(everything), 100):
        batch = [c.copy(ids={}) for c in everything[start : start + 100]]
        assert all(o.ok for o in writer.upsert(batch))
    return len(everything)


def with_latency(
    records: int, latency: float, workers: int, store_dir: str, table: list[Row]
) -> bool:
    print(f"\nlegacy -> Bigin, {records:,} contacts, {latency * 1000:.0f} ms added per call")
    engine_label, naive_label = f"engine ({workers} workers)", "naive loop (sequential)"
    rates = {}
    # The naive loop reads one page at a time, as its name says: pages requested ahead
    # (``read_ahead``) are the engine's setting. The loop with that setting too is shown
    # beside it, for what the engine adds beyond reading ahead.
    for label, ahead, run in (
        (naive_label, 1, naive),
        ("naive loop, pages read ahead", workers, naive),
        (engine_label, workers, lambda r, w: run_engine(r, w, workers, store_dir)),
    ):
        with ExitStack() as stack:
            legacy = stack.enter_context(emulator("legacy", records, latency))
            bigin = stack.enter_context(emulator("bigin", 0, latency))
            reader = stack.enter_context(legacy.reader(ahead))
            writer = stack.enter_context(bigin.connector())
            started = time.perf_counter()
            assert run(reader, writer) == records
            rates[label] = records / (time.perf_counter() - started)
        print(f"  {label:34}{rates[label]:8,.0f} contacts/s")
    ratio = rates[engine_label] / rates[naive_label]
    ahead_ratio = rates[engine_label] / rates["naive loop, pages read ahead"]
    print(
        f"  {'engine / naive speed ratio':34}{ratio:8.1f}x (target >= {TARGET_SPEED:.0f}x;"
        f" {ahead_ratio:.1f}x the loop reading ahead)"
    )
    table.append(
        Row(
            f"engine vs naive loop, {latency * 1000:.0f} ms per call, {records:,}",
            f"{ratio:.1f}x",
            f">= {TARGET_SPEED:.0f}x",
            ratio >= TARGET_SPEED,
        )
    )
    return ratio >= TARGET_SPEED


class Stop(Exception):
    """Stands for the process dying part-way."""


def stopping_after(
    pages: int, read: Callable[..., Iterator[Page]]
) -> Callable[..., Iterator[Page]]:
    def read_changes(*args: Any, **kwargs: Any) -> Iterator[Page]:
        for n, page in enumerate(read(*args, **kwargs)):
            if n == pages:
                raise Stop
            yield page

    return read_changes


def timed_run(
    legacy: Emulator, bigin: Emulator, store: Store, workers: int, stop: int | None = None
) -> tuple[int, float, float]:
    """One engine run into ``store``: (records read, seconds, CPU seconds); ``stop`` pages
    then Stop."""
    with legacy.reader(workers) as reader, bigin.connector() as writer:
        if stop is not None:
            reader.read_changes = stopping_after(stop, reader.read_changes)  # type: ignore[method-assign]
        spec = SyncSpec("bench", reader, writer, options=PassOptions(workers=workers))
        started, cpu = time.perf_counter(), own_cpu()
        report = SyncEngine(store, spec).run()
        return report.totals.read, time.perf_counter() - started, own_cpu() - cpu


def resumed_vs_fresh(
    records: int, workers: int, store_dir: str, repeat: int, table: list[Row]
) -> bool:
    print(f"\nresume: legacy -> Bigin, {records:,} contacts, stopped half-way then rerun")
    print(f"  (best of {repeat}; contacts per second and per CPU-second of the engine)")
    rates: dict[str, tuple[float, float]] = {}
    for label in ("fresh run", "resumed run"):
        for _ in range(repeat):
            with emulator("legacy", records) as legacy, emulator("bigin", 0) as bigin:
                store = Store(f"sqlite:///{store_dir}/resume-{time.monotonic_ns()}.db")
                store.migrate()
                if label == "resumed run":
                    with suppress(Stop):
                        timed_run(legacy, bigin, store, workers, stop=max(1, records // 200))
                read, seconds, cpu = timed_run(legacy, bigin, store, workers)
                store.dispose()
            best = rates.get(label, (0.0, 0.0))
            rates[label] = (max(best[0], read / seconds), max(best[1], read / cpu))
        wall, per_cpu = rates[label]
        print(f"  {label:34}{wall:8,.0f} contacts/s, {per_cpu:,.0f} per CPU-second ({read:,})")
    ratio = rates["resumed run"][0] / rates["fresh run"][0]
    cpu_ratio = rates["resumed run"][1] / rates["fresh run"][1]
    print(
        f"  {'resumed / fresh':34}{ratio:8.2f}  (per CPU-second {cpu_ratio:.2f}; "
        f"target >= {TARGET_RESUME})"
    )
    table.append(
        Row(
            "resumed / fresh run, contacts per second",
            f"{ratio:.2f}",
            f">= {TARGET_RESUME}",
            ratio >= TARGET_RESUME,
        )
    )
    return ratio >= TARGET_RESUME


def idle_emulators(seconds: float, table: list[Row]) -> bool:
    """Every kind of emulator started with no client: the most CPU one uses over ``seconds``."""
    print(f"\nidle emulators, {seconds:.0f} s with no client (share of one core)")
    with ExitStack() as stack:
        started = [stack.enter_context(emulator(kind, 10)) for kind in IDLE_KINDS]
        time.sleep(0.5)  # past start-up work
        idle = Measure(started)
        with idle.running():
            time.sleep(seconds)
    shares = {kind: used / idle.wall for kind, used in idle.cpu.items()}
    for kind, share in shares.items():
        print(f"  {kind:34}{share:8.2%}")
    worst = max(shares.values())
    table.append(
        Row(
            f"idle emulator CPU over {seconds:.0f} s (the most of {len(shares)} kinds)",
            f"{worst:.2%}",
            f"< {TARGET_IDLE:.0%}",
            worst < TARGET_IDLE,
        )
    )
    return worst < TARGET_IDLE


def help_cpu(runs: int, table: list[Row]) -> bool:
    """CPU seconds of ``soapbridge --help`` (user + system of the whole process), median."""
    script = Path(sys.executable).with_name("soapbridge")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bridge"]
    seconds = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([*command, "--help"], check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    median = sorted(seconds)[len(seconds) // 2]
    print(f"\nsoapbridge --help, {runs} runs\n  {'median CPU seconds':34}{median:8.2f}")
    table.append(
        Row(
            "soapbridge --help, CPU seconds",
            f"{median:.2f}",
            f"<= {TARGET_HELP}",
            median <= TARGET_HELP,
        )
    )
    return median <= TARGET_HELP


def print_table(table: list[Row]) -> None:
    print("\nthe figures of this run against their targets")
    print(f"  {'figure':58}{'measured':>10}{'target':>10}  met")
    for row in table:
        print(f"  {row.figure:58}{row.measured:>10}{row.target:>10}  {'yes' if row.met else 'NO'}")


def child_rss(records: int, workers: int) -> None:
    """In a fresh process: one engine sync of ``records``; print peak RSS in MiB."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        legacy = stack.enter_context(emulator("legacy", records))
        bigin = stack.enter_context(emulator("bigin", 0))
        reader = stack.enter_context(legacy.reader(workers))
        writer = stack.enter_context(bigin.connector())
        run_engine(reader, writer, workers, folder)
    print(json.dumps({"records": records, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that across exec, so
    a child started from a large parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure_rss(records: int, workers: int) -> float:
    command = [sys.executable, __file__, "--child-rss", str(records), "--workers", str(workers)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    peak: float = json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mib"]
    print(f"  {'engine peak RSS at ' + format(records, ',') + ' contacts':34}{peak:8.1f} MiB")
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added per call")
    parser.add_argument("--latency-records", type=int, default=10_000)
    parser.add_argument("--resume", type=int, default=5_000, help="contacts of the resume runs")
    parser.add_argument("--resume-repeat", type=int, default=3, help="best of N resume runs")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--rss", type=int, nargs=2, default=[10_000, 200_000], metavar=("SMALL", "LARGE")
    )
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--help-runs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child-rss", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_rss:
        child_rss(args.child_rss, args.workers)
        return 0

    ok = True
    table: list[Row] = []
    ok = idle_emulators(args.idle_seconds, table) and ok
    with tempfile.TemporaryDirectory() as folder:
        for reading, writing in (("legacy", "bigin"), ("bigin", "legacy")):
            ok = direction(reading, writing, args.records, args.workers, folder, table) and ok
        ok = with_latency(args.latency_records, args.latency, args.workers, folder, table) and ok
        ok = resumed_vs_fresh(args.resume, args.workers, folder, args.resume_repeat, table) and ok
    ok = help_cpu(args.help_runs, table) and ok
    if not args.skip_rss:
        print("\nmemory (no added latency: the fastest run holds the most in flight)")
        small, large = (measure_rss(n, args.workers) for n in args.rss)
        growth = large / small
        print(f"  {'peak RSS large / small':34}{growth:8.2f}x (target <= {TARGET_RSS}x)")
        table.append(
            Row(
                f"peak RSS at {args.rss[1]:,} vs {args.rss[0]:,} contacts",
                f"{growth:.2f}x",
                f"<= {TARGET_RSS}x",
                growth <= TARGET_RSS,
            )
        )
        ok = ok and growth <= TARGET_RSS
    print_table(table)
    print(f"\nall targets met: {'yes' if ok else 'no'}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
