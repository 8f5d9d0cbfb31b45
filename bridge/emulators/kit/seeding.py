"""Deterministic seed data the emulated CRMs share: made-up people, and when they changed.

Each emulator declares what its people look like (:class:`FakePeople`: its names, mail
domain and job titles) and puts them under its own wire names with
:meth:`FakePerson.fields`; what is its own alone (phones, addresses, custom fields) it
adds itself. Everything drawn comes from the emulator's seeded ``random.Random``, in the
order the calls are made, so a seed gives the same records on every run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class FakePerson:
    first: str
    last: str
    email: str
    title: str | None

    def fields(self, names: tuple[str, str, str, str]) -> dict[str, Any]:
        """This person under the wire's names for first name, last name, email and title."""
        return dict(zip(names, (self.first, self.last, self.email, self.title), strict=True))


@dataclass(frozen=True, slots=True)
class FakePeople:
    """How one emulated CRM's seeded people look."""

    first_names: Sequence[str]
    last_names: Sequence[str]
    domain: str
    titles: Sequence[str | None]

    def person(self, i: int, rng: random.Random) -> FakePerson:
        """The ``i``-th person (from 0): first names cycle fastest, then last names; the
        email is unique by ``i``; the title is drawn from ``rng``."""
        first = self.first_names[i % len(self.first_names)]
        last = self.last_names[(i // len(self.first_names)) % len(self.last_names)]
        email = f"{first}.{last}.{i + 1}@{self.domain}".lower()
        return FakePerson(first, last, email, rng.choice(self.titles))


def created_at(base: datetime, i: int, spacing: int, rng: random.Random) -> datetime:
    """When the ``i``-th seed record was created: ``spacing`` seconds after the one
    before, give or take up to a minute."""
    return base + timedelta(seconds=i * spacing + rng.randrange(60))


def modified_after(created: datetime, rng: random.Random) -> datetime:
    """When a seed record was last changed: within two days of its creation."""
    return created + timedelta(hours=rng.randrange(0, 48))


__all__ = ["FakePeople", "FakePerson", "created_at", "modified_after"]
