"""Records per CPU-second of the HubSpot emulator: list walk, search feed, batch upsert.

The emulator runs as ``soapbridge emulate hubspot`` in its own process (limits off); this
script drives it over loopback and reads the emulator process's own CPU time from
``/proc/<pid>/stat`` before and after each phase, so the client's work and the machine's
other load do not count. Each figure is printed beside the limit (10,000 records per
CPU-second) as a ratio.
Run: python bench/hubspot_emulator.py [--records N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable

import requests

LIMIT = 10_000.0
CONTACTS = "/crm/v3/objects/contacts"


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, work: Callable[[], int]) -> tuple[int, float]:
    before = cpu_seconds(pid)
    records = work()
    return records, max(cpu_seconds(pid) - before, 1e-6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "bridge",
        "emulate",
        "hubspot",
        "--records",
        str(args.records),
        "--auth",
        "private",
        "--burst-limit",
        "0",
        "--daily-limit",
        "0",
        "--search-limit",
        "0",
        "--index-lag",
        "0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        table = json.loads(process.stdout.readline())
        base = table["base_url"]
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {table['access_token']}"

        def walk() -> int:
            count, after = 0, None
            while True:
                params = {"limit": 100, "properties": "email,firstname,lastname"}
                if after:
                    params["after"] = after
                body = http.get(base + CONTACTS, params=params, timeout=60).json()
                count += len(body["results"])
                after = (body.get("paging") or {}).get("next", {}).get("after")
                if not after:
                    return count

        def search() -> int:
            count, last = 0, "0"
            while True:
                body = {
                    "filterGroups": [
                        {
                            "filters": [
                                {
                                    "propertyName": "lastmodifieddate",
                                    "operator": "GTE",
                                    "value": "0",
                                },
                                {"propertyName": "hs_object_id", "operator": "GT", "value": last},
                            ]
                        }
                    ],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "properties": ["email", "firstname", "lastname"],
                    "limit": 200,
                }
                page = http.post(base + CONTACTS + "/search", json=body, timeout=60).json()
                count += len(page["results"])
                if not page.get("paging") or not page["results"]:
                    return count
                last = page["results"][-1]["id"]

        prop = {
            "name": "ext",
            "label": "Ext",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "hasUniqueValue": True,
        }
        http.post(base + "/crm/v3/properties/contacts", json=prop, timeout=60).raise_for_status()

        def upsert() -> int:
            for start in range(0, args.records, 100):
                inputs = [
                    {
                        "id": f"E{i}",
                        "idProperty": "ext",
                        "properties": {"email": f"bench{i}@example.com", "lastname": f"B{i}"},
                    }
                    for i in range(start, min(start + 100, args.records))
                ]
                answer = http.post(
                    base + CONTACTS + "/batch/upsert", json={"inputs": inputs}, timeout=60
                )
                answer.raise_for_status()
            return args.records

        pid = process.pid
        print(f"HubSpot emulator, {args.records} contacts; limit {LIMIT:,.0f} records/CPU-s")
        for name, work in (
            ("list walk (100/page)", walk),
            ("search feed (200/page)", search),
            ("batch upsert, create (100/call)", upsert),
            ("batch upsert, update (100/call)", upsert),
        ):
            records, cpu = measure(pid, work)
            rate = records / cpu
            print(
                f"  {name:<34} {records:>7} records in {cpu:6.2f} CPU-s = {rate:>9,.0f} records/s"
                f"  ratio {rate / LIMIT:5.2f}"
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
