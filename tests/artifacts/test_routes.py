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


def test_registry_requests_skip_the_portal_stack_but_keep_security_headers(personas, client):
    # artifacts.oci.middleware: registry routes bypass sessions, CSRF, messages and page headers.
    client.force_login(personas.owner)
    response = client.get("/v2/")
    assert response.status_code == 401  # a portal session is not a registry credential
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still ran
    assert "X-Frame-Options" not in response  # XFrameOptionsMiddleware (pages only) did not
    assert client.get("/v2/org/acme/teams")["X-Frame-Options"] == "DENY"  # the NGC API still gets the stack


def test_the_registry_shortcut_calls_the_view_itself_and_passes_other_paths_on(rf, db):
    from artifacts.oci.middleware import RegistryRouteMiddleware

    passed_on = []
    shortcut = RegistryRouteMiddleware(lambda request: passed_on.append(request.path) or "rest of the stack")
    assert shortcut(rf.get("/v2/acme/app/tags/list")).status_code == 401  # answered by the registry view
    assert shortcut(rf.get("/v2/org/acme/teams")) == "rest of the stack"
    assert shortcut(rf.get("/v2/acme/app/nothing-here")) == "rest of the stack"
    helm_host_request = rf.get("/v2/acme/app/tags/list")
    helm_host_request.urlconf = "registry_portal.helm_host_urls"
    assert shortcut(helm_host_request) == "rest of the stack"
    assert passed_on == ["/v2/org/acme/teams", "/v2/acme/app/nothing-here", "/v2/acme/app/tags/list"]


@pytest.mark.parametrize("path", [
    "/v2/", "/v2/acme/alpha/app/blobs/uploads/", "/v2/acme/a/b/c/manifests/1.0", "/v2/acme/app/tags/list",
    "/v2/products", "/v2/orgs", "/v2/org/acme/teams", "/v2/org/acme/repos/app/images/1.0",
])
def test_the_registry_shortcut_routes_every_path_as_the_root_urlconf_does(path):
    from artifacts.oci.middleware import RegistryRouteMiddleware

    shortcut = RegistryRouteMiddleware(lambda request: None).resolver
    try:
        taken = shortcut.resolve(path).func
    except Resolver404:
        taken = None  # falls through to the whole middleware stack and the root urlconf
    if taken is not None:
        assert resolve(path).func is taken
    else:
        assert resolve(path).namespace != "oci"
