"""Per-integration field mapping overrides, on top of the connectors' default mappings.

The default mapping of a pair is the two connectors' own mappings through the canonical
``Contact``. An integration's ``mapping`` table in the config can change that::

    mapping = { exclude = ["title", "phones"], defaults = { customer_type = "Member" },
                custom_fields = { "Membership level" = "Membership_Level" } }

- ``exclude``: canonical fields never written to the other side (the other side keeps
  its value); they are also left out of change detection.
- ``defaults``: values written when the contact has none.
- ``custom_fields``: renames of custom field keys on the way over (both directions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import ConfigError
from bridge.model import Contact

_LIST_FIELDS = {"phones", "addresses", "relationships", "forms"}
_FIELDS = {f.name for f in dataclasses.fields(Contact)} - {"ids"}
_KEYS = {"external_id", "email"}


@dataclass(frozen=True, slots=True)
class FieldMap:
    exclude: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any], where: str = "mapping") -> FieldMap:
        unknown = set(mapping) - {"exclude", "defaults", "custom_fields"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        exclude = frozenset(mapping.get("exclude", ()))
        defaults = dict(mapping.get("defaults", {}))
        for name in exclude | set(defaults):
            if name not in _FIELDS:
                raise ConfigError(f"{where}: {name!r} is not a contact field")
        if exclude & _KEYS:
            raise ConfigError(
                f"{where}: the match keys {sorted(exclude & _KEYS)} cannot be excluded"
            )
        return cls(exclude, defaults, dict(mapping.get("custom_fields", {})))

    def outgoing(self, contact: Contact, *, reverse: bool = False) -> Contact:
        """The contact as it should be written to the other side."""
        changes: dict[str, Any] = {}
        for name in self.exclude:
            changes[name] = (
                [] if name in _LIST_FIELDS else ({} if name == "custom_fields" else None)
            )
        for name, value in self.defaults.items():
            if getattr(contact, name) in (None, "", []):
                changes[name] = value
        if self.custom_fields and "custom_fields" not in self.exclude:
            renames = (
                {v: k for k, v in self.custom_fields.items()} if reverse else self.custom_fields
            )
            changes["custom_fields"] = {
                renames.get(k, k): v for k, v in contact.custom_fields.items()
            }
        return contact.copy(**changes) if changes else contact
