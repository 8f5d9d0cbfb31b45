"""A small cluster on loopback: PostgreSQL, Redis, emulators, and `soapbridge worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from serving import toml_lines

from bridge.config import load_config
from bridge.store import Store

ROOT = Path(__file__).resolve().parents[2]
# solo: a worker is one process, so killing it is one kill and its pid is the task's. The
# production default (prefork) can be tried with SOAPBRIDGE_TEST_WORKER_POOL=prefork on the
# tests that do not kill workers.
POOL = os.environ.get("SOAPBRIDGE_TEST_WORKER_POOL", "solo")


def toml_table(name: str, settings: dict[str, Any]) -> str:
    return f"[{name}]\n{toml_lines(settings)}\n\n"


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """kill -9, as a machine dying would (no warm shutdown, no message returned)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    tmp: Path
    store_url: str
    redis_url: str
    config_path: Path
    store: Store
    workers: list[Worker] = field(default_factory=list)

    def start_workers(self, count: int, ready_timeout: float = 60.0) -> list[Worker]:
        started = []
        for _ in range(count):
            name = f"w{len(self.workers) + 1}"
            log = self.tmp / f"{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "bridge", "worker", "--config", str(self.config_path),
                 "--pool", POOL, "--hostname", f"{name}@%h", "--loglevel", "INFO"],
                stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
                start_new_session=True,
            )  # fmt: skip
            worker = Worker(name, process, log)
            self.workers.append(worker)
            started.append(worker)
        deadline = time.monotonic() + ready_timeout
        for worker in started:
            while b"ready." not in worker.log.read_bytes():
                assert worker.process.poll() is None, worker.log.read_text()[-3000:]
                assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
                time.sleep(0.1)
        return started

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def config(self) -> Any:
        return load_config(self.config_path)

    def wait_job(self, job_id: str, timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            job = self.store.jobs.get(job_id)
            if job is not None and job.status in ("completed", "failed", "canceled"):
                return job
            if time.monotonic() > deadline:
                logs = "\n".join(w.log.read_text()[-2000:] for w in self.workers)
                raise AssertionError(f"job {job_id} still {job and job.status}\n{logs}")
            time.sleep(0.1)


@pytest.fixture
def make_cluster(
    tmp_path: Path, postgres: Any, redis_server: Any
) -> Iterator[Callable[..., Cluster]]:
    """``make_cluster(connections, integration, queue=...)`` writes a config; workers stop after."""
    made: list[Cluster] = []

    def make(
        connections: dict[str, dict[str, Any]],
        integration: dict[str, Any] | None,
        queue: dict[str, Any] | None = None,
        store: dict[str, Any] | None = None,
    ) -> Cluster:
        store_url = str(postgres.create_database("scale"))
        redis_url = redis_server.fresh_url()
        text = toml_table("store", {"url": store_url, **(store or {})})
        text += toml_table("queue", {"broker_url": redis_url, **(queue or {})})
        for name, settings in connections.items():
            text += toml_table(f"connections.{name}", settings)
        if integration is not None:
            text += toml_table("[integrations]", integration)
        path = tmp_path / f"bridge{len(made)}.toml"
        path.write_text(text)
        opened = Store(store_url, secret_key=(store or {}).get("secret_key"))
        opened.migrate()
        cluster = Cluster(tmp_path, store_url, redis_url, path, opened)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
        cluster.store.dispose()
