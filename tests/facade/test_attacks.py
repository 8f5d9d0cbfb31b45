"""The attack list against a real ``soapbridge serve``: every endpoint answers cleanly, lives.

One server (gunicorn, two gthread workers, SQLite store, the legacy emulator behind the
facade) takes every attack kind on every endpoint in ``ENDPOINTS``; a clean error is the
endpoint's own format (a SOAP fault, or the JSON error envelope) with a 4xx status (the
legacy contract answers faults with 500), and after each attack the endpoint still serves
a normal call. Bodies of many megabytes are generated while they are sent, never held.
The server's log is read at the end: no ERROR, no traceback. Worker memory is measured
(RSS from /proc) before the first attack and after the last.

The console (``/ui``) is in ``ENDPOINTS`` twice: its sign-in form (carrying the sign-in
cookie, so the form is parsed) and a signed-in form (run now, carrying a session cookie).
Its clean error is its own HTML page with a 4xx status, and its sign-in page still loads.
Adding an endpoint is one line in ``ENDPOINTS``.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree
from serving import free_port, serve_tables, toml_lines, wait_until_serving

from bridge.cli import cli
from bridge.emulators import legacy as legacy_emulator
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH
from bridge.soap.contract.wire import SOAP11_ENV, SOAP12_ENV
from bridge.wsdl import NAMESPACE

from .test_hardening import LAUGHS, QUADRATIC, XXE

MB = 1024 * 1024
SITE = "<username>shop</username><password>s3cret</password><siteId>77</siteId>"


def envelope(inner: str, env: str = SOAP11_ENV) -> str:
    return f'<soap:Envelope xmlns:soap="{env}"><soap:Body>{inner}</soap:Body></soap:Envelope>'


def retrieve(extra: str = "<recordStart>0</recordStart>", env: str = SOAP11_ENV) -> str:
    return envelope(
        f'<ContactList_Retrieve xmlns="{NAMESPACE}">{SITE}'
        f"<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate>{extra}</ContactList_Retrieve>",
        env,
    )


# -- the server -----------------------------------------------------------------------


@dataclass
class Served:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    token: str
    rss_before: dict[int, int] = field(default_factory=dict)
    #: The console's cookies: ``signin`` (the sign-in form's CSRF cookie) and ``session``.
    cookies: dict[str, str] = field(default_factory=dict)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def worker_rss(process: subprocess.Popen[bytes]) -> dict[int, int]:
    """pid -> resident bytes of each gunicorn worker (children of the serve process)."""
    rss = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0")) == process.pid and "VmRSS" in fields:
            rss[int(entry.name)] = int(fields["VmRSS"].split()[0]) * 1024
    return rss


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("attacks")
    crm = legacy_emulator.build_app(20)
    crm_server = EmulatorServer(crm).start()
    table = legacy_emulator.connection_table(crm, crm_server.url)
    port = free_port()
    config = folder / "bridge.toml"
    config.write_text(
        # A body that stops is cut after 2 s, or 5 s if a slow slot was free (60 s by
        # default: shorter here only to keep the test quick).
        serve_tables(
            f"sqlite:///{folder}/bridge.db", port, body_grace_seconds=2, body_timeout_seconds=5
        )
        + f"[connections.crm]\n{toml_lines(table)}\n\n"
        '[[sites]]\nsite_id = 77\nconnection = "crm"\nusername = "shop"\n'
        'password = "s3cret"\ntimezone = "UTC"\n'
    )
    made = CliRunner().invoke(cli, ["tokens", "create", "ops", "--config", str(config), "--json"])
    assert made.exit_code == 0, made.output
    log = folder / "serve.log"
    process = subprocess.Popen(
        # -v: INFO lines too, so the test sees what a hang-up logs (and that it is INFO).
        [sys.executable, "-m", "bridge", "-v", "serve", "--config", str(config)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def failed() -> str:
        os.killpg(process.pid, signal.SIGKILL)
        crm_server.stop()
        return log.read_text()

    wait_until_serving(process, f"{base}/readyz", failed)
    result = Served(base, port, process, log, json.loads(made.output)["token"])
    result.cookies = console_cookies(base, result.token)
    for endpoint in ENDPOINTS:  # warm both workers on every endpoint before measuring
        for _ in range(4):
            assert endpoint.healthy(result)
    result.rss_before = worker_rss(process)
    yield result
    os.killpg(process.pid, signal.SIGINT)  # gunicorn's quick shutdown
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    crm_server.stop()


def console_cookies(base: str, token: str) -> dict[str, str]:
    """Sign in to the console as a browser does: the sign-in cookie, then a session."""
    browser = requests.Session()
    form = browser.get(f"{base}/ui/signin", timeout=30)
    assert form.status_code == 200, form.text[:300]
    signin = browser.cookies["soapbridge_signin"]
    signed = browser.post(f"{base}/ui/signin", timeout=30, allow_redirects=False,
                          data={"csrf": signin, "token": token, "next": "/ui/integrations"})
    assert signed.status_code == 303, signed.text[:300]
    return {"signin": f"soapbridge_signin={signin}",
            "session": f"soapbridge_console={signed.cookies['soapbridge_console']}"}


# -- endpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    soap: bool  # answers SOAP faults; otherwise the JSON error envelope
    content_type: str
    auth: bool = False
    ok_body: bytes = b""
    #: The console's pages: the cookie the request carries (``Served.cookies``).
    console: str = ""

    def headers(self, served: Served) -> dict[str, str]:
        headers = {"Content-Type": self.content_type}
        if self.soap:
            headers["SOAPAction"] = f'"{NAMESPACE}/ContactList_Retrieve"'
        if self.auth:
            headers["Authorization"] = f"Bearer {served.token}"
        if self.console:
            headers["Cookie"] = served.cookies[self.console]
        return headers

    def healthy(self, served: Served) -> bool:
        """A normal call answers normally."""
        if self.console:
            # A new visitor gets the sign-in form; the signed-in operator the integrations.
            form = requests.get(served.base + "/ui/signin", timeout=30)
            page = requests.get(served.base + "/ui/integrations", timeout=30,
                                allow_redirects=False,
                                headers={"Cookie": served.cookies["session"]})
            return (form.status_code == 200 and b'name="token"' in form.content
                    and page.status_code == 200 and b"Sign out" in page.content)
        if self.soap:
            answer = requests.post(served.base + self.path, data=self.ok_body, timeout=30,
                                   headers=self.headers(served))
            return answer.status_code == 200 and b"<ContactRecord>" in answer.content
        if self.auth:
            answer = requests.get(served.base + self.path, timeout=30, headers=self.headers(served))
            return answer.status_code == 200 and isinstance(answer.json(), list)
        # Webhooks: a well-formed notification of an unknown channel is refused, as JSON.
        answer = requests.post(served.base + self.path, timeout=30, headers=self.headers(served),
                               json={"channel_id": "1", "token": "t", "ids": ["1"]})
        return answer.status_code == 401 and answer.json()["errors"][0]["code"] == "invalid_token"


ENDPOINTS = [
    Endpoint("facade", ENDPOINT_PATH, True, "text/xml; charset=utf-8",
             ok_body=retrieve().encode()),
    Endpoint("v1", "/v1/integrations", False, "application/json", auth=True),
    Endpoint("webhooks", "/webhooks/bigin", False, "application/json"),
    Endpoint("ui-signin", "/ui/signin", False, "application/x-www-form-urlencoded",
             console="signin"),
    Endpoint("ui-run-now", "/ui/integrations/none/run", False,
             "application/x-www-form-urlencoded", console="session"),
]


def assert_clean(endpoint: Endpoint, status: int, headers: dict[str, str], body: bytes,
                 kind: str) -> None:
    where = f"{endpoint.name}/{kind}: {status} {body[:200]!r}"
    assert b"Traceback" not in body, where
    assert (b"<html" in body.lower()) == bool(endpoint.console), where
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    if endpoint.console:
        # The console's own page (its title), or its way to send a stranger to sign in.
        if status == 303:
            assert lowered["location"].startswith("/ui/signin"), where
        else:
            assert 400 <= status < 500, where
            assert b"SoapBridge console</title>" in body, where
            assert b'class="note ok"' not in body, where  # a refusal never reads as done
        assert content_type.startswith("text/html"), where
    elif endpoint.soap:
        assert status in (400, 408, 413, 500), where
        assert content_type.startswith(("text/xml", "application/soap+xml")), where
        root = etree.fromstring(body)
        assert root.find(f"{{{SOAP11_ENV}}}Body/{{{SOAP11_ENV}}}Fault") is not None or (
            root.find(f"{{{SOAP12_ENV}}}Body/{{{SOAP12_ENV}}}Fault") is not None
        ), where
    else:
        assert 400 <= status < 500, where
        assert content_type.startswith("application/json"), where
        assert json.loads(body)["errors"][0]["code"], where
    # Nothing from an entity came back.
    assert b"root:" not in body and b"lollol" not in body, where


# -- raw HTTP, for bodies that are large, lie about their length, or trickle ----------


def raw_request(port: int, path: str, headers: dict[str, str], chunks: Iterator[bytes],
                *, declared: int | None) -> tuple[int, dict[str, str], bytes]:
    """Send a request on a socket (body streamed), read the answer until it is complete."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {declared}" if declared is not None
                else "Transfer-Encoding: chunked")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            for chunk in chunks:
                if declared is None:
                    chunk = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                sock.sendall(chunk)
            if declared is None:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking it all: read the answer
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            raise AssertionError(f"connection closed without an answer: {data[:200]!r}")
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int({k.lower(): v for k, v in headers.items()}.get("content-length", -1))
    while length < 0 or len(body) < length:
        try:
            part = sock.recv(65536)
        except ConnectionResetError:
            break
        if not part:
            break
        body += part
    return int(lines[0].split()[1]), headers, body


def repeated(total: int, unit: bytes = b"A" * 65536) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = unit[: total - sent]
        sent += len(piece)
        yield piece


# -- the attack kinds -----------------------------------------------------------------

# The entity attacks of the in-process corpus (test_hardening), plus the network and
# parameter-entity variants of XXE.
XXE_HTTP = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
    + retrieve("<recordStart>&x;</recordStart>")
)
XXE_PARAMETER = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd">'
    '<!ENTITY % wrap "<!ENTITY x \'%p;\'>">%wrap;]>' + retrieve("<recordStart>&x;</recordStart>")
)


def _gzip_bomb() -> bytes:
    # 100 MB of zeros in about 100 KB: nothing may inflate it.
    return gzip.compress(b"\0" * (100 * MB), compresslevel=9)


#: kind -> (extra headers, body chunks, declared length or None for chunked)
BodyAttack = Callable[[], tuple[dict[str, str], Iterator[bytes], int | None]]


def fixed(body: bytes, headers: dict[str, str] | None = None) -> BodyAttack:
    return lambda: (headers or {}, iter([body]), len(body))


def streamed(prefix: bytes, middle: int, suffix: bytes, declared: int | None = -1) -> BodyAttack:
    total = len(prefix) + middle + len(suffix)

    def chunks() -> Iterator[bytes]:
        yield prefix
        yield from repeated(middle)
        yield suffix

    return lambda: ({}, chunks(), total if declared == -1 else declared)


def million_elements() -> Iterator[bytes]:
    open_tag = f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body><Many>'.encode()
    yield open_tag
    yield from (b"<a/>" * 100_000 for _ in range(10))
    yield b"</Many></soap:Body></soap:Envelope>"


BODY_ATTACKS: dict[str, BodyAttack] = {
    "xxe-file": fixed(XXE.encode()),
    "xxe-http": fixed(XXE_HTTP.encode()),
    "xxe-parameter-entities": fixed(XXE_PARAMETER.encode()),
    "billion-laughs": fixed(LAUGHS.encode()),
    "quadratic-blowup": fixed(QUADRATIC.encode()),
    "any-doctype": fixed(("<!DOCTYPE soap:Envelope>" + retrieve()).encode()),
    "20-mb-body": streamed(b"<x>", 20 * MB, b"</x>"),
    "50-mb-body": streamed(b"<x>", 50 * MB, b"</x>"),
    "50-mb-chunked": streamed(b"<x>", 50 * MB, b"</x>", declared=None),
    "content-length-says-less": streamed(retrieve().encode(), 20 * MB, b"", declared=100),
    "depth-10000": fixed(envelope("<a>" * 10_000 + "</a>" * 10_000).encode()),
    "1000000-elements": lambda: ({}, million_elements(), None),
    "10-mb-text-node": streamed(
        retrieve("").split("<lastUpdateDate>")[0].encode() + b"<lastUpdateDate>",
        10 * MB,
        b"</lastUpdateDate></ContactList_Retrieve></soap:Body></soap:Envelope>",
    ),
    "100k-attributes": fixed(
        envelope(f'<ContactList_Retrieve xmlns="{NAMESPACE}" '
                 + " ".join(f'a{i}="x"' for i in range(100_000)) + f">{SITE}"
                 "</ContactList_Retrieve>").encode()
    ),
    "invalid-utf8": fixed(retrieve("<recordStart>\udcff</recordStart>").encode(
        "utf-8", "surrogateescape")),
    # Well-formed XML in another encoding: the facade may answer it (an answer is clean).
    "utf16-with-bom": fixed(retrieve().encode("utf-16")),
    "utf16-without-bom": fixed(retrieve().encode("utf-16-le")),
    "not-xml": fixed(b"\x00\xff this is not XML \xfe"),
    "empty-body": fixed(b""),
    "gzip-bomb": lambda: ({"Content-Encoding": "gzip"}, iter([_gzip_bomb()]), None),
    "deep-json": fixed(b"[" * 100_000 + b"]" * 100_000),
    # Forms (the console's): many fields, deep field names, bad bytes, many parts.
    "100k-form-fields": fixed(b"&".join(b"f%d=x" % i for i in range(100_000))),
    "deep-form-field-names": fixed(b"csrf" + b"[a]" * 100_000 + b"=x&token=y"),
    "10-mb-form-value": streamed(b"csrf=x&token=", 10 * MB, b""),
    "form-invalid-utf8": fixed(b"csrf=\xff\xfe&token=\xc3\x28&next=%ff%fe"),
    "form-utf16": fixed("csrf=x&token=y".encode("utf-16"),
                        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-16"}),
    "100k-multipart-parts": fixed(
        b"".join(b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
                 for _ in range(100_000)) + b"--b--\r\n",
        {"Content-Type": "multipart/form-data; boundary=b"}),
    "multipart-without-boundary": fixed(b"--b\r\n\r\n",
                                        {"Content-Type": "multipart/form-data"}),
    "5000-multipart-parts": fixed(
        b"".join(b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
                 for _ in range(5000)) + b"--b--\r\n",
        {"Content-Type": "multipart/form-data; boundary=b"}),
}

#: What the console answers these attacks; any other gets the 403 of a form without its
#: CSRF token (the attack's body was parsed, and nothing in it passed for a form field).
CONSOLE_REFUSALS = {
    **{kind: 413 for kind in (  # 1 MB at most, however the body comes
        "20-mb-body", "50-mb-body", "50-mb-chunked", "1000000-elements", "10-mb-text-node",
        "100k-attributes", "10-mb-form-value", "100k-multipart-parts", "5000-multipart-parts",
    )},
    "gzip-bomb": 415,  # nothing compressed is inflated
}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_body_attack_gets_a_clean_error_and_the_endpoint_keeps_serving(served, endpoint):
    for kind, attack in BODY_ATTACKS.items():
        extra, chunks, declared = attack()
        headers = {**endpoint.headers(served), **extra}
        status, answer_headers, body = raw_request(served.port, endpoint.path, headers, chunks,
                                                   declared=declared)
        if endpoint.soap and kind.startswith("utf16") and status == 200:
            assert b"<ContactRecord>" in body, (kind, body[:300])
            continue
        assert_clean(endpoint, status, answer_headers, body, kind)
        if kind == "50-mb-chunked":  # once cut silently at 1 MB by werkzeug (a 400 or 403)
            assert status == 413, (endpoint.name, kind, status)
        if endpoint.console:
            assert status == CONSOLE_REFUSALS.get(kind, 403), (endpoint.name, kind, status)
        assert endpoint.healthy(served), f"{endpoint.name} stopped serving after {kind}"


def test_a_body_that_stops_short_of_its_length_is_cut_off_in_time(served):
    for endpoint in ENDPOINTS:
        started = time.monotonic()
        status, headers, body = raw_request(
            served.port, endpoint.path, endpoint.headers(served), iter([b"<a>"]), declared=MB
        )
        assert status == 408, (endpoint.name, body[:200])
        if endpoint.console:
            assert b"The request body was not received in time." in body
        assert_clean(endpoint, status, headers, body, "length-says-more")
        # Grace (2 s), then a free slow slot lets it run to the timeout (5 s), no longer.
        assert time.monotonic() - started < 15
        assert endpoint.healthy(served)


# -- the legacy contract's own abuse --------------------------------------------------


def soap(served: Served, body: str, *, version: int = 11, action: str | None = None,
         content_type: str | None = None) -> requests.Response:
    headers = {"Content-Type": content_type or (
        "text/xml; charset=utf-8" if version == 11 else "application/soap+xml; charset=utf-8")}
    if action is not None:
        headers["SOAPAction"] = f'"{NAMESPACE}/{action}"'
    return requests.post(served.base + ENDPOINT_PATH, data=body.encode(), headers=headers,
                         timeout=120)


def contact(email: str, first: str = "A", last: str = "B") -> str:
    return (f"<ContactRecord><emailAddress>{email}</emailAddress>"
            f"<firstName>{first}</firstName><lastName>{last}</lastName></ContactRecord>")


def upsert(records: str) -> str:
    return envelope(f'<ContactList_UpdateInsert xmlns="{NAMESPACE}">{SITE}'
                    f"<contactsList>{records}</contactsList></ContactList_UpdateInsert>")


def fault_text(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    text = root.findtext(".//faultstring") or root.findtext(f".//{{{SOAP12_ENV}}}Text") or ""
    return text


def test_contract_abuse_gets_legacy_faults(served):
    facade = ENDPOINTS[0]
    cases = {
        "soap12-envelope-on-a-soap11-request": soap(served, retrieve(env=SOAP12_ENV)),
        "soap11-envelope-on-a-soap12-request": soap(served, retrieve(), version=12),
        "wrong-soapaction": soap(served, retrieve(), action="Contact_DeleteByEntityID"),
        "unknown-operation": soap(served, envelope(f'<Order_List xmlns="{NAMESPACE}"/>')),
        "text-in-an-int": soap(served, retrieve("<recordStart>ten</recordStart>")),
        "huge-recordStart": soap(served, retrieve("<recordStart>" + "9" * 40 + "</recordStart>")),
        "10001-contacts-in-one-upsert": soap(
            served, upsert("".join(contact(f"bulk{i}@example.com") for i in range(10_001)))
        ),
    }
    for kind, response in cases.items():
        assert response.status_code == 500, (kind, response.content[:300])
        assert_clean(facade, response.status_code, dict(response.headers), response.content, kind)
    assert "SOAP version does not match" in fault_text(cases["soap12-envelope-on-a-soap11-request"])
    assert "did not recognize the value of HTTP Header SOAPAction" in fault_text(
        cases["wrong-soapaction"])
    assert "10000" in fault_text(cases["10001-contacts-in-one-upsert"])
    # Nothing of the refused upsert was written.
    assert b"bulk0@example.com" not in soap(served, retrieve()).content
    # A negative recordStart reads from the start, as the legacy service did.
    negative = soap(served, retrieve("<recordStart>-5</recordStart>"))
    assert negative.status_code == 200 and b"<ContactRecord>" in negative.content
    assert facade.healthy(served)


def test_names_with_control_characters_emoji_and_html_round_trip(served):
    # XML 1.0 allows tab, newline and carriage return as control characters; others are
    # not XML at all and get a fault (the consumer's stack cannot send them either).
    first = "Zoë 🚀\t&lt;b&gt;bold&lt;/b&gt;"
    last = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; O'Neil"
    saved = soap(served, upsert(contact("odd@example.com", first, last)))
    assert saved.status_code == 200, saved.content[:300]
    found = soap(served, envelope(
        f'<Contact_RetrieveByEmailAddress xmlns="{NAMESPACE}">{SITE}'
        "<emailAddress>odd@example.com</emailAddress></Contact_RetrieveByEmailAddress>"))
    record = etree.fromstring(found.content).find(f".//{{{NAMESPACE}}}firstName").getparent()
    assert record.findtext(f"{{{NAMESPACE}}}firstName") == "Zoë 🚀\t<b>bold</b>"
    assert record.findtext(f"{{{NAMESPACE}}}lastName") == "<script>alert(1)</script> & O'Neil"
    control = soap(served, upsert(contact("ctl@example.com", "bell\x07")))
    assert_clean(ENDPOINTS[0], control.status_code, dict(control.headers), control.content,
                 "control-character")
    assert ENDPOINTS[0].healthy(served)


# -- URLs and JSON --------------------------------------------------------------------


def test_long_urls_and_bad_query_values_get_json_errors(served):
    v1 = ENDPOINTS[1]
    headers = v1.headers(served)
    for path in (
        "/v1/integrations/" + "x" * 10_000,
        "/v1/jobs?_integrationId=" + "y" * 20_000,
        "/webhooks/bigin?" + "z" * 10_000,
    ):
        answer = requests.get(served.base + path, headers=headers, timeout=30)
        assert 400 <= answer.status_code < 500, (path[:40], answer.status_code)
        assert answer.headers["Content-Type"].startswith("application/json"), answer.text[:200]
        assert answer.json()["errors"][0]["code"]
    for query in ("skip=abc", "skip=-1", "skip=" + "9" * 40, "limit=0"):
        answer = requests.get(f"{served.base}/v1/integrations?{query}", headers=headers,
                              timeout=30)
        assert answer.status_code in (400, 422), (query, answer.text[:200])
        assert answer.json()["errors"][0]["code"] == "invalid_query_params"
    assert v1.healthy(served)


# -- slow bodies ----------------------------------------------------------------------


def trickle(port: int, path: str, headers: dict[str, str], stop: threading.Event,
            outcome: list[str], *, in_headers: bool = False) -> None:
    """One byte per 100 ms of a 1 MB body (or of endless headers), until the server cuts
    it off or ``stop``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            head = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {MB}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            if in_headers:
                sock.sendall(("\r\n".join(head) + "\r\nX-Slow: ").encode())
            else:
                sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            while not stop.is_set():
                sock.sendall(b"a" if in_headers else b"<")
                time.sleep(0.1)
            outcome.append("hung up")  # the client goes away mid-body
    except OSError:
        outcome.append("cut off")


def test_slow_uploads_do_not_starve_other_clients(served):
    facade = ENDPOINTS[0]
    stop = threading.Event()
    outcomes: list[str] = []
    uploads = [  # every endpoint; half trickle their body, half their headers
        threading.Thread(
            target=trickle,
            args=(served.port, ENDPOINTS[i % len(ENDPOINTS)].path,
                  ENDPOINTS[i % len(ENDPOINTS)].headers(served), stop, outcomes),
            kwargs={"in_headers": i % 2 == 1},
        )
        for i in range(24)
    ]
    for upload in uploads:
        upload.start()
    time.sleep(0.5)  # every upload holds a connection and is sending
    try:
        latencies = []
        until = time.monotonic() + 8
        while time.monotonic() < until:
            started = time.monotonic()
            assert facade.healthy(served)
            latencies.append(time.monotonic() - started)
    finally:
        stop.set()
        for upload in uploads:
            upload.join(timeout=30)
    # Before: one call in 10 s. Now every call is answered; the first may wait for the
    # grace (2 s) in which slow uploads still hold threads, the rest do not wait.
    assert len(latencies) >= 10, latencies
    assert max(latencies) < 5, latencies
    assert sorted(latencies)[len(latencies) // 2] < 1, latencies
    assert len(outcomes) == 24 and "cut off" in outcomes


def test_the_server_log_has_no_errors_and_hangups_are_info_lines(served):
    for endpoint in ENDPOINTS:  # a client that goes away after 10 of 1000 body bytes
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            head = [f"POST {endpoint.path} HTTP/1.1", "Host: x", "Content-Length: 1000"]
            head += [f"{k}: {v}" for k, v in endpoint.headers(served).items()]
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"<" * 10)
            time.sleep(0.2)
    time.sleep(1)  # the workers log the hang-ups
    text = served.log_text()
    hangups = [line for line in text.splitlines() if "after 10 of 1000 body bytes" in line]
    assert len(hangups) == len(ENDPOINTS), text[-3000:]
    assert all(" INFO bridge.request_guard: client closed the connection" in line
               for line in hangups), hangups
    assert any(" INFO " in line and "request body too slow" in line for line in text.splitlines())
    bad = [line for line in text.splitlines()
           if "Traceback" in line or "[ERROR]" in line or " ERROR " in line
           or "[CRITICAL]" in line]
    assert not bad, "\n".join(bad[:20]) + "\n---\n" + text[-3000:]


def test_worker_memory_stays_bounded(served):
    after = worker_rss(served.process)
    before = served.rss_before
    assert set(after) == set(before), "a worker was replaced (crashed or timed out)"
    growth = {pid: after[pid] - before[pid] for pid in before}
    print({pid: f"{before[pid] / MB:.0f} -> {after[pid] / MB:.0f} MB" for pid in before})
    assert all(value < 160 * MB for value in growth.values()), growth
    assert all(value < 400 * MB for value in after.values()), after


# -- field content on /v1 -------------------------------------------------------------

#: Text that must come back exactly as sent: emoji (astral, joined, flags), markup, JSON's
#: own delimiters and escapes, the two line separators JavaScript chokes on, tab, newline.
ODD_TEXT = ("Zoë 🚀 👩‍👩‍👧 🇳🇿 <script>alert('x')</script><img src=x onerror=alert(1)>"
            ' & "quoted" \\ \\u0041 }]} \u2028\u2029 tab\there\r\nline two')
#: Characters that are not text: refused with a 422 naming the field, never stored.
#: (NUL is what PostgreSQL refuses in text; a lone surrogate cannot be encoded at all.)
NOT_TEXT = ["\x00", "\x07", "\x1b[31m", "\x7f", "\x9b", "\ud800", "\udfff"]


def _v1(served: Served, method: str, path: str, body: object | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {served.token}"}
    if body is not None:  # JSON with every non-ASCII character escaped, lone surrogates too
        headers["Content-Type"] = "application/json"
        return requests.request(method, served.base + path, headers=headers, timeout=30,
                                data=json.dumps(body).encode())
    return requests.request(method, served.base + path, headers=headers, timeout=30)


def _field_cases(text: str, connection: str) -> list[tuple[str, str, str, object]]:
    """(field named in a refusal, method, path, body) for each text /v1 stores."""
    return [
        ("name", "POST", "/v1/connections",
         {"name": f"c-{text}", "type": "legacy", "settings": {"endpoint": "http://127.0.0.1:9/"}}),
        ("settings.username", "POST", "/v1/connections",
         {"name": "c-settings", "type": "legacy", "settings": {"username": text}}),
        ("settings.username", "PUT", f"/v1/connections/{connection}",
         {"settings": {"username": text}}),
        ("name", "POST", "/v1/integrations", {"name": f"i-{text}"}),
        ("readme", "POST", "/v1/integrations", {"name": "i-readme", "readme": text}),
        ("version", "POST", "/v1/integrations", {"name": "i-version", "version": f"1-{text[:24]}"}),
        ("settings.mapping.defaults.title", "POST", "/v1/integrations",
         {"name": "i-defaults", "settings": {"mapping": {"defaults": {"title": text}}}}),
        ("settings.mapping.custom_fields.cf", "POST", "/v1/integrations",
         {"name": "i-custom", "settings": {"mapping": {"custom_fields": {"cf": text}}}}),
    ]


def _stored(answer: dict[str, object], field: str) -> object:
    value: object = answer
    for part in field.split("."):
        assert isinstance(value, dict), (answer, field)
        value = value[part]
    return value


def test_v1_stores_emoji_and_html_exactly_and_refuses_control_characters(served):
    connection = _v1(served, "POST", "/v1/connections",
                     {"name": "c-target", "type": "legacy", "settings": {}})
    assert connection.status_code == 201, connection.text
    ident = connection.json()["_id"]
    for name, method, path, body in _field_cases(ODD_TEXT, ident):
        answer = _v1(served, method, path, body)
        assert answer.status_code in (200, 201), (name, path, answer.text[:300])
        sent = _stored(body, name)  # type: ignore[arg-type]
        assert _stored(answer.json(), name) == sent, (name, answer.text[:300])
        stored = f"/v1/{path.split('/')[2]}/{answer.json()['_id']}"
        again = _v1(served, "GET", stored)
        assert again.status_code == 200 and _stored(again.json(), name) == sent, name
        if method == "POST":
            assert _v1(served, "DELETE", stored).status_code == 204
    # Before: NUL and escapes were stored (and sent back to every reader), an unpaired
    # surrogate was a 500; now each is a 422 naming the field, and nothing is stored.
    for bad in NOT_TEXT:
        for name, method, path, body in _field_cases(f"a{bad}b", ident):
            answer = _v1(served, method, path, body)
            where = (repr(bad), name, path, answer.status_code, answer.text[:300])
            assert answer.status_code == 422, where
            assert answer.headers["Content-Type"].startswith("application/json"), where
            error = answer.json()["errors"][0]
            assert (error["code"], error["field"]) == ("invalid_text", name), where
    for bad in ("\x01", "\udc80"):  # in a key: named with U+FFFD in its place
        answer = _v1(served, "PUT", f"/v1/connections/{ident}", {"settings": {f"k{bad}": "v"}})
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["errors"][0]["field"] == "settings.k\ufffd", answer.text[:300]
    # Nothing refused was stored: only the connection made above is left, unchanged.
    kept = _v1(served, "GET", f"/v1/connections/{ident}").json()
    assert kept["settings"]["username"] == ODD_TEXT, kept
    names = [c["name"] for c in _v1(served, "GET", "/v1/connections").json()]
    assert "c-target" in names and not any(n.startswith("c-a") for n in names), names
    assert not [i for i in _v1(served, "GET", "/v1/integrations").json()
                if i["name"].startswith("i-")]
    assert _v1(served, "DELETE", f"/v1/connections/{ident}").status_code == 204
    assert ENDPOINTS[1].healthy(served)


def test_console_forms_store_emoji_and_html_exactly_and_refuse_control_characters(served):
    original = _v1(served, "POST", "/v1/integrations", {"name": "to-clone"}).json()["_id"]
    browser = requests.Session()
    browser.headers["Cookie"] = served.cookies["session"]
    page = browser.get(f"{served.base}/ui/integrations/{original}", timeout=30).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    refused = [
        browser.post(f"{served.base}/ui/integrations/{original}/clone", timeout=30,
                     allow_redirects=False, data={"csrf": csrf, "name": "a\x00b"}),
        browser.post(f"{served.base}/ui/integrations/{original}/settings", timeout=30,
                     data={"csrf": csrf, "direction": "both",
                           "mapping": json.dumps({"defaults": {"title": "a\x1bb"}})}),
    ]
    for answer in refused:
        assert answer.status_code == 422, answer.text[-500:]
        assert "is not text" in answer.text, answer.text[-500:]
    copied = browser.post(f"{served.base}/ui/integrations/{original}/clone", timeout=30,
                          allow_redirects=False, data={"csrf": csrf, "name": ODD_TEXT[:150]})
    assert copied.status_code == 303, copied.text[-500:]
    copy = copied.headers["Location"].rsplit("/", 1)[1]
    assert _v1(served, "GET", f"/v1/integrations/{copy}").json()["name"] == ODD_TEXT[:150]
    shown = browser.get(f"{served.base}/ui/integrations/{copy}", timeout=30).text
    assert "&lt;script&gt;alert(" in shown and "<script>alert(" not in shown
    names = [i["name"] for i in _v1(served, "GET", "/v1/integrations").json()]
    assert sorted(names) == sorted(["to-clone", ODD_TEXT[:150]]), names
    for ident in (original, copy):
        assert _v1(served, "DELETE", f"/v1/integrations/{ident}").status_code == 204
