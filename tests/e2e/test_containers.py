"""The container pages in a real browser (guide 3.3–3.6): a multi-arch image is pushed to the live
server over the registry protocol; the owner signs in, finds it in the container list, sees both
platforms and the pull command on the Tags tab, edits its details, and deletes a tag after
confirming. Screenshots of each page go to a folder the run prints."""
import hashlib
import json
import re

import pytest
import requests

from accounts import services as account_services
from tests.e2e.browser import chromium, sign_in
from tests.support.web import onboard
from tests.support.auth import basic_auth

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


class Pusher:
    """Pushes blobs and manifests to the live server with Basic `$oauthtoken:<api key>`."""

    def __init__(self, server, api_key: str):
        self.base, self.verify = server.url, server.ca_bundle
        self.headers = {"Authorization": basic_auth(api_key)}

    def blob(self, name: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        response = requests.post(f"{self.base}/v2/{name}/blobs/uploads/", params={"digest": digest}, data=data,
                                 headers={**self.headers, "Content-Type": "application/octet-stream"}, verify=self.verify, timeout=30)
        assert response.status_code == 201, response.text
        return digest

    def manifest(self, name: str, reference: str | None, document: dict, media_type: str) -> tuple[str, int]:
        body = json.dumps(document).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        response = requests.put(f"{self.base}/v2/{name}/manifests/{reference or digest}", data=body,
                                headers={**self.headers, "Content-Type": media_type}, verify=self.verify, timeout=30)
        assert response.status_code == 201, response.text
        return digest, len(body)

    def image(self, name: str, *, arch: str, variant: str = "", tag: str | None = None) -> tuple[str, int]:
        config = json.dumps({"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}).encode()
        layer = f"layer of {arch} ".encode() * 2000
        document = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": self.blob(name, config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": self.blob(name, layer), "size": len(layer)}],
        }
        return self.manifest(name, tag, document, OCI_MANIFEST)

    def multiarch(self, name: str, tag: str) -> str:
        manifests = []
        for arch, variant in (("amd64", ""), ("arm64", "v8")):
            digest, size = self.image(name, arch=arch, variant=variant)
            platform = {"os": "linux", "architecture": arch, **({"variant": variant} if variant else {})}
            manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": platform})
        return self.manifest(name, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}, OCI_INDEX)[0]

    def status(self, name: str, reference: str) -> int:
        return requests.get(f"{self.base}/v2/{name}/manifests/{reference}", verify=self.verify, timeout=30,
                            headers={**self.headers, "Accept": f"{OCI_INDEX}, {OCI_MANIFEST}"}).status_code


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_owner_browses_a_multiarch_container_edits_it_and_deletes_a_tag(personas, live_server_https, camera):
    from playwright.sync_api import expect

    onboard(personas.owner)
    pusher = Pusher(live_server_https, account_services.api_key_generate(user=personas.owner))
    name = "acme/alpha/vision"
    pusher.image(name, arch="amd64", tag="1.0")
    index_digest = pusher.multiarch(name, "2.0-multi")
    pusher.image("acme/alpha/speech", arch="amd64", tag="latest")

    base = live_server_https.url
    host = base.split("://", 1)[1]

    with chromium() as browser:
        page = browser.new_context(ignore_https_errors=True, viewport={"width": 1360, "height": 900}).new_page()
        sign_in(page, base, personas.owner)

        # --- the container list -------------------------------------------------------------
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Containers").click()
        expect(page.get_by_role("heading", name="Containers", exact=True)).to_be_visible()
        table = page.get_by_test_id("container-table")
        expect(table.get_by_role("link", name="vision")).to_be_visible()
        expect(table.get_by_role("link", name="speech")).to_be_visible()
        expect(table.get_by_text("2.0-multi")).to_be_visible()
        camera.shoot(page, "container-list")
        page.get_by_label("Search containers by name").fill("visi")
        page.get_by_role("button", name="Search").click()
        expect(table.get_by_role("link", name="speech")).to_have_count(0)

        # --- the repository: overview and tags ---------------------------------------------
        table.get_by_role("link", name="vision").click()
        expect(page.get_by_role("heading", name="vision", exact=True)).to_be_visible()
        expect(page.locator("#pull-latest")).to_have_text(f"docker pull {host}/{name}:2.0-multi")
        camera.shoot(page, "container-overview")
        page.get_by_role("navigation", name="Repository").get_by_role("link", name=re.compile("Tags")).click()
        tags = page.get_by_test_id("tag-table")
        multi_row = tags.get_by_role("row").filter(has_text="2.0-multi")
        expect(multi_row.get_by_text("linux/amd64", exact=True)).to_be_visible()  # the platform badge
        expect(multi_row.get_by_text("linux/arm64/v8", exact=True)).to_be_visible()
        expect(multi_row.get_by_text(f"docker pull {host}/{name}:2.0-multi")).to_be_visible()
        expect(multi_row.locator(f"[title='{index_digest}']")).to_be_visible()
        multi_row.get_by_role("button", name="Copy pull command for 2.0-multi").click()
        expect(multi_row.get_by_role("button", name="Copy pull command for 2.0-multi")).to_have_text(re.compile("Copied|Copy"))
        camera.shoot(page, "container-tags")
        details = page.get_by_test_id("image-details-2.0-multi")
        details.get_by_text("Image details of 2.0-multi").click()  # folded until asked for
        expect(details.get_by_role("heading", name="linux/arm64/v8")).to_be_visible()
        expect(details.get_by_text("No artifact refers to this digest.")).to_be_visible()
        camera.shoot(page, "container-image-details")

        # --- Edit Details -------------------------------------------------------------------
        page.get_by_role("link", name="Edit Details").click()
        expect(page.get_by_role("heading", name="Edit Details")).to_be_visible()
        page.get_by_label("Display name").fill("Vision Toolkit")
        page.get_by_label("Short description").fill("Detects objects in images.")
        page.get_by_label("Overview").fill("## Usage\n\nRun `vision --help`.\n\n| GPU | Speed |\n|---|---|\n| A100 | fast |\n\n<script>alert(1)</script>")
        page.get_by_label("Labels").fill("Computer Vision, Retail")
        page.get_by_label("Publisher").fill("Acme Research")
        page.get_by_label("Built by").fill("Kristina")
        camera.shoot(page, "edit-details")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved the details of acme/alpha/vision.")).to_be_visible()
        expect(page.get_by_role("heading", name="Vision Toolkit")).to_be_visible()
        expect(page.get_by_role("heading", name="Usage")).to_be_visible()
        expect(page.get_by_role("cell", name="A100")).to_be_visible()
        expect(page.get_by_text("Computer Vision")).to_be_visible()
        assert page.locator("section.markdown script").count() == 0
        camera.shoot(page, "overview-after-edit")

        # --- delete a tag, with confirmation ------------------------------------------------
        page.get_by_role("navigation", name="Repository").get_by_role("link", name=re.compile("Tags")).click()
        page.get_by_role("link", name="Delete tag 1.0").click()
        expect(page.get_by_role("heading", name="Delete tag")).to_be_visible()
        expect(page.get_by_text(f"{name}:1.0").first).to_be_visible()
        camera.shoot(page, "delete-tag-confirm")
        page.get_by_role("button", name="Delete tag").click()
        expect(page.get_by_text(f"Deleted tag {name}:1.0.")).to_be_visible()
        tag_names = page.get_by_test_id("tag-table").locator("code.tag-name")
        expect(tag_names).to_have_text(["2.0-multi"])
        camera.shoot(page, "tags-after-delete")

    assert pusher.status(name, "1.0") == 404
    assert pusher.status(name, "2.0-multi") == 200
