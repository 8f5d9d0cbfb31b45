"""What every handler of the control plane is given: the wiring, the runner, the caller.

Its lookups answer a stored record or the refusal a handler gives when there is none
(404), and :meth:`ApiContext.check_writable` the one for a record the config file
defines (403 ``managed_by_config``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.api.runs import JobRunner
from bridge.api.web import ApiError, found
from bridge.runs.wiring import MANAGED_BY_CONFIG, Wiring
from bridge.store import ApiToken, Connection, Integration, Job, Store


@dataclass(frozen=True, slots=True)
class ApiContext:
    """One per control plane; each authenticated request gets a copy with its ``token``."""

    wiring: Wiring
    runner: JobRunner
    #: The URL Bigin should call back (``server.public_url``); None means "as the client
    #: reached us", right when the API and Bigin see the server under the same name.
    public_url: str | None = None
    token: ApiToken | None = None

    @property
    def store(self) -> Store:
        return self.wiring.store

    def connection(self, connection_id: str) -> Connection:
        return found(self.store.connections.get(connection_id), "Connection", connection_id)

    def integration(self, integration_id: str) -> Integration:
        return found(self.store.integrations.get(integration_id), "Integration", integration_id)

    def job(self, job_id: str) -> Job:
        return found(self.store.jobs.get(job_id), "Job", job_id)

    def check_writable(self, record: Connection | Integration) -> None:
        """Refuse to change what the config file defines: it is edited there."""
        if isinstance(record, Connection):
            managed_by, what = self.wiring.connection_managed_by(record), "connection"
        else:
            managed_by, what = self.wiring.integration_managed_by(record), "integration"
        if managed_by == MANAGED_BY_CONFIG:
            message = f"this {what} is defined in the config file; edit it there"
            raise ApiError(403, "managed_by_config", message)
