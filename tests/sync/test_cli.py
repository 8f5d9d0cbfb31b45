"""``soapbridge sync`` and ``soapbridge deadletters`` as a person runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import write_config


def soapbridge(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "160", "PATH": "", **(env or {})},
    )


def test_sync_prints_a_summary_and_exits_0(start_legacy, start_bigin, tmp_path):
    legacy, bigin = start_legacy(records=130), start_bigin()
    config = write_config(
        tmp_path / "b.toml", f"sqlite:///{tmp_path / 's.db'}", legacy, bigin, "both"
    )
    out = soapbridge("sync", "members", "--config", str(config))
    assert out.returncode == 0, out.stderr
    table = out.stdout
    for column in ("read", "created", "updated", "unchanged", "failed", "conflicts"):
        assert column in table
    assert "source-to-target" in table and "target-to-source" in table and "total" in table
    assert "130" in table and "duration" in table
    # The progress bar went to stderr, with a count and a rate.
    assert "records" in out.stderr and "/s" in out.stderr


def test_json_summary_dry_run_and_config_from_the_environment(start_legacy, start_bigin, tmp_path):
    legacy, bigin = start_legacy(records=12), start_bigin()
    config = write_config(
        tmp_path / "b.toml", f"sqlite:///{tmp_path / 's.db'}", legacy, bigin, "source-to-target"
    )
    out = soapbridge(
        "sync", "members", "--dry-run", "--json", env={"SOAPBRIDGE_CONFIG": str(config)}
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["dry_run"] is True and report["job_id"] is None
    assert len(report["planned"]) == 12 and report["planned"][0]["action"] == "create"
    assert bigin.app.store.count("Contacts") == 0
    text = soapbridge("sync", "members", "--dry-run", "--config", str(config))
    assert "Would write:" in text.stdout and "create EXT-" in text.stdout


def test_failed_records_exit_1_then_deadletters_list_and_replay(
    start_legacy, start_bigin, tmp_path
):
    legacy, bigin = start_legacy(records=8), start_bigin()
    bad = legacy.app.store.all_records()[2]
    legacy.app.store._records[bad["entityId"]]["lastName"] = None
    config = write_config(
        tmp_path / "b.toml", f"sqlite:///{tmp_path / 's.db'}", legacy, bigin, "source-to-target"
    )
    out = soapbridge("sync", "members", "--config", str(config), "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["totals"]["failed"] == 1
    listed = json.loads(
        soapbridge("deadletters", "list", "members", "--config", str(config), "--json").stdout
    )
    assert [(x["record"], x["code"]) for x in listed] == [
        (str(bad["entityId"]), "MANDATORY_NOT_FOUND")
    ]
    still = soapbridge("deadletters", "replay", "members", "--config", str(config))
    assert still.returncode == 1 and "0 of 1" in still.stdout
    legacy.app.store._records[bad["entityId"]]["lastName"] = "Fixed"
    fixed = soapbridge("deadletters", "replay", "members", "--config", str(config))
    assert fixed.returncode == 0 and "replayed 1 of 1" in fixed.stdout
    assert (
        soapbridge(
            "deadletters", "list", "members", "--config", str(config), "--json"
        ).stdout.strip()
        == "[]"
    )


def test_unknown_integration_is_a_clear_error(start_legacy, start_bigin, tmp_path):
    legacy, bigin = start_legacy(), start_bigin()
    config = write_config(
        tmp_path / "b.toml", f"sqlite:///{tmp_path / 's.db'}", legacy, bigin, "both"
    )
    out = soapbridge("sync", "nope", "--config", str(config))
    assert out.returncode == 2
    assert "no integration named 'nope'" in out.stderr and "members" in out.stderr


def test_runs_reuse_the_stored_access_token_instead_of_refreshing(
    start_legacy, start_bigin, tmp_path
):
    """Zoho allows a few refreshes a minute: a run every minute must not spend one each."""
    legacy, bigin = start_legacy(records=5), start_bigin(refresh_limit=5)
    config = write_config(
        tmp_path / "b.toml", f"sqlite:///{tmp_path / 's.db'}", legacy, bigin, "both"
    )
    for _ in range(7):  # more runs than Zoho would grant refreshes in a minute
        out = soapbridge("sync", "members", "--config", str(config), "--json")
        assert out.returncode == 0, out.stderr
    assert bigin.stats()["tokens_issued"] == 1
    assert bigin.stats().get("token_refusals", 0) == 0
