"""Console pages of integrations: the list with health badges, one integration's page.

Actions call the control plane's own functions (:mod:`bridge.api.integrations`,
:mod:`bridge.api.installers`, :mod:`bridge.api.replays`); a refusal there (403 managed
by the config file, 409 update in progress...) is shown on the page as its message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from bridge.api import integrations as api
from bridge.api.installers import run_step
from bridge.api.replays import replay
from bridge.api.web import ApiError, check_text
from bridge.config import DIRECTIONS
from bridge.errors import ConfigError
from bridge.runs.replay import open_letters
from bridge.runs.scheduler import Schedule
from bridge.store import Integration, Job
from bridge.store.repos.jobs import FAILED

if TYPE_CHECKING:
    from bridge.ui.app import View

LIST_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the integrations list."""

    integration: Integration
    source: str
    target: str
    next_run: datetime | None
    last_job: Job | None
    dead_letters: int
    badges: list[tuple[str, str]]


def _names(view: View) -> dict[str, str]:
    return {c.id: c.name for c in view.ctx.store.connections.all(limit=10_000)}


def _next_run(integration: Integration) -> datetime | None:
    expression = integration.settings.get("schedule")
    if not expression or integration.mode != "settings":
        return None
    try:
        return Schedule.starting(integration.name, str(expression), datetime.now(UTC)).next_at
    except ConfigError:
        return None


def _badges(integration: Integration, last: Job | None, letters: int) -> list[tuple[str, str]]:
    """(css class, text) health badges; ``ok`` alone when nothing is wrong."""
    badges = []
    if integration.mode != "settings":
        badges.append(("paused", "paused: install unfinished"))
    if last is not None and last.status == FAILED:
        badges.append(("failed", "last run failed"))
    if letters:
        badges.append(("dead", f"{letters} dead letter{'s' if letters != 1 else ''}"))
    return badges or [("ok", "healthy")]


def _row(view: View, integration: Integration, names: dict[str, str]) -> Row:
    store = view.ctx.store
    jobs = store.jobs.query(integration_id=integration.id, limit=1)
    last = jobs[0] if jobs else None
    letters = store.dead_letters.count(integration_id=integration.id)
    settings = integration.settings
    return Row(
        integration=integration,
        source=names.get(str(settings.get("source")), "—"),
        target=names.get(str(settings.get("target")), "—"),
        next_run=_next_run(integration),
        last_job=last,
        dead_letters=letters,
        badges=_badges(integration, last, letters),
    )


def home(view: View) -> Response:
    return redirect("/ui/integrations", 303)


def list_page(view: View, message: str | None = None, status: int = 200) -> Response:
    names = _names(view)
    rows = [_row(view, i, names) for i in view.ctx.store.integrations.all(limit=LIST_LIMIT)]
    return view.render(
        "integrations.html", status, title="Integrations", rows=rows, message=message
    )


def detail_page(
    view: View,
    _id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    store = view.ctx.store
    integration = view.ctx.integration(_id)
    names = _names(view)
    used = [
        ident
        for ident in dict.fromkeys(
            [integration.settings.get("source"), integration.settings.get("target")]
            + [s.get("_connectionId") for s in integration.install_steps]
        )
        if ident
    ]
    connections = store.connections.all(limit=10_000)
    return view.render(
        "integration.html",
        status,
        title=integration.name,
        row=_row(view, integration, names),
        integration=integration,
        managed_by=view.ctx.wiring.integration_managed_by(integration),
        names=names,
        directions=DIRECTIONS,
        mapping=json.dumps(integration.settings.get("mapping") or {}, indent=2, sort_keys=True),
        clone_ends=[(ident, names.get(ident, ident)) for ident in used],
        connections=connections,
        kinds={c.id: c.kind for c in connections},
        jobs=store.jobs.query(integration_id=integration.id, limit=10),
        letters=open_letters(view.ctx.wiring, integration),
        next_step=next(
            (i for i, s in enumerate(integration.install_steps) if not s.get("completed")), None
        ),
        message=message,
        error=error,
    )


def run_now(view: View, _id: str) -> Response:
    integration = view.ctx.integration(_id)
    try:
        job = api.start_run(view.ctx, integration)
    except ApiError as refusal:
        return detail_page(view, _id, error=refusal.message, status=refusal.status)
    return redirect(f"/ui/jobs/{job.id}", 303)


def save_settings(view: View, _id: str) -> Response:
    integration = view.ctx.integration(_id)
    form = view.request.form
    settings: dict[str, Any] = dict(integration.settings)
    settings["direction"] = form.get("direction") or settings.get("direction")
    settings["schedule"] = form.get("schedule", "").strip() or None
    try:
        settings["mapping"] = json.loads(form.get("mapping") or "{}")
    except ValueError:
        return detail_page(view, _id, error="The mapping is not valid JSON.", status=422)
    try:
        # The form's text meets /v1's rule (JSON bodies are checked as they are read).
        check_text(settings, "settings")
        api.apply_update(view.ctx, integration, {"settings": settings})
    except ApiError as refusal:
        return detail_page(view, _id, error=refusal.message, status=refusal.status)
    return detail_page(view, _id, message="Settings saved.")


def install_step(view: View, _id: str, step: int) -> Response:
    integration = view.ctx.integration(_id)
    base_url = view.ctx.public_url or view.request.host_url
    try:
        updated = run_step(view.ctx.wiring, integration, step, base_url)
    except ApiError as refusal:
        return detail_page(
            view, _id, error=f"Step {step + 1} failed: {refusal.message}", status=refusal.status
        )
    name = updated.install_steps[step].get("name") or f"step {step + 1}"
    done = " The integration is installed." if updated.mode == "settings" else ""
    return detail_page(view, _id, message=f"Step {step + 1} ({name}) completed.{done}")


def clone(view: View, _id: str) -> Response:
    integration = view.ctx.integration(_id)
    form = view.request.form
    mapping = {
        key.removeprefix("map-"): value for key, value in form.items() if key.startswith("map-")
    }
    body = {"name": form.get("name", "").strip(), "connectionMap": mapping}
    try:
        check_text(body)
        copy = api.clone_with_map(view.ctx, integration, body)
    except ApiError as refusal:
        return detail_page(
            view, _id, error=f"Clone refused: {refusal.message}", status=refusal.status
        )
    return redirect(f"/ui/integrations/{copy.id}", 303)


def replay_letters(view: View, _id: str) -> Response:
    """Replay one letter (``letter``), the ticked ones (``selected``) or all (``all``)."""
    integration = view.ctx.integration(_id)
    form = view.request.form
    ids: list[int] | None
    if form.get("letter"):
        ids = [_int(form["letter"])]
    elif form.get("action") == "all":
        ids = None
    else:
        ids = [_int(v) for v in form.getlist("selected")]
        if not ids:
            return detail_page(view, _id, error="Tick the letters to replay first.", status=422)
    result = replay(view.ctx.wiring, integration, ids)
    text = f"Replayed {result.resolved} of {result.tried}; {result.failed} still failing."
    return detail_page(view, _id, message=text)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiError(422, "invalid_field", "a dead letter is named by its number") from None
