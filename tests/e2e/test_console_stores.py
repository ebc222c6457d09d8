"""The console's stores and orders in headless Chromium against the local stack:
the Stores view, a customer's store and orders on their profile (and the order
on the timeline), the free-text answers by reason, and a campaign for a store's
recent customers made in the form."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import requests
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By

from tests.e2e.browser import click, console_errors, find, sign_in, unlabelled, wait
from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, numbers, person
from tests.e2e.test_local_stack import eventually, text

STORE = f"con-{uuid.uuid4().hex[:6]}"


def test_an_operator_sees_stores_orders_answers_and_makes_a_store_campaign(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str]
) -> None:
    spec = {"name": "Pizza Co Console", "time_zone": "Europe/London", "areas": ["LS6"], "sender": "+441134960040",
            "messages_per_second": 2, "phone": "+441134960041"}  # fmt: skip
    api(stack, "PUT", f"/api/stores/{STORE}", spec)
    orders = api(stack, "POST", "/api/keys", {"name": f"orders-{uuid.uuid4().hex[:6]}", "role": "integration"})
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, f"e2e-{uuid.uuid4().hex[:8]}")]})
    event = {"id": f"evt-{uuid.uuid4().hex[:8]}", "type": "order_placed", "order_id": "ord-console", "phone": phone,
             "store_id": STORE, "at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
             "total": {"amount": 2350, "currency": "GBP"}, "items": [{"name": "Margherita", "quantity": 2}],
             "channel": "app"}  # fmt: skip
    stack_call = {"Authorization": f"Bearer {orders['key']}"}
    posted = requests.post(f"{stack.api}/api/events", data=json.dumps(event), headers=stack_call, timeout=30)
    assert posted.status_code == 202
    eventually(
        lambda: api(stack, "GET", f"/api/contacts?phone={quote(phone)}")["contacts"][0]["orders"]["count"] or None
    )
    api(stack, "POST", f"/api/contacts/{phone}/ask", {"prompt_id": "why_not_lately"})
    eventually(lambda: requests.get(f"{stack.sim}/sim/messages", params={"to": phone}, timeout=30).json()["messages"]
               or None)  # fmt: skip
    assert text(stack, phone, "too pricey now, sorry")["replies"] == ["Thank you, that really helps."]

    sign_in(browser, stack, keys["olivia"], at="#/stores")
    row = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#store-rows tr[data-store="{STORE}"]') or None)[0]
    assert "Pizza Co Console" in row.text and "+441134960040" in row.text and "2 a second" in row.text
    assert "LS6" in row.text

    browser.get(f"{stack.api}/console#/customer/{quote(phone, safe='')}")
    profile = wait(browser, lambda d: t if "Usual" in (t := find(d, "#profile-pane").text) else None)
    assert f"{STORE} (from order)" in profile and "23.50 GBP" in profile and "2 x Margherita" in profile
    assert "Order ord-console order placed" in find(browser, "#timeline").text

    click(browser, "#nav-answers")
    by_price = '#reason-filters button[data-reason="price"]'
    click(browser, by_price)
    wait(browser, lambda d: "give “price”" in find(d, "#answers-summary").text or None)  # the list as filtered
    assert find(browser, by_price).get_attribute("aria-pressed") == "true"
    mine = [li.text for li in browser.find_elements(By.CSS_SELECTOR, f'#answer-list li[data-phone="{phone}"]')]
    assert len(mine) == 1 and "too pricey now, sorry" in mine[0] and "price" in mine[0]

    browser.get(f"{stack.api}/console#/campaigns/new")
    find(browser, "#f-name").send_keys("Console: store regulars")
    find(browser, "#f-message").send_keys("Hi {first_name|there}, your usual is 2-for-1 tonight")
    find(browser, "#f-tags").send_keys("console-stores-none")
    find(browser, "#f-stores").send_keys(STORE)
    find(browser, "#f-ordered-within").send_keys("30")
    find(browser, "#f-min-orders").send_keys("1")
    send_at = find(browser, "#f-send-at")
    send_at.clear()
    later = datetime.now() + timedelta(days=2)
    send_at.send_keys(later.strftime("%m%d%Y\t%I%M%p"))
    click(browser, "#save-campaign")
    wait(browser, lambda d: find(d, "#campaign-title").text == "Console: store regulars" or None)
    detail = find(browser, "#campaign").text
    assert f"store {STORE}" in detail and "ordered in the last 30 days" in detail and "at least 1 orders" in detail

    assert unlabelled(browser) == []
    assert console_errors(browser) == []
