"""Manifest endpoints, tags, catalog and referrers."""
import json

import pytest

from artifacts.models import Repository
from tests.support.oci import OCI_INDEX, OCI_MANIFEST, error_codes, image_manifest, sha256

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def test_a_pushed_manifest_is_served_byte_for_byte_by_tag_and_by_digest(personas, registry):
    reg = registry(personas.alpha_registry_user)
    digest, body = reg.push_image(NAME, "1.0")
    for reference in ("1.0", digest):
        response = reg.request("GET", f"/v2/{NAME}/manifests/{reference}")
        assert response.status_code == 200
        assert response.content == body
        assert response["Content-Type"] == OCI_MANIFEST
        assert response["Docker-Content-Digest"] == digest
    head = reg.request("HEAD", f"/v2/{NAME}/manifests/1.0")
    assert head.status_code == 200 and head["Content-Length"] == str(len(body)) and head.content == b""


def test_the_first_push_creates_the_repository_in_the_team_space(personas, registry):
    registry(personas.alpha_registry_user).push_image(NAME, "1.0")
    repository = Repository.objects.get(name=NAME)
    assert repository.team == personas.alpha and repository.path == "app"
    assert repository.created_by == personas.alpha_registry_user


def test_a_docker_schema2_manifest_and_manifest_list_are_accepted(personas, registry):
    reg = registry(personas.alpha_registry_user)
    config = reg.push_blob(NAME, b"{}")
    layer = reg.push_blob(NAME, b"docker layer")
    manifest = {
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": layer, "size": 12}],
    }
    response, body = reg.push_manifest(NAME, sha256(json.dumps(manifest).encode()), manifest, DOCKER_MANIFEST)
    assert response.status_code == 201
    listing = {
        "schemaVersion": 2, "mediaType": DOCKER_LIST,
        "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": sha256(body), "size": len(body),
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }
    response, _ = reg.push_manifest(NAME, "multi", listing, DOCKER_LIST)
    assert response.status_code == 201
    assert reg.request("GET", f"/v2/{NAME}/manifests/multi")["Content-Type"] == DOCKER_LIST


def test_malformed_json_is_manifest_invalid(personas, registry):
    reg = registry(personas.alpha_registry_user)
    response = reg.request("PUT", f"/v2/{NAME}/manifests/1.0", b"{not json", content_type=OCI_MANIFEST)
    assert response.status_code == 400 and error_codes(response) == ["MANIFEST_INVALID"]


def test_a_manifest_referencing_a_missing_blob_is_manifest_blob_unknown(personas, registry):
    reg = registry(personas.alpha_registry_user)
    config = reg.push_blob(NAME, b"{}")
    document = image_manifest(config, 2, [(sha256(b"never uploaded"), 14)])
    response, _ = reg.push_manifest(NAME, "1.0", document, OCI_MANIFEST)
    assert error_codes(response) == ["MANIFEST_BLOB_UNKNOWN"]


def test_an_index_referencing_a_missing_manifest_is_manifest_unknown(personas, registry):
    reg = registry(personas.alpha_registry_user)
    reg.push_blob(NAME, b"{}")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha256(b"nope"), "size": 4}]}
    response, _ = reg.push_manifest(NAME, "1.0", index, OCI_INDEX)
    assert response.status_code == 404 and error_codes(response) == ["MANIFEST_UNKNOWN"]


def test_a_manifest_an_index_references_cannot_be_deleted_until_the_index_is(personas, registry):
    reg = registry(personas.alpha_registry_user)
    amd64, body = reg.push_image(NAME, "amd64")
    arm64, _ = reg.push_image(NAME, "arm64", layer=b"arm64 layer")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": len(body)} for d in (amd64, arm64)]}
    response, index_body = reg.push_manifest(NAME, "multi", index, OCI_INDEX)
    assert response.status_code == 201
    assert reg.push_manifest(NAME, "multi-again", index, OCI_INDEX)[0].status_code == 201  # a re-tag links nothing twice
    for child in (amd64, arm64):
        refused = reg.request("DELETE", f"/v2/{NAME}/manifests/{child}")
        assert refused.status_code == 409 and error_codes(refused) == ["DENIED"]
    assert reg.request("DELETE", f"/v2/{NAME}/manifests/{sha256(index_body)}").status_code == 202
    assert reg.request("DELETE", f"/v2/{NAME}/manifests/{amd64}").status_code == 202


def test_a_manifest_pushed_by_a_wrong_digest_is_digest_invalid(personas, registry):
    reg = registry(personas.alpha_registry_user)
    config = reg.push_blob(NAME, b"{}")
    response, _ = reg.push_manifest(NAME, sha256(b"other"), image_manifest(config, 2, []), OCI_MANIFEST)
    assert error_codes(response) == ["DIGEST_INVALID"]


def test_an_unknown_tag_is_manifest_unknown_and_an_unknown_repository_name_unknown(personas, registry):
    reg = registry(personas.alpha_registry_user)
    reg.push_image(NAME, "1.0")
    assert error_codes(reg.request("GET", f"/v2/{NAME}/manifests/2.0")) == ["MANIFEST_UNKNOWN"]
    assert error_codes(reg.request("GET", "/v2/acme/alpha/nothing/manifests/1.0")) == ["NAME_UNKNOWN"]
    assert error_codes(reg.request("GET", "/v2/acme/alpha/nothing/tags/list")) == ["NAME_UNKNOWN"]


def test_an_invalid_name_is_name_invalid(personas, registry):
    reg = registry(personas.alpha_registry_user)
    response = reg.request("GET", "/v2/acme/Alpha/UPPER/manifests/1.0")
    assert response.status_code == 400 and error_codes(response) == ["NAME_INVALID"]


def test_deleting_by_tag_removes_the_tag_and_by_digest_the_manifest(personas, registry):
    reg = registry(personas.alpha_registry_admin)
    digest, _ = reg.push_image(NAME, "1.0")
    reg.request("PUT", f"/v2/{NAME}/manifests/latest", reg.request("GET", f"/v2/{NAME}/manifests/1.0").content, content_type=OCI_MANIFEST)
    assert reg.request("DELETE", f"/v2/{NAME}/manifests/1.0").status_code == 202
    assert reg.request("GET", f"/v2/{NAME}/manifests/latest").status_code == 200
    assert reg.request("DELETE", f"/v2/{NAME}/manifests/{digest}").status_code == 202
    assert error_codes(reg.request("GET", f"/v2/{NAME}/manifests/latest")) == ["MANIFEST_UNKNOWN"]


def test_tags_are_paginated_with_a_link_header(personas, registry):
    reg = registry(personas.alpha_registry_user)
    _, body = reg.push_image(NAME, "a")
    for tag in ("b", "c", "d", "e"):
        reg.request("PUT", f"/v2/{NAME}/manifests/{tag}", body, content_type=OCI_MANIFEST)
    first = reg.request("GET", f"/v2/{NAME}/tags/list?n=2")
    assert first.json() == {"name": NAME, "tags": ["a", "b"]}
    assert first["Link"] == f'</v2/{NAME}/tags/list?n=2&last=b>; rel="next"'
    second = reg.request("GET", f"/v2/{NAME}/tags/list?n=2&last=b")
    assert second.json()["tags"] == ["c", "d"]
    last = reg.request("GET", f"/v2/{NAME}/tags/list?n=2&last=d")
    assert last.json()["tags"] == ["e"] and "Link" not in last
    assert reg.request("GET", f"/v2/{NAME}/tags/list").json()["tags"] == ["a", "b", "c", "d", "e"]


def test_tags_list_is_the_json_of_the_names_whatever_characters_the_grammar_admits(personas, registry):
    """PostgreSQL joins the names into the JSON array as they are (tag_name_grammar admits nothing to escape)."""
    reg = registry(personas.alpha_registry_admin)
    _, body = reg.push_image(NAME, "a")
    tags = ["a", "A.B-c_9", "_x", "z--..__", "0" * 128]
    for tag in tags[1:]:
        assert reg.request("PUT", f"/v2/{NAME}/manifests/{tag}", body, content_type=OCI_MANIFEST).status_code == 201
    response = reg.request("GET", f"/v2/{NAME}/tags/list")
    assert sorted(response.json()["tags"]) == sorted(tags)
    assert response.content == json.dumps({"name": NAME, "tags": response.json()["tags"]}).encode()
    for tag in tags:
        assert reg.request("DELETE", f"/v2/{NAME}/manifests/{tag}").status_code == 202
    assert reg.request("GET", f"/v2/{NAME}/tags/list").content == json.dumps({"name": NAME, "tags": []}).encode()


def test_the_catalog_lists_only_repositories_the_caller_may_pull(personas, registry):
    owner = registry(personas.owner)
    owner.push_image("acme/alpha/one", "1")
    owner.push_image("acme/beta/two", "1")
    owner.push_image("acme/orgwide", "1")
    assert registry(personas.alpha_registry_read).request("GET", "/v2/_catalog").json() == {"repositories": ["acme/alpha/one"]}
    assert registry(personas.beta_user).request("GET", "/v2/_catalog").json() == {"repositories": ["acme/beta/two"]}
    assert registry(personas.outsider).request("GET", "/v2/_catalog").json() == {"repositories": []}
    everything = owner.request("GET", "/v2/_catalog?n=2")
    assert everything.json()["repositories"] == ["acme/alpha/one", "acme/beta/two"]
    assert 'last=acme%2Fbeta%2Ftwo' in everything["Link"]


def test_referrers_list_manifests_whose_subject_is_the_digest(personas, registry):
    reg = registry(personas.alpha_registry_user)
    subject_digest, subject_body = reg.push_image(NAME, "1.0")
    empty = reg.push_blob(NAME, b"{}")
    sbom = reg.push_blob(NAME, b'{"sbom": true}')
    referrer = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example.sbom",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/json", "digest": sbom, "size": 14}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": len(subject_body)},
        "annotations": {"org.example.kind": "sbom"},
    }
    body = json.dumps(referrer).encode()
    response = reg.request("PUT", f"/v2/{NAME}/manifests/{sha256(body)}", body, content_type=OCI_MANIFEST)
    assert response.status_code == 201 and response["OCI-Subject"] == subject_digest
    listing = reg.request("GET", f"/v2/{NAME}/referrers/{subject_digest}")
    assert listing["Content-Type"] == OCI_INDEX
    assert listing.json()["manifests"] == [{
        "mediaType": OCI_MANIFEST, "digest": sha256(body), "size": len(body),
        "artifactType": "application/vnd.example.sbom", "annotations": {"org.example.kind": "sbom"},
    }]
    filtered = reg.request("GET", f"/v2/{NAME}/referrers/{subject_digest}?artifactType=application/other")
    assert filtered.json()["manifests"] == [] and filtered["OCI-Filters-Applied"] == "artifactType"
    assert reg.request("GET", f"/v2/{NAME}/referrers/{sha256(b'none')}").json()["manifests"] == []
