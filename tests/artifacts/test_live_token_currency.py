"""Issue 12 items 3 and 4 through the live HTTPS gunicorn: tokens from its /token, role changes and
team creation through its NGC API, pushes through its registry protocol."""
import hashlib
import re

import pytest
import requests

from accounts import services as account_services
from accounts.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class LiveUser:
    """One user against the live server: their API key, registry tokens and an NGC API token."""

    def __init__(self, server, user):
        self.base, self.http = server.url, server.session()
        self.key = account_services.api_key_generate(user=user)
        challenge = self.http.get(f"{self.base}/v2/").headers["WWW-Authenticate"]
        self.service = re.search(r'service="([^"]+)"', challenge)[1]

    def registry_token(self, name: str) -> str:
        response = self.http.get(
            f"{self.base}/token", params={"service": self.service, "scope": f"repository:{name}:pull,push"},
            auth=("$oauthtoken", self.key),
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def ngc(self, method: str, path: str, **kwargs) -> requests.Response:
        token = self.http.get(f"{self.base}/token", params={"service": "ngc", "scope": "group/ngc:acme"}, auth=("$oauthtoken", self.key))
        return self.http.request(method, f"{self.base}{path}", headers={"Authorization": f"Bearer {token.json()['token']}"}, **kwargs)

    def registry(self, method: str, path: str, token: str, data: bytes = b"") -> requests.Response:
        return self.http.request(method, f"{self.base}{path}", data=data, headers={"Authorization": f"Bearer {token}"})


def test_a_token_whose_role_was_removed_cannot_go_on_pushing_through_the_live_server(personas, live_server_https):
    name = "acme/alpha/live-currency"
    user = account_services.user_create(email="live-pusher@example.test", email_verified=True)
    account_services.role_add(actor=personas.owner, space=personas.alpha_space, user=user, roles=[Role.REGISTRY_USER])
    pusher, owner = LiveUser(live_server_https, user), LiveUser(live_server_https, personas.owner)
    token = pusher.registry_token(name)
    assert pusher.registry("POST", f"/v2/{name}/blobs/uploads/?digest={_sha256(b'first')}", token, b"first").status_code == 201
    session = pusher.registry("POST", f"/v2/{name}/blobs/uploads/", token)
    assert session.status_code == 202

    removed = owner.ngc("DELETE", f"/v3/orgs/acme/teams/alpha/users/{user.pk}/remove-role", params={"roles": "REGISTRY_USER"})
    assert removed.status_code == 200, removed.text

    chunk = pusher.registry("PATCH", session.headers["Location"], token, b"more bytes")
    assert chunk.status_code == 403 and chunk.json()["errors"][0]["code"] == "DENIED"
    again = pusher.registry("POST", f"/v2/{name}/blobs/uploads/?digest={_sha256(b'second')}", token, b"second")
    assert again.status_code == 403 and again.json()["errors"][0]["code"] == "DENIED"
    # Reads ride the token until it expires (REGISTRY_TOKEN_TTL_SECONDS); a new token pulls nothing.
    assert pusher.registry("GET", f"/v2/{name}/blobs/{_sha256(b'first')}", token).content == b"first"
    assert pusher.registry("GET", f"/v2/{name}/blobs/{_sha256(b'first')}", pusher.registry_token(name)).status_code == 403


def test_the_live_server_refuses_a_team_named_after_an_org_repository(personas, live_server_https):
    org_user, owner = LiveUser(live_server_https, personas.org_registry_user), LiveUser(live_server_https, personas.owner)
    name = "acme/gamma/img"
    token = org_user.registry_token(name)
    assert org_user.registry("POST", f"/v2/{name}/blobs/uploads/?digest={_sha256(b'layer')}", token, b"layer").status_code == 201
    created = owner.ngc("POST", "/v2/org/acme/teams", json={"name": "gamma", "description": ""})
    assert created.status_code == 409 and name in created.text, created.text
    assert owner.ngc("GET", "/v2/org/acme/teams/gamma").status_code == 404
    assert org_user.registry("GET", f"/v2/{name}/blobs/{_sha256(b'layer')}", org_user.registry_token(name)).content == b"layer"
