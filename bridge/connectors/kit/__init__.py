"""The connector kit: what every connector package stands on instead of writing it again.

- :mod:`~bridge.connectors.kit.paging`: the loop guard and the pagers (offset +
  ``moreRecords``, ``pageIndex``/``totalCount``) that every paged feed walks with.
- :mod:`~bridge.connectors.kit.rest`: a REST client base (bearer auth, a read session that
  retries and a write session that repeats only after a 429, transport errors and
  ``Retry-After`` mapped once, the statuses every API means alike), and
  :class:`~bridge.connectors.kit.rest.PacedRestClient` for a client that paces its account
  itself (one call: admission, every method repeated after a 429).
- :mod:`~bridge.connectors.kit.matching`: finding the record a contact is, and
  :class:`~bridge.connectors.kit.matching.OneByOneConnector` for a system that writes one
  record at a time.
- :mod:`~bridge.connectors.kit.wire`: wire values every mapping shares (times to the
  second in UTC, an address by a table of field names, the main phone).
- :mod:`~bridge.connectors.kit.limits`: local account pacing (calls a second, a daily
  credit budget), the seam :mod:`bridge.ratelimit` swaps for shared buckets.
- :mod:`~bridge.connectors.kit.watch`: what a system with push channels offers.

Capabilities beyond the common interface are declared on the connector
(:class:`~bridge.connectors.base.Capability`), never guessed from a kind name.

Adding a REST CRM ``acme``: a package ``bridge/connectors/acme/`` (``client.py`` on
:class:`~bridge.connectors.kit.rest.RestClient`, ``mapping.py``, ``connector.py`` with a
:class:`~bridge.connectors.base.Connector` subclass whose ``kind = "acme"``, its
``from_config`` and its ``capabilities``), an emulator package ``bridge/emulators/acme/``,
and a harness in ``tests/connectors/harnesses/``. Nothing else: the kind is found on disk
(:mod:`bridge.kinds`), and ``tests/connectors/test_kinds_meta.py`` fails when a kind name
is written anywhere else in ``bridge/``.
"""
