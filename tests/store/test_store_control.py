"""Control-plane repositories: integrations, connections, sites, API tokens, webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bridge.errors import ConfigError, NotFound
from bridge.store import Store


def test_integration_has_integrator_io_shape_and_millisecond_last_modified(store):
    steps = [{"name": "Verify Bigin connection", "completed": False}]
    created = store.integrations.create(
        "contacts", readme="Legacy to Bigin", mode="install", install_steps=steps
    )
    assert len(created.id) == 24
    assert created.mode == "install" and created.version == "1.0.0"
    assert created.update_in_progress is False
    assert created.install_steps == steps
    assert created.last_modified.microsecond % 1000 == 0

    updated = store.integrations.update(
        created.id, mode="settings", update_in_progress=True, version="1.1.0"
    )
    assert (updated.mode, updated.update_in_progress, updated.version) == (
        "settings",
        True,
        "1.1.0",
    )
    assert updated.last_modified >= created.last_modified
    assert store.integrations.get(created.id) == updated


def test_integration_mode_and_fields_are_checked(store):
    with pytest.raises(ValueError, match="mode"):
        store.integrations.create("bad", mode="paused")
    with pytest.raises(TypeError, match="colour"):
        store.integrations.create("bad", colour="red")
    with pytest.raises(NotFound):
        store.integrations.update("0" * 24, readme="x")


def test_ensure_creates_once_and_follows_the_config(store):
    first = store.integrations.ensure("sync", source="legacy", target="bigin", direction="both")
    again = store.integrations.ensure("sync", source="legacy", target="bigin", direction="both")
    assert again.id == first.id
    moved = store.integrations.ensure(
        "sync", source="legacy", target="egito", direction="source-to-target"
    )
    assert moved.id == first.id and moved.target == "egito"
    assert store.integrations.count() == 1


def test_integrations_page_with_skip_and_limit(store):
    names = [f"i{n}" for n in range(5)]
    for name in names:
        store.integrations.create(name)
    assert [i.name for i in store.integrations.all(skip=1, limit=2)] == names[1:3]
    assert [i.name for i in store.integrations.all()] == names


def test_connection_secrets_are_encrypted_at_rest_and_never_listed(store):
    settings = {"api_domain": "http://127.0.0.1:1", "client_id": "cid", "client_secret": "s3cr3t",
                "refresh_token": "rt-value"}  # fmt: skip
    created = store.connections.create("crm", "bigin", settings)

    assert created.settings == {"api_domain": "http://127.0.0.1:1", "client_id": "cid"}
    assert created.secret_keys == ("client_secret", "refresh_token")
    assert "s3cr3t" not in repr(store.connections.all())
    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT * FROM connections")).one()
    assert "s3cr3t" not in str(raw) and "rt-value" not in str(raw)

    config = store.connections.config(created.id)
    assert config.settings == settings and config.kind == "bigin"
    assert "s3cr3t" not in repr(config)


def test_connection_update_merges_and_removes_keys(store):
    created = store.connections.create(
        "crm", "egito", {"base_url": "u", "password": "p1", "username": "me"}
    )
    store.connections.update(created.id, {"password": "p2", "username": None})
    config = store.connections.config(created.id)
    assert config.settings == {"base_url": "u", "password": "p2"}


def test_secrets_need_the_key_and_the_right_key(store_url, store_secret_key):
    with_key = Store(store_url, secret_key=store_secret_key)
    with_key.migrate()
    created = with_key.connections.create("crm", "egito", {"password": "p"})
    with_key.dispose()

    without_key = Store(store_url, secret_key=None)
    other_key = Store(store_url, secret_key="A" * 43 + "=")
    try:
        assert without_key.connections.get(created.id).secret_keys == ("password",)
        with pytest.raises(ConfigError, match="SOAPBRIDGE_SECRET_KEY"):
            without_key.connections.config(created.id)
        with pytest.raises(ConfigError, match="cannot be decrypted"):
            other_key.connections.config(created.id)
    finally:
        without_key.dispose()
        other_key.dispose()


def test_sites_put_get_replace_delete(store):
    store.sites.put(7, connection="crm", username="api", password_hash="$argon2id$x")
    store.sites.put(7, connection="crm2", username="api", timezone="Europe/Berlin")
    site = store.sites.get(7)
    assert (site.connection, site.timezone, site.password_hash) == ("crm2", "Europe/Berlin", None)
    assert [s.site_id for s in store.sites.all()] == [7]
    assert store.sites.delete(7) and store.sites.get(7) is None


def test_api_tokens_are_stored_hashed_and_verified(store):
    record, plaintext = store.api_tokens.issue("ci")
    assert plaintext.startswith("sb_") and len(plaintext) > 40
    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT * FROM api_tokens")).one()
    assert plaintext not in str(raw)

    verified = store.api_tokens.verify(plaintext)
    assert verified is not None and verified.id == record.id
    assert verified.last_used_at is not None
    assert store.api_tokens.all()[0].last_used_at == verified.last_used_at
    # Within a minute the stored time is not rewritten on every request.
    assert store.api_tokens.verify(plaintext).last_used_at == verified.last_used_at
    assert store.api_tokens.verify(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert store.api_tokens.verify("nonsense") is None

    store.api_tokens.revoke(record.id)
    assert store.api_tokens.verify(plaintext) is None
    assert store.api_tokens.all() == []
    assert [t.revoked for t in store.api_tokens.all(include_revoked=True)] == [True]


def test_webhook_channel_verifies_its_token_until_expiry_and_renews(store):
    soon = datetime.now(UTC) + timedelta(hours=1)
    store.webhook_channels.put(
        "90210",
        connection="crm",
        events=["Contacts.all"],
        notify_url="http://127.0.0.1:1/webhooks/bigin",
        token="TOKEN_1002",
        expires_at=soon,
    )
    assert store.webhook_channels.verify("90210", "TOKEN_1002") is not None
    assert store.webhook_channels.verify("90210", "TOKEN_1003") is None
    assert store.webhook_channels.verify("90210", None) is None
    assert store.webhook_channels.verify("11111", "TOKEN_1002") is None
    assert store.webhook_channels.token("90210") == "TOKEN_1002"
    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT * FROM webhook_channels")).one()
    assert "TOKEN_1002" not in str(raw)

    assert [c.connection for c in store.webhook_channels.all()] == ["crm"]
    assert store.webhook_channels.all(connection="other") == []
    assert [c.channel_id for c in store.webhook_channels.expiring(soon + timedelta(1))] == ["90210"]
    store.webhook_channels.renew("90210", datetime.now(UTC) - timedelta(seconds=1))
    assert store.webhook_channels.verify("90210", "TOKEN_1002") is None  # expired
    renewed = store.webhook_channels.renew("90210", soon + timedelta(hours=23))
    assert renewed.expires_at == soon + timedelta(hours=23)
    assert store.webhook_channels.verify("90210", "TOKEN_1002") is not None
