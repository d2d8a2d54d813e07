"""The model pages in a real browser (guide 4.2, 4.4, 4.6): the owner creates a model through the
Create Model form; two versions with files and metrics are uploaded server-side through the transfer
protocol (as `ngc registry model upload-version` would); the owner finds the model in the list and
by search, compares the versions' metrics, downloads a file from the File Browser and checks its
bytes, edits the details and deletes the model after confirming. Screenshots go to a folder the run
prints."""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from artifacts.versioned import services
from artifacts.versioned.transfers import finalize
from artifacts.versioned.models import VersionedArtifact
from tests.e2e.browser import chromium, sign_in
from tests.support.ngc_transfer import DjangoTransport, Uploader
from tests.support.web import onboard

WEIGHTS = bytes(range(256)) * 33
FILES = {"README.md": b"# Detector\n<script>alert(1)</script>\n", "weights/model.onnx": WEIGHTS}


def off_the_event_loop(function, *args, **kwargs):
    """Run ORM work in a plain thread: Playwright's sync API runs an event loop in this one."""
    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()  # the thread's own connection, or the test database cannot be dropped

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def upload_version(artifact, version: str, user, files: dict[str, bytes], **fields) -> None:
    row = services.version_create(actor=user, artifact=artifact, version=version, **fields)
    # The artifact's kind is its API path segment ("models" or "resources").
    Uploader(DjangoTransport(user), "org/acme/team/alpha", artifact.kind, artifact.name, version).upload_all(files, part_size=4096)
    finalize.version_request_completion(version=row, actor=user)
    finalize.version_finalize(row.pk)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_owner_creates_compares_downloads_edits_and_deletes_a_model(personas, live_server_https, live_blob_root, settings, camera):
    from playwright.sync_api import expect

    settings.BLOB_STORE_ROOT = Path(live_blob_root)  # the uploads below must land where the live server reads
    onboard(personas.owner)
    owner = personas.owner
    base = live_server_https.url

    with chromium() as browser:
        page = browser.new_context(ignore_https_errors=True, accept_downloads=True, viewport={"width": 1360, "height": 900}).new_page()
        sign_in(page, base, owner)

        # --- empty list, then the Create Model form -------------------------------------------
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
        expect(page.get_by_text("No models in acme/alpha yet.")).to_be_visible()
        camera.shoot(page, "models-empty")
        page.get_by_role("link", name="Create Model").first.click()
        expect(page.get_by_role("heading", name="Create Model")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("Bad Name")
        page.get_by_role("button", name="Create Model").click()
        expect(page.get_by_text("Use 1-64 lowercase letters")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("detector")
        page.get_by_label("Display name").fill("Road Detector")
        page.get_by_label("Owner").select_option(label=owner.name)
        page.get_by_label("Description", exact=True).fill("Finds cars and signs.")
        page.get_by_label("Overview").fill("## Usage\n\n| GPU | FPS |\n|---|---|\n| A100 | 900 |\n\n```\nngc registry model download-version acme/alpha/detector:2.0\n```")
        page.get_by_label("Labels").fill("vision, automotive")
        page.get_by_label("Application").select_option("Object Detection")
        page.get_by_label("Training framework").select_option("TensorRT")
        page.get_by_label("Model format").select_option("ONNX")
        page.get_by_label("Precision").select_option("INT8")
        camera.shoot(page, "create-model")
        page.get_by_role("button", name="Create Model").click()
        expect(page.get_by_text("Created model acme/alpha/detector.")).to_be_visible()
        expect(page.get_by_role("heading", name="Road Detector")).to_be_visible()

        # --- versions arrive server-side (as from the CLI) -----------------------------------
        artifact = off_the_event_loop(VersionedArtifact.objects.select_related("org", "team").get, name="detector")
        off_the_event_loop(upload_version, artifact, "1.0", owner, {"README.md": b"v1"}, accuracy_reached="81.0", batch_size="32",
                       custom_metrics=[{"name": "mAP", "attributes": [{"key": "cars", "value": "0.71"}, {"key": "signs", "value": "0.64"}]}])
        off_the_event_loop(upload_version, artifact, "2.0", owner, FILES, accuracy_reached="88.5", batch_size="64", gpu_model="A100",
                       custom_metrics=[{"name": "mAP", "attributes": [{"key": "cars", "value": "0.83"}, {"key": "signs", "value": "0.77"}]}])

        # --- listed and searchable ------------------------------------------------------------
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
        table = page.get_by_test_id("artifact-table")
        expect(table.get_by_role("link", name="Road Detector")).to_be_visible()
        expect(table.get_by_text("2.0", exact=True)).to_be_visible()
        camera.shoot(page, "models-list")
        page.get_by_label("Search models by name, label or description").fill("automotive")
        page.get_by_role("button", name="Search").click()
        expect(table.get_by_role("link", name="Road Detector")).to_be_visible()
        page.get_by_label("Search models by name, label or description").fill("speech")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_text("No models match")).to_be_visible()
        page.get_by_role("link", name="Show all models").click()
        page.get_by_test_id("artifact-table").get_by_role("link", name="Road Detector").click()
        expect(page.get_by_role("cell", name="A100")).to_be_visible()
        expect(page.locator("#download-latest")).to_have_text("ngc registry model download-version acme/alpha/detector:2.0")
        expect(page.get_by_role("link", name="Download zip")).to_be_visible()
        camera.shoot(page, "model-overview")

        # --- compare two versions -------------------------------------------------------------
        page.get_by_role("navigation", name="Model").get_by_role("link", name="Versions").click()
        page.get_by_label("Compare 1.0").check()
        page.get_by_label("Compare 2.0").check()
        camera.shoot(page, "versions")
        page.get_by_role("button", name="Compare").click()
        compare = page.get_by_test_id("compare-table")
        cars = compare.get_by_role("row").filter(has=page.get_by_role("rowheader", name="cars"))
        expect(cars.get_by_role("cell")).to_have_text(["0.83", "0.71"])
        expect(compare.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Accuracy reached")).get_by_role("cell")).to_have_text(["88.5", "81.0"])
        camera.shoot(page, "compare")

        # --- File Browser: a folder, a preview, a download ------------------------------------
        page.get_by_role("navigation", name="Model").get_by_role("link", name="File Browser").click()
        files = page.get_by_test_id("file-table")
        files.get_by_role("link", name="README.md", exact=True).click()
        expect(page.get_by_test_id("file-text")).to_contain_text("<script>alert(1)</script>")
        page.get_by_test_id("file-table").get_by_role("link", name="weights/", exact=False).first.click()
        with page.expect_download() as info:
            page.get_by_role("link", name="Download weights/model.onnx").click()
        assert Path(info.value.path()).read_bytes() == WEIGHTS
        camera.shoot(page, "file-browser")

        # --- Edit Details ---------------------------------------------------------------------
        page.get_by_role("link", name="Edit Details").click()
        page.get_by_label("Display name").fill("Road Detector XL")
        page.get_by_label("Precision").select_option("FP16")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved the details of acme/alpha/detector.")).to_be_visible()
        expect(page.get_by_role("heading", name="Road Detector XL")).to_be_visible()

        # --- delete, with confirmation --------------------------------------------------------
        page.get_by_role("link", name="Delete Model").click()
        expect(page.get_by_text("acme/alpha/detector:1.0")).to_be_visible()
        expect(page.get_by_text("acme/alpha/detector:2.0")).to_be_visible()
        camera.shoot(page, "delete-confirm")
        page.get_by_role("button", name="Delete model").click()
        expect(page.get_by_text("Deleted model acme/alpha/detector and its 2 version(s).")).to_be_visible()
        expect(page.get_by_text("No models in acme/alpha yet.")).to_be_visible()

    assert not VersionedArtifact.objects.filter(name="detector").exists()
