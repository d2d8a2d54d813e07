"""The model version upload page in a real browser (guide 4.4): the owner opens the Entity Creation
Hub, creates a model with the Create Model form, opens the model's upload page, picks a nested
folder (one file spans several 8 MiB parts), fills the version details and a custom metrics table,
uploads through the NGC multipart protocol from static/js/upload.js, and sees the version verified
by the Celery worker; the stored files match the bytes, on the server's disk or in its S3 bucket.
A Registry Read member sees no upload control and the API refuses their version create.
Screenshots go to a folder the run prints."""
import hashlib
import os
import re

import pytest

from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionStatus
from tests.e2e.browser import chromium, sign_in
from tests.support.web import onboard


def write_tree(root):
    files = {
        "config.json": b'{"layers": 12}\n',
        "weights/model.bin": bytes(range(256)) * (8 * 4096 + 300),  # 8 MiB + 75 KiB: two parts
        "weights/sub/deep/notes.txt": "näive ünïcode notes\n".encode() + os.urandom(8).hex().encode(),  # the test's own blob
        "empty.txt": b"",
    }
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return files


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("blob_storage", ["local", "s3"])
def test_the_owner_uploads_a_folder_as_a_model_version_and_a_reader_cannot(
    personas, registry_server, registry_worker, blob_home, tmp_path, camera
):
    from playwright.sync_api import expect

    onboard(personas.owner, personas.alpha_registry_read)
    tree = tmp_path / "my-model"
    files = write_tree(tree)
    base = registry_server.url

    with chromium() as browser:
        page = browser.new_context(ignore_https_errors=True, viewport={"width": 1360, "height": 900}).new_page()
        sign_in(page, base, personas.owner)

        # --- the hub and MODEL-PAGES' Create Model form --------------------------------------
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Create", exact=True).click()
        expect(page.get_by_role("heading", name="Entity Creation Hub")).to_be_visible()
        camera.shoot(page, "hub")
        page.get_by_test_id("hub-cards").get_by_role("link", name="Create Model").click()
        page.get_by_label("Name", exact=True).fill("bert-qa")
        page.get_by_role("button", name="Create Model").click()
        expect(page.get_by_text("Created model acme/alpha/bert-qa.")).to_be_visible()

        # --- the upload page ---------------------------------------------------------------
        page.goto(f"{base}/registry/upload/models/acme/alpha/bert-qa")
        expect(page.get_by_role("heading", name="Upload a model version")).to_be_visible()
        page.get_by_label("Version", exact=True).fill("1.0.0")
        page.get_by_label("Description").fill("First upload from the browser")
        page.get_by_label("Accuracy reached").fill("93.2")
        page.get_by_label("Number of epochs").fill("12")
        page.get_by_label("Batch size").fill("32")
        page.get_by_label("GPU model").select_option("A100")
        page.get_by_label("Memory footprint").fill("1.2GB")
        page.get_by_label("Link type").select_option("Github")
        page.get_by_label("Related resource URL").fill("https://github.com/acme/bert-qa")
        page.get_by_role("button", name="Add custom metrics table").click()
        page.get_by_label("Table 1 name").fill("Evaluation")
        page.get_by_label("Table 1 key 1").fill("F1")
        page.get_by_label("Table 1 value 1").fill("0.91")
        page.get_by_role("button", name="Add metric").click()
        page.get_by_label("Table 1 key 2").fill("Exact match")
        page.get_by_label("Table 1 value 2").fill("0.84")
        # the page stops at 3 tables
        for _ in range(2):
            page.get_by_role("button", name="Add custom metrics table").click()
        expect(page.get_by_role("button", name="Add custom metrics table")).to_be_disabled()
        for number in (3, 2):
            page.locator(".metrics-table").nth(number - 1).get_by_role("button", name="Remove table").click()
        page.set_input_files("#folder-input", str(tree))
        file_table = page.get_by_test_id("file-table")
        for path in files:
            expect(file_table.get_by_text(path, exact=True)).to_be_visible()
        camera.shoot(page, "upload-ready")
        page.get_by_role("button", name="Upload version").click()
        status = page.locator("#upload-status")
        expect(status).to_have_attribute("data-state", re.compile("complete|failed"), timeout=120_000)
        camera.shoot(page, "upload-done")
        expect(status).to_have_text(re.compile(r"Upload complete: version 1\.0\.0 has 4 file\(s\)"))
        expect(page.locator("#overall-progress")).to_have_attribute("value", "100")
        # the finished form offers no Remove buttons and leads to the new version's page
        expect(file_table.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
        expect(page.get_by_role("button", name="Upload version")).to_have_count(0)
        page.get_by_role("link", name="Open version 1.0.0").click()
        expect(page).to_have_url(f"{base}/registry/models/acme/alpha/bert-qa/-/versions/1.0.0")
        expect(page.get_by_role("heading", name=re.compile("Version 1.0.0"))).to_be_visible()
        expect(page.get_by_test_id("related-link")).to_contain_text("https://github.com/acme/bert-qa")
        expect(page.get_by_role("table", name="Evaluation")).to_contain_text("0.84")
        camera.shoot(page, "version-page")

        # --- a Registry Read member --------------------------------------------------------
        reader = browser.new_context(ignore_https_errors=True).new_page()
        sign_in(reader, base, personas.alpha_registry_read)
        reader.goto(f"{base}/registry/upload/models/acme/alpha/bert-qa")
        expect(reader.get_by_test_id("read-only")).to_be_visible()
        expect(reader.get_by_role("button", name="Upload version")).to_have_count(0)
        assert reader.locator("input[type=file]").count() == 0
        camera.shoot(reader, "reader-upload-page")
        refused = reader.evaluate("""async () => {
            const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
            const response = await fetch("/v2/org/acme/team/alpha/models/bert-qa/versions", {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify({versionId: "2.0.0"}),
            });
            return response.status;
        }""")
        assert refused == 403

    version = ArtifactVersion.objects.get(artifact__name="bert-qa", version="1.0.0")
    assert version.status == VersionStatus.UPLOAD_COMPLETE
    assert version.gpu_model == "A100" and version.batch_size == "32" and version.link_type == "Github"
    assert version.custom_metrics == [{"name": "Evaluation", "attributes": [
        {"key": "F1", "value": "0.91"}, {"key": "Exact match", "value": "0.84"},
    ]}]
    stored = {row.path: (row.size_bytes, row.sha256) for row in ArtifactFile.objects.filter(version=version)}
    assert stored == {path: (len(data), hashlib.sha256(data).hexdigest()) for path, data in files.items()}
    blob_home.assert_holds({f"sha256:{sha256}": size for size, sha256 in stored.values()})
    assert not ArtifactVersion.objects.filter(version="2.0.0").exists()
