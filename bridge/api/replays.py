"""Replaying dead letters of a control-plane integration: all of them, or chosen ones.

The console's replay buttons come here; the engine's replay (:mod:`bridge.sync.replay`)
does the writing, with the integration's live connectors from the store's settings. A
replay holds the integration's lease, as a run does: both write the same id links, so a
replay while a run is in progress is refused (409) rather than interleaved with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.api.web import ApiError
from bridge.api.wiring import Wiring
from bridge.store import DeadLetter, Integration, JobError, LockHeld, integration_lock
from bridge.sync.replay import ReplayResult, replay_letters

#: Most letters one replay request sends; the rest wait for the next press.
MAX_LETTERS = 10_000


def open_letters(wiring: Wiring, integration: Integration) -> list[DeadLetter]:
    return wiring.store.dead_letters.query(integration_id=integration.id, limit=MAX_LETTERS)


def letters_for_errors(
    wiring: Wiring, integration: Integration, errors: Iterable[JobError]
) -> list[DeadLetter]:
    """The unresolved letters of the records ``errors`` (job errors) are about."""
    keys = {error.record_key for error in errors if error.record_key}
    return [letter for letter in open_letters(wiring, integration) if letter.record_key in keys]


def replay(
    wiring: Wiring, integration: Integration, letter_ids: Iterable[int] | None = None
) -> ReplayResult:
    """Send the integration's unresolved letters again (only ``letter_ids`` when given)."""
    letters = open_letters(wiring, integration)
    if letter_ids is not None:
        wanted = set(letter_ids)
        letters = [letter for letter in letters if letter.id in wanted]
    if not letters:
        return ReplayResult()
    try:
        with (
            wiring.store.leases.hold(integration_lock(integration.id)),
            wiring.spec(integration) as spec,
        ):
            return replay_letters(wiring.store, spec, integration.id, letters)
    except LockHeld:
        raise ApiError(
            409, "run_in_progress", "a run of this integration is in progress: replay after it"
        ) from None
