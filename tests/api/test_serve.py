"""The control plane under ``soapbridge serve`` (gunicorn, two workers, one SQLite store)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from serving import free_port, kill_and_read, serve_tables, toml_lines, wait_until_serving

from bridge.cli import cli


def _config(folder: Path, port: int, legacy: dict, bigin: dict) -> Path:
    path = folder / "bridge.toml"
    path.write_text(
        serve_tables(f"sqlite:///{folder}/bridge.db", port)
        + f"""[connections.crm]
kind = "legacy"
{toml_lines(legacy, skip={"kind"})}

[connections.bigin]
kind = "bigin"
max_calls_per_second = 0
{toml_lines(bigin, skip={"kind"})}

[[integrations]]
name = "members"
source = "crm"
target = "bigin"
direction = "both"
"""
    )
    return path


@pytest.fixture
def served(tmp_path, start_legacy, start_bigin, store_secret_key):
    legacy, bigin = start_legacy(records=6), start_bigin()
    port = free_port()
    config = _config(tmp_path, port, legacy.table, bigin.table)
    env = {**os.environ, "SOAPBRIDGE_SECRET_KEY": store_secret_key}
    made = CliRunner().invoke(
        cli, ["tokens", "create", "ops", "--config", str(config), "--json"], env=env
    )
    assert made.exit_code == 0, made.output
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(process, f"{url}/readyz", lambda: kill_and_read(process))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {json.loads(made.output)['token']}"
    yield url, session, legacy, bigin
    process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_job(session, url, job_id):
    deadline = time.monotonic() + 30
    while True:
        job = session.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_serve_answers_the_api_runs_jobs_and_delivers_webhooks(served):
    url, session, legacy, bigin = served
    # Both workers imported the config at start; the store holds it once.
    integrations = session.get(f"{url}/v1/integrations", timeout=10).json()
    assert [(i["name"], i["managedBy"], i["mode"]) for i in integrations] == [
        ("members", "config", "settings")
    ]
    connections = {c["name"]: c["_id"] for c in session.get(f"{url}/v1/connections", timeout=10).json()}
    assert set(connections) == {"crm", "bigin"}
    assert requests.get(f"{url}/v1/integrations", timeout=10).status_code == 401

    job = session.post(f"{url}/v1/integrations/{integrations[0]['_id']}/run", timeout=10)
    assert job.status_code == 202
    done = _wait_job(session, url, job.json()["_id"])
    assert (done["status"], done["numSuccess"], done["numError"]) == ("completed", 6, 0)

    # An API integration over the file's connections, installed with a Bigin watch.
    clone = session.post(
        f"{url}/v1/integrations/{integrations[0]['_id']}/clone",
        json={"name": "members-live", "connectionMap": {c: c for c in connections.values()}},
        timeout=10,
    ).json()
    assert [s["installerFunction"] for s in clone["install"]][-1] == "createBiginWatch"
    for step in range(len(clone["install"])):
        answer = session.post(f"{url}/v1/integrations/{clone['_id']}/install/{step}", timeout=30)
        assert answer.status_code == 200, answer.text
    assert answer.json()["mode"] == "settings"
    synced = _wait_job(session, url, session.post(f"{url}/v1/integrations/{clone['_id']}/run", timeout=10).json()["_id"])
    assert synced["status"] == "completed"

    record = bigin.api("GET", "/Contacts", params={"fields": "First_Name,Email"}).json()["data"][0]
    edited = time.monotonic()
    bigin.api("PUT", f"/Contacts/{record['id']}", json={"data": [{"First_Name": "ViaGunicorn"}]})
    while time.monotonic() - edited < 10:
        if any(r["firstName"] == "ViaGunicorn" for r in legacy.app.store.all_records()):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the Bigin edit did not reach the legacy side through the served webhook")
    metrics = requests.get(f"{url}/metrics", timeout=10)
    assert metrics.status_code == 200 and "soapbridge_rest_calls_total" in metrics.text
