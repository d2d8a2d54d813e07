"""The portal's layout in a real browser (issue 17 items 11 and 12): at 390 px the navigation folds
behind a Menu button and no page scrolls sideways (wide tables scroll inside their own box); at
1280 px the favicon loads (no 404 on any page), the folder icon is an SVG that loads, catalog
filters look like form fields and progress bars use the theme colour. Screenshots go to a folder
the run prints."""
from pathlib import Path

import pytest

from artifacts.versioned import services
from artifacts.versioned.models import ArtifactKind
from tests.e2e.browser import chromium, sign_in
from tests.e2e.test_models import upload_version
from tests.support.web import onboard

WIDE_METRICS = [{"name": "Per-class accuracy", "attributes": [
    {"key": f"class-{n}-with-a-long-descriptive-name", "value": "0.9"} for n in range(12)]}]
PAGES = [
    ("dashboard", "/dashboard"), ("catalog", "/registry/catalog?view=table"), ("containers", "/registry/containers"),
    ("models", "/registry/models"), ("versions", "/registry/models/acme/alpha/wide/-/versions"),
    ("version", "/registry/models/acme/alpha/wide/-/versions/1.0"), ("files", "/registry/models/acme/alpha/wide/-/files"),
    ("users", "/org/acme/users"), ("teams", "/org/acme/teams"), ("upload", "/registry/upload/models/acme/alpha/wide"),
]


def overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0: nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_portal_fits_a_phone_and_its_controls_look_alike(personas, live_server_https, live_blob_root, settings, camera):
    from playwright.sync_api import expect

    settings.BLOB_STORE_ROOT = Path(live_blob_root)
    onboard(personas.owner)
    artifact = services.artifact_create(
        actor=personas.owner, space=personas.alpha_space, kind=ArtifactKind.MODEL, name="wide", short_description="Wide",
    )
    upload_version(artifact, "1.0", personas.owner, {"deep/folder/weights.bin": b"w" * 100, "README.md": b"# wide"},
                   custom_metrics=WIDE_METRICS, gpu_model="A100")
    base = live_server_https.url
    failed: list[str] = []

    with chromium() as browser:
        # --- a phone ------------------------------------------------------------------------
        phone = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844}).new_page()
        phone.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
        sign_in(phone, base, personas.owner)
        nav = phone.get_by_role("navigation", name="Main")
        menu = phone.get_by_role("button", name="Menu")
        expect(menu).to_be_visible()
        expect(nav).to_be_hidden()
        camera.shoot(phone, "phone-dashboard")
        menu.click()
        expect(nav).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "true")
        camera.shoot(phone, "phone-menu-open")
        nav.get_by_role("link", name="Models").click()
        expect(phone.get_by_role("heading", name="Models", exact=True)).to_be_visible()
        for name, path in PAGES:
            phone.goto(base + path)
            camera.shoot(phone, f"phone-{name}")
            assert overflow(phone) <= 0, f"{path} is {overflow(phone)} px wider than a 390 px screen"

        # --- a desktop ----------------------------------------------------------------------
        desk = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900}).new_page()
        desk.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
        sign_in(desk, base, personas.owner)
        expect(desk.get_by_role("button", name="Menu")).to_be_hidden()
        icon = desk.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
        assert icon == 200
        desk.goto(base + "/registry/models/acme/alpha/wide/-/files/1.0")
        folder = desk.locator("img.icon[src$='folder.svg']").first
        expect(folder).to_be_visible()
        assert folder.evaluate("img => img.naturalWidth") > 0
        assert "📁" not in desk.content()
        camera.shoot(desk, "desk-files")
        desk.goto(base + "/registry/catalog")
        select = desk.get_by_role("combobox", name="Kind")
        assert float(select.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)")) >= 8
        assert select.evaluate("e => e.getBoundingClientRect().height") >= 36
        camera.shoot(desk, "desk-catalog")
        desk.goto(base + "/registry/upload/models/acme/alpha/wide")
        assert desk.locator("#overall-progress").evaluate("e => getComputedStyle(e).accentColor") == "rgb(118, 185, 0)"
        desk.get_by_role("button", name="Add custom metrics table").click()
        key = desk.get_by_label("Table 1 key 1")
        assert key.evaluate("e => e.getBoundingClientRect().height") >= 36
        camera.shoot(desk, "desk-upload")

    assert failed == [], failed
