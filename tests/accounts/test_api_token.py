"""`/token`: API keys exchanged for scoped bearer tokens, and those tokens' limits."""

import jwt
import pytest
from django.conf import settings

from accounts import services, tokens
from tests.support.auth import basic_auth

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"), pytest.mark.usefixtures("fast_password_hashing")]


def granted_scopes(token: str) -> list[str]:
    return jwt.decode(token, options={"verify_signature": False})["scopes"]


def exchange(client, key: str, query: str = "service=ngc&"):
    return client.get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth(key))


def test_an_api_key_is_exchanged_for_a_token_that_opens_the_api(client, personas):
    key = services.api_key_generate(user=personas.owner)

    response = exchange(client, key, "service=ngc&scope=group/ngc:acme")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 300
    assert body["issued_at"].endswith("Z")
    teams = client.get("/v2/org/acme/teams", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert teams.status_code == 200
    assert [team["name"] for team in teams.json()["teams"]] == ["alpha", "beta"]


def test_it_also_answers_a_post_with_form_fields(client, personas):
    key = services.api_key_generate(user=personas.owner)

    response = client.post(
        "/token", "service=ngc&scope=group/ngc:acme", content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(key),
    )

    assert response.status_code == 200
    assert granted_scopes(response.json()["token"]) == ["group/ngc:acme"]


def test_a_wrong_key_is_refused_with_a_basic_challenge(client, personas):
    services.api_key_generate(user=personas.owner)

    response = exchange(client, "rk_not-the-key")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert "API key" in response.json()["detail"]


def test_a_request_without_credentials_is_refused(client, personas):
    response = client.get("/token?service=ngc")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_a_replaced_key_stops_working(client, personas):
    old = services.api_key_generate(user=personas.owner)
    services.api_key_generate(user=personas.owner)

    assert exchange(client, old).status_code == 401


def test_a_deactivated_users_key_is_refused(client, personas):
    key = services.api_key_generate(user=personas.org_registry_user)
    personas.org_registry_user.is_active = False
    personas.org_registry_user.save(update_fields=["is_active"])

    assert exchange(client, key).status_code == 401


def test_an_unknown_service_is_a_bad_request(client, personas):
    key = services.api_key_generate(user=personas.owner)

    response = exchange(client, key, "service=nosuch-service&scope=group/ngc:acme")

    assert response.status_code == 400
    assert "Unknown service" in response.json()["detail"]


def test_scopes_for_spaces_the_user_can_see_are_granted_and_others_dropped(client, personas):
    key = services.api_key_generate(user=personas.alpha_registry_user)

    response = exchange(
        client, key,
        "service=ngc&scope=group/ngc:acme&scope=group/ngc:acme/alpha&scope=group/ngc:acme/beta"
        "&scope=group/ngc:globex&scope=group/ngc:nosuch&scope=something-else",
    )

    assert response.status_code == 200
    assert granted_scopes(response.json()["token"]) == ["group/ngc:acme", "group/ngc:acme/alpha"]


def test_space_separated_scopes_and_the_staging_prefix_are_understood(client, personas):
    key = services.api_key_generate(user=personas.owner)

    response = exchange(client, key, "service=ngc&scope=group/ngc-stg:acme%20group/ngc:acme/beta")

    assert granted_scopes(response.json()["token"]) == ["group/ngc:acme", "group/ngc:acme/beta"]


def test_a_token_without_scopes_still_lists_the_callers_orgs(client, personas):
    key = services.api_key_generate(user=personas.alpha_registry_read)
    token = exchange(client, key).json()["token"]

    response = client.get("/v2/orgs", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert [org["name"] for org in response.json()["organizations"]] == ["acme"]
    assert granted_scopes(token) == []


def test_an_expired_token_is_refused_with_a_bearer_challenge(client, personas):
    token, _ = tokens.issue_access_token(
        user_id=personas.owner.pk, audience="ngc", scopes=["group/ngc:acme"], ttl_seconds=-60
    )

    response = client.get("/v2/org/acme/teams", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "expired" in response.json()["detail"]


def test_a_forged_token_is_refused(client, personas):
    forged = jwt.encode(
        {"sub": str(personas.owner.pk), "aud": "ngc", "iss": settings.TOKEN_ISSUER, "exp": 9999999999,
         "scopes": ["group/ngc:acme"]},
        "not-the-signing-key", algorithm="HS256",
    )

    response = client.get("/v2/org/acme/teams", HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert response.status_code == 401


def test_a_token_for_one_org_is_refused_on_another_orgs_paths(client, personas):
    # The outsider owns globex; make them a member of acme too, so only the token's scope stands in the way.
    services.role_add(actor=personas.owner, space=personas.acme_space, user=personas.outsider, roles=["REGISTRY_READ"])
    key = services.api_key_generate(user=personas.outsider)
    token = exchange(client, key, "service=ngc&scope=group/ngc:globex").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    assert client.get("/v2/org/globex/teams", **auth).status_code == 200
    refused = client.get("/v2/org/acme/teams", **auth)
    assert refused.status_code == 403
    assert "group/ngc:acme" in refused.json()["detail"]
    assert client.get("/v2/orgs/acme", **auth).status_code == 403
    assert client.get("/v3/orgs/acme/pending-invitations", **auth).status_code == 403


def test_an_org_scope_covers_its_teams_but_a_team_scope_covers_only_its_team(client, personas):
    org_token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc", scopes=["group/ngc:acme"])
    team_token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc", scopes=["group/ngc:acme/alpha"])

    def status(token, path):
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code

    assert status(org_token, "/v2/org/acme/team/beta/users") == 200
    assert status(team_token, "/v2/org/acme/team/alpha/users") == 200
    assert status(team_token, "/v2/org/acme/team/beta/users") == 403
    assert status(team_token, "/v2/org/acme/users") == 403


def test_an_unscoped_token_reaches_the_spaces_its_user_may_see_and_no_other(client, personas):
    # NVIDIA's client commits uploaded files (POST /v2/org/<org>/files/commit) with an unscoped token.
    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc", scopes=[])

    def status(path):
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code

    assert status("/v2/org/acme/users") == 200
    assert status("/v2/org/acme/team/beta/users") == 200
    assert status("/v2/org/globex/teams") in (403, 404)


def test_a_session_is_not_limited_by_scopes_but_keeps_csrf(personas):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas.owner)

    assert browser.get("/v2/org/acme/teams").status_code == 200
    refused = browser.post("/v2/org/acme/teams", {"name": "gamma"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_a_bearer_request_needs_no_csrf_token(personas):
    from django.test import Client

    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc", scopes=["group/ngc:acme"])
    api = Client(enforce_csrf_checks=True)

    response = api.post(
        "/v2/org/acme/teams", {"name": "gamma"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 200
    assert response.json()["team"]["name"] == "gamma"


def test_a_token_used_before_stops_working_when_it_expires(client, personas, monkeypatch):
    # Verified tokens are remembered per process (accounts.tokens); expiry must still be enforced.
    token, ttl = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc", scopes=["group/ngc:acme"], ttl_seconds=60)
    assert client.get("/v2/org/acme/teams", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    later = tokens.time.time() + 61
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    response = client.get("/v2/org/acme/teams", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_remembered_token_does_not_vouch_for_another_audience(personas):
    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc")
    tokens.verify_access_token(token, audience="ngc")
    with pytest.raises(tokens.InvalidToken):
        tokens.verify_access_token(token, audience=settings.REGISTRY_SERVICE_NAME)
