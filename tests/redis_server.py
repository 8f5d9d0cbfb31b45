"""A throwaway Redis server for the tests, on a free loopback port in a temp dir.

No persistence (no RDB snapshots, no AOF): the tests only need a broker and a shared
counter, and snapshots would fork the server while the tests run. Redis runs as root
without complaint, so unlike PostgreSQL it needs no other account.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from serving import free_port

START_TIMEOUT = 15.0


def find_redis_server() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.base = Path(tempfile.mkdtemp(prefix="soapbridge-redis-"))
        self.log = self.base / "redis.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._databases = iter(range(1, 16))

    def start(self) -> RedisServer:
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_port()
            if self._launch():
                return self
        raise RuntimeError(f"redis-server did not start; log:\n{self.log.read_text()[-2000:]}")

    def _launch(self) -> bool:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.base),
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(self.log),
                "--databases", "16",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in pytest must not kill it before teardown
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                info = redis.Redis(port=self.port, socket_timeout=2).info("server")
            except redis.ConnectionError:
                time.sleep(0.05)
                continue
            # Another test process's server may have won the port race; that one is not ours.
            if int(info.get("process_id", -1)) == self.process.pid:
                return True
            self.stop()
            return False
        self.stop()
        return False

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def fresh_url(self) -> str:
        """The URL of a database no other test of this session has used (emptied first)."""
        database = next(self._databases, None)
        if database is None:  # more tests than databases: reuse one, emptied
            database = 15
        redis.Redis(port=self.port, db=database).flushdb()
        return self.url(database)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
