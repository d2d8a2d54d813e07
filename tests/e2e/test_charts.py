"""The Helm chart pages in a real browser (guide 6.3): two chart versions are pushed to the live
server through the Helm repository's ChartMuseum API; the owner signs in, opens Helm Charts, opens
the chart, sees its versions and the fetch command, opens Chart.yaml and values.yaml in the File
Browser (markup in them shown as text), and edits the chart's details. Screenshots of each page go
to a folder the run prints."""
import re

import pytest
import requests

from accounts import services as account_services
from tests.e2e.browser import chromium, sign_in
from tests.helmrepo import charts
from tests.support.web import onboard
from tests.support.auth import basic_auth

VALUES = b"replicaCount: 2\n# <script>window.pwned = 1</script>\nimage:\n  repository: nginx\n"


def package(version: str) -> bytes:
    return charts.tar_gz([
        charts.file_member("webapp/Chart.yaml", charts.chart_yaml("webapp", version, description="A web application")),
        charts.file_member("webapp/values.yaml", VALUES),
        charts.file_member("webapp/templates/deployment.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"),
    ])


def helm_push(server, api_key: str, space: str, data: bytes) -> None:
    response = requests.post(f"{server.url}/helm/api/{space}/charts", data=data, verify=server.ca_bundle, timeout=30,
                             headers={"Authorization": basic_auth(api_key), "Content-Type": "application/gzip"})
    assert response.status_code in (200, 201), response.text


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_owner_browses_a_chart_its_versions_and_files_and_edits_it(personas, live_server_https, camera):
    from playwright.sync_api import expect

    onboard(personas.owner)
    api_key = account_services.api_key_generate(user=personas.owner)
    for version in ("0.1.0", "1.2.0"):
        helm_push(live_server_https, api_key, "acme/alpha", package(version))

    base = live_server_https.url
    host = base.split("://", 1)[1]

    with chromium() as browser:
        page = browser.new_context(ignore_https_errors=True, viewport={"width": 1360, "height": 900}).new_page()
        sign_in(page, base, personas.owner)

        # --- the chart cards ----------------------------------------------------------------
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Helm Charts").click()
        expect(page.get_by_role("heading", name="Helm Charts", exact=True)).to_be_visible()
        cards = page.get_by_test_id("chart-cards")
        expect(cards.get_by_role("link", name=re.compile("webapp"))).to_be_visible()
        expect(cards.get_by_text("1.2.0")).to_be_visible()
        camera.shoot(page, "chart-cards")

        # --- the chart: overview with the fetch command, then versions ------------------------
        cards.get_by_role("link", name=re.compile("webapp")).click()
        expect(page.get_by_role("heading", name="webapp", exact=True)).to_be_visible()
        expect(page.locator("#fetch-latest")).to_have_text("helm fetch acme-alpha/webapp --version 1.2.0")
        expect(page.locator("#repo-add")).to_contain_text(f"helm repo add acme-alpha https://{host}/helm/acme/alpha")
        page.get_by_role("button", name="Copy fetch command for 1.2.0").click()
        expect(page.get_by_role("button", name="Copy fetch command for 1.2.0")).to_have_text(re.compile("Copied|Copy"))
        camera.shoot(page, "chart-overview")

        page.get_by_role("navigation", name="Chart").get_by_role("link", name=re.compile("Versions")).click()
        versions = page.get_by_test_id("version-table")
        expect(versions.locator("code.version-name")).to_have_text(["1.2.0", "0.1.0"])
        expect(versions.get_by_role("columnheader", name="File Count")).to_be_visible()
        expect(versions.get_by_text("helm fetch acme-alpha/webapp --version 0.1.0")).to_be_visible()
        camera.shoot(page, "chart-versions")

        # --- the File Browser ---------------------------------------------------------------
        page.get_by_role("navigation", name="Chart").get_by_role("link", name="File Browser").click()
        files = page.get_by_test_id("file-table")
        files.get_by_role("link", name="webapp/").click()
        page.get_by_test_id("file-table").get_by_role("link", name="Chart.yaml").click()
        view = page.get_by_test_id("file-view")
        expect(view.locator("pre")).to_contain_text("name: webapp")
        expect(view.locator("pre")).to_contain_text("version: 1.2.0")
        camera.shoot(page, "file-browser-chart-yaml")
        page.get_by_test_id("file-table").get_by_role("link", name="values.yaml").click()
        expect(page.get_by_test_id("file-view").locator("pre")).to_contain_text("<script>window.pwned = 1</script>")
        assert page.evaluate("window.pwned") is None
        assert page.locator(".file-view script").count() == 0
        page.locator(".version-picker").get_by_role("link", name="0.1.0").click()
        expect(page.get_by_text("webapp-0.1.0.tgz")).to_be_visible()

        # --- Edit Details -------------------------------------------------------------------
        page.get_by_role("link", name="Edit Details").click()
        expect(page.get_by_role("heading", name="Edit Details")).to_be_visible()
        page.get_by_label("Display name").fill("Web Application")
        page.get_by_label("Short description").fill("Deploys the web application.")
        page.get_by_label("Overview").fill("## Install\n\n```\nhelm install web acme-alpha/webapp\n```\n\n<script>window.pwned = 2</script>")
        page.get_by_label("Labels").fill("Helm Chart, Web")
        page.get_by_label("Publisher").fill("Acme Research")
        camera.shoot(page, "edit-details")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved the details of acme/alpha/webapp.")).to_be_visible()
        expect(page.get_by_role("heading", name="Web Application")).to_be_visible()
        expect(page.get_by_role("heading", name="Install")).to_be_visible()
        expect(page.get_by_text("Helm Chart", exact=True)).to_be_visible()
        assert page.evaluate("window.pwned") is None
        camera.shoot(page, "overview-after-edit")
