"""GET /v2/<name>/referrers/<digest> before a repository has any content (OCI 1.1: a registry
that supports referrers MUST NOT answer 404)."""
import pytest

from tests.support.oci import OCI_INDEX, error_codes, sha256

pytestmark = pytest.mark.django_db


def test_referrers_of_a_repository_not_pushed_yet_are_an_empty_index(personas, registry):
    reg = registry(personas.alpha_registry_user, mode="bearer", scopes=["repository:acme/alpha/fresh:pull,push"])

    response = reg.request("GET", f"/v2/acme/alpha/fresh/referrers/{sha256(b'subject')}")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


def test_referrers_of_a_repository_with_blobs_but_no_manifest_are_an_empty_index(personas, registry):
    reg = registry(personas.alpha_registry_user)
    reg.push_blob("acme/alpha/blobs-only", b"a layer")

    response = reg.request("GET", f"/v2/acme/alpha/blobs-only/referrers/{sha256(b'subject')}?artifactType=x/y")

    assert response.status_code == 200 and response.json()["manifests"] == []
    assert response["OCI-Filters-Applied"] == "artifactType"


def test_a_caller_who_may_not_pull_there_is_still_refused(personas, registry):
    reg = registry(personas.beta_user)

    response = reg.request("GET", f"/v2/acme/alpha/fresh/referrers/{sha256(b'subject')}")

    assert response.status_code == 403 and error_codes(response) == ["DENIED"]


def test_an_invalid_digest_is_still_a_400(personas, registry):
    reg = registry(personas.alpha_registry_user)
    response = reg.request("GET", "/v2/acme/alpha/fresh/referrers/sha256:nothex")
    assert response.status_code == 400 and error_codes(response) == ["DIGEST_INVALID"]
