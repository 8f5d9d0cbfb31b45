"""The connectors' options: read once in the constructor, defaults when absent, no secret shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.kit.settings import Options
from bridge.connectors.registry import build_connector
from bridge.errors import ConfigError

ENGAGIFII = {
    "base_url": "http://127.0.0.1:9/api/v1",
    "token_url": "http://127.0.0.1:9/oauth/token",
    "client_id": "id",
    "client_secret": "s3cret-value",
    "tenant_code": "t",
}
BIGIN = {
    "api_domain": "http://127.0.0.1:9",
    "accounts_url": "http://127.0.0.1:9",
    "client_id": "id",
    "client_secret": "s3cret-value",
    "refresh_token": "r3fresh-value",
}


def test_options_read_typed_values_and_fall_back_to_defaults() -> None:
    options = Options({"page_size": "25", "overlap_seconds": "7.5", "strict": 1})
    assert options.integer("page_size", 100) == 25
    assert options.number("overlap_seconds", 120) == 7.5
    assert options.flag("strict") is True
    assert options.flag("absent") is False
    assert options.text("absent", "fallback") == "fallback"


def test_options_repr_names_settings_but_never_their_values() -> None:
    text = repr(Options(ENGAGIFII))
    assert "client_secret" in text
    assert "s3cret-value" not in text


def test_a_connector_takes_its_settings_and_its_defaults_from_one_place() -> None:
    given = build_connector(ConnectionConfig("e", "engagifii", {**ENGAGIFII, "page_size": 40}))
    assert given.page_size == 40
    assert given.external_id_field == "externalId"  # the default, written once
    bigin = build_connector(ConnectionConfig("b", "bigin", {**BIGIN, "overlap_seconds": 30}))
    assert bigin.overlap == timedelta(seconds=30)
    assert build_connector(ConnectionConfig("b", "bigin", BIGIN)).overlap == timedelta(seconds=120)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"page_size": 0}, "page_size must be 1..100"), ({"delete_mode": "shred"}, "delete_mode")],
)
def test_an_option_out_of_range_is_a_config_error(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_connector(ConnectionConfig("e", "engagifii", {**ENGAGIFII, **settings}))
