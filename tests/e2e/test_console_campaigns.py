"""The console's Campaigns view in a real browser against the local stack: an
operator creates a campaign in the form (the API's refusals shown next to the
fields), watches the live preview fill the text in for a sample contact and
count its segments as they type, edits it, previews its decisions, and
follows a run's progress until the simulator's receipts have counted every
text delivered, and reads a test's report per variant and per store against
its control group. Screenshots: campaign-edit, campaign-progress, campaign-report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from chalicelib.domain.experiment import Variant, held_out, variant_of
from tests.e2e.browser import click, console_errors, console_errors_until, find, shoot, sign_in, unlabelled, wait
from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, person
from tests.e2e.test_local_stack import eventually, handset
from tests.e2e.test_stores_and_orders import order_event, post_event, put_store

PRIYA = "+447700950401"  # this file's numbers: +4477009504xx
TAG = "console-form"
SMS_JS = """
const [texts, done] = arguments;
import(new URL("console/sms.js", document.baseURI)).then((sms) => done(texts.map((t) => sms.describe(t))));
"""


def text_of(driver: WebDriver, css: str, expected: str) -> str | None:
    shown = find(driver, css).text
    return shown if shown == expected else None


def tabs_from(driver: WebDriver, start: str, target: str, presses: int = 30) -> bool:
    """Tab from one control reaches another (the list beside the form may be long: start in the form)."""
    driver.execute_script("document.getElementById(arguments[0]).focus()", start)
    for _ in range(presses):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.execute_script("return document.activeElement?.id") == target:
            return True
    return False


def typed(field: WebElement, value: str) -> None:
    field.clear()
    field.send_keys(value)


REFUSED_SAVE = "/api/campaigns - Failed to load resource: the server responded with a status of 400"


def test_an_operator_creates_and_edits_a_campaign_with_a_live_preview(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str]
) -> None:
    priya = person(PRIYA, TAG, attributes={"first_name": "Priya"})
    api(stack, "POST", "/api/contacts", {"contacts": [priya, person("+447700950402", TAG)]})
    sign_in(browser, stack, keys["olivia"], at="#/campaigns")
    click(browser, "#new-campaign")
    find(browser, "#campaign-form")

    click(browser, "#save-campaign")  # nothing filled in: the API's 400, next to each field
    assert wait(browser, lambda d: d.find_element(By.ID, "f-name-error").text or None)
    assert wait(browser, lambda d: d.find_element(By.ID, "f-message-error").text or None)
    assert find(browser, "#f-name").get_attribute("aria-invalid") == "true"
    assert find(browser, "#form-error").text == "Please correct the fields marked below."

    typed(find(browser, "#f-name"), "Console: Friday feast")
    message = find(browser, "#f-message")
    message.send_keys("Hi {first_name|there}, Friday feast at {branch|our Leeds branch}")
    wait(browser, lambda d: text_of(d, "#render-text", "Hi there, Friday feast at our Leeds branch"))
    assert find(browser, "#render-segments").text == "1 segment · GSM-7 · 42/160"
    assert "fell back on first_name, branch" in find(browser, "#render-fields").text

    typed(find(browser, "#f-tags"), TAG)
    find(browser, "#f-tags").send_keys(Keys.TAB)  # the audience's first contact becomes the sample
    assert wait(browser, lambda d: find(d, "#f-sample").get_attribute("value")) in (PRIYA, "+447700950402")
    wait(browser, lambda d: find(d, "#render-fields").text.startswith("As sent for +4477009504") or None)
    typed(find(browser, "#f-sample"), PRIYA)  # a chosen sample: the server fills her fields in
    wait(browser, lambda d: text_of(d, "#render-text", "Hi Priya, Friday feast at our Leeds branch"))
    message.send_keys(" — 2 for 1")  # an em dash: UCS-2, as the reply box would say
    wait(browser, lambda d: "UCS-2" in find(d, "#render-segments").text or None)
    body = "Hi {first_name|there}, Friday feast at {branch|our Leeds branch} — 2 for 1"
    server = api(stack, "POST", "/api/campaigns/render", {"message": body, "phone": PRIYA})
    assert (
        server["text"] == find(browser, "#render-text").text == "Hi Priya, Friday feast at our Leeds branch — 2 for 1"
    )
    (console,) = browser.execute_async_script(SMS_JS, [server["text"]])
    assert find(browser, "#render-segments").text == console  # the server's count is the reply box's
    assert server["encoding"] == "UCS-2" and console.startswith(f"{server['segments']} segment")

    typed(find(browser, "#f-mps"), "5000")  # over the limit: refused, and said where
    click(browser, "#save-campaign")
    assert "1000" in wait(browser, lambda d: d.find_element(By.ID, "f-mps-error").text or None)
    errors = console_errors_until(browser, lambda seen: sum(REFUSED_SAVE in e for e in seen) >= 2)
    assert sum(REFUSED_SAVE in e for e in errors) == 2, errors
    assert [e for e in errors if REFUSED_SAVE not in e] == []
    assert unlabelled(browser) == []
    assert tabs_from(browser, "f-name", "f-message") and tabs_from(browser, "f-message", "save-campaign")
    shoot(browser, "campaign-edit")

    typed(find(browser, "#f-mps"), "5")
    click(browser, "#save-campaign")
    title = wait(browser, lambda d: t if (t := find(d, "#campaign-title").text) == "Console: Friday feast" else None)
    assert title
    campaign_id = browser.current_url.rsplit("/", 1)[-1]
    saved: dict[str, Any] = api(stack, "GET", f"/api/campaigns/{campaign_id}")
    assert saved["message"] == body and saved["audience"]["tags"] == [TAG] and saved["messages_per_second"] == 5
    assert saved["created_by"] == "olivia"

    click(browser, "#preview")  # its decisions, and the first contact it would text becomes the sample
    find(browser, "#preview-chart li.bar")
    expected = api(stack, "POST", f"/api/campaigns/{campaign_id}/preview")["decisions"]
    bars = browser.find_elements(By.CSS_SELECTOR, "#preview-chart li.bar")
    assert {bar.get_attribute("data-key"): int(bar.get_attribute("data-count") or -1) for bar in bars} == expected

    click(browser, "#edit")
    name = find(browser, "#f-name")
    assert name.get_attribute("value") == "Console: Friday feast"
    assert find(browser, "#f-sample").get_attribute("value") in (PRIYA, "+447700950402")
    assert wait(browser, lambda d: find(d, "#render-text").text or None).startswith("Hi ")
    typed(name, "Console: Friday feast (late)")
    click(browser, "#save-campaign")
    wait(browser, lambda d: text_of(d, "#campaign-title", "Console: Friday feast (late)"))
    edited = api(stack, "GET", f"/api/campaigns/{campaign_id}")
    assert edited["name"] == "Console: Friday feast (late)" and edited["version"] == saved["version"] + 1
    assert edited["updated_by"] == "olivia" and edited["message"] == body


def test_a_run_s_progress_counts_the_texts_delivered(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str]
) -> None:
    numbers = [f"+4477009504{i}" for i in range(10, 14)]
    api(stack, "POST", "/api/contacts", {"contacts": [person(n, "console-delivered") for n in numbers]})
    campaign = api(stack, "POST", "/api/campaigns", {
        "name": "Console: delivered",
        "message": "Hi {first_name|there}, your table is ready. Reply STOP to opt out",
        "audience": {"tags": ["console-delivered"]},
        "send_at": datetime.now(UTC).isoformat(),
        "messages_per_second": 5,
    })  # fmt: skip
    sign_in(browser, stack, keys["olivia"], at=f"#/campaigns/{campaign['id']}")
    assert eventually(lambda: all(handset(stack, n) for n in numbers) or None, timeout_s=60)

    def delivered(driver: WebDriver) -> str | None:
        cell = find(driver, "#runs td[data-count=delivered]").text
        return cell if cell == str(len(numbers)) else None

    assert wait(browser, delivered, 40)  # refreshed in place as the receipts came in
    (run,) = api(stack, "GET", f"/api/campaigns/{campaign['id']}/runs")["runs"]
    counts = run["counts"]
    assert counts["out"] == counts["delivered"] == counts["planned"] == counts["send/clear"] == len(numbers)
    for name in ("planned", "out", "delivered", "failed", "undelivered", "opted_out"):
        shown = find(browser, f"#runs td[data-count={name}]").text
        assert shown == str(counts.get(name, 0)), name

    def earned(driver: WebDriver) -> str | None:  # the run's report, drawn as a funnel beside the table
        shown = find(driver, "#earned li[data-metric=delivered] .funnel-value").text
        return shown if shown == str(len(numbers)) else None

    assert wait(browser, earned, 20)
    meter = find(browser, "#earned li[data-metric=sent] meter")
    assert (meter.get_attribute("value"), meter.get_attribute("max")) == (str(len(numbers)), str(len(numbers)))
    assert f"for {len(numbers)} segments" in find(browser, "#earned-money").text
    shoot(browser, "campaign-progress")


def test_a_test_s_report_shows_each_variant_and_store_against_the_control_group(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str]
) -> None:
    variants = [
        {"id": "short", "message": "2-for-1 tonight. Reply STOP to opt out", "weight": 1},
        {"id": "long", "message": "Hi {first_name|there}, 2-for-1 on every pizza tonight", "weight": 1},
    ]
    campaign = api(stack, "POST", "/api/campaigns", {
        "name": "Console: short or long?", "variants": variants, "holdout_percent": 25,
        "audience": {"tags": ["console-ab"]}, "send_at": (datetime.now(UTC) + timedelta(seconds=8)).isoformat(),
        "messages_per_second": 5,
    })  # fmt: skip
    cid, drawn = campaign["id"], [Variant.model_validate(v) for v in variants]
    pool = [f"+4477009504{i}" for i in range(50, 100)]  # the groups follow the campaign's id: people chosen after
    held = [p for p in pool if held_out(p, cid, 25)][:1]
    free = [p for p in pool if not held_out(p, cid, 25)]
    texted = [p for v in drawn for p in [q for q in free if variant_of(q, cid, drawn) == v][:2]]
    stores = [f"con-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    for n, store_id in enumerate(stores):
        put_store(stack, store_id, ["LS6"], f"+44113496020{n}", mps=5)
    store_of = {phone: stores[n % 2] for n, phone in enumerate(held + texted)}
    contacts = [person(p, "console-ab", store_id=store_of[p]) for p in held + texted]
    api(stack, "POST", "/api/contacts", {"contacts": contacts})
    assert eventually(lambda: all(handset(stack, n) for n in texted) or None, timeout_s=60)
    integration = api(stack, "POST", "/api/keys", {"name": f"orders-{uuid.uuid4().hex[:6]}", "role": "integration"})
    order = order_event(f"evt-{uuid.uuid4().hex[:8]}", held[0], store_of[held[0]], at=datetime.now(UTC).isoformat())
    assert post_event(stack, integration["key"], order).status_code == 202  # the control group's: no text before it
    sign_in(browser, stack, keys["olivia"], at=f"#/campaigns/{cid}")

    def compared(driver: WebDriver) -> str | None:
        said = find(driver, "#holdout").text if driver.find_elements(By.CSS_SELECTOR, "#holdout") else ""
        return said if "1 of their orders" in said else None

    said = wait(browser, compared, 40)
    assert said.startswith("Control group: 1 texted nothing;") and "The texts added -4 orders" in said
    for variant in ("short", "long"):
        row = f"#by-variant tr[data-group={variant}]"
        assert find(browser, f"{row} td[data-metric=planned]").text == "2"
        assert find(browser, f"{row} td[data-metric=sent]").text == "2"
    shown_stores = {e.get_attribute("data-group") for e in browser.find_elements(By.CSS_SELECTOR, "#by-store tbody tr")}
    assert shown_stores == set(stores)
    assert find(browser, "#campaign").text.count("Control group") >= 2  # the campaign's facts say it too
    assert unlabelled(browser) == []  # the tables' scrolling regions are named by their captions
    shoot(browser, "campaign-report")


def test_no_console_errors_after_the_refused_saves(browser: WebDriver) -> None:
    """Chromium logs every 4xx answer it loads: the two saves refused on purpose were read above; nothing since."""
    assert console_errors(browser) == []
