"""Console pages of the systems around the bridge: connections (with ping) and the facade.

A connection shows its kind, its endpoint and which secrets are set, by name only: the
store never answers secret values (:mod:`bridge.api.connections`), nor does this page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from bridge.api.connections import ping as ping_connection
from bridge.api.web import ApiError
from bridge.runs.wiring import MANAGED_BY_CONFIG
from bridge.store import Connection
from bridge.store.repos.connections import split_secrets

if TYPE_CHECKING:
    from bridge.ui.app import View

#: Settings that say where a system is, per kind (the first one set is shown).
ENDPOINT_KEYS = ("endpoint", "api_domain", "base_url", "accounts_url", "token_url")


def endpoint_of(connection: Connection) -> str:
    for key in ENDPOINT_KEYS:
        value = connection.settings.get(key)
        if value:
            return str(value)
    return "—"


def secret_names(view: View, connection: Connection) -> list[str]:
    """Names of the secrets a connection has (the file's, for one the config file manages)."""
    wiring = view.ctx.wiring
    if wiring.connection_managed_by(connection) == MANAGED_BY_CONFIG:
        _plain, secret = split_secrets(wiring.config.connections[connection.name].settings)
        return sorted(secret)
    return sorted(connection.secret_keys)


def connections_page(
    view: View,
    *,
    pinged: str | None = None,
    answer: str | None = None,
    ok: bool = True,
    status: int = 200,
) -> Response:
    connections = view.ctx.store.connections.all(limit=10_000)
    return view.render(
        "connections.html",
        status,
        title="Connections",
        connections=connections,
        endpoints={c.id: endpoint_of(c) for c in connections},
        managed={c.id: view.ctx.wiring.connection_managed_by(c) for c in connections},
        secrets={c.id: secret_names(view, c) for c in connections},
        pinged=pinged,
        answer=answer,
        ok=ok,
    )


def ping(view: View, _id: str) -> Response:
    connection = view.ctx.connection(_id)
    try:
        ping_connection(view.ctx, connection)
    except ApiError as refusal:
        return connections_page(view, pinged=_id, answer=refusal.message, ok=False)
    return connections_page(view, pinged=_id, answer="200 OK: the credentials work.")


def facade_page(view: View) -> Response:
    config = view.console.config
    sites = {site.site_id: site for site in config.sites}
    store = view.ctx.store
    return view.render(
        "facade.html",
        title="Facade",
        sites=sites,
        activity=store.facade_activity.sites(sites),
        faults=store.facade_activity.faults(),
    )
