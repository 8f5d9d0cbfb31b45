"""The control plane's WSGI app: routing, bearer-token auth, the error envelope everywhere.

:func:`build_control_plane` returns one app answering ``/v1/...`` (JSON API, tokens
required except for ``/v1/openapi.json``), ``/webhooks/bigin`` (checked by channel token),
``/webhooks/hubspot`` (checked by signature), ``/metrics``, ``/healthz`` and ``/readyz``.
Mounted at ``/`` beside the facade, it also answers every path nobody else claims, with a
404 envelope.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from bridge.api import connections, integrations, jobs, metrics, webhooks
from bridge.api.context import ApiContext
from bridge.api.installers import renew_channels
from bridge.api.openapi import openapi_document, query_parameters
from bridge.api.runs import JobRunner
from bridge.api.web import ApiError, error_response, json_response
from bridge.config import Config
from bridge.errors import BridgeError
from bridge.metrics import exposition
from bridge.runs.wiring import Wiring
from bridge.store import Store

log = logging.getLogger(__name__)
Handler = Callable[..., Response]
RENEW_EVERY_SECONDS = 300.0
#: Larger bodies get 413: no document of this API comes near (a readme is 100,000 chars).
MAX_BODY_BYTES = 1 << 20

# (path, methods, handler, needs a bearer token)
ROUTES: list[tuple[str, tuple[str, ...], Handler, bool]] = [
    ("/v1/tokenInfo", ("GET",), jobs.token_info, True),
    ("/v1/integrations", ("GET",), integrations.list_integrations, True),
    ("/v1/integrations", ("POST",), integrations.create_integration, True),
    ("/v1/integrations/<_id>", ("GET",), integrations.get_integration, True),
    ("/v1/integrations/<_id>", ("PUT",), integrations.update_integration, True),
    ("/v1/integrations/<_id>", ("DELETE",), integrations.delete_integration, True),
    ("/v1/integrations/<_id>/clone", ("POST",), integrations.clone_integration, True),
    ("/v1/integrations/<_id>/run", ("POST",), integrations.run_integration, True),
    ("/v1/integrations/<_id>/install/<int:step>", ("POST",), integrations.install_step, True),
    ("/v1/connections", ("GET",), connections.list_connections, True),
    ("/v1/connections", ("POST",), connections.create_connection, True),
    ("/v1/connections/<_id>", ("GET",), connections.get_connection, True),
    ("/v1/connections/<_id>", ("PUT",), connections.update_connection, True),
    ("/v1/connections/<_id>", ("DELETE",), connections.delete_connection, True),
    ("/v1/connections/<_id>/ping", ("GET",), connections.ping_connection, True),
    ("/v1/jobs", ("GET",), jobs.list_jobs, True),
    ("/v1/jobs/<_id>", ("GET",), jobs.get_job, True),
    ("/v1/jobs/<_id>/joberrors", ("GET",), jobs.list_job_errors, True),
    *(
        (f"/webhooks/{kind}", ("POST",), partial(webhooks.notification, kind=kind), False)
        for kind in webhooks.webhook_kinds()
    ),
]


class ControlPlane:
    """The app; ``close()`` stops its background threads (tests, server shutdown)."""

    def __init__(self, ctx: ApiContext, *, renew_every: float | None = RENEW_EVERY_SECONDS):
        self.ctx = ctx
        self._handlers: dict[str, tuple[Handler, bool, frozenset[str] | None]] = {}
        rules = []
        for i, (path, methods, handler, needs_token) in enumerate(ROUTES):
            endpoint = f"r{i}"
            # The document is the one list of query parameters: anything else is a typo
            # (``_integrationID``) that would otherwise silently widen a filter.
            query = query_parameters(_openapi_path(path), methods[0])
            self._handlers[endpoint] = (handler, needs_token, query)
            rules.append(Rule(path, methods=list(methods), endpoint=endpoint))
        for path, endpoint in (
            ("/v1/openapi.json", "openapi"),
            ("/metrics", "metrics"),
            ("/healthz", "healthz"),
            ("/readyz", "readyz"),
        ):
            rules.append(Rule(path, methods=["GET"], endpoint=endpoint))
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)
        self._stop = threading.Event()
        self._renew_every = renew_every
        self._renewer: threading.Thread | None = None
        self._renewer_lock = threading.Lock()

    def _start_renewer(self) -> None:
        # Started by the first request, not at build time: ``soapbridge serve`` builds the
        # app once in gunicorn's parent to check it, and threads do not survive a fork.
        with self._renewer_lock:
            if self._renewer is None and self._renew_every and not self._stop.is_set():
                self._renewer = threading.Thread(
                    target=self._renew_loop,
                    args=(self._renew_every,),
                    name="bigin-renew",
                    daemon=True,
                )
                self._renewer.start()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self._renewer is None:
            self._start_renewer()
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, params = adapter.match()
            return self._answer(str(endpoint), dict(params), request)
        except ApiError as error:
            challenge = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
            return error_response(error, challenge)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or ()))
            refusal = ApiError(405, "method_not_allowed", f"use {allowed}")
            return error_response(refusal, {"Allow": allowed})
        except NotFound:
            return error_response(ApiError(404, "not_found", "no such resource"))
        except HTTPException as exc:
            code = exc.code or 400
            kind = "too_large" if code == 413 else "bad_request"
            return error_response(ApiError(code, kind, exc.description or exc.name))
        except BridgeError as exc:
            return error_response(ApiError(422, "invalid_request", str(exc)))
        except RecursionError:
            # Only a request can nest this deep (a body that parsed, then was walked).
            return error_response(ApiError(400, "too_deep", "the request is nested too deeply"))
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return error_response(ApiError(500, "internal_error", "internal error"))

    def _answer(self, endpoint: str, params: dict[str, Any], request: Request) -> Response:
        if endpoint == "openapi":
            return json_response(openapi_document())
        if endpoint == "metrics":
            body, content_type = exposition()
            return Response(body, content_type=content_type)
        if endpoint == "healthz":
            return json_response({"status": "ok"})
        if endpoint == "readyz":
            if self.ctx.store.ping():
                return json_response({"status": "ready"})
            return error_response(ApiError(503, "store_unreachable", "the store does not answer"))
        handler, needs_token, query = self._handlers[endpoint]
        ctx = self.ctx
        if needs_token:
            ctx = dataclasses.replace(ctx, token=self._authenticate(request))
        unknown = sorted(set(request.args) - query) if query is not None else []
        if unknown:
            raise ApiError(
                400,
                "invalid_query_params",
                f"unknown query parameter `{unknown[0]}`",
                field=unknown[0],
            )
        return handler(ctx, request, **params)

    def _authenticate(self, request: Request) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("an `Authorization: Bearer <token>` header is required")
        found = self.ctx.store.api_tokens.verify(token.strip())
        if found is None:
            raise _unauthorized("the token is unknown or revoked")
        return found

    def _renew_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                renew_channels(self.ctx.wiring)
            except Exception:  # keep the thread alive; the next turn tries again
                log.exception("renewing Bigin watch channels failed")

    def close(self) -> None:
        self._stop.set()
        self.ctx.runner.shutdown(wait=True)


def _openapi_path(rule: str) -> str:
    """``/v1/jobs/<_id>`` as the document spells it: ``/v1/jobs/{_id}``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def build_control_plane(
    config: Config | None,
    store: Store,
    *,
    workers: int | None = None,
    renew_every: float | None = RENEW_EVERY_SECONDS,
) -> ControlPlane:
    """The control plane over ``store``, with the config's connections and integrations.

    ``server.public_url`` (config) is the base URL Bigin calls back; without it, the URL
    the install request came in on is used. ``server.api_workers`` sizes the run pool.
    """
    wiring = Wiring(store, config)
    wiring.import_config()
    metrics.listen_to_rest_calls()
    options = wiring.config.server.options
    runner = JobRunner(wiring, workers=workers or int(options.get("api_workers", 2)))
    public_url = options.get("public_url")
    ctx = ApiContext(wiring, runner, str(public_url) if public_url else None)
    return ControlPlane(ctx, renew_every=renew_every)
