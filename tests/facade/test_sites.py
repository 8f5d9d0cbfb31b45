"""Site authentication: one Argon2 check per refusal, whoever asks; secrets stay hidden."""

from __future__ import annotations

import statistics
import time

import pytest

from bridge.config import SiteConfig
from bridge.errors import AuthError
from bridge.facade.sites import SiteDirectory, hash_password


def _directory(**options) -> SiteDirectory:
    return SiteDirectory(
        [
            SiteConfig(1, "crm", "alice", password="plain-pw", timezone="Europe/Paris"),
            SiteConfig(2, "crm", "bob", password_hash=hash_password("hashed-pw")),
        ],
        **options,
    )


def test_right_credentials_open_their_own_site_only():
    sites = _directory()
    assert sites.authenticate(1, "alice", "plain-pw").site_id == 1
    assert sites.authenticate(2, "bob", "hashed-pw").site_id == 2
    for site_id, user, password in [(1, "bob", "hashed-pw"), (2, "alice", "plain-pw"),
                                    (1, "alice", "PLAIN-PW"), (3, "alice", "plain-pw"),
                                    (None, "", ""), (1, "alice", None)]:
        with pytest.raises(AuthError, match="Invalid Username/Password or Site ID"):
            sites.authenticate(site_id, user, password)


def test_refusals_take_the_same_time_whether_the_site_or_user_exists():
    sites = _directory()

    def median_seconds(site_id, user, password, runs=7):
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            with pytest.raises(AuthError):
                sites.authenticate(site_id, user, password)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    unknown_site = median_seconds(99, "alice", "x")
    wrong_user = median_seconds(1, "mallory", "plain-pw")
    wrong_password = median_seconds(1, "alice", "x")
    hashed_site = median_seconds(2, "bob", "x")
    timings = [unknown_site, wrong_user, wrong_password, hashed_site]
    # Each refusal is one Argon2 verification (milliseconds); a shortcut would be ~100x faster.
    assert min(timings) > 0.002
    assert max(timings) / min(timings) < 3, timings


def test_verified_credentials_are_remembered_refusals_are_not():
    sites = _directory(remember_seconds=60)
    started = time.perf_counter()
    sites.authenticate(1, "alice", "plain-pw")
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        sites.authenticate(1, "alice", "plain-pw")
    repeated = (time.perf_counter() - started) / 20
    assert repeated < first / 10
    with pytest.raises(AuthError):
        sites.authenticate(1, "alice", "plain-pw ")


def test_secrets_never_show_in_repr():
    sites = _directory()
    shown = repr(sites.sites())
    assert "plain-pw" not in shown and "argon2" not in shown
