"""The store: everything the bridge remembers, in SQLite (default) or PostgreSQL.

``Store(url)`` builds the engine and the repositories; ``store.migrate()`` brings the schema
up to date with the Alembic migrations shipped in ``bridge/store/migrations``. Each
repository call runs in its own transaction; ``with store.transaction() as tx:`` groups
calls into one, ``with store.reading() as reads:`` groups look-ups into one read
transaction. Datetimes go in and come out aware UTC on both engines; the sync's
page-sized id lists are bound as one parameter each (``bridge.store.sql``).

Tables (module in ``models/``; repository attribute on the store; who uses it):

======================== ================== ============================================
table                    repository         used by, for
======================== ================== ============================================
integrations             integrations       control plane (integrator.io shape: ``_id``,
                                            mode, settings, version, install steps) and
                                            the sync engine (``ensure`` from the config)
connections              connections        control plane; settings in clear, secrets
                                            Fernet-encrypted, only ``config()`` decrypts
sites                    sites              facade: site credentials and connection
api_tokens               api_tokens         control plane auth: SHA-256 + lookup prefix
webhook_channels         webhook_channels   Bigin watch channels: token hash (constant-
                                            time check) and encrypted copy (renewal)
id_links                 links              sync engine: source id <-> target id, External
                                            ID, email, last fingerprint of each side
checkpoints              checkpoints        sync engine: per (integration, direction)
                                            watermark and in-flight position
jobs, job_errors         jobs               sync engine writes, control plane lists
dead_letters             dead_letters       sync engine: failed records, replay
leases                   leases             sync engine: one run per integration at a time
entity_ids               entity_ids         facade: stable legacy integer entityIds per
                                            scope, allocated race-free
facade_cursors,          cursors            facade: legacy recordStart -> CRM paging
facade_cursor_positions                     position, per (scope, lastUpdateDate, snapshot)
oauth_tokens             oauth_tokens       every process of one OAuth account: its current
                                            access token (encrypted) and a refresh lease
console_sessions         console_sessions   operator console: signed-in browsers (hashed)
facade_activity,         facade_activity    operator console: calls and faults per site,
facade_faults                               the last SOAP faults (written in batches)
======================== ================== ============================================

Rows never leave the store: repositories return frozen dataclasses (``Job``, ``IdLink``...),
so callers cannot trip over detached ORM objects or lazy loads.
"""

from bridge.store import repos
from bridge.store.crypto import SECRET_KEY_ENV, SecretCipher
from bridge.store.repos import *  # noqa: F403 (the records and helpers ``repos.__all__`` lists)
from bridge.store.store import Store, alembic_config, open_store
from bridge.store.types import new_id

__all__ = ["SECRET_KEY_ENV", "SecretCipher", "Store", "alembic_config", "new_id", "open_store"]
__all__ += repos.__all__
