"""The shared session: retries with Retry-After for idempotent calls only, redacted logs."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bridge.emulators.kit.server import EmulatorServer
from bridge.http import RetryPolicy, build_session, redact, redact_headers


class Flaky:
    """Answers 503 (Retry-After: 1) ``failures`` times, then 200; records arrival times."""

    def __init__(self, failures: int, status: str = "503 Service Unavailable") -> None:
        self.failures = failures
        self.status = status
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.arrivals.append(time.monotonic())
            failing = len(self.arrivals) <= self.failures
        if failing:
            start_response(self.status, [("Retry-After", "1"), ("Content-Type", "text/plain")])
            return [b"busy"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def serve():
    servers = []

    def start(app):
        server = EmulatorServer(app).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def test_get_is_retried_honouring_retry_after(serve):
    app = Flaky(failures=2)
    url = serve(app)
    session = build_session("test", retry=RetryPolicy(attempts=4, backoff=0.01))
    response = session.get(url)
    assert response.status_code == 200
    assert len(app.arrivals) == 3
    gaps = [b - a for a, b in zip(app.arrivals, app.arrivals[1:], strict=False)]
    assert all(gap >= 0.95 for gap in gaps), gaps


def test_post_is_not_retried_unless_declared_idempotent(serve):
    app = Flaky(failures=1)
    url = serve(app)
    fast = RetryPolicy(attempts=3, backoff=0.01)
    assert build_session("test", retry=fast).post(url, data=b"x").status_code == 503
    assert len(app.arrivals) == 1
    assert (
        build_session("test", retry=fast, retry_post=True).post(url, data=b"x").status_code == 200
    )
    assert len(app.arrivals) == 2


def test_retries_are_bounded(serve):
    app = Flaky(failures=100, status="502 Bad Gateway")
    url = serve(app)
    response = build_session("test", retry=RetryPolicy(attempts=3, backoff=0.01)).get(url)
    assert response.status_code == 502
    assert len(app.arrivals) == 3


def test_one_info_line_per_call_and_debug_bodies_redacted(serve, caplog):
    url = serve(Flaky(failures=0))
    session = build_session("crm")
    with caplog.at_level(logging.DEBUG, logger="bridge.http"):
        session.post(
            url, data=b"<password>hunter2</password>", headers={"Authorization": "Bearer abc.def"}
        )
    info = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(info) == 1 and info[0].getMessage().startswith("crm POST / -> 200 in")
    text = caplog.text
    assert "hunter2" not in text and "abc.def" not in text
    assert "<password>***</password>" in text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<a:password>x</a:password>", "<a:password>***</a:password>"),
        ('{"client_secret": "s", "name": "n"}', '{"client_secret": "***", "name": "n"}'),
        (
            "grant_type=refresh_token&refresh_token=r1&client_id=c",
            "grant_type=refresh_token&refresh_token=***&client_id=c",
        ),
        ('{"access_token":"t","expires_in":3600}', '{"access_token":"***","expires_in":3600}'),
    ],
)
def test_redact(raw, clean):
    assert redact(raw) == clean


def test_redact_headers():
    clean = redact_headers(
        {"Authorization": "Zoho-oauthtoken 1000.x", "tenant-code": "t", "X-Api-Key": "k"}
    )
    assert clean == {"Authorization": "Zoho-oauthtoken ***", "tenant-code": "t", "X-Api-Key": "***"}


def test_a_long_retry_after_is_handed_back_not_slept(serve):
    class Quota:
        calls = 0

        def __call__(self, environ, start_response):
            Quota.calls += 1
            start_response("429 Too Many Requests", [("Retry-After", "3600")])
            return [b"daily limit"]

    url = serve(Quota())
    started = time.monotonic()
    response = build_session("test", retry=RetryPolicy(attempts=4, max_retry_after=5)).get(url)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3600"
    assert time.monotonic() - started < 2 and Quota.calls == 1


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with what it was asked: the request line's target and the
    Authorization header (a forward proxy is asked for an absolute URL)."""

    def do_GET(self) -> None:
        body = json.dumps(
            {"target": self.path, "authorization": self.headers.get("Authorization")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_proxies_from_the_environment_are_used_and_read_once_per_host(recorder, clean_environment):
    clean_environment.setenv("HTTP_PROXY", recorder)
    session = build_session("test")
    # Through the proxy: it is asked for the absolute URL of a host it alone can reach.
    assert session.get("http://crm.invalid/contacts").json()["target"] == (
        "http://crm.invalid/contacts"
    )
    # Read once: the variable gone, this session keeps what it read for that host...
    clean_environment.delenv("HTTP_PROXY")
    assert session.get("http://crm.invalid/again").json()["target"] == "http://crm.invalid/again"
    # ...while a new session reads the environment as it is now (and cannot reach the host).
    with pytest.raises(requests.ConnectionError):
        build_session("test", retry=RetryPolicy(attempts=1)).get("http://crm.invalid/x")


def test_no_proxy_and_netrc_from_the_environment_are_honoured(
    recorder, clean_environment, tmp_path
):
    clean_environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would refuse: never used
    clean_environment.setenv("NO_PROXY", "127.0.0.1")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login robot password s3cret\n")
    netrc.chmod(0o600)
    clean_environment.setenv("NETRC", str(netrc))
    answer = build_session("test").get(f"{recorder}/direct").json()
    assert answer["target"] == "/direct"  # asked directly, not as a proxy
    assert answer["authorization"] == "Basic " + base64.b64encode(b"robot:s3cret").decode()
    # An explicit auth still wins over the netrc's.
    explicit = build_session("test").get(f"{recorder}/x", auth=("other", "pw")).json()
    assert explicit["authorization"] == "Basic " + base64.b64encode(b"other:pw").decode()
