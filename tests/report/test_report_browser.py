"""The campaign page in a real browser (Debian's headless Chromium, network off): every database a row, the
filters and the sort work with the mouse and the keyboard, printing hides the controls, the page asks for nothing
but itself. A screenshot of each state is saved under the test's temporary folder (docs/images/report.png is one,
written when RDSCA_UPDATE_SCREENSHOTS is set)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import installs

from ..conftest import REPO, invoke
from . import browser

SCREENSHOT = REPO / "docs" / "images" / "report.png"


@pytest.fixture(scope="module")
def page(outputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("page")
    path = folder / "campaign.html"
    code, out, err = invoke("report", *outputs.values(), "--html", path, "--format", "json", "--as-of", "2026-11-27")
    assert code == 1, err
    return path, json.loads(out)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    try:
        with browser.chromium(height=1500) as session:
            yield session
    except installs.Unavailable as exc:
        pytest.skip(str(exc))


def visible_identifiers(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#databases tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.cells[3].textContent.trim());")


def open_page(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())
    driver.get_log("performance")  # what loading the page asked for is read by the test that cares


def test_every_database_is_a_row_and_nothing_is_fetched(driver: Any, page: tuple[Path, dict[str, Any]],
                                                        tmp_path: Path) -> None:
    path, doc = page
    driver.get(path.as_uri())
    assert browser.requested_urls(driver) == [path.as_uri()]
    assert driver.title.startswith("rdsca rotation campaign")
    rows = visible_identifiers(driver)
    assert sorted(rows) == sorted(r["identifier"] for r in doc["databases"])
    count = driver.find_element("id", "count").text
    assert count == f"Showing {len(rows)} of {len(rows)} databases"
    # The summary's numbers are text, and agree with the table.
    cards = {li.get_attribute("data-state"): int(li.find_element("class name", "n").text)
             for li in driver.find_elements("css selector", "#by-state li")}
    assert cards == doc["summary"]["by_state"]
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    driver.save_screenshot(str(tmp_path / "report.png"))
    if os.environ.get("RDSCA_UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))


def test_filters_narrow_the_rows(driver: Any, page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    path, doc = page
    open_page(driver, path)
    Select(driver.find_element("id", "filter-state")).select_by_value("retired")
    retired = sorted(r["identifier"] for r in doc["databases"] if r["state"] == "retired")
    assert sorted(visible_identifiers(driver)) == retired and 0 < len(retired) < len(doc["databases"])
    assert driver.find_element("id", "count").text == (
        f"Showing {len(retired)} of {len(retired)} matching ({len(doc['databases'])} databases)")
    # Words narrow further: every word must appear in the row.
    box = driver.find_element("id", "filter-text")
    box.send_keys("reports-mariadb eu-west-1")
    assert visible_identifiers(driver) == ["reports-mariadb"]
    driver.save_screenshot(str(tmp_path / "filtered.png"))
    box.clear()
    box.send_keys("no-such-database")
    assert visible_identifiers(driver) == []
    Select(driver.find_element("id", "filter-state")).select_by_value("")
    box.clear()
    box.send_keys(" ")  # clear() sends no input event: one keystroke does
    assert len(visible_identifiers(driver)) == len(doc["databases"])


def test_sorting_by_mouse_and_keyboard(driver: Any, page: tuple[Path, dict[str, Any]]) -> None:
    from selenium.webdriver.common.keys import Keys

    path, doc = page
    open_page(driver, path)
    # The page opens worst first (refused, then retired, ...), as the JSON lists them.
    assert visible_identifiers(driver) == [r["identifier"] for r in doc["databases"]]
    header = driver.find_element("xpath", "//th[button='Identifier']")
    header.find_element("tag name", "button").click()
    names = visible_identifiers(driver)
    assert names == sorted(names, key=str.lower) and header.get_attribute("aria-sort") == "ascending"
    # The keyboard: Enter on the focused header button sorts the other way.
    button = header.find_element("tag name", "button")
    button.send_keys(Keys.ENTER)
    assert visible_identifiers(driver) == sorted(names, key=str.lower, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    # State sorts by severity, not by name.
    driver.find_element("xpath", "//th/button[.='State']").click()
    states = driver.execute_script(
        "return Array.from(document.querySelectorAll('#databases tbody tr')).map(r => r.dataset.state);")
    order = list(doc["summary"]["by_state"])
    assert states == sorted(states, key=order.index)


def test_a_large_fleet_draws_one_page_and_shows_all_on_request(driver: Any, tmp_path: Path) -> None:
    """Past 500 rows the page draws the first 500 matches; filters and sorting still cover every row, "Show all"
    (a button: the keyboard reaches it) draws the rest, and printing shows every match."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    databases = [{"account": "1", "region": "eu-west-1", "identifier": f"db-{i:04d}", "kind": "RDS instance",
                  "ca": "rds-ca-2019" if i % 3 == 0 else "rds-ca-rsa2048-g1",
                  "ca_status": "retired" if i % 3 == 0 else "ok", "replacement": "rds-ca-rsa2048-g1"}
                 for i in range(1200)]
    (tmp_path / "a.json").write_text(json.dumps({"accounts": [], "regions": [], "databases": databases}))
    page = tmp_path / "big.html"
    code, _out, err = invoke("report", tmp_path / "a.json", "--html", page)
    assert code == 1, err
    open_page(driver, page)
    assert len(visible_identifiers(driver)) == 500
    assert driver.find_element("id", "count").text == "Showing 500 of 1200 databases"
    button = driver.find_element("id", "show-all")
    assert button.is_displayed() and button.text == "Show all 1200"
    # The last identifier is found by the filter although it is not drawn.
    box = driver.find_element("id", "filter-text")
    box.send_keys("db-1199")
    assert visible_identifiers(driver) == ["db-1199"] and not button.is_displayed()
    box.clear()
    box.send_keys(" ")
    Select(driver.find_element("id", "filter-state")).select_by_value("retired")
    assert len(visible_identifiers(driver)) == 400 and not button.is_displayed()
    Select(driver.find_element("id", "filter-state")).select_by_value("ok")
    assert len(visible_identifiers(driver)) == 500
    assert driver.find_element("id", "count").text == "Showing 500 of 800 matching (1200 databases)"
    button.send_keys(Keys.ENTER)
    assert len(visible_identifiers(driver)) == 800
    # Sorting covers every row, drawn or not.
    Select(driver.find_element("id", "filter-state")).select_by_value("")
    driver.find_element("xpath", "//th/button[.='Identifier']").click()
    driver.find_element("xpath", "//th/button[.='Identifier']").click()
    assert visible_identifiers(driver)[0] == "db-1199"
    open_page(driver, page)
    driver.execute_script("window.dispatchEvent(new Event('beforeprint'));")
    assert len(visible_identifiers(driver)) == 1200


def test_printed_page_has_no_controls_and_every_finding(driver: Any, page: tuple[Path, dict[str, Any]],
                                                        tmp_path: Path) -> None:
    path, doc = page
    open_page(driver, path)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element("id", "filter-text").is_displayed()
        assert driver.find_element("id", "count").is_displayed()
        driver.execute_script("window.dispatchEvent(new Event('beforeprint'));")
        assert driver.execute_script("return Array.from(document.querySelectorAll('details')).every(d => d.open);")
        shown = [li for li in driver.find_elements("css selector", ".findings li") if li.is_displayed()]
        assert len(shown) == sum(len(r["findings"]) for r in doc["databases"]) > 0
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {})
        assert len(pdf["data"]) > 1000
        driver.save_screenshot(str(tmp_path / "print.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
