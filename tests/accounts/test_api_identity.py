"""The NGC API's identity endpoints: shapes NVIDIA's client reads, pagination, the role matrix, query counts."""
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, RoleBinding, Team
from accounts.roles import Role
from tests.support.auth import bearer_auth

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NGC_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def bearer(user, *scopes: str) -> dict:
    return {"HTTP_AUTHORIZATION": bearer_auth(user, scopes or ("group/ngc:acme", "group/ngc:globex"))}


class Api:
    """The Django test client speaking as one user with a bearer token."""

    def __init__(self, client, user):
        self.client, self.auth = client, bearer(user)

    def get(self, path):
        return self.client.get(path, **self.auth)

    def post(self, path, body):
        return self.client.post(path, body, content_type="application/json", **self.auth)

    def patch(self, path, body=None):
        return self.client.patch(path, body or {}, content_type="application/json", **self.auth)

    def delete(self, path, body=None):
        return self.client.delete(path, body or {}, content_type="application/json", **self.auth)


@pytest.fixture
def as_owner(client, personas):
    return Api(client, personas.owner)


def member(personas, email: str, role: str, team=None):
    user = services.user_create(email=email, name=email.split("@")[0].title())
    space = personas.acme_space if team is None else type(personas.acme_space)(personas.acme, team)
    services.role_add(actor=personas.owner, space=space, user=user, roles=[role])
    return user


# --- anonymous and meta ---------------------------------------------------------------------


def test_products_answer_without_credentials(client):
    response = client.get("/v2/products")

    assert response.status_code == 200
    assert response.json() == {"products": []}


def test_api_calls_without_credentials_are_refused_with_a_bearer_challenge(client, personas):
    response = client.get("/v2/orgs")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.json()["requestStatus"]["statusCode"] == "UNAUTHORIZED"


def test_the_openapi_schema_describes_the_identity_api(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/v2/orgs", "/v2/org/{org}/teams", "/v3/orgs/{org}/invitations", "/token", "/roles"):
        assert path in text


def test_roles_list_every_role_and_legacy_name_with_what_it_allows(as_owner):
    for hidden in ("true", "false"):
        response = as_owner.get(f"/roles?show-hidden={hidden}")

        assert response.status_code == 200
        roles = {role["name"]: role for role in response.json()["roles"]}
        assert {"ORG_OWNER", "REGISTRY_ADMIN", "REGISTRY_USER", "REGISTRY_READ", "USER_ADMIN", "USER_READ"} <= set(roles)
        assert {"REGISTRY_WRITE_ADMIN_ROLE", "REGISTRY_READ_ROLE", "USER_ADMIN_ROLE"} <= set(roles)
        read = {item["service"]: item["actions"] for item in roles["REGISTRY_READ"]["allowedActions"]}
        assert read["MODEL"] == ["READ"] and "USER" not in read
        assert roles["REGISTRY_USER"]["displayName"] == "Registry User"


# --- orgs and the caller --------------------------------------------------------------------


def test_orgs_lists_only_the_callers_orgs_in_ngcs_shape(client, personas):
    response = Api(client, personas.beta_user).get("/v2/orgs?page-size=500")

    assert response.status_code == 200
    body = response.json()
    assert body["organizations"] == [
        {"id": personas.acme.pk, "name": "acme", "displayName": "Acme Corp", "description": "", "type": "ENTERPRISE"}
    ]
    assert body["paginationInfo"] == {"index": 0, "size": 500, "totalResults": 1, "totalPages": 1}


def test_orgs_are_paginated_with_zero_based_page_numbers(as_owner, personas):
    for name in ("initech", "umbrella"):
        services.org_create(name=name, owner=personas.owner)

    first = as_owner.get("/v2/orgs?page-size=2").json()
    second = as_owner.get("/v2/orgs?page-size=2&page-number=1").json()
    past_the_end = as_owner.get("/v2/orgs?page-size=2&page-number=5").json()

    assert [org["name"] for org in first["organizations"]] == ["acme", "initech"]
    assert [org["name"] for org in second["organizations"]] == ["umbrella"]
    assert second["paginationInfo"] == {"index": 1, "size": 2, "totalResults": 3, "totalPages": 2}
    assert past_the_end["organizations"] == []
    assert as_owner.get("/v2/orgs?page-size=many").status_code == 400


def test_org_detail_is_a_single_object_and_other_orgs_are_not_found(as_owner):
    response = as_owner.get("/v2/orgs/acme")

    assert response.status_code == 200
    assert response.json()["organizations"]["displayName"] == "Acme Corp"
    assert as_owner.get("/v2/orgs/globex").status_code == 404
    assert as_owner.get("/v2/orgs/nosuch").status_code == 404


def test_me_shows_the_caller_with_roles_per_org_and_team(client, personas):
    services.role_add(actor=personas.owner, space=personas.beta_space, user=personas.alpha_registry_read, roles=["REGISTRY_USER"])
    api = Api(client, personas.alpha_registry_read)

    user = api.get("/v2/users/me").json()["user"]

    assert user["id"] == personas.alpha_registry_read.pk
    assert user["email"] == "alpha-registry-read@example.test"
    assert user["starfleetId"] == personas.alpha_registry_read.starfleet_id
    assert NGC_DATE.match(user["createdDate"])
    assert user["roles"] == [
        {"org": {"name": "acme", "displayName": "Acme Corp"}, "team": {"name": "alpha"}, "orgRoles": [], "teamRoles": ["REGISTRY_READ"]},
        {"org": {"name": "acme", "displayName": "Acme Corp"}, "team": {"name": "beta"}, "orgRoles": [], "teamRoles": ["REGISTRY_USER"]},
    ]


def test_me_can_be_narrowed_to_one_org(client, personas):
    services.role_add(actor=personas.outsider, space=personas.globex_space, user=personas.owner, roles=["REGISTRY_READ"])
    api = Api(client, personas.owner)

    everything = api.get("/v2/users/me").json()["user"]["roles"]
    acme_only = api.get("/v2/users/me?org-name=acme").json()["user"]["roles"]

    assert [entry["org"]["name"] for entry in everything] == ["acme", "globex"]
    assert acme_only == [{"org": {"name": "acme", "displayName": "Acme Corp"}, "orgRoles": ["ORG_OWNER"], "teamRoles": []}]
    assert Api(client, personas.beta_user).get("/v2/users/me?org-name=globex").status_code == 404


# --- teams ----------------------------------------------------------------------------------


def test_a_team_is_created_read_updated_and_deleted(as_owner, personas):
    created = as_owner.post("/v2/org/acme/teams", {"name": "gamma", "description": "Team Gamma"})

    assert created.status_code == 200
    team = created.json()["team"]
    assert team == {"id": team["id"], "name": "gamma", "description": "Team Gamma", "isDeleted": False}
    assert as_owner.get("/v2/org/acme/teams/gamma").json()["team"]["description"] == "Team Gamma"

    updated = as_owner.patch("/v2/org/acme/teams/gamma", {"description": "Renamed"})
    assert updated.status_code == 200
    assert Team.objects.get(org=personas.acme, name="gamma").description == "Renamed"

    deleted = as_owner.delete("/v2/org/acme/teams/gamma")
    assert deleted.status_code == 200
    assert deleted.json()["requestStatus"]["statusCode"] == "SUCCESS"
    assert not Team.objects.filter(name="gamma").exists()
    assert as_owner.get("/v2/org/acme/teams/gamma").status_code == 404


def test_a_duplicate_team_is_a_conflict(as_owner):
    response = as_owner.post("/v2/org/acme/teams", {"name": "alpha", "description": ""})

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("Gamma", "must be all lowercase"), ("-gamma", "Invalid team name"), ("", "name is required"), ("g" * 65, "too long")],
)
def test_a_bad_team_name_is_refused_with_the_rule(as_owner, name, message):
    response = as_owner.post("/v2/org/acme/teams", {"name": name, "description": ""})

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_teams_list_only_the_teams_a_member_may_see(client, personas):
    assert [t["name"] for t in Api(client, personas.alpha_registry_user).get("/v2/org/acme/teams").json()["teams"]] == ["alpha"]
    assert [t["name"] for t in Api(client, personas.org_user_admin).get("/v2/org/acme/teams").json()["teams"]] == ["alpha", "beta"]


# --- users ----------------------------------------------------------------------------------


def test_org_users_list_members_with_their_roles(as_owner, personas):
    body = as_owner.get("/v2/org/acme/users?page-size=100").json()

    emails = [user["email"] for user in body["users"]]
    assert "beta-user@example.test" in emails and "outsider@example.test" not in emails
    assert body["paginationInfo"]["totalResults"] == 12
    beta_user = next(user for user in body["users"] if user["email"] == "beta-user@example.test")
    assert beta_user["roles"] == [
        {"org": {"name": "acme", "displayName": "Acme Corp"}, "team": {"name": "beta"}, "orgRoles": [], "teamRoles": ["REGISTRY_USER"]}
    ]


def test_team_users_list_only_the_teams_members_and_hide_their_other_teams(as_owner, personas):
    services.role_add(actor=personas.owner, space=personas.beta_space, user=personas.alpha_registry_user, roles=["REGISTRY_READ"])

    users = as_owner.get("/v2/org/acme/team/alpha/users").json()["users"]

    assert sorted(user["email"] for user in users) == sorted(f"alpha-{r.lower().replace('_', '-')}@example.test" for r in (
        Role.REGISTRY_ADMIN, Role.REGISTRY_USER, Role.REGISTRY_READ, Role.USER_ADMIN, Role.USER_READ))
    alpha_user = next(user for user in users if user["email"] == "alpha-registry-user@example.test")
    assert [entry["team"]["name"] for entry in alpha_user["roles"]] == ["alpha"]


def test_users_are_filtered_by_email_as_nvidias_client_asks(as_owner):
    # The client URL-quotes the address inside the JSON filter.
    query = '{"filters": [{"field": "email", "value": "beta-user%40example.test"}]}'

    found = as_owner.get(f"/v2/org/acme/users?page-size=100&q={query}").json()["users"]
    missing = as_owner.get('/v2/org/acme/team/alpha/users?q={"filters":[{"field":"email","value":"beta-user@example.test"}]}')

    assert [user["email"] for user in found] == ["beta-user@example.test"]
    assert missing.json()["users"] == []
    assert as_owner.get("/v2/org/acme/users?q=not-json").status_code == 400


def test_a_user_is_found_by_id_or_email_and_strangers_are_not_found(as_owner, personas):
    by_id = as_owner.get(f"/v2/org/acme/users/{personas.beta_user.pk}")
    by_email = as_owner.get("/v3/orgs/acme/users/beta-user@example.test")
    # The client looks an org member up under a team before adding them to it.
    under_team = as_owner.get(f"/v3/orgs/acme/teams/alpha/users/{personas.beta_user.pk}")

    assert by_id.status_code == by_email.status_code == under_team.status_code == 200
    assert by_id.json()["user"]["email"] == by_email.json()["user"]["email"] == "beta-user@example.test"
    assert under_team.json()["user"]["roles"] == []
    assert as_owner.get(f"/v2/org/acme/users/{personas.outsider.pk}").status_code == 404
    assert as_owner.get("/v3/orgs/acme/users/nobody@example.test").status_code == 404
    assert as_owner.get("/v3/orgs/acme/users/not-an-id").status_code == 404


def test_roles_are_added_and_removed_by_name_or_legacy_alias(as_owner, personas):
    path = "/v3/orgs/acme/teams/beta/users/org-registry-read@example.test"

    added = as_owner.patch(f"{path}/add-role?roles=REGISTRY_WRITE_USER_ROLE&roles=USER_READ")

    assert added.status_code == 200
    beta = next(entry for entry in added.json()["user"]["roles"] if entry.get("team"))
    assert beta["teamRoles"] == ["REGISTRY_USER", "USER_READ"]
    removed = as_owner.delete(f"{path}/remove-role?roles=USER_READ")
    assert removed.status_code == 200
    assert removed.json()["roles"] == ["REGISTRY_USER"]
    assert set(RoleBinding.objects.filter(user=personas.org_registry_read, team=personas.beta).values_list("role", flat=True)) == {"REGISTRY_USER"}


def test_an_unknown_role_is_a_bad_request_naming_the_valid_roles(as_owner, personas):
    response = as_owner.patch(f"/v3/orgs/acme/users/{personas.beta_user.pk}/add-role?roles=SUPERUSER")

    assert response.status_code == 400
    assert "REGISTRY_ADMIN" in response.json()["detail"]
    assert as_owner.patch(f"/v3/orgs/acme/users/{personas.beta_user.pk}/add-role").status_code == 400


def test_ownership_cannot_be_granted_through_roles(as_owner, personas):
    response = as_owner.patch(f"/v3/orgs/acme/users/{personas.beta_user.pk}/add-role?roles=ORG_OWNER")

    assert response.status_code == 400
    assert "transfers ownership" in response.json()["detail"]


def test_a_member_is_removed_from_a_team_or_from_the_whole_org(as_owner, personas):
    services.role_add(actor=personas.owner, space=personas.acme_space, user=personas.beta_user, roles=["REGISTRY_READ"])

    from_team = as_owner.delete(f"/v3/orgs/acme/teams/beta/users/{personas.beta_user.pk}")

    assert from_team.status_code == 200
    assert list(RoleBinding.objects.filter(user=personas.beta_user).values_list("role", "team")) == [("REGISTRY_READ", None)]
    assert as_owner.delete("/v3/orgs/acme/users/beta-user@example.test").status_code == 200
    assert not RoleBinding.objects.filter(user=personas.beta_user).exists()
    assert as_owner.get(f"/v2/org/acme/users/{personas.beta_user.pk}").status_code == 404


def test_the_owner_cannot_be_removed(client, personas):
    response = Api(client, personas.owner).delete(f"/v3/orgs/acme/users/{personas.owner.pk}")

    assert response.status_code == 400
    assert "transfer ownership" in response.json()["detail"]


# --- invitations ----------------------------------------------------------------------------


def test_an_invitation_as_nvidias_client_sends_it_for_a_team_shows_up_as_pending(as_owner, personas):
    response = as_owner.post(
        "/v3/orgs/acme/invitations",
        {
            "email": "Newcomer@Example.test", "name": "New Comer", "message": "Welcome",
            "invitationExpirationIn": 24 * 60, "roles": [{"name": "REGISTRY_USER", "resourceGroups": ["alpha"]}],
        },
    )

    assert response.status_code == 200
    invitation = Invitation.objects.get(email="newcomer@example.test")
    assert (invitation.team, invitation.team_roles, invitation.org_roles) == (personas.alpha, ["REGISTRY_USER"], [])
    assert abs(invitation.expires_at - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    pending = as_owner.get("/v3/orgs/acme/teams/alpha/pending-invitations?page-size=100&page-number=0").json()
    assert pending["invitations"] == [
        {
            "id": invitation.pk, "userEmail": "newcomer@example.test", "userName": "New Comer",
            "userRoles": ["REGISTRY_USER"], "orgName": "acme", "teamName": "alpha",
            "createdDate": pending["invitations"][0]["createdDate"], "expirationDate": pending["invitations"][0]["expirationDate"],
        }
    ]
    assert NGC_DATE.match(pending["invitations"][0]["createdDate"])
    assert as_owner.get("/v3/orgs/acme/teams/beta/pending-invitations").json()["invitations"] == []


def test_an_org_invitation_lists_at_org_level_and_can_be_revoked(as_owner):
    as_owner.post("/v3/orgs/acme/invitations", {"email": "someone@example.test", "message": "", "roles": [{"name": "REGISTRY_READ_ROLE"}]})

    listed = as_owner.get("/v3/orgs/acme/pending-invitations").json()["invitations"]
    assert [(i["userEmail"], i["teamName"], i["userRoles"]) for i in listed] == [("someone@example.test", "", ["REGISTRY_READ"])]

    assert as_owner.delete("/v3/orgs/acme/invitations", {"email": "someone@example.test"}).status_code == 200
    assert as_owner.get("/v3/orgs/acme/pending-invitations").json()["invitations"] == []
    assert as_owner.delete("/v3/orgs/acme/invitations", {"email": "someone@example.test"}).status_code == 404


def test_expired_and_accepted_invitations_are_not_pending(as_owner, personas):
    expired = services.invitation_create(actor=personas.owner, org=personas.acme, email="late@example.test", org_roles=["REGISTRY_READ"])
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    accepted = services.invitation_create(actor=personas.owner, org=personas.acme, email="done@example.test", org_roles=["REGISTRY_READ"])
    Invitation.objects.filter(pk=accepted.pk).update(accepted_at=timezone.now())

    assert as_owner.get("/v3/orgs/acme/pending-invitations").json()["invitations"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "x@example.test", "roles": []}, "at least one role"),
        ({"email": "not-an-email", "roles": [{"name": "REGISTRY_READ"}]}, "email"),
        ({"email": "x@example.test", "roles": [{"name": "NOPE"}]}, "Valid roles"),
        ({"email": "x@example.test", "roles": [{"name": "REGISTRY_READ", "resourceGroups": ["alpha", "beta"]}]}, "one team"),
    ],
)
def test_a_bad_invitation_is_refused_with_a_reason(as_owner, body, message):
    response = as_owner.post("/v3/orgs/acme/invitations", body)

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_an_invitation_to_an_unknown_team_is_not_found(as_owner):
    body = {"email": "x@example.test", "roles": [{"name": "REGISTRY_READ", "resourceGroups": ["nosuch"]}]}

    assert as_owner.post("/v3/orgs/acme/invitations", body).status_code == 404


# --- the role matrix (REST face) ------------------------------------------------------------
# Expected answers, written out by hand from the guide's role table (not computed from the policy).
# Targets: "target" holds REGISTRY_USER on alpha; "leaver" holds USER_ADMIN on alpha.
# add-role grants REGISTRY_ADMIN; invite offers REGISTRY_ADMIN at org level. One grants only
# roles one holds (the owner grants all); 404 where the actor may not even see the space.

CASES = {
    "list_teams@acme": ("GET", "/v2/org/acme/teams", None),
    "create_team@acme": ("POST", "/v2/org/acme/teams", {"name": "gamma", "description": ""}),
    "list_users@acme": ("GET", "/v2/org/acme/users", None),
    "list_users@alpha": ("GET", "/v2/org/acme/team/alpha/users", None),
    "list_users@beta": ("GET", "/v2/org/acme/team/beta/users", None),
    "add_role@acme": ("PATCH", "/v3/orgs/acme/users/target@example.test/add-role?roles=REGISTRY_ADMIN", None),
    "add_role@alpha": ("PATCH", "/v3/orgs/acme/teams/alpha/users/target@example.test/add-role?roles=REGISTRY_ADMIN", None),
    "add_role@beta": ("PATCH", "/v3/orgs/acme/teams/beta/users/target@example.test/add-role?roles=REGISTRY_ADMIN", None),
    "remove_member@alpha": ("DELETE", "/v3/orgs/acme/teams/alpha/users/leaver@example.test", None),
    "invite@acme": ("POST", "/v3/orgs/acme/invitations", {"email": "new@example.test", "roles": [{"name": "REGISTRY_ADMIN"}]}),
    "list_teams@globex": ("GET", "/v2/org/globex/teams", None),
}
COLUMNS = list(CASES)

#                        teams  create users  users  users  add    add    add    remove invite globex
#                        @acme  @acme  @acme  @alpha @beta  @acme  @alpha @beta  @alpha @acme  teams
EXPECTED = {
    "owner":               (200,  200,   200,   200,   200,   200,   200,   200,   200,   200,   404),
    "org_registry_admin":  (200,  200,   200,   200,   200,   200,   200,   200,   403,   200,   404),
    "org_registry_user":   (200,  403,   403,   404,   404,   403,   404,   404,   404,   403,   404),
    "org_registry_read":   (200,  403,   403,   404,   404,   403,   404,   404,   404,   403,   404),
    "org_user_admin":      (200,  200,   200,   200,   200,   403,   403,   403,   200,   403,   404),
    "org_user_read":       (200,  403,   200,   404,   404,   403,   404,   404,   404,   403,   404),
    "alpha_registry_admin": (200, 403,   403,   200,   404,   403,   200,   404,   403,   403,   404),
    "alpha_registry_user": (200,  403,   403,   403,   404,   403,   403,   404,   403,   403,   404),
    "alpha_registry_read": (200,  403,   403,   403,   404,   403,   403,   404,   403,   403,   404),
    "alpha_user_admin":    (200,  403,   403,   200,   404,   403,   403,   404,   200,   403,   404),
    "alpha_user_read":     (200,  403,   403,   200,   404,   403,   403,   404,   403,   403,   404),
    "beta_user":           (200,  403,   403,   404,   403,   403,   404,   403,   404,   403,   404),
    "outsider":            (404,  404,   404,   404,   404,   404,   404,   404,   404,   404,   200),
}
MATRIX = [(persona, column, EXPECTED[persona][index]) for persona in EXPECTED for index, column in enumerate(COLUMNS)]


@pytest.mark.parametrize(("persona", "case", "expected"), MATRIX, ids=[f"{p}-{c}" for p, c, _ in MATRIX])
def test_the_role_matrix_over_the_rest_api(client, personas, persona, case, expected):
    member(personas, "target@example.test", Role.REGISTRY_USER, personas.alpha)
    member(personas, "leaver@example.test", Role.USER_ADMIN, personas.alpha)
    method, path, body = CASES[case]
    api = Api(client, getattr(personas, persona))

    response = getattr(api, method.lower())(path, *([body] if body is not None else []))

    assert response.status_code == expected, response.json()
    if expected >= 400:
        assert response.json()["requestStatus"]["statusCode"] in ("FORBIDDEN", "NOT_FOUND")


def test_a_refusal_leaves_nothing_changed(client, personas):
    member(personas, "leaver@example.test", Role.USER_ADMIN, personas.alpha)
    api = Api(client, personas.org_registry_admin)

    assert api.delete("/v3/orgs/acme/teams/alpha/users/leaver@example.test").status_code == 403
    assert api.post("/v3/orgs/acme/invitations", {"email": "n@example.test", "roles": [{"name": "USER_ADMIN"}]}).status_code == 403

    assert RoleBinding.objects.filter(user__email="leaver@example.test", team=personas.alpha).exists()
    assert not Invitation.objects.filter(email="n@example.test").exists()


# --- query counts ---------------------------------------------------------------------------

LISTS = [
    "/v2/orgs",
    "/v2/users/me",
    "/v2/org/acme/teams",
    "/v2/org/acme/users",
    "/v2/org/acme/team/alpha/users",
    "/v3/orgs/acme/pending-invitations",
    "/v3/orgs/acme/teams/alpha/pending-invitations",
]


def grow(personas, start: int, count: int) -> None:
    """More rows of every kind a list shows: members with org and team roles, teams, orgs, invitations."""
    for n in range(start, start + count):
        user = member(personas, f"m{n}@example.test", Role.REGISTRY_READ)
        services.role_add(actor=personas.owner, space=personas.alpha_space, user=user, roles=[Role.REGISTRY_USER])
        services.team_create(org=personas.acme, actor=personas.owner, name=f"team{n}")
        services.org_create(name=f"org{n}", owner=personas.owner)
        services.invitation_create(
            actor=personas.owner, org=personas.acme, team=personas.alpha, email=f"i{n}@example.test", team_roles=["REGISTRY_READ"]
        )


@pytest.mark.parametrize("path", LISTS)
def test_list_endpoints_cost_the_same_queries_however_many_rows(client, personas, django_assert_max_num_queries, path):
    api = Api(client, personas.owner)
    grow(personas, 0, 1)
    with CaptureQueriesContext(connection) as few:
        assert api.get(path).status_code == 200

    grow(personas, 1, 5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(path)
    assert response.status_code == 200
