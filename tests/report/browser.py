"""Headless Chromium from Debian's packages, driven by Debian's chromium-driver through Selenium, with the network
off: what the report's tests and its benchmark open pages in. Installed under the tests' one rule
(``tests/installs.py``); ``Unavailable`` (a skip with the reason) where that cannot be done."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests import installs

CHROMIUM = ("chromium", "chromium")
DRIVER = ("chromedriver", "chromium-driver")


def _ensure() -> tuple[str, str]:
    paths = []
    for program, package in (CHROMIUM, DRIVER):
        if shutil.which(program) is None:
            installs.apt_install(package)
        path = shutil.which(program)
        if path is None:
            raise installs.Unavailable(f"{program} is not on PATH after installing {package}")
        paths.append(path)
    return paths[0], paths[1]


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A WebDriver session of headless Chromium that can reach no network: every request outside the page's own
    file goes to a proxy that does not exist, and DevTools' network emulation says offline."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:  # pragma: no cover - selenium is in the test extra
        raise installs.Unavailable(f"selenium is not installed ({exc})") from None
    binary, driver_path = _ensure()
    # Selenium Manager would look for drivers on the internet: not with a driver given, and never here.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--proxy-server=127.0.0.1:9",
                     "--proxy-bypass-list=<-loopback>", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (DevTools' performance log)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
