"""What a sync run did: counts per direction, the dry-run plan, timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SOURCE_TO_TARGET = "source-to-target"
TARGET_TO_SOURCE = "target-to-source"
BOTH = "both"


@dataclass(slots=True)
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    conflicts: int = 0
    deleted: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(slots=True)
class PlannedWrite:
    """A write a dry run would have made."""

    direction: str
    action: str  # "create" | "update" | "delete" | "flag"
    key: str
    name: str


@dataclass(slots=True)
class SyncReport:
    integration: str
    direction: str
    dry_run: bool = False
    job_id: str | None = None
    directions: dict[str, Counts] = field(default_factory=dict)
    planned: list[PlannedWrite] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    #: Deletes the mass-delete guard held back (waiting for confirmation).
    deletes_held: int = 0

    @property
    def totals(self) -> Counts:
        total = Counts()
        for counts in self.directions.values():
            total.add(counts)
        return total

    @property
    def ok(self) -> bool:
        return self.error is None and self.totals.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "direction": self.direction,
            "dry_run": self.dry_run,
            "job_id": self.job_id,
            "seconds": round(self.seconds, 3),
            "totals": self.totals.as_dict(),
            "directions": {k: v.as_dict() for k, v in self.directions.items()},
            "planned": [vars_of(p) for p in self.planned],
            "error": self.error,
            "deletes_held": self.deletes_held,
        }


def vars_of(planned: PlannedWrite) -> dict[str, str]:
    return {
        "direction": planned.direction,
        "action": planned.action,
        "key": planned.key,
        "name": planned.name,
    }
