"""Console pages in process (werkzeug's test client): job list paging and filters, refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from werkzeug.test import Client

from bridge.api import build_control_plane
from bridge.config import parse_config
from bridge.ui import build_console


@pytest.fixture
def client(store):
    config = parse_config({"server": {"console_session_minutes": 5}}, env={})
    plane = build_control_plane(config, store, renew_every=None)
    browser = Client(build_console(plane.ctx, config))
    _record, token = store.api_tokens.issue("ops")
    form = browser.get("/ui/signin").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    signed = browser.post("/ui/signin", data={"csrf": csrf, "token": token, "next": "/ui/jobs"})
    assert signed.status_code == 303 and signed.headers["Location"] == "/ui/jobs"
    cookie = browser.get_cookie("soapbridge_console", path="/ui")
    assert cookie.http_only and cookie.same_site == "Strict"
    # The cookie lasts as long as the configured session.
    assert timedelta(minutes=4) < cookie.expires - cookie.expires.now(cookie.expires.tzinfo) <= timedelta(minutes=5)
    yield browser
    plane.close()


def _page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def test_jobs_page_pages_and_filters(client, store):
    first = store.integrations.create("first")
    second = store.integrations.create("second")
    made = [store.jobs.create(first.id).id for _ in range(30)]
    other = store.jobs.create(second.id).id
    store.jobs.finish(other, "failed", error="boom")
    page = _page(client, "/ui/jobs")
    assert "31 jobs, 1 to 25 shown" in page and "older →" in page and "← newer" not in page
    older = re.search(r'href="(/ui/jobs\?skip=25)"', page).group(1)
    rest = _page(client, older)
    assert "26 to 31 shown" in rest and "← newer" in rest and "older →" not in rest
    assert made[0] in rest  # the oldest job is on the last page
    only = _page(client, f"/ui/jobs?_integrationId={second.id}&status=failed&type=flow")
    assert "1 job, 1 to 1 shown" in only and other in only and made[0] not in only
    none = _page(client, "/ui/jobs?createdAt_lte=2000-01-01T00:00")
    assert "0 jobs" in none and "No jobs match." in none
    # A filter the API refuses is said so, and the list is shown unfiltered.
    bad = _page(client, "/ui/jobs?type=nightly")
    assert "`type` must be one of flow, webhook" in bad


def test_unknown_things_and_wrong_methods_are_refused_with_a_page(client):
    missing = client.get("/ui/jobs/6b0000000000000000000000")
    assert missing.status_code == 404 and "Job not found" in missing.get_data(as_text=True)
    assert client.get("/ui/nowhere").status_code == 404
    assert client.get("/ui/integrations/x/run").status_code == 405
    page = client.get("/ui/integrations")
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"
    assert client.get("/ui/jobs/6b0000000000000000000000/progress").headers["Cache-Control"] == "no-store"
    assert client.get("/ui/static/console.css").status_code == 200
    assert client.get("/ui/static/..%2Fapp.py").status_code == 404


def test_sign_in_refuses_a_foreign_next_and_a_missing_csrf(client, store):
    _record, token = store.api_tokens.issue("other")
    fresh = Client(client.application)
    assert fresh.post("/ui/signin", data={"token": token}).status_code == 403
    form = fresh.get("/ui/signin?next=//evil.example/").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    answer = fresh.post("/ui/signin", data={"csrf": csrf, "token": token, "next": "https://evil.example/"})
    assert answer.headers["Location"] == "/ui/integrations"


def test_a_replay_while_a_run_holds_the_integration_is_refused(client, store):
    from bridge.store import integration_lock

    integration = store.integrations.create("busy")
    store.dead_letters.add(integration.id, "source-to-target", "42", {}, error_message="refused")
    page = _page(client, f"/ui/integrations/{integration.id}")
    assert "Dead letters (1)" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    with store.leases.hold(integration_lock(integration.id), holder="another-worker"):
        answer = client.post(f"/ui/integrations/{integration.id}/replay", data={"csrf": csrf, "action": "all"})
    assert answer.status_code == 409
    assert "a run of this integration is in progress" in answer.get_data(as_text=True)
    assert store.dead_letters.get(store.dead_letters.query()[0].id).attempts == 1  # not tried
