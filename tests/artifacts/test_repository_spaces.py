"""A container repository belongs to the space it was created in, and every face — /token and the
registry protocol, the NGC API, the portal, the catalog — answers from that stored record, for
every persona (issue 12, item 3). Tokens come from the real /token with API keys."""
import json

import pytest
from django.db.models import Q
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import permissions
from accounts import services as account_services
from accounts.admin import TeamAdminForm
from registry_portal.errors import Conflict
from accounts.models import Team
from accounts.roles import Role, Service
from accounts.tokens import verify_access_token
from artifacts import services as artifact_services
from artifacts.models import Repository
from artifacts.oci import services as oci_services
from artifacts.oci.fastpath import statements
from registry_portal.oci_errors import OCIError
from artifacts.oci.names import ResolvedName
from tests.support.oci import OCI_MANIFEST, error_codes, image_manifest, sha256
from tests.support.web import client_for, onboard
from tests.support.auth import basic_auth

pytestmark = pytest.mark.django_db
GAMMA_IMG = "acme/gamma/img"


class Face:
    """One persona on every face: registry Bearer tokens from /token, an NGC API token, a portal session."""

    def __init__(self, client, user, personas):
        self.client, self.user = client, user
        self.key = account_services.api_key_generate(user=user)
        onboard(user)
        self.web = client_for(user, personas.acme_space)

    def registry_grants(self, name: str) -> set[str]:
        response = self.client.get("/token", {"service": "registry.test", "scope": f"repository:{name}:pull,push,delete"},
                                   HTTP_AUTHORIZATION=basic_auth(self.key))
        assert response.status_code == 200, response.content
        self._bearer = "Bearer " + response.json()["token"]
        claims = verify_access_token(response.json()["token"], audience="registry.test")
        return {action for item in claims.access if item["name"] == name for action in item["actions"]}

    def registry(self, method: str, path: str, data=b"", content_type="application/octet-stream"):
        call = getattr(self.client, method.lower())
        if method in ("GET", "HEAD", "DELETE"):
            return call(path, HTTP_AUTHORIZATION=self._bearer)
        return call(path, data=data, content_type=content_type, HTTP_AUTHORIZATION=self._bearer)

    def push_image(self, name: str, tag: str):
        assert self.registry_grants(name) >= {"pull", "push"}
        config, layer = b'{"architecture":"amd64","os":"linux"}', b"layer of " + name.encode()
        for blob in (config, layer):
            response = self.registry("POST", f"/v2/{name}/blobs/uploads/?digest={sha256(blob)}", blob)
            assert response.status_code == 201, response.content
        document = image_manifest(sha256(config), len(config), [(sha256(layer), len(layer))])
        response = self.registry("PUT", f"/v2/{name}/manifests/{tag}", json.dumps(document).encode(), OCI_MANIFEST)
        assert response.status_code == 201, response.content

    def ngc(self) -> APIClient:
        response = self.client.get("/token", {"service": "ngc", "scope": "group/ngc:acme"}, HTTP_AUTHORIZATION=basic_auth(self.key))
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION="Bearer " + response.json()["token"])
        return api

    def answers(self, name: str) -> dict[str, bool]:
        """Whether each face lets this persona at repository `name` (org-level path `path`)."""
        org, _, path = name.partition("/")
        grants = self.registry_grants(name)
        pulled = self.registry("GET", f"/v2/{name}/manifests/v1").status_code
        pushed = self.registry("POST", f"/v2/{name}/blobs/uploads/?digest={sha256(b'probe')}", b"probe")
        catalog = self.registry_catalog()
        api = self.ngc()
        org_api = api.get(f"/v2/org/{org}/repos/{path}").status_code
        portal = self.web.get(reverse("artifacts:container", args=[name])).status_code
        return {
            "token pull": "pull" in grants, "token push": "push" in grants,
            "registry pull": pulled == 200, "registry push": pushed.status_code == 201,
            "catalog": name in catalog, "NGC API": org_api == 200, "portal": portal == 200,
        }

    def registry_catalog(self) -> list[str]:
        response = self.client.get("/token", {"service": "registry.test", "scope": "registry:catalog:*"}, HTTP_AUTHORIZATION=basic_auth(self.key))
        listing = self.client.get("/v2/_catalog", HTTP_AUTHORIZATION="Bearer " + response.json()["token"])
        return listing.json()["repositories"]


@pytest.fixture
def faces(personas, client):
    def make(user):
        return Face(client, user, personas)

    return make


def _team_created_before_the_rule(personas, name: str) -> Team:
    """A team that came to exist next to an org-level repository using its name: data from before
    team_create refused that (or written past the services). Every face must still agree."""
    team = Team.objects.create(org=personas.acme, name=name)
    permissions.sync_org_permissions(org=personas.acme)
    return team


def _team_user(personas, team: Team):
    user = account_services.user_create(email=f"{team.name}-user@example.test", email_verified=True)
    account_services.role_add(actor=personas.owner, space=permissions.Space(personas.acme, team), user=user, roles=[Role.REGISTRY_USER])
    return user


def test_it_refuses_to_create_a_team_named_like_an_org_level_repository_on_every_face(personas, faces):
    faces(personas.org_registry_user).push_image(GAMMA_IMG, "v1")
    assert Repository.objects.get(name=GAMMA_IMG).team is None

    with pytest.raises(Conflict, match="acme/gamma/img"):
        account_services.team_create(org=personas.acme, actor=personas.owner, name="gamma")
    owner = faces(personas.owner)
    api = owner.ngc().post("/v2/org/acme/teams", {"name": "gamma", "description": ""}, format="json")
    assert api.status_code == 409 and "acme/gamma/img" in api.content.decode(), api.content
    page = owner.web.post(reverse("accounts:team-create", args=["acme"]), {"name": "gamma", "description": ""})
    assert page.status_code == 200 and "acme/gamma/img" in page.content.decode()
    admin_form = TeamAdminForm(data={"org": personas.acme.pk, "name": "gamma", "description": "", "created_at": "2026-01-01 00:00"})
    assert not admin_form.is_valid() and "acme/gamma/img" in str(admin_form.errors)
    assert not Team.objects.filter(name="gamma").exists()
    # Another name is fine, and so is this one once the repository is gone.
    account_services.team_create(org=personas.acme, actor=personas.owner, name="gammas")
    artifact_services.repository_delete(actor=personas.owner, repository=Repository.objects.get(name=GAMMA_IMG))
    assert account_services.team_create(org=personas.acme, actor=personas.owner, name="gamma").name == "gamma"


def test_the_attack_a_team_named_after_an_org_repository_gives_every_face_the_same_answer_per_persona(personas, faces):
    """Issue 12 item 3: an org-level Registry User pushes acme/gamma/img:v1 while no team gamma
    exists; team gamma then exists and a new user is Registry User on it alone."""
    faces(personas.org_registry_user).push_image(GAMMA_IMG, "v1")
    gamma = _team_created_before_the_rule(personas, "gamma")
    newcomer = _team_user(personas, gamma)

    everything = dict.fromkeys(("token pull", "token push", "registry pull", "registry push", "catalog", "NGC API", "portal"), True)
    nothing = dict.fromkeys(everything, False)
    assert faces(newcomer).answers(GAMMA_IMG) == nothing
    assert faces(personas.org_registry_user).answers(GAMMA_IMG) == everything
    assert faces(personas.owner).answers(GAMMA_IMG) == everything
    assert faces(personas.alpha_registry_user).answers(GAMMA_IMG) == nothing
    # The team's own listing does not claim it, on the API or the portal.
    assert faces(newcomer).ngc().get("/v2/org/acme/team/gamma/repos/img").status_code == 404
    repository = Repository.objects.get(name=GAMMA_IMG)
    assert (repository.org_id, repository.team_id, repository.path) == (personas.acme.pk, None, "gamma/img")


def test_the_team_member_is_refused_with_the_registrys_own_errors(personas, faces):
    faces(personas.org_registry_user).push_image(GAMMA_IMG, "v1")
    newcomer = faces(_team_user(personas, _team_created_before_the_rule(personas, "gamma")))
    assert newcomer.registry_grants(GAMMA_IMG) == set()
    pull = newcomer.registry("GET", f"/v2/{GAMMA_IMG}/manifests/v1")
    push = newcomer.registry("POST", f"/v2/{GAMMA_IMG}/blobs/uploads/")
    assert (pull.status_code, error_codes(pull)) == (403, ["DENIED"])
    assert (push.status_code, error_codes(push)) == (403, ["DENIED"])


def test_a_first_push_under_an_existing_team_creates_a_team_repository_every_face_agrees_on(personas, faces):
    name = "acme/alpha/tools/img"
    faces(personas.alpha_registry_user).push_image(name, "v1")
    repository = Repository.objects.get(name=name)
    assert (repository.team_id, repository.path) == (personas.alpha.pk, "tools/img")
    team_member = faces(personas.alpha_registry_read)
    assert team_member.registry_grants(name) == {"pull"}
    assert team_member.ngc().get("/v2/org/acme/team/alpha/repos/tools/img").status_code == 200
    assert team_member.ngc().get("/v2/org/acme/repos/alpha/tools/img").status_code == 404
    org_user = faces(personas.org_registry_user)
    assert org_user.answers(name) == dict.fromkeys(
        ("token pull", "token push", "registry pull", "registry push", "catalog", "NGC API", "portal"), False,
    )


def test_a_nested_org_repository_without_such_a_team_stays_org_level_on_every_face(personas, faces):
    name = "acme/a/b"
    faces(personas.org_registry_user).push_image(name, "v1")
    repository = Repository.objects.get(name=name)
    assert (repository.team_id, repository.path) == (None, "a/b")
    assert faces(personas.org_registry_read).answers(name) == {
        "token pull": True, "token push": False, "registry pull": True, "registry push": False,
        "catalog": True, "NGC API": True, "portal": True,
    }
    listed = faces(personas.org_registry_read).ngc().get("/v2/org/acme/repos").json()["repositories"]
    assert [r["resourceId"] for r in listed] == [name] and listed[0]["name"] == "a/b"
    with pytest.raises(Conflict, match="acme/a/b"):
        account_services.team_create(org=personas.acme, actor=personas.owner, name="a")
    assert faces(personas.org_registry_user).answers(name)["registry push"] is True


def test_a_token_granted_before_a_team_of_that_name_existed_cannot_create_the_repository_in_the_team(personas, faces):
    org_user = faces(personas.org_registry_user)
    assert org_user.registry_grants("acme/delta/img") >= {"pull", "push"}  # no team delta yet: an org-level name
    account_services.team_create(org=personas.acme, actor=personas.owner, name="delta")  # no repository uses it yet
    response = org_user.registry("POST", f"/v2/acme/delta/img/blobs/uploads/?digest={sha256(b'x')}", b"x")
    assert (response.status_code, error_codes(response)) == (403, ["DENIED"])
    # The first push re-resolves the name under the org lock: an answer given before the team existed is not trusted.
    stale = ResolvedName(name="acme/delta/img", space=permissions.Space(personas.acme), path="delta/img")
    with pytest.raises(OCIError) as refused:
        oci_services.repository_get_or_create(resolved=stale, user=personas.org_registry_user)
    assert refused.value.code == "DENIED"
    assert not Repository.objects.filter(name="acme/delta/img").exists()


@pytest.mark.django_db
def test_the_catalog_is_one_query_however_many_repositories(personas, django_assert_num_queries):
    permissions.space_permissions(personas.owner, personas.acme_space)  # warm the content-type cache
    statements.catalog_names(personas.owner, last=None, limit=None)  # and the connection's prepared statements
    for i in range(6):
        team = personas.alpha if i % 2 else None
        prefix = "acme/alpha" if team else "acme"
        Repository.objects.create(org=personas.acme, team=team, name=f"{prefix}/app{i}", path=f"app{i}", is_public=i == 4)
    Repository.objects.create(org=personas.globex, name="globex/app", path="app")
    with django_assert_num_queries(1):
        names = statements.catalog_names(personas.alpha_registry_read, last=None, limit=None)
    assert names == [f"acme/alpha/app{i}" for i in (1, 3, 5)] + ["acme/app4"]
    with django_assert_num_queries(1):
        assert statements.catalog_names(personas.org_registry_read, last="acme/app0", limit=2) == ["acme/app2", "acme/app4"]
    assert statements.catalog_names(personas.owner, last=None, limit=None) == sorted(
        [f"acme/alpha/app{i}" for i in (1, 3, 5)] + [f"acme/app{i}" for i in (0, 2, 4)]
    )
    assert statements.catalog_names(AnonymousUser(), last=None, limit=None) == ["acme/app4"]
    # the catalog's SQL says what the permission policy's own filter says, for everyone
    for user in [*personas.users.values(), AnonymousUser()]:
        rule = Repository.objects.filter(Q(is_public=True) | permissions.readable_spaces_q(user, Service.CONTAINER))
        assert statements.catalog_names(user, last=None, limit=None) == list(rule.order_by("name").values_list("name", flat=True))
