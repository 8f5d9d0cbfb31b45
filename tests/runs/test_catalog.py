"""The runs layer: one catalog for config-file and store integrations, one launcher, replays.

An integration created through /v1 lives in the store, its ends named by connection
``_id``; one from the config file is named by its connections' names. Both run, queue and
replay through the same :class:`~bridge.runs.wiring.Wiring`.
"""

from __future__ import annotations

import pytest

from bridge.config import parse_config
from bridge.errors import ConfigError
from bridge.runs.launch import LocalLauncher, QueuedLauncher, RunRequest, launcher_for
from bridge.runs.replay import replay_dead_letters
from bridge.runs.wiring import Wiring
from bridge.store import LockHeld, integration_lock


@pytest.fixture
def stored(wired):
    """A legacy -> Bigin integration kept in the store (as /v1 makes one), and the config."""
    made = wired(12)
    ids = made.connection_ids()
    settings = {"source": ids["crm"], "target": ids["bigin"], "direction": "source-to-target"}
    integration = made.store.integrations.create("api-members", settings=settings, mode="settings")
    return made.wiring, integration, made.legacy, made.bigin


def test_a_store_integration_runs_by_id_or_name_and_an_unknown_one_is_a_clear_error(stored):
    wiring, integration, _legacy, bigin = stored
    planned = wiring.plan(integration.id)
    assert (planned.source.name, planned.target.name) == ("crm", "bigin")
    assert wiring.plan("api-members").stored == integration
    report = LocalLauncher(wiring).launch(RunRequest(integration.id))
    assert report.totals.created == 12 and bigin.app.store.count("Contacts") == 12
    assert wiring.identify("api-members")[0] == integration.id
    with pytest.raises(ConfigError, match="no integration named 'nope'"):
        wiring.plan("nope")


def test_dead_letters_of_a_store_integration_replay_by_name(stored):
    wiring, integration, legacy, bigin = stored
    bad = legacy.app.store.all_records()[3]
    legacy.app.store._records[bad["entityId"]]["lastName"] = None  # Bigin requires Last_Name
    report = LocalLauncher(wiring).launch(RunRequest(integration.id))
    assert report.totals.failed == 1
    assert wiring.store.dead_letters.count(integration_id=integration.id) == 1

    legacy.app.store._records[bad["entityId"]]["lastName"] = "Fixed"
    # A run holds the integration's lease: the replay waits for none and is refused.
    with (
        wiring.store.leases.hold(integration_lock(integration.id)),
        pytest.raises(LockHeld),
    ):
        replay_dead_letters(wiring.config, "api-members", wiring.store)
    result = replay_dead_letters(wiring.config, "api-members", wiring.store)
    assert (result.tried, result.resolved, result.failed) == (1, 1, 0)
    assert wiring.store.dead_letters.count(integration_id=integration.id) == 0
    assert bigin.app.store.count("Contacts") == 12


def test_the_launcher_is_chosen_from_the_config_once():
    here = parse_config({}, env={})
    queued = parse_config({"queue": {"broker_url": "redis://127.0.0.1:1/0"}}, env={})
    assert isinstance(launcher_for(Wiring(None, here)), LocalLauncher)  # type: ignore[arg-type]
    launcher = launcher_for(Wiring(None, queued))  # type: ignore[arg-type]
    assert isinstance(launcher, QueuedLauncher)
    # A run message carries no reconcile, confirmation or dry-run flags: those runs stay here.
    assert not launcher.runs_here(RunRequest("members"))
    assert launcher.runs_here(RunRequest("members", reconcile=True))
    assert launcher.runs_here(RunRequest("members", confirm_deletes=True))
