"""Console repositories on both engines: sessions, facade activity and faults."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bridge.facade.activity import ActivityRecorder, record_activity
from bridge.store.repos.console import KEEP_FAULTS, ActivityBatch, FacadeFault


def test_a_session_lives_until_it_expires_is_closed_or_its_token_is_revoked(store):
    token, _plain = store.api_tokens.issue("ops")
    cookie, session = store.console_sessions.open(token.id, timedelta(hours=1))
    found = store.console_sessions.get(cookie)
    assert found == session and found.token_id == token.id and len(found.csrf_token) >= 32
    assert store.console_sessions.get(cookie + "x") is None
    # Only the hash is kept: the cookie value is nowhere in the table.
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT session_hash, csrf_token FROM console_sessions")).all()
    assert all(cookie not in row for row in rows)

    expired, _ = store.console_sessions.open(token.id, timedelta(seconds=-1))
    assert store.console_sessions.get(expired) is None
    other, _ = store.console_sessions.open(token.id, timedelta(hours=1))
    store.console_sessions.close(other)
    assert store.console_sessions.get(other) is None
    assert store.console_sessions.get(cookie) is not None
    store.api_tokens.revoke(token.id)
    assert store.console_sessions.get(cookie) is None


def test_facade_activity_adds_up_batches_from_several_processes(store):
    early = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    late = early + timedelta(minutes=5)
    store.facade_activity.add(ActivityBatch({7: 3}, {}, {7: late}, []))
    fault = FacadeFault(7, "ContactList_Retrieve", "ERROR: bad login", early)
    store.facade_activity.add(ActivityBatch({7: 2, 8: 1}, {7: 1}, {7: early, 8: early}, [fault]))
    sites = {s.site_id: s for s in store.facade_activity.sites({9: None})}
    assert (sites[7].calls, sites[7].faults, sites[7].last_call_at) == (5, 1, late)
    assert (sites[8].calls, sites[9].calls, sites[9].last_call_at) == (1, 0, None)
    assert store.facade_activity.faults() == [fault]
    store.cursors.open("site:8", None, "shared")
    assert {s.site_id: s.open_cursors for s in store.facade_activity.sites()} == {7: 0, 8: 1}


def test_only_the_newest_faults_are_kept(store):
    now = datetime.now(UTC)
    faults = [FacadeFault(None, "op", f"fault {i}", now) for i in range(KEEP_FAULTS + 5)]
    store.facade_activity.add(ActivityBatch({}, {}, {}, faults))
    kept = store.facade_activity.faults(limit=1000)
    assert len(kept) == KEEP_FAULTS and kept[0].message == f"fault {KEEP_FAULTS + 4}"


def _soap_app(status: str, body: bytes):
    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response(status, [("Content-Type", "text/xml")])
        return [body]

    return app


def _call(app, request: bytes) -> bytes:
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(request)),
        "wsgi.input": io.BytesIO(request),
    }
    return b"".join(app(environ, lambda *a: None))


def test_the_facade_hook_tallies_sites_and_keeps_fault_text_without_changing_answers(store):
    recorder = ActivityRecorder(store, flush_seconds=3600)
    request = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b"<ContactList_Retrieve xmlns=\"urn:x\"><username>u</username><password>p</password>"
        b"<siteId>20202</siteId></ContactList_Retrieve></soap:Body></soap:Envelope>"
    )
    fault = b"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>ERROR: Site &amp; login</faultstring></soap:Fault>"
    ok = record_activity(_soap_app("200 OK", b"<answer/>"), recorder)
    bad = record_activity(_soap_app("500 Internal Server Error", fault), recorder)
    assert _call(ok, request) == b"<answer/>"
    assert _call(bad, request) == fault
    recorder.close()
    [site] = store.facade_activity.sites()
    assert (site.site_id, site.calls, site.faults) == (20202, 2, 1)
    [kept] = store.facade_activity.faults()
    assert (kept.site_id, kept.operation, kept.message) == (20202, "ContactList_Retrieve", "ERROR: Site & login")
