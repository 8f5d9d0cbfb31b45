"""The operator console in a real headless Chromium against ``soapbridge serve``.

The tests run in order over one server (see conftest): signed out, every page sends
the browser to sign in; signed in, the first run is started from the console and
watched live; its failed record shows as a dead-letter badge, as text however it is
named, and is replayed from the job's page once fixed at the source; an install step
runs from the wizard; forms without their CSRF token are refused; the facade page
shows what a legacy consumer did. Screenshots of the main pages go to ``docs/``.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bridge.config import ConnectionConfig
from bridge.connectors.legacy import LegacyConnector
from bridge.errors import BridgeError

from .harness import SITE, XSS_NAME, chromium

PAGES = ["/ui/", "/ui/integrations", "/ui/jobs", "/ui/connections", "/ui/facade"]


def wait(browser, seconds: float = 30):
    # A page being replaced by the next (after a form post) makes elements stale mid-look.
    retry = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(browser, seconds, poll_frequency=0.1, ignored_exceptions=retry)


@pytest.fixture
def shoot(screenshots):
    """Takes a screenshot of the page for the README (small: PNG of a plain page)."""

    def take(browser, name: str) -> None:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        width = browser.get_window_size()["width"]
        browser.set_window_size(width, min(max(height + 120, 600), 1600))
        path = screenshots / f"console-{name}.png"
        assert browser.save_screenshot(str(path)) and path.stat().st_size > 5000
        browser.set_window_size(width, 900)

    return take


def sign_in(browser, console) -> None:
    browser.get(f"{console.url}/ui/signin")
    browser.find_element(By.NAME, "token").send_keys(console.token)
    click(browser, "form button[type=submit]")
    wait(browser).until(ec.url_contains("/ui/integrations"))


@pytest.fixture
def signed_in(console, browser):
    """The browser with a console session (signing in when it has none)."""
    browser.get(f"{console.url}/ui/integrations")
    if "/ui/signin" in browser.current_url:
        sign_in(browser, console)
    return browser


def says(browser, text: str, role: str = "status") -> None:
    """Wait for the page (after a form post) to show ``text`` in its status or alert note."""
    selector = (By.CSS_SELECTOR, f"[role={role}]")
    wait(browser).until(ec.text_to_be_present_in_element(selector, text))


def replaced(page):
    """A wait condition: ``page`` (the old ``html`` element) left the document. Chromedriver
    says so either as a stale element or as a node that "does not belong to the document"."""

    def check(_browser) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:  # StaleElementReferenceException is one of these
            return True
        return False

    return check


def click(browser, selector: str, *, navigates: bool = True) -> None:
    """Click what ``selector`` finds; for a submit, wait until the next page replaced this one
    (so what is looked at next is never the old page)."""
    page = browser.find_element(By.TAG_NAME, "html")
    for attempt in range(5):
        try:
            wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector))).click()
            break
        except WebDriverException:
            # Chromedriver at times loses a node it just found ("does not belong to the
            # document"); unless the click went through anyway (the page moved on), again.
            time.sleep(0.3)
            if navigates and replaced(page)(browser):
                break
            if attempt == 4:
                raise
    if navigates:
        wait(browser).until(replaced(page))


def row_of(browser, selector: str):
    return wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))


def test_signed_out_every_page_and_action_goes_to_sign_in(console, browser, shoot):
    integration = console.integration_id("members")
    job = "6b0000000000000000000000"  # the gate comes before any lookup
    pages = [*PAGES, f"/ui/integrations/{integration}", f"/ui/jobs/{job}", f"/ui/jobs/{job}/progress"]
    for page in pages:
        answer = requests.get(console.url + page, allow_redirects=False, timeout=10)
        assert answer.status_code == 303, page
        assert answer.headers["Location"].startswith("/ui/signin?next="), page
    actions = [
        f"/ui/integrations/{integration}/run",
        f"/ui/integrations/{integration}/replay",
        f"/ui/integrations/{integration}/install/0",
        f"/ui/jobs/{job}/errors",
        "/ui/signout",
    ]
    for action in actions:
        answer = requests.post(console.url + action, allow_redirects=False, timeout=10)
        assert answer.status_code == 303 and "/ui/signin" in answer.headers["Location"], action
    assert console.api("GET", "/v1/jobs").json() == []  # nothing ran
    # A forged cookie is no session either.
    forged = requests.get(
        f"{console.url}/ui/jobs", cookies={"soapbridge_console": "forged"}, allow_redirects=False, timeout=10
    )
    assert forged.status_code == 303
    browser.get(f"{console.url}/ui/jobs?status=failed")
    assert "/ui/signin" in browser.current_url
    assert browser.find_element(By.NAME, "token").get_attribute("type") == "password"
    shoot(browser, "signin")
    # A wrong token is refused on the page.
    browser.find_element(By.NAME, "token").send_keys("sb_not-a-token")
    click(browser, "form button[type=submit]")
    says(browser, "unknown or revoked", "alert")


def test_sign_in_then_run_now_and_watch_the_job_finish_live(console, browser, shoot):
    sign_in(browser, console)
    # Back where the sign-in form was asked for, with an HttpOnly, SameSite=Strict cookie.
    assert browser.current_url.endswith("/ui/jobs?status=failed") or "/ui/integrations" in browser.current_url
    cookie = browser.get_cookie("soapbridge_console")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    browser.get(f"{console.url}/ui/integrations")
    assert "never run" in row_of(browser, "tr[data-integration=members]").text
    console.legacy_faults.latency = 0.7  # every legacy call slow: three pages take seconds
    seen = []
    try:
        click(browser, "tr[data-integration=members] form button")
        wait(browser).until(ec.url_contains("/ui/jobs/"))
        status = browser.find_element(By.CSS_SELECTOR, "#progress [data-field=status]")
        read = browser.find_element(By.CSS_SELECTOR, "#progress [data-field=read]")
        assert status.text in ("queued", "running")
        browser.execute_script("window.stillTheSamePage = true;")

        def finished(_browser) -> bool:
            seen.append(int(read.text))
            return status.text == "completed"

        wait(browser, 90).until(finished)
    finally:
        console.legacy_faults.latency = 0.0
    # The figures changed in place, several times: the page was never reloaded.
    assert browser.execute_script("return window.stillTheSamePage === true;")
    assert len(set(seen)) >= 2, seen
    assert browser.find_element(By.CSS_SELECTOR, "#progress [data-field=read]").text == "250"
    job_id = browser.current_url.rsplit("/", 1)[-1]
    job = console.api("GET", f"/v1/jobs/{job_id}").json()
    assert (job["status"], job["numExport"], job["numSuccess"], job["numError"]) == ("completed", 250, 249, 1)
    figures = browser.find_element(By.CSS_SELECTOR, "#progress .live")
    assert figures.find_element(By.CSS_SELECTOR, "[data-field=written]").text == "249"
    assert figures.get_attribute("data-finished") == "yes"
    assert browser.find_element(By.CSS_SELECTOR, "[data-when-finished]").is_displayed()
    # The jobs list shows it, and filters.
    browser.get(f"{console.url}/ui/jobs?status=completed")
    assert job_id in browser.find_element(By.ID, "jobs").text
    browser.get(f"{console.url}/ui/jobs?status=failed")
    assert job_id not in browser.find_element(By.ID, "jobs").text
    browser.get(f"{console.url}/ui/jobs?status=bogus")
    says(browser, "`status` must be one of", "alert")
    browser.get(f"{console.url}/ui/jobs")
    shoot(browser, "jobs")


def _wait_finished(console, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = console.api("GET", f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_an_integration_with_dead_letters_shows_its_badge(console, signed_in, shoot):
    browser = signed_in
    row = row_of(browser, "tr[data-integration=members]")
    assert "crm → bigin" in row.text
    assert "0 3 * * *" in row.text  # the schedule, and its next run beside it
    assert re.search(r"\d{4}-\d\d-\d\d 03:00:00 UTC", row.text)
    badge = row.find_element(By.CSS_SELECTOR, ".health .badge.dead")
    assert badge.text == "1 dead letter"
    assert "failed 1" in row.text
    shoot(browser, "integrations")


def test_a_contact_named_like_markup_renders_as_text(console, signed_in, shoot):
    browser = signed_in
    browser.get(f"{console.url}/ui/integrations/{console.integration_id('members')}")
    letter = row_of(browser, f"tr[data-letter='{console.bad_entity_id}']")
    assert XSS_NAME in letter.text
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert "&lt;img" in requests.get(
        browser.current_url, cookies={"soapbridge_console": browser.get_cookie("soapbridge_console")["value"]}, timeout=10
    ).text
    shoot(browser, "integration")


def test_a_job_error_is_replayed_after_the_record_is_fixed_at_the_source(console, signed_in, shoot):
    browser = signed_in
    jobs = console.api("GET", "/v1/jobs", params={"_integrationId": console.integration_id("members")}).json()
    failed = [j for j in jobs if j["numError"]][-1]
    browser.get(f"{console.url}/ui/jobs/{failed['_id']}")
    error = row_of(browser, f"tr[data-error='{console.bad_entity_id}']")
    assert "MANDATORY_NOT_FOUND" in error.text and "bigin" in error.text
    # Retried as it is, it fails again.
    click(browser, f"tr[data-error='{console.bad_entity_id}'] button[value=retry]")
    says(browser, "0 succeeded, 1 still failing")
    console.legacy.store._records[console.bad_entity_id]["lastName"] = "Fixed"
    click(browser, f"tr[data-error='{console.bad_entity_id}'] button[value=retry]")
    says(browser, "1 succeeded, 0 still failing")
    assert row_of(browser, f"tr[data-error='{console.bad_entity_id}'] .letter-state").text == "resolved"
    shoot(browser, "job")
    created = console.bigin.store.select("Contacts", where=lambda r: r.get("Last_Name") == "Fixed")
    assert [r["First_Name"] for r in created] == [XSS_NAME]
    browser.get(f"{console.url}/ui/integrations")
    assert row_of(browser, "tr[data-integration=members] .health").text == "healthy"


def test_the_install_wizard_completes_a_step(console, signed_in):
    browser = signed_in
    connections = {c["name"]: c["_id"] for c in console.api("GET", "/v1/connections").json()}
    made = console.api(
        "POST",
        "/v1/integrations",
        json={"name": "members-api", "settings": {"source": connections["crm"], "target": connections["bigin"]}},
    ).json()
    assert [s["installerFunction"] for s in made["install"]] == ["verifyConnection", "verifyConnection"]
    browser.get(f"{console.url}/ui/integrations")
    assert "paused" in row_of(browser, "tr[data-integration=members-api] .health").text
    browser.get(f"{console.url}/ui/integrations/{made['_id']}")
    click(browser, "#install button")
    says(browser, "Step 1 (Verify crm) completed.")
    steps = browser.find_elements(By.CSS_SELECTOR, "#install li")
    assert [s.get_attribute("class") for s in steps] == ["done", "todo"]
    assert console.api("GET", f"/v1/integrations/{made['_id']}").json()["install"][0]["completed"] is True
    click(browser, "#install button")
    says(browser, "The integration is installed.")
    assert console.api("GET", f"/v1/integrations/{made['_id']}").json()["mode"] == "settings"


def test_settings_save_refuse_while_updating_and_clone(console, signed_in):
    browser = signed_in
    ident = console.integration_id("members-api")
    browser.get(f"{console.url}/ui/integrations/{ident}")
    schedule = browser.find_element(By.CSS_SELECTOR, "#settings input[name=schedule]")
    schedule.clear()
    schedule.send_keys("*/30 * * * *")
    click(browser, "#settings button")
    says(browser, "Settings saved.")
    assert console.api("GET", f"/v1/integrations/{ident}").json()["settings"]["schedule"] == "*/30 * * * *"
    # A bad value is refused with the API's own message.
    schedule = browser.find_element(By.CSS_SELECTOR, "#settings input[name=schedule]")
    schedule.clear()
    schedule.send_keys("every day")
    click(browser, "#settings button")
    says(browser, "`schedule` must be a cron expression", "alert")
    # While an update is in progress, settings cannot change (the API's 409).
    assert console.api("PUT", f"/v1/integrations/{ident}", json={"updateInProgress": True}).status_code == 200
    browser.get(f"{console.url}/ui/integrations/{ident}")
    assert browser.find_element(By.CSS_SELECTOR, "#settings button").get_attribute("disabled") is not None
    browser.execute_script("document.querySelector('#settings button').disabled = false;")
    schedule = browser.find_element(By.CSS_SELECTOR, "#settings input[name=schedule]")
    schedule.clear()
    schedule.send_keys("0 * * * *")
    click(browser, "#settings button")
    says(browser, "settings cannot change while updateInProgress is true", "alert")
    assert console.api("GET", f"/v1/integrations/{ident}").json()["settings"]["schedule"] == "*/30 * * * *"
    console.api("PUT", f"/v1/integrations/{ident}", json={"updateInProgress": False})
    # Clone with a connection map: the copy starts its own install.
    browser.get(f"{console.url}/ui/integrations/{ident}")
    browser.find_element(By.CSS_SELECTOR, "#clone input[name=name]").send_keys("members-copy")
    click(browser, "#clone button")
    wait(browser).until(lambda b: b.find_element(By.TAG_NAME, "h1").text.startswith("members-copy"))
    copy = next(i for i in console.api("GET", "/v1/integrations").json() if i["name"] == "members-copy")
    assert copy["mode"] == "install" and copy["settings"]["schedule"] is None
    assert len(browser.find_elements(By.CSS_SELECTOR, "#install li.todo")) == 2


def test_dead_letters_replay_selected_and_all_from_the_integration(console, signed_in):
    browser = signed_in
    ident = console.integration_id("members")
    # Two new contacts on the legacy side, both without the last name Bigin requires.
    broken = console.legacy.store.update_insert(
        [
            {"externalId": f"NEW-{i}", "firstName": f"New{i}", "email": f"new{i}@example.com"}
            for i in (1, 2)
        ]
    )
    job = console.api("POST", f"/v1/integrations/{ident}/run").json()
    assert _wait_finished(console, job["_id"])["numError"] == 2
    browser.get(f"{console.url}/ui/integrations/{ident}")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dead-letters tr[data-letter]")) == 2
    first, second = (str(e) for e in broken)
    console.legacy.store._records[broken[0]]["lastName"] = "Mended"
    click(browser, f"tr[data-letter='{first}'] input[type=checkbox]", navigates=False)
    click(browser, "#dead-letters button[value=selected]")
    says(browser, "Replayed 1 of 1; 0 still failing.")
    assert browser.find_elements(By.CSS_SELECTOR, f"tr[data-letter='{first}']") == []
    console.legacy.store._records[broken[1]]["lastName"] = "Mended"
    click(browser, "#dead-letters button[value=all]")
    says(browser, "Replayed 1 of 1; 0 still failing.")
    assert browser.find_elements(By.CSS_SELECTOR, f"tr[data-letter='{second}']") == []


def test_a_job_error_can_be_marked_resolved_without_sending_it(console, signed_in):
    browser = signed_in
    ident = console.integration_id("members")
    [entity_id] = console.legacy.store.update_insert(
        [{"externalId": "NEW-3", "firstName": "Nobody", "email": "nobody@example.com"}]
    )
    job = _wait_finished(console, console.api("POST", f"/v1/integrations/{ident}/run").json()["_id"])
    assert job["numError"] == 1
    browser.get(f"{console.url}/ui/jobs/{job['_id']}")
    click(browser, f"tr[data-error='{entity_id}'] button[value=resolve]")
    says(browser, "Marked 1 resolved (not sent again).")
    assert row_of(browser, f"tr[data-error='{entity_id}'] .letter-state").text == "resolved"
    assert not console.bigin.store.select("Contacts", where=lambda r: r.get("Email") == "nobody@example.com")
    browser.get(f"{console.url}/ui/integrations")
    assert row_of(browser, "tr[data-integration=members] .health").text == "healthy"


def test_forms_without_their_csrf_token_are_refused(console, signed_in):
    browser = signed_in
    integration = console.integration_id("members")
    browser.get(f"{console.url}/ui/integrations")
    before = len(console.api("GET", "/v1/jobs").json())
    browser.execute_script(
        "document.querySelector('tr[data-integration=members] input[name=csrf]').remove();"
    )
    click(browser, "tr[data-integration=members] form button")
    says(browser, "CSRF token is missing or wrong", "alert")
    # The same with a wrong token, posted with the session's cookie.
    cookies = {"soapbridge_console": browser.get_cookie("soapbridge_console")["value"]}
    wrong = requests.post(
        f"{console.url}/ui/integrations/{integration}/run", data={"csrf": "guess"}, cookies=cookies,
        allow_redirects=False, timeout=10,
    )
    assert wrong.status_code == 403
    assert len(console.api("GET", "/v1/jobs").json()) == before  # nothing ran


def test_connections_ping_and_the_facade_page(console, signed_in, shoot):
    browser = signed_in
    browser.get(f"{console.url}/ui/connections")
    click(browser, "tr[data-connection=bigin] button")
    assert "200 OK" in row_of(browser, "tr[data-connection=bigin] .ping").text
    page = browser.find_element(By.TAG_NAME, "main").text
    assert console.bigin_table["client_secret"] not in page
    assert console.bigin_table["refresh_token"] not in page
    assert "client_secret" in row_of(browser, "tr[data-connection=bigin]").text  # the name only
    shoot(browser, "connections")
    # A legacy consumer pages through the facade, and once presents a wrong password.
    consumer = {**SITE, "endpoint": console.facade_endpoint, "timezone": "UTC"}
    with LegacyConnector.from_config(ConnectionConfig("shop", "legacy", consumer)) as client:
        pages = list(client.read_changes())
    with LegacyConnector.from_config(
        ConnectionConfig("shop", "legacy", {**consumer, "password": "wrong"})
    ) as intruder, pytest.raises(BridgeError):
        list(intruder.read_changes())
    deadline = time.monotonic() + 10
    while True:  # activity is written about once a second
        browser.get(f"{console.url}/ui/facade")
        calls = int(row_of(browser, f"tr[data-site='{SITE['site_id']}'] .calls").text)
        if calls >= len(pages) + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert calls >= len(pages) + 1
    site = row_of(browser, f"tr[data-site='{SITE['site_id']}']").text
    assert "bigin" in site
    faults = browser.find_element(By.ID, "faults").text
    assert "ContactList_Retrieve" in faults and "ERROR" in faults
    shoot(browser, "facade")


def test_pages_fit_a_phone_and_read_without_javascript(console, signed_in, shoot):
    browser = signed_in
    job = console.api("GET", "/v1/jobs").json()[0]
    ident = console.integration_id("members")
    browser.set_window_size(390, 844)
    try:
        for page in [*PAGES[1:], f"/ui/integrations/{ident}", f"/ui/jobs/{job['_id']}"]:
            browser.get(console.url + page)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            inner = browser.execute_script("return window.innerWidth")
            assert width <= inner, page  # nothing wider than the phone's screen
        browser.get(f"{console.url}/ui/integrations")
        shoot(browser, "phone")
    finally:
        browser.set_window_size(1280, 900)
    # With JavaScript off, signing in and the pages work, and show their figures.
    with chromium(javascript=False) as plain:
        sign_in(plain, console)
        plain.get(f"{console.url}/ui/jobs/{job['_id']}")
        figures = plain.find_element(By.CSS_SELECTOR, "#progress .live")
        assert figures.find_element(By.CSS_SELECTOR, "[data-field=read]").text == str(job["numExport"])
        # <noscript> shows only where scripts are off: proof this browser runs none.
        assert "Reload the page to see newer figures." in plain.find_element(By.ID, "progress").text
        plain.get(f"{console.url}/ui/integrations")
        assert "healthy" in row_of(plain, "tr[data-integration=members] .health").text


def test_sign_out_ends_the_session(console, signed_in):
    browser = signed_in
    browser.get(f"{console.url}/ui/jobs")
    old = browser.get_cookie("soapbridge_console")["value"]
    click(browser, ".signout button")
    wait(browser).until(ec.url_contains("/ui/signin"))
    browser.get(f"{console.url}/ui/jobs")
    assert "/ui/signin" in browser.current_url
    # The old cookie no longer opens anything: the session is gone on the server too.
    again = requests.get(f"{console.url}/ui/jobs", cookies={"soapbridge_console": old}, allow_redirects=False, timeout=10)
    assert again.status_code == 303
