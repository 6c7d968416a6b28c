"""The dashboard in a real headless Chromium (Debian's, through its chromedriver; `make browser` installs both)
against the offline stack: sign in, live progress bars, failures by code, the item filter, cancel, retry, a report
link, escaping, and a screenshot of a batch page (also written to $DASHBOARD_SCREENSHOT when set, for the README)."""

import base64
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from local.stack import OfflineStack
from tests.integration.client import Api
from tests.integration.conftest import SlowContents

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PRICE = "content.update-price"
# The machine has no network: without these, Chromium waits on its own background requests (updates, sync).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: `make browser` installs them", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="dashboard-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
        # A script error or a refused load (the policy allows only this origin) would show in the console.
        logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]  # unannotated
        problems = [e["message"] for e in logs if "Uncaught" in e["message"] or "Content Security" in e["message"]]
        assert problems == []
    finally:
        driver.quit()
        profile.cleanup()


def _wait(driver: WebDriver, timeout: float = 20) -> WebDriverWait[WebDriver]:
    # The page re-renders its rows on each refresh: an element found a moment ago may be gone, so look again.
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


# What a condition answers: something, or None or False for "not yet".
type Condition[T] = Callable[[WebDriver], T | Literal[False] | None]


def _until[T](driver: WebDriver, condition: Condition[T], timeout: float = 20) -> T:
    """What the condition answers once it answers something (not None, False, "" or 0)."""
    return _wait(driver, timeout).until(lambda d: condition(d) or False)


def _visible(driver: WebDriver, testid: str) -> WebElement:
    def shown(d: WebDriver) -> WebElement | None:
        found = d.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')
        return found[0] if found and found[0].is_displayed() else None

    return _until(driver, shown)


def _text(driver: WebDriver, testid: str) -> str:
    """The text of a shown element, once it is shown."""
    return _visible(driver, testid).text


def _now(driver: WebDriver, testid: str) -> str:
    """The text of a shown element now ("" if none is shown): for conditions, which must not wait themselves."""
    found = driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')
    return found[0].text if found and found[0].is_displayed() else ""


def _row(driver: WebDriver, batch_id: str) -> dict[str, Any] | None:
    """A batch's row of the list as the page shows it: its bar's value and max, its status (None: not shown)."""
    row: dict[str, Any] | None = driver.execute_script(
        """const row = document.querySelector(`tr[data-batch-id="${arguments[0]}"]`);
        if (!row || row.offsetParent === null) return null;
        const bar = row.querySelector("progress");
        return {value: bar.value, max: bar.max, status: row.dataset.status};""",
        batch_id,
    )
    return row


# The statuses and indexes of the items table's rows, read at once (the table may be re-rendered between two reads).
STATUSES = 'return [...document.querySelectorAll("#items tr")].map((row) => row.dataset.status)'
INDEXES = 'return [...document.querySelectorAll("#items tr")].map((row) => Number(row.dataset.index))'


def _row_when(
    driver: WebDriver, batch_id: str, test: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict[str, Any]:
    """The batch's row once it passes the test."""
    return _until(driver, lambda d: row if (row := _row(d, batch_id)) is not None and test(row) else None, timeout)


def _open(driver: WebDriver, stack: OfflineStack) -> None:
    driver.get(f"{stack.api_url}/dashboard")
    _visible(driver, "signin")


def _open_batch(driver: WebDriver, batch_id: str) -> None:
    driver.execute_script("window.location.hash = arguments[0]", f"#/batches/{batch_id}")
    _until(driver, lambda d: _now(d, "batch-id") == batch_id and _now(d, "batch-status"))


def test_a_pasted_token_a_bar_that_moves_to_its_end_cancel_and_escaped_data(
    browser: WebDriver, stack: OfflineStack, user: Api, slow_contents: SlowContents
) -> None:
    watched = user.submit(PRICE, slow_contents(8, 0.8), {"newPrice": 3}, maxConcurrency=1)["batchId"]
    cancelled = user.submit(PRICE, slow_contents(30, 0.8), {"newPrice": 4}, maxConcurrency=1)["batchId"]
    hostile = "<img src=x onerror=window.pwned=1>"
    created = user.submit("content.create", [{"title": hostile, "contentType": "article", "price": 1}], {})["batchId"]

    # As deployed: no local issuer (its requests fail here), so no demo button; a pasted token signs in.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/_local/*"]})
    _open(browser, stack)
    _until(browser, lambda d: d.find_element(By.ID, "signin").get_attribute("data-demo") == "unavailable")
    assert not browser.find_element(By.ID, "demo-token").is_displayed()
    assert user.token is not None
    browser.find_element(By.ID, "token-input").send_keys(f"Bearer {user.token}")
    browser.find_element(By.ID, "signin-button").click()
    assert _text(browser, "whoami") == f"Signed in as {user.owner}"

    # The list polls every 2 s while a batch runs: the bar is read mid-way, then further on, then at its end.
    first = _row_when(browser, watched, lambda row: 0 < row["value"] < row["max"])
    _row_when(browser, watched, lambda row: row["value"] > first["value"])
    done = _row_when(browser, watched, lambda row: row["status"] == "completed", timeout=40)
    assert done["value"] == done["max"] == 8
    assert browser.find_element(By.ID, "list-polling").get_attribute("data-polling") == "true"  # one still runs

    _open_batch(browser, cancelled)
    assert _text(browser, "batch-status") == "processing"
    _visible(browser, "cancel-button").click()
    _until(browser, lambda d: _now(d, "batch-status") == "cancelled", timeout=40)
    assert not browser.find_element(By.ID, "cancel-button").is_displayed()
    assert int(_text(browser, "count-cancelled")) > 0
    assert user.batch(cancelled)["status"] == "cancelled"

    # Its 30 items, 25 a page: the second page holds the last 5 (the API's nextToken, followed by the page).
    Select(browser.find_element(By.ID, "items-limit")).select_by_value("25")
    _until(browser, lambda d: d.execute_script(INDEXES) == list(range(25)))
    _visible(browser, "items-next").click()
    _until(browser, lambda d: d.execute_script(INDEXES) == list(range(25, 30)))
    assert _text(browser, "items-page") == "Page 2" and not browser.find_element(By.ID, "items-next").is_enabled()
    _visible(browser, "items-prev").click()
    _until(browser, lambda d: d.execute_script(INDEXES) == list(range(25)))

    # Data is text: the item's input is shown as written, and nothing in it runs.
    _open_batch(browser, created)
    _until(browser, lambda d: hostile in d.find_element(By.ID, "items").text)
    assert browser.find_elements(By.CSS_SELECTOR, "#items img") == []
    assert browser.execute_script("return window.pwned") is None


def test_demo_token_failures_by_code_filter_report_retry_and_a_screenshot(
    browser: WebDriver, stack: OfflineStack, tmp_path: Path
) -> None:
    assert stack.issuer is not None
    demo = Api(stack.api_url, stack.issuer.issue("demo-user"), owner="demo-user")
    missing = ["no-such-content-1", "no-such-content-2"]
    batch_id = demo.submit(PRICE, [*demo.create_contents(6), *missing], {"newPrice": 250})["batchId"]
    demo.wait_final(batch_id)

    _open(browser, stack)
    _visible(browser, "demo-token").click()  # shown: the local stack's issuer answers
    assert _text(browser, "whoami") == "Signed in as demo-user"
    _visible(browser, "batch-list")
    _row_when(browser, batch_id, lambda row: row["status"] == "completed")
    # Every batch of demo-user's is final: the list stops refreshing.
    _until(browser, lambda d: d.find_element(By.ID, "list-polling").get_attribute("data-polling") == "false")
    browser.find_element(By.CSS_SELECTOR, f'tr[data-batch-id="{batch_id}"] [data-testid="batch-link"]').click()

    _until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="failure-row"][data-code="not_found"]'))
    failure = browser.find_element(By.CSS_SELECTOR, '[data-testid="failure-row"][data-code="not_found"]')
    assert failure.find_element(By.CSS_SELECTOR, '[data-testid="failure-count"]').text == "2"
    assert (_text(browser, "count-succeeded"), _text(browser, "count-failed")) == ("6", "2")
    assert _text(browser, "success-rate") == "75.0 %"
    assert _text(browser, "duration") != "—" and _text(browser, "completed-at").endswith("UTC")
    _until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="item-row"]')) == 8)

    # A report: the page gets its presigned link from the API and the link serves the failed items.
    _visible(browser, "report-csv-failed").click()
    link = _visible(browser, "report-link").get_attribute("href")
    assert link is not None
    with urllib.request.urlopen(link, timeout=30) as download:  # noqa: S310 - the local stack's endpoint
        report = download.read().decode()
    assert all(m in report for m in missing) and report.count("not_found") == 2

    _screenshot(browser, tmp_path / "batch-page.png")

    Select(browser.find_element(By.ID, "items-status")).select_by_value("failed")
    _until(browser, lambda d: d.execute_script(STATUSES) == ["failed", "failed"])
    assert "not_found" in browser.find_element(By.ID, "items").text

    # Retry: a new batch of the failed items, opened at once; its parent then offers no second retry.
    _visible(browser, "retry-button").click()
    _until(browser, lambda d: _now(d, "batch-id") not in ("", batch_id) and _now(d, "batch-status"))
    _visible(browser, "parent-link")
    _until(browser, lambda d: _now(d, "batch-status") == "completed", timeout=40)
    assert _text(browser, "count-total") == "2"
    _visible(browser, "parent-link").click()
    _visible(browser, "retried-by-link")
    assert not browser.find_element(By.ID, "retry-button").is_displayed()

    # An API error is shown as the API said it.
    browser.execute_script("window.location.hash = arguments[0]", "#/batches/no-such-batch")
    assert _text(browser, "error-text") == "HTTP 404 not_found: batch no-such-batch not found"
    assert _now(browser, "count-total") == "—"  # nothing of the previous batch stays on screen


def _screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page, below the window's edge too (DevTools' capture: a headless window does not grow)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    targets = [path]
    if os.environ.get("DASHBOARD_SCREENSHOT"):
        targets.append(Path(os.environ["DASHBOARD_SCREENSHOT"]))
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(shot["data"]))
