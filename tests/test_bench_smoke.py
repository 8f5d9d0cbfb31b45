"""The benchmarks still run (their figures are read by people, not asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize(
    ("script", "args", "figures"),
    [
        ("client_decode.py", ["--pages", "1", "--repeat", "1"], ["/s", "ratio"]),
        ("comparer.py", ["--records", "200", "--rounds", "1"], ["comparer / long way"]),
        (
            "sync_e2e.py",
            [
                "--records",
                "150",
                "--latency",
                "0.01",
                "--latency-records",
                "150",
                "--resume",
                "300",
                "--resume-repeat",
                "1",
                "--skip-rss",
                "--idle-seconds",
                "1",
                "--help-runs",
                "1",
            ],
            [
                "contacts per CPU-second",
                "engine / limit",
                "ratio",
                "resumed / fresh",
                "idle emulator CPU",
                "soapbridge --help, CPU seconds",
            ],
        ),
        ("reconcile_memory.py", ["--sizes", "300", "600", "--deleted", "0.05"], ["peak RSS ratio"]),
        ("facade_activity.py", ["--calls", "20", "--rounds", "2"], ["ratio hooked/bare"]),
        ("hubspot_emulator.py", ["--records", "300"], ["records/CPU-s"]),
        (
            "emulators.py",
            ["--records", "200", "--seconds", "1"],
            ["read", "write", "egito", "via connector", "calls/record"],
        ),
        ("sync_store.py", ["--pages", "3", "--rounds", "1"], ["unchanged", "sqlite3 alone"]),
    ],
)
def test_benchmark_runs_and_prints_its_figures(script: str, args: list[str], figures: list[str]):
    out = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert all(figure in out.stdout for figure in figures), out.stdout
