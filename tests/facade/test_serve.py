"""``soapbridge serve``: the facade under gunicorn with several workers, state in the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from lxml import etree
from serving import free_port, kill_and_read, serve_tables, toml_lines, wait_until_serving

from bridge.emulators import bigin as bigin_emulator
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH
from bridge.server import Mounts
from bridge.wsdl import NAMESPACE

T = f"{{{NAMESPACE}}}"


def write_config(folder: Path, table: dict, port: int) -> Path:
    text = (
        serve_tables(f"sqlite:///{folder}/bridge.db", port)
        + f"""[connections.crm]
{toml_lines(table)}

[[sites]]
site_id = 77
connection = "crm"
username = "shop"
password = "${{SHOP_PASSWORD}}"
timezone = "Europe/Berlin"
"""
    )
    path = folder / "bridge.toml"
    path.write_text(text)
    return path


def _start_serve(config: Path, port: int) -> tuple[str, subprocess.Popen[bytes]]:
    env = {**os.environ, "SHOP_PASSWORD": "s3cret"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}{ENDPOINT_PATH}"
    wait_until_serving(process, url + "?WSDL", lambda: kill_and_read(process))
    return url, process


def _stop_serve(process: subprocess.Popen[bytes]) -> None:
    # SIGINT is gunicorn's quick shutdown (SIGTERM waits for keep-alive connections).
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def served_hosts(tmp_path):
    """``start()`` -> (url, process): `soapbridge serve`s sharing one SQLite store and CRM."""
    crm = bigin_emulator.build_app(450)
    crm_server = EmulatorServer(crm).start()
    table = bigin_emulator.connection_table(crm, crm_server.url)
    started = []

    def start():
        port = free_port()
        # Each host its own config file (its port); the store and the CRM are the same.
        folder = tmp_path / f"host{len(started)}"
        folder.mkdir()
        config = write_config(folder, table, port)
        config.write_text(config.read_text().replace(str(folder), str(tmp_path)))
        started.append(_start_serve(config, port))
        return started[-1]

    yield start
    for _, process in started:
        _stop_serve(process)
    crm_server.stop()


@pytest.fixture
def served(served_hosts):
    return served_hosts()


def _retrieve(url: str, start: int, password: str = "s3cret") -> requests.Response:
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<ContactList_Retrieve xmlns="{NAMESPACE}"><username>shop</username>'
        f"<password>{password}</password><siteId>77</siteId>"
        "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate>"
        f"<recordStart>{start}</recordStart><moreRecords>true</moreRecords>"
        "</ContactList_Retrieve></soap:Body></soap:Envelope>"
    )
    return requests.post(url, data=body, timeout=60,
                         headers={"Content-Type": "text/xml; charset=utf-8"})


def _walk(url: str) -> list[tuple[int, str]]:
    seen, start = [], 0
    while True:
        response = _retrieve(url, start)
        assert response.status_code == 200, response.content[:300]
        wrapper = etree.fromstring(response.content)[0][0]
        seen.extend(
            (int(r.findtext(T + "entityId")), r.findtext(T + "emailAddress"))
            for r in wrapper.find(T + "ContactList_RetrieveResult")
        )
        start = int(wrapper.findtext(T + "recordStart"))
        if wrapper.findtext(T + "moreRecords") != "true":
            return seen


def test_serve_pages_across_workers_with_stable_entity_ids(served):
    url, process = served
    first = _walk(url)
    assert len(first) == 450 and len(set(first)) == 450
    # A second walk lands on whichever worker: the same entityIds for the same contacts.
    assert sorted(_walk(url)) == sorted(first)
    refused = _retrieve(url, 0, password="wrong")
    assert refused.status_code == 500 and b"Invalid Username/Password" in refused.content
    assert requests.get(url.rsplit("/", 2)[0] + "/nothing-here", timeout=5).status_code == 404
    # Hostile bodies under the real server: SOAP faults, and the workers keep serving.
    for hostile in (
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b"<a>" * 10_000 + b"</a>" * 10_000,
        b"\x00not xml",
    ):
        answer = requests.post(url, data=hostile, timeout=30,
                               headers={"Content-Type": "text/xml; charset=utf-8"})
        assert answer.status_code == 500 and b"<soap:Fault>" in answer.content
    assert _retrieve(url, 0).status_code == 200
    assert process.poll() is None


def test_mounts_dispatch_by_longest_prefix_any_case():
    def app(name):
        def wsgi(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [name.encode() + b" " + environ["PATH_INFO"].encode()]

        return wsgi

    mounts = Mounts().mount("/v1", app("api")).mount("/v1/jobs", app("jobs"))
    mounts.mount(ENDPOINT_PATH, app("facade"))

    def call(path):
        out = {}
        body = mounts({"PATH_INFO": path}, lambda status, headers: out.setdefault("s", status))
        return out["s"], b"".join(body)

    assert call("/v1/integrations") == ("200 OK", b"api /v1/integrations")
    assert call("/v1/jobs/7") == ("200 OK", b"jobs /v1/jobs/7")
    assert call(ENDPOINT_PATH.lower())[1].startswith(b"facade ")
    assert call("/v10")[0] == "404 Not Found"


def _walk_alternating(urls: list[str]) -> list[str]:
    """Every page from the next host in turn (as a round-robin balancer would send it)."""
    emails, start, turn = [], 0, 0
    while True:
        response = _retrieve(urls[turn % len(urls)], start)
        assert response.status_code == 200, response.content[:300]
        wrapper = etree.fromstring(response.content)[0][0]
        emails += [r.findtext(T + "emailAddress")
                   for r in wrapper.find(T + "ContactList_RetrieveResult")]
        start, turn = int(wrapper.findtext(T + "recordStart")), turn + 1
        if wrapper.findtext(T + "moreRecords") != "true":
            return emails


def test_a_write_is_read_back_at_once_through_another_serve_on_the_same_sqlite_store(
    served_hosts,
):
    """Two `soapbridge serve`s (two workers each) on one SQLite store, both caching pages:
    a write through one is in the very next read through the other."""
    urls = [served_hosts()[0], served_hosts()[0]]
    for order in (urls, urls[::-1], urls[:1], urls[1:]):  # every host reads and caches the feed
        assert len(_walk_alternating(order)) == 450
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<ContactList_UpdateInsert xmlns="{NAMESPACE}"><username>shop</username>'
        "<password>s3cret</password><siteId>77</siteId><contactsList><ContactRecord>"
        "<emailAddress>read-back@example.com</emailAddress><lastName>Mine</lastName>"
        "</ContactRecord></contactsList></ContactList_UpdateInsert></soap:Body></soap:Envelope>"
    )
    written = requests.post(urls[0], data=body, timeout=60,
                            headers={"Content-Type": "text/xml; charset=utf-8"})
    assert written.status_code == 200, written.content[:300]
    for order in (urls[1:], urls[::-1], urls, urls[1:]):
        emails = _walk_alternating(order)
        assert "read-back@example.com" in emails and len(emails) == 451
