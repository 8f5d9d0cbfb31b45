"""Scale-out: a partitioned legacy -> Bigin full sync with 1, 2 and 4 `soapbridge worker`s.

Everything runs on this machine, on loopback: the two emulators each in a process of its
own (``soapbridge emulate``), a throwaway PostgreSQL (the store) and Redis (the broker and
the shared rate limit), and N worker processes (Celery, one task at a time each). First
the reference: the same sync by the in-process engine (``soapbridge sync``'s code, on
the embedded SQLite store) into an empty Bigin. Then for each N, a fresh Bigin and store,
N workers, one queued full run, timed from submission until its job completes. Every run's Bigin contents are compared
with the reference's, field by field (all but the fields Bigin sets itself).

Run: python bench/scale_out.py [--records 50000] [--workers 1 2 4] [--latency 0.02]
     [--no-reference]

Note on the curve (see the printed cores and load): the workers only move records between
two servers, so a run is bound by whatever is slowest of the legacy emulator (SOAP
encoding), the Bigin emulator (JSON, one lock over its records), PostgreSQL (links and
checkpoints) and the workers' own mapping. On a machine with two cores all of those share
the two cores, so adding workers helps only while some of them wait on the network
(``--latency``, as with real remote systems) and flattens once the cores are busy; with
real vendors on other machines the same partitions spread over worker hosts until the
vendor's rate limit (shared through Redis) is the bound.

Measured here (50,000 contacts, partitions of 5,000; every run equal to the reference):
- no latency, quiet machine (load ~1): 1 worker 455/s, 2 workers 785/s, 4 workers 693/s.
  One worker's reader waits on each legacy page in turn, so a second reader puts the
  other core to work (x1.7); four processes on two cores only add contention.
- 20 ms latency, machine busy with other work (load 9-13): in-process engine on SQLite
  137/s, 1 worker 362/s, 2 workers 435/s, 4 workers 779/s: with a round trip per call the
  workers mostly wait, and more of them overlap more waiting (the load fell during the
  4-worker run, so part of its gain is the machine's).
The figures move by +-30% between runs on a shared machine; read the shape, not the digits.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL and Redis servers

from postgres_server import PostgresServer, find_bindir  # noqa: E402
from redis_server import RedisServer, find_redis_server  # noqa: E402

from bridge.config import ConnectionConfig, load_config  # noqa: E402
from bridge.connectors.bigin.mapping import DEFAULT_EXTERNAL_ID_FIELD, READ_FIELDS  # noqa: E402
from bridge.connectors.registry import build_connector  # noqa: E402
from bridge.runs.queueing import submit_run  # noqa: E402
from bridge.store import Store  # noqa: E402
from bridge.sync import PassOptions, SyncEngine, SyncSpec  # noqa: E402

VOLATILE = {
    "id",
    "Created_Time",
    "Modified_Time",
    "Owner",
    "Created_By",
    "Modified_By",
    "Last_Activity_Time",
    "Tag",
    "Account_Name",
}
FIELDS = ",".join((*READ_FIELDS, DEFAULT_EXTERNAL_ID_FIELD))


@contextmanager
def emulator(kind: str, *args: str) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", kind, "--port", "0", "--threads", "16", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)


def connection(name: str, table: dict[str, Any], **extra: Any) -> ConnectionConfig:
    settings = {k: v for k, v in table.items() if k != "kind"}
    settings.update(extra)
    return ConnectionConfig(name, str(table["kind"]), settings)


def bigin_contents(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Bigin contact as written, by External ID, read back through its API."""
    import requests

    form = {
        "grant_type": "refresh_token",
        "client_id": table["client_id"],
        "client_secret": table["client_secret"],
        "refresh_token": table["refresh_token"],
    }
    token = requests.post(f"{table['accounts_url']}/oauth/v2/token", data=form, timeout=30).json()
    headers = {"Authorization": f"Zoho-oauthtoken {token['access_token']}"}
    rows: dict[str, dict[str, Any]] = {}
    page, page_token = 1, None
    while True:
        params: dict[str, Any] = {"per_page": 200, "fields": FIELDS}
        params.update({"page_token": page_token} if page_token else {"page": page})
        answer = requests.get(
            f"{table['api_domain']}/bigin/v2/Contacts", params=params, headers=headers, timeout=60
        )
        if answer.status_code == 204:
            break
        body = answer.json()
        for row in body.get("data", []):
            rows[str(row.get("External_ID"))] = {k: v for k, v in row.items() if k not in VOLATILE}
        info = body.get("info", {})
        if not info.get("more_records"):
            break
        page += 1
        page_token = info.get("next_page_token")
    return rows


def reference(legacy: dict[str, Any], latency: float, records: int) -> tuple[float, dict]:
    """The in-process engine's run into an empty Bigin: (seconds, contents)."""
    with (
        emulator(
            "bigin", "--records", "0", "--concurrency", "0", "--latency", str(latency)
        ) as bigin,
        tempfile.TemporaryDirectory() as folder,
    ):
        store = Store(f"sqlite:///{folder}/reference.db")
        store.migrate()
        source = build_connector(connection("crm", legacy))
        target = build_connector(connection("bigin", bigin, max_calls_per_second=0))
        started = time.perf_counter()
        with source, target:
            spec = SyncSpec("members", source, target, options=PassOptions(full=True))
            report = SyncEngine(store, spec).run()
        seconds = time.perf_counter() - started
        store.dispose()
        assert report.ok and report.totals.read == records, report.as_dict()
        return seconds, bigin_contents(bigin)


def toml_table(name: str, settings: dict[str, Any]) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()) + "\n"


def queued_run(
    workers: int,
    legacy: dict[str, Any],
    args: argparse.Namespace,
    postgres: PostgresServer,
    redis: RedisServer,
    folder: Path,
) -> tuple[float, dict, dict[str, Any]]:
    """One partitioned run by ``workers`` worker processes: (seconds, contents, job)."""
    with emulator(
        "bigin", "--records", "0", "--concurrency", "0", "--latency", str(args.latency)
    ) as bigin:
        store_url = str(postgres.create_database("bench"))
        config_path = folder / f"bench-{workers}.toml"
        config_path.write_text(
            toml_table("store", {"url": store_url})
            + toml_table(
                "queue",
                {
                    "broker_url": redis.fresh_url(),
                    "partition_size": args.partition_size,
                    "parallelism": workers,
                },
            )
            + toml_table("connections.crm", legacy)
            + toml_table("connections.bigin", {**bigin, "max_calls_per_second": 0})
            + toml_table("[integrations]", {"name": "members", "source": "crm", "target": "bigin"})
        )
        store = Store(store_url)
        store.migrate()
        processes = []
        try:
            for index in range(workers):
                log = (folder / f"worker-{workers}-{index}.log").open("wb")
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "bridge",
                            "worker",
                            "--config",
                            str(config_path),
                            "--pool",
                            "solo",
                            "--hostname",
                            f"w{index}@%h",
                            "--loglevel",
                            "WARNING",
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=ROOT,
                        start_new_session=True,
                    )
                )
            time.sleep(3)  # let every worker connect before the run, so all take part
            started = time.perf_counter()
            submitted = submit_run(load_config(config_path), "members", store, full=True)
            while True:
                job = store.jobs.get(submitted.job_id)
                if job is not None and job.status in ("completed", "failed", "canceled"):
                    break
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)
        summary = {
            "status": job.status,
            "read": job.num_read,
            "created": job.num_created,
            "failed": job.num_failed,
            "error": job.error,
        }
        store.dispose()
        return seconds, bigin_contents(bigin), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds added to every call on both emulators (a network)",
    )
    parser.add_argument("--partition-size", type=int, default=5000)
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip the in-process run; compare every run with the first worker count's",
    )
    args = parser.parse_args()
    bindir, redis_binary = find_bindir(), find_redis_server()
    if bindir is None or redis_binary is None:
        sys.exit("needs PostgreSQL and redis-server (scripts/install-system-deps)")
    print(
        f"{args.records} contacts legacy -> Bigin, latency {args.latency}s, "
        f"partitions of {args.partition_size}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    postgres = PostgresServer(bindir).start()
    redis = RedisServer(redis_binary).start()
    failures = 0
    try:
        with (
            emulator(
                "legacy", "--records", str(args.records), "--latency", str(args.latency)
            ) as legacy,
            tempfile.TemporaryDirectory() as folder,
        ):
            expected: dict | None = None
            against = "the in-process result"
            if args.reference:
                seconds, expected = reference(legacy, args.latency, args.records)
                assert len(expected) == args.records
                print(
                    f"{'in-process (SQLite)':>18}: {seconds:7.1f} s  {args.records / seconds:8.0f} records/s"
                )
            else:
                against = f"the {args.workers[0]}-worker result"
            for workers in args.workers:
                seconds, contents, job = queued_run(
                    workers, legacy, args, postgres, redis, Path(folder)
                )
                if expected is None:
                    expected = contents
                same = contents == expected and len(contents) == args.records
                failures += (not same) or job["status"] != "completed"
                print(
                    f"{workers:>10} worker{'s' if workers > 1 else ' '}: {seconds:7.1f} s  "
                    f"{args.records / seconds:8.0f} records/s  job {job['status']} "
                    f"read {job['read']} created {job['created']} failed {job['failed']}  "
                    f"equal to {against}: {'yes' if same else 'NO'}"
                )
    finally:
        redis.cleanup()
        postgres.cleanup()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
