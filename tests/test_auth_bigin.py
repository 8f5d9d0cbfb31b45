"""TokenSource and TokenAuth with Zoho's refresh-token grant (the Bigin emulator)."""

from __future__ import annotations

import threading

import pytest
import requests

from bridge.auth import OAuthSettings, TokenAuth, TokenSource
from bridge.connectors.bigin.client import TOKEN_THROTTLE_ERRORS
from bridge.errors import AuthError, RateLimited


def settings_for(bigin, **changes) -> OAuthSettings:
    values = {
        "system": "bigin",
        "token_url": f"{bigin.table['accounts_url']}/oauth/v2/token",
        "grant": "refresh_token",
        "client_id": bigin.table["client_id"],
        "client_secret": bigin.table["client_secret"],
        "refresh_token": bigin.table["refresh_token"],
    }
    values.update(changes)
    return OAuthSettings(**values)


def test_token_is_fetched_once_and_reused(start_bigin):
    bigin = start_bigin()
    source = TokenSource(settings_for(bigin))
    tokens = {source.access_token() for _ in range(5)}
    assert len(tokens) == 1 and bigin.stats()["tokens_issued"] == 1
    data = source.token_data
    assert data["api_domain"] == bigin.url and "access_token" not in data
    assert "refresh_token" not in data


def test_short_lived_token_refreshes_in_its_last_tenth_not_every_call(start_bigin):
    bigin = start_bigin(token_ttl=30)
    now = [1_000_000.0]
    source = TokenSource(settings_for(bigin, leeway=60), clock=lambda: now[0])
    first = source.access_token()
    # A 60 s leeway must not mean "always refresh", nor a refresh at half-life (two
    # workers refreshing 30 s tokens at half-life asked for 7 tokens in 75 s).
    now[0] += 26.5
    assert source.access_token() == first
    now[0] += 1.0  # within the last 3 s of its 30
    assert source.access_token() != first
    assert bigin.stats()["tokens_issued"] == 2


def test_concurrent_callers_share_one_fetch(start_bigin):
    bigin = start_bigin()
    source = TokenSource(settings_for(bigin))
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def take() -> None:
        barrier.wait()
        seen.append(source.access_token())

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert bigin.stats()["tokens_issued"] == 1


def test_401_is_retried_once_with_a_fresh_token(start_bigin):
    bigin = start_bigin(records=2)
    source = TokenSource(settings_for(bigin))
    auth = TokenAuth(source, scheme="Zoho-oauthtoken")
    url = f"{bigin.url}/bigin/v2/Contacts?fields=Email"
    assert requests.get(url, auth=auth, timeout=10).status_code == 200
    bigin.app.issuer.revoke_all()
    response = requests.get(url, auth=auth, timeout=10)
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert bigin.stats()["tokens_issued"] == 2


def test_a_401_that_persists_is_not_retried_twice(start_bigin, monkeypatch):
    bigin = start_bigin(records=2)
    monkeypatch.setattr(bigin.app.issuer, "check", lambda header: None)
    auth = TokenAuth(TokenSource(settings_for(bigin)), scheme="Zoho-oauthtoken")
    response = requests.get(f"{bigin.url}/bigin/v2/Contacts?fields=Email", auth=auth, timeout=10)
    assert response.status_code == 401
    assert bigin.stats()["status_401"] == 2


def test_refused_client_is_an_auth_error_without_secrets(start_bigin):
    bigin = start_bigin()
    source = TokenSource(settings_for(bigin, client_secret="wrong-secret-value"))
    with pytest.raises(AuthError) as caught:
        source.access_token()
    assert "invalid_client" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)
    assert "wrong-secret-value" not in repr(source)
    assert bigin.table["refresh_token"] not in repr(source)


def test_refresh_limit_is_a_retryable_refusal(start_bigin):
    """Zoho's "Access Denied" after too many refreshes means "later", not "wrong keys"."""
    bigin = start_bigin(refresh_limit=1)
    source = TokenSource(settings_for(bigin, throttle_errors=TOKEN_THROTTLE_ERRORS))
    token = source.access_token()
    source.invalidate(token)
    with pytest.raises(RateLimited, match="Access Denied") as caught:
        source.access_token()
    assert caught.value.retry_after and caught.value.retry_after > 0
    # Without the vendor's word for it, a refusal stays a refusal.
    plain = TokenSource(settings_for(bigin))
    with pytest.raises(AuthError, match="Access Denied"):
        plain.access_token()
