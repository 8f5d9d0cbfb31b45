"""Config loading: TOML, ${VAR} from the environment, clear errors, no secrets in repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_config, parse_config
from bridge.errors import ConfigError

EXAMPLE = """
[store]
url = "sqlite:///${DATA_DIR}/bridge.db"

[server]
port = "${PORT:-9000}"

[connections.crm]
kind = "legacy"
endpoint = "http://127.0.0.1:1/CatalystWebService/CatalystCRMWebservice.asmx"
username = "api@example.com"
password = "${LEGACY_PASSWORD}"
site_id = 10101
timezone = "Australia/Sydney"

[connections.bigin]
kind = "bigin"
client_secret = "abc"

[[sites]]
site_id = 10101
connection = "bigin"
username = "consumer"
password_hash = "$argon2id$..."

[[integrations]]
name = "members"
source = "crm"
target = "bigin"
direction = "both"
schedule = "*/15 * * * *"
mapping = { external_id_field = "External_ID" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


def test_example_config_loads_with_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", "/var/lib/bridge")
    monkeypatch.setenv("LEGACY_PASSWORD", "hunter2")
    monkeypatch.delenv("PORT", raising=False)
    config = load_config(write(tmp_path, EXAMPLE))
    assert config.store.url == "sqlite:////var/lib/bridge/bridge.db"
    assert config.server.port == 9000
    assert config.connection("crm").settings["password"] == "hunter2"
    assert config.integration("members").direction == "both"
    assert config.sites[0].site_id == 10101
    assert "hunter2" not in repr(config)
    assert "abc" not in repr(config.connection("bigin"))


def test_missing_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("LEGACY_PASSWORD", raising=False)
    monkeypatch.setenv("DATA_DIR", "/tmp")
    with pytest.raises(ConfigError, match="LEGACY_PASSWORD"):
        load_config(write(tmp_path, EXAMPLE))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"connections": {"x": {"kind": "soap"}}}, "kind"),
        ({"integrations": [{"name": "a", "source": "x", "target": "y"}]}, "no connection named"),
        (
            {
                "connections": {"x": {"kind": "legacy"}},
                "integrations": [
                    {"name": "a", "source": "x", "target": "x", "direction": "sideways"}
                ],
            },
            "direction",
        ),
        ({"surprise": {}}, "unknown top-level"),
        (
            {
                "connections": {"x": {"kind": "legacy"}},
                "sites": [{"site_id": 1, "connection": "x"}],
            },
            "password",
        ),
    ],
)
def test_invalid_configs_say_what_is_wrong(data, words):
    with pytest.raises(ConfigError, match=words):
        parse_config(data, env={})


def test_unreadable_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[store\n"))


def test_unknown_integration_lists_the_known_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", "/tmp")
    monkeypatch.setenv("LEGACY_PASSWORD", "x")
    config = load_config(write(tmp_path, EXAMPLE))
    with pytest.raises(ConfigError, match="members"):
        config.integration("nope")


def test_store_table_takes_a_secret_key_and_refuses_unknown_keys():
    config = parse_config({"store": {"url": "sqlite://", "secret_key": "${KEY}"}}, env={"KEY": "k1"})
    assert config.store.secret_key == "k1" and "k1" not in repr(config)
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({"store": {"url": "sqlite://", "uri": "x"}}, env={})
