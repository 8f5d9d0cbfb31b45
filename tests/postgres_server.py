"""A throwaway PostgreSQL server for the tests, on a free loopback port in a temp dir.

``initdb`` and ``postgres`` refuse to run as root, and CI runs as root: then both run as the
``postgres`` account (which the Debian package creates) or, failing that, ``nobody``, with
the data directory handed to that account. The server is tuned for tests (no fsync), trusts
loopback connections, and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from serving import free_port

SUPERUSER = "bridge"
START_TIMEOUT = 30.0


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``postgres`` (newest major version first)."""
    candidates: list[Path] = []
    if os.environ.get("SOAPBRIDGE_PG_BINDIR"):
        candidates.append(Path(os.environ["SOAPBRIDGE_PG_BINDIR"]))
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if shutil.which("pg_config"):
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    for path in candidates:
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    return None


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a postgres nor a nobody account exists")


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.account = _run_as()
        # As root, under /tmp: a TMPDIR inside root's home would not be traversable by the
        # account the server runs as.
        where = "/tmp" if self.account is not None else None
        self.base = Path(tempfile.mkdtemp(prefix="soapbridge-pg-", dir=where))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    def _as_account(self) -> dict[str, Any]:
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def start(self) -> PostgresServer:
        if self.account is not None:
            os.chown(self.base, self.account.pw_uid, self.account.pw_gid)
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.data),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            **self._as_account(),
        )  # fmt: skip
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_port()
            if self._launch():
                return self
        raise RuntimeError(f"postgres did not start; log:\n{self.log.read_text()[-2000:]}")

    def _launch(self) -> bool:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D", str(self.data),
                    "-h", "127.0.0.1",
                    "-p", str(self.port),
                    "-k", str(self.base),
                    "-c", "fsync=off",
                    "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off",
                    "-c", "max_connections=100",
                    "-c", "shared_buffers=32MB",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in pytest must not kill it before teardown
                **self._as_account(),
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2) as connection:
                    row = connection.execute("SHOW data_directory").fetchone()
            except psycopg.OperationalError:
                time.sleep(0.05)
                continue
            # Another test process's server may have won the port race; that one is not ours.
            if row is not None and Path(row[0]).resolve() == self.data.resolve():
                return True
            self.stop()
            return False
        self.stop()
        return False

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
