"""The registry's routes never shadow the NGC API that shares /v2/."""
import pytest
from django.urls import Resolver404, resolve

REGISTRY_VIEWS = {"base", "catalog", "upload-start", "upload-session", "blob", "manifest", "tags-list", "referrers"}


@pytest.mark.parametrize("path", ["/v2/products", "/v2/orgs", "/v2/users/me", "/v2/org/acme/teams", "/v2/org/acme/team/alpha/users"])
def test_ngc_api_paths_are_not_registry_routes(path):
    try:
        match = resolve(path)
    except Resolver404:
        return
    assert match.namespace != "oci"


@pytest.mark.parametrize("path,view", [
    ("/v2/", "base"),
    ("/v2/_catalog", "catalog"),
    ("/v2/acme/alpha/app/blobs/uploads/", "upload-start"),
    ("/v2/acme/alpha/app/blobs/uploads/0b6f6c1e-7d0a-4a8e-9d1f-5d2a2d0f0a11", "upload-session"),
    ("/v2/acme/app/blobs/sha256:" + "a" * 64, "blob"),
    ("/v2/acme/a/b/c/manifests/1.0", "manifest"),
    ("/v2/acme/app/tags/list", "tags-list"),
    ("/v2/acme/app/referrers/sha256:" + "a" * 64, "referrers"),
])
def test_registry_paths_resolve_to_their_handlers(path, view):
    match = resolve(path)
    assert match.namespace == "oci" and match.url_name == view


@pytest.mark.django_db
def test_the_catalog_challenges_anonymous_callers_with_the_catalog_scope(client):
    response = client.get("/v2/_catalog")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].endswith('scope="registry:catalog:*"')
