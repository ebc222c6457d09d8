"""End to end in a real browser: the console at /console, driven by Debian's
headless Chromium (chromium + chromium-driver, installed by `make browser`)
against the local stack. Each view is screenshotted at 1280 px and 360 px into
build/console-screenshots/ (the run prints where)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By

from tests.e2e.browser import click, console_errors, find, shoot, sign_in, tab_reaches, unlabelled, wait
from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, person
from tests.e2e.test_local_stack import eventually, handset, text

PHONE = "+447700950201"  # this file's numbers: +4477009502xx


def test_the_console_is_served_from_the_package(stack: RunningStack) -> None:
    page = requests.get(f"{stack.api}/console", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    script = requests.get(f"{stack.api}/console/app.js", timeout=30)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert requests.get(f"{stack.api}/console/console.css", timeout=30).headers["Content-Type"].startswith("text/css")
    for missing in ("nothing.js", "..%2Fconsole.py", "app.py"):
        assert requests.get(f"{stack.api}/console/{missing}", timeout=30).status_code == 404
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere: no CDN


def test_a_wrong_key_is_refused_plainly(stack: RunningStack, browser: WebDriver) -> None:
    sign_in(browser, stack, key="not-our-key")
    error = wait(browser, lambda d: d.find_element(By.ID, "login-error").text or None)
    assert "not accepted" in error and "wrong" in error
    assert browser.execute_script("return sessionStorage.getItem('rapport.key')") is None
    assert "not-our-key" not in browser.current_url
    assert unlabelled(browser) == []
    shoot(browser, "sign-in")


def test_an_agent_answers_a_new_text_in_the_inbox(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str]
) -> None:
    sign_in(browser, stack, keys["alice"])
    find(browser, "#inbox-count")
    browser.execute_script("window.notReloaded = true")
    text(stack, PHONE, "Do you deliver to LS6 tonight?")

    row = f'button.conversation[data-phone="{PHONE}"]'
    shown = wait(browser, lambda d: find(d, row).text)  # polled in, no reload
    assert "waiting" in shown and "unassigned" in shown
    assert browser.execute_script("return window.notReloaded") is True
    click(browser, row)
    click(browser, "#claim")
    owner = wait(browser, lambda d: t if (t := d.find_element(By.ID, "owner").text).startswith("Claimed by") else None)
    assert owner.startswith("Claimed by alice")  # the key's name, never a typed one
    (listed,) = [c for c in api(stack, "GET", "/api/conversations")["conversations"] if c["phone"] == PHONE]
    assert listed["agent"] == "alice"

    for choice, expected in (("unassigned", False), ("mine", True), ("all", True)):
        click(browser, f'input[name=filter][value="{choice}"]')
        assert bool(browser.find_elements(By.CSS_SELECTOR, row)) is expected, choice

    reply = browser.find_element(By.ID, "reply")
    counter = browser.find_element(By.ID, "segments")
    reply.send_keys("Hello")
    assert counter.text.startswith("1 segment · GSM-7 · 5/160")
    reply.send_keys(" — ok")  # an em dash is not GSM-7 (ChromeDriver types only the BMP)
    assert "UCS-2" in counter.text
    reply.clear()
    reply.send_keys("x" * 161)
    assert counter.text.startswith("2 segments · GSM-7 · 161/306")
    reply.clear()
    body = "Yes, we deliver to LS6 until 11pm. Shall I put an order in for you?"
    reply.send_keys(body)
    click(browser, "#send")

    assert eventually(lambda: handset(stack, PHONE) or None) == [body]  # the customer's phone got it
    find(browser, '.bubble.message_out[data-status="delivered"]')  # the delivered tick, polled in
    note = browser.find_element(By.ID, "note")
    note.send_keys("Regular: likes extra basil.")
    click(browser, "#add-note")
    find(browser, ".bubble.note")
    text(stack, "+447700950202", "Is the Headingley branch open on Sunday?")  # someone else, waiting
    find(browser, 'button.conversation[data-phone="+447700950202"]')
    assert unlabelled(browser) == []
    assert tab_reaches(browser, "reply") and tab_reaches(browser, "close")  # keyboard only
    shoot(browser, "inbox")

    sign_in(browser, stack, keys["bob"], at=f"#/inbox/{PHONE.replace('+', '%2B')}")  # a second agent
    assert "with alice" in wait(browser, lambda d: find(d, row).text)
    assert find(browser, "#claim").text == "Take over"
    assert find(browser, "#owner").text.startswith("Claimed by alice")


def test_the_customer_view_shows_the_timeline_beside_the_profile(stack: RunningStack, browser: WebDriver) -> None:
    api(stack, "POST", "/api/contacts", {"contacts": [person(PHONE, "console", attributes={"first_name": "Robin"})]})
    order = {"id": "order-console-1", "channel": "order_placed", "at": datetime.now(UTC).isoformat(),
             "summary": "Large margherita, extra basil, delivery to LS6"}  # fmt: skip
    api(stack, "POST", f"/api/contacts/{PHONE.replace('+', '%2B')}/interactions", order)
    browser.get(f"{stack.api}/console#/customer/{PHONE.replace('+', '%2B')}")
    find(browser, "#timeline li.event")
    types = {e.get_attribute("data-type") for e in browser.find_elements(By.CSS_SELECTOR, "#timeline li.event")}
    assert {"message_in", "message_out", "note", "consent", "interaction"} <= types
    profile = find(browser, "#profile-pane").text
    assert PHONE in profile and "Robin" in profile and "opted_in" in profile and "LS61AA" in profile
    assert unlabelled(browser) == []
    shoot(browser, "customer")


def test_the_campaign_preview_chart_shows_what_the_api_decides(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str]
) -> None:
    numbers = [f"+4477009502{i:02d}" for i in range(10, 16)]
    contacts = [
        person(numbers[0], "console-campaign"),
        person(numbers[1], "console-campaign"),
        person(numbers[2], "console-campaign", home="SW1A 1AA"),
        person(numbers[3], "console-campaign", consent="opted_out"),
        person(numbers[4], "console-campaign", home_days=400),
        person(numbers[5], "console-campaign", consent=None),
    ]
    api(stack, "POST", "/api/contacts", {"contacts": contacts})
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    campaign = api(stack, "POST", "/api/campaigns", {
        "name": "Console: 2-for-1 Tuesday",
        "message": "Hi {first_name|there}, 2-for-1 pizzas tonight in Leeds. Reply STOP to opt out",
        "audience": {"tags": ["console-campaign"]},
        "location": {"name": "Leeds", "prefixes": ["LS1", "LS2", "LS6"]},
        "send_at": tomorrow.isoformat(),
    })  # fmt: skip
    expected: dict[str, Any] = api(stack, "POST", f"/api/campaigns/{campaign['id']}/preview")["decisions"]

    sign_in(browser, stack, keys["olivia"], at=f"#/campaigns/{campaign['id']}")
    click(browser, "#preview")
    find(browser, "#preview-chart li.bar")
    bars = browser.find_elements(By.CSS_SELECTOR, "#preview-chart li.bar")
    shown = {bar.get_attribute("data-key"): int(bar.get_attribute("data-count") or -1) for bar in bars}
    assert shown == expected and len(shown) >= 3
    widths = {bar.get_attribute("data-key"): bar.find_element(By.CSS_SELECTOR, ".fill").size["width"] for bar in bars}
    top = max(expected, key=lambda key: expected[key])
    assert all(widths[key] <= widths[top] for key in widths)  # bars scale with the counts
    assert unlabelled(browser) == []
    assert tab_reaches(browser, "toggle")
    shoot(browser, "campaigns")

    click(browser, "#toggle")
    wait(browser, lambda d: d.find_element(By.ID, "campaign-status").text == "paused")
    assert api(stack, "GET", f"/api/campaigns/{campaign['id']}")["status"] == "paused"
    click(browser, "#toggle")
    wait(browser, lambda d: d.find_element(By.ID, "campaign-status").text == "active")
    assert api(stack, "GET", f"/api/campaigns/{campaign['id']}")["status"] == "active"


def test_a_key_outside_its_role_and_then_revoked_is_told_so(stack: RunningStack, browser: WebDriver) -> None:
    name = "console-e2e-agent"
    key = api(stack, "POST", "/api/keys", {"name": name, "role": "agent"})["key"]
    sign_in(browser, stack, key)
    find(browser, "#inbox-count")
    browser.get(f"{stack.api}/console#/campaigns")
    refused = wait(browser, lambda d: d.find_element(By.ID, "campaigns-error").text or None)
    assert "may not" in refused and "agent" in refused  # an agent's key: campaigns are for operators
    browser.get(f"{stack.api}/console#/inbox")
    find(browser, "#inbox-count")
    api(stack, "DELETE", f"/api/keys/{name}")
    told = wait(browser, lambda d: d.find_element(By.ID, "login-error").text or None, timeout_s=20)
    assert "no longer accepted" in told  # the next poll finds the key revoked
    assert browser.execute_script("return sessionStorage.getItem('rapport.key')") is None


def test_no_console_errors_but_the_refused_key(browser: WebDriver) -> None:
    assert console_errors(browser) == []
