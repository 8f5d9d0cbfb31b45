"""Signing in to the console with a control-plane token, the session cookie, signing out.

The sign-in form is protected like every other form: before there is a session, its
CSRF token is a random value also set in a short-lived cookie (double submit), so a
foreign page cannot sign a browser in to someone else's session. The session cookie is
HttpOnly, ``SameSite=Strict``, scoped to ``/ui``, ``Secure`` when served over HTTPS,
and lives as long as the session (``server.console_session_minutes``, default 8 hours).
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from bridge.store.repos.console import ConsoleSession

if TYPE_CHECKING:
    from bridge.ui.app import ConsoleApp, View

SESSION_COOKIE = "soapbridge_console"
SIGNIN_COOKIE = "soapbridge_signin"
SIGNIN_MINUTES = 15


def _cookie_options(request: Request, max_age: int) -> dict[str, Any]:
    return {
        "max_age": max_age,
        "path": "/ui",
        "httponly": True,
        "samesite": "Strict",
        "secure": request.scheme == "https",
    }


def current(console: ConsoleApp, request: Request) -> tuple[str | None, ConsoleSession | None]:
    """The request's session cookie and the live session it names (None, None if none)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > 200:
        return None, None
    return cookie, console.ctx.store.console_sessions.get(cookie)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never another site (``//evil``, ``https://...``)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/integrations"


def sign_in(view: View) -> Response:
    request = view.request
    console = view.console
    next_path = _safe_next(request.values.get("next"))
    if request.method == "GET":
        _cookie, session = current(console, request)
        if session is not None:
            return redirect(next_path, 303)
        return _form(view, next_path, 200)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    sent = request.form.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _form(
            view,
            next_path,
            403,
            "The form was refused (its CSRF token is missing or expired). Try again.",
        )
    token = console.ctx.store.api_tokens.verify(request.form.get("token", "").strip())
    if token is None:
        return _form(view, next_path, 401, "That token is unknown or revoked.")
    cookie, _session = console.ctx.store.console_sessions.open(token.id, console.session_lifetime)
    response = redirect(next_path, 303)
    lifetime = int(console.session_lifetime.total_seconds())
    response.set_cookie(SESSION_COOKIE, cookie, **_cookie_options(request, lifetime))
    response.delete_cookie(SIGNIN_COOKIE, path="/ui")
    return response


def _form(view: View, next_path: str, status: int, error: str | None = None) -> Response:
    csrf = secrets.token_urlsafe(32)
    response = view.render(
        "signin.html", status, title="Sign in", next=next_path, error=error, signin_csrf=csrf
    )
    response.set_cookie(SIGNIN_COOKIE, csrf, **_cookie_options(view.request, SIGNIN_MINUTES * 60))
    return response


def sign_out(view: View) -> Response:
    if view.cookie:
        view.ctx.store.console_sessions.close(view.cookie)
    response = redirect("/ui/signin", 303)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response
