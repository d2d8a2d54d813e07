"""Every page of the portal in a real browser (issue 17): as the owner and as a Registry Read user,
at 1280 px and at 390 px, no page logs a console error, no asset request fails (4xx/5xx), the page
body never scrolls sideways, and axe-core finds no serious or critical violation; on the
desktop, Tab reaches every visible control of every page. The page list is
built from the portal's URL names, so a new page is visited (or must be listed in SKIPPED with a
reason). Screenshots go to a folder the run prints."""
import time
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import services as account_services
from accounts.roles import Role
from artifacts.gpu import services as gpu_services
from artifacts.versioned import services
from artifacts.versioned.models import ArtifactKind
from tests.e2e.browser import Camera, chromium, sign_in
from tests.e2e.test_charts import helm_push, package
from tests.e2e.test_containers import Pusher
from tests.e2e.test_models import upload_version
from tests.e2e.test_portal_layout import WIDE_METRICS, overflow
from tests.support.web import onboard

NAMESPACES = ("accounts", "registry", "artifacts", "versioned", "helmcharts", "gpu")
# URL names that are no page to look at: POST-only actions, redirects, and one-time token links.
SKIPPED = {
    "accounts:home": "redirects to the dashboard",
    "accounts:users": "redirects to the current space's Users page",
    "accounts:teams": "redirects to the current org's Teams page",
    "gpu:hosts-current": "redirects to the current org's GPU hosts",
    "accounts:signin": "the sign-in form is checked before signing in",
    "accounts:signout": "POST only",
    "accounts:switch-space": "POST only",
    "accounts:set-organization": "checked while signing in",
    "accounts:sso-callback": "the identity provider's redirect target",
    "accounts:invitation": "a one-time token link",
    "accounts:verify-email": "a one-time token link",
    "accounts:org-invitation-action": "POST only",
    "accounts:team-invitation-action": "POST only",
    "accounts:org-member-remove": "POST only",
    "accounts:team-member-remove": "POST only",
    "artifacts:container-tag-delete": "POST only",
    "artifacts:logo": "an uploaded image by digest, not a page (tests/artifacts/test_logos.py)",
    "versioned:model-version-delete": "POST only",
    "versioned:resource-version-delete": "POST only",
    "helmcharts:chart-version-delete": "POST only",
}
AXE_BLOCKING = {"serious", "critical"}
WIDTHS = (1280, 390)  # a desktop, then a phone
HEIGHT = 900
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal-pages"  # git-ignored


def _names(resolver, namespace: str) -> list[tuple[str, list[str]]]:
    """(name, parameters) of every named route under a namespace."""
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == namespace:
                found += [(f"{namespace}:{p.name}", list(p.pattern.converters)) for p in entry.url_patterns
                          if isinstance(p, URLPattern) and p.name]
            elif entry.namespace is None:
                found += _names(entry, namespace)
    return found


def portal_pages(samples: dict[str, dict]) -> list[tuple[str, str]]:
    """(URL name, path) for every portal page; `samples` gives the arguments by namespace prefix."""
    pages, resolver = [], get_resolver()
    for namespace in NAMESPACES:
        for name, params in _names(resolver, namespace):
            if name in SKIPPED:
                continue
            prefix = next(key for key in sorted(samples, key=len, reverse=True) if name.startswith(key))
            kwargs = {param: samples[prefix][param] for param in params}
            pages.append((name, reverse(name, kwargs=kwargs)))
    return pages


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line per rule (axe is loaded into
    every page of the context by `context.add_init_script(AXE_SCRIPT)`, not sent again per check)."""
    results = page.evaluate("options => axe.run(document, options)", {"resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:4])
            for v in results["violations"] if v["impact"] in AXE_BLOCKING]


# Marks every visible, enabled control and records which ones receive focus; returns their count.
MARK_CONTROLS = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  // checkVisibility: not inside a closed <details> (a menu, whose summary is the control), nor hidden by CSS.
  const controls = [...document.querySelectorAll(selector)].filter(e => !e.disabled
      && e.checkVisibility({checkVisibilityCSS: true, visibilityProperty: true}));
  controls.forEach((e, i) => e.dataset.kb = i);
  window.__focused = new Set();
  document.addEventListener('focusin', event => event.target.dataset && window.__focused.add(event.target.dataset.kb), true);
  return controls.length;
}"""
NOT_FOCUSED = """() => [...document.querySelectorAll('[data-kb]')].filter(e => !window.__focused.has(e.dataset.kb))
    .map(e => e.outerHTML.slice(0, 80))"""


def keyboard_misses(page) -> list[str]:
    """The visible controls that Tab never reaches (Tab pressed once per control, plus a margin)."""
    count = page.evaluate(MARK_CONTROLS)
    page.locator("body").focus()
    for _ in range(count + 5):
        page.keyboard.press("Tab")
    return page.evaluate(NOT_FOCUSED)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_every_portal_page_is_clean_for_the_owner_and_a_reader_on_a_desktop_and_a_phone(
    personas, live_server_https, live_blob_root, settings,
):
    settings.BLOB_STORE_ROOT = Path(live_blob_root)
    reader = personas.alpha_registry_read
    onboard(personas.owner, reader)
    model = services.artifact_create(actor=personas.owner, space=personas.alpha_space, kind=ArtifactKind.MODEL,
                                     name="wide", short_description="Wide")
    upload_version(model, "1.0", personas.owner, {"deep/folder/weights.bin": b"w" * 100, "README.md": b"# wide"},
                   custom_metrics=WIDE_METRICS, gpu_model="A100")
    resource = services.artifact_create(actor=personas.owner, space=personas.alpha_space, kind=ArtifactKind.RESOURCE,
                                        name="recipes", short_description="Recipes")
    upload_version(resource, "1.0", personas.owner, {"train.py": b"print(1)\n"})
    api_key = account_services.api_key_generate(user=personas.owner)
    Pusher(live_server_https, api_key).multiarch("acme/alpha/vision", "1.0")
    helm_push(live_server_https, api_key, "acme/alpha", package("1.2.0"))
    gpu_services.host_create(actor=personas.owner, org=personas.acme, name="dgx-1", architecture="amd64",
                             driver_version="550.54.15")
    account_services.invitation_create(actor=personas.owner, org=personas.acme, email="new@example.test",
                                       org_roles=[Role.REGISTRY_READ])
    member = {"org": "acme", "team": "alpha", "user_id": reader.id}
    pages = portal_pages({
        "accounts:": member, "gpu:": {"org": "acme", "name": "dgx-1"}, "registry:": {"ref": "acme/alpha/wide"},
        "artifacts:": {"name": "acme/alpha/vision", "tag": "1.0"},
        "versioned:model": {"ref": "acme/alpha/wide", "version": "1.0"},
        "versioned:resource": {"ref": "acme/alpha/recipes", "version": "1.0", "doc": "quick-start-guide"},
        "registry:resource-upload": {"ref": "acme/alpha/recipes"},
        "helmcharts:": {"ref": "acme/alpha/webapp", "version": "1.2.0"},
    })

    base = live_server_https.url
    # Outside pytest's basetemp, which keeps only the last three runs of everyone on the machine.
    camera = Camera(SCREENSHOTS / time.strftime("%Y%m%d-%H%M%S"))
    print(f"\nscreenshots: {camera.folder}")
    problems: list[str] = []

    refused: set[str] = set()  # pages that answered 4xx themselves (a reader's 403), not a failed asset

    def on_console(message, where: list[str]) -> None:
        if message.type == "error" and message.location.get("url") not in refused:
            problems.append(f"{where[0]}: console: {message.text}")

    def on_response(response, where: list[str]) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document":
            refused.add(response.url)
        else:  # an asset (style, script, image, fetch) must never fail
            problems.append(f"{where[0]}: {response.status} {response.url}")

    def watch(page, where: list[str]) -> None:
        page.on("console", lambda message: on_console(message, where))
        page.on("pageerror", lambda error: problems.append(f"{where[0]}: script error: {error}"))
        page.on("response", lambda response: on_response(response, where))

    def check(page, label: str) -> None:
        camera.shoot(page, label)
        if (wider := overflow(page)) > 0:
            problems.append(f"{label}: the page is {wider} px wider than the screen")
        problems.extend(f"{label}: {line}" for line in axe_problems(page))

    def check_each_width(page, label: str, *, keyboard: bool) -> None:
        for width in WIDTHS:  # one load, then the viewport resized: a phone's layout without loading again
            page.set_viewport_size({"width": width, "height": HEIGHT})
            check(page, f"{label}-{width}")
        page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})  # back to the desktop
        if keyboard:
            problems.extend(f"{label}: Tab never reaches {html}" for html in keyboard_misses(page))

    with chromium() as browser:
        for who, user in (("owner", personas.owner), ("reader", reader)):  # one context (one sign-in) each
            where = [f"{who}-signin"]
            context = browser.new_context(ignore_https_errors=True, viewport={"width": WIDTHS[0], "height": HEIGHT})
            context.add_init_script(AXE_SCRIPT)
            page = context.new_page()
            watch(page, where)
            page.goto(f"{base}/accounts/signin")
            check_each_width(page, where[0], keyboard=False)
            sign_in(page, base, user)
            for name, path in pages:
                where[0] = f"{who}-{name.replace(':', '-')}"
                response = page.goto(base + path)
                if response.status >= 400 and who == "owner":
                    problems.append(f"{where[0]}: {path} answered {response.status}")
                check_each_width(page, where[0], keyboard=who == "owner")
            context.close()

    assert problems == [], "\n".join(problems)
