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
    cases = {
        "unknown site": (99, "alice", "x"),
        "wrong user": (1, "mallory", "plain-pw"),
        "wrong password": (1, "alice", "x"),
        "hashed site, wrong password": (2, "bob", "x"),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    # Round-robin, so a busy machine slows every case alike.
    for _ in range(9):
        for name, credentials in cases.items():
            started = time.perf_counter()
            with pytest.raises(AuthError):
                sites.authenticate(*credentials)
            samples[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    # Each refusal is one Argon2 verification (milliseconds); a shortcut would be ~100x faster.
    assert min(medians.values()) > 0.002, medians
    assert max(medians.values()) / min(medians.values()) < 3, medians


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


def test_hash_password_command_prints_a_hash_that_verifies():
    import subprocess
    import sys

    from argon2 import PasswordHasher

    out = subprocess.run(
        [sys.executable, "-m", "bridge", "hash-password", "--password", "s3cret!"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    hashed = out.stdout.strip()
    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert PasswordHasher().verify(hashed, "s3cret!")
