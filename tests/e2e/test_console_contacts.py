"""The console's Contacts view in headless Chromium against the local stack: an
operator finds contacts by tag, a CSV file with a bad row is refused with its
line number and nothing of it imported, a good one imports, and a tag exports."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import requests
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.browser import click, console_errors, find, shoot, sign_in, tab_reaches, unlabelled, wait
from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_campaigns import api

TAG = "console-contacts"  # this file's tag and numbers (+4477009507xx): no other test's audience
ANN, BEN, CAT = "+447700950701", "+447700950702", "+447700950703"
GOOD = "+447700950711"  # only ever in a refused file first


WIDE = """return [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > 361)
  .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`).slice(0, 8)"""


def found(stack: RunningStack, number: str) -> list[str]:
    response = requests.get(
        f"{stack.api}/api/contacts?phone={quote(number)}",
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [c["phone"] for c in response.json()["contacts"]]


def upload(browser: WebDriver, path: Path) -> None:
    field = find(browser, "#import-file")
    field.send_keys(str(path))
    click(browser, "#import-submit")


def test_an_operator_finds_imports_and_exports_contacts(
    stack: RunningStack, browser: WebDriver, keys: dict[str, str], tmp_path: Path
) -> None:
    people = [
        {"phone": ANN, "tags": [TAG], "attributes": {"first_name": "Ann"}},
        {"phone": BEN, "tags": [TAG, "vip"], "attributes": {"first_name": "Ben"}},
    ]
    api(stack, "POST", "/api/contacts", {"contacts": people})
    sign_in(browser, stack, keys["olivia"], at="#/contacts")
    find(browser, "#nav-contacts")  # shown to operators

    # find by tag: each contact links to its customer view
    find(browser, "#search-term").send_keys(TAG)
    click(browser, "#search-submit")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#contact-rows tr")) == 2 or None)
    rows = browser.find_elements(By.CSS_SELECTOR, "#contact-rows tr")
    assert [row.get_attribute("data-phone") for row in rows] == [ANN, BEN]
    link = rows[0].find_element(By.CSS_SELECTOR, "a")
    assert (link.get_attribute("href") or "").endswith(f"#/customer/{quote(ANN, safe='')}")
    assert "Ben" in rows[1].text and "vip" in rows[1].text
    assert "2 contacts shown" in find(browser, "#search-summary").text

    # a file with a bad row: refused by its line, nothing of it imported
    bad = tmp_path / "bad.csv"
    bad.write_text(f"phone,tags,first_name\n{GOOD},{TAG},Gil\nnot a number,{TAG},Hal\n{CAT},{TAG},Cat\n")
    upload(browser, bad)
    rejects = find(browser, "#import-rejects")
    assert "Line 3" in rejects.text and "phone" in rejects.text
    assert "Nothing imported: 1 line refused." in find(browser, "#import-error").text
    assert found(stack, GOOD) == [] and found(stack, CAT) == []
    shoot(browser, "contacts-refused")

    # a good file imports, and a new search finds it
    good = tmp_path / "good.csv"
    good.write_text(f"phone,tags,first_name\n{CAT},{TAG};new,Cat\n{GOOD},{TAG},Gil\n")
    upload(browser, good)
    assert "Imported 2 contacts from good.csv." in find(browser, "#import-ok").text
    assert found(stack, CAT) == [CAT] and found(stack, GOOD) == [GOOD]
    click(browser, "#search-submit")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#contact-rows tr")) == 4 or None)

    # by attribute, and a phone number
    Select(find(browser, "#search-by")).select_by_value("attribute")
    term = find(browser, "#search-term")
    term.clear()
    term.send_keys("first_name")
    find(browser, "#search-value").send_keys("cat")
    click(browser, "#search-submit")
    wait(
        browser,
        lambda d: (
            [r.get_attribute("data-phone") for r in d.find_elements(By.CSS_SELECTOR, "#contact-rows tr")] == [CAT]
            or None
        ),
    )

    # export the tag as CSV
    export_tag = find(browser, "#export-tag")
    export_tag.clear()
    export_tag.send_keys(TAG)
    click(browser, "#export-submit")
    assert wait(browser, lambda d: "Exported 4 contacts" in (t := d.find_element(By.ID, "export-result").text) and t)

    assert unlabelled(browser) == []
    for control in ("search-by", "search-term", "search-submit", "import-file", "import-submit", "export-submit"):
        assert tab_reaches(browser, control, presses=60), control
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        overflow = browser.execute_script("return document.documentElement.scrollWidth")
        wide = browser.execute_script(WIDE)
        assert overflow <= 360, f"the page is {overflow} px wide at 360: {wide}"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    shoot(browser, "contacts")
    # Chromium logs every 4xx answer as a failed load: the refused file's 400 was the point
    refused = f"{stack.api}/api/contacts - Failed to load resource: the server responded with a status of 400"
    assert [error for error in console_errors(browser) if not error.startswith(refused)] == []


def test_agents_do_not_see_contacts(stack: RunningStack, browser: WebDriver, keys: dict[str, str]) -> None:
    sign_in(browser, stack, keys["alice"])
    find(browser, "#nav-inbox")
    wait(browser, lambda d: d.find_element(By.ID, "nav-saved-replies").get_attribute("hidden") is not None or None)
    assert not browser.find_element(By.ID, "nav-contacts").is_displayed()
