"""Bearer tokens, the error envelope, health endpoints and ``soapbridge tokens``."""

from __future__ import annotations

import json

import requests
from click.testing import CliRunner

from bridge.cli import cli
from bridge.store import Store
from bridge.store.crypto import token_hash


def test_requests_without_a_valid_token_get_401_with_the_envelope(api):
    for token in (None, "sb_not-a-real-token", "garbage"):
        response = api.call("GET", "/v1/integrations", token=token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        errors = response.json()["errors"]
        assert errors[0]["code"] == "unauthorized" and errors[0]["message"]
    basic = api.call("GET", "/v1/jobs", token=None, headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_token_info_and_revocation(api):
    info = api.ok("GET", "/v1/tokenInfo")
    assert info["name"] == "tests" and len(info["_userId"]) == 24
    api.store.api_tokens.revoke(info["_tokenId"])
    assert api.call("GET", "/v1/tokenInfo").status_code == 401


def test_unknown_paths_methods_and_bad_bodies_answer_the_envelope(api):
    missing = api.call("GET", "/v1/nothing")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"
    wrong = api.call("PATCH", "/v1/integrations")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    bad = api.call("POST", "/v1/integrations", data=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "invalid_json"
    invalid = api.call("POST", "/v1/integrations", json={"readme": "no name"})
    assert invalid.status_code == 422
    assert invalid.json() == {
        "errors": [{"code": "invalid_field", "message": "`name` is required", "field": "name"}]
    }
    huge = api.call("POST", "/v1/integrations", json={"name": "x", "readme": "r" * (2 << 20)})
    assert huge.status_code == 413 and huge.json()["errors"][0]["code"] == "too_large"
    no_job = api.call("GET", "/v1/jobs/0123456789abcdef01234567")
    assert no_job.status_code == 404


def test_health_readiness_and_openapi_need_no_token(api):
    assert api.ok("GET", "/healthz", token=None) == {"status": "ok"}
    assert api.ok("GET", "/readyz", token=None) == {"status": "ready"}
    document = api.ok("GET", "/v1/openapi.json", token=None)
    assert document["openapi"].startswith("3.") and "/v1/integrations/{_id}/clone" in document["paths"]


def test_readyz_answers_503_when_the_store_is_unreachable(tmp_path):
    from bridge.api.app import ControlPlane
    from bridge.api.context import ApiContext
    from bridge.api.runs import JobRunner
    from bridge.emulators.kit.server import EmulatorServer
    from bridge.runs.wiring import Wiring

    unreachable = Store(f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}")
    wiring = Wiring(unreachable)
    plane = ControlPlane(ApiContext(wiring, JobRunner(wiring)), renew_every=None)
    server = EmulatorServer(plane).start()
    try:
        response = requests.get(f"{server.url}/readyz", timeout=10)
        assert response.status_code == 503
        assert response.json()["errors"][0]["code"] == "store_unreachable"
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
        plane.close()


def test_tokens_cli_creates_lists_and_revokes_hashed_tokens(tmp_path):
    config = tmp_path / "bridge.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n')
    runner = CliRunner()
    created = runner.invoke(cli, ["tokens", "create", "ci", "--config", str(config), "--json"])
    assert created.exit_code == 0, created.output
    made = json.loads(created.output)
    assert made["token"].startswith("sb_")
    store = Store(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with store.engine.connect() as connection:
            stored = connection.exec_driver_sql("SELECT token_hash FROM api_tokens").scalar_one()
        assert stored == token_hash(made["token"]) and made["token"] not in stored
        listed = runner.invoke(cli, ["tokens", "list", "--config", str(config)])
        assert made["_id"] in listed.output and made["token"] not in listed.output
        revoked = runner.invoke(cli, ["tokens", "revoke", made["_id"], "--config", str(config)])
        assert revoked.exit_code == 0
        assert store.api_tokens.verify(made["token"]) is None
        unknown = runner.invoke(cli, ["tokens", "revoke", "f" * 24, "--config", str(config)])
        assert unknown.exit_code != 0 and "no token" in unknown.output
    finally:
        store.dispose()
