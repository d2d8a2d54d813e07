"""Token challenge, scopes, grants, and refusals for the wrong personas."""
import base64
import json

import pytest

from artifacts.oci import auth
from tests.support.oci import error_codes, sha256
from tests.support.auth import basic_auth, basic_auth_for

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


def test_the_base_endpoint_challenges_anonymous_callers(client):
    response = client.get("/v2/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="https://registry.test/token",service="registry.test"'
    assert response["Docker-Distribution-API-Version"] == "registry/2.0"
    assert error_codes(response) == ["UNAUTHORIZED"]


def test_the_base_endpoint_answers_an_authenticated_caller(personas, registry):
    response = registry(personas.outsider).request("GET", "/v2/")
    assert response.status_code == 200 and response.json() == {}


def test_a_repository_request_without_credentials_names_the_scope(personas, client):
    response = client.post(f"/v2/{NAME}/blobs/uploads/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].endswith(f'scope="repository:{NAME}:pull,push"')


def test_scopes_parse_names_with_slashes_repeated_or_space_separated():
    scopes = auth.parse_scopes(["repository:acme/alpha/app:pull,push registry:catalog:*", "repository:acme/x:pull"])
    assert [(s.type, s.name, s.actions) for s in scopes] == [
        ("repository", "acme/alpha/app", ("pull", "push")),
        ("registry", "catalog", ("*",)),
        ("repository", "acme/x", ("pull",)),
    ]


def test_the_token_grants_every_action_the_policy_allows(personas):
    scopes = auth.parse_scopes([f"repository:{NAME}:pull", "repository:acme/beta/x:pull,push", "registry:catalog:*"])
    assert auth.granted_access(personas.alpha_registry_user, scopes) == [
        {"type": "repository", "name": NAME, "actions": ["delete", "pull", "push"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]
    assert auth.granted_access(personas.alpha_registry_read, scopes)[0]["actions"] == ["pull"]
    assert auth.granted_access(personas.outsider, scopes[:2]) == []


def test_anonymous_callers_may_pull_only_public_repositories(personas, registry, client):
    from artifacts.models import Repository

    registry(personas.owner).push_image(NAME, "1.0")
    anonymous = registry(None, mode="bearer", scopes=[f"repository:{NAME}:pull"])
    assert anonymous.request("GET", f"/v2/{NAME}/manifests/1.0").status_code == 401
    Repository.objects.filter(name=NAME).update(is_public=True)
    anonymous = registry(None, mode="bearer", scopes=[f"repository:{NAME}:pull,push"])
    assert anonymous.request("GET", f"/v2/{NAME}/manifests/1.0").status_code == 200
    assert client.get(f"/v2/{NAME}/manifests/1.0").status_code == 200
    assert anonymous.request("POST", f"/v2/{NAME}/blobs/uploads/").status_code == 401


def test_a_bearer_token_lets_its_holder_push_and_pull(personas, registry):
    reg = registry(personas.alpha_registry_user, mode="bearer", scopes=[f"repository:{NAME}:pull,push"])
    digest, _ = reg.push_image(NAME, "1.0")
    assert reg.request("GET", f"/v2/{NAME}/manifests/{digest}").status_code == 200


def test_a_token_for_another_repository_is_insufficient_scope(personas, registry):
    reg = registry(personas.alpha_registry_user, mode="bearer", scopes=["repository:acme/alpha/other:pull,push"])
    response = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")
    assert response.status_code == 401
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_bad_token_or_api_key_is_unauthorized(personas, client):
    response = client.get("/v2/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401 and error_codes(response) == ["UNAUTHORIZED"]
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("wrong")).status_code == 401


@pytest.mark.parametrize("persona", ["beta_user", "outsider", "alpha_registry_read", "alpha_user_read"])
def test_the_wrong_personas_may_not_push_to_a_team_repository(personas, registry, persona):
    for mode in ("basic", "bearer"):
        reg = registry(getattr(personas, persona), mode=mode, scopes=[f"repository:{NAME}:pull,push"])
        response = reg.request("POST", f"/v2/{NAME}/blobs/uploads/?digest={sha256(b'x')}", b"x")
        assert response.status_code == 403 and error_codes(response) == ["DENIED"]


@pytest.mark.parametrize("persona", ["beta_user", "outsider", "org_registry_read"])
def test_the_wrong_personas_may_not_pull_from_a_team_repository(personas, registry, persona):
    registry(personas.owner).push_image(NAME, "1.0")
    reg = registry(getattr(personas, persona), mode="bearer", scopes=[f"repository:{NAME}:pull"])
    response = reg.request("GET", f"/v2/{NAME}/manifests/1.0")
    assert response.status_code == 403 and error_codes(response) == ["DENIED"]


def test_a_registry_user_may_delete_only_what_they_created(personas, registry):
    registry(personas.owner).push_image(NAME, "1.0")
    reg = registry(personas.alpha_registry_user)
    response = reg.request("DELETE", f"/v2/{NAME}/manifests/1.0")
    assert response.status_code == 403 and error_codes(response) == ["DENIED"]
    reg.push_image("acme/alpha/mine", "1.0")
    assert reg.request("DELETE", "/v2/acme/alpha/mine/manifests/1.0").status_code == 202


def test_pushing_to_an_unknown_org_is_refused(personas, registry):
    response = registry(personas.owner).request("POST", "/v2/nosuchorg/app/blobs/uploads/")
    assert response.status_code in (403, 404)


def test_the_token_response_has_the_docker_fields(personas):
    body = auth.token_response(personas.alpha_registry_user, [f"repository:{NAME}:pull"])
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    payload = json.loads(base64.urlsafe_b64decode(body["token"].split(".")[1] + "=="))
    assert payload["aud"] == "registry.test"


def test_the_token_endpoint_issues_registry_tokens_for_the_registry_service(personas, client):
    response = client.get(
        "/token", {"service": "registry.test", "scope": f"repository:{NAME}:pull,push"},
        HTTP_AUTHORIZATION=basic_auth_for(personas.alpha_registry_user),
    )
    assert response.status_code == 200
    token = response.json()["token"]
    upload = client.post(f"/v2/{NAME}/blobs/uploads/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert upload.status_code == 202


def test_the_token_endpoint_serves_anonymous_registry_callers_and_refuses_bad_keys(personas, client):
    anonymous = client.get("/token", {"service": "registry.test", "scope": f"repository:{NAME}:pull"})
    assert anonymous.status_code == 200
    payload = json.loads(base64.urlsafe_b64decode(anonymous.json()["token"].split(".")[1] + "=="))
    assert payload["access"] == []
    refused = client.get("/token", {"service": "registry.test"}, HTTP_AUTHORIZATION=basic_auth("wrong"))
    assert refused.status_code == 401
