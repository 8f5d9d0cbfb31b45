"""The emulators' shared kit: what every emulator of a CRM needs and none should rebuild.

- :mod:`bridge.emulators.kit.server`: the loopback WSGI server, fault injection
  (:class:`Faults`: latency, failures, random 429s), the ``/_emulator/stats`` admin surface;
- :mod:`bridge.emulators.kit.rest`: JSON REST plumbing (request decoding, JSON answers);
- :mod:`bridge.emulators.kit.tokens`: OAuth token issuing (:class:`TokenStore`: access and
  refresh tokens, one-time codes) and constant-time credential checks;
- :mod:`bridge.emulators.kit.limits`: request-rate limits (rolling and daily counts, the
  per-minute :class:`Throttle` with random 429s);
- :mod:`bridge.emulators.kit.restapp`: the base of a REST emulator app and the parts it
  holds (:class:`RestParts`: tokens, faults, a rate limit, counters), built from the
  options every ``build_app`` shares (:class:`RestOptions`);
- :mod:`bridge.emulators.kit.seeding`: deterministic made-up people and their times;
- :mod:`bridge.emulators.kit.lookup`: the ``(field, value) -> ids`` index behind the
  exact-match look-ups (email, External ID) clients make;
- :mod:`bridge.emulators.kit.cli`: the click options every ``soapbridge emulate <crm>``
  command shares, and the foreground serve loop.

Emulators stand on this kit and on the legacy contract (:mod:`bridge.soap.contract`) only:
they model the remote systems, so nothing of the bridge's own machinery may leak into them.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def utc_now() -> datetime:
    """The current time, aware, in UTC, to the second (as the emulated wires write it)."""
    return datetime.now(UTC).replace(microsecond=0)


def local_now(tz: tzinfo) -> datetime:
    """The wall-clock time in ``tz``, naive, to the second: how the legacy CRM and Egito
    keep their times (local to the site or instance, with no offset)."""
    return datetime.now(tz).replace(tzinfo=None, microsecond=0)
