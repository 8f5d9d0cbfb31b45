"""Shared fixtures: emulators started as real HTTP servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from postgres_server import PostgresServer, find_bindir
from redis_server import RedisServer, find_redis_server
from sqlalchemy import text

from bridge.config import ConnectionConfig
from bridge.connectors.legacy import LegacyConnector
from bridge.emulators import legacy as legacy_emulator
from bridge.emulators.kit.server import EmulatorServer, Stats, with_admin
from bridge.emulators.legacy import LegacyApp
from bridge.store import Store
from bridge.store.models import Base


@dataclass
class RunningLegacy:
    app: LegacyApp
    server: EmulatorServer
    table: dict[str, Any]
    stats: Stats

    def connection(self, **overrides: Any) -> ConnectionConfig:
        settings = {k: v for k, v in self.table.items() if k != "kind"}
        settings.update(overrides)
        return ConnectionConfig("legacy", "legacy", settings)

    def connector(self, **overrides: Any) -> LegacyConnector:
        return LegacyConnector.from_config(self.connection(**overrides))


@pytest.fixture
def start_legacy() -> Iterator[Callable[..., RunningLegacy]]:
    """Start legacy emulators (``start_legacy(records=..., **build_app options)``); all stop after."""
    running: list[EmulatorServer] = []

    def start(records: int = 0, **options: Any) -> RunningLegacy:
        app = legacy_emulator.build_app(records, **options)
        stats = Stats()
        server = EmulatorServer(with_admin(app, stats), faults=app.faults).start()
        running.append(server)
        return RunningLegacy(app, server, legacy_emulator.connection_table(app, server.url), stats)

    yield start
    for server in running:
        server.stop()


# --- The store on both engines: SQLite files and a real PostgreSQL on loopback -------------

STORE_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (per xdist worker), stopped at the end.

    Skipped where PostgreSQL is not installed, except in CI (``CI`` set), where its absence
    is a failure: scripts/install-system-deps installs it there.
    """
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL binaries not found (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One Redis server for the whole session (per xdist worker), stopped at the end.

    Skipped where redis-server is not installed, except in CI (``CI`` set), where its
    absence is a failure: scripts/install-system-deps installs it there.
    """
    binary = find_redis_server()
    if binary is None:
        message = "redis-server not found (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(binary).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a Redis database of its own for one test, empty."""
    return redis_server.fresh_url()


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres").create_database())


@pytest.fixture(scope="session")
def store_secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def postgres_store_url(postgres: PostgresServer) -> str:
    """One migrated PostgreSQL database shared by the session's ``store`` fixtures."""
    url = postgres.create_database("store")
    migrated = Store(url)
    migrated.migrate()
    migrated.dispose()
    return url


@pytest.fixture(params=STORE_BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, store_secret_key: str
) -> Iterator[Store]:
    """A migrated, empty :class:`bridge.store.Store` on each backend in turn.

    SQLite gets a new file per test; PostgreSQL reuses one migrated database, emptied
    before each test (TRUNCATE is several times faster than creating and migrating).
    """
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'store.db'}", secret_key=store_secret_key)
        opened.migrate()
    else:
        opened = Store(request.getfixturevalue("postgres_store_url"), secret_key=store_secret_key)
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with opened.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield opened
    opened.dispose()


@dataclass
class RunningRest:
    """A REST CRM emulator (engagifii, egito or hubspot) on loopback, and how to reach it."""

    kind: str
    app: Any
    server: EmulatorServer
    table: dict[str, Any]
    stats: Stats

    @property
    def url(self) -> str:
        return self.server.url

    def connection(self, **overrides: Any) -> ConnectionConfig:
        settings = {k: v for k, v in self.table.items() if k != "kind"}
        settings.update(overrides)
        return ConnectionConfig(self.kind, self.kind, settings)

    def connector(self, **overrides: Any) -> Any:
        from bridge.connectors.registry import build_connector

        return build_connector(self.connection(**overrides))


def _rest_starter(kind: str, running: list[EmulatorServer]) -> Callable[..., RunningRest]:
    import importlib

    emulator = importlib.import_module(f"bridge.emulators.{kind}")

    def start(records: int = 0, **options: Any) -> RunningRest:
        stats = Stats()
        app = emulator.build_app(records, stats=stats, **options)
        server = EmulatorServer(with_admin(app, stats), faults=app.faults).start()
        running.append(server)
        return RunningRest(kind, app, server, emulator.connection_table(app, server.url), stats)

    return start


@pytest.fixture
def start_engagifii() -> Iterator[Callable[..., RunningRest]]:
    """Start Engagifii emulators (``start_engagifii(records=..., **build_app options)``)."""
    running: list[EmulatorServer] = []
    yield _rest_starter("engagifii", running)
    for server in running:
        server.stop()


@pytest.fixture
def start_egito() -> Iterator[Callable[..., RunningRest]]:
    """Start Egito emulators (``start_egito(records=..., **build_app options)``)."""
    running: list[EmulatorServer] = []
    yield _rest_starter("egito", running)
    for server in running:
        server.stop()


@pytest.fixture
def start_hubspot() -> Iterator[Callable[..., RunningRest]]:
    """Start HubSpot emulators (``start_hubspot(records=..., **build_app options)``), with
    the emulator's rate limits off unless asked for (tests here are about syncing)."""
    running: list[EmulatorServer] = []
    started: list[RunningRest] = []
    start = _rest_starter("hubspot", running)

    def start_unthrottled(records: int = 0, **options: Any) -> RunningRest:
        started.append(start(records, **{"oauth_burst_limit": 0, "search_limit": 0, **options}))
        return started[-1]

    yield start_unthrottled
    for server in running:
        server.stop()
    for hub in started:
        hub.app.close()


@dataclass
class RunningBigin:
    """A Bigin emulator on loopback; ``api()`` calls it with a fresh access token."""

    app: Any
    server: EmulatorServer
    table: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.url

    def connection(self, **overrides: Any) -> ConnectionConfig:
        settings: dict[str, Any] = {"max_calls_per_second": 0}
        settings.update({k: v for k, v in self.table.items() if k != "kind"})
        settings.update(overrides)
        return ConnectionConfig("bigin", "bigin", settings)

    def connector(self, **overrides: Any) -> Any:
        from bridge.connectors.bigin import BiginConnector

        return BiginConnector.from_config(self.connection(**overrides))

    def token(self) -> str:
        import requests

        form = {
            "grant_type": "refresh_token",
            "client_id": self.table["client_id"],
            "client_secret": self.table["client_secret"],
            "refresh_token": self.table["refresh_token"],
        }
        answer = requests.post(f"{self.url}/oauth/v2/token", data=form, timeout=10).json()
        return str(answer["access_token"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A raw call to ``/bigin/v2{path}`` (a new token each time unless one is given)."""
        import requests

        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Authorization", f"Zoho-oauthtoken {self.token()}")
        return requests.request(
            method, f"{self.url}/bigin/v2{path}", headers=headers, timeout=30, **kwargs
        )

    def stats(self) -> dict[str, int]:
        return dict(self.app.stats.snapshot())


@pytest.fixture
def start_bigin() -> Iterator[Callable[..., RunningBigin]]:
    """Start Bigin emulators (``start_bigin(records=..., **build_app options)``)."""
    from bridge.emulators import bigin as bigin_emulator

    running: list[tuple[EmulatorServer, Any]] = []

    def start(records: int = 0, **options: Any) -> RunningBigin:
        app = bigin_emulator.build_app(records, **options)
        server = EmulatorServer(with_admin(app, app.stats), faults=app.faults).start()
        running.append((server, app))
        return RunningBigin(app, server, bigin_emulator.connection_table(app, server.url))

    yield start
    for server, app in running:
        server.stop()
        app.close()


class WebhookReceiver:
    """A loopback HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        import threading

        self.received: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        self.server = EmulatorServer(self._app).start()
        self.url = self.server.url

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        import json

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"null")
        with self._arrived:
            self.received.append(body)
            self._arrived.notify_all()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback webhook endpoint (``.url``, ``.received``, ``.wait_for(n)``)."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.server.stop()
