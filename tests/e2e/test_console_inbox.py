"""The inbox's saved replies and unread counts in a real browser (Debian's headless
Chromium) against the local stack: an operator writes a saved reply, a customer's
text shows as unread, an agent opens it (read), claims it, inserts the saved reply
filled with the customer's first name, and the simulator's handset gets exactly
that text. Screenshots at 1280 px and 360 px into build/console-screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.e2e.browser import click, console_errors, find, shoot, sign_in, tab_reaches, unlabelled, wait
from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, person
from tests.e2e.test_local_stack import eventually, handset, text

PHONE = "+447700950301"  # this file's numbers: +4477009503xx
STRANGER = "+447700950302"  # no profile: the fallbacks
SAVED = {
    "name": "Vegan cheese",
    "body": "Hi {first_name|there}, yes: any pizza can have vegan cheese, at no extra cost.",
}
FILLED = "Hi Sam, yes: any pizza can have vegan cheese, at no extra cost."


@pytest.fixture(scope="module")
def inbox_keys(stack: RunningStack) -> dict[str, str]:
    """This file's own keys (names no other browser test makes in the shared stack)."""
    made = {}
    for name, role in (("inbox-olga", "operator"), ("inbox-amir", "agent")):
        made[name] = api(stack, "POST", "/api/keys", {"name": name, "role": role})["key"]
    return made


def unread(stack: RunningStack, phone: str) -> Any:
    listed = [c for c in api(stack, "GET", "/api/conversations?limit=200")["conversations"] if c["phone"] == phone]
    return listed[0]["unread"] if listed else None


def test_an_operator_writes_a_saved_reply(stack: RunningStack, browser: WebDriver, inbox_keys: dict[str, str]) -> None:
    sign_in(browser, stack, inbox_keys["inbox-olga"])
    click(browser, "#nav-saved-replies")  # shown to operators and admins only
    find(browser, "#saved-name").send_keys(SAVED["name"])
    body = find(browser, "#saved-body")
    body.send_keys(SAVED["body"])
    assert "before the fields are filled" in find(browser, "#saved-segments").text
    click(browser, "#saved-save")
    shown = wait(browser, lambda d: find(d, "#saved-list .saved-reply").text)
    assert SAVED["name"] in shown and SAVED["body"] in shown and "inbox-olga" in shown
    [stored] = [r for r in api(stack, "GET", "/api/saved-replies")["saved_replies"] if r["name"] == SAVED["name"]]
    assert (stored["body"], stored["created_by"]) == (SAVED["body"], "inbox-olga")
    assert unlabelled(browser) == []
    shoot(browser, "saved-replies")


def test_an_agent_answers_with_a_saved_reply_and_the_unread_count_follows(
    stack: RunningStack, browser: WebDriver, inbox_keys: dict[str, str]
) -> None:
    api(stack, "POST", "/api/contacts", {"contacts": [person(PHONE, "inbox-e2e")]})  # first_name Sam
    sign_in(browser, stack, inbox_keys["inbox-amir"])
    find(browser, "#inbox-count")
    assert browser.find_element(By.ID, "nav-saved-replies").is_displayed() is False  # an agent's key
    text(stack, PHONE, "Do you do vegan cheese?")

    row = f'button.conversation[data-phone="{PHONE}"]'
    badge = wait(browser, lambda d: find(d, f"{row} .unread"))  # polled in, no reload
    assert badge.get_attribute("data-count") == "1" and badge.get_attribute("textContent") == "1 1 unread text"
    assert unread(stack, PHONE) == 1
    shoot(browser, "inbox-unread")

    click(browser, row)  # the agent opens it: read
    assert eventually(lambda: unread(stack, PHONE) == 0 or None)
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f"{row} .unread"))
    click(browser, "#claim")
    wait(browser, lambda d: t if (t := d.find_element(By.ID, "owner").text).startswith("Claimed by") else None)

    text(stack, PHONE, "And gluten free bases?")  # while the thread is open: read as it shows
    wait(browser, lambda d: "gluten free" in find(d, "#messages").text)
    assert eventually(lambda: unread(stack, PHONE) == 0 or None)

    picker = find(browser, "#saved-reply")
    wait(browser, lambda _: picker.is_enabled() or None)
    Select(picker).select_by_visible_text(SAVED["name"])
    click(browser, "#insert-saved")
    reply = find(browser, "#reply")
    assert reply.get_attribute("value") == FILLED  # the customer's first name, filled on the server
    assert find(browser, "#segments").text.startswith(f"1 segment · GSM-7 · {len(FILLED)}/160")
    assert unlabelled(browser) == []
    assert tab_reaches(browser, "saved-reply") and tab_reaches(browser, "insert-saved")  # keyboard only
    shoot(browser, "inbox-saved-replies")
    click(browser, "#send")

    assert eventually(lambda: handset(stack, PHONE) or None) == [FILLED]  # exactly that text
    find(browser, '.bubble.message_out[data-status="delivered"]')  # the delivered tick, polled in
    assert unread(stack, PHONE) == 0
    assert not browser.find_elements(By.CSS_SELECTOR, f"{row} .unread")


def test_someone_without_a_profile_gets_the_fallback(stack: RunningStack, inbox_keys: dict[str, str]) -> None:
    text(stack, STRANGER, "Hello?")
    filled = api(stack, "GET", f"/api/conversations/{STRANGER.replace('+', '%2B')}/saved-replies")["saved_replies"]
    assert [r["text"] for r in filled if r["name"] == SAVED["name"]] == [FILLED.replace("Sam", "there")]


def test_no_console_errors(browser: WebDriver) -> None:
    assert console_errors(browser) == []
