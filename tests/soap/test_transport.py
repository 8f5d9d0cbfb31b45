"""The SOAP transport reads a whole body in one go, and a broken body fails as it did.

A loopback server answers each POST with prepared bytes: a body with a length, a chunked
body, a body cut short, a body that never finishes. The transport (the project's sessions,
as the legacy client builds them) must hand zeep the exact body, and a broken one must
surface as the same requests error, which the fault mapping turns into a transient error.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from bridge.errors import TransientError
from bridge.http import build_session
from bridge.soap.client import SOAP_RETRY, SplitTransport
from bridge.soap.faults import map_soap_errors

READ = "ContactList_Retrieve"
HEADERS = {"SOAPAction": f'"http://tempuri.org/x/{READ}"', "Content-Type": "text/xml"}
BODY = b"<x>" + b"".join(b"<r>%d \xc3\xa9</r>" % i for i in range(20_000)) + b"</x>"


def head(extra: str) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n{extra}\r\n".encode()


def chunked(body: bytes, size: int = 7_000) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


@pytest.fixture
def answering() -> Iterator[tuple[str, list[bytes]]]:
    """A server that answers each request with the next prepared bytes, then closes."""
    answers: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so the loop sees ``stop`` (a closed listener wakes no accept)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                header, _, body = request.partition(b"\r\n\r\n")
                length = int(header.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                answer = answers.pop(0)
                conn.sendall(answer)
                if answer.endswith(b"hang"):
                    stop.wait(5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/svc.asmx", answers
    stop.set()
    listener.close()
    thread.join(5)


def transport(timeout: float = 5.0) -> SplitTransport:
    # No retries: each prepared answer is used once.
    policy = SOAP_RETRY.__class__(attempts=1, statuses=SOAP_RETRY.statuses)
    read = build_session("legacy", timeout=(5.0, timeout), retry=policy, retry_post=True)
    write = build_session("legacy", timeout=(5.0, timeout), retry=policy)
    return SplitTransport(read, write, [READ], timeout=timeout)


@pytest.mark.parametrize(
    "answer",
    [head(f"Content-Length: {len(BODY)}\r\n") + BODY, head("Transfer-Encoding: chunked\r\n")],
    ids=["length", "chunked"],
)
def test_the_whole_body_reaches_zeep(answering: tuple[str, list[bytes]], answer: bytes):
    url, answers = answering
    if answer.endswith(b"chunked\r\n\r\n"):
        answer += chunked(BODY)
    answers.append(answer)
    response = transport().post(url, b"<request/>", dict(HEADERS))
    assert response.status_code == 200
    assert response.content == BODY
    assert response.text.endswith("19999 \u00e9</r></x>")


def test_a_body_cut_short_is_a_transient_error(answering: tuple[str, list[bytes]]):
    url, answers = answering
    answers.append(head(f"Content-Length: {len(BODY)}\r\n") + BODY[:5000])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        transport().post(url, b"<request/>", dict(HEADERS))
    answers.append(head(f"Content-Length: {len(BODY)}\r\n") + BODY[:5000])
    with pytest.raises(TransientError), map_soap_errors("legacy", READ):
        transport().post(url, b"<request/>", dict(HEADERS))


def test_a_body_that_stops_coming_times_out(answering: tuple[str, list[bytes]]):
    url, answers = answering
    answers.append(head(f"Content-Length: {len(BODY)}\r\n") + BODY[:5000] + b"hang")
    with (
        pytest.raises(TransientError, match=r"timed out|connection"),
        map_soap_errors("legacy", READ),
    ):
        transport(timeout=0.5).post(url, b"<request/>", dict(HEADERS))
