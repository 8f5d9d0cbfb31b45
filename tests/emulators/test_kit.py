"""The emulator kit: every ``soapbridge emulate`` command has the shared options alike."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import requests

import bridge.emulators
from bridge.emulators import EMULATOR_COMMANDS
from bridge.emulators.kit.server import Faults

SHARED = {
    "port": 0,
    "records": 250,
    "seed": 42,
    "throttle_rate": 0.0,
    "retry_after": 1.0,
    "fail_rate": 0.0,
    "latency": 0.0,
    "threads": 8,
}


def test_every_emulator_package_is_a_command():
    here = Path(bridge.emulators.__file__).parent
    packages = {p.parent.name for p in here.glob("*/app.py")}
    assert packages and set(EMULATOR_COMMANDS) == packages


def test_every_command_has_the_shared_options_and_its_summary():
    for name, entry in EMULATOR_COMMANDS.items():
        module, _, attribute = entry.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        defaults = {p.name: p.default for p in command.params}
        assert {k: defaults.get(k) for k in SHARED} == SHARED, name
        assert command.get_short_help_str(limit=1000) == entry.summary, name


def test_the_fault_flags_reach_the_served_app():
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "engagifii", "--records", "0",
         "--fail-rate", "1", "--seed", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
        token = requests.post(
            table["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": table["client_id"],
                "client_secret": table["client_secret"],
            },
            timeout=10,
        ).json()["access_token"]
        answer = requests.post(
            table["base_url"] + "/people/peoplepaginglist",
            json={},
            headers={"Authorization": f"Bearer {token}", "tenant-code": table["tenant_code"]},
            timeout=10,
        )
        assert answer.status_code == 503
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_faults_given_to_a_builder_keep_their_own_rates_unless_told():
    mine = Faults(fail_rate=0.5, throttle_rate=0.1, seed=1)
    assert Faults.given(mine, seed=9) is mine and mine.throttle_rate == 0.1
    assert Faults.given(mine, seed=9, throttle_rate=0.3, retry_after=2).throttle_rate == 0.3
    assert mine.retry_after == 2
    fresh = Faults.given(None, seed=9, retry_after=4)
    assert fresh.seed == 9 and fresh.retry_after == 4 and fresh.throttle_rate == 0
