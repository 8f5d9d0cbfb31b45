"""Deterministic seed data for the Bigin emulator: contacts and the companies they work at."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.emulators.kit.seeding import FakePeople, created_at

OWNER = {"name": "Emulator Admin", "id": "7618134000000627001", "email": "admin@example.com"}
SEED_BASE = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)

FIRST = ["Ted", "Ana", "Raj", "Mei", "Olu", "Ines", "Kai", "Lena", "Omar", "Pia", "Sven", "Yara"]
LAST = ["Watson", "Silva", "Patel", "Chen", "Okafor", "Garcia", "Muller", "Novak", "Haddad"]
COMPANIES = ["Zylker", "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark"]
SUFFIXES = ["Corp", "Ltd", "GmbH", "Inc", "Group"]
CITIES = [
    ("Chennai", "TN", "600001", "India"),
    ("Austin", "TX", "73301", "United States"),
    ("Leeds", None, "LS1 1UR", "United Kingdom"),
    ("Lyon", None, "69001", "France"),
    ("Osaka", None, "530-0001", "Japan"),
]
TAGS = ["VIP", "Newsletter", "Partner", "Event 2025"]
PEOPLE = FakePeople(FIRST, LAST, "bigin.example.com", ("Manager", "Director", "Engineer", None))


def seed_accounts(count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        name = f"{COMPANIES[i % len(COMPANIES)]} {SUFFIXES[(i // len(COMPANIES)) % len(SUFFIXES)]}"
        if i >= len(COMPANIES) * len(SUFFIXES):
            name += f" {i}"
        rows.append(
            {
                "Account_Name": name,
                "Phone": f"+1 512 555 {i % 10000:04d}",
                "_time": SEED_BASE - timedelta(days=30) + timedelta(minutes=i),
            }
        )
    return rows


def seed_contacts(count: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        city, state, zipcode, country = CITIES[i % len(CITIES)]
        row: dict[str, Any] = {
            **PEOPLE.person(i, rng).fields(("First_Name", "Last_Name", "Email", "Title")),
            "Phone": f"+1 512 {i % 1000:03d} {i % 10000:04d}",
            "Mobile": f"+1 737 {i % 1000:03d} {(i * 7) % 10000:04d}" if i % 2 else None,
            "Mailing_Street": f"{1 + i % 400} Main Street",
            "Mailing_City": city,
            "Mailing_State": state,
            "Mailing_Zip": zipcode,
            "Mailing_Country": country,
            "Email_Opt_Out": i % 7 == 0,
            "Tag": [{"name": rng.choice(TAGS)}] if i % 4 == 0 else None,
            "_time": created_at(SEED_BASE, i, 97, rng),
        }
        if i % 3 == 0:
            row["_company"] = True
        rows.append(row)
    return rows
