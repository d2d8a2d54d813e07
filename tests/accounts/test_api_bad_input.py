"""Hostile input on the NGC API and `/token` answers 4xx in the NGC error envelope, never a 500."""
import pytest

from artifacts.versioned.models import ArtifactVersion, VersionedArtifact, VersionStatus
from registry_portal import json_input
from tests.support.auth import bearer_auth

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = "99999999999999999999999"


def owner_bearer(personas) -> dict:
    return {"HTTP_AUTHORIZATION": bearer_auth(personas.owner, ["group/ngc:acme"])}


def assert_ngc_400(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["requestStatus"]["statusCode"] == "INVALID_REQUEST"


def test_it_refuses_json_nested_100000_deep_posted_to_token_without_credentials(client):
    response = client.post("/token", DEEP, content_type="application/json")

    assert_ngc_400(response)
    assert "deeper than" in response.json()["detail"]


def test_it_refuses_json_nested_100000_deep_posted_to_the_ngc_api(client, personas):
    response = client.post("/v2/org/acme/teams", DEEP, content_type="application/json", **owner_bearer(personas))

    assert_ngc_400(response)


def test_it_refuses_deep_json_in_a_query_string_filter(client, personas):
    deep_q = "[" * 2000 + "]" * 2000  # gunicorn lets about 4 KB of request line through
    for path in (f"/v2/org/acme/users?q={deep_q}", f"/v2/search/org/acme/resources/CONTAINER?q={deep_q}"):
        assert_ngc_400(client.get(path, **owner_bearer(personas)))


def test_an_api_body_nested_within_the_limit_still_parses(client, personas):
    nested = "[" * json_input.MAX_JSON_DEPTH + "]" * json_input.MAX_JSON_DEPTH
    response = client.post(
        "/v2/org/acme/teams", f'{{"name": "gamma", "description": "x", "extra": {nested[2:-2]}}}',
        content_type="application/json", **owner_bearer(personas),
    )
    assert response.status_code in (200, 201), response.content


def test_huge_or_odd_page_numbers_are_an_empty_page_or_a_400_never_a_500(client, personas):
    artifact = VersionedArtifact.objects.create(kind="models", org=personas.acme, name="bert", created_by=personas.owner)
    ArtifactVersion.objects.create(artifact=artifact, version="1.0", status=VersionStatus.UPLOAD_COMPLETE)
    auth = owner_bearer(personas)
    for path in ("/v2/org/acme/users", "/v2/org/acme/teams", "/v2/org/acme/models/bert/versions", "/v2/org/acme/models/bert/1.0/files"):
        huge = client.get(f"{path}?page-number={HUGE}&page-size={HUGE}", **auth)
        assert huge.status_code == 200, (path, huge.content)
        assert huge.json()["paginationInfo"]["size"] == 1000
        assert_ngc_400(client.get(f"{path}?page-number=²", **auth))
