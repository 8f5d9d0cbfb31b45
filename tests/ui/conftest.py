"""The console under a real ``soapbridge serve``, emulators on loopback, a real Chromium.

One server per module (gunicorn, two workers, a SQLite store): the tests of a module
walk through one story in order. The browser is Debian's ``chromium`` driven by its
``chromedriver`` through Selenium, with the driver's path given, so nothing is
downloaded. Without the browser the tests fail and say what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from bridge.cli import cli
from bridge.emulators import bigin as bigin_emulator
from bridge.emulators import legacy as legacy_emulator
from bridge.emulators.kit.server import EmulatorServer, Faults

CHROMIUM = os.environ.get("SOAPBRIDGE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SOAPBRIDGE_CHROMEDRIVER", "/usr/bin/chromedriver")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
XSS_NAME = "<img src=x onerror=alert(1)>"
SITE = {"site_id": 31337, "username": "shop", "password": "site-password"}
#: Where the screenshots go: ``SOAPBRIDGE_SCREENSHOTS=docs`` refreshes the README's; by
#: default a temporary folder, so a test run leaves the working tree as it was.
SCREENSHOTS_ENV = "SOAPBRIDGE_SCREENSHOTS"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _table(values: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items() if k != "kind")


@dataclass
class Console:
    url: str
    token: str
    legacy: Any
    legacy_faults: Faults
    bigin: Any
    bigin_table: dict[str, Any]
    bad_entity_id: int
    facade_endpoint: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def integration_id(self, name: str) -> str:
        found = [i for i in self.api("GET", "/v1/integrations").json() if i["name"] == name]
        return str(found[0]["_id"])


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    faults = Faults()
    legacy_app = legacy_emulator.build_app(250, faults=faults)
    records = legacy_app.store.all_records()
    bad = records[3]["entityId"]
    # Bigin requires a last name: this record fails and becomes a dead letter; its first
    # name is markup, which every page must show as text.
    legacy_app.store._records[bad]["lastName"] = None
    legacy_app.store._records[bad]["firstName"] = XSS_NAME
    bigin_app = bigin_emulator.build_app(0)
    servers = [EmulatorServer(legacy_app).start(), EmulatorServer(bigin_app).start()]
    legacy_table = legacy_emulator.connection_table(legacy_app, servers[0].url)
    bigin_table = bigin_emulator.connection_table(bigin_app, servers[1].url)
    port = free_port()
    config = folder / "bridge.toml"
    config.write_text(
        f"""
[store]
url = "sqlite:///{folder}/bridge.db"

[server]
host = "127.0.0.1"
port = {port}
workers = 2

[connections.crm]
kind = "legacy"
{_table(legacy_table)}

[connections.bigin]
kind = "bigin"
max_calls_per_second = 0
{_table(bigin_table)}

[[sites]]
site_id = {SITE["site_id"]}
username = "{SITE["username"]}"
password = "{SITE["password"]}"
connection = "bigin"

[[integrations]]
name = "members"
source = "crm"
target = "bigin"
direction = "source-to-target"
schedule = "0 3 * * *"
"""
    )
    env = {**os.environ, "SOAPBRIDGE_SECRET_KEY": _fernet_key()}
    made = CliRunner().invoke(
        cli, ["tokens", "create", "ops", "--config", str(config), "--json"], env=env
    )
    assert made.exit_code == 0, made.output
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            process.kill()
            pytest.fail(f"soapbridge serve did not start:\n{output[-3000:]}")
        time.sleep(0.2)
    try:
        yield Console(
            url=url,
            token=json.loads(made.output)["token"],
            legacy=legacy_app,
            legacy_faults=faults,
            bigin=bigin_app,
            bigin_table=bigin_table,
            bad_entity_id=bad,
            facade_endpoint=f"{url}/CatalystWebService/CatalystCRMWebservice.asmx",
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        for server in servers:
            server.stop()
        bigin_app.close()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium(*, javascript: bool = True) -> Iterator[Any]:
    """Headless Chromium at 1280 px, from the system packages (never downloaded)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} "
            "not found): run scripts/install-system-deps as root, or apt-get install chromium "
            "chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="soapbridge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver
