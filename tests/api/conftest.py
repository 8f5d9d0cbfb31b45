"""Fixtures for the control plane: the API served on loopback over a fresh store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.api import ControlPlane, build_control_plane
from bridge.config import Config
from bridge.emulators.kit.server import EmulatorServer
from bridge.store import Store


@dataclass
class RunningApi:
    plane: ControlPlane
    server: EmulatorServer
    store: Store
    token: str
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, *, token: str | None = "", **kwargs: Any) -> requests.Response:
        """``method path`` with the fixture's token (``token=None`` sends none)."""
        headers = dict(kwargs.pop("headers", None) or {})
        chosen = self.token if token == "" else token
        if chosen is not None:
            headers["Authorization"] = f"Bearer {chosen}"
        return self.http.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """The JSON answer of a call that must answer ``status``."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    def connection(self, name: str, running: Any) -> str:
        """Create a connection from an emulator's table; its ``_id``."""
        settings = {k: v for k, v in running.table.items() if k != "kind"}
        if running.table["kind"] == "bigin":
            settings["max_calls_per_second"] = 0
        body = {"name": name, "type": running.table["kind"], "settings": settings}
        return str(self.ok("POST", "/v1/connections", 201, json=body)["_id"])

    def wait_job(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.ok("GET", f"/v1/jobs/{job_id}")
            if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return dict(job)
            time.sleep(0.05)


@pytest.fixture
def start_api(
    request: pytest.FixtureRequest, tmp_path: Path, store_secret_key: str
) -> Iterator[Callable[..., RunningApi]]:
    """``start_api(config=None, backend="sqlite")``: a migrated store, the app, a token."""
    started: list[RunningApi] = []

    def start(
        config: Config | None = None,
        *,
        secret_key: str | None = "",
        backend: str = "sqlite",
        renew_every: float | None = None,
    ) -> RunningApi:
        key = store_secret_key if secret_key == "" else secret_key
        if backend == "postgresql":
            url = str(request.getfixturevalue("postgres").create_database("api"))
        else:
            url = f"sqlite:///{tmp_path / f'api{len(started)}.db'}"
        store = Store(url, secret_key=key)
        store.migrate()
        plane = build_control_plane(config, store, renew_every=renew_every)
        server = EmulatorServer(plane).start()
        _record, token = store.api_tokens.issue("tests")
        running = RunningApi(plane, server, store, token)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.stop()
        running.plane.close()
        running.store.dispose()


@pytest.fixture
def api(start_api: Callable[..., RunningApi]) -> RunningApi:
    return start_api()
