"""Repositories, one module per area; :class:`Repositories` bundles them over one scope."""

from __future__ import annotations

from bridge.store.crypto import SecretCipher
from bridge.store.repos.base import SessionScope
from bridge.store.repos.checkpoints import Checkpoint, CheckpointRepo
from bridge.store.repos.connections import Connection, ConnectionRepo
from bridge.store.repos.console import ConsoleSessionRepo, FacadeActivityRepo
from bridge.store.repos.cursors import FacadeCursor, FacadeCursorRepo
from bridge.store.repos.dead_letters import DeadLetter, DeadLetterRepo
from bridge.store.repos.entity_ids import EntityIdRepo
from bridge.store.repos.generations import CacheGenerationRepo
from bridge.store.repos.integrations import Integration, IntegrationRepo, Site, SiteRepo
from bridge.store.repos.jobs import Job, JobError, JobRepo
from bridge.store.repos.leases import HeldLease, Lease, LeaseRepo, LockHeld, integration_lock
from bridge.store.repos.links import IdLink, IdLinkRepo
from bridge.store.repos.oauth_tokens import OAuthTokenRepo
from bridge.store.repos.tokens import ApiToken, ApiTokenRepo, WebhookChannel, WebhookChannelRepo
from bridge.store.repos.tombstones import SideRef, Tombstone, TombstoneRepo


class Repositories:
    """Every repository, all drawing their sessions from the same scope."""

    def __init__(self, scope: SessionScope, cipher: SecretCipher) -> None:
        self.integrations = IntegrationRepo(scope, cipher)
        self.connections = ConnectionRepo(scope, cipher)
        self.sites = SiteRepo(scope, cipher)
        self.api_tokens = ApiTokenRepo(scope, cipher)
        self.webhook_channels = WebhookChannelRepo(scope, cipher)
        self.links = IdLinkRepo(scope, cipher)
        self.checkpoints = CheckpointRepo(scope, cipher)
        self.jobs = JobRepo(scope, cipher)
        self.dead_letters = DeadLetterRepo(scope, cipher)
        self.leases = LeaseRepo(scope, cipher)
        self.entity_ids = EntityIdRepo(scope, cipher)
        self.cursors = FacadeCursorRepo(scope, cipher)
        self.oauth_tokens = OAuthTokenRepo(scope, cipher)
        self.cache_generations = CacheGenerationRepo(scope, cipher)
        self.tombstones = TombstoneRepo(scope, cipher)
        self.console_sessions = ConsoleSessionRepo(scope, cipher)
        self.facade_activity = FacadeActivityRepo(scope, cipher)


__all__ = [
    "ApiToken",
    "Checkpoint",
    "Connection",
    "DeadLetter",
    "FacadeCursor",
    "HeldLease",
    "IdLink",
    "Integration",
    "Job",
    "JobError",
    "Lease",
    "LockHeld",
    "Repositories",
    "SideRef",
    "Site",
    "Tombstone",
    "WebhookChannel",
    "integration_lock",
]
