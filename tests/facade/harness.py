"""The facade served on loopback over a CRM emulator, and SOAP helpers for the tests."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import requests

from bridge.config import parse_config
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH, FacadeApp, build_facade
from bridge.soap.contract import wire
from bridge.wsdl import NAMESPACE

SITE_ID = 4242
USERNAME = "consumer@example.com"
PASSWORD = "facade-secret"
TIMEZONE = "Australia/Sydney"
#: The one site a facade test serves, over the connection named ``crm``.
SITE = {
    "site_id": SITE_ID,
    "connection": "crm",
    "username": USERNAME,
    "password": PASSWORD,
    "timezone": TIMEZONE,
}


@dataclass
class RunningFacade:
    app: FacadeApp
    url: str
    crm: Any

    def post(self, body: str | bytes, *, version: int = 11, action: str | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        data = body.encode() if isinstance(body, str) else body
        sent = {"Content-Type": wire.content_type(version)}
        if action is not None:
            sent["SOAPAction"] = f'"{NAMESPACE}/{action}"'
        sent.update(headers or {})
        # Generous: a 150-record write to a CRM that takes one record per call (Egito)
        # is slow on a loaded machine, and slow is not what these tests are about.
        return requests.post(self.url, data=data, headers=sent, timeout=180)

    def call(self, operation: str, inner: str = "", *, version: int = 11,
             username: str = USERNAME, password: str = PASSWORD,
             site_id: int = SITE_ID) -> requests.Response:
        creds = (
            f"<username>{username}</username><password>{password}</password>"
            f"<siteId>{site_id}</siteId>"
        )
        env = wire.envelope_ns(version)
        body = (
            f'<soap:Envelope xmlns:soap="{env}"><soap:Body>'
            f'<{operation} xmlns="{NAMESPACE}">{creds}{inner}</{operation}>'
            "</soap:Body></soap:Envelope>"
        )
        return self.post(body, version=version, action=operation if version == 11 else None)


def _emulator(kind: str) -> Any:
    return importlib.import_module(f"bridge.emulators.{kind}")


class FacadeStarter:
    """``starter(kind, records=N, **facade_options)``: CRM emulator + facade on loopback."""

    def __init__(self) -> None:
        self.servers: list[EmulatorServer] = []

    def __call__(
        self,
        kind: str = "legacy",
        records: int = 0,
        sites: list[dict[str, Any]] | None = None,
        emulator_options: dict[str, Any] | None = None,
        **server_options: Any,
    ) -> RunningFacade:
        module = _emulator(kind)
        crm = module.build_app(records, **(emulator_options or {}))
        crm_server = EmulatorServer(crm).start()
        self.servers.append(crm_server)
        table = module.connection_table(crm, crm_server.url)
        config = parse_config(
            {
                "server": {"facade": server_options} if server_options else {},
                "connections": {"crm": table},
                "sites": sites or [SITE],
            },
            env={},
        )
        app = build_facade(config)
        facade_server = EmulatorServer(app).start()
        self.servers.append(facade_server)
        return RunningFacade(app, facade_server.url + ENDPOINT_PATH, crm)

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
