"""The facade and Bigin's access tokens: refused refreshes, short lifetimes, two workers.

Zoho mints at most a few access tokens a minute per refresh token and answers "Access
Denied" beyond. A consumer must then read "try again later" (it will), not "the CRM
refused the request" (it gives up). And the workers of ``soapbridge serve`` share one
token through the store, so a 30 s token lifetime costs one refresh per lifetime, not
one per worker (two workers used to ask for 7 tokens in 75 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from serving import free_port, kill_and_read, serve_tables, toml_lines, wait_until_serving

from bridge.emulators import bigin as bigin_emulator
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH
from bridge.facade.operations import UNAVAILABLE

from .test_serve import _retrieve

ALL = "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>"


def test_a_refused_token_refresh_is_a_retry_later_fault(start_facade):
    facade = start_facade(
        "bigin", records=5, emulator_options={"refresh_limit": 1}, page_cache_seconds=0
    )
    assert facade.call("ContactList_Retrieve", ALL).status_code == 200
    # The token is revoked; the one refresh a minute is spent: Zoho says "Access Denied".
    facade.crm.issuer.revoke_all()
    answer = facade.call("ContactList_Retrieve", ALL)
    assert answer.status_code == 500
    assert UNAVAILABLE.encode() in answer.content
    assert b"refused the request" not in answer.content
    assert facade.crm.stats.snapshot()["token_refusals"] >= 1


def write_config(folder: Path, table: dict, port: int) -> Path:
    path = folder / "bridge.toml"
    path.write_text(
        serve_tables(f"sqlite:///{folder}/bridge.db", port)
        + f"""[server.facade]
page_cache_seconds = 0

[connections.crm]
{toml_lines(table)}
max_calls_per_second = 0

[[sites]]
site_id = 77
connection = "crm"
username = "shop"
password = "s3cret"
"""
    )
    return path


@pytest.fixture
def short_tokens(tmp_path):
    """Bigin with 4 s tokens behind a two-worker serve.

    The refresh limit is twice Zoho's, so a slow machine (consumers running late) cannot
    turn this into the refused-refresh test above: what is asserted here is the count.
    """
    crm = bigin_emulator.build_app(30, token_ttl=4, refresh_limit=10)
    crm_server = EmulatorServer(crm).start()
    port = free_port()
    config = write_config(tmp_path, bigin_emulator.connection_table(crm, crm_server.url), port)
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}{ENDPOINT_PATH}"

    def failed() -> str:
        crm_server.stop()
        return kill_and_read(process)

    wait_until_serving(process, url + "?WSDL", failed)
    yield url, crm
    os.killpg(process.pid, signal.SIGINT)  # gunicorn's quick shutdown
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    crm_server.stop()


def test_two_workers_share_one_token_per_lifetime(short_tokens):
    url, crm = short_tokens
    seconds, lifetime = 12.0, 4.0
    statuses: list[int] = []
    faults: list[bytes] = []
    stop_at = time.monotonic() + seconds

    def consumer() -> None:
        while time.monotonic() < stop_at:
            answer = _retrieve(url, 0)
            statuses.append(answer.status_code)
            if answer.status_code != 200:
                faults.append(answer.content[:300])
            time.sleep(0.05)

    # Enough consumers at once that both workers serve (each has 8 threads).
    started = time.monotonic()
    threads = [threading.Thread(target=consumer) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started  # the last calls may end after stop_at
    assert len(statuses) > 50 and not faults, faults[:2]
    issued = crm.stats.snapshot()["tokens_issued"]
    # About one token per lifetime (refreshed in its last tenth): 12 s / 3.6 s -> 4.
    # Two workers fetching their own would need 8 (past Zoho's 5 a minute).
    assert issued <= elapsed / (lifetime * 0.9) + 1, (issued, elapsed)
    assert crm.stats.snapshot().get("token_refusals", 0) == 0
