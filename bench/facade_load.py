"""Load run: 64 concurrent consumers paging ContactList_Retrieve through ``soapbridge serve``.

Starts the Bigin emulator (``soapbridge emulate bigin``) and ``soapbridge serve`` (gunicorn)
as child processes on loopback, walks the feed three times (so every offset has a saved
position and every worker has read the feed: steady state is what is measured), then
runs wrk (Debian package ``wrk``) with ``--connections`` keep-alive consumers for
``--duration`` seconds, each request asking for the next 100-record page. Prints wrk's
latency distribution and the verdict against the target: no errors, p99 under 300 ms.
It also prints the server's CPU time per page (every gunicorn process, from /proc), the
figure to compare between two versions on a shared, noisy machine: pages/s moves with
whatever else runs, CPU per page much less.
Run: python bench/facade_load.py [--records 2500] [--connections 64] [--duration 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ENDPOINT = "/CatalystWebService/CatalystCRMWebservice.asmx"
NS = "http://tempuri.org/CatalystDeveloperService/CatalystCRMWebservice"
BODY = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    f'<ContactList_Retrieve xmlns="{NS}"><username>load</username><password>load-pass</password>'
    "<siteId>1</siteId><lastUpdateDate>0001-01-01T00:00:00</lastUpdateDate>"
    "<recordStart>RECORDSTART</recordStart><moreRecords>true</moreRecords>"
    "</ContactList_Retrieve></soap:Body></soap:Envelope>"
)
P99_TARGET_MS = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(records: int) -> tuple[subprocess.Popen[str], dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "emulate", "bigin", "--records", str(records),
         "--concurrency", "64"],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    table: dict[str, object] = json.loads(process.stdout.readline())
    return process, table


def write_config(folder: Path, table: dict[str, object], port: int, workers: int,
                 threads: int, page_cache: float) -> Path:
    lines = [f'[store]\nurl = "sqlite:///{folder}/load.db"\n',
             f'[server]\nhost = "127.0.0.1"\nport = {port}\nworkers = {workers}\n'
             f'threads = {threads}\nloglevel = "warning"\n',
             f"[server.facade]\npage_cache_seconds = {page_cache}\n",
             "[connections.crm]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    lines += ['\n[[sites]]\nsite_id = 1\nconnection = "crm"\nusername = "load"\n'
              'password = "load-pass"\ntimezone = "UTC"']
    path = folder / "load.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("soapbridge serve exited early")
        try:
            if requests.get(url + "?WSDL", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit("soapbridge serve did not come up")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and every process below it (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def walk_once(url: str) -> int:
    start, count = 0, 0
    while True:
        body = BODY.replace("RECORDSTART", str(start))
        response = requests.post(url, data=body, timeout=60,
                                 headers={"Content-Type": "text/xml; charset=utf-8"})
        response.raise_for_status()
        count += response.content.count(b"<ContactRecord>")
        start = int(re.search(rb"<recordStart>(\d+)</recordStart>", response.content)[1])
        if b"<moreRecords>true</moreRecords>" not in response.content:
            return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2500)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--server-threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--page-cache", type=float, default=10.0, help="page_cache_seconds")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (Debian package wrk; scripts/install-system-deps)")
    with tempfile.TemporaryDirectory() as folder:
        emulator, table = start_emulator(args.records)
        port = free_port()
        config = write_config(Path(folder), table, port, args.workers, args.server_threads,
                              args.page_cache)
        server = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--config", str(config)])
        url = f"http://127.0.0.1:{port}{ENDPOINT}"
        try:
            wait_ready(url, server)
            # Steady state is measured: a few walks so every worker has read the feed.
            for _ in range(3):
                started = time.perf_counter()
                total = walk_once(url)
                print(f"warm-up walk: {total} contacts in {time.perf_counter() - started:.1f} s")
            env = {**os.environ, "FACADE_LOAD_BODY": BODY,
                   "FACADE_LOAD_PAGES": str(max(1, (total + 99) // 100))}
            cpu_before = tree_cpu_seconds(server.pid)
            run = subprocess.run(
                [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
                 "--latency", "--timeout", "10s", "-s", str(HERE / "facade_load.lua"), url],
                env=env, capture_output=True, text=True,
            )
            server_cpu = tree_cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)
            emulator.terminate()
            emulator.wait(timeout=30)
    print(run.stdout)
    if run.stderr.strip():
        print(run.stderr[-2000:], file=sys.stderr)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", run.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout)
    socket_errors = re.search(r"Socket errors: (.*)", run.stdout)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99[1]) * scale[p99[2]] if p99 else float("inf")
    pages = re.search(r"(\d+) requests in ([\d.]+)s", run.stdout)
    if pages:
        count, seconds = int(pages[1]), float(pages[2])
        print(f"{count / seconds:.0f} pages/s; server CPU {server_cpu:.1f} s for {count} pages: "
              f"{1000 * server_cpu / max(count, 1):.2f} ms per page")
    ok = p99_ms < P99_TARGET_MS and not errors and not socket_errors
    print(f"p99 {p99_ms:.0f} ms (target < {P99_TARGET_MS:.0f} ms), "
          f"non-2xx {errors[1] if errors else 0}, socket errors "
          f"{socket_errors[1] if socket_errors else 'none'}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
