"""Registry tokens cannot write after the right is gone (issue 12, item 4): a token from /token
keeps its grants for reads until it expires (REGISTRY_TOKEN_TTL), but every write and delete
checks that nothing changed since it was issued — roles removed, user deactivated, API key
replaced — and is refused in the OCI envelope when the right is gone. The NGC API and the Helm
repository take the same tokens (audience "ngc") and stop accepting them likewise."""
import json

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.permissions import Space
from accounts.roles import Role
from tests.support.oci import OCI_MANIFEST, error_codes, image_manifest, sha256
from tests.helmrepo import charts
from tests.support.auth import basic_auth

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


class Pusher:
    """A registry client as docker is one: an API key exchanged at /token for one Bearer token."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        self.key = account_services.api_key_generate(user=user)
        self.renew()

    def renew(self) -> dict:
        response = self.client.get(
            "/token", {"service": "registry.test", "scope": f"repository:{NAME}:pull,push,delete"}, HTTP_AUTHORIZATION=basic_auth(self.key),
        )
        assert response.status_code == 200, response.content
        self.token = response.json()["token"]
        return response.json()

    def request(self, method: str, path: str, data=b"", content_type="application/octet-stream"):
        call = getattr(self.client, method.lower())
        auth = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if method in ("GET", "HEAD", "DELETE"):
            return call(path, **auth)
        return call(path, data=data, content_type=content_type, **auth)

    def blob(self, data: bytes):
        return self.request("POST", f"/v2/{NAME}/blobs/uploads/?digest={sha256(data)}", data)

    def manifest(self, tag: str, config: str, layer: str):
        document = image_manifest(config, 2, [(layer, 5)])
        return self.request("PUT", f"/v2/{NAME}/manifests/{tag}", json.dumps(document).encode(), OCI_MANIFEST)


@pytest.fixture
def pushed(personas, client):
    """A team Registry User who pushed acme/alpha/app:v1 (so may delete in it), a session opened
    for the next layer, and the same token still in hand."""
    user = account_services.user_create(email="builder@example.test", email_verified=True)
    account_services.role_add(actor=personas.owner, space=personas.alpha_space, user=user, roles=[Role.REGISTRY_USER])
    pusher = Pusher(client, user)
    config, layer = pusher.blob(b"{}\n"), pusher.blob(b"layer")
    assert config.status_code == layer.status_code == 201
    assert pusher.manifest("v1", sha256(b"{}\n"), sha256(b"layer")).status_code == 201
    session = pusher.request("POST", f"/v2/{NAME}/blobs/uploads/")
    assert session.status_code == 202
    pusher.session = session["Location"]
    pusher.manifest_digest = pusher.request("HEAD", f"/v2/{NAME}/manifests/v1")["Docker-Content-Digest"]
    return pusher


def _every_write(pusher) -> dict[str, object]:
    return {
        "blob upload": pusher.blob(b"new layer"),
        "upload start": pusher.request("POST", f"/v2/{NAME}/blobs/uploads/"),
        "chunk PATCH": pusher.request("PATCH", pusher.session, b"chunk"),
        "chunk PUT": pusher.request("PUT", f"{pusher.session}?digest={sha256(b'chunk')}", b"chunk"),
        "manifest PUT": pusher.manifest("v2", sha256(b"{}\n"), sha256(b"layer")),
        "tag DELETE": pusher.request("DELETE", f"/v2/{NAME}/manifests/v1"),
        "manifest DELETE": pusher.request("DELETE", f"/v2/{NAME}/manifests/{pusher.manifest_digest}"),
        "blob DELETE": pusher.request("DELETE", f"/v2/{NAME}/blobs/{sha256(b'layer')}"),
    }


WRITES = ("blob upload", "upload start", "chunk PATCH", "chunk PUT", "manifest PUT", "tag DELETE", "manifest DELETE", "blob DELETE")


def _answers(responses: dict) -> dict[str, tuple[int, list[str]]]:
    return {what: (r.status_code, error_codes(r)) for what, r in responses.items()}


def test_it_refuses_every_write_of_a_token_whose_roles_were_removed_since(personas, pushed):
    account_services.role_remove(actor=personas.owner, space=personas.alpha_space, user=pushed.user, roles=[Role.REGISTRY_USER])
    assert _answers(_every_write(pushed)) == dict.fromkeys(WRITES, (403, ["DENIED"]))
    # Reads ride the token until it expires (docs/permissions.md); a new token grants nothing.
    assert pushed.request("GET", f"/v2/{NAME}/manifests/v1").status_code == 200
    pushed.renew()
    assert pushed.request("GET", f"/v2/{NAME}/manifests/v1").status_code == 403


def test_it_refuses_every_write_of_a_token_whose_user_was_deactivated(pushed):
    account_services.user_set_active(user=pushed.user, is_active=False)
    assert _answers(_every_write(pushed)) == dict.fromkeys(WRITES, (401, ["UNAUTHORIZED"]))
    refused = pushed.blob(b"another layer")
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]
    assert pushed.client.get("/token", {"service": "registry.test"}, HTTP_AUTHORIZATION=basic_auth(pushed.key)).status_code == 401


def test_it_refuses_every_write_of_a_token_obtained_with_a_replaced_api_key(pushed):
    old_token = pushed.token
    new_key = account_services.api_key_generate(user=pushed.user)
    assert _answers(_every_write(pushed)) == dict.fromkeys(WRITES, (401, ["UNAUTHORIZED"]))
    # The new key's token writes.
    pushed.key = new_key
    pushed.renew()
    assert pushed.token != old_token and pushed.blob(b"with the new key").status_code == 201


def test_a_change_that_leaves_the_right_in_place_does_not_interrupt_a_push(personas, pushed):
    """A team created in the org (every member's authz version moves) or another role granted: the
    token's writes re-check the policy, which still allows them."""
    account_services.team_create(org=personas.acme, actor=personas.owner, name="newteam")
    account_services.role_add(actor=personas.owner, space=personas.beta_space, user=pushed.user, roles=[Role.REGISTRY_READ])
    assert pushed.request("PATCH", pushed.session, b"chunk").status_code == 202
    assert pushed.request("PUT", f"{pushed.session}?digest={sha256(b'chunk')}").status_code == 201
    assert pushed.manifest("v2", sha256(b"{}\n"), sha256(b"layer")).status_code == 201


def test_registry_tokens_are_short_lived_and_say_so(pushed, settings):
    assert pushed.renew()["expires_in"] == settings.REGISTRY_TOKEN_TTL.total_seconds() == 300


# --- the NGC API and the Helm repository: the same tokens (audience "ngc") ----------------------


def _ngc_token(client, key: str) -> str:
    response = client.get("/token", {"service": "ngc", "scope": "group/ngc:acme/alpha"}, HTTP_AUTHORIZATION=basic_auth(key))
    assert response.status_code == 200
    return response.json()["token"]


def test_ngc_api_and_helm_refuse_a_token_obtained_with_a_replaced_key_or_for_a_deactivated_user(personas, client):
    user = personas.alpha_registry_user
    key = account_services.api_key_generate(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_ngc_token(client, key)}")
    chart = charts.package("demo")
    helm_push = {"data": chart, "content_type": "application/gzip"}
    assert api.get("/v2/org/acme/team/alpha/repos").status_code == 200
    assert api.post("/helm/api/acme/alpha/charts", **helm_push).status_code == 201
    account_services.role_add(actor=personas.owner, space=personas.beta_space, user=user, roles=[Role.REGISTRY_READ])
    assert api.get("/v2/org/acme/team/alpha/repos").status_code == 200  # a role change alone: still the same key

    account_services.api_key_generate(user=user)
    assert api.get("/v2/org/acme/team/alpha/repos").status_code == 401
    assert api.get("/helm/acme/alpha/index.yaml").status_code == 401

    fresh = account_services.api_key_generate(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_ngc_token(client, fresh)}")
    assert api.get("/helm/acme/alpha/index.yaml").status_code == 200
    account_services.user_set_active(user=user, is_active=False)
    assert api.get("/v2/org/acme/team/alpha/repos").status_code == 401
    assert api.get("/helm/acme/alpha/index.yaml").status_code == 401


def test_ngc_api_writes_follow_the_current_roles_not_the_token(personas, client):
    user = account_services.user_create(email="editor@example.test", email_verified=True)
    account_services.role_add(actor=personas.owner, space=personas.alpha_space, user=user, roles=[Role.REGISTRY_USER])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_ngc_token(client, account_services.api_key_generate(user=user))}")
    assert api.post("/v2/org/acme/team/alpha/repos", {"name": "made"}, format="json").status_code == 200
    account_services.role_remove(actor=personas.owner, space=Space(personas.acme, personas.alpha), user=user, roles=[Role.REGISTRY_USER])
    assert api.post("/v2/org/acme/team/alpha/repos", {"name": "refused"}, format="json").status_code in (403, 404)
