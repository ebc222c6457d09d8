"""Driving the console in Debian's headless Chromium (chromium + chromium-driver,
installed by `make browser`): the browser fixture, waits that survive the
console's re-rendering, screenshots at 1280 px and 360 px into
build/console-screenshots/, signing in, and the keys the browser tests use.
Each browser test file imports what it needs from here."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from local.stack import ROOT
from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_campaigns import api

SHOTS = ROOT / "build" / "console-screenshots"
WIDTHS = ((1280, 900), (360, 780))
T = TypeVar("T")


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[WebDriver]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no chromium/chromedriver: `make browser` installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))  # no Selenium Manager
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"console screenshots: {SHOTS}")


def wait(driver: WebDriver, probe: Callable[[WebDriver], T | None], timeout_s: float = 15.0) -> T:
    # The inbox re-renders as it polls: an element found a moment ago may be gone, so look again.
    result = WebDriverWait(driver, timeout_s, 0.1, ignored_exceptions=[StaleElementReferenceException]).until(probe)
    assert result is not None  # until() raises rather than give up
    return result


def find(driver: WebDriver, css: str) -> WebElement:
    return wait(driver, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None))


def click(driver: WebDriver, css: str) -> None:
    def clicked(d: WebDriver) -> bool:
        find(d, css).click()
        return True

    wait(driver, clicked)


UNLABELLED = """
return [...document.querySelectorAll("input, textarea, select, button, a[href]")]
  .filter((e) => e.getClientRects().length > 0)
  .filter((e) => {
    const labels = e.labels ? [...e.labels].map((l) => l.textContent).join("") : "";
    return !(e.getAttribute("aria-label") || labels || e.textContent).trim();
  })
  .map((e) => e.outerHTML.slice(0, 120));
"""


def unlabelled(driver: WebDriver) -> list[str]:
    """Controls on screen without a name a screen reader could announce."""
    found: list[str] = driver.execute_script(UNLABELLED)
    return found


def tab_reaches(driver: WebDriver, element_id: str, presses: int = 40) -> bool:
    driver.execute_script("document.activeElement?.blur(); window.scrollTo(0, 0)")
    for _ in range(presses + 1):
        # a key press to the page, as a keyboard gives it (to whatever has focus then), not to an
        # element found first: the console re-renders every few seconds, and an element found a
        # moment ago may be gone ("element not interactable", seen once under a loaded machine)
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script("return document.activeElement?.id") == element_id:
            return True
    return False


def shoot(driver: WebDriver, name: str) -> list[Path]:
    """The whole page at each width (the window grows to the page's height)."""
    paths = []
    for width, height in WIDTHS:
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        time.sleep(0.3)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {**metrics, "height": min(max(full, height), 2400)}
        )
        time.sleep(0.2)
        path = SHOTS / f"{name}-{width}.png"
        driver.save_screenshot(str(path))
        paths.append(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return paths


def sign_in(driver: WebDriver, stack: RunningStack, key: str = OPERATOR_TOKEN, at: str = "") -> None:
    driver.get(f"{stack.api}/console")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{stack.api}/console{at}")
    field = find(driver, "#key")
    field.send_keys(key)
    driver.find_element(By.ID, "login-submit").click()


@pytest.fixture(scope="session")
def keys(stack: RunningStack) -> dict[str, str]:
    """Two agents' keys and an operator's, made by the admin route (as `make key` does): once per
    session, like the stack (a name in use cannot be made again), shared by every browser test file."""
    made = {}
    for name, role in (("alice", "agent"), ("bob", "agent"), ("olivia", "operator")):
        made[name] = api(stack, "POST", "/api/keys", {"name": name, "role": role})["key"]
    return made


def console_errors(driver: WebDriver) -> list[str]:
    """What the page logged as errors, but the refusals of a wrong or revoked key."""
    logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    errors = [entry["message"] for entry in logs if entry["level"] == "SEVERE"]
    return [m for m in errors if "401" not in m and "403" not in m]


def console_errors_until(driver: WebDriver, enough: Callable[[list[str]], bool]) -> list[str]:
    """The page's errors once `enough` holds: chromedriver hands log entries over a moment after the
    page has acted on the answer, and each read empties its buffer, so the reads are added up."""
    seen: list[str] = []

    def gathered(d: WebDriver) -> list[str] | None:
        seen.extend(console_errors(d))
        return seen if enough(seen) else None

    return wait(driver, gathered)
