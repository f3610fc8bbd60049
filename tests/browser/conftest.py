"""A real Chromium for the browser tests (Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium), skipped with the reason where either is absent; ``.ci/run`` installs
both. Screenshots go to ``$BROWSER_ARTIFACTS`` (default ``build/screenshots``), the test
artefacts people look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "")
DESKTOP = (1280, 900)
PHONE = (390, 844)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are saved (created)."""
    root = Path(os.environ.get("BROWSER_ARTIFACTS", "build/screenshots"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium at desktop size (``set_window_size(*PHONE)`` for a phone), its
    console log readable with ``browser.get_log("browser")``."""
    if not Path(CHROMIUM).exists() or not CHROMEDRIVER:
        pytest.skip(
            "Chromium or ChromeDriver is absent (apt-get install chromium chromium-driver); "
            "browser tests skipped"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()
