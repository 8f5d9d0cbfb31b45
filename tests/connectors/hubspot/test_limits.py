"""HubSpot rate limits: the headers honoured, a 429 waited out, the daily limit raised,
the account budget shared by workers through Redis."""

from __future__ import annotations

import time

import pytest
import redis
import requests

from bridge.config import ConnectionConfig
from bridge.connectors.hubspot import HubSpotConnector
from bridge.errors import RateLimited
from bridge.ratelimit import account_key, share_rate_limits


def statuses(url: str) -> dict[str, int]:
    counts: dict[str, int] = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    return counts


def test_the_remaining_header_holds_calls_so_no_429_comes(start_hubspot):
    # 6 calls per 2 s window; the connector thinks it may make 1,000 per 10 s.
    started = start_hubspot(700, emulator={"oauth_burst_limit": 6, "burst_window": 2.0},
                            calls_per_10s=1000)  # fmt: skip
    began = time.monotonic()
    keys = [c.ids["hubspot"] for p in started.connector.read_changes() for c in p.contacts]
    assert len(keys) == 700 == len(set(keys))
    assert statuses(started.url).get("status_429", 0) == 0
    assert time.monotonic() - began >= 1.5, "seven-plus calls cannot fit in one 2 s window"


def test_a_429_without_retry_after_waits_the_window_and_succeeds(start_hubspot):
    started = start_hubspot(50, emulator={"oauth_burst_limit": 3, "burst_window": 1.5},
                            calls_per_10s=1000)  # fmt: skip
    connector = started.connector
    connector.verify()  # a token, and the first call
    # Another worker of the account spends the window behind this connector's back.
    token = connector.client.tokens.access_token()
    for _ in range(3):
        requests.get(f"{started.url}/crm/v3/objects/contacts", timeout=5,
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    began = time.monotonic()
    assert connector.get(str(started.emulator.store.ids[0])) is not None
    assert statuses(started.url).get("status_429", 0) >= 1
    assert time.monotonic() - began >= 1.0, "the retry came before the window could free a slot"


def test_the_daily_limit_is_raised_at_once_not_waited_for(start_hubspot):
    started = start_hubspot(5, emulator={"auth": "private", "daily_limit": 2})
    connector = started.connector
    connector.verify()
    connector.verify()  # Daily-Remaining: 0 after this one
    began = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        connector.verify()
    assert caught.value.retry_after is not None and caught.value.retry_after > 30
    assert time.monotonic() - began < 1


def test_workers_share_the_account_budget_through_redis(start_hubspot, redis_url):
    started = start_hubspot(0, emulator={"oauth_burst_limit": 0, "search_limit": 0},
                            calls_per_10s=20)  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    one: HubSpotConnector = started.connector  # type: ignore[assignment]
    settings = dict(started.table or {}, calls_per_10s=20)
    two = HubSpotConnector.from_config(ConnectionConfig("worker-2", "hubspot", settings))
    try:
        assert share_rate_limits(one, client, "hubspot:acct") == ["calls", "credits"]
        share_rate_limits(two, client, "hubspot:acct")
        one.verify()
        two.verify()
        began = time.monotonic()
        for _ in range(10):
            one.verify()
            two.verify()
        # 22 calls from a bucket of 2 refilled at 1.8/s: about 11 s together, where each
        # worker pacing alone would have needed about half that.
        assert time.monotonic() - began >= 8
    finally:
        two.close()


def test_two_portals_of_one_app_are_two_accounts():
    app = {"base_url": "https://api.hubapi.com", "client_id": "one-public-app"}
    first = ConnectionConfig("a", "hubspot", {**app, "portal_id": 1001})
    second = ConnectionConfig("b", "hubspot", {**app, "portal_id": 1002})
    again = ConnectionConfig("c", "hubspot", {**app, "portal_id": 1001, "refresh_token": "other"})
    assert account_key(first) != account_key(second)
    assert account_key(first) == account_key(again)
