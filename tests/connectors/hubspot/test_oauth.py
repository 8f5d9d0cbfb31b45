"""The authorization-code flow against the emulator: consent URL, code exchange, a connector."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bridge.config import ConnectionConfig
from bridge.connectors.hubspot import HubSpotConnector
from bridge.connectors.hubspot.oauth import authorize_url, exchange_code
from bridge.errors import AuthError

REDIRECT = "http://127.0.0.1:9/callback"


def test_a_code_becomes_a_refresh_token_that_a_connector_uses(start_hubspot):
    started = start_hubspot(30)
    table = dict(started.table or {})
    url = authorize_url(started.url + "/oauth/authorize", table["client_id"], REDIRECT, "st-1")
    consent = requests.get(url, allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    redirected = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert redirected["state"] == ["st-1"]
    code = redirected["code"][0]
    refresh = exchange_code(
        started.url,
        client_id=table["client_id"],
        client_secret=table["client_secret"],
        redirect_uri=REDIRECT,
        code=code,
    )
    settings = {**table, "refresh_token": refresh}
    with HubSpotConnector.from_config(ConnectionConfig("coded", "hubspot", settings)) as connector:
        assert sum(len(p.contacts) for p in connector.read_changes()) == 30
    with pytest.raises(AuthError) as caught:  # a code is single use
        exchange_code(
            started.url,
            client_id=table["client_id"],
            client_secret=table["client_secret"],
            redirect_uri=REDIRECT,
            code=code,
        )
    assert table["client_secret"] not in str(caught.value)
