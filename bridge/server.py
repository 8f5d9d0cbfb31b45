"""The one WSGI app ``soapbridge serve`` runs: every surface of the bridge on one port.

:class:`Mounts` sends a request to the app mounted at the longest matching path prefix
(matched case-insensitively, as IIS did for the legacy endpoint); the prefix stays in
``PATH_INFO`` so each app sees the path the client used. Mounting another surface is one
line in :func:`build_app` (``mounts.mount("/v1", api_app)``). :class:`ServeApplication`
runs it under gunicorn: ``server.workers`` processes (gthread), each with
``server.threads`` threads (default 8); ``server.timeout`` (seconds, default 120),
``server.accesslog`` (a path or ``-``) and ``server.loglevel`` are passed through. The
store is migrated once before the workers start; each worker opens its own engine.
Under gunicorn every request's headers and body are read under a deadline, the body by
:class:`~bridge.request_guard.BodyGuard` before an app runs (``server.body_grace_seconds``,
default 2; ``server.body_timeout_seconds``, default 60; ``server.slow_body_slots``,
default a quarter of ``threads``), and an over-long request line or header is answered
in JSON (:mod:`bridge.request_guard`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from bridge.api import build_control_plane
from bridge.api.app import MAX_BODY_BYTES
from bridge.api.web import ApiError
from bridge.config import Config
from bridge.errors import ConfigError
from bridge.facade import ENDPOINT_PATH, build_facade, limits_from
from bridge.facade.activity import ActivityRecorder, record_activity
from bridge.facade.metrics import instrument_soap
from bridge.request_guard import BodyGuard, Deadlines, GuardedThreadWorker
from bridge.soap.contract import wire
from bridge.store import Store, open_store
from bridge.ui import PREFIX as CONSOLE_PREFIX
from bridge.ui import SECURITY_HEADERS, build_console, refusal_page

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
    store = store or Store.from_config(config.store)
    mounts = Mounts()
    if config.sites:
        # Worker processes share the facade's state through the store.
        facade = build_facade(config, store=store)
        activity = ActivityRecorder(store)
        mounts.mount(ENDPOINT_PATH, instrument_soap(record_activity(facade, activity)))
    else:
        log.warning("no `sites` configured: the SOAP facade is not served")
    control_plane = build_control_plane(config, store)
    mounts.mount("/", control_plane)  # /v1, /webhooks, /metrics...
    mounts.mount("/ui", build_console(control_plane.ctx, config))
    return mounts


def guard_bodies(config: Config, app: WSGIApp, threads: int) -> BodyGuard:
    """``app`` behind the body deadlines (see :mod:`bridge.request_guard`)."""
    options = config.server.options
    try:
        deadlines = Deadlines(
            grace=float(options.get("body_grace_seconds", 2)),
            timeout=float(options.get("body_timeout_seconds", 60)),
            slow_slots=int(options.get("slow_body_slots", max(1, threads // 4))),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"server: {exc}") from None
    facade_limit = limits_from(dict(options.get("facade", {}))).max_bytes
    return BodyGuard(app, deadlines, max_bytes=max(facade_limit, MAX_BODY_BYTES), refuse=refusal)


def refusal(
    environ: dict[str, Any], status: str, message: str
) -> tuple[list[tuple[str, str]], bytes]:
    """A refusal before any app ran, in the format of the app the path belongs to."""
    path = (environ.get("PATH_INFO") or "").lower()
    if path == ENDPOINT_PATH.lower():
        version = wire.soap_version_of(environ.get("CONTENT_TYPE", ""))
        body = wire.fault(version, message, client=True, asmx_prefix=False)
        return [("Content-Type", wire.content_type(version))], body
    if path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/"):
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        return [*headers, *SECURITY_HEADERS.items()], refusal_page("Refused", message)
    code = status.split(" ", 1)[0]
    error = ApiError(int(code), "request_timeout" if code == "408" else "bad_request", message)
    return [("Content-Type", "application/json")], json.dumps(error.envelope()).encode()


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
    store = open_store(config)
    threads = int(config.server.options.get("threads", 8))
    guard_bodies(config, build_app(config, store), threads)
    store.dispose()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads let a worker send one large answer while it builds the next; they share
        # the worker's CRM page cache, so consumers of the same feed share CRM calls.
        # (gthread, answering gunicorn's own refusals of long URLs in JSON.)
        "worker_class": GuardedThreadWorker,
        "threads": threads,
        # Each request may wait on a CRM; the legacy consumers' own timeouts are minutes.
        "timeout": int(config.server.options.get("timeout", 120)),
        "graceful_timeout": 10,
        "accesslog": config.server.options.get("accesslog"),
        "loglevel": str(config.server.options.get("loglevel", "info")),
    }
    ServeApplication(lambda: guard_bodies(config, build_app(config), threads), options).run()
