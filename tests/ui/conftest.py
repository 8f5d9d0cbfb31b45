"""The console under a real ``soapbridge serve``, emulators on loopback, a real Chromium.

One server per module (gunicorn, two workers, a SQLite store): the tests of a module
walk through one story in order. The browser is Debian's ``chromium`` driven by its
``chromedriver`` through Selenium, with the driver's path given, so nothing is
downloaded. Without the browser the tests fail and say what to install.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from serving import free_port, kill_and_read, serve_tables, toml_lines, wait_until_serving

from bridge.cli import cli
from bridge.emulators import bigin as bigin_emulator
from bridge.emulators import legacy as legacy_emulator
from bridge.emulators.kit.server import EmulatorServer, Faults

from .harness import (
    SCREENSHOTS_ENV,
    SITE,
    XSS_NAME,
    Console,
    chromium,
    fernet_key,
)


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
        serve_tables(f"sqlite:///{folder}/bridge.db", port)
        + f"""[connections.crm]
kind = "legacy"
{toml_lines(legacy_table, skip={"kind"})}

[connections.bigin]
kind = "bigin"
max_calls_per_second = 0
{toml_lines(bigin_table, skip={"kind"})}

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
    env = {**os.environ, "SOAPBRIDGE_SECRET_KEY": fernet_key()}
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
    wait_until_serving(process, f"{url}/readyz", lambda: kill_and_read(process))
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


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver
