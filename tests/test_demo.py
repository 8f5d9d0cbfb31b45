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
    # One delete each way: legacy -> Bigin by reconciliation, Bigin -> legacy via the facade.
    step6 = text.split("6. A delete travels each way")[1].split("7. ")[0]
    assert step6.count("deleted 1") == 2  # one carried each way
    assert "Bigin record" in step6 and step6.count(": gone") == 2
    assert step6.count("@") == 3  # the facade's delete, then both deleted contacts answered
    assert "to-engagifii: source-to-target: read 119, created 119" in text
    assert "to-egito: source-to-target: read 119, created 119" in text
    assert "to-hubspot: source-to-target: read 119, created 119" in text
    assert "Demo finished" in text


def test_demo_serve_keeps_the_console_up_until_interrupted(tmp_path):
    import re
    import signal

    import requests

    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "demo", "--records", "30", "--serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={"COLUMNS": "200", "PATH": ""},
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "token:" in line:
                break
        text = "".join(lines)
        url = re.search(r"console: (http://127\.0\.0\.1:\d+/ui/)", text).group(1)
        token = re.search(r"token:\s+(\S+)", text).group(1)
        browser = requests.Session()
        form = browser.get(url + "signin", timeout=10)
        assert form.status_code == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        signed = browser.post(url + "signin", data={"csrf": csrf, "token": token}, timeout=10)
        assert signed.status_code == 200 and 'data-integration="members"' in signed.text
        assert process.poll() is None  # still serving
    finally:
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Stopped." in out
