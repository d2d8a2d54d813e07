"""The permission policy, as a table a reader can check against docs/permissions.md.

Every persona (tests/support/personas.py) × every space × every action goes through
accounts.permissions.can. The expected table below is written out by hand from the rules
(guide 2.4.1, the role → service → access table of 2.5.2.5, and the team rules of the
architecture), not computed from accounts.roles, so a change in the policy shows up here.
"""
import pytest
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_perms

from accounts import permissions, services
from registry_portal.errors import AccessDenied, InvalidInput, NotFound
from accounts.models import OrgUserObjectPermission, Team, TeamUserObjectPermission, User
from accounts.permissions import Action, Space, can
from accounts.roles import Role, Service, UnknownRole, normalize_role

ARTIFACT_SERVICES = ("CONTAINER", "MODEL", "MODELSCRIPT", "HELM")

# What each capability letter means (checked in `capabilities_of` below):
#   V view the space          T manage teams (create/edit/delete; org spaces only)
#   U view users              M manage users (invite, add, change roles, remove)
#   R read artifacts          W write artifacts (create, upload, push, edit)
#   O delete own artifacts    D delete anybody's artifacts
EVERYTHING_IN_ORG = "VTUMRWOD"
EVERYTHING_IN_TEAM = "VUMRWOD"  # teams are managed from the org, never from inside a team
JUST_SEES_THE_ORG = "V"  # a team member sees the org they belong to, and nothing in it
NOTHING = ""

SPACES = ("acme", "alpha", "beta", "globex")

EXPECTED = {
    #                        acme              alpha                 beta                  globex
    "owner":               (EVERYTHING_IN_ORG, EVERYTHING_IN_TEAM,   EVERYTHING_IN_TEAM,   NOTHING),
    # Org-level bindings. Registry Admin and User Admin reach every team (org-wide roles);
    # the other org-level roles stop at org-level artifacts.
    "org_registry_admin":  (EVERYTHING_IN_ORG, EVERYTHING_IN_TEAM,   EVERYTHING_IN_TEAM,   NOTHING),
    "org_user_admin":      (EVERYTHING_IN_ORG, EVERYTHING_IN_TEAM,   EVERYTHING_IN_TEAM,   NOTHING),
    "org_registry_user":   ("VRWO",            NOTHING,              NOTHING,              NOTHING),
    "org_registry_read":   ("VR",              NOTHING,              NOTHING,              NOTHING),
    "org_user_read":       ("VU",              NOTHING,              NOTHING,              NOTHING),
    # Team-level bindings on acme/alpha: they act inside alpha only; beta stays invisible.
    "alpha_registry_admin": (JUST_SEES_THE_ORG, EVERYTHING_IN_TEAM,  NOTHING,              NOTHING),
    "alpha_user_admin":    (JUST_SEES_THE_ORG, EVERYTHING_IN_TEAM,   NOTHING,              NOTHING),
    "alpha_registry_user": (JUST_SEES_THE_ORG, "VRWO",               NOTHING,              NOTHING),
    "alpha_registry_read": (JUST_SEES_THE_ORG, "VR",                 NOTHING,              NOTHING),
    "alpha_user_read":     (JUST_SEES_THE_ORG, "VU",                 NOTHING,              NOTHING),
    # The member of the other team, and the owner of the other org.
    "beta_user":           (JUST_SEES_THE_ORG, NOTHING,              "VRWO",               NOTHING),
    "outsider":            (NOTHING,           NOTHING,              NOTHING,              EVERYTHING_IN_ORG),
}


def space_named(cast, name: str) -> Space:
    return {
        "acme": cast.acme_space,
        "alpha": cast.alpha_space,
        "beta": cast.beta_space,
        "globex": cast.globex_space,
    }[name]


def capabilities_of(user, space: Space, *, service: str, someone_else_id: int) -> str:
    """The capability letters `can` grants, for one artifact service."""
    checks = {
        "V": can(user, Action.VIEW_SPACE, space),
        "T": can(user, Action.MANAGE_TEAMS, space),
        "U": can(user, Action.VIEW_USERS, space),
        "M": can(user, Action.MANAGE_USERS, space),
        "R": can(user, Action.READ, space, service=service),
        "W": can(user, Action.WRITE, space, service=service),
        "O": can(user, Action.DELETE, space, service=service, creator_id=user.pk),
        "D": can(user, Action.DELETE, space, service=service, creator_id=someone_else_id),
    }
    return "".join(letter for letter, allowed in checks.items() if allowed)


@pytest.fixture
def someone_else(db):
    return services.user_create(email="someone-else@example.test", password="another-long-password-7")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_role_may_do_exactly_what_the_table_says_in_each_space(personas, someone_else, persona):
    user = getattr(personas, persona)
    # One row of the table per artifact service: the four services follow the same rules.
    expected = {
        (space_name, service): letters
        for space_name, letters in zip(SPACES, EXPECTED[persona])
        for service in ARTIFACT_SERVICES
    }
    got = {
        (space_name, service): capabilities_of(
            user, space_named(personas, space_name), service=service, someone_else_id=someone_else.pk
        )
        for space_name, service in expected
    }
    assert got == expected


@pytest.mark.django_db
def test_the_whole_matrix_is_covered_by_the_personas(personas):
    # Six roles at org level (the owner plus five), the same five on a team, the other team, the other org.
    assert set(EXPECTED) == set(personas.users)


@pytest.mark.django_db
def test_a_registry_user_may_delete_an_artifact_of_unknown_creator_only_as_an_admin(personas):
    space = personas.acme_space
    assert not can(personas.org_registry_user, Action.DELETE, space, service="MODEL", creator_id=None)
    assert can(personas.org_registry_admin, Action.DELETE, space, service="MODEL", creator_id=None)


@pytest.mark.django_db
def test_an_anonymous_or_deactivated_user_may_do_nothing(personas):
    from django.contrib.auth.models import AnonymousUser

    assert not can(AnonymousUser(), Action.VIEW_SPACE, personas.acme_space)
    assert not can(None, Action.VIEW_SPACE, personas.acme_space)
    admin = personas.org_registry_admin
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    assert not can(admin, Action.READ, personas.acme_space, service="CONTAINER")


@pytest.mark.django_db
def test_an_artifact_action_without_an_artifact_service_is_a_programming_error(personas):
    with pytest.raises(ValueError, match="artifact service"):
        can(personas.owner, Action.READ, personas.acme_space)
    with pytest.raises(ValueError, match="artifact service"):
        can(personas.owner, Action.WRITE, personas.acme_space, service="USER")


# --- require(): what a face answers -------------------------------------------------------


@pytest.mark.django_db
def test_a_space_the_user_cannot_see_is_not_found_rather_than_forbidden(personas):
    with pytest.raises(NotFound, match="Org 'acme' not found"):
        permissions.require(personas.outsider, Action.READ, personas.acme_space, service="MODEL")
    with pytest.raises(NotFound, match="Team 'beta' not found in org 'acme'"):
        permissions.require(personas.alpha_registry_user, Action.READ, personas.beta_space, service="MODEL")
    with pytest.raises(NotFound):
        permissions.get_space(personas.beta_user, "acme", "alpha")
    with pytest.raises(NotFound, match="Org 'nope' not found"):
        permissions.get_space(personas.owner, "nope")


@pytest.mark.django_db
def test_a_visible_space_where_the_action_is_not_allowed_is_forbidden(personas):
    with pytest.raises(AccessDenied, match="manage users in acme"):
        permissions.require(personas.org_registry_read, Action.MANAGE_USERS, personas.acme_space)
    assert permissions.get_space(personas.alpha_registry_read, "acme", "alpha").path == "acme/alpha"


@pytest.mark.django_db
def test_each_member_sees_only_their_own_teams_and_org_wide_roles_see_all(personas):
    def names(user):
        return sorted(team.name for team in permissions.visible_teams(user, personas.acme))

    assert names(personas.owner) == ["alpha", "beta"]
    assert names(personas.org_registry_admin) == ["alpha", "beta"]
    assert names(personas.org_user_admin) == ["alpha", "beta"]
    assert names(personas.org_registry_user) == []
    assert names(personas.alpha_registry_read) == ["alpha"]
    assert names(personas.beta_user) == ["beta"]
    assert names(personas.outsider) == []
    assert [org.name for org in permissions.visible_orgs(personas.outsider)] == ["globex"]
    assert [org.name for org in permissions.visible_orgs(personas.alpha_user_read)] == ["acme"]


# --- role names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, canonical",
    [
        ("REGISTRY_WRITE_ADMIN_ROLE", Role.REGISTRY_ADMIN),
        ("REGISTRY_WRITE_TEAM_ADMIN_ROLE", Role.REGISTRY_ADMIN),
        ("REGISTRY_WRITE_USER_ROLE", Role.REGISTRY_USER),
        ("REGISTRY_READ", Role.REGISTRY_READ),
        ("REGISTRY_READ_ROLE", Role.REGISTRY_READ),
        ("USER_ADMIN_ROLE", Role.USER_ADMIN),
        ("USER_READ_ROLE", Role.USER_READ),
        ("registry_user", Role.REGISTRY_USER),
        ("Registry Admin", Role.REGISTRY_ADMIN),
        ("user-read", Role.USER_READ),
        ("Org Owner", Role.ORG_OWNER),
        ("  USER_ADMIN ", Role.USER_ADMIN),
    ],
)
def test_legacy_and_display_role_names_normalise_to_the_six_roles(given, canonical):
    assert normalize_role(given) == canonical


def test_an_unknown_role_is_refused_with_the_list_of_valid_roles():
    with pytest.raises(UnknownRole) as excinfo:
        normalize_role("SUPERUSER")
    message = str(excinfo.value)
    assert "'SUPERUSER'" in message
    for role in ("ORG_OWNER", "REGISTRY_ADMIN", "REGISTRY_USER", "REGISTRY_READ", "USER_ADMIN", "USER_READ"):
        assert role in message
    with pytest.raises(InvalidInput, match="Valid roles: ORG_OWNER, REGISTRY_ADMIN"):
        services.roles_from_names(["REGISTRY_USER", "SUPERUSER"])


# --- guardian stays in sync with role bindings -------------------------------------------

REGISTRY_USER_CODES = {
    "container_read", "container_write", "helm_read", "helm_write", "model_read", "model_write",
    "modelscript_read", "modelscript_write", "org_read", "org_write", "team_read", "team_write",
}


@pytest.mark.django_db
def test_guardian_rows_are_written_for_each_binding(personas):
    user = personas.alpha_registry_user
    assert set(get_perms(user, personas.alpha)) == REGISTRY_USER_CODES
    assert set(get_perms(user, personas.acme)) == {"org_read"}
    assert get_perms(user, personas.beta) == []
    assert ObjectPermissionChecker(user).has_perm("model_write", personas.alpha)
    assert user.has_perm("accounts.model_write", personas.alpha)
    assert not user.has_perm("accounts.model_write", personas.beta)
    # The rows are in the direct-foreign-key tables, not guardian's generic one.
    assert TeamUserObjectPermission.objects.filter(user=user, content_object=personas.alpha).count() == 12
    assert OrgUserObjectPermission.objects.filter(user=user, content_object=personas.acme).count() == 1


@pytest.mark.django_db
def test_org_wide_roles_hold_guardian_rows_on_every_team_and_others_on_none(personas):
    assert "user_admin" in get_perms(personas.org_registry_admin, personas.beta)
    assert "container_admin" in get_perms(personas.owner, personas.alpha)
    assert get_perms(personas.org_registry_user, personas.alpha) == []
    assert get_perms(personas.org_user_read, personas.alpha) == []
    assert set(get_perms(personas.org_user_read, personas.acme)) == {"org_read", "team_read", "user_read"}


@pytest.mark.django_db
def test_removing_a_role_removes_its_guardian_rows(personas):
    user = personas.alpha_registry_user
    services.role_remove(actor=personas.owner, space=personas.alpha_space, user=user, roles=["REGISTRY_USER"])
    assert get_perms(user, personas.alpha) == []
    assert get_perms(user, personas.acme) == []  # no longer a member of the org at all
    assert not can(user, Action.VIEW_SPACE, personas.acme_space)


@pytest.mark.django_db
def test_a_new_team_is_reached_by_org_wide_roles_at_once(personas):
    gamma = services.team_create(org=personas.acme, actor=personas.owner, name="gamma")
    gamma_space = Space(personas.acme, gamma)
    for persona in ("owner", "org_registry_admin", "org_user_admin"):
        user = getattr(personas, persona)
        assert TeamUserObjectPermission.objects.filter(user=user, content_object=gamma).exists(), persona
        assert can(user, Action.WRITE, gamma_space, service="HELM"), persona
    for persona in ("org_registry_user", "org_registry_read", "alpha_registry_admin", "beta_user", "outsider"):
        user = getattr(personas, persona)
        assert not TeamUserObjectPermission.objects.filter(user=user, content_object=gamma).exists(), persona
        assert not can(user, Action.VIEW_SPACE, gamma_space), persona


@pytest.mark.django_db
def test_deleting_a_team_removes_its_guardian_rows(personas):
    alpha_id = personas.alpha.pk
    services.team_delete(team=personas.alpha, actor=personas.owner)
    assert not Team.objects.filter(pk=alpha_id).exists()
    assert not TeamUserObjectPermission.objects.filter(content_object_id=alpha_id).exists()
    # Its members stay nowhere: they had no other binding.
    assert not can(personas.alpha_registry_user, Action.VIEW_SPACE, personas.acme_space)


@pytest.mark.django_db
def test_the_visible_lists_are_one_query_each_whatever_their_length(personas, django_assert_num_queries):
    permissions.space_permissions(personas.owner, personas.acme_space)  # warm the content-type cache
    for i in range(5):
        services.team_create(org=personas.acme, actor=personas.owner, name=f"extra{i}")
    with django_assert_num_queries(1):
        assert len(list(permissions.visible_orgs(personas.owner))) == 1
    with django_assert_num_queries(1):
        assert len(list(permissions.visible_teams(personas.owner, personas.acme))) == 7
    with django_assert_num_queries(1):
        assert len(list(permissions.teams_with(personas.owner, personas.acme, Action.READ, service=Service.MODEL))) == 7


@pytest.mark.django_db
def test_a_space_costs_one_query_per_user_object_however_often_it_is_asked(personas, django_assert_num_queries):
    permissions.space_permissions(personas.owner, personas.acme_space)  # warm the content-type cache
    user = User.objects.get(pk=personas.alpha_registry_user.pk)
    space = Space(personas.acme, personas.alpha)
    with django_assert_num_queries(1):
        for _ in range(3):
            assert permissions.can(user, Action.WRITE, space, service=Service.MODEL)
            assert not permissions.can(user, Action.DELETE, space, service=Service.MODEL, creator_id=None)


@pytest.mark.django_db
def test_a_django_superuser_is_no_member_of_an_org_by_that(personas):
    root = User.objects.create_superuser(email="root@example.test", password="root-pass-123456")
    assert not permissions.can(root, Action.VIEW_SPACE, personas.acme_space)
    assert list(permissions.visible_orgs(root)) == []
