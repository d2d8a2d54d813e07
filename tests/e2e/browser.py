"""What the browser tests share: Debian's Chromium, launched headless; a screenshot camera; sign-in.

Playwright's sync API runs an event loop in the test's thread while the browser is open, so the
tests touch the database only through fixtures, before and after that block (Django refuses ORM
calls from inside a running loop).
"""
from contextlib import contextmanager

from tests.support.personas import PASSWORD

CHROMIUM = "/usr/bin/chromium"  # Debian's build; never a browser downloaded by a test tool
# Without the background-networking flags Chromium floods the closed network with refused connections.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextmanager
def chromium():
    """Debian's Chromium through Playwright, closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Camera:
    """Saves a full-page screenshot of each page visited, numbered in order."""

    def __init__(self, folder):
        self.folder, self.count = folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def shoot(self, page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def sign_in(page, base, user, *, team="acme/alpha"):
    """Sign in as a persona (e-mail, Continue, then the password) and pick acme and `team` on "Set your organization"."""
    page.goto(f"{base}/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_role("button", name="Continue").click()  # step 1: the e-mail alone
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Set your organization").wait_for()
    page.get_by_label("Organization").select_option("acme")
    page.get_by_label("Team", exact=True).select_option(team)
    page.get_by_role("button", name="Continue").click()
