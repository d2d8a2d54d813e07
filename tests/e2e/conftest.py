"""Browser tests' fixtures. The browser itself is opened per test (tests/e2e/browser.py): while it is
open, Playwright's event loop runs in the test's thread and Django refuses ORM calls there."""
import pytest

from tests.e2e.browser import Camera


@pytest.fixture
def camera(tmp_path) -> Camera:
    """Screenshots of the pages the test visits, in a folder the run prints."""
    camera = Camera(tmp_path / "screenshots")
    print(f"\nscreenshots: {camera.folder}")
    return camera
