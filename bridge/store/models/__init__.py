"""ORM tables of the store, split by who uses them (see :mod:`bridge.store` for the list)."""

from bridge.store.models.base import Base
from bridge.store.models.console import ConsoleSessionRow, FacadeActivityRow, FacadeFaultRow
from bridge.store.models.control import (
    ApiTokenRow,
    ConnectionRow,
    IntegrationRow,
    OAuthTokenRow,
    SiteRow,
    WebhookChannelRow,
)
from bridge.store.models.deletes import DeleteCarriedRow, ReconcileIdRow, TombstoneRow
from bridge.store.models.facade import (
    CacheGenerationRow,
    EntityIdRow,
    FacadeCursorPositionRow,
    FacadeCursorRow,
)
from bridge.store.models.sync import (
    CheckpointRow,
    DeadLetterRow,
    IdLinkRow,
    JobErrorRow,
    JobRow,
    LeaseRow,
)

__all__ = [
    "ApiTokenRow",
    "Base",
    "CacheGenerationRow",
    "CheckpointRow",
    "ConnectionRow",
    "ConsoleSessionRow",
    "DeadLetterRow",
    "DeleteCarriedRow",
    "EntityIdRow",
    "FacadeActivityRow",
    "FacadeCursorPositionRow",
    "FacadeCursorRow",
    "FacadeFaultRow",
    "IdLinkRow",
    "IntegrationRow",
    "JobErrorRow",
    "JobRow",
    "LeaseRow",
    "OAuthTokenRow",
    "ReconcileIdRow",
    "SiteRow",
    "TombstoneRow",
    "WebhookChannelRow",
]
