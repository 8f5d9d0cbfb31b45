"""``soapbridge demo`` tells the whole story and exits 0, with no config and no network."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_end_to_end(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--records", "120"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env={"COLUMNS": "200", "PATH": ""},
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "source-to-target: read 120, created 120" in text
    assert "legacy now has" in text and "+61 400 123 456" in text
    assert "Bigin now has title 'Dr'" in text
    # The quiet second run.
    step3 = text.split("3. Run again")[1].split("4. ")[0]
    assert "created 0, updated 0" in step3 and "updated 1" not in step3
    assert "ContactList_Retrieve: 120 contacts in 2 calls" in text
    step5 = text.split("5. The next run")[1].split("6. ")[0]
    assert "target-to-source: read" in step5 and "created 1" in step5
    assert "legacy: Web Shopper is entityId" in step5
    assert "to-engagifii: source-to-target: read 121, created 121" in text
    assert "to-egito: source-to-target: read 121, created 121" in text
    assert "to-hubspot: source-to-target: read 121, created 121" in text
    assert "Demo finished" in text
