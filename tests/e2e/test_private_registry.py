"""The portal's private registry in one story, in a real browser (issue "The web portal's private
registry"): in team acme/alpha the owner creates a model in the Entity Creation Hub (its overview
carries a script), uploads two versions through the upload page (a nested folder, each with its own
metrics table), finds the model in the catalog and by search, compares the versions' metrics,
downloads a file from the File Browser, edits the details, checks the script stayed inert, creates a
resource and a Helm chart record through the hub's forms, and deletes the model after confirming.
Then alpha's Registry Read member sees no write controls and is refused (403) with nothing changed,
and a beta member sees none of it (404, absent from the catalog). Screenshots go to a folder the run
prints."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

from artifacts.versioned.models import ArtifactFile, ArtifactKind, ArtifactVersion, VersionedArtifact
from helmrepo.models import Chart
from tests.e2e.browser import chromium, sign_in
from tests.e2e.test_upload_page import write_tree
from tests.support.web import onboard

MODEL = "acme/alpha/sentiment"
RESOURCE = "acme/alpha/sentiment-scripts"
CHART = "acme/alpha/sentiment-serving"
V2_FILES = {"config.json": b'{"layers": 24}\n', "eval/results/summary.txt": b"F1 0.91\n"}
POST_AS_PAGE = """async (url) => {
    const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
    const response = await fetch(url, {method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
        body: "display_name=hacked&short_description=hacked"});
    return response.status;
}"""


def upload_through_the_page(page, expect, version: str, folder: Path, metrics: tuple[str, str, str], count: int) -> None:
    """From the model's page: Upload Version, the details and one metrics table, a folder, Upload."""
    page.get_by_role("link", name="Upload Version").click()
    expect(page.get_by_role("heading", name="Upload a model version")).to_be_visible()
    page.get_by_label("Version", exact=True).fill(version)
    page.get_by_label("Description").fill(f"Version {version} from the browser")
    page.get_by_label("Batch size").fill("32")
    page.get_by_label("GPU model").select_option("A100")
    page.get_by_role("button", name="Add custom metrics table").click()
    table, key, value = metrics
    page.get_by_label("Table 1 name").fill(table)
    page.get_by_label("Table 1 key 1").fill(key)
    page.get_by_label("Table 1 value 1").fill(value)
    page.set_input_files("#folder-input", str(folder))
    page.get_by_role("button", name="Upload version").click()
    status = page.locator("#upload-status")
    expect(status).to_have_attribute("data-state", re.compile("complete|failed"), timeout=120_000)
    expect(status).to_have_text(re.compile(rf"Upload complete: version {re.escape(version)} has {count} file\(s\)"))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_private_registry_story(personas, live_server_https, celery_worker, tmp_path, camera):
    from playwright.sync_api import expect

    onboard(personas.owner, personas.alpha_registry_read, personas.beta_user)
    v1_tree, v2_tree = tmp_path / "v1", tmp_path / "v2"
    v1_files = write_tree(v1_tree)
    for path, data in V2_FILES.items():
        (v2_tree / path).parent.mkdir(parents=True, exist_ok=True)
        (v2_tree / path).write_bytes(data)
    base = live_server_https.url
    resource_url, chart_url = reverse("versioned:resource", args=[RESOURCE]), reverse("helmcharts:chart", args=[CHART])

    with chromium() as browser:
        context = browser.new_context(ignore_https_errors=True, accept_downloads=True, viewport={"width": 1360, "height": 900})
        page = context.new_page()
        sign_in(page, base, personas.owner)
        nav = page.get_by_role("navigation", name="Main")

        # --- Create Model in the hub, its overview carrying a script --------------------------
        nav.get_by_role("link", name="Create", exact=True).click()
        expect(page.get_by_role("heading", name="Entity Creation Hub")).to_be_visible()
        camera.shoot(page, "hub")
        page.get_by_test_id("hub-cards").get_by_role("link", name="Create Model").click()
        page.get_by_label("Name", exact=True).fill("sentiment")
        page.get_by_label("Display name").fill("Sentiment BERT")
        page.get_by_label("Description", exact=True).fill("Classifies review sentiment.")
        page.get_by_label("Overview").fill("## Usage\n\nRun it.\n\n<script>window.__pwned=1</script>\n")
        page.get_by_label("Labels").fill("nlp, reviews")
        page.get_by_role("button", name="Create Model").click()
        expect(page.get_by_text(f"Created model {MODEL}.")).to_be_visible()

        # --- two versions through the upload page --------------------------------------------
        upload_through_the_page(page, expect, "1.0", v1_tree, ("Evaluation", "F1", "0.81"), len(v1_files))
        camera.shoot(page, "upload-v1-done")
        page.get_by_role("link", name=MODEL).first.click()
        upload_through_the_page(page, expect, "2.0", v2_tree, ("Validation", "F1", "0.91"), len(V2_FILES))
        page.get_by_role("link", name=MODEL).first.click()
        expect(page.locator("#download-latest")).to_have_text(f"ngc registry model download-version {MODEL}:2.0")

        # --- the catalog, and search ---------------------------------------------------------
        nav.get_by_role("link", name="Catalog").click()
        cards = page.get_by_test_id("catalog-cards")
        expect(cards.get_by_role("link", name="Sentiment BERT")).to_be_visible()
        page.get_by_label("Search", exact=True).fill("review sentiment")
        page.get_by_role("button", name="Apply").click()
        expect(cards.get_by_role("link", name="Sentiment BERT")).to_be_visible()
        camera.shoot(page, "catalog-search")
        page.get_by_label("Search", exact=True).fill("speech")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_test_id("catalog-empty")).to_be_visible()
        page.get_by_label("Search", exact=True).fill("nlp")
        page.get_by_role("button", name="Apply").click()
        cards.get_by_role("link", name="Sentiment BERT").click()

        # --- compare the versions' metrics ---------------------------------------------------
        page.get_by_role("navigation", name="Model").get_by_role("link", name="Versions").click()
        page.get_by_label("Compare 1.0").check()
        page.get_by_label("Compare 2.0").check()
        page.get_by_role("button", name="Compare").click()
        compare = page.get_by_test_id("compare-table")
        f1 = compare.get_by_role("row").filter(has=page.get_by_role("rowheader", name="F1"))
        expect(f1.first).to_be_visible()
        expect(compare).to_contain_text("0.91")
        expect(compare).to_contain_text("0.81")
        camera.shoot(page, "compare")

        # --- File Browser: a nested folder, then a download -----------------------------------
        page.get_by_role("navigation", name="Model").get_by_role("link", name="File Browser").click()
        files = page.get_by_test_id("file-table")
        files.get_by_role("link", name="eval/", exact=False).first.click()
        page.get_by_test_id("file-table").get_by_role("link", name="results/", exact=False).first.click()
        with page.expect_download() as info:
            page.get_by_role("link", name="Download eval/results/summary.txt").click()
        assert Path(info.value.path()).read_bytes() == V2_FILES["eval/results/summary.txt"]
        camera.shoot(page, "file-browser")

        # --- Edit Details; the overview's script stayed inert ---------------------------------
        page.get_by_role("link", name="Edit Details").click()
        page.get_by_label("Display name").fill("Sentiment BERT XL")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"Saved the details of {MODEL}.")).to_be_visible()
        expect(page.get_by_role("heading", name="Sentiment BERT XL")).to_be_visible()
        expect(page.get_by_role("heading", name="Usage")).to_be_visible()
        assert page.evaluate("typeof window.__pwned") == "undefined"
        camera.shoot(page, "model-overview")

        # --- a resource and a chart record through the hub's forms ----------------------------
        nav.get_by_role("link", name="Create", exact=True).click()
        page.get_by_test_id("hub-cards").get_by_role("link", name="Create Resource").click()
        page.get_by_label("Name", exact=True).fill("sentiment-scripts")
        page.get_by_label("Display name").fill("Sentiment scripts")
        page.get_by_role("button", name="Create Resource").click()
        expect(page.get_by_text(f"Created resource {RESOURCE}.")).to_be_visible()
        nav.get_by_role("link", name="Create", exact=True).click()
        page.get_by_test_id("hub-cards").get_by_role("link", name="Create Helm Chart").click()
        page.get_by_label("Name", exact=True).fill("bad name")
        page.get_by_label("Short description").fill("Serves the sentiment model")
        page.get_by_role("button", name="Create Helm Chart").click()
        expect(page.get_by_text("Use 1-64 lowercase letters")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("sentiment-serving")
        page.get_by_label("Labels").fill("serving")
        page.get_by_label("Overview").fill("## Install\n\n<script>window.__pwned=2</script>")
        camera.shoot(page, "chart-create")
        page.get_by_role("button", name="Create Helm Chart").click()
        expect(page.get_by_text(f"Created Helm chart {CHART}.")).to_be_visible()
        assert page.evaluate("typeof window.__pwned") == "undefined"

        # --- delete the model, with confirmation ----------------------------------------------
        page.goto(f"{base}{reverse('versioned:model', args=[MODEL])}")
        page.get_by_role("link", name="Delete Model").click()
        expect(page.get_by_text(f"{MODEL}:1.0")).to_be_visible()
        expect(page.get_by_text(f"{MODEL}:2.0")).to_be_visible()
        camera.shoot(page, "delete-confirm")
        page.get_by_role("button", name="Delete model").click()
        expect(page.get_by_text(f"Deleted model {MODEL} and its 2 version(s).")).to_be_visible()
        context.close()

        # --- alpha's Registry Read member -----------------------------------------------------
        reader = browser.new_context(ignore_https_errors=True, viewport={"width": 1360, "height": 900}).new_page()
        sign_in(reader, base, personas.alpha_registry_read)
        reader.goto(f"{base}{resource_url}")
        expect(reader.get_by_role("heading", name="Sentiment scripts")).to_be_visible()
        for name in ("Edit Details", "Upload Version", "Delete Resource"):
            expect(reader.get_by_role("link", name=name)).to_have_count(0)
        camera.shoot(reader, "reader-resource")
        reader.goto(f"{base}{chart_url}")
        for name in ("Edit Details", "Delete Chart"):
            expect(reader.get_by_role("link", name=name)).to_have_count(0)
        reader.goto(f"{base}{reverse('registry:hub')}")
        expect(reader.get_by_test_id("hub-cards").get_by_role("link")).to_have_count(0)
        for url in (reverse("versioned:resource-edit", args=[RESOURCE]), reverse("versioned:resource-delete", args=[RESOURCE]),
                    reverse("helmcharts:chart-edit", args=[CHART]), reverse("helmcharts:chart-delete", args=[CHART]),
                    reverse("helmcharts:chart-create")):
            assert reader.evaluate(POST_AS_PAGE, url) == 403, url

        # --- a member of another team ---------------------------------------------------------
        outsider = browser.new_context(ignore_https_errors=True, viewport={"width": 1360, "height": 900}).new_page()
        sign_in(outsider, base, personas.beta_user, team="acme/beta")
        for url in (resource_url, chart_url, reverse("registry:resource-upload", args=[RESOURCE])):
            assert outsider.goto(f"{base}{url}").status == 404, url
        outsider.goto(f"{base}{reverse('registry:catalog')}?q=sentiment")
        expect(outsider.get_by_test_id("catalog-empty")).to_be_visible()
        outsider.goto(f"{base}{reverse('registry:catalog')}")
        expect(outsider.locator("main")).not_to_contain_text("sentiment")
        camera.shoot(outsider, "outsider-catalog")

    assert not VersionedArtifact.objects.filter(name="sentiment").exists()
    assert not ArtifactVersion.objects.filter(artifact__name="sentiment").exists()
    assert not ArtifactFile.objects.filter(version__artifact__name="sentiment").exists()
    resource = VersionedArtifact.objects.get(kind=ArtifactKind.RESOURCE, name="sentiment-scripts")
    assert resource.display_name == "Sentiment scripts"
    chart = Chart.objects.get(name="sentiment-serving")
    assert chart.short_description == "Serves the sentiment model" and chart.labels == ["serving"]
    assert Chart.objects.count() == 1 and VersionedArtifact.objects.count() == 1
