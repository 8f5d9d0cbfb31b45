"""Access tokens shared through the store by every process and run of one account.

Zoho allows a few refreshes a minute per refresh token (the Bigin emulator enforces 5);
processes that each fetched their own token, or a run that fetched one on every start,
would be refused ("Access Denied"). Here several processes and many runs, on SQLite and
PostgreSQL, share one token; a 401 seen by several holders leads to exactly one refresh;
and the stored row shows no token in clear.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import requests
from sqlalchemy import text

from bridge.auth import OAuthSettings, TokenAuth, TokenSource
from bridge.connectors.bigin.client import TOKEN_THROTTLE_ERRORS
from bridge.store import Store

WORKER = Path(__file__).with_name("token_worker.py")


def bigin_settings(bigin) -> OAuthSettings:
    return OAuthSettings(
        system="bigin",
        token_url=f"{bigin.table['accounts_url']}/oauth/v2/token",
        grant="refresh_token",
        client_id=bigin.table["client_id"],
        client_secret=bigin.table["client_secret"],
        refresh_token=bigin.table["refresh_token"],
        throttle_errors=TOKEN_THROTTLE_ERRORS,
    )


def test_processes_and_runs_of_one_account_share_one_token(start_bigin, store_url):
    bigin = start_bigin(refresh_limit=5)
    settings = asdict(bigin_settings(bigin))
    settings["throttle_errors"] = sorted(settings["throttle_errors"])
    Store(store_url).migrate()
    start_at = time.time() + 3  # every process is up and asks in the same instant
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), store_url, json.dumps(settings), str(start_at), "5"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    tokens = set()
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        tokens.update(out.split())
    # Four processes, five runs each: one token, one refresh, well under Zoho's limit.
    assert len(tokens) == 1
    assert bigin.stats()["tokens_issued"] == 1
    assert bigin.stats().get("token_refusals", 0) == 0


def test_a_401_seen_by_every_holder_leads_to_exactly_one_refresh(start_bigin, store):
    bigin = start_bigin(records=2, refresh_limit=5)
    holders = [TokenSource(bigin_settings(bigin), shared=store.oauth_tokens) for _ in range(6)]
    url = f"{bigin.url}/bigin/v2/Contacts?fields=Email"
    first = {h.access_token() for h in holders}
    assert len(first) == 1 and bigin.stats()["tokens_issued"] == 1
    bigin.app.issuer.revoke_all()  # every holder's token now answers 401
    barrier = threading.Barrier(len(holders))
    answers: list[requests.Response] = []

    def call(holder: TokenSource) -> None:
        barrier.wait()
        answers.append(requests.get(url, auth=TokenAuth(holder, "Zoho-oauthtoken"), timeout=30))

    threads = [threading.Thread(target=call, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * len(holders)
    assert all([r.status_code for r in a.history] == [401] for a in answers)
    assert bigin.stats()["tokens_issued"] == 2, "one refresh for all the holders"
    assert len({h.access_token() for h in holders} | first) == 2
    key = bigin_settings(bigin).account_key()
    assert store.oauth_tokens.refreshes(key) == 2


def test_the_stored_token_is_encrypted(start_bigin, start_egito, store):
    bigin = start_bigin()
    egito = start_egito()
    table = egito.table
    egito_settings = OAuthSettings(
        system="egito",
        token_url=f"{egito.url}/oauth/token",
        grant="password",
        client_id=table["client_id"],
        client_secret=table["client_secret"],
        username=table["username"],
        password=table["password"],
    )
    secrets = [TokenSource(bigin_settings(bigin), shared=store.oauth_tokens).access_token()]
    egito_source = TokenSource(egito_settings, shared=store.oauth_tokens)
    secrets.append(egito_source.access_token())
    egito_source.invalidate(secrets[-1])
    secrets.append(egito_source.access_token())  # through Egito's refresh token, stored too
    secrets += [
        bigin.table["refresh_token"],
        bigin.table["client_id"],
        bigin.table["client_secret"],
        table["client_secret"],
        table["password"],
    ]
    stored = store.oauth_tokens.load(egito_settings.account_key(), egito_settings.sealing_secret())
    assert stored is not None and stored["refresh_token"]
    secrets.append(stored["refresh_token"])
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM oauth_tokens")).all()
    assert len(rows) == 2
    raw = " ".join(str(value) for row in rows for value in row)
    for secret in secrets:
        assert secret not in raw
    # Readable only with the account's own secrets.
    other = OAuthSettings(**{**asdict(egito_settings), "client_secret": "another"})
    assert store.oauth_tokens.load(other.account_key(), other.sealing_secret()) is None


def test_many_sources_of_each_grant_fetch_once(start_engagifii, start_egito, store):
    engagifii, egito = start_engagifii(), start_egito()
    settings = [
        OAuthSettings(
            system="engagifii",
            token_url=engagifii.table["token_url"],
            grant="client_credentials",
            client_id=engagifii.table["client_id"],
            client_secret=engagifii.table["client_secret"],
        ),
        OAuthSettings(
            system="egito",
            token_url=f"{egito.url}/oauth/token",
            grant="password",
            client_id=egito.table["client_id"],
            client_secret=egito.table["client_secret"],
            username=egito.table["username"],
            password=egito.table["password"],
        ),
    ]
    for one in settings:
        tokens = {TokenSource(one, shared=store.oauth_tokens).access_token() for _ in range(5)}
        assert len(tokens) == 1
        assert store.oauth_tokens.refreshes(one.account_key()) == 1
    assert egito.app.tokens.grant_count("password") == 1


def test_a_store_that_fails_leaves_each_process_its_own_token(start_bigin, tmp_path, caplog):
    bigin = start_bigin()
    broken = Store(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no tables at all
    source = TokenSource(bigin_settings(bigin), shared=broken.oauth_tokens)
    with caplog.at_level("WARNING", logger="bridge.auth"):
        token = source.access_token()
    assert token and source.access_token() == token
    assert bigin.stats()["tokens_issued"] == 1
    warnings = [r.getMessage() for r in caplog.records]
    assert any("shared tokens unreadable" in w for w in warnings)
    assert any("lock unavailable" in w for w in warnings)
    assert not any(token in w or bigin.table["refresh_token"] in w for w in warnings)
    broken.dispose()
