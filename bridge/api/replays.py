"""Replays asked for through the control plane's surfaces (the console's replay buttons).

The replay itself is :func:`bridge.runs.replay.replay`; here a replay refused because a run
of the integration holds its lease becomes the API's 409 ``run_in_progress``.
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.api.web import ApiError
from bridge.runs import replay as runs_replay
from bridge.runs.wiring import Wiring
from bridge.store import Integration, LockHeld
from bridge.sync.replay import ReplayResult


def replay(
    wiring: Wiring, integration: Integration, letter_ids: Iterable[int] | None = None
) -> ReplayResult:
    """Send the integration's unresolved letters again (only ``letter_ids`` when given)."""
    try:
        return runs_replay.replay(wiring, integration, letter_ids)
    except LockHeld:
        raise ApiError(
            409, "run_in_progress", "a run of this integration is in progress: replay after it"
        ) from None
