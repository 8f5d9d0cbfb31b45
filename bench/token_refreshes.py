"""Access tokens asked for by ``soapbridge serve`` workers under short token lifetimes.

Starts the Bigin emulator (in this process, to read its counters) with ``--ttl`` second
tokens and Zoho's 5 refreshes a minute, and ``soapbridge serve --workers N`` (gunicorn,
page cache off so every consumer call reaches Bigin), then lets ``--consumers`` legacy
consumers call ContactList_Retrieve for ``--seconds``. Prints the tokens Bigin issued and
refused beside the limit of one per lifetime (refreshed in its last tenth), and what the
consumers read: answers, "try again later" faults and "refused the request" faults.
Before tokens were shared through the store, two workers with 30 s tokens asked for 7
tokens in 75 s and consumers read "The CRM refused the request".
Run: python bench/token_refreshes.py [--seconds 75] [--ttl 30] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bridge.emulators import bigin as bigin_emulator
from bridge.emulators.kit.server import EmulatorServer
from bridge.facade import ENDPOINT_PATH
from bridge.wsdl import NAMESPACE

BODY = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    f'<ContactList_Retrieve xmlns="{NAMESPACE}"><username>shop</username>'
    "<password>s3cret</password><siteId>77</siteId>"
    "<lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate><recordStart>0</recordStart>"
    "</ContactList_Retrieve></soap:Body></soap:Envelope>"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, table: dict[str, object], port: int) -> Path:
    settings = "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())
    path = folder / "bridge.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{folder}/bridge.db"\n\n[server]\nport = {port}\n\n'
        "[server.facade]\npage_cache_seconds = 0\n\n"
        f"[connections.crm]\n{settings}\nmax_calls_per_second = 0\n\n"
        '[[sites]]\nsite_id = 77\nconnection = "crm"\nusername = "shop"\npassword = "s3cret"\n'
    )
    return path


def classify(answer: requests.Response) -> str:
    if answer.status_code == 200:
        return "answered"
    if b"try again later" in answer.content:
        return "try again later"
    if b"refused the request" in answer.content:
        return "refused the request"
    return f"other {answer.status_code}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=75.0)
    parser.add_argument("--ttl", type=float, default=30.0, help="token lifetime (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--consumers", type=int, default=8)
    args = parser.parse_args()

    crm = bigin_emulator.build_app(30, token_ttl=args.ttl, refresh_limit=5)
    crm_server = EmulatorServer(crm).start()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(
            Path(folder), bigin_emulator.connection_table(crm, crm_server.url), port
        )
        command = [sys.executable, "-m", "bridge", "serve", "--config", str(config)]
        serve = subprocess.Popen(
            [*command, "--workers", str(args.workers)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}{ENDPOINT_PATH}"
        try:
            while True:
                try:
                    if requests.get(url + "?WSDL", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.2)
            seen: Counter[str] = Counter()
            stop_at = time.monotonic() + args.seconds

            def consumer() -> None:
                while time.monotonic() < stop_at:
                    answer = requests.post(
                        url, data=BODY, timeout=60, headers={"Content-Type": "text/xml"}
                    )
                    seen[classify(answer)] += 1
                    time.sleep(0.1)

            threads = [threading.Thread(target=consumer) for _ in range(args.consumers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            os.killpg(serve.pid, signal.SIGINT)
            serve.wait(timeout=30)
            crm_server.stop()
    stats = crm.stats.snapshot()
    issued, refused = stats.get("tokens_issued", 0), stats.get("token_refusals", 0)
    limit = int(args.seconds // (args.ttl * 0.9)) + 1
    print(
        f"{args.workers} workers, {args.ttl:g} s tokens, {args.seconds:g} s: "
        f"{issued} tokens issued (limit {limit}: one per lifetime), {refused} refreshes refused"
    )
    print("consumers: " + ", ".join(f"{n} {what}" for what, n in sorted(seen.items())))
    ok = issued <= limit and refused == 0 and set(seen) == {"answered"}
    print("verdict: " + ("OK" if ok else "FAIL"))


if __name__ == "__main__":
    main()
