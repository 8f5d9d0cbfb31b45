"""Facade workers keep no state of their own: two `soapbridge serve` processes, one store.

Two server processes stand for two hosts behind a load balancer (each with its own port
and its own gunicorn workers), sharing a PostgreSQL store. A consumer whose every next
page lands on the other host still gets every contact exactly once, with the same
entityIds whichever host answers; and a consumer reads its own write back at once,
whichever worker of whichever host answers the read, though every worker caches pages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree
from serving import free_port, serve_tables, toml_lines, wait_until_serving

from bridge.emulators import bigin as bigin_emulator
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH
from bridge.wsdl import NAMESPACE

T = f"{{{NAMESPACE}}}"
RECORDS = 1050


def _config(folder: Path, store_url: str, table: dict, port: int) -> Path:
    path = folder / f"host-{port}.toml"
    path.write_text(
        serve_tables(store_url, port)
        + f"[connections.crm]\n{toml_lines(table)}\n\n"
        '[[sites]]\nsite_id = 77\nconnection = "crm"\nusername = "shop"\n'
        'password = "s3cret"\ntimezone = "Europe/Berlin"\n'
    )
    return path


def _serve(config: Path, port: int) -> tuple[str, subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}{ENDPOINT_PATH}"

    def failed() -> str:
        os.killpg(process.pid, signal.SIGKILL)
        return process.stderr.read().decode(errors="replace") if process.stderr else ""

    wait_until_serving(process, url + "?WSDL", failed)
    return url, process


@pytest.fixture
def two_hosts(tmp_path, postgres) -> Iterator[list[str]]:
    crm = bigin_emulator.build_app(RECORDS)
    crm_server = EmulatorServer(crm).start()
    store_url = str(postgres.create_database("facade"))
    table = bigin_emulator.connection_table(crm, crm_server.url)
    processes = []
    urls = []
    try:
        for _ in range(2):
            port = free_port()
            url, process = _serve(_config(tmp_path, store_url, table, port), port)
            processes.append(process)
            urls.append(url)
        yield urls
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # gunicorn's quick shutdown
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        crm_server.stop()
        crm.close()


def _call(url: str, operation: str, inner: str) -> requests.Response:
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<{operation} xmlns="{NAMESPACE}"><username>shop</username>'
        f"<password>s3cret</password><siteId>77</siteId>{inner}"
        f"</{operation}></soap:Body></soap:Envelope>"
    )
    # A new connection per call, so gunicorn hands calls to either of a host's workers.
    response = requests.post(
        url, data=body, timeout=60, headers={"Content-Type": "text/xml; charset=utf-8"}
    )
    assert response.status_code == 200, response.content[:300]
    return response


def _records(url: str, start: int) -> tuple[list[etree._Element], int, bool]:
    response = _call(
        url,
        "ContactList_Retrieve",
        "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate>"
        f"<recordStart>{start}</recordStart><moreRecords>true</moreRecords>",
    )
    wrapper = etree.fromstring(response.content)[0][0]
    return (
        list(wrapper.find(T + "ContactList_RetrieveResult")),
        int(wrapper.findtext(T + "recordStart")),
        (wrapper.findtext(T + "moreRecords") == "true"),
    )


def _page(url: str, start: int) -> tuple[list[tuple[int, str]], int, bool]:
    found, start, more = _records(url, start)
    records = [(int(r.findtext(T + "entityId")), r.findtext(T + "emailAddress")) for r in found]
    return records, start, more


def _first_names(urls: list[str]) -> dict[str, str]:
    """email -> firstName over one whole walk, each page from the next host in turn."""
    names: dict[str, str] = {}
    start, more, turn = 0, True, 0
    while more:
        found, start, more = _records(urls[turn % len(urls)], start)
        names.update({r.findtext(T + "emailAddress"): r.findtext(T + "firstName") for r in found})
        turn += 1
    return names


def _walk(urls: list[str]) -> list[tuple[int, str]]:
    """Every page from the next host in turn, as a round-robin balancer would send it."""
    seen: list[tuple[int, str]] = []
    start, more, turn = 0, True, 0
    while more:
        records, start, more = _page(urls[turn % len(urls)], start)
        seen.extend(records)
        turn += 1
    assert turn > 10  # the walk really crossed hosts many times
    return seen


def test_paging_alternating_between_two_server_processes_returns_each_contact_once(two_hosts):
    seen = _walk(two_hosts)
    emails = [email for _, email in seen]
    assert len(emails) == len(set(emails)) == RECORDS
    ids = [entity_id for entity_id, _ in seen]
    assert len(set(ids)) == RECORDS
    # Starting on the other host: the same contacts under the same entityIds.
    assert sorted(_walk(list(reversed(two_hosts)))) == sorted(seen)


def _upsert(url: str, email: str, first_name: str) -> None:
    _call(
        url,
        "ContactList_UpdateInsert",
        f"<contactsList><ContactRecord><emailAddress>{email}</emailAddress>"
        f"<firstName>{first_name}</firstName><lastName>Writer</lastName>"
        "</ContactRecord></contactsList>",
    )


def test_a_write_through_one_worker_is_read_back_through_every_worker_and_host(two_hosts):
    host_a, host_b = two_hosts
    # Every worker of both hosts reads (and caches, for 10 s) every page of the feed.
    for _ in range(3):
        for order in ([host_a], [host_b], two_hosts):
            assert len(_first_names(order)) == RECORDS
    orders = ([host_b], [host_a], two_hosts, [host_b], [host_a], list(reversed(two_hosts)))
    # A new contact: the very next reads, on either host and on whichever worker takes
    # them (a new connection per call), include it; no cached page hides it.
    _upsert(host_a, "own-write@example.com", "Fresh")
    for order in orders:
        names = _first_names(order)
        assert names.get("own-write@example.com") == "Fresh"
        assert len(names) == RECORDS + 1
    # A change to an existing contact, written through the other host, shows the same way.
    existing = sorted(names)[5]
    _upsert(host_b, existing, "Renamed")
    for order in orders:
        assert _first_names(order)[existing] == "Renamed"
