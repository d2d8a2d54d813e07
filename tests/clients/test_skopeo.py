"""skopeo (a real registry client) against the HTTPS live server: push, pull, list, inspect, delete,
and refusals for the personas that may not push. The copy in and out runs in both blob storage
modes (local files, an S3 bucket)."""
import json
import os

import pytest

from artifacts.models import Repository
from tests.clients.oci_layout import Layout
from tests.support.blob_home import log_mark, requests_since, tagged_blobs

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def layout(tmp_path):
    built = Layout(tmp_path / "layout")
    descriptor, manifest = built.image(arch="amd64")
    built.tag(descriptor, "1.0")
    built.manifest_bytes = manifest
    amd, _ = built.image(arch="amd64", files={"multi.txt": b"amd64 payload\n"})
    arm, _ = built.image(arch="arm64", files={"multi.txt": b"arm64 payload\n"})
    index, index_bytes = built.index([amd, arm])
    built.tag(index, "multi")
    built.index_bytes = index_bytes
    return built


@pytest.mark.parametrize("blob_storage", ["local", "s3"])
def test_skopeo_copies_an_image_in_and_back_out_byte_identical(personas, skopeo, layout, tmp_path, registry_server, blob_home):
    user = personas.alpha_registry_user
    # Bytes of this test only: the bucket outlives a test, so a blob found there must be this one.
    descriptor, manifest_bytes = layout.image(arch="amd64", files={"app.txt": os.urandom(2048)})
    layout.tag(descriptor, "own")
    skopeo(user, "copy", f"oci:{layout.root}:own", "docker://REGISTRY/acme/alpha/app:1.0")
    raw = skopeo(user, "inspect", "--raw", "docker://REGISTRY/acme/alpha/app:1.0").stdout
    assert raw.encode() == manifest_bytes
    out = tmp_path / "pulled"
    mark = log_mark(registry_server.log_path)
    skopeo(user, "copy", "docker://REGISTRY/acme/alpha/app:1.0", f"oci:{out}:1.0")
    blob_home.assert_downloads_served(requests_since(registry_server.log_path, mark), r"/blobs/sha256:")
    pulled = Layout.__new__(Layout)
    pulled.root = out
    manifest = json.loads(manifest_bytes)
    for blob in [manifest["config"], *manifest["layers"]]:
        assert pulled.blob_bytes(blob["digest"]) == layout.blob_bytes(blob["digest"])
    assert set(tagged_blobs("acme/alpha/app", "1.0")) == {descriptor["digest"], manifest["config"]["digest"], manifest["layers"][0]["digest"]}
    blob_home.assert_holds(tagged_blobs("acme/alpha/app", "1.0"))
    tags = json.loads(skopeo(user, "list-tags", "docker://REGISTRY/acme/alpha/app").stdout)
    assert tags == {"Repository": tags["Repository"], "Tags": ["1.0"]}


def test_skopeo_pushes_a_two_platform_index_with_all(personas, skopeo, layout):
    user = personas.alpha_registry_user
    skopeo(user, "copy", "--all", f"oci:{layout.root}:multi", "docker://REGISTRY/acme/alpha/multi:2.0")
    raw = skopeo(user, "inspect", "--raw", "docker://REGISTRY/acme/alpha/multi:2.0").stdout
    assert raw.encode() == layout.index_bytes
    inspected = json.loads(skopeo(user, "inspect", "--override-arch", "arm64", "docker://REGISTRY/acme/alpha/multi:2.0").stdout)
    assert inspected["Architecture"] == "arm64"


def test_skopeo_deletes_an_image(personas, skopeo, layout):
    user = personas.alpha_registry_admin
    skopeo(user, "copy", f"oci:{layout.root}:1.0", "docker://REGISTRY/acme/alpha/gone:1.0")
    skopeo(user, "delete", "docker://REGISTRY/acme/alpha/gone:1.0")
    result = skopeo(user, "inspect", "--raw", "docker://REGISTRY/acme/alpha/gone:1.0", check=False)
    assert result.returncode != 0 and "manifest unknown" in result.stderr.lower()


@pytest.mark.parametrize("persona", ["beta_user", "outsider", "alpha_registry_read"])
def test_skopeo_push_is_refused_for_users_without_push_rights(personas, skopeo, layout, persona):
    result = skopeo(getattr(personas, persona), "copy", f"oci:{layout.root}:1.0", "docker://REGISTRY/acme/alpha/app:1.0", check=False)
    assert result.returncode != 0
    assert any(word in result.stderr.lower() for word in ("denied", "unauthorized", "403"))
    assert not Repository.objects.filter(name="acme/alpha/app").exists()
