"""What the console's browser tests share: the story's constants, the server's handle,
and headless Chromium from the system packages (never downloaded)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.emulators.kit.server import Faults

CHROMIUM = os.environ.get("SOAPBRIDGE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SOAPBRIDGE_CHROMEDRIVER", "/usr/bin/chromedriver")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
XSS_NAME = "<img src=x onerror=alert(1)>"
SITE = {"site_id": 31337, "username": "shop", "password": "site-password"}
#: Where the screenshots go: ``SOAPBRIDGE_SCREENSHOTS=docs`` refreshes the README's; by
#: default a temporary folder, so a test run leaves the working tree as it was.
SCREENSHOTS_ENV = "SOAPBRIDGE_SCREENSHOTS"


@dataclass
class Console:
    url: str
    token: str
    legacy: Any
    legacy_faults: Faults
    bigin: Any
    bigin_table: dict[str, Any]
    bad_entity_id: int
    facade_endpoint: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def integration_id(self, name: str) -> str:
        found = [i for i in self.api("GET", "/v1/integrations").json() if i["name"] == name]
        return str(found[0]["_id"])


@contextmanager
def chromium(*, javascript: bool = True) -> Iterator[Any]:
    """Headless Chromium at 1280 px, from the system packages (never downloaded)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} "
            "not found): run scripts/install-system-deps as root, or apt-get install chromium "
            "chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="soapbridge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
