"""TokenSource and TokenAuth against real token endpoints (the REST CRM emulators)."""

from __future__ import annotations

import pytest
import requests

from bridge.auth import OAuthSettings, TokenAuth, TokenSource
from bridge.errors import AuthError, TransientError
from bridge.http import RetryPolicy, build_session


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def egito_source(running, clock=None, **changes) -> TokenSource:
    table = running.table
    settings = OAuthSettings(
        system="egito",
        token_url=f"{running.url}/oauth/token",
        grant="password",
        client_id=table["client_id"],
        client_secret=table["client_secret"],
        username=table["username"],
        password=table["password"],
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    return TokenSource(settings, clock=clock or Clock())


def test_password_grant_refreshes_with_its_refresh_token_when_due(start_egito):
    running = start_egito(token_ttl=600)
    clock = Clock()
    source = egito_source(running, clock)
    first = source.access_token()
    assert source.access_token() == first  # cached while valid
    clock.now += 600
    second = source.access_token()
    assert second != first
    assert running.app.tokens.grant_count("password") == 1
    assert running.app.tokens.grant_count("refresh_token") == 1
    assert "access_token" not in source.token_data and "refresh_token" not in source.token_data
    assert running.table["password"] not in repr(source)


def test_a_refused_token_is_replaced_through_the_refresh_token(start_egito):
    running = start_egito()
    source = egito_source(running)
    first = source.access_token()
    source.invalidate(first)
    assert source.access_token() != first
    assert running.app.tokens.grant_count("refresh_token") == 1
    # When the refresh token is refused too, the source logs in again.
    running.app.tokens.revoke_all(refresh_too=True)
    source.invalidate(source.access_token())
    source.access_token()
    assert running.app.tokens.grant_count("password") == 2


def test_token_auth_retries_once_after_a_401(start_egito):
    running = start_egito(records=2)
    source = egito_source(running)
    session = requests.Session()
    session.auth = TokenAuth(source)
    url = f"{running.url}/services/restapi/json/Contact/list"
    assert session.get(url, timeout=10).status_code == 200
    running.app.tokens.revoke_all()
    answer = session.get(url, timeout=10)
    assert answer.status_code == 200 and [r.status_code for r in answer.history] == [401]
    running.app.tokens.revoke_all(refresh_too=True)
    running.app.account.password = "changed"
    # No endless loop: the retry's own failure surfaces as the error it is.
    with pytest.raises(AuthError, match="invalid_grant"):
        session.get(url, timeout=10)


def test_client_credentials_and_refusals(start_engagifii):
    running = start_engagifii()
    table = running.table
    settings = OAuthSettings(
        system="engagifii",
        token_url=table["token_url"],
        grant="client_credentials",
        client_id=table["client_id"],
        client_secret=table["client_secret"],
    )
    assert TokenSource(settings).access_token()
    settings.client_secret = "wrong-secret-value"
    with pytest.raises(AuthError) as caught:
        TokenSource(settings).access_token()
    assert "invalid_client" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


def test_an_unreachable_token_endpoint_is_transient(start_egito):
    running = start_egito()
    running.server.stop()
    source = egito_source(running)
    # One attempt, so the test does not sit through the backoff.
    quick = build_session("egito-oauth", retry=RetryPolicy(attempts=1), retry_post=True)
    source = TokenSource(source.settings, session=quick)
    with pytest.raises(TransientError):
        source.access_token()
