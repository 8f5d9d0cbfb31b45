"""Digests are stored in every id link: the same contact must hash to the same digest from
one release to the next, or every linked record would look changed and be written again.

``fixtures/digests.json`` holds 200 contacts (150 generated with awkward values: blanks,
padding, unicode, empty parts, forms, relationships; 50 read from the emulators) with the
digests the fingerprint code gave them before its speed-ups: plain fingerprints and both
comparers (legacy + Bigin, either inner), each with three field exclusions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.config import ConnectionConfig
from bridge.connectors.registry import build_connector
from bridge.sync.fingerprint import Comparer, fingerprint
from bridge.sync.payload import contact_from_json
from tests.sync.test_fingerprint import BIGIN, LEGACY

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "digests.json").read_text())
CASES: list[dict[str, Any]] = GOLDEN["cases"]
IGNORES: list[list[str]] = GOLDEN["ignores"]


def test_plain_fingerprints_are_unchanged() -> None:
    for case in CASES:
        contact = contact_from_json(case["contact"])
        assert [fingerprint(contact, ignore) for ignore in IGNORES] == case["plain"], case


@pytest.mark.parametrize("pair", ["legacy+bigin", "bigin+legacy"])
def test_comparer_digests_are_unchanged(pair: str) -> None:
    ends = {
        "legacy": build_connector(ConnectionConfig("crm", "legacy", dict(LEGACY))),
        "bigin": build_connector(ConnectionConfig("bigin", "bigin", dict(BIGIN))),
    }
    first, second = pair.split("+")
    comparers = [Comparer(ends[first], ends[second], ignore) for ignore in IGNORES]
    for case in CASES:
        contact = contact_from_json(case["contact"])
        assert [compare(contact) for compare in comparers] == case[pair], case
