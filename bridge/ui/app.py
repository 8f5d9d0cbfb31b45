"""The console's WSGI app: routes, the session gate, CSRF, rendering, headers, static files.

Every route but sign-in and the static files needs a live session: a request without
one is redirected to ``/ui/signin`` (a page) or refused the same way (a form post).
Every POST must carry the session's CSRF token in its ``csrf`` field (403 otherwise).
Answers carry a strict Content-Security-Policy (no inline script or style), so even a
value that slipped past escaping could not run. A body is 1 MB at most (413), never
compressed (``Content-Encoding``: 415, so nothing is inflated); :func:`refusal_page` is
the same refusal page for answers made before the console runs (the request guard's 408).
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from bridge.api.context import ApiContext
from bridge.api.web import ApiError
from bridge.config import Config
from bridge.errors import BridgeError
from bridge.store.repos.console import ConsoleSession
from bridge.ui import integrations, jobs, sessions, systems
from bridge.ui.format import FILTERS

log = logging.getLogger(__name__)
PREFIX = "/ui"
DEFAULT_SESSION_MINUTES = 480
MAX_BODY_BYTES = 1 << 20
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
Handler = Callable[..., Response]

# (path, methods, handler); every one of these needs a session.
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/", ("GET",), integrations.home),
    ("/integrations", ("GET",), integrations.list_page),
    ("/integrations/<_id>", ("GET",), integrations.detail_page),
    ("/integrations/<_id>/run", ("POST",), integrations.run_now),
    ("/integrations/<_id>/settings", ("POST",), integrations.save_settings),
    ("/integrations/<_id>/install/<int:step>", ("POST",), integrations.install_step),
    ("/integrations/<_id>/clone", ("POST",), integrations.clone),
    ("/integrations/<_id>/replay", ("POST",), integrations.replay_letters),
    ("/jobs", ("GET",), jobs.list_page),
    ("/jobs/<_id>", ("GET",), jobs.detail_page),
    ("/jobs/<_id>/progress", ("GET",), jobs.progress),
    ("/jobs/<_id>/errors", ("POST",), jobs.act_on_errors),
    ("/connections", ("GET",), systems.connections_page),
    ("/connections/<_id>/ping", ("POST",), systems.ping),
    ("/facade", ("GET",), systems.facade_page),
    ("/signout", ("POST",), sessions.sign_out),
]


@dataclass(slots=True)
class View:
    """What a page handler gets: the console, the request and the signed-in session."""

    console: ConsoleApp
    request: Request
    session: ConsoleSession | None
    cookie: str | None = None

    @property
    def ctx(self) -> ApiContext:
        return self.console.ctx

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        page = self.console.env.get_template(template).render(
            csrf=self.session.csrf_token if self.session else "",
            signed_in=self.session is not None,
            path=self.request.path,
            **values,
        )
        return Response(page, status=status, content_type="text/html; charset=utf-8")

    def refuse(self, status: int, reason: str, title: str = "Refused") -> Response:
        return self.render("refused.html", status, title=title, reason=reason)


@functools.cache
def environment() -> Environment:
    """The console's templates (one per process: they depend on nothing configured)."""
    env = Environment(
        loader=PackageLoader("bridge.ui", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals["prefix"] = PREFIX
    return env


def refusal_page(title: str, reason: str) -> bytes:
    """The console's refusal page for a visitor not known yet (no session looked up)."""
    page = environment().get_template("refused.html").render(
        csrf="", signed_in=False, path=PREFIX, title=title, reason=reason
    )
    return page.encode()


class ConsoleApp:
    """WSGI callable for everything under :data:`PREFIX`."""

    def __init__(self, ctx: ApiContext, config: Config | None = None) -> None:
        self.ctx = ctx
        self.config = config or ctx.wiring.config
        minutes = self.config.server.options.get("console_session_minutes", DEFAULT_SESSION_MINUTES)
        self.session_lifetime = timedelta(minutes=float(minutes))
        self.env = environment()
        self._handlers: dict[str, Handler] = {}
        rules = [
            Rule(PREFIX + "/signin", methods=["GET", "POST"], endpoint="signin"),
            Rule(PREFIX + "/static/<name>", methods=["GET"], endpoint="static"),
        ]
        for i, (path, methods, handler) in enumerate(ROUTES):
            self._handlers[f"r{i}"] = handler
            rules.append(Rule(PREFIX + path, methods=list(methods), endpoint=f"r{i}"))
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        response = self.dispatch(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith(PREFIX + "/static/"):
            # Pages and figures are the signed-in operator's: no cache keeps a copy.
            response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        view = View(self, request, None)
        try:
            if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
                # A browser's form is never compressed; inflating one could take gigabytes.
                return view.refuse(415, "Compressed request bodies are not accepted.")
            endpoint, params = self._map.bind_to_environ(request.environ).match()
            if endpoint == "static":
                return _static(str(params["name"]))
            if endpoint == "signin":
                return sessions.sign_in(view)
            view.cookie, view.session = sessions.current(self, request)
            if view.session is None:
                return _to_sign_in(request)
            if request.method == "POST" and not _csrf_ok(request, view.session):
                return view.refuse(
                    403,
                    "The form was refused: its CSRF token is missing or wrong. "
                    "Reload the page and try again.",
                )
            return self._handlers[str(endpoint)](view, **params)
        except NotFound:
            return view.refuse(404, "No such page.", title="Not found")
        except MethodNotAllowed:
            return view.refuse(405, "Method not allowed.")
        except ApiError as error:
            return view.refuse(error.status, error.message)
        except HTTPException as exc:
            return view.refuse(exc.code or 400, exc.description or exc.name)
        except BridgeError as exc:
            return view.refuse(422, str(exc))
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return view.refuse(500, "Internal error.", title="Error")


def _csrf_ok(request: Request, session: ConsoleSession) -> bool:
    sent = request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent.encode(), session.csrf_token.encode())


def _to_sign_in(request: Request) -> Response:
    target = request.full_path if request.method == "GET" else PREFIX + "/"
    return redirect(f"{PREFIX}/signin?next={quote(target.rstrip('?'), safe='')}", 303)


def _static(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    folder = resources.files("bridge.ui").joinpath("static")
    if suffix not in STATIC_TYPES or "/" in name or name.startswith("."):
        raise NotFound()
    item = folder.joinpath(name)
    if not item.is_file():
        raise NotFound()
    response = Response(item.read_bytes(), content_type=STATIC_TYPES[suffix])
    response.headers["Cache-Control"] = "max-age=300"
    return response


def build_console(ctx: ApiContext, config: Config | None = None) -> ConsoleApp:
    """The console over the control plane's context (same store, wiring and job runner)."""
    return ConsoleApp(ctx, config)
