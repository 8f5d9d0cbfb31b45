"""Replaying dead letters of an integration, from the config file or the store alike.

``soapbridge deadletters replay NAME`` and the console's replay buttons come here; the
engine's replay (:func:`bridge.sync.replay.replay_letters`) does the writing, with the
integration's live connectors from the catalog (:class:`~bridge.runs.wiring.Wiring`). A
replay holds the integration's lease, as a run does: both write the same id links, so a
replay while a run is in progress is refused (:class:`~bridge.store.LockHeld`) rather
than interleaved with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.config import Config
from bridge.runs.wiring import Wiring
from bridge.store import DeadLetter, Integration, JobError, Store, integration_lock, open_store
from bridge.sync.replay import ReplayResult, replay_letters

#: Most letters one replay from the console sends; the rest wait for the next press.
MAX_LETTERS = 10_000
#: Most letters ``soapbridge deadletters replay`` sends in one go.
MAX_LETTERS_CLI = 200_000


def open_letters(
    wiring: Wiring, integration: Integration, limit: int = MAX_LETTERS
) -> list[DeadLetter]:
    """The integration's unresolved letters, oldest first."""
    return wiring.store.dead_letters.query(integration_id=integration.id, limit=limit)


def letters_for_errors(
    wiring: Wiring, integration: Integration, errors: Iterable[JobError]
) -> list[DeadLetter]:
    """The unresolved letters of the records ``errors`` (job errors) are about."""
    keys = {error.record_key for error in errors if error.record_key}
    return [letter for letter in open_letters(wiring, integration) if letter.record_key in keys]


def replay(
    wiring: Wiring,
    integration: Integration,
    letter_ids: Iterable[int] | None = None,
    *,
    limit: int = MAX_LETTERS,
) -> ReplayResult:
    """Send the integration's unresolved letters again (only ``letter_ids`` when given).

    Raises :class:`~bridge.store.LockHeld` while a run of the integration is in progress.
    """
    letters = open_letters(wiring, integration, limit)
    if letter_ids is not None:
        wanted = set(letter_ids)
        letters = [letter for letter in letters if letter.id in wanted]
    if not letters:
        return ReplayResult()
    with (
        wiring.store.leases.hold(integration_lock(integration.id)),
        wiring.spec(integration) as spec,
    ):
        return replay_letters(wiring.store, spec, integration.id, letters)


def replay_dead_letters(config: Config, name: str, store: Store | None = None) -> ReplayResult:
    """Replay every unresolved letter of the integration ``name`` (config file or store)."""
    wiring = Wiring(store or open_store(config), config)
    integration = wiring.store.integrations.by_name(name)
    if integration is None:
        return ReplayResult()
    return replay(wiring, integration, limit=MAX_LETTERS_CLI)
