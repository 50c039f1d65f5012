"""Debian's chromium, headless, driven through chromium-driver by Selenium: a real browser for
the web tests. Nothing is downloaded: the driver and browser are the system's (.ci/run
installs them), and Selenium Manager is told to stay offline."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for p in (CHROMIUM, DRIVER):
        if not p.exists():
            return f"{p} is missing: apt-get install chromium chromium-driver (.ci/run does)"
    return None


@contextmanager
def chromium() -> Iterator[object]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for drivers online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="nw-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for f in (*FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(f)
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(DRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
