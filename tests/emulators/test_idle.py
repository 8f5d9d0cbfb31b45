"""An emulator with no client uses no CPU (a busy poll loop would spin a core)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

KINDS = ("legacy", "bigin", "engagifii", "egito")
WINDOW = 5.0
# Generous on purpose: a spin costs 20-100% of a core; a quiet loop well under 1%.
MAX_SHARE = 0.05


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, read from /proc (the kernel's own accounting)."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name (which may hold spaces) start at index 2.
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def test_idle_emulators_use_no_cpu():
    processes = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "bridge", "emulate", kind, "--port", "0", "--records", "10"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind in KINDS
    }
    try:
        for kind, process in processes.items():
            assert process.stdout is not None
            assert json.loads(process.stdout.readline())["kind"] == kind
        time.sleep(0.5)  # past start-up work (seeding, first imports settling)
        before = {kind: cpu_seconds(p.pid) for kind, p in processes.items()}
        started = time.monotonic()
        time.sleep(WINDOW)
        elapsed = time.monotonic() - started
        used = {kind: cpu_seconds(p.pid) - before[kind] for kind, p in processes.items()}
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=30)
    shares = {kind: seconds / elapsed for kind, seconds in used.items()}
    print({kind: f"{share:.1%}" for kind, share in shares.items()})
    assert all(share < MAX_SHARE for share in shares.values()), shares
