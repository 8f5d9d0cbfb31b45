"""A process that takes an access token through a shared store (for tests/test_auth_shared.py).

``python tests/token_worker.py STORE_URL SETTINGS_JSON START_AT CALLS``: waits until the
wall clock reaches ``START_AT`` (so several processes ask at once), then asks for a token
``CALLS`` times (each through a new :class:`TokenSource`, as separate runs would) and
prints the distinct tokens it got, one per line.
"""

from __future__ import annotations

import json
import sys
import time

from bridge.auth import OAuthSettings, TokenSource
from bridge.store import Store


def main(url: str, settings_json: str, start_at: str, calls: str) -> None:
    store = Store(url)
    settings = OAuthSettings(**json.loads(settings_json))
    time.sleep(max(0.0, float(start_at) - time.time()))
    seen = {
        TokenSource(settings, shared=store.oauth_tokens).access_token() for _ in range(int(calls))
    }
    print("\n".join(sorted(seen)))
    store.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
