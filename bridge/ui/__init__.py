"""The operator console: server-rendered pages under ``/ui`` beside the facade and ``/v1``.

Modules, outside in:

- :mod:`.app`: routing, the session check on every page, CSRF on every POST, rendering,
  security headers and the static files;
- :mod:`.sessions`: sign in with a control-plane token, the session cookie, sign out;
- :mod:`.integrations`, :mod:`.jobs`, :mod:`.systems` (connections and the facade): pages;
- ``templates/`` (Jinja2, autoescaped: a CRM value is always text) and ``static/`` (one
  stylesheet, one small script for live job progress; every page reads without it).

Every action calls the same functions as the ``/v1`` handlers (``bridge.api``), so the
console has no rules of its own: a refusal there is the message shown here.
"""

from bridge.ui.app import PREFIX, SECURITY_HEADERS, ConsoleApp, build_console, refusal_page

__all__ = ["PREFIX", "SECURITY_HEADERS", "ConsoleApp", "build_console", "refusal_page"]
