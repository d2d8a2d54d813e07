"""Cross-repository mounts with token auth: a token that does not cover `from` is told which
scopes to fetch (both, as distribution does), so re-authenticating clients get 201; a caller who
may not pull `from` gets a plain upload session, never a hint whether `from` exists."""

import pytest

from accounts import services as account_services
from tests.support.auth import basic_auth

pytestmark = pytest.mark.django_db
LAYER = b"a layer worth mounting"


def token_from_token_service(client, user, *scopes: str) -> str:
    key = account_services.api_key_generate(user=user)
    query = "&".join(["service=registry.test", *(f"scope={scope}" for scope in scopes)])
    response = client.get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth(key))
    assert response.status_code == 200, response.content
    return response.json()["token"]


def mount(client, token: str, target: str, source: str, digest: str):
    return client.post(
        f"/v2/{target}/blobs/uploads/?mount={digest}&from={source}", b"", content_type="application/octet-stream",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_token_for_the_target_only_is_challenged_for_both_scopes_and_a_token_for_both_mounts(client, personas, registry):
    user = personas.alpha_registry_user
    digest = registry(user).push_blob("acme/alpha/source", LAYER)
    target_only = token_from_token_service(client, user, "repository:acme/alpha/target:pull,push")

    challenged = mount(client, target_only, "acme/alpha/target", "acme/alpha/source", digest)

    assert challenged.status_code == 401
    challenge = challenged["WWW-Authenticate"]
    assert 'scope="repository:acme/alpha/target:pull,push repository:acme/alpha/source:pull"' in challenge
    assert 'error="insufficient_scope"' in challenge
    both = token_from_token_service(
        client, user, "repository:acme/alpha/target:pull,push repository:acme/alpha/source:pull"
    )
    mounted = mount(client, both, "acme/alpha/target", "acme/alpha/source", digest)
    assert mounted.status_code == 201 and mounted["Docker-Content-Digest"] == digest
    head = client.head(f"/v2/acme/alpha/target/blobs/{digest}", HTTP_AUTHORIZATION=f"Bearer {both}")
    assert head.status_code == 200 and head["Content-Length"] == str(len(LAYER))


def test_a_caller_who_may_not_pull_from_gets_an_upload_session_whether_or_not_from_exists(client, personas, registry):
    digest = registry(personas.alpha_registry_user).push_blob("acme/alpha/source", LAYER)
    outsider = personas.beta_user  # Registry User on team beta only
    answers = []
    for source in ("acme/alpha/source", "acme/alpha/no-such-repo"):
        token = token_from_token_service(
            client, outsider, f"repository:acme/beta/target:pull,push repository:{source}:pull"
        )
        response = mount(client, token, "acme/beta/target", source, digest)
        answers.append((response.status_code, "Location" in response, "WWW-Authenticate" in response))
    assert answers == [(202, True, False), (202, True, False)]
    assert client.head(f"/v2/acme/beta/target/blobs/{digest}", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


def test_a_mount_source_the_token_covers_needs_no_new_token(client, personas, registry):
    user = personas.alpha_registry_user
    digest = registry(user).push_blob("acme/alpha/source", LAYER)
    token = token_from_token_service(client, user, "repository:acme/alpha/target:pull,push", "repository:acme/alpha/source:pull")
    assert mount(client, token, "acme/alpha/target", "acme/alpha/source", digest).status_code == 201
