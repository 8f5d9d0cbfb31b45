"""The base of every JSON REST emulator app, and the parts it holds.

:class:`RestParts` are what an app keeps besides its records (tokens, faults, a rate limit,
admin counters), built once from the options every REST emulator's ``build_app`` takes
alike (:class:`RestOptions`); :class:`RestApp` holds them and answers what every app asks
of them: whether a call is refused, and the token endpoint's success answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from bridge.emulators.kit.limits import Throttle
from bridge.emulators.kit.rest import StartResponse, json_response, retry_after_header
from bridge.emulators.kit.server import Faults, Stats
from bridge.emulators.kit.tokens import TokenStore


class RestOptions(TypedDict, total=False):
    """The options every REST emulator's ``build_app`` takes alike (see :meth:`RestParts.build`)."""

    faults: Faults | None
    rate_limit: int
    throttle_rate: float | None
    retry_after: float | None
    token_ttl: float
    stats: Stats | None


@dataclass(slots=True)
class RestParts:
    """What every JSON REST emulator app holds besides its records: the tokens it issues,
    the faults it injects, its request-rate limit and the admin counters."""

    tokens: TokenStore
    faults: Faults
    throttle: Throttle
    stats: Stats

    @classmethod
    def build(
        cls,
        seed: int,
        tokens: Callable[[float], TokenStore] = TokenStore,
        **options: Unpack[RestOptions],
    ) -> RestParts:
        """The parts from a builder's options.

        ``faults`` (new ones seeded with ``seed`` when not given) get ``throttle_rate`` and
        ``retry_after`` when those are given; ``rate_limit`` is requests per minute (0:
        none, the default); ``token_ttl`` the access tokens' lifetime, made into a store by
        ``tokens``; with ``stats``, the app counts there (serve it through ``with_admin``
        with the same object).
        """
        faults = Faults.given(
            options.get("faults"),
            seed=seed,
            throttle_rate=options.get("throttle_rate"),
            retry_after=options.get("retry_after"),
        )
        return cls(
            tokens(options.get("token_ttl", 3600.0)),
            faults,
            Throttle(limit=options.get("rate_limit", 0), faults=faults),
            options.get("stats") or Stats(),
        )


class RestApp:
    """A JSON REST emulator app on the kit's parts; all public, so tests can shorten a TTL,
    drain a window or read the counters."""

    def __init__(self, parts: RestParts) -> None:
        self.tokens = parts.tokens
        self.faults = parts.faults
        self.throttle = parts.throttle
        self.stats = parts.stats

    def refused(self) -> tuple[str | None, int]:
        """Whether the rate limit (or a random 429) refuses this API call: (its
        ``Retry-After`` value, None when the call may go on; calls left in the window, -1
        without a limit)."""
        wait, left = self.throttle.check()
        return (None if wait is None else retry_after_header(wait)), left

    def token_answer(self, start_response: StartResponse, token: dict[str, Any]) -> list[bytes]:
        """A token endpoint's 200 answer: counted as ``tokens_issued``, never cached."""
        self.stats.incr("tokens_issued")
        return json_response(start_response, 200, token, [("Cache-Control", "no-store")])


__all__ = ["RestApp", "RestOptions", "RestParts"]
