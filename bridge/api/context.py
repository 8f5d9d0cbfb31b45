"""What every handler of the control plane is given: the wiring, the runner, the caller."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.api.runs import JobRunner
from bridge.runs.wiring import Wiring
from bridge.store import ApiToken, Store


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
