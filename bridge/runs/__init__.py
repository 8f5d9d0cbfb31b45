"""Running integrations: which one, built how, run where, when, and replayed.

The composition layer between the engine (:mod:`bridge.sync`, which knows nothing of
where it runs) and the entry points:

- :mod:`.wiring`: the catalog (``Wiring``): config-file and store integrations to a run
  spec with live connectors; :mod:`.options`: an integration's options read once;
- :mod:`.launch`: one launcher interface, here or on the queue (sending through
  :mod:`.queueing`), picked once by the entry point;
- :mod:`.scheduler`: cron schedules of the config file and of the store;
- :mod:`.replay`: dead letters sent again, for both kinds of integration;
- :mod:`.cli`: ``soapbridge sync``, ``deadletters`` and ``schedule``.
"""
