"""The one WSGI app ``soapbridge serve`` runs: every surface of the bridge on one port.

:class:`Mounts` sends a request to the app mounted at the longest matching path prefix
(matched case-insensitively, as IIS did for the legacy endpoint); the prefix stays in
``PATH_INFO`` so each app sees the path the client used. Mounting another surface is one
line in :func:`build_app` (``mounts.mount("/v1", api_app)``). :class:`ServeApplication`
runs it under gunicorn: ``server.workers`` processes (gthread), each with
``server.threads`` threads (default 8); ``server.timeout`` (seconds, default 120),
``server.accesslog`` (a path or ``-``) and ``server.loglevel`` are passed through. The
store is migrated once before the workers start; each worker opens its own engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from bridge.api import build_control_plane, instrument_soap
from bridge.config import Config
from bridge.facade import ENDPOINT_PATH, build_facade
from bridge.facade.activity import ActivityRecorder, record_activity
from bridge.facade.state import StoreCursorMap, StoreEntityIdMap
from bridge.store import Store
from bridge.ui import build_console

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Mounts:
    """Path-prefix dispatch between WSGI apps; 404 where nothing is mounted."""

    def __init__(self) -> None:
        self._mounts: list[tuple[str, WSGIApp]] = []

    def mount(self, prefix: str, app: WSGIApp) -> Mounts:
        self._mounts.append((prefix.rstrip("/").lower() or "/", app))
        # Longest prefix first, so /v1/jobs can sit beside /v1.
        self._mounts.sort(key=lambda item: len(item[0]), reverse=True)
        return self

    def prefixes(self) -> list[str]:
        return [prefix for prefix, _ in self._mounts]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = (environ.get("PATH_INFO") or "/").lower()
        for prefix, app in self._mounts:
            if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
                return app(environ, start_response)
        body = b"Not found"
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]


def build_app(config: Config, store: Store | None = None) -> Mounts:
    """Everything ``soapbridge serve`` answers, for one config (and its store)."""
    store = store or config.store.open()
    mounts = Mounts()
    if config.sites:
        # Worker processes share entityIds and paging positions through the store.
        facade = build_facade(
            config, entity_ids=StoreEntityIdMap(store), cursors=StoreCursorMap(store)
        )
        activity = ActivityRecorder(store)
        mounts.mount(ENDPOINT_PATH, instrument_soap(record_activity(facade, activity)))
    else:
        log.warning("no `sites` configured: the SOAP facade is not served")
    control_plane = build_control_plane(config, store)
    mounts.mount("/", control_plane)  # /v1, /webhooks, /metrics...
    mounts.mount("/ui", build_console(control_plane.ctx, config))
    return mounts


class ServeApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn with its settings given in code; each worker builds its own app."""

    def __init__(self, app_factory: Callable[[], WSGIApp], options: dict[str, Any]) -> None:
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._factory()


def serve(config: Config, *, host: str, port: int, workers: int) -> None:
    """Run the bridge's app under gunicorn in the foreground until stopped."""
    # Migrate and build once in the parent, so a bad config or store fails before any
    # worker starts; each worker then opens its own engine (connections do not survive fork).
    store = config.store.open()
    store.migrate()
    build_app(config, store)
    store.dispose()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads let a worker send one large answer while it builds the next; they share
        # the worker's CRM page cache, so consumers of the same feed share CRM calls.
        "worker_class": "gthread",
        "threads": int(config.server.options.get("threads", 8)),
        # Each request may wait on a CRM; the legacy consumers' own timeouts are minutes.
        "timeout": int(config.server.options.get("timeout", 120)),
        "graceful_timeout": 10,
        "accesslog": config.server.options.get("accesslog"),
        "loglevel": str(config.server.options.get("loglevel", "info")),
    }
    ServeApplication(lambda: build_app(config), options).run()
