"""The emulator kit's shared parts: token issuing, the key index, seeded people, REST parts."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from bridge.emulators import egito, engagifii
from bridge.emulators.kit.lookup import KeyIndex
from bridge.emulators.kit.restapp import RestParts
from bridge.emulators.kit.seeding import FakePeople, created_at, modified_after
from bridge.emulators.kit.server import Faults
from bridge.emulators.kit.tokens import TokenStore, same_secret, uuid_token


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_store_mints_expires_and_rounds_as_told():
    clock = Clock()
    tokens = TokenStore(1.6, clock=clock, mint=lambda: f"t{clock.now}", seconds=round)
    body = tokens.issue("password", "client", with_refresh=True, scope="read")
    assert body == {
        "access_token": "t100.0",
        "token_type": "Bearer",
        "expires_in": 2,
        "refresh_token": "t100.0",
        "scope": "read",
    }
    assert TokenStore(1.6).issue("x", "c")["expires_in"] == 1  # truncated by default
    assert tokens.check("t100.0") == "ok" and tokens.expires_in("t100.0") == pytest.approx(1.6)
    clock.now = 101.6
    assert tokens.check("t100.0") == "expired" and tokens.expires_in("t100.0") == 0.0
    assert tokens.check("unknown") == "invalid" and tokens.check(None) == "invalid"
    assert tokens.grant_count("password") == 1


def test_refresh_tokens_belong_to_their_client_and_codes_work_once():
    tokens = TokenStore(mint=uuid_token)
    kept = tokens.keep_refresh("preset", "client", subject="user")
    assert kept == "preset"
    issued = tokens.use_refresh("preset", "client")
    assert issued is not None and issued.subject == "user"
    assert tokens.use_refresh("preset", "another client") is None
    code = tokens.keep_code("code-1", "https://app.example/callback")
    assert tokens.redeem_code(code) == "https://app.example/callback"
    assert tokens.redeem_code(code) is None
    tokens.revoke_all(refresh_too=True)
    assert tokens.use_refresh("preset", "client") is None


def test_same_secret_compares_text_including_non_ascii():
    assert same_secret("hasło", "hasło")
    assert not same_secret("hasło", "haslo")


def test_key_index_keeps_ids_per_key_and_forgets_empty_keys():
    index: KeyIndex[int] = KeyIndex()
    index.add([("email", "a@x"), ("externalId", "E1")], 1)
    index.add([("email", "a@x")], 2)
    assert index.ids("email", "a@x") == {1, 2} and index.ids("externalId", "E1") == {1}
    index.discard([("email", "a@x"), ("externalId", "E1")], 1)
    assert index.ids("email", "a@x") == {2} and index.ids("externalId", "E1") == set()
    index.discard([("email", "a@x")], 2)
    assert index.ids("email", "a@x") == set()


def test_fake_people_cycle_names_and_draw_from_the_seeded_random():
    people = FakePeople(["Ada", "Ben"], ["Smith", "Jones"], "example.org", ["A", "B", None])
    first = [people.person(i, random.Random(5)) for i in range(4)]
    again = [people.person(i, random.Random(5)) for i in range(4)]
    assert first == again
    assert [(p.first, p.last) for p in first] == [
        ("Ada", "Smith"),
        ("Ben", "Smith"),
        ("Ada", "Jones"),
        ("Ben", "Jones"),
    ]
    assert first[2].email == "ada.jones.3@example.org"
    assert first[0].fields(("First_Name", "Last_Name", "Email", "Title")) == {
        "First_Name": "Ada",
        "Last_Name": "Smith",
        "Email": "ada.smith.1@example.org",
        "Title": first[0].title,
    }
    base = datetime(2025, 1, 1, tzinfo=UTC)
    created = created_at(base, 3, 100, random.Random(1))
    assert 300 <= (created - base).total_seconds() < 360
    assert 0 <= (modified_after(created, random.Random(1)) - created).total_seconds() < 48 * 3600


def test_rest_parts_take_the_shared_options():
    mine = Faults(fail_rate=0.5)
    parts = RestParts.build(3, faults=mine, throttle_rate=0.25, rate_limit=7, token_ttl=9.0)
    assert parts.faults is mine and mine.throttle_rate == 0.25
    assert parts.throttle.limit == 7 and parts.throttle.faults is mine
    assert parts.tokens.ttl == 9.0
    fresh = RestParts.build(3)
    assert fresh.faults.seed == 3 and fresh.throttle.limit == 0 and fresh.tokens.ttl == 3600.0


def test_each_rest_emulator_keeps_its_default_rate_limit():
    assert engagifii.build_app(0).throttle.limit == engagifii.DEFAULT_RATE_LIMIT
    assert egito.build_app(0).throttle.limit == 0
    assert engagifii.build_app(0, rate_limit=5).throttle.limit == 5


def test_bigin_issues_its_zoho_tokens_from_the_kits_store(start_bigin):
    bigin = start_bigin(token_ttl=1.6)
    assert isinstance(bigin.app.tokens, TokenStore) and bigin.app.issuer.tokens is bigin.app.tokens
    token = bigin.token()  # the refresh grant, over HTTP
    # Zoho's tokens look like 1000.<hex>.<hex>; the store keeps them and counts the grant.
    assert token.startswith("1000.") and token.count(".") == 2
    assert bigin.app.tokens.check(token) == "ok"
    assert bigin.app.tokens.expires_in(token) == pytest.approx(1.6, abs=0.5)
    assert bigin.app.tokens.grant_count("refresh_token") == 1
    # Zoho rounds the lifetime it announces (1.6 s -> 2), where the kit truncates by default.
    assert bigin.app.tokens.issue("refresh_token", "x")["expires_in"] == 2


def test_uuid_tokens_are_random_version_4_uuids_in_their_usual_text_form() -> None:
    import uuid

    tokens = [uuid_token() for _ in range(2000)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        parsed = uuid.UUID(token)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, token)
    # Every variant digit (8, 9, a, b) and every hex digit elsewhere turns up.
    assert {t[19] for t in tokens} == set("89ab")
    assert set("".join(t.replace("-", "") for t in tokens)) == set("0123456789abcdef")
