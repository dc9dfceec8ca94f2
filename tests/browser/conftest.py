"""A real headless Chromium (Debian's `chromium`, driven by Playwright's own driver; no browser is
downloaded) against a real `python main.py serve` on a free loopback port.

The browser fixtures skip, with the reason, only when no browser can be had: the `playwright`
package missing, no Chromium binary, or a Chromium that cannot start. `.ci/run` installs Chromium
when it is missing. Screenshots of every page go to var/screenshots/ (git-ignored) for a person to
look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server

CHROMIUM = os.environ.get("CHURN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def playwright_driver():
    """Per module, not per session: Playwright's sync API keeps an event loop running in this thread
    while it is started, and later tests that call asyncio.run need it stopped."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install -r requirements.txt)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver, tmp_path_factory):
    """One Chromium per test module, with a fresh, empty user-data directory."""
    from playwright.sync_api import Error

    profile = tmp_path_factory.mktemp("chromium-profile")
    try:
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, viewport=DESKTOP, accept_downloads=True,
            locale="en-US",
        )
    except Error as exc:
        pytest.skip(f"Chromium at {CHROMIUM} could not start: {str(exc).splitlines()[0]}")
    context.set_default_timeout(20_000)
    yield context
    context.close()


def start_server(tmp_path_factory, name: str, **env: str) -> Server:
    return Server(tmp_path_factory.mktemp(name) / "home", CHURN_ACCESS_LOG="off", **env).start()


class Watched:
    """A page whose script errors, console errors (CSP refusals are reported there) and dialogs
    (an `alert` from injected markup) are recorded for the test to assert on."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.urls: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text} at {msg.location}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.urls.append(request.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def shoot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def watched(browser):
    """A new tab (so a new, empty sessionStorage) in the module's browser."""
    page = browser.new_page()
    yield Watched(page)
    page.close()
